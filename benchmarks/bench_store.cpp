// The store's hot paths: durable intake (every incident synced before it is acknowledged) with one
// and with 32 concurrent callers, and bbox queries over 1,000,000 stored incidents.
//
//   bench_store [--benchmark_filter=...]
//
// benchmarks/peers/postgres_store.sh runs the same workloads on PostgreSQL/PostGIS in the same run.
// The database files live under $ONEGRID_BENCH_DIR (default /tmp/onegrid-bench).

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/data/demo_district.hpp"

using namespace onegrid;
using namespace onegrid::core;
namespace fs = std::filesystem;

namespace {

fs::path bench_dir() {
    const char* env = std::getenv("ONEGRID_BENCH_DIR");
    fs::path p = env != nullptr ? env : "/tmp/onegrid-bench";
    fs::create_directories(p);
    return p;
}

// A realistic report: a grid worker's photo report with its assignment and first event.
NewIncident report(std::int64_t n, data::Random& rng, const std::string& prefix) {
    NewIncident ni;
    Incident& i = ni.incident;
    i.request_id = prefix + std::to_string(n);
    i.source = Source::grid_worker;
    i.category = "01" + std::to_string(10 + n % 40);
    i.description = "道路破损，影响通行";
    i.address = "登州街道钟楼社区";
    i.location = {rng.uniform(120.55, 120.85), rng.uniform(37.50, 37.80)};
    i.original = i.location;
    i.original_crs = "gcj02";
    i.grid = "370614001001" + std::to_string(100 + n % 900);
    i.grid_version = 1;
    i.community = i.grid.substr(0, 12);
    i.town = i.grid.substr(0, 9);
    i.business = {{"policing.beats", "PB" + std::to_string(n % 60), 1}, {"health.areas", "HA" + std::to_string(n % 17), 1}};
    i.status = Status::reported;
    i.reporter = {"网格员", "13800000000", "gw" + std::to_string(n % 1115)};
    i.reported_at = 1'770'000'000'000 + n;
    i.updated_at = i.reported_at;
    ni.first_event.at = i.reported_at;
    ni.first_event.actor = i.reporter.id;
    ni.first_event.role = Role::grid_worker;
    ni.first_event.action = "report";
    ni.first_event.to = Status::reported;
    OutboxMessage m;
    m.topic = "incident.reported";
    m.payload = R"({"incident":"new"})";
    m.created_at = i.reported_at;
    ni.outbox.push_back(m);
    return ni;
}

// CPU seconds of this process's busiest thread: during intake, the store's writer thread, the
// stage every write passes through one at a time.
double busiest_thread_cpu_seconds() {
    double best = 0;
    for (const auto& t : fs::directory_iterator("/proc/self/task")) {
        std::ifstream in(t.path() / "stat");
        std::string line;
        std::getline(in, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(line.substr(close + 2));
        std::string f;
        double ticks = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i)
            if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
        best = std::max(best, ticks / static_cast<double>(sysconf(_SC_CLK_TCK)));
    }
    return best;
}

std::unique_ptr<Store> fresh_store(const std::string& name) {
    const fs::path p = bench_dir() / name;
    fs::remove(p);
    fs::remove(p.string() + "-wal");
    fs::remove(p.string() + "-shm");
    fs::remove_all(p.string() + ".media");
    SpatialiteOptions o;
    o.path = p;
    o.wal_reserve_bytes = busy_wal_reserve;  // as `onegrid serve` opens its store
    return open_spatialite_store(o);
}

void report_intake(benchmark::State& state, Store& store, std::int64_t total, double secs) {
    state.SetIterationTime(secs);
    const auto st = store.stats();
    state.counters["writer_us_per_item"] = busiest_thread_cpu_seconds() * 1e6 / static_cast<double>(total);
    state.counters["commits"] = static_cast<double>(st.commits);
    state.counters["per_commit"] = static_cast<double>(total) / static_cast<double>(std::max<std::uint64_t>(1, st.commits));
}

// `callers` threads each ingest until `total` incidents are acknowledged; the wall time is reported.
void durable_intake(benchmark::State& state, int callers) {
    const auto total = static_cast<std::int64_t>(state.range(0));
    for (auto _ : state) {
        auto store = fresh_store("intake.db");
        std::atomic<std::int64_t> next{0};
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> threads;
        for (int c = 0; c < callers; ++c) {
            threads.emplace_back([&, c] {
                data::Random rng(static_cast<std::uint64_t>(c) + 1);
                for (std::int64_t n; (n = next.fetch_add(1)) < total;) store->intake(report(n, rng, "r"));
            });
        }
        for (auto& t : threads) t.join();
        report_intake(state, *store, total, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    state.SetItemsProcessed(state.iterations() * total);
}

// `callers` callers served by `threads` client threads, the way pgbench -c 32 -j 2 (the peer) and
// the server's I/O threads serve theirs: each caller has one intake outstanding and sends its next
// only once the last one is acknowledged, and a client thread sleeps only while none of its
// callers has an answer.
void durable_intake_multiplexed(benchmark::State& state, int callers, int threads) {
    const auto total = static_cast<std::int64_t>(state.range(0));
    struct Client {
        std::mutex m;
        std::condition_variable cv;
        std::vector<int> answered;  // callers whose last intake was acknowledged
        std::exception_ptr error;
    };
    for (auto _ : state) {
        auto store = fresh_store("intake.db");
        std::atomic<std::int64_t> next{0};
        std::vector<Client> clients(static_cast<std::size_t>(threads));
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                Client& me = clients[static_cast<std::size_t>(t)];
                data::Random rng(static_cast<std::uint64_t>(t) + 1);
                std::vector<int> ready;
                for (int c = t; c < callers; c += threads) ready.push_back(c);
                std::size_t outstanding = 0;
                while (true) {
                    for (const int c : ready) {
                        const std::int64_t n = next.fetch_add(1);
                        if (n >= total) continue;  // this caller is done
                        ++outstanding;
                        store->intake_async(report(n, rng, "r"), [&me, c](std::optional<IntakeResult>, std::exception_ptr e) {
                            {
                                std::lock_guard lock(me.m);
                                if (e && !me.error) me.error = e;
                                me.answered.push_back(c);
                            }
                            me.cv.notify_one();
                        });
                    }
                    ready.clear();
                    if (outstanding == 0) return;
                    std::unique_lock lock(me.m);
                    me.cv.wait(lock, [&] { return !me.answered.empty(); });
                    ready.swap(me.answered);
                    outstanding -= ready.size();
                    if (me.error) ready.clear();  // send nothing more; wait for what is outstanding
                }
            });
        }
        for (auto& t : pool) t.join();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (auto& c : clients) {
            if (!c.error) continue;
            try {
                std::rethrow_exception(c.error);
            } catch (const std::exception& e) {
                state.SkipWithError(e.what());
            }
            break;
        }
        report_intake(state, *store, total, secs);
    }
    state.SetItemsProcessed(state.iterations() * total);
}

}  // namespace

static void BM_Intake_Durable_1Caller(benchmark::State& state) { durable_intake(state, 1); }
BENCHMARK(BM_Intake_Durable_1Caller)->Arg(5000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

// A few callers: between the quiet store, where the writer syncs a lone write itself, and the
// busy one, where writes and syncs overlap.
static void BM_Intake_Durable_FewCallers(benchmark::State& state) { durable_intake(state, static_cast<int>(state.range(1))); }
BENCHMARK(BM_Intake_Durable_FewCallers)
    ->ArgNames({"intakes", "callers"})
    ->Args({10000, 2})
    ->Args({10000, 4})
    ->Args({20000, 8})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

static void BM_Intake_Durable_32Callers(benchmark::State& state) { durable_intake(state, 32); }
BENCHMARK(BM_Intake_Durable_32Callers)->Arg(100000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

static void BM_Intake_Durable_32Callers_2ClientThreads(benchmark::State& state) { durable_intake_multiplexed(state, 32, 2); }
BENCHMARK(BM_Intake_Durable_32Callers_2ClientThreads)->Arg(100000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);

namespace {

// 1,000,000 incidents uniform over 0.3° × 0.3°; built once and kept between runs.
Store& million() {
    static std::unique_ptr<Store> store = [] {
        const fs::path p = bench_dir() / "million.db";
        SpatialiteOptions o;
        o.path = p;
        auto s = open_spatialite_store(o);
        if (s->count_incidents({}) != 1'000'000) {
            s.reset();
            s = fresh_store("million.db");
            data::Random rng(11);
            for (std::int64_t start = 0; start < 1'000'000; start += 20000) {
                std::vector<NewIncident> batch;
                for (std::int64_t n = start; n < start + 20000; ++n) batch.push_back(report(n, rng, "m"));
                s->intake_many(batch);
            }
            // Closing copies the WAL into the database, so that the queries below read the
            // database as a long-running store would, not through a WAL of the last 256 MB.
            s.reset();
            s = open_spatialite_store(o);
        }
        return s;
    }();
    return *store;
}

}  // namespace

static void BM_BboxQuery_1000of1M(benchmark::State& state) {
    Store& store = million();
    // 1,000,000 points over 0.09 deg²: a square of side 0.0095° holds ~1,000 on average.
    const double side = std::sqrt(0.09 / 1000.0);
    data::Random rng(3);
    std::int64_t returned = 0;
    for (auto _ : state) {
        const double x = rng.uniform(120.55, 120.85 - side);
        const double y = rng.uniform(37.50, 37.80 - side);
        IncidentQuery q;
        q.bbox = spatial::Box{x, y, x + side, y + side};
        q.limit = 0;
        const auto found = store.incidents(q);
        returned += static_cast<std::int64_t>(found.size());
        benchmark::DoNotOptimize(found.data());
    }
    state.counters["returned_avg"] = static_cast<double>(returned) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BboxQuery_1000of1M)->Unit(benchmark::kMillisecond);

static void BM_BboxCount_1000of1M(benchmark::State& state) {
    Store& store = million();
    const double side = std::sqrt(0.09 / 1000.0);
    data::Random rng(4);
    for (auto _ : state) {
        const double x = rng.uniform(120.55, 120.85 - side);
        const double y = rng.uniform(37.50, 37.80 - side);
        IncidentQuery q;
        q.bbox = spatial::Box{x, y, x + side, y + side};
        benchmark::DoNotOptimize(store.count_incidents(q));
    }
}
BENCHMARK(BM_BboxCount_1000of1M)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
