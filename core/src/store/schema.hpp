#pragma once
// The SpatiaLite store's schema: numbered migrations and the checks made before a file is used.

#include <string>

#include "store/sqlite.hpp"

namespace onegrid::core::detail {

/// PRAGMA application_id of OneGrid databases ('ONEG').
inline constexpr std::int64_t onegrid_application_id = 0x4F4E4547;

/// The newest schema version this build knows.
int latest_schema_version() noexcept;

/// Inspects an existing file without modifying it: throws schema_error when it is not a SQLite
/// database, is corrupt, belongs to another application, or has a newer schema. Returns its
/// schema version (0 for an empty file).
int inspect_database(const std::string& path);

/// Creates the schema in a new database or upgrades an older one to `to_version` (default: the
/// latest), one migration per transaction.
void migrate(Db& db, int from_version, int to_version = 0);

}  // namespace onegrid::core::detail
