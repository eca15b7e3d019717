#pragma once
/// @file
/// The embedded store: one SpatiaLite (SQLite) file in WAL mode plus a media directory.
///
/// Durability: every write commits with a full sync before the caller gets its answer, so an
/// acknowledged write survives a crash of the process and a power cut. One writer thread executes
/// all writes; writes that arrive while it commits are batched into the next transaction (group
/// commit), each in its own savepoint so that one failing write does not affect the others.
/// Readers use their own connections and never block the writer.

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
};

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
