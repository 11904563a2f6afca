// ABI: the storage facet that copies the whole store to a file while it serves (since SDK 2.4).
#pragma once

#include <cstdint>
#include <string>

namespace latchkey {

/// A consistent copy of the store in one file, made while hosts go on reading and writing it
/// (`latchkey backup`). Offered by drivers whose database is a file (sqlite); a server database
/// has its own tools (pg_dump, mariadb-dump), and a driver without this facet serves everything
/// else as before. Only the host asks for it: plugins cannot declare it. Thread-safe.
class StorageBackup {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.backup";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~StorageBackup() = default;

    /// Writes a copy of the store as it was at one moment to `path`, a new file (an existing
    /// one is refused, never overwritten) readable by the owner only, which appears only once
    /// complete. On failure nothing is left at `path`, and std::runtime_error names the
    /// problem.
    virtual void backupTo(const std::string& path) = 0;
};

} // namespace latchkey
