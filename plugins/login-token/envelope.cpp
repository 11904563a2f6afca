// The Buzz API's envelope: {"success": true, "message", "payload"} and its error form.
#include "envelope.hpp"

#include <latchkey/support/time.hpp>

namespace latchkey::plugins::buzz {

Response envelope(int status, const std::string& message,
                  const std::function<void(JsonWriter&)>& payload) {
    JsonWriter out;
    out.beginObject().field("success", true).field("message", message);
    if (payload) {
        out.key("payload");
        payload(out);
    }
    out.endObject();
    return Response::json(status, out.take());
}

Response idEnvelope(int status, const std::string& message, Id id) {
    return envelope(status, message,
                    [id](JsonWriter& out) { out.beginObject().field("id", id).endObject(); });
}

Response renderError(const HttpError& error) {
    JsonWriter out;
    out.beginObject().field("success", false).key("errors").beginArray();
    if (error.fieldErrors().empty()) {
        out.value(error.detail());
    } else {
        for (const auto& [field, messages] : error.fieldErrors()) {
            for (const auto& message : messages)
                out.value(field + ": " + message);
        }
    }
    out.endArray().endObject();
    Response response = Response::json(error.status(), out.take());
    response.headers = error.headers();
    return response;
}

void renderMember(JsonWriter& out, const Member& m) {
    out.beginObject()
        .field("user_id", m.user.id)
        .field("super_user", m.attributes.superUser)
        .field("email", m.user.username)
        .field("first_name", m.attributes.firstName)
        .field("last_name", m.attributes.lastName)
        .field("role_id", m.attributes.roleId)
        .field("active", m.active)
        .field("create_date", formatSeconds(m.user.createdAt))
        .field("update_date", formatSeconds(m.user.updatedAt))
        .field("notes", m.attributes.notes)
        .endObject();
}

} // namespace latchkey::plugins::buzz
