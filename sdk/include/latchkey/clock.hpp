// ABI: time as the host sees it, injected so tests can control it.
#pragma once

#include <chrono>

namespace latchkey {

/// The wall clock. Thread-safe.
class Clock {
public:
    virtual ~Clock() = default;
    /// The current time.
    virtual std::chrono::system_clock::time_point now() const = 0;
};

} // namespace latchkey
