// Running a handler on a network thread, on the condition that it never waits: a read the
// per-host caches cannot answer ends the attempt, and the request goes to a worker instead.
#pragma once

namespace latchkey::core {

/// Thrown by the cached store when a handler in an inline attempt would have to wait for the
/// database (a cache miss, or any call the caches do not answer). The request is then run again,
/// from the start, on a worker. Deliberately not a std::exception, so that no handler's error
/// handling takes it for a failure; handlers that may run inline only read.
struct WouldBlock {};

/// While one lives on a thread, that thread is in an inline attempt (a network thread running a
/// handler that must not wait). Not nestable.
class InlineAttempt {
public:
    InlineAttempt() noexcept { active_ = true; }
    ~InlineAttempt() { active_ = false; }
    InlineAttempt(const InlineAttempt&) = delete;
    InlineAttempt& operator=(const InlineAttempt&) = delete;

    /// Whether this thread is in one.
    static bool active() noexcept { return active_; }

private:
    static inline thread_local bool active_ = false;
};

/// Called before anything that may wait: throws WouldBlock inside an inline attempt.
inline void mayBlock() {
    if (InlineAttempt::active()) throw WouldBlock{};
}

} // namespace latchkey::core
