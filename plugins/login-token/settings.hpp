// The login-token plugin's settings: where it is mounted, which instance it serves, token and
// session lifetimes, roles, the first super user, and the mail templates.
#pragma once

#include <latchkey/support/config_reader.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::plugins::buzz {

/// Subject and bodies of one kind of mail; {{name}} placeholders are filled in.
struct MailTemplate {
    std::string subject;
    std::string text;
    std::string html;
};

/// A role defined in the config.
struct RoleSeed {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::int64_t> parent;
    std::map<std::string, std::int64_t>
        permissions; ///< object → bits (read 1, create 2, update 4, delete 8)
};

/// Everything under `auth.login-token`.
struct Settings {
    /// Where the flow answers (`mount`: one path or a list); the first is the one mailed links
    /// use. Each is a whole set of the same routes over the same users and sessions.
    std::vector<std::string> mounts = {"/rest"};
    std::string mount = "/rest"; ///< mounts.front().
    std::string instance = "default";
    std::chrono::milliseconds inviteTtl = std::chrono::hours(72);
    std::chrono::milliseconds resetTtl = std::chrono::hours(1);
    std::chrono::milliseconds sessionIdle = std::chrono::minutes(30);
    std::chrono::milliseconds sessionAbsolute = std::chrono::hours(12);
    std::chrono::milliseconds sessionRemember = std::chrono::hours(24 * 30);
    std::string cookieName = "latchkey_session";
    std::int64_t tokenAttempts = 5;         ///< Per address and client IP.
    std::int64_t tokenAccountAttempts = 50; ///< Per address, from all clients together.
    /// Wrong tokens and lost-password requests from one client (IPv4 address, IPv6 /64) for
    /// any addresses together.
    std::int64_t tokenClientAttempts = 100;
    std::chrono::milliseconds tokenLockout = std::chrono::minutes(15);
    std::chrono::milliseconds resetCooldown = std::chrono::minutes(2);
    std::string superUserEmail;
    std::string superUserPassword;
    std::vector<RoleSeed> roles;
    std::string mailFrom; ///< Empty: the mailer's own sender.
    std::size_t mailQueue = 100;
    std::chrono::milliseconds mailDrain = std::chrono::seconds(10);
    MailTemplate invite;
    MailTemplate reset;
};

/// Reads and checks the settings; every problem goes into `errors`.
Settings readSettings(const ConfigValue& node, ConfigErrors& errors);

} // namespace latchkey::plugins::buzz
