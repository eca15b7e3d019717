#include "onegrid/core/spatialite_store.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>
#include <vector>

#include "onegrid/core/crypto.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/wal_batch_vfs.hpp"

namespace onegrid::core {

using detail::Db;
using detail::Stmt;
using detail::borrowed;

namespace {

namespace fs = std::filesystem;

// ---- value helpers -----------------------------------------------------------------------------

std::string join(const std::vector<std::string>& items, char sep) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == sep) {
            out.emplace_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

// Business assignments live on the incident row as "layer\tcode\tversion" lines.
std::string encode_business(const std::vector<GridAssignment>& b) {
    std::string out;
    for (const auto& a : b) out += a.layer + '\t' + a.code + '\t' + std::to_string(a.version) + '\n';
    return out;
}

std::vector<GridAssignment> decode_business(std::string_view s) {
    std::vector<GridAssignment> out;
    for (const auto& line : split(s, '\n')) {
        if (line.empty()) continue;
        const auto parts = split(line, '\t');
        if (parts.size() != 3) continue;
        out.push_back({parts[0], parts[1], std::stoi(parts[2])});
    }
    return out;
}

// ---- geometry as WKB (GEOS) --------------------------------------------------------------------

struct WkbCodec {
    spatial::GeosContext ctx;
    GEOSWKBWriter* writer = GEOSWKBWriter_create_r(ctx.handle());
    GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx.handle());
    ~WkbCodec() {
        GEOSWKBWriter_destroy_r(ctx.handle(), writer);
        GEOSWKBReader_destroy_r(ctx.handle(), reader);
    }
    std::string encode(const spatial::MultiPolygon& mp) {
        auto g = spatial::to_geos(ctx, mp);
        std::size_t size = 0;
        unsigned char* buf = GEOSWKBWriter_write_r(ctx.handle(), writer, g.get(), &size);
        if (buf == nullptr) throw store_error("cannot encode a geometry as WKB");
        std::string out(reinterpret_cast<char*>(buf), size);
        GEOSFree_r(ctx.handle(), buf);
        return out;
    }
    spatial::MultiPolygon decode(const void* data, std::size_t size) {
        GEOSGeometry* g = GEOSWKBReader_read_r(ctx.handle(), reader, static_cast<const unsigned char*>(data), size);
        auto owned = spatial::geos_owned(ctx, g, "a geometry from WKB");
        return spatial::from_geos(ctx, owned.get());
    }
};

WkbCodec& wkb() {
    thread_local WkbCodec codec;
    return codec;
}

// ---- media files -------------------------------------------------------------------------------

void fsync_path(const fs::path& p, int flags) {
    const int fd = ::open(p.c_str(), flags);
    if (fd < 0) throw store_error("cannot open '" + p.string() + "' to sync it: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw store_error("cannot sync '" + p.string() + "': " + std::strerror(errno));
}

void write_file_durably(const fs::path& target, std::span<const std::byte> bytes) {
    const fs::path tmp = target.string() + ".tmp" + std::to_string(::getpid()) + "_" +
                         std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw store_error("cannot write media file '" + tmp.string() + "': " + std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw store_error("cannot write media file '" + target.string() + "': " + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw store_error("cannot write media file '" + target.string() + "': " + std::strerror(err));
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw store_error("cannot write media file '" + target.string() + "': " + std::strerror(err));
    }
    fsync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
}

// SpatiaLite's internal BLOB for a point (the format its functions and GIS clients read):
// start 0x00, little-endian mark 0x01, SRID, MBR, 0x7C, class POINT (1), x, y, end 0xFE.
std::array<unsigned char, 60> spatialite_point(double x, double y, std::int32_t srid) {
    std::array<unsigned char, 60> b{};
    auto put = [&](std::size_t at, const auto& v) { std::memcpy(b.data() + at, &v, sizeof v); };
    static_assert(std::endian::native == std::endian::little);
    b[0] = 0x00;
    b[1] = 0x01;
    put(2, srid);
    put(6, x);
    put(14, y);
    put(22, x);
    put(30, y);
    b[38] = 0x7C;
    put(39, std::int32_t{1});
    put(43, x);
    put(51, y);
    b[59] = 0xFE;
    return b;
}

// ---- SQL building ------------------------------------------------------------------------------

using Param = std::variant<std::int64_t, double, std::string>;

void bind_all(Stmt& s, const std::vector<Param>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        std::visit([&](const auto& v) { s.bind(static_cast<int>(i + 1), v); }, params[i]);
    }
}

const char* const incident_columns =
    "id, request_id, source, category, description, address, lon, lat, orig_x, orig_y, orig_crs, grid, "
    "grid_version, community, town, outside, distance_m, department, sub_unit, status, due_at, warned_at, "
    "escalation_level, next_check_at, self_handled, duplicate_of, rating, reporter_name, reporter_phone, "
    "reporter_id, reported_at, updated_at, closed_at, media, business, warn_at";
const std::string select_incident_by_id = std::string("SELECT ") + incident_columns + " FROM incidents WHERE id = ?";
const std::string select_incident_by_request_id =
    std::string("SELECT ") + incident_columns + " FROM incidents WHERE request_id = ?";

Incident read_incident(const Stmt& s) {
    Incident i;
    i.id = s.int64(0);
    i.request_id = s.text(1);
    i.source = parse_source(s.text_view(2)).value_or(Source::grid_worker);
    i.category = s.text(3);
    i.description = s.text(4);
    i.address = s.text(5);
    i.location = {s.real(6), s.real(7)};
    i.original = {s.real(8), s.real(9)};
    i.original_crs = s.text(10);
    i.grid = s.text(11);
    i.grid_version = static_cast<int>(s.int64(12));
    i.community = s.text(13);
    i.town = s.text(14);
    i.outside = s.int64(15) != 0;
    i.distance_m = s.real(16);
    i.department = s.text(17);
    i.sub_unit = s.text(18);
    i.status = parse_status(s.text_view(19)).value_or(Status::reported);
    i.due_at = s.opt_int64(20);
    i.warned_at = s.opt_int64(21);
    i.escalation_level = static_cast<int>(s.int64(22));
    i.next_check_at = s.opt_int64(23);
    i.self_handled = s.int64(24) != 0;
    i.duplicate_of = s.opt_int64(25);
    if (!s.is_null(26)) i.rating = parse_rating(s.text_view(26));
    i.reporter.name = s.text(27);
    i.reporter.phone = s.text(28);
    i.reporter.id = s.text(29);
    i.reported_at = s.int64(30);
    i.updated_at = s.int64(31);
    i.closed_at = s.opt_int64(32);
    i.media = split(s.text_view(33), ',');
    i.business = decode_business(s.text_view(34));
    i.warn_at = s.opt_int64(35);
    return i;
}

const char* const event_columns = "id, incident, seq, at, actor, role, action, from_status, to_status, note, media, data";

Event read_event(const Stmt& s) {
    Event e;
    e.id = s.int64(0);
    e.incident = s.int64(1);
    e.seq = static_cast<int>(s.int64(2));
    e.at = s.int64(3);
    e.actor = s.text(4);
    e.role = parse_role(s.text_view(5)).value_or(Role::system);
    e.action = s.text(6);
    if (!s.is_null(7)) e.from = parse_status(s.text_view(7));
    if (!s.is_null(8)) e.to = parse_status(s.text_view(8));
    e.note = s.text(9);
    e.media = split(s.text_view(10), ',');
    e.data = s.text(11);
    return e;
}

// WHERE clause and parameters of an incident query.
std::string where_of(const IncidentQuery& q, std::vector<Param>& params) {
    std::vector<std::string> clauses;
    if (q.bbox) {
        // The R*Tree stores float bounds rounded outwards; the exact test follows.
        clauses.push_back(
            "id IN (SELECT pkid FROM idx_incidents_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?) "
            "AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?");
        params.insert(params.end(), {q.bbox->maxx, q.bbox->minx, q.bbox->maxy, q.bbox->miny, q.bbox->minx,
                                     q.bbox->maxx, q.bbox->miny, q.bbox->maxy});
    }
    if (!q.statuses.empty()) {
        std::string in = "status IN (";
        bool first = true;
        for (Status st : q.statuses) {
            in += first ? "?" : ",?";
            first = false;
            params.emplace_back(std::string(to_string(st)));
        }
        clauses.push_back(in + ")");
    }
    if (!q.categories.empty()) {
        std::string in = "category IN (";
        bool first = true;
        for (const auto& c : q.categories) {
            in += first ? "?" : ",?";
            first = false;
            params.emplace_back(c);
        }
        clauses.push_back(in + ")");
    }
    auto eq = [&](const char* col, const std::string& v) {
        if (v.empty()) return;
        clauses.push_back(std::string(col) + " = ?");
        params.emplace_back(v);
    };
    eq("grid", q.grid);
    eq("community", q.community);
    eq("town", q.town);
    eq("department", q.department);
    eq("reporter_id", q.reporter);
    if (q.source) {
        clauses.push_back("source = ?");
        params.emplace_back(std::string(to_string(*q.source)));
    }
    if (q.outside) {
        clauses.push_back("outside = ?");
        params.emplace_back(std::int64_t{*q.outside ? 1 : 0});
    }
    if (q.open_only) clauses.emplace_back("status NOT IN ('voided','closed','rated')");
    if (q.reported_from) {
        clauses.push_back("reported_at >= ?");
        params.emplace_back(*q.reported_from);
    }
    if (q.reported_to) {
        clauses.push_back("reported_at < ?");
        params.emplace_back(*q.reported_to);
    }
    if (q.updated_since) {
        clauses.push_back("updated_at >= ?");
        params.emplace_back(*q.updated_since);
    }
    if (!q.ids.empty()) {
        std::string in = "id IN (";
        for (std::size_t i = 0; i < q.ids.size(); ++i) {
            in += i ? ",?" : "?";
            params.emplace_back(static_cast<std::int64_t>(q.ids[i]));
        }
        clauses.push_back(in + ")");
    }
    if (clauses.empty()) return "";
    std::string out = " WHERE ";
    for (std::size_t i = 0; i < clauses.size(); ++i) out += (i ? " AND " : "") + clauses[i];
    return out;
}

// ---- the writer: group commit in two stages ----------------------------------------------------
//
// Stage 1, the writer thread: runs the writes as they arrive in an open transaction and commits
// it so that the commit is written when the syncer is free to take it (see commit_due), or as soon
// as arrivals have paused while the syncer is busy (see arrivals_paused). The connection runs with
// synchronous = NORMAL, so the commit writes the WAL frames but does not wait for the disk.
// A commit that has to wait for the syncer is sent on its way to the disk meanwhile by the
// writeback thread (see writeback_loop), so that its sync only has the cache flush left to wait for.
// Stage 2, the syncer thread: syncs the WAL file (fdatasync) and only then answers the callers of
// every transaction committed before the sync started. If another commit already waits, it hands
// the answers to the answerer thread and syncs on, so that the disk does not wait while a dozen
// callers are woken.
// While one transaction is being synced the next one already executes, so the disk's sync latency
// and the work of the next writes overlap, as in PostgreSQL's group commit. A quiet store (its usual
// state) skips the hand-over: the writer syncs a lone write itself (see m_quiet). One commit per sync
// makes a transaction as large as the disk's latency allows: the pages that every write touches
// (the ends of the tables and of the time-ordered indexes) go to the WAL once per sync, not once
// per batch. A caller is answered only after the WAL holding its write is on disk; checkpoints (in
// NORMAL mode) sync the WAL before they copy it, so nothing unsynced ever reaches the database file.

// A thread with a name, so that `top -H`, perf and gdb tell the store's stages apart.
template <class F>
std::thread named_thread(const char* name, F body) {
    return std::thread([name, body = std::move(body)] {
        pthread_setname_np(pthread_self(), name);
        body();
    });
}

// A one-shot event one thread waits for: one futex wait and one wake per use. (A mutex and a
// condition variable made three system calls of it: glibc marks a mutex taken back after a
// condition wait as contended, so the waiter's unlock called into the kernel as well; on this
// kind of virtual machine each call costs microseconds, for every synchronous write.
// std::atomic<int>::wait would do, but GCC 12's spins and then yields the CPU several times
// before it sleeps: more system calls, not fewer, for a wait that lasts about a millisecond.)
class Completion {
public:
    void wait() noexcept {
        int s = m_state.load(std::memory_order_acquire);
        while (s != done) {
            if (s == pending && !m_state.compare_exchange_weak(s, sleeping, std::memory_order_acquire)) continue;
            // Returns at once if the state is no longer `sleeping`; spurious wake-ups loop.
            ::syscall(SYS_futex, futex_word(), FUTEX_WAIT_PRIVATE, sleeping, nullptr, nullptr, 0);
            s = m_state.load(std::memory_order_acquire);
        }
    }
    // The waiter may return as soon as the state is `done`; the caller keeps the object alive
    // until this returns (the writer's batches hold their jobs).
    void signal() noexcept {
        if (m_state.exchange(done, std::memory_order_acq_rel) == sleeping)
            ::syscall(SYS_futex, futex_word(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }

private:
    static constexpr int pending = 0;
    static constexpr int sleeping = 1;  // the waiter is in (or entering) the futex wait
    static constexpr int done = 2;
    static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);
    int* futex_word() noexcept { return reinterpret_cast<int*>(&m_state); }
    std::atomic<int> m_state{pending};
};

class Writer {
    using Clock = std::chrono::steady_clock;

public:
    Writer(std::unique_ptr<Db> db, std::string db_path, std::size_t max_batch, std::atomic<std::uint64_t>& data_version)
        : m_db(std::move(db)), m_db_path(db_path), m_wal_path(db_path + "-wal"),
          m_checkpoint_frames(static_cast<int>(checkpoint_bytes / m_db->scalar("PRAGMA page_size").value_or(4096))),
          m_max_batch(max_batch),
          m_data_version(data_version) {
        sqlite3_wal_hook(
            m_db->raw(),
            [](void* self, sqlite3*, const char*, int frames) {
                static_cast<Writer*>(self)->m_wal_frames = frames;
                return SQLITE_OK;
            },
            this);
        m_syncer = named_thread("store-sync", [this] { sync_loop(); });
        m_answerer = named_thread("store-answer", [this] { answer_loop(); });
        m_checkpointer = named_thread("store-ckpt", [this] { checkpoint_loop(); });
        m_writeback = named_thread("store-writeback", [this] { writeback_loop(); });
        m_thread = named_thread("store-write", [this] { run(); });
    }

    ~Writer() {
        stop(m_thread, m_mutex, m_stop, m_wake);  // drains the queue first
        stop(m_syncer, m_mutex, m_sync_stop, m_sync_wake);
        stop(m_answerer, m_answer_mutex, m_answer_stop, m_answer_wake);
        stop(m_checkpointer, m_ckpt_mutex, m_ckpt_stop, m_ckpt_wake);
        stop(m_writeback, m_writeback_mutex, m_writeback_stop, m_writeback_wake);
        if (m_wal_fd >= 0) ::close(m_wal_fd);
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    /// Runs `fn` inside the next write transaction and returns once its commit is on disk.
    template <class F>
    auto submit(F&& fn) -> decltype(fn(std::declval<Db&>())) {
        using R = decltype(fn(std::declval<Db&>()));
        std::optional<R> result;
        auto job = std::make_shared<Job>();
        job->fn = [&](Db& db) { result.emplace(fn(db)); };
        enqueue(job);
        job->done.wait();
        if (job->error) std::rethrow_exception(job->error);
        return std::move(*result);
    }

    /// Runs `fn` inside the next write transaction and returns at once; `on_done` is called with
    /// the write's error (null on success) once its commit is on disk, on the syncer's or the
    /// answerer's thread (the writer's for a write that failed, or a lone write it synced itself).
    void submit_async(std::function<void(Db&)> fn, std::function<void(std::exception_ptr)> on_done) {
        auto job = std::make_shared<Job>();
        job->fn = std::move(fn);
        job->on_done = std::move(on_done);
        enqueue(std::move(job));
    }

    [[nodiscard]] std::uint64_t commits() const { return m_commits.load(); }
    [[nodiscard]] std::uint64_t group_commits() const { return m_group_commits.load(); }

private:
    // Tells one of the store's threads to stop (its flag, under its mutex) and waits for it.
    static void stop(std::thread& thread, std::mutex& mutex, bool& flag, std::condition_variable& wake) {
        {
            std::lock_guard lock(mutex);
            flag = true;
        }
        wake.notify_all();
        thread.join();
    }

    // Each waiting caller sleeps on its own completion, so that an answer wakes exactly one
    // thread (no thundering herd, no spinning).
    struct Job {
        std::function<void(Db&)> fn;
        std::function<void(std::exception_ptr)> on_done;  // set: answered by a call, not a wake-up
        std::exception_ptr error;  // written before `done` is signalled
        Completion done;
    };
    using Batch = std::vector<std::shared_ptr<Job>>;

    void enqueue(std::shared_ptr<Job> job) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stop) throw store_error("the store is closed");
            if (m_failed) throw store_error(m_failure);
            m_queue.push_back(std::move(job));
            m_last_arrival = Clock::now();
        }
        m_wake.notify_one();
    }

    void run() {
        Batch carry;  // writes taken from the queue but left for the next transaction
        while (true) {
            if (carry.empty()) {
                std::unique_lock lock(m_mutex);
                if (m_queue.empty()) {
                    const auto idle_since = Clock::now();
                    m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
                    if (Clock::now() - idle_since >= quiet_gap) m_quiet = true;
                }
                if (m_queue.empty()) return;  // stopping, nothing left
            }
            Batch tx;  // the writes in the open transaction
            bool open = begin(tx);
            bool optimistic = true;
            while (open) {
                Batch round = std::move(carry);
                carry.clear();
                {
                    std::unique_lock lock(m_mutex);
                    while (!m_queue.empty() && tx.size() + round.size() < m_max_batch) {
                        round.push_back(std::move(m_queue.front()));
                        m_queue.pop_front();
                    }
                }
                open = execute(tx, round, optimistic, carry);
                if (!open || !carry.empty()) break;
                // Commit when due, once arrivals have paused, or once the transaction is large; until
                // then, take in what arrives.
                std::unique_lock lock(m_mutex);
                m_holding = true;
                bool paused = false;
                while (!m_stop && !commit_due() && m_queue.empty()) {
                    const auto due = commit_due_at();
                    if (!due) {
                        m_wake.wait(lock);
                        continue;
                    }
                    paused = arrivals_paused();
                    if (paused) break;
                    m_wake.wait_until(lock, std::min(*due, m_last_arrival + arrival_pause));
                }
                m_holding = false;
                if (m_stop || paused || commit_due() || tx.size() >= m_max_batch) break;
            }
            if (!open) {
                // The transaction failed as a whole, so did every write in it (carry is empty).
                finish(tx);
                continue;
            }
            const auto commit_start = Clock::now();
            const bool committed = commit(tx);
            m_commit_time = (3 * m_commit_time + (Clock::now() - commit_start)) / 4;
            // Writes that failed are answered now; the rest once the WAL is synced.
            Batch to_sync;
            Batch finished;
            for (auto& j : tx) (committed && !j->error ? to_sync : finished).push_back(std::move(j));
            finish(finished);
            if (!to_sync.empty()) sync_or_hand_over(to_sync, carry.empty());
            checkpoint_if_due();
        }
    }

    // Hands the committed writes to the syncer, except a lone write into an idle pipeline (nothing
    // else queued or carried over, the syncer free): that one the writer syncs and answers itself,
    // since the hand-over would add a thread wake-up to the round trip of every write while the
    // store is quiet, its usual state. With more writes the two stages overlap (see above).
    void sync_or_hand_over(Batch& to_sync, bool nothing_carried) {
        bool self_sync = false;
        bool syncer_busy = false;
        {
            std::lock_guard lock(m_mutex);
            syncer_busy = m_sync_busy.load();
            self_sync = m_quiet && nothing_carried && to_sync.size() == 1 && m_queue.empty() && !syncer_busy;
            if (!self_sync) {
                m_to_sync.insert(m_to_sync.end(), to_sync.begin(), to_sync.end());
                m_sync_busy = true;
                m_sync_queued = true;
            }
        }
        if (!self_sync) {
            m_sync_wake.notify_one();
            if (syncer_busy) {
                // The commit waits for the running sync: start writing it to the disk meanwhile.
                {
                    std::lock_guard lock(m_writeback_mutex);
                    m_writeback_due = true;
                }
                m_writeback_wake.notify_one();
            }
            return;
        }
        sync_batch(to_sync);
        {
            // A write that came in meanwhile had to wait for the sync: other callers are active,
            // and overlapping their writes with the syncs serves them better (syncing every lone
            // write here, four callers went one at a time).
            std::lock_guard lock(m_mutex);
            if (!m_queue.empty()) m_quiet = false;
        }
        finish(to_sync);
    }

    // Whether the open transaction should be committed now. The syncer is the pipeline's slow
    // stage, so the writer keeps the transaction open while the syncer is busy and commits it
    // so that it is written by the time the syncer is free: when the syncer is idle, or when its
    // sync is expected to end within the time a commit takes and no other commit waits for it.
    // (Committing only once the syncer is idle left the disk idle for the whole commit, a third
    // of each cycle.)
    [[nodiscard]] bool commit_due() const {
        if (!m_sync_busy.load(std::memory_order_acquire)) return true;
        const auto due = commit_due_at();
        return due && Clock::now() >= *due;
    }

    // Whether writes have stopped arriving for a while (with m_mutex). Callers answered by a sync
    // send their next writes within tens of microseconds, in a burst, and the writer runs them as
    // they come. Once the burst is over and run, waiting on until the running sync nearly ends
    // gains no writes: it only makes the disk wait for the commit. (Measured with 32 callers: at
    // 44% of sync ends the writer was still waiting to commit an idle transaction, and the disk
    // then stood ~150 µs per sync for the writer's wake-up and commit.) Committing at the pause
    // lets the commit wait for the disk instead, and the writeback thread start writing it.
    [[nodiscard]] bool arrivals_paused() const { return Clock::now() - m_last_arrival >= arrival_pause; }

    // When the open transaction should be committed to be ready as the running sync ends; none
    // while the syncer is idle (at once) or a commit already waits for it (not before it is taken).
    [[nodiscard]] std::optional<Clock::time_point> commit_due_at() const {
        if (!m_sync_busy.load(std::memory_order_acquire) || m_sync_queued.load(std::memory_order_acquire)) return std::nullopt;
        return Clock::time_point(Clock::duration(m_sync_ends_at.load(std::memory_order_acquire))) - m_commit_time;
    }

    // Checkpoints copy the WAL into the database file. The bulk of that work runs on the
    // checkpointer thread, concurrently with writes; it cannot finish while writes go on, so once
    // it has copied what was there, the writer copies the few frames added since (a short pause),
    // which lets the next transaction restart the WAL from its beginning: the WAL stays small.
    void checkpoint_if_due() {
        if (m_catch_up.exchange(false)) {
            int log = 0;
            int done = 0;
            sqlite3_wal_checkpoint_v2(m_db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
            m_wal_frames = 0;
            return;
        }
        if (m_wal_frames >= m_checkpoint_frames && !m_ckpt_requested.exchange(true)) m_ckpt_wake.notify_one();
    }

    void checkpoint_loop() {
        std::unique_ptr<Db> db;
        try {
            db = std::make_unique<Db>(m_db_path, SQLITE_OPEN_READWRITE);
            // A connection learns that the database is in WAL mode when it first reads it;
            // until then a checkpoint through it does nothing (and says so with -1 frames).
            db->exec("SELECT count(*) FROM sqlite_master");
        } catch (...) {
            return;  // without a second connection the writer's own checkpoints still run
        }
        const int db_fd = ::open(m_db_path.c_str(), O_RDONLY | O_CLOEXEC);
        const std::unique_ptr<const int, void (*)(const int*)> close_db_fd(&db_fd, [](const int* fd) {
            if (*fd >= 0) ::close(*fd);
        });
        while (true) {
            {
                std::unique_lock lock(m_ckpt_mutex);
                m_ckpt_wake.wait(lock, [&] { return m_ckpt_stop || m_ckpt_requested.load(); });
                if (m_ckpt_stop) return;
            }
            // Passes until what is left for the writer to copy is small: frames keep arriving
            // during a pass, and the writer pauses for whatever is left.
            // SQLite syncs the database file only when a checkpoint reaches the end of the WAL,
            // which is the writer's catch-up: it would wait there for the disk to take every page
            // the passes copied (~100 ms for 64 MB). So each pass flushes what it copied, while
            // writes go on, and leaves the catch-up only its own few pages to sync.
            for (int pass = 0; pass < max_checkpoint_passes; ++pass) {
                int log = 0;
                int done = 0;
                const int rc = sqlite3_wal_checkpoint_v2(db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
                if (rc != SQLITE_OK || log < 0) break;
                if (db_fd >= 0) ::fdatasync(db_fd);
                // Frames committed while this pass ran are not in `log`: compare with the WAL now.
                if (m_wal_frames.load() - done <= catch_up_frames) break;
            }
            m_ckpt_requested = false;
            m_catch_up = true;
        }
    }

    // Runs `round` in the open transaction, which holds the writes of `tx` so far, and adds it to
    // `tx`. Returns whether the transaction is still open (false: every write in it has failed).
    //
    // Optimistically first: the writes run one after another with nothing between them. Only if
    // one of them fails is the transaction rolled back and run again with each write in its own
    // savepoint, so that the failed write alone is left out; the rest of that transaction runs
    // in savepoints too. (A savepoint copies every page a write touches into a sub-journal, in
    // case it has to be undone; with a savepoint per write that was about a fifth of the writer's
    // time, spent on a case that rarely arises.) A write may therefore run twice: its function
    // acts on the database and its result only.
    //
    // Once the syncer is free, the writes of the round not yet run go to `carry` for the next
    // transaction, so that the disk never waits for the writer to finish a long round.
    bool execute(Batch& tx, Batch& round, bool& optimistic, Batch& carry) {
        const std::size_t first = tx.size();
        for (auto& j : round) tx.push_back(std::move(j));
        round.clear();
        if (!optimistic) return execute_in_savepoints(tx, first);
        for (std::size_t k = first; k < tx.size(); ++k) {
            try {
                tx[k]->fn(*m_db);
            } catch (...) {
                optimistic = false;
                sqlite3_exec(m_db->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
                return begin(tx) && execute_in_savepoints(tx, 0);
            }
            if (k + 1 < tx.size() && commit_due()) {
                carry.assign(std::make_move_iterator(tx.begin() + static_cast<std::ptrdiff_t>(k + 1)),
                             std::make_move_iterator(tx.end()));
                tx.resize(k + 1);
                break;
            }
        }
        return true;
    }

    bool begin(Batch& tx) {
        try {
            m_db->prepare("BEGIN IMMEDIATE").run();
            return true;
        } catch (...) {
            for (auto& j : tx) j->error = std::current_exception();
            return false;
        }
    }

    bool commit(Batch& tx) {
        try {
            m_db->prepare("COMMIT").run();
        } catch (...) {
            rollback_all(tx);
            return false;
        }
        m_commits.fetch_add(1);
        const auto ok = std::count_if(tx.begin(), tx.end(), [](const auto& j) { return !j->error; });
        if (ok > 1) m_group_commits.fetch_add(1);
        return true;
    }

    // Runs the writes of `tx` from `first` on, each in its own savepoint: a write that fails is
    // undone alone and answered with its error. Returns false if the savepoints themselves fail
    // (I/O), which gives up the whole transaction.
    bool execute_in_savepoints(Batch& tx, std::size_t first) {
        Db& db = *m_db;
        for (std::size_t k = first; k < tx.size(); ++k) {
            auto& j = tx[k];
            j->error = nullptr;
            try {
                db.prepare("SAVEPOINT w").run();
                try {
                    j->fn(db);
                    db.prepare("RELEASE w").run();
                } catch (...) {
                    j->error = std::current_exception();
                    db.prepare("ROLLBACK TO w").run();
                    db.prepare("RELEASE w").run();
                }
            } catch (...) {
                if (!j->error) j->error = std::current_exception();
                rollback_all(tx);
                return false;
            }
        }
        return true;
    }

    void rollback_all(Batch& batch) {
        const auto failure = std::current_exception();
        sqlite3_exec(m_db->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
        for (auto& j : batch)
            if (!j->error) j->error = failure;
    }

    static void finish(Batch& jobs) {
        for (auto& j : jobs) {
            if (j->on_done) {
                try {
                    j->on_done(j->error);
                } catch (...) {
                    // A callback must not throw; should one, the store's threads go on.
                }
                continue;
            }
            j->done.signal();
        }
    }

    void sync_loop() {
        while (true) {
            Batch batch;
            bool holding = false;  // the writer holds a transaction open, waiting to commit it
            {
                std::unique_lock lock(m_mutex);
                m_sync_wake.wait(lock, [&] { return m_sync_stop || !m_to_sync.empty(); });
                if (m_to_sync.empty()) return;
                batch.swap(m_to_sync);
                m_sync_ends_at = (Clock::now() + m_sync_time).time_since_epoch().count();
                m_sync_queued = false;
                holding = m_holding;
            }
            if (holding) m_wake.notify_one();  // it may now plan its commit by this sync's end
            const auto sync_start = Clock::now();
            sync_batch(batch);
            m_sync_time = (3 * m_sync_time + (Clock::now() - sync_start)) / 4;
            bool more = false;  // another commit waits for the disk
            {
                std::lock_guard lock(m_mutex);
                more = !m_to_sync.empty();
                holding = m_holding;
                if (!more) m_sync_busy = false;
            }
            if (holding) m_wake.notify_one();  // it may commit now
            // Waking a dozen callers takes a while; with a commit waiting, the disk should not.
            if (more) {
                {
                    std::lock_guard lock(m_answer_mutex);
                    m_answers.push_back(std::move(batch));
                }
                m_answer_wake.notify_one();
            } else {
                finish(batch);
            }
        }
    }

    // Starts the disk write of a commit that waits for the running sync (sync_file_range), so that
    // the data is on its way while the running sync's cache flush lasts; the commit's own sync
    // then finds it written and has only the flush left (on this machine a sync is a data write,
    // ~130 µs, then a cache flush, ~300 µs). Durability still comes from the syncer's fdatasync
    // alone. The WAL is opened separately here (not dup'ed): a write error is then still
    // reported to the syncer's descriptor, whatever this one saw.
    void writeback_loop() {
        int fd = -1;
        while (true) {
            {
                std::unique_lock lock(m_writeback_mutex);
                m_writeback_wake.wait(lock, [&] { return m_writeback_stop || m_writeback_due; });
                if (m_writeback_stop) break;
                m_writeback_due = false;
            }
            if (fd < 0) fd = ::open(m_wal_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // errors: see above
        }
        if (fd >= 0) ::close(fd);
    }

    void answer_loop() {
        while (true) {
            Batch batch;
            {
                std::unique_lock lock(m_answer_mutex);
                m_answer_wake.wait(lock, [&] { return m_answer_stop || !m_answers.empty(); });
                if (m_answers.empty()) return;
                batch = std::move(m_answers.front());
                m_answers.pop_front();
            }
            finish(batch);
        }
    }

    // Syncs the WAL for the committed writes of `batch`, or gives each of them the error. A
    // failed sync may have lost pages the kernel already dropped: nothing written since can be
    // trusted, so the store then refuses further writes. Runs on the syncer, or on the writer
    // while the syncer is idle (never both at once).
    void sync_batch(Batch& batch) {
        std::string failure;
        try {
            sync_wal();
            m_data_version.fetch_add(1);
            return;
        } catch (const std::exception& e) {
            failure = std::string("the store stopped after a failed disk sync: ") + e.what();
            for (auto& j : batch) j->error = std::current_exception();
        } catch (...) {
            failure = "the store stopped after a failed disk sync";
            for (auto& j : batch) j->error = std::current_exception();
        }
        std::lock_guard lock(m_mutex);
        if (!m_failed) {
            m_failed = true;
            m_failure = failure;
        }
    }

    // fdatasync of the WAL file, through a descriptor opened at the first sync (after the first
    // commit, so the WAL exists) and kept: SQLite keeps the writer connection's WAL open, on the
    // same inode, for as long as the connection lives, and no other connection may delete it
    // meanwhile (in WAL mode every open connection holds a shared lock on the database).
    // The file is deliberately not stat()ed on each sync. The filesystem records that its
    // timestamps were read and stamps the next write with a fine-grained time instead of the
    // clock tick's; that marks the inode dirty. On ext4 without a journal, fdatasync then
    // writes the inode block too, after the data and before the cache flush: a third disk
    // round trip on nearly every sync (seen in a block trace as a 4 KB metadata write per sync).
    void sync_wal() {
        if (m_wal_fd < 0) {
            m_wal_fd = ::open(m_wal_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (m_wal_fd < 0) throw store_error("cannot open the WAL file '" + m_wal_path + "': " + std::strerror(errno));
        }
        if (::fdatasync(m_wal_fd) != 0) throw store_error("cannot sync the WAL file: " + std::string(std::strerror(errno)));
        if (detail::wal_batch_failed(m_db_path)) throw store_error("writing the WAL file failed (disk full or I/O error)");
    }

    // A checkpoint comes once the WAL holds 256 MB of pages. It copies every page the WAL holds
    // into the database file and flushes it, which slows the syncer's WAL syncs while it lasts; a
    // busy store rewrites the same index pages again and again, so a longer WAL copies hardly
    // more pages per checkpoint, and checkpoints come four times less often than with 64 MB
    // (durable intake: ~12,000/s instead of ~10,000/s with 32 callers).
    static constexpr std::int64_t checkpoint_bytes = 256LL << 20;
    static constexpr int catch_up_frames = 512;     // what the writer copies itself, at most (usually)
    // Writes arriving this far apart or more are no longer one burst (see arrivals_paused).
    static constexpr auto arrival_pause = std::chrono::microseconds(60);
    // An idle writer this long takes the store for quiet again (see m_quiet).
    static constexpr auto quiet_gap = std::chrono::milliseconds(10);
    static constexpr int max_checkpoint_passes = 16;

    std::unique_ptr<Db> m_db;
    std::string m_db_path;
    std::string m_wal_path;
    int m_checkpoint_frames;
    std::size_t m_max_batch;
    std::atomic<std::uint64_t>& m_data_version;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::shared_ptr<Job>> m_queue;
    bool m_stop = false;
    bool m_failed = false;
    std::string m_failure;
    std::condition_variable m_sync_wake;  // the syncer's; with m_mutex
    Batch m_to_sync;
    std::atomic<bool> m_sync_busy{false};  // a commit is being synced or waits for the syncer
    std::mutex m_answer_mutex;  // the answerer's: answers the syncer hands over while it syncs on
    std::condition_variable m_answer_wake;
    std::deque<Batch> m_answers;
    bool m_answer_stop = false;
    std::atomic<bool> m_sync_queued{false};  // a commit waits for the syncer
    bool m_holding = false;  // with m_mutex: the writer waits to commit its open transaction
    // With m_mutex: no sign of concurrent callers since the writer last idled for quiet_gap; a
    // lone write is then synced by the writer itself.
    bool m_quiet = true;
    Clock::time_point m_last_arrival{};  // with m_mutex: when the last write was queued
    std::atomic<Clock::rep> m_sync_ends_at{0};  // when the running sync is expected to end
    Clock::duration m_sync_time{std::chrono::microseconds(500)};    // the syncer's; recent average
    Clock::duration m_commit_time{std::chrono::microseconds(200)};  // the writer's; recent average
    bool m_sync_stop = false;
    int m_wal_fd = -1;
    std::atomic<std::uint64_t> m_commits{0};
    std::atomic<std::uint64_t> m_group_commits{0};
    std::atomic<int> m_wal_frames{0};  // frames in the WAL after the last commit (the WAL hook)
    std::mutex m_ckpt_mutex;
    std::condition_variable m_ckpt_wake;
    std::atomic<bool> m_ckpt_requested{false};
    std::atomic<bool> m_catch_up{false};
    bool m_ckpt_stop = false;
    std::thread m_syncer;
    std::thread m_answerer;
    std::thread m_checkpointer;
    std::thread m_writeback;
    std::mutex m_writeback_mutex;
    std::condition_variable m_writeback_wake;
    bool m_writeback_due = false;   // with m_writeback_mutex
    bool m_writeback_stop = false;  // with m_writeback_mutex
    std::thread m_thread;
};

// ---- readers -----------------------------------------------------------------------------------

class ReadPool {
public:
    explicit ReadPool(std::string path) : m_path(std::move(path)) {}

    class Lease {
    public:
        Lease(ReadPool& pool, std::unique_ptr<Db> db) : m_pool(pool), m_db(std::move(db)) {}
        ~Lease() { m_pool.release(std::move(m_db)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Db& operator*() { return *m_db; }
        Db* operator->() { return m_db.get(); }

    private:
        ReadPool& m_pool;
        std::unique_ptr<Db> m_db;
    };

    Lease acquire() {
        {
            std::lock_guard lock(m_mutex);
            if (!m_idle.empty()) {
                auto db = std::move(m_idle.back());
                m_idle.pop_back();
                return Lease(*this, std::move(db));
            }
        }
        auto db = std::make_unique<Db>(m_path, SQLITE_OPEN_READWRITE);
        db->load_spatialite();
        db->exec("PRAGMA query_only = 1");
        // Reads through a memory map: a bbox query reads a thousand rows scattered over the table,
        // and through pread() that is a thousand system calls (about 3.6 ms instead of 7 ms for
        // 1,000 of 1,000,000). A connection's map is dropped and re-faulted when the file grows
        // under it (checkpoints); that once cost the server's intake dearly, when every report
        // read its duplicates and its request id here. Intake reads nothing here any more (the
        // request id is checked by the writer, duplicates are found in the server's memory).
        db->exec("PRAGMA mmap_size = 17179869184");
        db->exec("PRAGMA cache_size = -16384");
        return Lease(*this, std::move(db));
    }

private:
    void release(std::unique_ptr<Db> db) {
        std::lock_guard lock(m_mutex);
        if (m_idle.size() < 64) m_idle.push_back(std::move(db));
    }
    std::string m_path;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<Db>> m_idle;
};

// ---- the store ---------------------------------------------------------------------------------

constexpr double crosswalk_threshold = 0.95;
constexpr int new_database_page_size = 1024;

// The WAL file's size limit (PRAGMA journal_size_limit): when the WAL starts over, SQLite
// truncates a larger file to it. Above the WAL's size in a checkpoint cycle (~256 MB and what
// arrives meanwhile), so that a restart of the WAL reuses the file instead of truncating it (a
// truncation can take tens of milliseconds, with every write waiting).
constexpr std::int64_t wal_size_limit = 384LL << 20;

// Extends the WAL file with zeros to `bytes` and syncs it (see SpatialiteOptions::wal_reserve_bytes).
// SQLite reads a WAL only up to its last valid frame, and zeros are never one, so the reserve
// changes nothing it recovers; its writes then overwrite the zeros. The write lock of the WAL,
// held throughout, keeps every other connection (of any process) from appending frames
// meanwhile, and only bytes past the file's end are written. If the disk cannot hold the
// reserve, the file is cut back to its size before.
void reserve_wal(Db& db, const std::string& wal_path, std::int64_t bytes) {
    try {
        db.exec("BEGIN IMMEDIATE");  // opens the WAL and takes its write lock
    } catch (const store_error&) {
        return;  // another process is writing: no reserve this time
    }
    const int fd = ::open(wal_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        const off_t before = ::lseek(fd, 0, SEEK_END);
        bool ok = before >= 0;
        const std::vector<char> zeros(1u << 20, '\0');  // freed once the reserve is written
        for (off_t at = before; ok && at < bytes;) {
            const auto n = static_cast<std::size_t>(std::min<off_t>(static_cast<off_t>(zeros.size()), bytes - at));
            const ssize_t w = ::pwrite(fd, zeros.data(), n, at);
            if (w < 0 && errno == EINTR) continue;
            ok = w > 0;
            if (ok) at += w;
        }
        if (ok && before < bytes) ok = ::fdatasync(fd) == 0;
        if (!ok && before >= 0 && ::ftruncate(fd, before) == 0) (void)::fdatasync(fd);
        ::close(fd);
    }
    db.exec("COMMIT");
}

class SpatialiteStore final : public Store {
public:
    explicit SpatialiteStore(const SpatialiteOptions& o) : m_options(o), m_reads(o.path.string()) {
        m_media_dir = o.media_dir.empty() ? fs::path(o.path.string() + ".media") : o.media_dir;
        const bool exists = fs::exists(o.path);
        int version = 0;
        if (exists) {
            version = detail::inspect_database(o.path.string());
        } else if (!o.create || o.read_only) {
            throw store_error("database '" + o.path.string() + "' does not exist");
        }
        if (o.read_only) {
            if (version < detail::latest_schema_version()) {
                throw schema_error("'" + o.path.string() + "' has an older schema; open it once read-write to upgrade");
            }
            return;
        }
        auto db = std::make_unique<Db>(o.path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       detail::wal_batch_vfs_name());
        db->load_spatialite();
        // A new database gets 1 KB pages (an existing one keeps its own). An intake changes a page
        // at a random place in the R*Tree (its node and the rowid map of the entries that move)
        // and in the grid index, and the WAL takes whole pages, so small pages mean fewer bytes
        // to write, sync and checkpoint. SQLite caps an R*Tree node at 51 entries (1,228 bytes),
        // so with 2 KB pages 40% of every node page written was empty; a 1 KB page holds a node
        // of 39. A commit of ~15 intakes writes ~97 KB instead of ~153 KB; durable intake with 32
        // callers gained 3–26% (medians of four and five alternating pairs), and the bbox query
        // over 1,000,000 incidents measured the same.
        if (version == 0) db->exec("PRAGMA page_size = " + std::to_string(new_database_page_size));
        db->exec("PRAGMA journal_mode = WAL");
        // NORMAL: commits write the WAL without waiting for the disk; the writer's sync stage
        // fdatasyncs the WAL before any caller is answered (see Writer), so an acknowledged write
        // survives a power cut. Checkpoints sync the WAL before copying it in this mode.
        db->exec("PRAGMA synchronous = NORMAL");
        db->exec("PRAGMA foreign_keys = ON");
        // Savepoint journals stay in memory (after a failed write, the others of its batch run
        // again each in its own savepoint). The writer keeps the hot pages of a large database in
        // its own cache, without a memory map: through a map SQLite keeps no clean page cached
        // and looks every page it touches up in the WAL index again, ~8% of the writer's CPU per
        // intake.
        db->exec("PRAGMA temp_store = MEMORY");
        db->exec("PRAGMA cache_size = -131072");
        db->exec("PRAGMA mmap_size = 0");
        db->exec("PRAGMA wal_autocheckpoint = 0");  // the writer checkpoints between batches
        db->exec("PRAGMA journal_size_limit = " + std::to_string(wal_size_limit));
        if (o.max_page_count > 0) db->exec("PRAGMA max_page_count = " + std::to_string(o.max_page_count));
        if (version < detail::latest_schema_version()) {
            if (exists && version > 0) {
                // Keep a copy of the old file before upgrading it in place.
                backup_spatialite(o.path, o.path.string() + ".pre-v" + std::to_string(detail::latest_schema_version()));
            }
            detail::migrate(*db, version);
        }
        if (o.wal_reserve_bytes > 0) reserve_wal(*db, o.path.string() + "-wal", std::min(o.wal_reserve_bytes, wal_size_limit));
        std::error_code ec;
        fs::create_directories(m_media_dir, ec);
        if (ec) throw store_error("cannot create media directory '" + m_media_dir.string() + "': " + ec.message());
        m_writer = std::make_unique<Writer>(std::move(db), o.path.string(), std::max<std::size_t>(1, o.max_batch),
                                            m_data_version);
    }

    ~SpatialiteStore() override = default;

    // ---- layers ---------------------------------------------------------------------------------

    void put_layer(const LayerInfo& l) override {
        write([&](Db& db) {
            auto s = db.prepare(
                "INSERT INTO layers(id, kind, title, department, plugin) VALUES (?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, title=excluded.title, "
                "department=excluded.department, plugin=excluded.plugin");
            s.bind(1, l.id).bind(2, to_string(l.kind)).bind(3, l.title);
            s.bind_text_or_null(4, l.department).bind_text_or_null(5, l.plugin);
            s.run();
            return 0;
        });
    }

    std::vector<LayerInfo> layers() override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT id, kind, title, department, plugin FROM layers ORDER BY id");
        std::vector<LayerInfo> out;
        while (s.step()) {
            out.push_back({s.text(0), parse_layer_kind(s.text_view(1)).value_or(LayerKind::business), s.text(2),
                           s.text(3), s.text(4)});
        }
        return out;
    }

    std::optional<LayerInfo> layer(const std::string& id) override {
        for (auto& l : layers())
            if (l.id == id) return l;
        return std::nullopt;
    }

    LayerVersion publish_version(const std::string& layer_id, const std::vector<LayerFeature>& features,
                                 Timestamp effective_from, const std::string& note) override {
        // Encode outside the write transaction: the writer thread only writes.
        std::vector<std::string> blobs;
        blobs.reserve(features.size());
        for (const auto& f : features) blobs.push_back(wkb().encode(f.geometry));
        const Timestamp now = SystemClock().now();
        return write([&](Db& db) { return insert_version(db, layer_id, features, blobs, effective_from, now, note); });
    }

    std::vector<LayerVersion> versions(const std::string& layer_id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT layer, version, effective_from, published_at, note, features FROM layer_versions WHERE layer = ? "
            "ORDER BY version");
        s.bind(1, layer_id);
        std::vector<LayerVersion> out;
        while (s.step()) out.push_back({s.text(0), static_cast<int>(s.int64(1)), s.int64(2), s.int64(3), s.text(4), s.int64(5)});
        return out;
    }

    std::optional<LayerVersion> version_at(const std::string& layer_id, Timestamp t) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT layer, version, effective_from, published_at, note, features FROM layer_versions "
            "WHERE layer = ? AND effective_from <= ? ORDER BY effective_from DESC, version DESC LIMIT 1");
        s.bind(1, layer_id).bind(2, t);
        if (!s.step()) return std::nullopt;
        return LayerVersion{s.text(0), static_cast<int>(s.int64(1)), s.int64(2), s.int64(3), s.text(4), s.int64(5)};
    }

    std::vector<LayerFeature> features(const std::string& layer_id, int version, const FeatureQuery& q) override {
        std::vector<Param> params{layer_id, std::int64_t{version}};
        std::string sql =
            "SELECT code, name, parent, properties, AsBinary(geom) FROM layer_features WHERE layer = ? AND version = ?" +
            feature_filter(q, params) + " ORDER BY code";
        if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
        auto db = m_reads.acquire();
        auto s = db->prepare(sql);
        bind_all(s, params);
        std::vector<LayerFeature> out;
        while (s.step()) {
            LayerFeature f;
            f.code = s.text(0);
            f.name = s.text(1);
            f.parent = s.text(2);
            if (!s.is_null(3)) {
                const auto j = nlohmann::json::parse(s.text_view(3), nullptr, false);
                if (j.is_object())
                    for (auto it = j.begin(); it != j.end(); ++it)
                        f.properties[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
            }
            f.geometry = wkb().decode(sqlite3_column_blob(s.raw(), 4), static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), 4)));
            out.push_back(std::move(f));
        }
        return out;
    }

    std::int64_t count_features(const std::string& layer_id, int version, const FeatureQuery& q) override {
        std::vector<Param> params{layer_id, std::int64_t{version}};
        const std::string sql =
            "SELECT count(*) FROM layer_features WHERE layer = ? AND version = ?" + feature_filter(q, params);
        auto db = m_reads.acquire();
        auto s = db->prepare(sql);
        bind_all(s, params);
        s.step();
        return s.int64(0);
    }

    void put_crosswalk(const Crosswalk& cw) override {
        write([&](Db& db) {
            {
                auto d = db.prepare("DELETE FROM crosswalk WHERE layer = ?");
                d.bind(1, cw.summary.layer);
                d.run();
            }
            auto s = db.prepare(
                "INSERT OR REPLACE INTO crosswalk_summary(layer, base_version, business_version, grids, aligned, split, "
                "uncovered, computed_at) VALUES (?,?,?,?,?,?,?,?)");
            s.bind(1, cw.summary.layer).bind(2, cw.summary.base_version).bind(3, cw.summary.business_version);
            s.bind(4, cw.summary.grids).bind(5, cw.summary.aligned).bind(6, cw.summary.split);
            s.bind(7, cw.summary.uncovered).bind(8, cw.summary.computed_at);
            s.run();
            for (const auto& r : cw.rows) {
                auto i = db.prepare(
                    "INSERT OR REPLACE INTO crosswalk(layer, base_code, business_code, area_m2, share) VALUES (?,?,?,?,?)");
                i.bind(1, cw.summary.layer).bind(2, r.base).bind(3, r.business).bind(4, r.area_m2).bind(5, r.share);
                i.run();
            }
            return 0;
        });
    }

    static CrosswalkSummary read_summary(const Stmt& s) {
        CrosswalkSummary m;
        m.layer = s.text(0);
        m.base_version = static_cast<int>(s.int64(1));
        m.business_version = static_cast<int>(s.int64(2));
        m.grids = s.int64(3);
        m.aligned = s.int64(4);
        m.split = s.int64(5);
        m.uncovered = s.int64(6);
        m.computed_at = s.int64(7);
        m.aligned_share = m.grids > 0 ? static_cast<double>(m.aligned) / static_cast<double>(m.grids) : 0.0;
        return m;
    }

    std::vector<CrosswalkSummary> crosswalk_summaries() override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT layer, base_version, business_version, grids, aligned, split, uncovered, computed_at "
            "FROM crosswalk_summary ORDER BY layer");
        std::vector<CrosswalkSummary> out;
        while (s.step()) out.push_back(read_summary(s));
        return out;
    }

    std::optional<Crosswalk> crosswalk(const std::string& layer_id) override {
        auto db = m_reads.acquire();
        Crosswalk cw;
        {
            auto s = db->prepare(
                "SELECT layer, base_version, business_version, grids, aligned, split, uncovered, computed_at "
                "FROM crosswalk_summary WHERE layer = ?");
            s.bind(1, layer_id);
            if (!s.step()) return std::nullopt;
            cw.summary = read_summary(s);
        }
        auto s = db->prepare(
            "SELECT base_code, business_code, area_m2, share FROM crosswalk WHERE layer = ? ORDER BY base_code, share DESC");
        s.bind(1, layer_id);
        std::string current;
        double largest = 0;
        auto close_grid = [&] {
            if (!current.empty() && largest < crosswalk_threshold) cw.misaligned.push_back(current);
        };
        while (s.step()) {
            CrosswalkRow r{s.text(0), s.text(1), s.real(2), s.real(3)};
            if (r.base != current) {
                close_grid();
                current = r.base;
                largest = 0;
            }
            largest = std::max(largest, r.share);
            cw.rows.push_back(std::move(r));
        }
        close_grid();
        return cw;
    }

    // ---- reference data -------------------------------------------------------------------------

    void put_department(const Department& d) override {
        write([&](Db& db) {
            auto s = db.prepare("INSERT OR REPLACE INTO departments(code, name, plugin) VALUES (?,?,?)");
            s.bind(1, d.code).bind(2, d.name).bind_text_or_null(3, d.plugin);
            s.run();
            return 0;
        });
    }

    std::vector<Department> departments() override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT code, name, plugin FROM departments ORDER BY code");
        std::vector<Department> out;
        while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2)});
        return out;
    }

    void put_category(const Category& c) override {
        write([&](Db& db) {
            auto s = db.prepare(
                "INSERT OR REPLACE INTO categories(code, name, major_class, kind, time_limit, limit_unit, plugin) "
                "VALUES (?,?,?,?,?,?,?)");
            s.bind(1, c.code).bind(2, c.name).bind(3, c.major_class).bind(4, c.kind).bind(5, c.limit);
            s.bind(6, c.limit_unit == LimitUnit::hours ? "hours" : "workdays").bind_text_or_null(7, c.plugin);
            s.run();
            return 0;
        });
    }

    std::vector<Category> categories() override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT code, name, major_class, kind, time_limit, limit_unit, plugin FROM categories ORDER BY code");
        std::vector<Category> out;
        while (s.step()) {
            out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.real(4),
                           s.text_view(5) == "workdays" ? LimitUnit::workdays : LimitUnit::hours, s.text(6)});
        }
        return out;
    }

    void replace_routing_rules(const std::vector<RoutingRule>& rules) override {
        write([&](Db& db) {
            db.prepare("DELETE FROM routing_rules").run();
            for (const auto& r : rules) {
                auto s = db.prepare(
                    "INSERT INTO routing_rules(category, layer, code, department, sub_unit, priority) VALUES (?,?,?,?,?,?)");
                s.bind_text_or_null(1, r.category).bind_text_or_null(2, r.layer).bind_text_or_null(3, r.code);
                s.bind(4, r.department).bind_text_or_null(5, r.sub_unit).bind(6, r.priority);
                s.run();
            }
            return 0;
        });
    }

    std::vector<RoutingRule> routing_rules() override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT id, category, layer, code, department, sub_unit, priority FROM routing_rules ORDER BY priority DESC, id");
        std::vector<RoutingRule> out;
        while (s.step()) {
            out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), static_cast<int>(s.int64(6))});
        }
        return out;
    }

    void put_user(const User& u) override {
        write([&](Db& db) {
            auto s = db.prepare(
                "INSERT OR REPLACE INTO users(id, name, role, department, town, grid) VALUES (?,?,?,?,?,?)");
            s.bind(1, u.id).bind(2, u.name).bind(3, to_string(u.role)).bind_text_or_null(4, u.department);
            s.bind_text_or_null(5, u.town).bind_text_or_null(6, u.grid);
            s.run();
            return 0;
        });
    }

    std::optional<User> user(const std::string& id) override {
        for (auto& u : users())
            if (u.id == id) return u;
        return std::nullopt;
    }

    std::vector<User> users() override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT id, name, role, department, town, grid FROM users ORDER BY id");
        std::vector<User> out;
        while (s.step()) {
            out.push_back({s.text(0), s.text(1), parse_role(s.text_view(2)).value_or(Role::citizen), s.text(3), s.text(4),
                           s.text(5)});
        }
        return out;
    }

    void put_token(const ApiToken& t) override {
        write([&](Db& db) {
            auto s = db.prepare(
                "INSERT OR REPLACE INTO api_tokens(hash, user_id, role, department, town, label, created_at, expires_at, "
                "revoked_at) VALUES (?,?,?,?,?,?,?,?,?)");
            s.bind(1, t.hash).bind_text_or_null(2, t.user).bind(3, to_string(t.role)).bind_text_or_null(4, t.department);
            s.bind_text_or_null(5, t.town).bind_text_or_null(6, t.label).bind(7, t.created_at).bind(8, t.expires_at);
            s.bind(9, t.revoked_at);
            s.run();
            return 0;
        });
    }

    static ApiToken read_token(const Stmt& s) {
        ApiToken t;
        t.hash = s.text(0);
        t.user = s.text(1);
        t.role = parse_role(s.text_view(2)).value_or(Role::citizen);
        t.department = s.text(3);
        t.town = s.text(4);
        t.label = s.text(5);
        t.created_at = s.int64(6);
        t.expires_at = s.opt_int64(7);
        t.revoked_at = s.opt_int64(8);
        return t;
    }

    std::optional<ApiToken> token(const std::string& hash) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT hash, user_id, role, department, town, label, created_at, expires_at, revoked_at FROM api_tokens "
            "WHERE hash = ?");
        s.bind(1, hash);
        if (!s.step()) return std::nullopt;
        return read_token(s);
    }

    std::vector<ApiToken> tokens() override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT hash, user_id, role, department, town, label, created_at, expires_at, revoked_at FROM api_tokens "
            "ORDER BY created_at");
        std::vector<ApiToken> out;
        while (s.step()) out.push_back(read_token(s));
        return out;
    }

    void revoke_token(const std::string& hash, Timestamp at) override {
        write([&](Db& db) {
            auto s = db.prepare("UPDATE api_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL");
            s.bind(1, at).bind(2, hash);
            s.run();
            if (sqlite3_changes(db.raw()) == 0) throw not_found_error("no active token with that hash");
            return 0;
        });
    }

    void put_calendar_day(CivilDate date, bool workday) override {
        write([&](Db& db) {
            auto s = db.prepare("INSERT OR REPLACE INTO calendar(date, workday) VALUES (?,?)");
            s.bind(1, format_date(date)).bind(2, workday ? 1 : 0);
            s.run();
            return 0;
        });
    }

    std::map<CivilDate, bool> calendar() override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT date, workday FROM calendar");
        std::map<CivilDate, bool> out;
        while (s.step()) {
            if (auto d = parse_date(s.text_view(0))) out[*d] = s.int64(1) != 0;
        }
        return out;
    }

    // ---- incidents ------------------------------------------------------------------------------

    IntakeResult intake(const NewIncident& n) override {
        return write([&](Db& db) { return intake_one(db, n); });
    }

    void intake_async(NewIncident n, IntakeDone done) override {
        if (!m_writer) throw store_error("the store is open read-only");
        struct State {
            NewIncident in;
            std::optional<IntakeResult> out;
        };
        auto st = std::make_shared<State>(State{std::move(n), std::nullopt});
        m_writer->submit_async([st](Db& db) { st->out = intake_one(db, st->in); },
                               [st, done = std::move(done)](std::exception_ptr e) {
                                   done(e ? std::nullopt : std::move(st->out), e);
                               });
    }

    std::vector<IntakeResult> intake_many(const std::vector<NewIncident>& all) override {
        return write([&](Db& db) {
            std::vector<IntakeResult> out;
            out.reserve(all.size());
            for (const auto& n : all) out.push_back(intake_one(db, n));
            return out;
        });
    }

    std::vector<TransitionResult> transition_many(const std::vector<std::pair<IncidentId, Decide>>& changes) override {
        return write([&](Db& db) {
            std::vector<TransitionResult> out;
            out.reserve(changes.size());
            for (const auto& [id, decide] : changes) out.push_back(transition_in(db, id, decide));
            return out;
        });
    }

    std::size_t import_cases(const std::vector<CaseRecord>& cases) override {
        return write([&](Db& db) {
            std::size_t written = 0;
            for (const auto& c : cases) {
                if (c.events.empty()) throw store_error("an imported case needs at least its report event");
                Incident inc = c.incident;
                if (!insert_incident(db, inc)) continue;  // imported before: its request id is known
                for (std::size_t k = 0; k < c.events.size(); ++k) {
                    Event e = c.events[k];
                    e.incident = inc.id;
                    insert_event(db, e, {}, k == 0, static_cast<int>(k + 1));
                }
                ++written;
            }
            return written;
        });
    }

    TransitionResult transition(IncidentId id, const Decide& decide) override {
        return write([&](Db& db) { return transition_in(db, id, decide); });
    }

    static TransitionResult transition_in(Db& db, IncidentId id, const Decide& decide) {
        auto s = db.prepare(select_incident_by_id);
        s.bind(1, id);
        if (!s.step()) throw not_found_error("no incident " + std::to_string(id));
        const Incident current = read_incident(s);
        s.reset();
        Change c = decide(current);
        c.incident.id = id;
        update_incident(db, c.incident, current);
        c.event.incident = id;
        // A change without an action (a scheduler housekeeping update) writes no event.
        if (!c.event.action.empty()) {
            insert_event(db, c.event, c.media);
            insert_outbox(db, id, c.event.id, c.outbox);
        }
        return {std::move(c.incident), std::move(c.event)};
    }

    // ---- drafts ---------------------------------------------------------------------------------

    Draft create_draft(const Draft& d, const std::vector<LayerFeature>& features) override {
        std::vector<std::string> blobs;
        blobs.reserve(features.size());
        for (const auto& f : features) blobs.push_back(wkb().encode(f.geometry));
        return write([&](Db& db) {
            {
                auto s = db.prepare("SELECT 1 FROM layers WHERE id = ?");
                s.bind(1, d.layer);
                if (!s.step()) throw not_found_error("no layer '" + d.layer + "'");
            }
            Draft out = d;
            auto s = db.prepare(
                "INSERT INTO drafts(layer, name, base_version, created_by, created_at, updated_at, revision) VALUES (?,?,?,?,?,?,0)");
            s.bind(1, d.layer).bind(2, d.name).bind(3, d.base_version).bind(4, d.created_by).bind(5, d.created_at).bind(6, d.created_at);
            s.run();
            out.id = sqlite3_last_insert_rowid(db.raw());
            out.updated_at = d.created_at;
            out.revision = 0;
            for (std::size_t i = 0; i < features.size(); ++i) put_draft_feature(db, out.id, features[i], blobs[i], 1);
            return out;
        });
    }

    std::vector<Draft> drafts() override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT id, layer, name, base_version, created_by, created_at, updated_at, revision FROM drafts ORDER BY id");
        std::vector<Draft> out;
        while (s.step()) out.push_back(read_draft(s));
        return out;
    }

    std::optional<Draft> draft(std::int64_t id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT id, layer, name, base_version, created_by, created_at, updated_at, revision FROM drafts WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return read_draft(s);
    }

    std::vector<DraftFeature> draft_features(std::int64_t id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT code, name, parent, properties, geom, revision FROM draft_features WHERE draft = ? ORDER BY code");
        s.bind(1, id);
        std::vector<DraftFeature> out;
        while (s.step()) out.push_back(read_draft_feature(s));
        return out;
    }

    std::optional<DraftFeature> draft_feature(std::int64_t id, const std::string& code) override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT code, name, parent, properties, geom, revision FROM draft_features WHERE draft = ? AND code = ?");
        s.bind(1, id).bind(2, code);
        if (!s.step()) return std::nullopt;
        return read_draft_feature(s);
    }

    std::vector<DraftFeature> edit_draft(std::int64_t id, const DraftEdit& edit, Timestamp now) override {
        std::vector<std::string> blobs;
        blobs.reserve(edit.put.size());
        for (const auto& f : edit.put) blobs.push_back(wkb().encode(f.geometry));
        return write([&](Db& db) {
            {
                auto s = db.prepare("SELECT 1 FROM drafts WHERE id = ?");
                s.bind(1, id);
                if (!s.step()) throw not_found_error("no draft " + std::to_string(id));
            }
            auto current = [&](const std::string& code) -> std::int64_t {
                auto s = db.prepare("SELECT revision FROM draft_features WHERE draft = ? AND code = ?");
                s.bind(1, id).bind(2, code);
                return s.step() ? s.int64(0) : 0;
            };
            for (const auto& [code, rev] : edit.expected) {
                const auto now_rev = current(code);
                if (now_rev != rev) {
                    throw conflict_error(now_rev == 0 ? "unit " + code + " no longer exists in the draft"
                                         : rev == 0   ? "unit " + code + " already exists in the draft"
                                                      : "unit " + code + " was changed by someone else (revision " +
                                                            std::to_string(now_rev) + ", expected " + std::to_string(rev) + ")");
                }
            }
            for (const auto& code : edit.remove) {
                auto s = db.prepare("DELETE FROM draft_features WHERE draft = ? AND code = ?");
                s.bind(1, id).bind(2, code);
                s.run();
            }
            std::vector<DraftFeature> out;
            for (std::size_t i = 0; i < edit.put.size(); ++i) {
                const auto rev = current(edit.put[i].code) + 1;
                put_draft_feature(db, id, edit.put[i], blobs[i], rev);
                out.push_back({edit.put[i], rev});
            }
            auto s = db.prepare("UPDATE drafts SET revision = revision + 1, updated_at = ? WHERE id = ?");
            s.bind(1, now).bind(2, id);
            s.run();
            return out;
        });
    }

    void delete_draft(std::int64_t id) override {
        write([&](Db& db) {
            auto f = db.prepare("DELETE FROM draft_features WHERE draft = ?");
            f.bind(1, id);
            f.run();
            auto s = db.prepare("DELETE FROM drafts WHERE id = ?");
            s.bind(1, id);
            s.run();
            if (sqlite3_changes(db.raw()) == 0) throw not_found_error("no draft " + std::to_string(id));
            return 0;
        });
    }

    std::optional<Incident> incident(IncidentId id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(select_incident_by_id);
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return read_incident(s);
    }

    std::optional<Incident> incident_by_request(const std::string& request_id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(select_incident_by_request_id);
        s.bind(1, request_id);
        if (!s.step()) return std::nullopt;
        return read_incident(s);
    }

    std::vector<Incident> incidents(const IncidentQuery& q) override {
        std::vector<Incident> out;
        std::vector<Param> params;
        std::string sql = std::string("SELECT ") + incident_columns + " FROM incidents" + where_of(q, params) +
                          (q.newest_first ? " ORDER BY reported_at DESC, id DESC" : " ORDER BY id");
        if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
        auto db = m_reads.acquire();
        auto s = db->prepare(sql);
        bind_all(s, params);
        while (s.step()) out.push_back(read_incident(s));
        return out;
    }

    std::int64_t count_incidents(const IncidentQuery& q) override {
        std::vector<Param> params;
        const std::string sql = "SELECT count(*) FROM incidents" + where_of(q, params);
        auto db = m_reads.acquire();
        auto s = db->prepare(sql);
        bind_all(s, params);
        s.step();
        return s.int64(0);
    }

    std::vector<IncidentId> open_incidents_near(const std::string& category, spatial::Point p, double radius_m,
                                                Timestamp since) override {
        const double dlat = radius_m / 110574.0 * 1.01;
        const double dlon = radius_m / (111320.0 * std::max(0.05, std::cos(p.y * M_PI / 180.0))) * 1.01;
        // The spatial index finds the cases in the square around the point; the float bounds it
        // stores are rounded outwards and the square has a margin, and the exact distance follows.
        std::vector<std::pair<double, IncidentId>> near;
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT id, lon, lat FROM incidents WHERE id IN (SELECT pkid FROM idx_incidents_geom WHERE xmin <= ? AND "
            "xmax >= ? AND ymin <= ? AND ymax >= ?) AND category = ? AND reported_at >= ? "
            "AND status NOT IN ('voided','closed','rated')");
        s.bind(1, p.x + dlon).bind(2, p.x - dlon).bind(3, p.y + dlat).bind(4, p.y - dlat).bind(5, category).bind(6, since);
        while (s.step()) {
            const double d = spatial::distance_m(p, {s.real(1), s.real(2)});
            if (d <= radius_m) near.emplace_back(d, s.int64(0));
        }
        std::sort(near.begin(), near.end());
        std::vector<IncidentId> out;
        out.reserve(near.size());
        for (const auto& [d, id] : near) out.push_back(id);
        return out;
    }

    std::vector<Event> events(IncidentId id) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(std::string("SELECT ") + event_columns + " FROM events WHERE incident = ? ORDER BY seq");
        s.bind(1, id);
        std::vector<Event> out;
        while (s.step()) out.push_back(read_event(s));
        return out;
    }

    std::vector<Incident> due_checks(Timestamp now, std::size_t limit) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(std::string("SELECT ") + incident_columns +
                             " FROM incidents WHERE next_check_at <= ? ORDER BY next_check_at LIMIT ?");
        s.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
        std::vector<Incident> out;
        while (s.step()) out.push_back(read_incident(s));
        return out;
    }

    void scan_events(Timestamp from, Timestamp until, const std::function<void(const Event&)>& fn) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(std::string("SELECT ") + event_columns +
                             " FROM events WHERE at >= ? AND at < ? ORDER BY at, id");
        s.bind(1, from).bind(2, until);
        while (s.step()) fn(read_event(s));
    }

    void scan_incidents(const IncidentQuery& q, const std::function<void(const Incident&)>& fn) override {
        std::vector<Param> params;
        const std::string sql = std::string("SELECT ") + incident_columns + " FROM incidents" + where_of(q, params) + " ORDER BY id";
        auto db = m_reads.acquire();
        auto s = db->prepare(sql);
        bind_all(s, params);
        while (s.step()) fn(read_incident(s));
    }

    // ---- media ----------------------------------------------------------------------------------

    MediaInfo save_media(std::span<const std::byte> bytes, const std::string& mime) override {
        MediaInfo m;
        m.hash = sha256_hex(bytes);
        m.mime = mime;
        m.size = static_cast<std::int64_t>(bytes.size());
        m.created_at = SystemClock().now();
        const fs::path target = media_path(m.hash);
        std::error_code ec;
        if (fs::exists(target, ec) && fs::file_size(target, ec) == bytes.size()) return m;  // deduplicated
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw store_error("cannot create media directory '" + target.parent_path().string() + "': " + ec.message());
        write_file_durably(target, bytes);
        return m;
    }

    std::optional<MediaInfo> media(const std::string& hash) override {
        auto db = m_reads.acquire();
        auto s = db->prepare("SELECT hash, mime, size, created_at FROM media WHERE hash = ?");
        s.bind(1, hash);
        if (!s.step()) return std::nullopt;
        return MediaInfo{s.text(0), s.text(1), s.int64(2), s.int64(3)};
    }

    fs::path media_path(const std::string& hash) const override {
        if (hash.size() < 8 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
            throw not_found_error("not a media hash: '" + hash + "'");
        }
        return m_media_dir / hash.substr(0, 2) / hash;
    }

    // ---- outbox ---------------------------------------------------------------------------------

    std::vector<OutboxMessage> outbox_due(Timestamp now, std::size_t limit) override {
        auto db = m_reads.acquire();
        auto s = db->prepare(
            "SELECT id, incident, event, department, topic, payload, created_at, delivered_at, attempts, next_attempt_at, "
            "last_error FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?");
        s.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
        std::vector<OutboxMessage> out;
        while (s.step()) {
            OutboxMessage m;
            m.id = s.int64(0);
            m.incident = s.int64(1);
            m.event = s.int64(2);
            m.department = s.text(3);
            m.topic = s.text(4);
            m.payload = s.text(5);
            m.created_at = s.int64(6);
            m.delivered_at = s.opt_int64(7);
            m.attempts = static_cast<int>(s.int64(8));
            m.next_attempt_at = s.int64(9);
            m.last_error = s.text(10);
            out.push_back(std::move(m));
        }
        return out;
    }

    void outbox_delivered(std::int64_t id, Timestamp at) override {
        write([&](Db& db) {
            auto s = db.prepare("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?");
            s.bind(1, at).bind(2, id);
            s.run();
            return 0;
        });
    }

    void outbox_failed(std::int64_t id, const std::string& error, Timestamp retry_at) override {
        write([&](Db& db) {
            auto s = db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?");
            s.bind(1, error).bind(2, retry_at).bind(3, id);
            s.run();
            return 0;
        });
    }

    // ---- maintenance ----------------------------------------------------------------------------

    void backup(const fs::path& target) override { backup_spatialite(m_options.path, target); }

    StoreStats stats() override {
        StoreStats st;
        auto db = m_reads.acquire();
        {
            auto s = db->prepare("SELECT status, count(*) FROM incidents GROUP BY status");
            while (s.step()) {
                if (auto status = parse_status(s.text_view(0))) st.incidents_by_status[*status] = s.int64(1);
                st.incidents += s.int64(1);
            }
        }
        st.events = db->scalar("SELECT count(*) FROM events").value_or(0);
        st.media = db->scalar("SELECT count(*) FROM media").value_or(0);
        st.outbox_pending = db->scalar("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").value_or(0);
        st.schema_version = static_cast<int>(db->scalar("PRAGMA user_version").value_or(0));
        if (m_writer) {
            st.commits = m_writer->commits();
            st.group_commits = m_writer->group_commits();
        }
        return st;
    }

    std::uint64_t data_version() const override { return m_data_version.load(); }

private:
    // `fn` runs inside the writer's transaction, possibly twice (see Writer::execute): it must act
    // on the database and its result only.
    template <class F>
    auto write(F&& fn) -> decltype(fn(std::declval<Db&>())) {
        if (!m_writer) throw store_error("the store is open read-only");
        return m_writer->submit(std::forward<F>(fn));
    }

    static std::string feature_filter(const FeatureQuery& q, std::vector<Param>& params) {
        std::string out;
        if (!q.code.empty()) {
            out += " AND code = ?";
            params.emplace_back(q.code);
        }
        if (q.bbox) {
            out += " AND id IN (SELECT pkid FROM idx_layer_features_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)";
            params.insert(params.end(), {q.bbox->maxx, q.bbox->minx, q.bbox->maxy, q.bbox->miny});
        }
        return out;
    }

    static Draft read_draft(Stmt& s) {
        Draft d;
        d.id = s.int64(0);
        d.layer = s.text(1);
        d.name = s.text(2);
        d.base_version = static_cast<int>(s.int64(3));
        d.created_by = s.text(4);
        d.created_at = s.int64(5);
        d.updated_at = s.int64(6);
        d.revision = s.int64(7);
        return d;
    }

    static DraftFeature read_draft_feature(Stmt& s) {
        DraftFeature d;
        LayerFeature& f = d.feature;
        f.code = s.text(0);
        f.name = s.text(1);
        f.parent = s.text(2);
        if (!s.is_null(3)) {
            const auto j = nlohmann::json::parse(s.text_view(3), nullptr, false);
            if (j.is_object())
                for (auto it = j.begin(); it != j.end(); ++it) f.properties[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
        }
        f.geometry = wkb().decode(sqlite3_column_blob(s.raw(), 4), static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), 4)));
        d.revision = s.int64(5);
        return d;
    }

    static void put_draft_feature(Db& db, std::int64_t draft, const LayerFeature& f, const std::string& blob, std::int64_t revision) {
        nlohmann::json props = nlohmann::json::object();
        for (const auto& [k, v] : f.properties) props[k] = v;
        auto s = db.prepare(
            "INSERT OR REPLACE INTO draft_features(draft, code, name, parent, properties, geom, revision) VALUES (?,?,?,?,?,?,?)");
        s.bind(1, draft).bind(2, f.code).bind(3, f.name).bind(4, f.parent).bind(5, props.dump());
        s.bind_blob(6, blob.data(), blob.size()).bind(7, revision);
        s.run();
    }

    static IntakeResult intake_one(Db& db, const NewIncident& n) {
        Incident inc = n.incident;
        if (!insert_incident(db, inc)) {
            auto s = db.prepare(select_incident_by_request_id);
            s.bind(1, n.incident.request_id);
            if (!s.step()) throw store_error("the incident with request id '" + n.incident.request_id + "' could not be read back");
            return {read_incident(s), false};
        }
        Event ev = n.first_event;
        ev.incident = inc.id;
        insert_event(db, ev, n.media, true);
        insert_outbox(db, inc.id, ev.id, n.outbox);
        return {std::move(inc), true};
    }

    static LayerVersion insert_version(Db& db, const std::string& layer_id, const std::vector<LayerFeature>& features,
                                       const std::vector<std::string>& blobs, Timestamp effective_from, Timestamp now,
                                       const std::string& note) {
        {
            auto s = db.prepare("SELECT 1 FROM layers WHERE id = ?");
            s.bind(1, layer_id);
            if (!s.step()) throw not_found_error("no layer '" + layer_id + "'");
        }
        int next = 1;
        {
            auto s = db.prepare("SELECT coalesce(max(version), 0) + 1 FROM layer_versions WHERE layer = ?");
            s.bind(1, layer_id);
            s.step();
            next = static_cast<int>(s.int64(0));
        }
        {
            auto s = db.prepare(
                "INSERT INTO layer_versions(layer, version, effective_from, published_at, note, features) VALUES (?,?,?,?,?,?)");
            s.bind(1, layer_id).bind(2, next).bind(3, effective_from).bind(4, now).bind(5, note);
            s.bind(6, static_cast<std::int64_t>(features.size()));
            s.run();
        }
        for (std::size_t i = 0; i < features.size(); ++i) {
            const LayerFeature& f = features[i];
            nlohmann::json props = nlohmann::json::object();
            for (const auto& [k, v] : f.properties) props[k] = v;
            const spatial::Box b = spatial::bounds(f.geometry);
            auto s = db.prepare(
                "INSERT INTO layer_features(layer, version, code, name, parent, properties, minx, miny, maxx, maxy, geom) "
                "VALUES (?,?,?,?,?,?,?,?,?,?, CastToMultiPolygon(GeomFromWKB(?, 4490)))");
            s.bind(1, layer_id).bind(2, next).bind(3, f.code).bind(4, f.name).bind(5, f.parent).bind(6, props.dump());
            s.bind(7, b.minx).bind(8, b.miny).bind(9, b.maxx).bind(10, b.maxy);
            s.bind_blob(11, blobs[i].data(), blobs[i].size());
            s.run();
        }
        return {layer_id, next, effective_from, now, note, static_cast<std::int64_t>(features.size())};
    }

    // Binds the fields of `i`, which must stay unchanged until `s` has run (its text is not copied).
    static void bind_incident_fields(Stmt& s, const Incident& i) {
        s.bind_text_or_null(1, borrowed(i.request_id)).bind(2, borrowed(to_string(i.source)));
        s.bind(3, borrowed(i.category)).bind(4, borrowed(i.description)).bind(5, borrowed(i.address));
        s.bind(6, i.location.x).bind(7, i.location.y).bind(8, i.original.x).bind(9, i.original.y);
        s.bind(10, borrowed(i.original_crs)).bind(11, borrowed(i.grid)).bind(12, i.grid_version);
        s.bind(13, borrowed(i.community)).bind(14, borrowed(i.town)).bind(15, i.outside ? 1 : 0);
        s.bind(16, i.distance_m).bind(17, borrowed(i.department)).bind(18, borrowed(i.sub_unit));
        s.bind(19, borrowed(to_string(i.status))).bind(20, i.due_at).bind(21, i.warned_at).bind(22, i.escalation_level);
        s.bind(23, i.next_check_at).bind(24, i.self_handled ? 1 : 0).bind(25, i.duplicate_of);
        if (i.rating) {
            s.bind(26, borrowed(to_string(*i.rating)));
        } else {
            s.bind_null(26);
        }
        s.bind(27, borrowed(i.reporter.name)).bind(28, borrowed(i.reporter.phone)).bind(29, borrowed(i.reporter.id));
        s.bind(30, i.reported_at).bind(31, i.updated_at).bind(32, i.closed_at);
        s.bind(33, join(i.media, ',')).bind(34, encode_business(i.business)).bind(37, i.warn_at);
    }

    // Inserts `i` and sets its id, or returns false (and inserts nothing) when an incident with
    // its request id exists: a retried report. The request id's unique index answers that within
    // the insert, so a new report costs no separate look-up.
    static bool insert_incident(Db& db, Incident& i) {
        auto s = db.prepare(
            "INSERT INTO incidents(request_id, source, category, description, address, lon, lat, orig_x, orig_y, orig_crs, "
            "grid, grid_version, community, town, outside, distance_m, department, sub_unit, status, due_at, warned_at, "
            "escalation_level, next_check_at, self_handled, duplicate_of, rating, reporter_name, reporter_phone, "
            "reporter_id, reported_at, updated_at, closed_at, media, business, geom, warn_at) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,"
            "?28,?29,?30,?31,?32,?33,?34,?35,?37) ON CONFLICT(request_id) DO NOTHING");
        bind_incident_fields(s, i);
        const auto blob = spatialite_point(i.location.x, i.location.y, 4490);
        s.bind_blob(35, blob.data(), blob.size());
        s.run();
        if (sqlite3_changes(db.raw()) == 0) return false;
        i.id = sqlite3_last_insert_rowid(db.raw());
        index_point(db, i.id, i.location);
        return true;
    }

    static void index_point(Db& db, IncidentId id, spatial::Point p) {
        auto s = db.prepare("INSERT OR REPLACE INTO idx_incidents_geom(pkid, xmin, xmax, ymin, ymax) VALUES (?,?,?,?,?)");
        s.bind(1, id).bind(2, p.x).bind(3, p.x).bind(4, p.y).bind(5, p.y);
        s.run();
    }

    static void update_incident(Db& db, const Incident& i, const Incident& before) {
        auto s = db.prepare(
            "UPDATE incidents SET request_id=?1, source=?2, category=?3, description=?4, address=?5, lon=?6, lat=?7, "
            "orig_x=?8, orig_y=?9, orig_crs=?10, grid=?11, grid_version=?12, community=?13, town=?14, outside=?15, "
            "distance_m=?16, department=?17, sub_unit=?18, status=?19, due_at=?20, warned_at=?21, escalation_level=?22, "
            "next_check_at=?23, self_handled=?24, duplicate_of=?25, rating=?26, reporter_name=?27, reporter_phone=?28, "
            "reporter_id=?29, reported_at=?30, updated_at=?31, closed_at=?32, media=?33, business=?34, geom=?36, "
            "warn_at=?37 WHERE id=?35");
        bind_incident_fields(s, i);
        s.bind(35, i.id);
        const auto blob = spatialite_point(i.location.x, i.location.y, 4490);
        s.bind_blob(36, blob.data(), blob.size());
        s.run();
        if (i.location != before.location) index_point(db, i.id, i.location);
    }

    // `first`: the incident is new, so this is event 1.
    static void insert_event(Db& db, Event& e, const std::vector<MediaInfo>& media, bool first = false, int known_seq = 0) {
        if (first) {
            e.seq = 1;
        } else if (known_seq > 0) {
            e.seq = known_seq;
        } else {
            auto s = db.prepare("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE incident = ?");
            s.bind(1, e.incident);
            s.step();
            e.seq = static_cast<int>(s.int64(0));
        }
        auto s = db.prepare(
            "INSERT INTO events(incident, seq, at, actor, role, action, from_status, to_status, note, media, data) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
        s.bind(1, e.incident).bind(2, e.seq).bind(3, e.at).bind(4, borrowed(e.actor));
        s.bind(5, borrowed(to_string(e.role))).bind(6, borrowed(e.action));
        if (e.from) {
            s.bind(7, borrowed(to_string(*e.from)));
        } else {
            s.bind_null(7);
        }
        if (e.to) {
            s.bind(8, borrowed(to_string(*e.to)));
        } else {
            s.bind_null(8);
        }
        s.bind(9, borrowed(e.note)).bind(10, join(e.media, ',')).bind_text_or_null(11, borrowed(e.data));
        s.run();
        e.id = sqlite3_last_insert_rowid(db.raw());
        for (const MediaInfo& m : media) {
            auto ins = db.prepare("INSERT OR IGNORE INTO media(hash, mime, size, created_at) VALUES (?,?,?,?)");
            ins.bind(1, m.hash).bind(2, m.mime).bind(3, m.size).bind(4, m.created_at);
            ins.run();
            auto link = db.prepare("INSERT INTO media_links(hash, incident, event) VALUES (?,?,?)");
            link.bind(1, m.hash).bind(2, e.incident).bind(3, e.id);
            link.run();
        }
    }

    static void insert_outbox(Db& db, IncidentId incident, std::int64_t event, const std::vector<OutboxMessage>& msgs) {
        for (const auto& m : msgs) {
            auto s = db.prepare(
                "INSERT INTO outbox(incident, event, department, topic, payload, created_at, next_attempt_at) VALUES "
                "(?,?,?,?,?,?,?)");
            s.bind(1, incident).bind(2, event).bind_text_or_null(3, borrowed(m.department));
            s.bind(4, borrowed(m.topic)).bind(5, borrowed(m.payload));
            s.bind(6, m.created_at).bind(7, m.next_attempt_at != 0 ? m.next_attempt_at : m.created_at);
            s.run();
        }
    }

    SpatialiteOptions m_options;
    fs::path m_media_dir;
    std::atomic<std::uint64_t> m_data_version{1};
    ReadPool m_reads;
    std::unique_ptr<Writer> m_writer;
};

}  // namespace

int spatialite_schema_version() noexcept { return detail::latest_schema_version(); }

std::unique_ptr<Store> open_spatialite_store(const SpatialiteOptions& options) {
    return std::make_unique<SpatialiteStore>(options);
}

void backup_spatialite(const fs::path& db_path, const fs::path& target) {
    if (!fs::exists(db_path)) throw store_error("database '" + db_path.string() + "' does not exist");
    detail::inspect_database(db_path.string());
    const fs::path tmp = target.string() + ".tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    {
        Db src(db_path.string(), SQLITE_OPEN_READWRITE);
        Db dst(tmp.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        sqlite3_backup* b = sqlite3_backup_init(dst.raw(), "main", src.raw(), "main");
        if (b == nullptr) throw store_error("cannot start a backup: " + std::string(sqlite3_errmsg(dst.raw())));
        int rc = SQLITE_OK;
        // Copy in steps so that the writer is never held up for long; a write during the copy
        // makes SQLite restart it, which keeps the copy consistent.
        while ((rc = sqlite3_backup_step(b, 1024)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (rc != SQLITE_OK) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) {
            fs::remove(tmp, ec);
            throw store_error("backup of '" + db_path.string() + "' failed: " + sqlite3_errstr(rc));
        }
        // A single self-contained file: no WAL needed to read the copy.
        dst.exec("PRAGMA journal_mode = DELETE");
    }
    fsync_path(tmp, O_RDONLY);
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        fs::remove(tmp, ec);
        throw store_error("cannot move the backup into place at '" + target.string() + "': " + std::strerror(err));
    }
    fsync_path(fs::absolute(target).parent_path(), O_RDONLY | O_DIRECTORY);
}

}  // namespace onegrid::core
