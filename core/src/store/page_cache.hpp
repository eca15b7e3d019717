#pragma once
// SQLite's page cache with a cheap end of transaction (see the .cpp).

namespace onegrid::core::detail {

/// Installs the page cache for every SQLite connection of the process. It must run before SQLite
/// initialises (the first open or VFS lookup); later calls do nothing. Returns false when SQLite
/// was already initialised by someone else, in which case SQLite's own cache stays in use.
bool install_page_cache();

}  // namespace onegrid::core::detail
