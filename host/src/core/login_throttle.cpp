// Password guessing throttled on every host sharing the store.
#include "core/login_throttle.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/retry.hpp>

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

namespace latchkey::core {

namespace {

constexpr Micros kSecond = 1'000'000;
constexpr std::size_t kSweepPage = 512;

/// A counter's fields: up to three integers, space-separated ("fails last ok").
struct Counter {
    std::int64_t count = 0; ///< Failures (pair, account) or failures in the window (client).
    Micros at = 0;          ///< The last failure (pair, account) or the window's start (client).
    Micros ok = 0;          ///< Pair only: the last success (0: none).
};

std::optional<Counter> parseCounter(std::string_view text) {
    Counter c;
    std::int64_t* fields[] = {&c.count, &c.at, &c.ok};
    const char* p = text.data();
    const char* end = p + text.size();
    for (std::int64_t* field : fields) {
        while (p < end && *p == ' ')
            ++p;
        if (p == end) break;
        const auto [next, ec] = std::from_chars(p, end, *field);
        if (ec != std::errc()) return std::nullopt;
        p = next;
    }
    if (p != end || c.count < 0) return std::nullopt;
    return c;
}

std::string formatCounter(const Counter& c) {
    return std::to_string(c.count) + ' ' + std::to_string(c.at) + ' ' + std::to_string(c.ok);
}

/// A counter as stored, or a fresh one (absent or unreadable).
Counter read(const std::optional<std::string>& stored) {
    if (!stored) return {};
    return parseCounter(*stored).value_or(Counter{});
}

std::string hashed(std::string_view prefix, std::string_view text) {
    std::array<unsigned char, 16> digest{};
    crypto_generichash(digest.data(), digest.size(),
                       reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr,
                       0);
    std::string out(prefix);
    static constexpr char kHex[] = "0123456789abcdef";
    for (const unsigned char byte : digest) {
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
    }
    return out;
}

/// Seconds to announce in Retry-After for a wait of `micros`: rounded up, at least 1.
std::int64_t retrySeconds(Micros micros) {
    return std::max<std::int64_t>(1, (micros + kSecond - 1) / kSecond);
}

[[noreturn]] void refuse(Micros wait) {
    throw HttpError(429, "Too many failed logins; try again later.", {},
                    {{"Retry-After", std::to_string(retrySeconds(wait))}});
}

Micros micros(std::chrono::milliseconds d) {
    return static_cast<Micros>(d.count()) * 1000;
}

} // namespace

std::string clientNetwork(std::string_view remoteAddress) {
    try {
        const Poco::Net::SocketAddress address{std::string(remoteAddress)};
        const Poco::Net::IPAddress& ip = address.host();
        if (ip.family() != Poco::Net::IPAddress::IPv6) return ip.toString();
        if (ip.isIPv4Mapped()) {
            // ::ffff:a.b.c.d is the IPv4 client a.b.c.d.
            return ip.toString().substr(7);
        }
        const Poco::Net::IPAddress prefix = ip & Poco::Net::IPAddress("ffff:ffff:ffff:ffff::");
        return prefix.toString() + "/64";
    } catch (const Poco::Exception&) {
        return std::string(remoteAddress);
    }
}

LoginThrottle::LoginThrottle(KeyValueArea& values, ThrottleSettings settings, const Clock& clock,
                             std::shared_ptr<spdlog::logger> log)
    : values_(values), settings_(settings), clock_(clock), log_(std::move(log)) {}

Micros LoginThrottle::now() const {
    return nowMicros(clock_);
}

LoginThrottle::Keys LoginThrottle::keysOf(const LoginSubject& subject) {
    // A newline cannot be in a client network: the pair's name is unambiguous.
    return {hashed("p/", subject.account + '\n' + subject.client), hashed("a/", subject.account),
            subject.client.empty() ? std::string() : hashed("c/", subject.client)};
}

void LoginThrottle::begin(const LoginSubject& subject) {
    const Keys keys = keysOf(subject);
    const bool withClient = !keys.client.empty();
    const Micros t = now();
    if (Micros last = lastSweep_.load(std::memory_order_relaxed);
        t - last >= micros(settings_.sweepEvery) && lastSweep_.compare_exchange_strong(last, t)) {
        sweeper_.submit([this] {
            try {
                sweep(now());
            } catch (const std::exception& e) {
                log_->warn("login throttle: sweeping the counters failed: {}", e.what());
            }
        });
    }
    const Micros window = micros(settings_.clientWindow);

    // The pair's wait: free failures, then a delay that doubles with each failure.
    const auto pairWait = [&](const Counter& pair) -> Micros {
        if (pair.count < settings_.freeFailures) return 0;
        const std::int64_t doublings = std::min<std::int64_t>(pair.count - settings_.freeFailures,
                                                              40); // 2^40 ms is past any cap
        const Micros delay =
            std::min(micros(settings_.maxDelay), micros(settings_.firstDelay) << doublings);
        return std::max<Micros>(0, pair.at + delay - t);
    };

    // Read everything first: the same reads for every subject, and no count is taken for an
    // attempt that is refused.
    const Counter pair = withClient ? read(values_.get(keys.pair)) : Counter{};
    const Counter account = read(values_.get(keys.account));
    const Counter client = withClient ? read(values_.get(keys.client)) : Counter{};
    const bool known = withClient && pair.ok != 0 && t - pair.ok < micros(settings_.knownFor);

    Micros wait = pairWait(pair);
    if (!known && account.count >= settings_.accountLimit) {
        wait = std::max(wait, account.at + micros(settings_.accountInterval) - t);
    }
    if (withClient && client.count >= settings_.clientLimit && t - client.at < window) {
        wait = std::max(wait, client.at + window - t);
    }
    if (wait > 0) refuse(wait);

    // Count the attempt as a failure now; a success takes it back. Each counter is changed by
    // compare-and-set, so concurrent attempts on every host are all counted.
    const auto count = [&](const std::string& key, auto&& change) {
        const bool counted = retryCompareAndSet([&] {
            const std::optional<std::string> stored = values_.get(key);
            Counter next = change(read(stored));
            const std::string value = formatCounter(next);
            if (stored) return values_.compareAndSet(key, *stored, value);
            if (entries_.load(std::memory_order_relaxed) >= settings_.maxEntries) {
                // Full: nothing new is counted until a sweep makes room (said once a minute).
                Micros last = lastCapWarning_.load(std::memory_order_relaxed);
                if (t - last >= 60 * kSecond && lastCapWarning_.compare_exchange_strong(last, t)) {
                    log_->warn("login throttle: {} counters kept (login_throttle.max_entries); "
                               "new accounts and clients are not counted until a sweep makes "
                               "room",
                               entries_.load(std::memory_order_relaxed));
                }
                return true;
            }
            if (!values_.putIfAbsent(key, value)) return false;
            entries_.fetch_add(1, std::memory_order_relaxed);
            return true;
        });
        // Attempts on this counter from everywhere faster than it can be written: an attack
        // in progress; this one waits too.
        if (!counted) refuse(kSecond);
    };
    if (withClient) {
        count(keys.pair, [&](Counter c) {
            // Another host counted meanwhile: this attempt waits like the one that came first.
            if (const Micros late = pairWait(c); late > 0) refuse(late);
            return Counter{c.count + 1, t, c.ok};
        });
        count(keys.client, [&](Counter c) {
            return t - c.at >= window ? Counter{1, t, 0} : Counter{c.count + 1, c.at, 0};
        });
    }
    count(keys.account, [&](Counter c) { return Counter{c.count + 1, t, 0}; });
}

void LoginThrottle::succeeded(const LoginSubject& subject) {
    const Keys keys = keysOf(subject);
    const Micros t = now();
    if (!keys.client.empty()) {
        values_.put(keys.pair, formatCounter(Counter{0, 0, t}));
        // begin() counted this attempt at the client as a failure: take it back (only that
        // one; logging in to one's own account buys no guesses at others).
        retryCompareAndSet([&] {
            const std::optional<std::string> stored = values_.get(keys.client);
            if (!stored) return true;
            Counter c = read(stored);
            if (c.count == 0 || t - c.at >= micros(settings_.clientWindow)) return true;
            --c.count;
            return values_.compareAndSet(keys.client, *stored, formatCounter(c));
        });
    }
    values_.remove(keys.account);
}

std::size_t LoginThrottle::sweep(Micros at) {
    const Micros forget = micros(settings_.forget);
    const Micros knownFor = micros(settings_.knownFor);
    const Micros window = micros(settings_.clientWindow);
    const auto expired = [&](std::string_view key, const Counter& c) {
        switch (key.empty() ? '\0' : key.front()) {
        case 'p':
            return (c.count == 0 || at - c.at >= forget) && (c.ok == 0 || at - c.ok >= knownFor);
        case 'a': return at - c.at >= forget;
        case 'c': return at - c.at >= window;
        default: return true;
        }
    };
    std::size_t kept = 0;
    std::string after;
    for (;;) {
        const auto page = values_.listAfter("", after, kSweepPage);
        for (const auto& [key, value] : page) {
            const std::optional<Counter> counter = parseCounter(value);
            // A failure counted between the read and the delete is lost with it: one attempt,
            // once per sweep.
            if (!counter || expired(key, *counter)) {
                values_.remove(key);
            } else {
                ++kept;
            }
        }
        if (page.size() < kSweepPage) break;
        after = page.back().first;
    }
    entries_.store(kept, std::memory_order_relaxed);
    return kept;
}

} // namespace latchkey::core
