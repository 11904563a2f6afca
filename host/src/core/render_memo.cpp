// Parsed schemas and rendered profile fields, remembered by their stored text.
#include "core/render_memo.hpp"

#include "core/inline_attempt.hpp"

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

/// Stored text longer than this is parsed or rendered on a worker, never on a network thread,
/// where it would hold up every other connection of that thread.
constexpr std::size_t kInlineTextLimit = std::size_t{16} * 1024;

/// Called before parsing or rendering `text` after a memo miss.
void mayCompute(const std::string& text) {
    if (text.size() > kInlineTextLimit) mayBlock();
}

} // namespace

RenderMemo::RenderMemo(std::size_t maxBytes)
    : schemas_(forever(maxBytes / 8), steadyMicros),
      profiles_(forever(maxBytes / 8 * 7), steadyMicros) {}

std::shared_ptr<const ProfileSchema> RenderMemo::schema(const std::string& stored) {
    return schemas_.getOrRead(
        stored,
        [](const std::string& text) {
            mayCompute(text);
            return std::make_shared<const ProfileSchema>(ProfileSchema::fromStored(text));
        },
        [](const std::string& text, const ProfileSchema& parsed) {
            return bytesOf(parsed) + text.capacity();
        });
}

std::shared_ptr<const RenderedFields> RenderMemo::profileFields(const std::string& storedData,
                                                                const ProfileSchema& schema,
                                                                const std::string& fileBaseUrl) {
    if (schema.fields().empty()) return std::make_shared<const RenderedFields>();
    if (schema.storedText().empty()) {
        mayCompute(storedData);
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
    return profiles_.getOrRead(
        key,
        // The memo has no background runner: this read runs now, on this stack.
        [&](const std::string& text) {
            mayCompute(text);
            return std::make_shared<const RenderedFields>(
                renderedProfileFields(storedData, schema, fileBaseUrl));
        },
        [](const std::string& text, const RenderedFields& rendered) {
            return bytesOf(rendered) + text.capacity();
        });
}

} // namespace latchkey::core
