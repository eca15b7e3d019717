#pragma once
// Process-wide SQLite settings for the store (see the .cpp).

namespace onegrid::core::detail {

/// Applies the store's process-wide SQLite settings: no memory statistics, and SQLite's page
/// cache with a cheap end of transaction. They must be set before SQLite initialises (the first
/// open or VFS lookup); later calls do nothing. Returns false when SQLite was already initialised
/// by someone else, in which case SQLite's defaults stay in use (correct, only slower).
bool configure_sqlite();

}  // namespace onegrid::core::detail
