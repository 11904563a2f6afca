// ABI: the flow plugin kind, a login flow of its own mounted as routes (login-token, machine
// tokens).
#pragma once

#include <latchkey/router.hpp>

#include <cstdint>
#include <string_view>

namespace latchkey {

/// A login flow with routes of its own. Created after storage, mailer and hasher; mounted once
/// every plugin exists, before serving.
class Flow {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.flow";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Flow() = default;

    /// Adds this flow's routes. Called once. A route that hashes or verifies a password goes in
    /// Lane::Hashing, one that waits on another server in Lane::Outbound (see Router).
    virtual void mount(Router& router) = 0;
};

} // namespace latchkey
