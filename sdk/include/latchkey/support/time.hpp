// Support (compiled into the plugin): the store's time unit from the injected clock.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/storage/records/types.hpp>

#include <chrono>

namespace latchkey {

/// `at` in the store's unit: microseconds since the Unix epoch (Micros).
inline Micros toMicros(std::chrono::system_clock::time_point at) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
}

/// Now, from `clock` (the host's, which tests control), in the store's unit.
inline Micros nowMicros(const Clock& clock) {
    return toMicros(clock.now());
}

} // namespace latchkey
