// The KeyValues facet: plugins' own values under (namespace, key).
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

std::optional<std::string> SqlStore::getValue(std::string_view ns, std::string_view key) {
    return run("k", [&](Session& session) {
        return first(query<std::string>(
            session, *dialect_, "SELECT v FROM kv_store WHERE ns = ? AND k = ?",
            [](RowReader& r) { return r.text(); }, std::string(ns), std::string(key)));
    });
}

void SqlStore::putValue(std::string_view ns, std::string_view key, std::string_view value) {
    write("k", [&](Session& session) {
        const std::string n(ns);
        const std::string k(key);
        const std::string v(value);
        // One statement: a DELETE + INSERT pair lets two concurrent writers of a new key both
        // insert under READ COMMITTED, and one of them fail.
        execute(session, *dialect_,
                dialect_->upsert("INSERT INTO kv_store (ns, k, v) VALUES (?, ?, ?)", "ns, k", "v"),
                n, k, v);
    });
}

bool SqlStore::putValueIfAbsent(std::string_view ns, std::string_view key, std::string_view value) {
    try {
        write("k", [&](Session& session) {
            execute(session, *dialect_, "INSERT INTO kv_store (ns, k, v) VALUES (?, ?, ?)",
                    std::string(ns), std::string(key), std::string(value));
        });
        return true;
    } catch (const Conflict&) {
        return false;
    }
}

bool SqlStore::compareAndSetValue(std::string_view ns, std::string_view key,
                                  std::string_view expected, std::string_view value) {
    return write("k", [&](Session& session) {
        if (value == expected) {
            // Nothing to write; and MySQL would count the no-op UPDATE as 0 rows.
            return exists(session, *dialect_,
                          "SELECT 1 FROM kv_store WHERE ns = ? AND k = ? AND v = ?",
                          std::string(ns), std::string(key), std::string(expected));
        }
        return affected(session, *dialect_,
                        "UPDATE kv_store SET v = ? WHERE ns = ? AND k = ? AND v = ?",
                        std::string(value), std::string(ns), std::string(key),
                        std::string(expected)) == 1;
    });
}

bool SqlStore::deleteValue(std::string_view ns, std::string_view key) {
    return write("k", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM kv_store WHERE ns = ? AND k = ?",
                        std::string(ns), std::string(key)) > 0;
    });
}

namespace {

/// The keys with `prefix` are those from it up to (not including) the prefix with its last
/// byte raised by one; nullopt when there is no bound above (an empty prefix, or only 0xFF
/// bytes). Keys compare byte by byte in every dialect (SQLite's BINARY, PostgreSQL's "C"
/// collation, MariaDB's utf8mb4_nopad_bin). A range instead of LIKE: no escaping of '%' and
/// '_' in the prefix, and the primary key index serves it.
std::optional<std::string> prefixEnd(std::string_view prefix) {
    std::string to(prefix);
    while (!to.empty() && static_cast<unsigned char>(to.back()) == 0xFF)
        to.pop_back();
    if (to.empty()) return std::nullopt;
    to.back() = static_cast<char>(static_cast<unsigned char>(to.back()) + 1);
    return to;
}

std::pair<std::string, std::string> readPair(RowReader& r) {
    std::string key = r.text();
    return std::make_pair(std::move(key), r.text());
}

} // namespace

std::vector<std::pair<std::string, std::string>> SqlStore::listValues(std::string_view ns,
                                                                      std::string_view prefix) {
    return run("k", [&](Session& session) {
        using Pair = std::pair<std::string, std::string>;
        const std::optional<std::string> to = prefixEnd(prefix);
        if (!to) {
            return query<Pair>(session, *dialect_,
                               "SELECT k, v FROM kv_store WHERE ns = ? AND k >= ? ORDER BY k",
                               readPair, std::string(ns), std::string(prefix));
        }
        return query<Pair>(session, *dialect_,
                           "SELECT k, v FROM kv_store WHERE ns = ? AND k >= ? AND k < ? ORDER BY k",
                           readPair, std::string(ns), std::string(prefix), *to);
    });
}

std::vector<std::pair<std::string, std::string>> SqlStore::listValuesAfter(std::string_view ns,
                                                                           std::string_view prefix,
                                                                           std::string_view after,
                                                                           std::size_t limit) {
    return run("k", [&](Session& session) {
        using Pair = std::pair<std::string, std::string>;
        // Past both the prefix's start and `after`: whichever is greater bounds the page below.
        const std::string from(std::max(prefix, after));
        const bool strictly = after >= prefix && !after.empty();
        // Capped: a page is for a loop that asks again (KeyValuePages says so).
        const auto count = static_cast<Poco::Int64>(std::min<std::size_t>(limit, 100000));
        const std::string low = strictly ? " AND k > ?" : " AND k >= ?";
        const std::optional<std::string> to = prefixEnd(prefix);
        if (!to) {
            return query<Pair>(session, *dialect_,
                               "SELECT k, v FROM kv_store WHERE ns = ?" + low +
                                   " ORDER BY k LIMIT ?",
                               readPair, std::string(ns), from, count);
        }
        return query<Pair>(session, *dialect_,
                           "SELECT k, v FROM kv_store WHERE ns = ?" + low +
                               " AND k < ? ORDER BY k LIMIT ?",
                           readPair, std::string(ns), from, *to, count);
    });
}

} // namespace latchkey::sql
