// A per-host cache of values read from the store: sharded, bounded in bytes, each entry kept at
// most a time-to-live after the read that produced it, and safe against a read that races an
// invalidation (docs/architecture.md, "Per-host caches").
#pragma once

#include "core/inline_attempt.hpp"

#include <latchkey/storage/records/types.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace latchkey::core {

/// Monotonic time in microseconds (steady, never the wall clock: a clock set back must not make
/// an entry live longer). Injected so tests can move it.
using MonotonicMicros = std::function<std::int64_t()>;

/// The process's steady clock in microseconds.
inline std::int64_t steadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// How long a cache keeps an entry and how much it may hold (`cache.*`).
struct CacheLimits {
    std::chrono::microseconds ttl{std::chrono::seconds(1)}; ///< Zero: the cache keeps nothing.
    std::size_t maxBytes = std::size_t{16} << 20;           ///< Estimated bytes of all entries.
};

/// What a cache did since it was made.
struct CacheStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;    ///< Lookups that found nothing live (absent or expired).
    std::uint64_t refused = 0;   ///< Reads not kept: an invalidation came while they ran.
    std::uint64_t refreshes = 0; ///< Lookups told to read a live entry again (refresh ahead).
    std::size_t entries = 0;
    std::size_t bytes = 0;
};

/// A map from `Key` to immutable values, split into shards with a lock each so that workers
/// reading different keys do not wait for each other, and least-recently-used eviction within
/// each shard's share of the byte budget.
///
/// The protocol of a read-through: take a `ticket(key)` *before* reading the store, read, then
/// `put()` with that ticket. `put` keeps nothing if any invalidation (erase, eraseTagged, eraseIf,
/// clear) began after the ticket was taken, so a read that overlapped a write on this host never
/// brings the old value back; and the entry's age counts from the ticket, so a value is never
/// served longer than the TTL after the moment the store was read (the bound other hosts' writes
/// are seen within). Invalidate *after* the store's write has committed.
///
/// Refresh ahead: a hot entry would otherwise expire under every worker at once, and each of
/// them read the database at the same moment. So once an entry is three quarters of the TTL old,
/// it is read again once while every lookup keeps getting the entry, which is still within its
/// TTL. With a background runner (the constructor's `background`), getOrRead() hands that read to
/// it and the lookup that noticed gets the entry too: no request waits for it. Without one, or
/// when the runner refuses, one lookup is told the entry is absent and reads it itself; a lookup
/// inside an inline attempt cannot read the database: the first one told is handed to a worker
/// (it throws WouldBlock), and that worker's lookup, finding the entry marked, does the read.
///
/// Entries may carry a tag (a user id): eraseTagged() finds them without knowing their keys (the
/// old key lookup of a user whose key was just reset).
template <class Key, class Value, class Hash = std::hash<Key>>
class ReadCache {
public:
    using Ptr = std::shared_ptr<const Value>;

    /// What put() needs from the moment before the read.
    struct Ticket {
        std::uint64_t epoch;      ///< Of the whole cache (tag and scan invalidations).
        std::uint64_t shardEpoch; ///< Of the key's shard (single-key invalidations).
        std::int64_t readAt;
    };

    /// Runs a refresh later, elsewhere; false when it cannot take one now.
    using Background = std::function<bool(std::function<void()>)>;

    ReadCache(CacheLimits limits, MonotonicMicros now, Background background = {})
        : ttl_(limits.ttl.count()), refreshAfter_(ttl_ / 4 * 3),
          shardBudget_(limits.maxBytes / kShards), now_(std::move(now)),
          background_(std::move(background)) {}

    ReadCache(const ReadCache&) = delete;
    ReadCache& operator=(const ReadCache&) = delete;

    /// False when the TTL is zero: find() never finds and put() keeps nothing.
    bool enabled() const noexcept { return ttl_ > 0; }

    /// The live value for `key`, or null (absent or older than the TTL). With `refreshDue` (and a
    /// background runner), an entry due for its refresh is returned and marked, and
    /// `*refreshDue` set: the caller has the runner read it again.
    Ptr find(const Key& key, bool* refreshDue = nullptr) {
        if (!enabled()) return nullptr;
        Shard& shard = shardOf(key);
        const std::int64_t now = now_();
        std::lock_guard lock(shard.mutex);
        const auto it = shard.map.find(key);
        if (it == shard.map.end()) {
            misses_.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        Entry& entry = it->second;
        const std::int64_t age = now - entry.readAt;
        if (age >= ttl_) {
            removeLocked(shard, it);
            misses_.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        if (age >= refreshAfter_ && entry.refresh != Refresh::Reading) {
            const bool inlineLookup = InlineAttempt::active();
            if (refreshDue && background_) {
                // The caller hands the read to the runner and gets the entry meanwhile.
                entry.refresh = Refresh::Reading;
                *refreshDue = true;
                refreshes_.fetch_add(1, std::memory_order_relaxed);
            } else if (!inlineLookup || entry.refresh == Refresh::None) {
                // This caller reads it again: on a worker now, or (inline) on the worker its
                // request is handed to, whose lookup then finds it Due.
                entry.refresh = inlineLookup ? Refresh::Due : Refresh::Reading;
                refreshes_.fetch_add(inlineLookup ? 0 : 1, std::memory_order_relaxed);
                return nullptr;
            }
        }
        shard.order.splice(shard.order.begin(), shard.order, it->second.position);
        hits_.fetch_add(1, std::memory_order_relaxed);
        return it->second.value;
    }

    /// Taken before reading the store for `key`, for its put().
    Ticket ticket(const Key& key) {
        return Ticket{epoch_.load(), shardOf(key).epoch.load(), now_()};
    }

    /// Keeps `value` for `key` (replacing what is there, unless that was read later) unless an
    /// invalidation began since `ticket` was taken. `bytes` estimates what the entry holds (its
    /// strings, its record).
    void put(const Key& key, Ptr value, std::size_t bytes, const Ticket& ticket,
             std::optional<Id> tag = std::nullopt) {
        if (!enabled() || !value) return;
        bytes += kEntryOverhead;
        if (bytes > shardBudget_) return; // larger than a shard's share: never kept
        Shard& shard = shardOf(key);
        std::lock_guard lock(shard.mutex);
        // A tagged entry is checked and indexed under the tag lock, under which eraseTagged()
        // raises the epoch and collects its keys: either this put sees the raised epoch, or
        // eraseTagged finds the entry.
        std::unique_lock<std::mutex> tags;
        if (tag) tags = std::unique_lock(tagMutex_);
        // Checked under the shard's lock, which every other invalidation takes after raising an
        // epoch (the shard's for one key, the cache's for scans): either it sees the raised
        // epoch here, or it erases what this put leaves.
        if (epoch_.load() != ticket.epoch || shard.epoch.load() != ticket.shardEpoch) {
            refused_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (const auto old = shard.map.find(key); old != shard.map.end()) {
            if (old->second.readAt > ticket.readAt) return; // a later read is already here
            removeLocked(shard, old, tags.owns_lock());
        }
        shard.order.push_front(key);
        typename Map::iterator placed;
        try {
            placed = shard.map
                         .emplace(key, Entry{std::move(value), ticket.readAt, bytes,
                                             shard.order.begin(), tag, Refresh::None})
                         .first;
        } catch (...) {
            shard.order.pop_front();
            throw;
        }
        shard.bytes += bytes;
        if (tag) {
            try {
                tags_.emplace(*tag, key);
            } catch (...) {
                removeLocked(shard, placed, true); // unindexed, eraseTagged could not find it
                throw;
            }
        }
        if (tags.owns_lock()) tags.unlock();
        while (shard.bytes > shardBudget_ && !shard.order.empty()) {
            removeLocked(shard, shard.map.find(shard.order.back()));
        }
    }

    /// Forgets what is kept for `key` if it was read no later than `ticket` (the read for
    /// `ticket` found nothing: an entry it was refreshing is gone from the store).
    void drop(const Key& key, const Ticket& ticket) {
        if (!enabled()) return;
        Shard& shard = shardOf(key);
        std::lock_guard lock(shard.mutex);
        const auto it = shard.map.find(key);
        if (it != shard.map.end() && it->second.readAt <= ticket.readAt) removeLocked(shard, it);
    }

    /// The live value for `key`, or else what `read(key)` returns (a Ptr; null when there is
    /// nothing to keep), kept by the protocol above. `weigh(key, value)` estimates an entry's
    /// bytes, `tagOf(value)` gives its tag (std::optional<Id>). With a background runner, copies of
    /// the three may run later on its thread (a refresh): they must not refer to the caller's
    /// stack.
    template <class Read, class Weigh, class TagOf>
    Ptr getOrRead(const Key& key, Read read, Weigh weigh, TagOf tagOf) {
        bool refreshDue = false;
        if (auto hit = find(key, &refreshDue)) {
            if (refreshDue && !background_([this, key, read, weigh, tagOf] {
                    readAndKeep(key, read, weigh, tagOf);
                })) {
                unmark(key); // refused: a later lookup tries again
            }
            return hit;
        }
        return readAndKeep(key, read, weigh, tagOf);
    }

    /// getOrRead() of entries without a tag.
    template <class Read, class Weigh>
    Ptr getOrRead(const Key& key, Read read, Weigh weigh) {
        return getOrRead(key, std::move(read), std::move(weigh),
                         [](const Value&) { return std::optional<Id>(); });
    }

    /// Forgets `key`.
    void erase(const Key& key) {
        Shard& shard = shardOf(key);
        shard.epoch.fetch_add(1);
        std::lock_guard lock(shard.mutex);
        if (const auto it = shard.map.find(key); it != shard.map.end()) removeLocked(shard, it);
    }

    /// Forgets every entry put with `tag`.
    void eraseTagged(Id tag) {
        std::vector<Key> keys;
        {
            std::lock_guard tags(tagMutex_);
            epoch_.fetch_add(1);
            const auto [begin, end] = tags_.equal_range(tag);
            for (auto it = begin; it != end; ++it)
                keys.push_back(it->second);
        }
        for (const Key& key : keys) {
            Shard& shard = shardOf(key);
            std::lock_guard lock(shard.mutex);
            const auto it = shard.map.find(key);
            if (it != shard.map.end() && it->second.tag == tag) removeLocked(shard, it);
        }
    }

    /// Forgets every entry for which `match(key, value)` is true (a scan: for rare writes that
    /// touch many entries, such as a deleted instance).
    template <class Match>
    void eraseIf(Match match) {
        epoch_.fetch_add(1);
        for (Shard& shard : shards_) {
            std::lock_guard lock(shard.mutex);
            for (auto it = shard.map.begin(); it != shard.map.end();) {
                auto next = std::next(it);
                if (match(it->first, *it->second.value)) removeLocked(shard, it);
                it = next;
            }
        }
    }

    /// Forgets everything.
    void clear() {
        eraseIf([](const Key&, const Value&) { return true; });
    }

    /// Counters and sizes now.
    CacheStats stats() const {
        CacheStats out{hits_.load(), misses_.load(), refused_.load(), refreshes_.load(), 0, 0};
        for (const Shard& shard : shards_) {
            std::lock_guard lock(shard.mutex);
            out.entries += shard.map.size();
            out.bytes += shard.bytes;
        }
        return out;
    }

private:
    /// The read-through itself: ticket, read, then keep (or drop what was kept).
    /// A refresh that failed, or whose put was refused, leaves the old entry unmarked, so that a
    /// later lookup reads it again.
    template <class Read, class Weigh, class TagOf>
    Ptr readAndKeep(const Key& key, const Read& read, const Weigh& weigh, const TagOf& tagOf) {
        const Ticket before = ticket(key);
        Ptr fresh;
        try {
            fresh = read(key);
        } catch (...) {
            unmark(key);
            throw;
        }
        if (!fresh) {
            drop(key, before);
            return nullptr;
        }
        put(key, fresh, weigh(key, *fresh), before, tagOf(*fresh));
        unmark(key);
        return fresh;
    }

    /// Takes back the mark of a refresh that will not happen.
    void unmark(const Key& key) {
        Shard& shard = shardOf(key);
        std::lock_guard lock(shard.mutex);
        const auto it = shard.map.find(key);
        if (it != shard.map.end() && it->second.refresh == Refresh::Reading)
            it->second.refresh = Refresh::None;
    }

    static constexpr std::size_t kShards = 16;
    /// Map node, list node and bookkeeping of one entry, roughly.
    static constexpr std::size_t kEntryOverhead = 160;

    enum class Refresh : std::uint8_t {
        None,   ///< Young enough.
        Due,    ///< Old enough; an inline lookup was sent to a worker to read it again.
        Reading ///< A lookup was told to read it again; the others keep the entry meanwhile.
    };

    struct Entry {
        Ptr value;
        std::int64_t readAt = 0;
        std::size_t bytes = 0;
        typename std::list<Key>::iterator position;
        std::optional<Id> tag;
        Refresh refresh = Refresh::None;
    };
    using Map = std::unordered_map<Key, Entry, Hash>;

    struct Shard {
        mutable std::mutex mutex;
        Map map;
        std::list<Key> order; ///< Most recently used first.
        std::size_t bytes = 0;
        std::atomic<std::uint64_t> epoch{0}; ///< Raised by erase() of a key of this shard.
    };

    Shard& shardOf(const Key& key) { return shards_[Hash{}(key) % kShards]; }

    /// Removes an entry of `shard`, whose lock the caller holds (and the tag lock when
    /// `tagsHeld`).
    void removeLocked(Shard& shard, typename Map::iterator it, bool tagsHeld = false) {
        if (it->second.tag) {
            std::unique_lock<std::mutex> tags;
            if (!tagsHeld) tags = std::unique_lock(tagMutex_);
            const auto [begin, end] = tags_.equal_range(*it->second.tag);
            for (auto t = begin; t != end; ++t) {
                if (t->second == it->first) {
                    tags_.erase(t);
                    break;
                }
            }
        }
        shard.bytes -= it->second.bytes;
        shard.order.erase(it->second.position);
        shard.map.erase(it);
    }

    const std::int64_t ttl_;
    const std::int64_t refreshAfter_;
    const std::size_t shardBudget_;
    const MonotonicMicros now_;
    const Background background_;
    std::array<Shard, kShards> shards_;
    std::atomic<std::uint64_t> epoch_{0};
    std::mutex tagMutex_; ///< Taken inside a shard's lock, never the other way round.
    std::unordered_multimap<Id, Key> tags_;
    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> misses_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::uint64_t> refreshes_{0};
};

/// Hash of an (instance id, Second) pair: the keys of per-instance caches.
template <class Second>
struct IdPairHash {
    std::size_t operator()(const std::pair<Id, Second>& key) const noexcept {
        return std::hash<Second>{}(key.second) ^
               (std::hash<Id>{}(key.first) * 0x9e3779b97f4a7c15ULL);
    }
};

} // namespace latchkey::core
