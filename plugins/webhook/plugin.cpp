// The `webhook` event sink: every event POSTed as JSON to a URL, signed with HMAC-SHA256, from a
// bounded queue on a thread of its own (never on the request's), in order, retried with a
// backoff that doubles, and drained on shutdown within `drain_timeout`.
#include <latchkey/context.hpp>
#include <latchkey/events.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/event_json.hpp>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::plugins {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Settings {
    std::string url;
    std::string secret;
    std::vector<std::string> types; ///< As the event log's: empty takes every event.
    std::size_t queue = 1024;
    int attempts = 8;
    milliseconds backoff{1000};
    milliseconds maxBackoff{60000};
    milliseconds timeout{5000};
    milliseconds drainTimeout{10000};
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.url = r.requiredString("url");
    if (!s.url.empty() && s.url.rfind("https://", 0) != 0 && s.url.rfind("http://", 0) != 0) {
        errors.add(*r.child("url"), "must be an http(s) URL");
    } else if (s.url.find_first_of(" \t\r\n") != std::string::npos) {
        errors.add(*r.child("url"), "must not contain spaces or line breaks");
    }
    s.secret = r.requiredString("secret");
    if (!s.secret.empty() && s.secret.size() < 32) {
        // The receiver checks the signature with it: a guessable secret signs forgeries.
        errors.add(*r.child("secret"), "must be at least 32 characters (a random value)");
    }
    s.types = r.strings("types");
    s.queue = static_cast<std::size_t>(
        r.integer("queue", static_cast<std::int64_t>(s.queue), 1, 1000000));
    s.attempts = static_cast<int>(r.integer("attempts", s.attempts, 1, 100));
    s.backoff = r.duration("backoff", s.backoff, milliseconds(1), std::chrono::hours(1));
    s.maxBackoff = r.duration("max_backoff", s.maxBackoff, milliseconds(1), std::chrono::hours(24));
    s.timeout = r.duration("timeout", s.timeout, milliseconds(100), std::chrono::minutes(5));
    s.drainTimeout =
        r.duration("drain_timeout", s.drainTimeout, milliseconds(0), std::chrono::hours(1));
    r.finish();
    return s;
}

/// `v1=` and the hex HMAC-SHA256 of `timestamp.body` under `secret`: what the receiver
/// recomputes (docs/operations.md, "Webhook signatures").
std::string signature(const std::string& secret, const std::string& timestamp,
                      const std::string& body) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                                secret.size());
    const std::string signed_ = timestamp + ".";
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_.data()),
                                  signed_.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                  body.size());
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(&state, sizeof state);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    return std::string("v1=") + hex;
}

class Webhook final : public Provides<EventSink> {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    Webhook(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)),
          delivered_(outcome(context, "delivered")), retried_(outcome(context, "retried")),
          dropped_(outcome(context, "dropped")) {
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to start");
        context.metrics().gauge("latchkey_webhook_queue_depth",
                                "Events waiting to be delivered by the webhook.", [this] {
                                    const std::lock_guard lock(mutex_);
                                    return static_cast<double>(queue_.size());
                                });
        thread_ = std::thread([this] { run(); });
        context.logger().info("events are POSTed to " + origin(settings_.url));
    }

    /// Delivers what is queued for at most drain_timeout, then drops the rest (logged).
    ~Webhook() override {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
            deadline_ = Clock::now() + settings_.drainTimeout;
        }
        changed_.notify_all();
        thread_.join();
        if (!queue_.empty()) {
            dropped_.add(static_cast<double>(queue_.size()));
            context_.logger().error(std::to_string(queue_.size()) +
                                    " events were not delivered before webhook.drain_timeout");
        }
    }
    Webhook(const Webhook&) = delete;
    Webhook& operator=(const Webhook&) = delete;

    void accept(const Event& event) override {
        if (!eventTypeSelected(settings_.types, event.type)) return;
        Pending pending{event.type, event.id, eventJson(event)}; // outside the lock
        bool full = false;
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) return;
            full = queue_.size() >= settings_.queue;
            if (!full) queue_.push_back(std::move(pending));
        }
        if (full) {
            dropped_.add();
            warnFull();
            return;
        }
        changed_.notify_all();
    }

private:
    struct Pending {
        std::string type;
        std::string id;
        std::string body;
    };

    static MetricCounter& outcome(PluginContext& context, const char* name) {
        return context.metrics().counter(
            "latchkey_webhook_deliveries_total",
            "Webhook deliveries by outcome: delivered (2xx), retried (an attempt that failed and "
            "will be repeated), dropped (out of attempts, queue full, or not sent by shutdown).",
            {{"outcome", name}});
    }

    /// Where a URL's parts are: `scheme://` ends at `start`, the authority (with any user
    /// information) runs from there to `path` (npos: to the end).
    struct UrlParts {
        std::size_t start = 0;
        std::size_t path = std::string::npos;
    };
    static UrlParts split(const std::string& url) {
        const std::size_t scheme = url.find("://");
        const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
        return {start, url.find_first_of("/?#", start)};
    }

    /// The scheme, host and port of `url`, without user information: what the log may say
    /// (a hook URL often holds its token in the path or the query).
    static std::string origin(const std::string& url) {
        const UrlParts parts = split(url);
        std::string authority = url.substr(
            parts.start, parts.path == std::string::npos ? parts.path : parts.path - parts.start);
        if (const std::size_t at = authority.rfind('@'); at != std::string::npos)
            authority.erase(0, at + 1);
        return url.substr(0, parts.start) + authority;
    }

    /// `message` (an error of the host's HTTP client, which names the URL) with every part of
    /// the URL past its origin replaced.
    std::string redacted(std::string message) const {
        const std::string& whole = settings_.url;
        const auto [start, pathAt] = split(whole);
        std::vector<std::string> secrets;
        if (const std::size_t at = whole.find('@', start);
            at != std::string::npos && (pathAt == std::string::npos || at < pathAt))
            secrets.push_back(whole.substr(start, at - start)); // user information
        if (pathAt != std::string::npos) {
            const std::size_t queryAt = whole.find_first_of("?#", pathAt);
            secrets.push_back(whole.substr(pathAt)); // path and query
            secrets.push_back(whole.substr(pathAt, queryAt == std::string::npos
                                                       ? std::string::npos
                                                       : queryAt - pathAt)); // path alone
        }
        for (const std::string& secret : secrets) {
            if (secret.size() <= 1) continue;
            for (std::size_t at = message.find(secret); at != std::string::npos;
                 at = message.find(secret, at + 3))
                message.replace(at, secret.size(), "***");
        }
        return message;
    }

    /// A full queue drops events; said at most once a minute (a flood would fill the log).
    void warnFull() {
        const auto now = Clock::now();
        const std::lock_guard lock(mutex_);
        if (now - lastFullWarning_ < std::chrono::minutes(1)) return;
        lastFullWarning_ = now;
        context_.logger().error("webhook queue full (webhook.queue " +
                                std::to_string(settings_.queue) +
                                "): new events are dropped until the receiver catches up");
    }

    /// The delivery thread: the front event until it is delivered or given up, then the next;
    /// at shutdown until the queue is empty or the drain deadline passes. Never throws (an
    /// escape would end the process): an event it cannot handle is dropped.
    void run() noexcept {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() || (stopping_ && Clock::now() >= deadline_)) return;
            const Pending pending = queue_.front();
            lock.unlock();
            bool done = true;
            try {
                done = deliver(pending);
            } catch (...) {
                dropped_.add();
            }
            lock.lock();
            if (done) queue_.pop_front();
        }
    }

    /// Tries `pending` up to `attempts` times; true when it is delivered or given up (dropped),
    /// false when shutdown's deadline came first (it stays queued, and is counted then).
    bool deliver(const Pending& pending) {
        milliseconds wait = settings_.backoff;
        for (int attempt = 1;; ++attempt) {
            const Sent sent = send(pending);
            if (sent == Sent::Delivered) {
                delivered_.add();
                return true;
            }
            if (sent == Sent::Refused) {
                dropped_.add();
                context_.logger().error("webhook: event " + pending.type + " " + pending.id +
                                        " refused by the receiver; not retried");
                return true;
            }
            if (attempt >= settings_.attempts) {
                dropped_.add();
                context_.logger().error("webhook: event " + pending.type + " " + pending.id +
                                        " dropped after " + std::to_string(attempt) + " attempts");
                return true;
            }
            retried_.add();
            if (!pause(wait)) return false;
            wait = std::min(wait * 2, settings_.maxBackoff);
        }
    }

    /// Waits `wait` before the next attempt; false when shutdown's deadline comes first.
    /// Shutdown does not cut the wait short (the receiver may be back by then): it only bounds
    /// it by the deadline.
    bool pause(milliseconds wait) {
        std::unique_lock lock(mutex_);
        const Clock::time_point retryAt = Clock::now() + wait;
        for (Clock::time_point now = Clock::now(); now < retryAt; now = Clock::now()) {
            if (stopping_ && now >= deadline_) return false;
            changed_.wait_until(lock, stopping_ ? std::min(retryAt, deadline_) : retryAt);
        }
        return !(stopping_ && Clock::now() >= deadline_);
    }

    enum class Sent : std::uint8_t {
        Delivered, ///< 2xx.
        Again,     ///< No answer, 5xx, 408 or 429: the receiver may take it later.
        Refused,   ///< Any other 4xx (or 3xx: redirects are not followed): it never will.
    };

    /// One POST. While draining, it may take no longer than what is left of the deadline.
    Sent send(const Pending& pending) {
        const std::string timestamp =
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                               context_.clock().now().time_since_epoch())
                               .count());
        OutboundRequest request;
        request.method = "POST";
        request.url = settings_.url;
        request.body = pending.body;
        request.timeout = settings_.timeout;
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) {
                const auto left =
                    std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
                request.timeout = std::clamp(left, milliseconds(100), settings_.timeout);
            }
        }
        request.headers = {
            {"Content-Type", "application/json"},
            {"User-Agent", "latchkey-webhook/1.0"},
            {"X-Latchkey-Event", pending.type},
            {"X-Latchkey-Delivery", pending.id},
            {"X-Latchkey-Timestamp", timestamp},
            {"X-Latchkey-Signature", signature(settings_.secret, timestamp, pending.body)}};
        try {
            const OutboundResponse response = context_.http().send(request);
            const int status = response.status;
            if (status >= 200 && status < 300) return Sent::Delivered;
            context_.logger().warn("webhook: " + origin(settings_.url) + " answered " +
                                   std::to_string(status) + " for event " + pending.id);
            const bool later = status >= 500 || status == 408 || status == 429;
            return later ? Sent::Again : Sent::Refused;
        } catch (const std::exception& e) {
            context_.logger().warn("webhook: event " + pending.id +
                                   " not delivered: " + redacted(e.what()));
        }
        return Sent::Again;
    }

    PluginContext& context_;
    Settings settings_;
    MetricCounter& delivered_;
    MetricCounter& retried_;
    MetricCounter& dropped_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    Clock::time_point deadline_ = Clock::time_point::max();
    Clock::time_point lastFullWarning_{};
    std::thread thread_; ///< Last: it uses everything above.
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::Webhook, "webhook", EventSink, "1.0.0",
                "Events POSTed to a URL, signed with HMAC-SHA256, retried, drained on shutdown",
                "stable; the receiver must check X-Latchkey-Signature and the timestamp")
