// Support: an Event as the one JSON object every sink writes (the event log's lines, the
// webhook's bodies), so receivers parse one shape.
#pragma once

#include <latchkey/events.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/time.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// `{"id": "...", "type": "user.created", "time": "2026-12-04T10:00:00.123456Z",
/// "instance_id": 3, "user_id": 7, "data": {"api": "/v1.1", ...}}`; absent ids are null.
inline std::string eventJson(const Event& event) {
    JsonWriter out;
    out.beginObject()
        .field("id", event.id)
        .field("type", event.type)
        .field("time", formatTimestamp(toMicros(event.time)))
        .field("instance_id", event.instanceId)
        .field("user_id", event.userId)
        .key("data")
        .beginObject();
    for (const auto& [name, value] : event.data)
        out.field(name, value);
    out.endObject().endObject();
    return out.take();
}

/// Whether a sink configured with `types` takes an event of `type`: each entry is a type
/// ("user.created") or a subject ("user.*"); no entry at all takes every event.
inline bool eventTypeSelected(const std::vector<std::string>& types, std::string_view type) {
    return types.empty() ||
           std::any_of(types.begin(), types.end(), [type](const std::string& pattern) {
               if (pattern == type) return true;
               const std::string_view view(pattern);
               return view.size() > 2 && view.substr(view.size() - 2) == ".*" &&
                      type.substr(0, view.size() - 1) == view.substr(0, view.size() - 1);
           });
}

} // namespace latchkey
