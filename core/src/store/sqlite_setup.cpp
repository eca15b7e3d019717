#include "store/sqlite_setup.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <vector>

// Two process-wide settings, both for the store writer's CPU per write:
//
// Memory statistics off. SQLite counts every allocation under a global mutex unless told not to;
// nothing in OneGrid reads the counts (durable intake with 32 callers: ~7% more per second).
//
// SQLite's default page cache, wrapped so that the end of a write transaction stays cheap.
//
// At the end of every transaction the pager drops cached pages past the end of the database
// (xTruncate). The default cache decides how to look for them from the largest page number it has
// ever held since the last truncation: when that is far past the limit it scans its whole hash
// table. When B-tree balancing reorders new pages, it parks one page for a moment under the
// number of the lock-byte page (the page holding byte 1 GiB of the file), which no real page ever
// has. So after nearly every write transaction that split a page, the cache believed a page that
// high might exist and scanned tens of thousands of hash slots: about a tenth of the store
// writer's CPU during intake.
//
// The wrapper keeps its own upper bound of the page numbers the cache can hold: the largest
// number fetched with creation, and the numbers pages were renumbered to and not yet renumbered
// away from. A truncation whose limit is above that bound has nothing to drop and is skipped;
// any other goes to the default cache unchanged. The bound only ever over-estimates (a page the
// cache evicts on its own keeps its number in the bound), which costs at most one scan.

namespace onegrid::core::detail {
namespace {

sqlite3_pcache_methods2 g_base{};

struct Cache {
    sqlite3_pcache* base;
    unsigned max_fetched = 0;       // the largest page number fetched with creation
    std::vector<unsigned> renamed;  // numbers pages were renumbered to, above max_fetched

    unsigned bound() const {
        unsigned b = max_fetched;
        for (unsigned k : renamed) b = std::max(b, k);
        return b;
    }
};

Cache* self(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int x_init(void* arg) { return g_base.xInit != nullptr ? g_base.xInit(arg) : SQLITE_OK; }

void x_shutdown(void* arg) {
    if (g_base.xShutdown != nullptr) g_base.xShutdown(arg);
}

sqlite3_pcache* x_create(int page_size, int extra, int purgeable) {
    sqlite3_pcache* base = g_base.xCreate(page_size, extra, purgeable);
    if (base == nullptr) return nullptr;
    auto* c = new (std::nothrow) Cache{base, 0, {}};
    if (c == nullptr) {
        g_base.xDestroy(base);
        return nullptr;
    }
    return reinterpret_cast<sqlite3_pcache*>(c);
}

void x_cachesize(sqlite3_pcache* p, int n) { g_base.xCachesize(self(p)->base, n); }

int x_pagecount(sqlite3_pcache* p) { return g_base.xPagecount(self(p)->base); }

sqlite3_pcache_page* x_fetch(sqlite3_pcache* p, unsigned key, int create) {
    Cache* c = self(p);
    sqlite3_pcache_page* page = g_base.xFetch(c->base, key, create);
    if (page != nullptr && key > c->max_fetched) c->max_fetched = key;
    return page;
}

void x_unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
    g_base.xUnpin(self(p)->base, page, discard);
}

void x_rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned from, unsigned to) {
    Cache* c = self(p);
    g_base.xRekey(c->base, page, from, to);
    std::erase(c->renamed, from);
    if (to > c->max_fetched) c->renamed.push_back(to);
}

void x_truncate(sqlite3_pcache* p, unsigned limit) {
    Cache* c = self(p);
    if (c->bound() < limit) return;  // no page at or past the limit: nothing to drop
    g_base.xTruncate(c->base, limit);
    c->max_fetched = std::min(c->max_fetched, limit > 0 ? limit - 1 : 0u);
    std::erase_if(c->renamed, [limit](unsigned k) { return k >= limit; });
}

void x_destroy(sqlite3_pcache* p) {
    Cache* c = self(p);
    g_base.xDestroy(c->base);
    delete c;
}

void x_shrink(sqlite3_pcache* p) { g_base.xShrink(self(p)->base); }

}  // namespace

bool configure_sqlite() {
    static std::once_flag once;
    static bool installed = false;
    std::call_once(once, [] {
        if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) return;  // already initialised
        if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_base) != SQLITE_OK || g_base.xCreate == nullptr) return;
        static const sqlite3_pcache_methods2 wrapped = {
            1,          g_base.pArg, x_init,     x_shutdown, x_create, x_cachesize, x_pagecount,
            x_fetch,    x_unpin,     x_rekey,    x_truncate, x_destroy, x_shrink,
        };
        installed = sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapped) == SQLITE_OK;
    });
    return installed;
}

}  // namespace onegrid::core::detail
