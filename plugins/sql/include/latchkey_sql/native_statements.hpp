// Prepared statements kept per connection, through the database's own client library: Poco::Data
// parses (SQLite) or prepares and describes (PostgreSQL) a statement again on every execution,
// which made parsing a top entry of the uncached request's profile and cost PostgreSQL extra
// round trips per query.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace latchkey::sql {

/// A value bound to one placeholder. A text value is viewed, not copied: it must outlive the
/// NativeStatements::run() it is passed to.
struct Param {
    enum class Kind { Null, Integer, Text };
    Kind kind = Kind::Null;
    std::int64_t integer = 0;
    std::string_view text;
};

/// One result cell: null, an integer (SQLite hands integers over as such) or text (PostgreSQL's
/// text format; RowReader converts).
struct Cell {
    enum class Kind { Null, Integer, Text };
    Kind kind = Kind::Null;
    std::int64_t integer = 0;
    std::string text;
};

/// What one execution returned: rows of `columns` cells, row after row, and for a write the rows
/// it changed.
struct NativeResult {
    std::size_t columns = 0;
    std::vector<Cell> cells;
    std::size_t changed = 0;

    /// Rows returned.
    std::size_t rows() const { return columns ? cells.size() / columns : 0; }
};

/// The prepared statements of one connection, each prepared the first time its text is run and
/// reused after that (at most kMaxPrepared, the least recently used given up first). Used by one
/// thread at a time, as the connection is. Errors are thrown as the Poco connector's exceptions
/// (the same types and messages its own statements throw), so Dialect's error vocabulary applies
/// to both paths alike.
class NativeStatements {
public:
    /// Statements kept per connection at most.
    static constexpr std::size_t kMaxPrepared = 128;

    virtual ~NativeStatements() = default;

    /// Runs `sql` (with `?` placeholders) with `params` bound in order; the connection's open
    /// transaction, if any, applies.
    virtual NativeResult run(const std::string& sql, std::span<const Param> params) = 0;
};

/// SQL text → a prepared statement's handle, least recently used first out: what each
/// NativeStatements keeps. Not thread-safe (a connection is used by one thread at a time).
template <class Handle>
class PreparedCache {
public:
    explicit PreparedCache(std::size_t capacity) : capacity_(capacity) {}

    /// The handle of `sql`, now the most recently used; nullptr if not kept.
    Handle* find(const std::string& sql) {
        const auto it = index_.find(sql);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }

    /// Keeps `handle` for `sql` (not kept yet) as the most recently used; returns the handle
    /// given up to stay within the capacity, for the caller to release.
    std::optional<Handle> add(const std::string& sql, Handle handle) {
        order_.emplace_front(sql, std::move(handle));
        index_.emplace(order_.front().first, order_.begin());
        if (order_.size() <= capacity_) return std::nullopt;
        Handle evicted = std::move(order_.back().second);
        index_.erase(order_.back().first);
        order_.pop_back();
        return evicted;
    }

    /// Forgets `sql`'s handle and returns it (nullopt if not kept).
    std::optional<Handle> remove(const std::string& sql) {
        const auto it = index_.find(sql);
        if (it == index_.end()) return std::nullopt;
        Handle handle = std::move(it->second->second);
        const auto node = it->second;
        index_.erase(it); // before the node: the index's key views the node's text
        order_.erase(node);
        return handle;
    }

    /// Every handle kept, for the caller to release before the connection closes.
    template <class Release>
    void releaseAll(Release release) {
        for (auto& [sql, handle] : order_)
            release(handle);
        order_.clear();
        index_.clear();
    }

    std::size_t size() const { return order_.size(); }

private:
    using Entry = std::pair<std::string, Handle>;
    std::size_t capacity_;
    std::list<Entry> order_; ///< Most recently used first.
    std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;
};

} // namespace latchkey::sql
