// Support (compiled into the plugin): the store's time unit from the injected clock, and the
// two timestamp formats the APIs show.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/storage/records/types.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace latchkey {

/// `at` in the store's unit: microseconds since the Unix epoch (Micros).
inline Micros toMicros(std::chrono::system_clock::time_point at) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
}

/// A duration (milliseconds convert implicitly) in the store's unit.
inline constexpr Micros toMicros(std::chrono::microseconds duration) noexcept {
    return duration.count();
}

/// Now, from `clock` (the host's, which tests control), in the store's unit.
inline Micros nowMicros(const Clock& clock) {
    return toMicros(clock.now());
}

/// UTC with microseconds, as the v1.1 API shows times: `2015-04-21T14:19:41.309520Z`.
inline std::string formatTimestamp(Micros micros) {
    // Floor division, so times before 1970 still get a fraction in [0, 999999].
    Micros seconds = micros / 1'000'000;
    Micros fraction = micros % 1'000'000;
    if (fraction < 0) {
        fraction += 1'000'000;
        seconds -= 1;
    }
    const auto whole = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&whole, &utc);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(fraction));
    return buf;
}

/// UTC to the second, as the Buzz API and mail show times: `2015-04-21T14:19:41Z`.
inline std::string formatSeconds(Micros micros) {
    std::string text = formatTimestamp(micros);
    return text.erase(text.size() - 8) + "Z"; // drop ".309520Z", keep the zone
}

} // namespace latchkey
