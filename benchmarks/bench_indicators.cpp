// Indicators at scale: every count and rate for the 1,115 grids of the demo district × 12 months
// over 1,000,000 cases, computed from the in-memory CaseLog, against the same aggregation in SQL on
// SQLite over the same database file, in the same run; every grid × month cell of the counts both
// can compute is compared. Also: building the log from the store, the growth with the number of
// cases (100k, 300k, 1M), the other unit kinds, the monthly assessment and the hotspots.
//
//   bench_indicators [--benchmark_filter=...]
//
// The databases are generated once with `onegrid demo-history` (a year of cases with full event
// logs, up to 2026-11-29 12:00 Beijing time) into benchmarks/results/indicators-N.db and reused.
// ONEGRID_BENCH_SIZES (default 100000,300000,1000000) chooses the sizes.
//
// The SQL peer takes each handling's deadline from the incident (the last dispatch's); that is
// exact for this data (demo-history neither reopens cases nor handles before a return), and the
// cross-check would show otherwise. It cannot compute the deadline of a first dispatch that was
// returned (that needs the working calendar), so 应结案数 and 超期数 are compared as totals only, the
// difference being the rounds returned after their deadline (which OneGrid counts).

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "onegrid/core/assessment.hpp"
#include "onegrid/core/hotspots.hpp"
#include "onegrid/core/indicators.hpp"
#include "onegrid/core/spatialite_store.hpp"

using namespace onegrid;
using namespace onegrid::core;
namespace fs = std::filesystem;

namespace {

using Steady = std::chrono::steady_clock;
double seconds_since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

const Timestamp year_start = *parse_iso8601("2026-01-01T00:00:00+08:00");
const Timestamp year_end = *parse_iso8601("2027-01-01T00:00:00+08:00");
const Timestamp hotspot_end = *parse_iso8601("2026-11-29T12:00:00+08:00");  // the end of the generated history

double rss_mb() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

fs::path database(std::int64_t n) {
    const fs::path dir = ONEGRID_RESULTS_DIR;
    fs::create_directories(dir);
    const fs::path db = dir / ("indicators-" + std::to_string(n) + ".db");
    if (fs::exists(db)) return db;
    const fs::path building = db.string() + ".building";
    fs::remove(building);
    fs::remove(building.string() + "-wal");
    fs::remove(building.string() + "-shm");
    fs::remove_all(building.string() + ".media");
    fs::copy_file(ONEGRID_DEMO_DB, building);
    std::cerr << "generating " << db << " with onegrid demo-history (" << n << " cases, about " << n / 3000 + 5
              << " s; kept for later runs)\n";
    const std::string cmd = std::string("'") + ONEGRID_CLI + "' demo-history --db '" + building.string() + "' --incidents " +
                            std::to_string(n) + " --to 2026-11-29T12:00:00+08:00 >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("onegrid demo-history failed: " + cmd);
    fs::rename(building, db);
    fs::remove_all(building.string() + ".media");
    return db;
}

// The cached database, upgraded in place once if an older build wrote it.
std::unique_ptr<Store> open_read_only(const fs::path& db) {
    SpatialiteOptions o;
    o.path = db;
    o.create = false;
    o.read_only = true;
    try {
        return open_spatialite_store(o);
    } catch (const schema_error& e) {
        if (std::string(e.what()).find("older schema") == std::string::npos) throw;
    }
    std::cerr << "upgrading " << db << " to the current schema\n";
    o.read_only = false;
    open_spatialite_store(o).reset();
    const std::string backup = db.filename().string() + ".pre-v";
    for (const auto& f : fs::directory_iterator(db.parent_path()))
        if (f.path().filename().string().starts_with(backup)) fs::remove_all(f.path());
    o.read_only = true;
    return open_spatialite_store(o);
}

struct World {
    std::int64_t incidents = 0;
    fs::path db;
    CaseLog log;
    std::size_t events = 0;
    double load_s = 0;
    double load_cpu_s = 0;
    double log_mb = 0;
    std::vector<UnitInfo> grids;
};

std::vector<Period> months() { return calendar_periods(PeriodKind::month, year_start, year_end); }

// All indicators of every unit of a kind × 12 months: the counts, then every rate and the mean
// handling time of every cell (what a report or the dashboard shows).
double all_indicators(const World& w, UnitKind kind, IndicatorTable* out = nullptr) {
    IndicatorQuery q;
    q.unit = kind;
    q.periods = months();
    if (kind == UnitKind::grid) q.units = w.grids;
    IndicatorTable t = w.log.indicators(q);
    double check = 0;
    for (const Counts& c : t.counts) {
        for (RateId r : all_rates) check += rate(c, r).value().value_or(0.0);
        check += mean_handling_hours(c).value_or(0.0);
    }
    if (out != nullptr) *out = std::move(t);
    return check;
}

// ---- the SQL peer ------------------------------------------------------------------------------

const char* const peer_sql = R"SQL(
WITH
asof AS (SELECT max(at) AS t FROM events),
e AS (
  SELECT incident, seq, at, action, data,
    max(CASE WHEN action IN ('dispatch','verify_fail','reopen') THEN at END)
      OVER (PARTITION BY incident ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS handover,
    min(CASE WHEN action = 'handle' THEN seq END)
      OVER (PARTITION BY incident ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_handle,
    min(CASE WHEN action IN ('verify_fail','reopen') THEN seq END)
      OVER (PARTITION BY incident ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_back
  FROM events
  WHERE action IN ('report','register','void','dispatch','handle','verify_fail','reopen','self_handle','rate')
),
steps AS (
  SELECT i.grid AS grid,
    strftime('%Y-%m', ((CASE WHEN e.action = 'report' THEN i.reported_at ELSE e.at END) + 28800000) / 1000, 'unixepoch') AS month,
    e.action AS action,
    e.action = 'handle' AND e.at <= i.due_at AS in_time,
    e.action = 'handle' AND e.next_back IS NOT NULL AND (e.next_handle IS NULL OR e.next_back < e.next_handle) AS reworked,
    CASE WHEN e.action = 'handle' THEN e.at - e.handover ELSE 0 END AS handling_ms,
    CASE WHEN e.action = 'rate' THEN json_extract(e.data, '$.rating') END AS rating
  FROM e JOIN incidents i ON i.id = e.incident
  WHERE i.grid <> '' AND e.action NOT IN ('verify_fail','reopen')
),
rounds AS (
  SELECT i.grid AS grid,
    strftime('%Y-%m', (i.due_at + 28800000) / 1000, 'unixepoch') AS month,
    i.closed_at IS NOT NULL AS closed,
    i.closed_at IS NOT NULL AND i.closed_at <= i.due_at AS closed_in_time,
    i.due_at <= (SELECT t FROM asof) AS passed,
    (SELECT x.to_status FROM events x WHERE x.incident = i.id AND x.at <= i.due_at ORDER BY x.seq DESC LIMIT 1)
      IN ('dispatched','accepted','rework') AS running
  FROM incidents i
  WHERE i.due_at IS NOT NULL AND i.grid <> ''
),
cells AS (
  SELECT grid, month,
    sum(reported) AS reported, sum(registered) AS registered, sum(voided) AS voided, sum(dispatched) AS dispatched,
    sum(handled) AS handled, sum(handled_in_time) AS handled_in_time, sum(reworked) AS reworked,
    sum(due) AS due, sum(closed) AS closed, sum(closed_in_time) AS closed_in_time, sum(overdue) AS overdue,
    sum(self_handled) AS self_handled, sum(rated) AS rated, sum(satisfied) AS satisfied,
    sum(basically) AS basically, sum(unsatisfied) AS unsatisfied, sum(handling_ms) AS handling_ms
  FROM (
    SELECT grid, month, action = 'report' AS reported, action = 'register' AS registered, action = 'void' AS voided,
      action = 'dispatch' AS dispatched, action = 'handle' AS handled, in_time AS handled_in_time, reworked,
      0 AS due, 0 AS closed, 0 AS closed_in_time, 0 AS overdue, action = 'self_handle' AS self_handled,
      action = 'rate' AS rated, rating = 'satisfied' AS satisfied, rating = 'basically_satisfied' AS basically,
      rating = 'unsatisfied' AS unsatisfied, handling_ms
    FROM steps
    UNION ALL
    SELECT grid, month, 0, 0, 0, 0, 0, 0, 0, 1, closed, closed AND closed_in_time, passed AND running, 0, 0, 0, 0, 0, 0
    FROM rounds WHERE passed OR closed
  )
  GROUP BY grid, month
)
SELECT grid, month, reported, registered, voided, dispatched, handled, handled_in_time, reworked, due, closed,
  closed_in_time, overdue, self_handled, rated, satisfied, basically, unsatisfied, handling_ms,
  CAST(closed AS REAL) / nullif(due, 0), CAST(closed_in_time AS REAL) / nullif(due, 0),
  CAST(handled_in_time AS REAL) / nullif(handled, 0), CAST(reworked AS REAL) / nullif(handled, 0),
  CAST(satisfied + basically AS REAL) / nullif(rated, 0), handling_ms / 3600000.0 / nullif(handled, 0)
FROM cells WHERE month BETWEEN '2026-01' AND '2026-12'
)SQL";

struct PeerCell {
    std::string grid;
    std::string month;
    Counts counts;
};

std::vector<PeerCell> run_peer(const fs::path& db) {
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        throw std::runtime_error("cannot open " + db.string() + ": " + sqlite3_errmsg(h));
    }
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(h, &sqlite3_close);
    sqlite3_exec(h, "PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY;", nullptr, nullptr, nullptr);
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, peer_sql, -1, &s, nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("peer SQL: ") + sqlite3_errmsg(h));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(s, &sqlite3_finalize);
    std::vector<PeerCell> out;
    double check = 0;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        PeerCell c;
        c.grid = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        c.month = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
        std::int64_t* f[] = {&c.counts.reported,  &c.counts.registered,     &c.counts.voided,    &c.counts.dispatched,
                             &c.counts.handled,   &c.counts.handled_in_time, &c.counts.reworked, &c.counts.due,
                             &c.counts.closed,    &c.counts.closed_in_time, &c.counts.overdue,   &c.counts.self_handled,
                             &c.counts.rated,     &c.counts.satisfied,      &c.counts.basically_satisfied,
                             &c.counts.unsatisfied, &c.counts.handling_ms};
        for (int k = 0; k < 17; ++k) *f[k] = sqlite3_column_int64(s, 2 + k);
        for (int k = 19; k < 25; ++k) check += sqlite3_column_double(s, k);
        out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("peer SQL: ") + sqlite3_errmsg(h));
    benchmark::DoNotOptimize(check);
    return out;
}

// ---- results -----------------------------------------------------------------------------------

std::map<std::int64_t, World> worlds;
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Wall and CPU time of the fastest run (the machine may be shared: CPU time shows the work).
struct Timing {
    double best_ms = 1e300;
    double cpu_ms = 0;
    void add(double ms, double cpu) {
        if (ms < best_ms) {
            best_ms = ms;
            cpu_ms = cpu;
        }
    }
};
struct Stopwatch {
    Steady::time_point wall = Steady::now();
    double cpu = cpu_seconds();
    void stop(Timing& t) const { t.add(seconds_since(wall) * 1e3, (cpu_seconds() - cpu) * 1e3); }
};
std::map<std::string, Timing> timings;
std::map<std::int64_t, std::vector<PeerCell>> peer_results;
std::atomic<bool> printed_hotspots{false};
std::string hotspot_summary;

void bench_indicators(benchmark::State& state, std::int64_t n, UnitKind kind) {
    const World& w = worlds.at(n);
    Timing& t = timings[std::string(to_string(kind)) + "/" + std::to_string(n)];
    for (auto _ : state) {
        const Stopwatch sw;
        benchmark::DoNotOptimize(all_indicators(w, kind));
        sw.stop(t);
    }
    state.counters["cases"] = static_cast<double>(w.log.size());
}

void bench_peer(benchmark::State& state, std::int64_t n) {
    const World& w = worlds.at(n);
    Timing& t = timings["sqlite/" + std::to_string(n)];
    for (auto _ : state) {
        const Stopwatch sw;
        auto cells = run_peer(w.db);
        state.SetIterationTime(seconds_since(sw.wall));
        sw.stop(t);
        peer_results[n] = std::move(cells);
    }
}

void bench_assessment(benchmark::State& state, std::int64_t n, const AssessmentConfig& config) {
    const World& w = worlds.at(n);
    Timing& t = timings["assessment/" + std::to_string(n)];
    for (auto _ : state) {
        const Stopwatch sw;
        IndicatorTable table;
        all_indicators(w, UnitKind::grid, &table);
        std::vector<Assessment> months_assessed;
        for (std::size_t p = 0; p < table.periods.size(); ++p) months_assessed.push_back(assess(table, p, config));
        const std::string csv = report_csv(months_assessed);
        benchmark::DoNotOptimize(csv.data());
        sw.stop(t);
    }
}

void bench_hotspots(benchmark::State& state, std::int64_t n, const GridAdjacency& adjacency) {
    const World& w = worlds.at(n);
    Timing& t = timings["hotspots/" + std::to_string(n)];
    std::size_t flagged = 0, hot = 0, spots = 0;
    for (auto _ : state) {
        const Stopwatch sw;
        const auto r = find_hotspots(w.log, adjacency, hotspot_end);
        sw.stop(t);
        flagged = 0;
        hot = 0;
        for (const auto& e : r.emerging) flagged += e.flagged;
        for (const auto& g : r.gi_star) hot += g.cls >= GiClass::hot_95;
        spots = r.recurring.size();
    }
    if (n == worlds.rbegin()->first && !printed_hotspots.exchange(true)) {
        const auto r = find_hotspots(w.log, adjacency, hotspot_end);
        std::string grids;
        for (const auto& e : r.emerging)
            if (e.flagged && e.category.empty()) {
                char buf[160];
                std::snprintf(buf, sizeof buf, " %s (c=%lld, b=%lld, p=%.1e, q=%.2f)", e.grid.c_str(),
                              static_cast<long long>(e.current), static_cast<long long>(e.trailing), e.p_value, e.q_value);
                grids += buf;
            }
        std::string hot99;
        for (const auto& g : r.gi_star)
            if (g.cls == GiClass::hot_99) hot99 += " " + g.grid;
        hotspot_summary = "emerging hotspots (grid level, week to " + format_iso8601(hotspot_end) + "):" + grids +
                          "\nGi* hot at 99% (28 days):" + hot99 + "\n";
    }
    state.counters["emerging_flagged"] = static_cast<double>(flagged);
    state.counters["gi_hot95"] = static_cast<double>(hot);
    state.counters["recurring"] = static_cast<double>(spots);
}

// Compares every grid × month cell the peer returned with ours; returns the number of differences
// in the counts compared exactly, and fills the totals of the two deadline counts.
std::int64_t cross_check(std::int64_t n, Counts& ours_total, Counts& peer_total, std::int64_t& cells) {
    IndicatorTable t;
    all_indicators(worlds.at(n), UnitKind::grid, &t);
    std::map<std::string, std::size_t> month_index;
    for (std::size_t p = 0; p < t.periods.size(); ++p) month_index[t.periods[p].label] = p;
    std::int64_t differences = 0;
    Counts peer_sum;
    cells = 0;
    auto exact = [](const Counts& c) {
        Counts x = c;
        x.due = 0;
        x.overdue = 0;
        return x;
    };
    for (const PeerCell& c : peer_results.at(n)) {
        const auto u = t.find(c.grid);
        const auto m = month_index.find(c.month);
        if (!u || m == month_index.end()) {
            if (++differences <= 5) std::cerr << "cross-check: the peer has " << c.grid << " " << c.month << ", OneGrid does not\n";
            continue;
        }
        ++cells;
        peer_sum += c.counts;
        if (exact(t.at(*u, m->second)) != exact(c.counts)) {
            if (++differences <= 5) {
                const Counts& o = t.at(*u, m->second);
                std::cerr << "cross-check: " << c.grid << " " << c.month << " differs: handled " << o.handled << "/"
                          << c.counts.handled << ", in time " << o.handled_in_time << "/" << c.counts.handled_in_time
                          << ", reworked " << o.reworked << "/" << c.counts.reworked << ", closed " << o.closed << "/"
                          << c.counts.closed << ", rated " << o.rated << "/" << c.counts.rated << ", ms "
                          << o.handling_ms << "/" << c.counts.handling_ms << "\n";
            }
        }
    }
    Counts ours_sum;
    for (const Counts& c : t.counts) ours_sum += c;
    // Cells OneGrid has and the peer lacks show up as different totals.
    if (exact(ours_sum) != exact(peer_sum)) {
        ++differences;
        std::cerr << "cross-check: the totals differ\n";
    }
    ours_total = ours_sum;
    peer_total = peer_sum;
    return differences;
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    std::vector<std::int64_t> sizes;
    {
        const char* env = std::getenv("ONEGRID_BENCH_SIZES");
        std::stringstream list(env != nullptr ? env : "100000,300000,1000000");
        for (std::string item; std::getline(list, item, ',');)
            if (!item.empty()) sizes.push_back(std::stoll(item));
    }
    const auto config = AssessmentConfig::load(fs::path(ONEGRID_SOURCE_DIR) / "data/assessment/weights.json");
    GridAdjacency adjacency;
    double adjacency_s = 0;
    try {
        for (std::int64_t n : sizes) {
            World& w = worlds[n];
            w.incidents = n;
            w.db = database(n);
            auto store = open_read_only(w.db);
            w.grids = load_units(*store, UnitKind::grid, year_start);
            if (adjacency.codes.empty()) {
                const auto t0 = Steady::now();
                adjacency = load_grid_adjacency(*store, year_start);
                adjacency_s = seconds_since(t0);
            }
            const double before = rss_mb();
            const Stopwatch sw;
            w.log = CaseLog::load(*store);
            w.load_s = seconds_since(sw.wall);
            w.load_cpu_s = cpu_seconds() - sw.cpu;
            store.reset();
            w.log_mb = rss_mb() - before;
            w.events = w.log.event_count();
            std::cerr << "loaded " << w.log.size() << " cases, " << w.events << " events from " << w.db.filename() << " in "
                      << w.load_s << " s\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "bench_indicators: " << e.what() << "\n";
        return 1;
    }
    const std::int64_t largest = sizes.back();
    for (std::int64_t n : sizes) {
        benchmark::RegisterBenchmark(("indicators/grids_x_12_months/" + std::to_string(n)).c_str(),
                                     [n](benchmark::State& s) { bench_indicators(s, n, UnitKind::grid); })
            ->Unit(benchmark::kMillisecond);
    }
    for (UnitKind kind : {UnitKind::town, UnitKind::department, UnitKind::grid_worker, UnitKind::district}) {
        benchmark::RegisterBenchmark(("indicators/" + std::string(to_string(kind)) + "_x_12_months/" + std::to_string(largest)).c_str(),
                                     [largest, kind](benchmark::State& s) { bench_indicators(s, largest, kind); })
            ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("assessment/grids_12_months_csv/" + std::to_string(largest)).c_str(),
                                 [largest, &config](benchmark::State& s) { bench_assessment(s, largest, config); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("hotspots/emerging_gi_recurring/" + std::to_string(largest)).c_str(),
                                 [largest, &adjacency](benchmark::State& s) { bench_hotspots(s, largest, adjacency); })
        ->Unit(benchmark::kMillisecond);
    for (std::int64_t n : sizes) {
        benchmark::RegisterBenchmark(("peer/sqlite_grids_x_12_months/" + std::to_string(n)).c_str(),
                                     [n](benchmark::State& s) { bench_peer(s, n); })
            ->Unit(benchmark::kMillisecond)
            ->UseManualTime()
            ->Iterations(1);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    std::printf("\nAll indicators, 1,115 grids x 12 months of 2026 (Beijing time), one thread; best of the runs\n");
    std::printf("%8s %8s %14s %7s %16s %18s %12s  %s\n", "cases", "events", "build log s", "log MB", "OneGrid ms",
                "SQLite ms", "ratio", "cross-check (every grid x month)");
    std::printf("%8s %8s %14s %7s %16s %18s %12s\n", "", "", "wall (cpu)", "", "wall (cpu)", "wall (cpu)", "wall (cpu)");
    int failures = 0;
    for (std::int64_t n : sizes) {
        const World& w = worlds.at(n);
        const auto ours = timings.find("grid/" + std::to_string(n));
        const auto peer = timings.find("sqlite/" + std::to_string(n));
        std::string check = "not run";
        if (peer_results.count(n) != 0) {
            Counts o, p;
            std::int64_t cells = 0;
            auto diff = cross_check(n, o, p, cells);
            // Every round OneGrid counts beyond the peer was returned after its deadline: due and
            // overdue (the department held it at the deadline), so both differ by the same number.
            const auto extra = o.due - p.due;
            if (extra < 0 || o.overdue - p.overdue != extra || o.closed != p.closed) {
                std::cerr << "cross-check: the deadline counts differ beyond the returned rounds\n";
                ++diff;
            }
            char buf[400];
            std::snprintf(buf, sizeof buf,
                          "%s: %lld cells, 15 counts equal%s; due %lld vs %lld, overdue %lld vs %lld (the same %lld "
                          "rounds returned after their deadline, which only OneGrid knows)",
                          diff == 0 ? "PASS" : "FAIL", static_cast<long long>(cells), diff == 0 ? "" : " NOT",
                          static_cast<long long>(o.due), static_cast<long long>(p.due), static_cast<long long>(o.overdue),
                          static_cast<long long>(p.overdue), static_cast<long long>(extra));
            check = buf;
            if (diff != 0) ++failures;
        }
        const Timing o = ours != timings.end() ? ours->second : Timing{};
        const Timing p = peer != timings.end() ? peer->second : Timing{};
        auto ratio = [](double a, double b) { return a > 0 && b > 0 ? a / b : 0.0; };
        std::printf("%7lldk %7.2fM %6.1f (%5.1f) %7.0f %7.1f (%6.1f) %8.0f (%7.0f) %5.0fx (%4.0fx)  %s\n",
                    static_cast<long long>(n / 1000), static_cast<double>(w.events) / 1e6, w.load_s, w.load_cpu_s, w.log_mb,
                    o.best_ms, o.cpu_ms, p.best_ms, p.cpu_ms, ratio(p.best_ms, o.best_ms), ratio(p.cpu_ms, o.cpu_ms),
                    check.c_str());
    }
    std::printf("%s", hotspot_summary.c_str());
    std::printf("grid adjacency of the coverage (GEOS, EPSG:4549): %.2f s for %zu grids\n", adjacency_s, adjacency.codes.size());
    for (const auto& [name, t] : timings) {
        if (name.starts_with("grid/") || name.starts_with("sqlite/")) continue;
        std::printf("%-28s %10.1f ms wall, %8.1f ms cpu\n", name.c_str(), t.best_ms, t.cpu_ms);
    }
    return failures == 0 ? 0 : 1;
}
