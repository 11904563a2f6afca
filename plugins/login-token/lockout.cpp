// Counters that limit the login-token flow's abuse: wrong tokens per address, and one
// lost-password mail per address per cooldown.
#include "lockout.hpp"

#include "text.hpp"
#include "value_store.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/Net/IPAddress.h>

#include <utility>

namespace latchkey::plugins::buzz {

namespace {

/// The client's network: an IPv4 address as it is, an IPv6 address as its /64 (one host
/// usually has the whole /64). `ip` is an address as Lockout::keys cut it from
/// Request::remoteAddress ("192.0.2.1", "[2001:db8::1]").
std::string networkOf(const std::string& ip) {
    std::string bare = ip;
    if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
        bare = bare.substr(1, bare.size() - 2);
    }
    Poco::Net::IPAddress address;
    if (!Poco::Net::IPAddress::tryParse(bare, address)) return ip;
    if (address.family() != Poco::Net::IPAddress::IPv6 || address.isIPv4Mapped()) return ip;
    return (address & Poco::Net::IPAddress("ffff:ffff:ffff:ffff::")).toString() + "/64";
}

} // namespace

Lockout::Lockout(KeyValueArea& values, const Settings& settings, Id instanceId, const Clock& clock,
                 Logger& log)
    : values_(values), settings_(settings), instanceId_(instanceId), clock_(clock), log_(log) {}

Micros Lockout::now() const {
    return nowMicros(clock_);
}

FailureKeys Lockout::keys(const std::string& email, const std::string& remoteAddress) const {
    // A tight limit per address and client, so that someone guessing at an address soon stops
    // and its owner elsewhere goes on; a looser one per address over all clients, so that many
    // clients together cannot guess on.
    const auto colon = remoteAddress.rfind(':');
    const std::string ip =
        colon == std::string::npos ? remoteAddress : remoteAddress.substr(0, colon);
    const std::string prefix = "fails/" + std::to_string(instanceId_) + "/";
    const std::string address = asciiLower(email);
    return {prefix + "c-" + hashHex(address + "|" + ip), prefix + "a-" + hashHex(address),
            prefix + "x-" + hashHex(networkOf(ip))};
}

void Lockout::checkOne(const std::string& key, std::int64_t limit) {
    const Micros window = toMicros(settings_.tokenLockout);
    const Micros t = now();
    const auto stored = values_.get(key);
    if (!stored) return;
    const auto object = parseStored(*stored);
    const auto since = object->optValue<Poco::Int64>("since", 0);
    const auto count = object->optValue<Poco::Int64>("count", 0);
    if (count >= limit && t - since < window) {
        const auto wait = (since + window - t) / 1'000'000 + 1;
        throw HttpError(429, "Too many wrong tokens for this address; try again later.", {},
                        {{"Retry-After", std::to_string(wait)}});
    }
}

void Lockout::checkClient(const FailureKeys& keys) {
    checkOne(keys.client, settings_.tokenAttempts);
    checkOne(keys.network, settings_.tokenClientAttempts);
}

void Lockout::checkAddress(const FailureKeys& keys) {
    checkOne(keys.account, settings_.tokenAccountAttempts);
}

bool Lockout::mayCreate(Counts& counts, const char* what) {
    if (counts.entries.load(std::memory_order_relaxed) < kMaxCounters) {
        counts.entries.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    const Micros t = now();
    Micros last = counts.lastWarning.load(std::memory_order_relaxed);
    if (t - last >= 60'000'000 && counts.lastWarning.compare_exchange_strong(last, t)) {
        log_.warn("login-token: " + std::to_string(kMaxCounters) + " " + what +
                  " are kept; new ones wait for the next sweep");
    }
    return false;
}

void Lockout::count(const std::string& key) {
    const Micros t = now();
    changeValue(values_, key,
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    if (!current && !mayCreate(*fails_, "wrong-token counters")) {
                        return std::nullopt;
                    }
                    Micros since = t;
                    std::int64_t count = 1;
                    if (current) {
                        const auto object = parseStored(*current);
                        const auto oldSince = object->optValue<Poco::Int64>("since", 0);
                        if (t - oldSince < toMicros(settings_.tokenLockout)) {
                            since = oldSince;
                            count = object->optValue<Poco::Int64>("count", 0) + 1;
                        }
                    }
                    JsonWriter out;
                    out.beginObject().field("count", count).field("since", since).endObject();
                    return out.take();
                });
}

void Lockout::recordFailure(const FailureKeys& keys) {
    count(keys.client);
    count(keys.account);
    count(keys.network);
}

void Lockout::clearClient(const FailureKeys& keys) {
    values_.remove(keys.client);
}

bool Lockout::resetDue(const std::string& email, const std::string& remoteAddress) {
    const FailureKeys keys = this->keys(email, remoteAddress);
    checkOne(keys.network, settings_.tokenClientAttempts);
    count(keys.network);
    const Micros t = now();
    return changeValue(
        values_, "cooldown/" + std::to_string(instanceId_) + "/" + hashHex(asciiLower(email)),
        [&](const std::optional<std::string>& current) -> std::optional<std::string> {
            if (current && t - parseStored(*current)->optValue<Poco::Int64>("at", 0) <
                               toMicros(settings_.resetCooldown)) {
                return std::nullopt;
            }
            if (!current && !mayCreate(*cooldowns_, "lost-password cooldowns")) {
                return std::nullopt;
            }
            JsonWriter out;
            out.beginObject().field("at", t).endObject();
            return out.take();
        });
}

namespace {

constexpr std::size_t kSweepPage = 512;

/// Calls `visit(key, value)` for every entry under `prefix`, a page at a time.
template <class Visit>
void forEachPaged(KeyValueArea& values, const std::string& prefix, Visit&& visit) {
    std::string after;
    for (;;) {
        const auto page = values.listAfter(prefix, after, kSweepPage);
        for (const auto& [key, value] : page)
            visit(key, value);
        if (page.size() < kSweepPage) return;
        after = page.back().first;
    }
}

} // namespace

std::size_t Lockout::sweep(Micros at) {
    const auto sweepPrefix = [&](const std::string& prefix, Micros window, const char* field,
                                 Counts& counts) {
        std::size_t kept = 0;
        forEachPaged(values_, prefix, [&](const std::string& key, const std::string& value) {
            // A failure recorded between the read and the delete is lost with it: at most a
            // few more guesses at a 192-bit token, once per sweep.
            if (at - parseStored(value)->optValue<Poco::Int64>(field, 0) >= window) {
                values_.remove(key);
            } else {
                ++kept;
            }
        });
        counts.entries.store(kept, std::memory_order_relaxed);
        return kept;
    };
    const std::string instance = std::to_string(instanceId_) + "/";
    return sweepPrefix("fails/" + instance, toMicros(settings_.tokenLockout), "since", *fails_) +
           sweepPrefix("cooldown/" + instance, toMicros(settings_.resetCooldown), "at",
                       *cooldowns_);
}

void Lockout::removeAll() {
    const std::string instance = std::to_string(instanceId_) + "/";
    for (const char* kind : {"fails/", "cooldown/"}) {
        forEachPaged(values_, kind + instance,
                     [&](const std::string& key, const std::string&) { values_.remove(key); });
    }
}

} // namespace latchkey::plugins::buzz
