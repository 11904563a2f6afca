// ABI: events, what the host and plugins tell other systems (a user signed up, a key was reset),
// and the plugin kind that takes them somewhere (a file, a webhook). Since SDK 2.5.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey {

/// One thing that happened, after it is stored. Never a secret: no password, key, token or
/// mail body, in any field.
struct Event {
    /// What happened, as `<subject>.<verb>` ("user.created"; docs/operations.md lists the
    /// host's). A later minor may add types: a sink passes on, or ignores, what it does not
    /// know.
    std::string type;
    /// 32 hex characters from the CSPRNG, unique per event: what a receiver drops a duplicate
    /// by (a delivery retried after a lost answer). Filled in by the host when empty.
    std::string id;
    /// When it happened; filled in by the host when left at its default.
    std::chrono::system_clock::time_point time{};
    std::optional<Id> instanceId; ///< The instance it happened in, if any.
    std::optional<Id> userId;     ///< The user (or, for `account.*`, the account), if any.
    /// Further fields of the type ("client", "api", "reason", "api_key_id"): codes, ids and
    /// addresses the host formatted, never input as such.
    std::vector<std::pair<std::string, std::string>> data;
};

/// How a plugin publishes an event of its own (PluginContext::events()). Thread-safe; never
/// blocks for long (sinks queue).
class EventPublisher {
public:
    virtual ~EventPublisher() = default;
    /// Hands `event` to every sink, on this thread. What a sink throws is logged, not passed on.
    virtual void publish(Event event) = 0;
};

/// The plugin kind `EventSink` (`events.<name>` in the config; more than one may be chosen):
/// receives every event the host and the plugins publish.
class EventSink {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.event-sink";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~EventSink() = default;
    /// One event, on the thread that published it (a request's, often with a client waiting):
    /// queue it and deliver it elsewhere, never wait on a network or a disk that may stall.
    /// Thread-safe: events arrive concurrently. An exception is logged and the event is lost
    /// for this sink only. The destructor delivers what is queued (within a deadline of the
    /// sink's own) before it returns: sinks are destroyed after the plugins that publish.
    virtual void accept(const Event& event) = 0;
};

} // namespace latchkey
