// The login-token flow's key/value helpers: compare-and-set changes, ordered keys, stored JSON.
#include "value_store.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/retry.hpp>

#include <Poco/JSON/Parser.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace latchkey::plugins::buzz {

bool changeValue(KeyValueArea& values, const std::string& key, const ValueChange& change) {
    bool written = false;
    const bool settled = retryCompareAndSet([&] {
        const auto current = values.get(key);
        const auto next = change(current);
        if (!next) return true; // nothing to write
        written =
            current ? values.compareAndSet(key, *current, *next) : values.putIfAbsent(key, *next);
        return written;
    });
    if (!settled) throw HttpError(409, "The record changed while it was being written; retry.");
    return written;
}

Poco::JSON::Object::Ptr parseStored(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string orderedKey(const std::string& prefix, std::int64_t id) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%020" PRId64, id);
    return prefix + digits;
}

std::optional<std::int64_t> idAfter(const std::string& key, const std::string& prefix) {
    if (key.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const char* begin = key.data() + prefix.size();
    const char* end = key.data() + key.size();
    std::int64_t id = 0;
    const auto [at, ec] = std::from_chars(begin, end, id);
    if (ec != std::errc() || at != end) return std::nullopt;
    return id;
}

} // namespace latchkey::plugins::buzz
