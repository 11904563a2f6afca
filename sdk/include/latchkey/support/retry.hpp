// Support: the compare-and-set retry loop, for host and plugins alike.
#pragma once

namespace latchkey {

/// How often a read → change → compare-and-set is tried before it gives up: enough for a
/// burst of writes to one record, few enough that a record that never settles fails fast.
inline constexpr int kCompareAndSetAttempts = 5;

/// Runs `attempt` (one read, change and compare-and-set; true when the write went through, false
/// when another write came first) until it succeeds, at most `attempts` times. True when one
/// succeeded. `attempt` may run more than once: keep it free of effects but its write.
template <class Attempt>
bool retryCompareAndSet(Attempt&& attempt, int attempts = kCompareAndSetAttempts) {
    for (int i = 0; i < attempts; ++i) {
        if (attempt()) return true;
    }
    return false;
}

} // namespace latchkey
