// The login-token flow's key/value helpers: compare-and-set changes, ordered keys, stored JSON.
#pragma once

#include <latchkey/key_value_area.hpp>
#include <latchkey/storage/records/types.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace latchkey::plugins::buzz {

/// Gets the current value (nullopt: absent) and returns the new one, or nullopt to leave it.
/// It may run more than once: keep it free of effects.
using ValueChange = std::function<std::optional<std::string>(const std::optional<std::string>&)>;

/// Read, change, compare-and-set on one key, retried on a race; true when written, 409 when
/// the key never settles.
bool changeValue(KeyValueArea& values, const std::string& key, const ValueChange& change);

/// A stored value (a JSON object the flow wrote) parsed.
Poco::JSON::Object::Ptr parseStored(const std::string& text);

/// `prefix` followed by `id` zero-padded to 20 digits, so keys list in id order.
std::string orderedKey(const std::string& prefix, std::int64_t id);

/// The id at the end of an orderedKey after `prefix`, if it is one.
std::optional<std::int64_t> idAfter(const std::string& key, const std::string& prefix);

} // namespace latchkey::plugins::buzz
