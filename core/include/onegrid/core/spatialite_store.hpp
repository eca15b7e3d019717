#pragma once
/// @file
/// The embedded store: one SpatiaLite (SQLite) file in WAL mode plus a media directory.
///
/// Durability: every write commits with a full sync before the caller gets its answer, so an
/// acknowledged write survives a crash of the process and a power cut. One writer thread executes
/// all writes; writes that arrive while it commits are batched into the next transaction (group
/// commit), each in its own savepoint so that one failing write does not affect the others.
/// Readers use their own connections and never block the writer.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "onegrid/core/store.hpp"

namespace onegrid::core {

struct SpatialiteOptions {
    std::filesystem::path path;        ///< the database file
    std::filesystem::path media_dir;   ///< default: `<path>.media` next to the database
    bool create = true;                ///< create a new database when the file does not exist
    bool read_only = false;            ///< open for reading only (tools, backups)
    std::size_t max_batch = 512;       ///< most writes in one group commit
    /// Testing aid: limits the database size in pages, to exercise the disk-full path.
    std::int64_t max_page_count = 0;
    /// Disk space to reserve for the WAL at open, in bytes (0: none). The WAL file is extended
    /// with zeros to this size and synced before the first write, so that the syncs of the first
    /// checkpoint cycle overwrite allocated blocks instead of growing the file: a sync that grows
    /// a file also writes its inode, a third disk round trip besides the data and the cache flush.
    /// A store under load wants `busy_wal_reserve` (the WAL's size in a checkpoint cycle, with
    /// a margin; writing it takes ~0.3 s); short-lived tools need none. Capped at 384 MB (above
    /// that, SQLite truncates the WAL when it starts over). Existing WAL content is never
    /// overwritten, and a reservation the disk cannot hold is given up without an error.
    std::int64_t wal_reserve_bytes = 0;
};

/// The WAL reserve for a store under sustained load (`onegrid serve` uses it): 320 MB.
inline constexpr std::int64_t busy_wal_reserve = 320LL << 20;

/// The schema version this build writes. Older files are upgraded in place at open; newer ones
/// are refused.
[[nodiscard]] int spatialite_schema_version() noexcept;

/// Opens (or creates) a store. Refuses, without modifying it, a file that is not a OneGrid
/// database, has a newer schema, or is corrupt.
/// @throws schema_error for refused files, store_error for I/O problems.
[[nodiscard]] std::unique_ptr<Store> open_spatialite_store(const SpatialiteOptions& options);

/// Online backup of a database file to `target` (written to a temporary name, then renamed).
void backup_spatialite(const std::filesystem::path& db, const std::filesystem::path& target);

}  // namespace onegrid::core
