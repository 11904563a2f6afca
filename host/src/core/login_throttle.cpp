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

/// Overflow buckets per kind, used only while the counters are full.
constexpr std::uint64_t kOverflowBuckets = 1024;

/// The overflow bucket `name` is counted in: `prefix` and the hash of the name modulo the
/// bucket count.
std::string overflowBucket(std::string_view prefix, std::string_view name) {
    std::uint64_t h = 0;
    crypto_generichash(reinterpret_cast<unsigned char*>(&h), sizeof h,
                       reinterpret_cast<const unsigned char*>(name.data()), name.size(), nullptr,
                       0);
    return std::string(prefix) + std::to_string(h % kOverflowBuckets);
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

/// `c` at `t`: failures older than `forget` are forgotten, swept or not (a client's counter runs
/// out with its window, which begin() checks).
Counter freshened(Counter c, Micros t, Micros forget) {
    if (c.count > 0 && t - c.at >= forget) {
        c.count = 0;
        c.at = 0;
    }
    return c;
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
        startSweep();
    }
    const Micros window = micros(settings_.clientWindow);
    const Micros interval = micros(settings_.accountInterval);
    const auto fresh = [&](const Counter& c) { return freshened(c, t, micros(settings_.forget)); };

    // The pair's wait: free failures, then a delay that doubles with each failure, up to the
    // cap (saturating: no shift past it).
    const auto pairWait = [&](const Counter& pair) -> Micros {
        if (pair.count < settings_.freeFailures) return 0;
        const std::int64_t doublings = pair.count - settings_.freeFailures;
        const Micros first = micros(settings_.firstDelay);
        const Micros cap = micros(settings_.maxDelay);
        const Micros delay =
            doublings >= 62 || first > (cap >> doublings) ? cap : first << doublings;
        return std::max<Micros>(0, pair.at + delay - t);
    };

    // Read everything first: the same reads for every subject, and no count is taken for an
    // attempt that is refused. When the counters are full, an account or client without one
    // is counted in one of the overflow buckets instead (shared, so approximate, but never
    // uncounted); a pair without one is not counted.
    const bool full = entries_.load(std::memory_order_relaxed) >= settings_.maxEntries;
    if (full) warnFull(t);
    struct Slot {
        std::string key;
        Counter counter;
    };
    const auto slot = [&](const std::string& key, const char* bucketPrefix,
                          const std::string& name) {
        std::optional<std::string> stored = values_.get(key);
        if (stored || !full || bucketPrefix == nullptr) {
            return Slot{key, fresh(read(stored))};
        }
        std::string bucket = overflowBucket(bucketPrefix, name);
        stored = values_.get(bucket);
        return Slot{std::move(bucket), fresh(read(stored))};
    };
    const Slot pair = withClient ? slot(keys.pair, nullptr, {}) : Slot{};
    const Slot account = slot(keys.account, "a/~", subject.account);
    const Slot client = withClient ? slot(keys.client, "c/~", subject.client) : Slot{};
    const bool known =
        withClient && pair.counter.ok != 0 && t - pair.counter.ok < micros(settings_.knownFor);

    // The account's and the client's waits, checked again at each compare-and-set: a slot
    // another host took meanwhile is not taken twice.
    const auto accountWait = [&](const Counter& c) -> Micros {
        if (known || c.count < settings_.accountLimit) return 0;
        return std::max<Micros>(0, c.at + interval - t);
    };
    const auto clientWait = [&](const Counter& c) -> Micros {
        if (c.count < settings_.clientLimit || t - c.at >= window) return 0;
        return c.at + window - t;
    };
    const Micros wait =
        std::max({withClient ? pairWait(pair.counter) : Micros{0}, accountWait(account.counter),
                  withClient ? clientWait(client.counter) : Micros{0}});
    if (wait > 0) refuse(wait);

    // Count the attempt as a failure at the account and the client now (a success takes it
    // back), so that concurrent guesses on every host cannot slip past their ceilings; each
    // counter is changed by compare-and-set. The pair is counted only when the password was
    // wrong (failed()): several right logins of one client at once must not wait for each
    // other. Concurrent wrong guesses of one client slip past its backoff by at most as many
    // as the hashing lanes run at once.
    const auto count = [&](const Slot& at, auto&& next) {
        // Attempts on this counter from everywhere faster than it can be written: an attack
        // in progress; this one waits too. (Slots may always be made: a bucket when full.)
        if (!changeCounter(at.key, true, t, next)) refuse(kSecond);
    };
    count(account, [&](Counter c) {
        if (const Micros late = accountWait(c); late > 0) refuse(late);
        return Counter{c.count + 1, t, 0};
    });
    if (withClient) {
        count(client, [&](Counter c) {
            if (const Micros late = clientWait(c); late > 0) refuse(late);
            return t - c.at >= window ? Counter{1, t, 0} : Counter{c.count + 1, c.at, 0};
        });
    }
}

template <class Next>
bool LoginThrottle::changeCounter(const std::string& key, bool mayCreate, Micros t, Next&& next) {
    return retryCompareAndSet([&] {
        const std::optional<std::string> stored = values_.get(key);
        const std::string value =
            formatCounter(next(freshened(read(stored), t, micros(settings_.forget))));
        if (stored) return values_.compareAndSet(key, *stored, value);
        if (!mayCreate) return true; // not counted
        if (!values_.putIfAbsent(key, value)) return false;
        if (entries_.fetch_add(1, std::memory_order_relaxed) + 1 == settings_.maxEntries) {
            sweepSoon(t); // full from now on: make room as soon as can be
        }
        return true;
    });
}

void LoginThrottle::warnFull(Micros t) {
    Micros last = lastCapWarning_.load(std::memory_order_relaxed);
    if (t - last >= 60 * kSecond && lastCapWarning_.compare_exchange_strong(last, t)) {
        log_->warn("login throttle: {} counters kept (login_throttle.max_entries); accounts and "
                   "clients without one are counted in shared overflow counters until a sweep "
                   "makes room",
                   entries_.load(std::memory_order_relaxed));
    }
}

void LoginThrottle::sweepSoon(Micros t) {
    Micros last = lastSweep_.load(std::memory_order_relaxed);
    // At most one sweep a minute when full; otherwise every sweep_every.
    if (t - last < 60 * kSecond || !lastSweep_.compare_exchange_strong(last, t)) return;
    startSweep();
}

void LoginThrottle::startSweep() {
    sweeper_.submit([this] {
        try {
            sweep(now());
        } catch (const std::exception& e) {
            log_->warn("login throttle: sweeping the counters failed: {}", e.what());
        }
    });
}

void LoginThrottle::failed(const LoginSubject& subject) {
    if (subject.client.empty()) return; // no pair without a client
    const Micros t = now();
    try {
        // While the counters are full a pair without one is not counted (the account's and
        // the client's, in their overflow buckets, still are).
        changeCounter(keysOf(subject).pair,
                      entries_.load(std::memory_order_relaxed) < settings_.maxEntries, t,
                      [&](const Counter& c) {
                          return Counter{c.count + 1, t, c.ok};
                      });
    } catch (const std::exception& e) {
        // The answer is a refusal either way; the account and the client were counted.
        log_->warn("login throttle: counting a failure failed: {}", e.what());
    }
}

void LoginThrottle::succeeded(const LoginSubject& subject) {
    const Keys keys = keysOf(subject);
    const Micros t = now();
    try {
        if (!keys.client.empty()) {
            values_.put(keys.pair, formatCounter(Counter{0, 0, t}));
            // begin() counted this attempt at the client as a failure: take it back (only that
            // one; logging in to one's own account buys no guesses at others). An attempt
            // counted in an overflow bucket stays there.
            takeBack(keys.client, t, micros(settings_.clientWindow));
        }
        values_.remove(keys.account);
    } catch (const std::exception& e) {
        // The password was right: the login stands; the counters stay as they were.
        log_->warn("login throttle: recording a success failed: {}", e.what());
    }
}

void LoginThrottle::abandoned(const LoginSubject& subject) {
    const Keys keys = keysOf(subject);
    const Micros t = now();
    try {
        takeBack(keys.account, t, 0);
        if (!keys.client.empty()) takeBack(keys.client, t, micros(settings_.clientWindow));
    } catch (const std::exception& e) {
        // The client was answered 503 either way; the attempt stays counted.
        log_->warn("login throttle: taking an undecided attempt back failed: {}", e.what());
    }
}

void LoginThrottle::takeBack(const std::string& key, Micros t, Micros window) {
    retryCompareAndSet([&] {
        const std::optional<std::string> stored = values_.get(key);
        if (!stored) return true;
        Counter c = read(stored);
        if (c.count == 0 || (window > 0 && t - c.at >= window)) return true;
        --c.count;
        return values_.compareAndSet(key, *stored, formatCounter(c));
    });
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

bool throttledCheck(LoginThrottle* throttle, const LoginSubject& subject, spdlog::logger& log,
                    const AuthEventObserver& observe, AuthEvent event,
                    const std::function<std::string_view()>& check) {
    if (throttle) {
        try {
            throttle->begin(subject);
        } catch (const HttpError&) {
            event.outcome = "refused";
            event.reason = "throttled";
            logAuthEvent(log, observe, event);
            throw;
        }
    }
    try {
        event.reason = check();
    } catch (const Overloaded&) {
        // Neither a failure nor a success: begin()'s count is taken back, the client retries.
        if (throttle) throttle->abandoned(subject);
        event.outcome = "shed";
        event.reason = "overloaded";
        logAuthEvent(log, observe, event);
        throw;
    }
    const bool ok = event.reason.empty();
    if (throttle) {
        if (ok) {
            throttle->succeeded(subject);
        } else {
            throttle->failed(subject);
        }
    }
    event.outcome = ok ? "success" : "failure";
    logAuthEvent(log, observe, event);
    return ok;
}

} // namespace latchkey::core
