#pragma once
// The writer connection's VFS: gathers a commit's WAL writes into few system calls (see the .cpp).

#include <string>

namespace onegrid::core::detail {

/// Registers the shim on first use and returns its name for sqlite3_open_v2().
const char* wal_batch_vfs_name();

/// True when buffered WAL writes of this database could not be written out. The WAL may then
/// lack frames that SQLite believes written, so no write since may be acknowledged.
bool wal_batch_failed(const std::string& db_path);

}  // namespace onegrid::core::detail
