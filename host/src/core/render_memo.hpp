// What responses would otherwise compute again on every request from stored text that has not
// changed: parsed profile schemas, and users' rendered profile fields.
#pragma once

#include "core/profile_schema.hpp"
#include "core/read_cache.hpp"

#include <memory>
#include <string>

namespace latchkey::core {

/// Parsed and rendered forms of stored JSON, remembered by the stored text itself: an entry can
/// never be stale (changed text is another key), so nothing invalidates them and they expire only
/// by least-recent use within `maxBytes`.
class RenderMemo {
public:
    explicit RenderMemo(std::size_t maxBytes);

    /// The schema stored as `stored` (ProfileSchema::fromStored), parsed once.
    std::shared_ptr<const ProfileSchema> schema(const std::string& stored);

    /// renderedProfileFields() of a profile's stored data, computed once per (schema, file base
    /// URL, data). A schema not read from storage (no storedText) is rendered without the memo.
    std::shared_ptr<const RenderedFields> profileFields(const std::string& storedData,
                                                        const ProfileSchema& schema,
                                                        const std::string& fileBaseUrl);

    /// Counters of the schema and profile memos.
    CacheStats schemaStats() const { return schemas_.stats(); }
    CacheStats profileStats() const { return profiles_.stats(); }

private:
    ReadCache<std::string, ProfileSchema> schemas_;
    ReadCache<std::string, RenderedFields> profiles_;
};

} // namespace latchkey::core
