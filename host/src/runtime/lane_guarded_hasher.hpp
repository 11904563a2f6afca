// The password hasher as the core and the plugins see it: the plugin's hasher, with a cap on how
// many standard-lane workers may wait for it at once.
#pragma once

#include <latchkey/password_hasher.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace latchkey::runtime {

/// Forwards to the configured hasher. Routes that hash belong in Lane::Hashing; a call from a
/// standard-lane worker (a route registered in the wrong lane, or a body that got past its
/// lane selector) is allowed for at most `standardLimit` workers at a time and answered
/// Overloaded (503) beyond that, so it can never take the workers key lookups need.
class LaneGuardedHasher final : public PasswordHasher {
public:
    LaneGuardedHasher(PasswordHasher& inner, std::size_t standardLimit);

    std::vector<std::string> checkPolicy(std::string_view password) const override;
    std::string hash(std::string_view password) override;
    PasswordCheck verify(std::string_view password, std::string_view stored) override;

    /// Calls inside hash() or verify() now (waiting in the hasher's pool or running).
    std::size_t inFlight() const noexcept { return inFlight_.load(std::memory_order_relaxed); }
    /// Calls answered Overloaded so far: by the hasher (its pool full) or by the standard-lane
    /// cap.
    std::uint64_t shed() const noexcept { return shed_.load(std::memory_order_relaxed); }

private:
    /// Runs `call` counted in inFlight_, counting an Overloaded it throws in shed_.
    template <class Call>
    auto counted(Call&& call) -> decltype(call());

    /// Counts a standard-lane caller in for as long as it lives; throws Overloaded when full.
    class Admission;

    PasswordHasher& inner_;
    const std::size_t standardLimit_;
    std::atomic<std::size_t> standardCallers_{0};
    std::atomic<std::size_t> inFlight_{0};
    std::atomic<std::uint64_t> shed_{0};
};

} // namespace latchkey::runtime
