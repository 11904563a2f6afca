// Parsed schemas and rendered profile fields, remembered by their stored text.
#include "core/render_memo.hpp"

#include <chrono>
#include <limits>

namespace latchkey::core {

namespace {

/// Entries never expire by age: their key is the text they were computed from.
CacheLimits forever(std::size_t maxBytes) {
    return CacheLimits{std::chrono::microseconds(std::numeric_limits<std::int64_t>::max()),
                       maxBytes};
}

std::size_t bytesOf(const ProfileSchema& schema) {
    // The parsed Poco objects cost a few times the text they came from.
    return sizeof schema + 4 * schema.storedText().size();
}

std::size_t bytesOf(const RenderedFields& fields) {
    std::size_t bytes = sizeof(RenderedFields);
    for (const auto& [name, json] : fields)
        bytes += sizeof(std::pair<std::string, std::string>) + name.capacity() + json.capacity();
    return bytes;
}

} // namespace

RenderMemo::RenderMemo(std::size_t maxBytes)
    : schemas_(forever(maxBytes / 8), steadyMicros),
      profiles_(forever(maxBytes / 8 * 7), steadyMicros) {}

std::shared_ptr<const ProfileSchema> RenderMemo::schema(const std::string& stored) {
    if (auto hit = schemas_.find(stored)) return hit;
    const auto ticket = schemas_.ticket(stored);
    auto parsed = std::make_shared<const ProfileSchema>(ProfileSchema::fromStored(stored));
    schemas_.put(stored, parsed, bytesOf(*parsed) + stored.capacity(), ticket);
    return parsed;
}

std::shared_ptr<const RenderedFields> RenderMemo::profileFields(const std::string& storedData,
                                                                const ProfileSchema& schema,
                                                                const std::string& fileBaseUrl) {
    if (schema.fields().empty()) return std::make_shared<const RenderedFields>();
    if (schema.storedText().empty()) {
        return std::make_shared<const RenderedFields>(
            renderedProfileFields(storedData, schema, fileBaseUrl));
    }
    // The three texts the result depends on, separated by a byte none of them holds (stored
    // JSON escapes control characters; URLs have none).
    std::string key;
    key.reserve(schema.storedText().size() + fileBaseUrl.size() + storedData.size() + 2);
    key.append(schema.storedText()).push_back('\x01');
    key.append(fileBaseUrl).push_back('\x01');
    key.append(storedData);
    if (auto hit = profiles_.find(key)) return hit;
    const auto ticket = profiles_.ticket(key);
    auto rendered = std::make_shared<const RenderedFields>(
        renderedProfileFields(storedData, schema, fileBaseUrl));
    profiles_.put(key, rendered, bytesOf(*rendered) + key.capacity(), ticket);
    return rendered;
}

} // namespace latchkey::core
