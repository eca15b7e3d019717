#include "store/wal_batch_vfs.hpp"

#include "store/sqlite_setup.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

// A VFS shim for the writer connection that gathers the WAL writes of a commit in memory and
// hands them to the OS in one write.
//
// SQLite writes every WAL frame as two writes (a 24-byte frame header, then the page), and a
// commit of a batch of intakes is dozens of frames. On virtual machines a system call costs
// microseconds, so the writes alone were the largest part of an intake. The shim keeps a run of
// contiguous WAL writes in a buffer and writes it out:
//   - before any other operation on the WAL file (read, sync, truncate, size, lock, close), and
//   - when the connection publishes the new WAL index header (xShmBarrier / xShmLock on the
//     database file): SQLite writes all frames of a commit first, then updates the shared index
//     that tells other connections the frames exist. Flushing at the barrier means no other
//     connection can learn of a frame before its bytes are in the OS.
// Nothing else changes: durability still comes from syncing the WAL file, which flushes first.

namespace onegrid::core::detail {
namespace {

constexpr std::size_t max_buffer = 8u << 20;

struct BatchFile {
    sqlite3_file base;  // must be first: SQLite sees this
    sqlite3_file* real;  // the wrapped file, allocated right after this struct
    bool is_wal;
    std::string name;  // for WAL files: the database path this WAL belongs to
    sqlite3_int64 start = 0;
    std::vector<char> buffer;
    bool failed = false;  // a buffered write could not be written out: the WAL is not trustworthy
};

std::mutex g_registry_mutex;
std::unordered_map<std::string, BatchFile*>& registry() {
    static std::unordered_map<std::string, BatchFile*> r;
    return r;
}

sqlite3_vfs* real_vfs() { return sqlite3_vfs_find(nullptr); }

// The unix VFS writes at most 128 KB per call (it was made for page-sized writes).
constexpr std::size_t max_write = 64u << 10;

int flush(BatchFile* f) {
    if (f->failed) return SQLITE_IOERR_WRITE;
    if (f->buffer.empty()) return SQLITE_OK;
    int rc = SQLITE_OK;
    for (std::size_t done = 0; done < f->buffer.size() && rc == SQLITE_OK; done += max_write) {
        const std::size_t n = std::min(max_write, f->buffer.size() - done);
        rc = f->real->pMethods->xWrite(f->real, f->buffer.data() + done, static_cast<int>(n),
                                       f->start + static_cast<sqlite3_int64>(done));
    }
    f->buffer.clear();
    if (rc != SQLITE_OK) f->failed = true;
    return rc;
}

int flush_wal_of(const std::string& db_path) {
    std::lock_guard lock(g_registry_mutex);
    auto it = registry().find(db_path);
    return it != registry().end() ? flush(it->second) : SQLITE_OK;
}

BatchFile* self(sqlite3_file* f) { return reinterpret_cast<BatchFile*>(f); }

int x_close(sqlite3_file* f) {
    BatchFile* b = self(f);
    int rc = flush(b);
    if (b->is_wal) {
        std::lock_guard lock(g_registry_mutex);
        auto it = registry().find(b->name);
        if (it != registry().end() && it->second == b) registry().erase(it);
    }
    const int rc2 = b->real->pMethods != nullptr ? b->real->pMethods->xClose(b->real) : SQLITE_OK;
    b->buffer.~vector();
    b->name.~basic_string();
    return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* f, void* out, int n, sqlite3_int64 off) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xRead(self(f)->real, out, n, off);
}

int x_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 off) {
    BatchFile* b = self(f);
    if (!b->is_wal) return b->real->pMethods->xWrite(b->real, data, n, off);
    if (!b->buffer.empty() && off != b->start + static_cast<sqlite3_int64>(b->buffer.size())) {
        const int rc = flush(b);
        if (rc != SQLITE_OK) return rc;
    }
    if (b->buffer.empty()) b->start = off;
    const auto* p = static_cast<const char*>(data);
    b->buffer.insert(b->buffer.end(), p, p + n);
    if (b->buffer.size() >= max_buffer) return flush(b);
    return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xTruncate(self(f)->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xSync(self(f)->real, flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xFileSize(self(f)->real, size);
}

int x_lock(sqlite3_file* f, int level) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xLock(self(f)->real, level);
}

int x_unlock(sqlite3_file* f, int level) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xUnlock(self(f)->real, level);
}

int x_check_reserved_lock(sqlite3_file* f, int* out) {
    return self(f)->real->pMethods->xCheckReservedLock(self(f)->real, out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xFileControl(self(f)->real, op, arg);
}

int x_sector_size(sqlite3_file* f) { return self(f)->real->pMethods->xSectorSize(self(f)->real); }

int x_device_characteristics(sqlite3_file* f) {
    return self(f)->real->pMethods->xDeviceCharacteristics(self(f)->real);
}

// Shared memory belongs to the database file; publishing the WAL index is the moment other
// connections may look for new frames, so the WAL buffer goes out first.
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    return self(f)->real->pMethods->xShmMap(self(f)->real, page, size, extend, out);
}

int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    const int rc = flush_wal_of(self(f)->name);
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xShmLock(self(f)->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* f) {
    // A failure here cannot be returned; it marks the WAL failed, which wal_batch_failed()
    // reports before any caller is told that its write is durable.
    (void)flush_wal_of(self(f)->name);
    self(f)->real->pMethods->xShmBarrier(self(f)->real);
}

int x_shm_unmap(sqlite3_file* f, int delete_flag) {
    (void)flush_wal_of(self(f)->name);
    return self(f)->real->pMethods->xShmUnmap(self(f)->real, delete_flag);
}

int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
    const int rc = flush(self(f));
    if (rc != SQLITE_OK) return rc;
    return self(f)->real->pMethods->xFetch(self(f)->real, off, n, out);
}

int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
    return self(f)->real->pMethods->xUnfetch(self(f)->real, off, p);
}

const sqlite3_io_methods methods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
    auto* b = reinterpret_cast<BatchFile*>(file);
    b->base.pMethods = nullptr;
    b->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(b) + sizeof(BatchFile));
    sqlite3_vfs* under = static_cast<sqlite3_vfs*>(vfs->pAppData);
    const int rc = under->xOpen(under, name, b->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    new (&b->name) std::string();
    new (&b->buffer) std::vector<char>();
    b->start = 0;
    b->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    if (name != nullptr) {
        b->name = name;
        if (b->is_wal && b->name.size() > 4) {
            b->name.resize(b->name.size() - 4);  // "<db>-wal" → "<db>"
            std::lock_guard lock(g_registry_mutex);
            registry()[b->name] = b;
        }
    }
    b->base.pMethods = &methods;
    return SQLITE_OK;
}

}  // namespace

bool wal_batch_failed(const std::string& db_path) {
    std::lock_guard lock(g_registry_mutex);
    auto it = registry().find(db_path);
    return it != registry().end() && it->second->failed;
}

const char* wal_batch_vfs_name() {
    static std::once_flag once;
    static sqlite3_vfs vfs;
    std::call_once(once, [] {
        configure_sqlite();  // before the VFS lookup initialises SQLite
        sqlite3_vfs* under = real_vfs();
        vfs = *under;
        vfs.zName = "onegrid-wal-batch";
        vfs.szOsFile = static_cast<int>(sizeof(BatchFile)) + under->szOsFile;
        vfs.pAppData = under;
        vfs.xOpen = x_open;
        vfs.pNext = nullptr;
        sqlite3_vfs_register(&vfs, 0);
    });
    return vfs.zName;
}

}  // namespace onegrid::core::detail
