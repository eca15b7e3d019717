// Planning at scale (issue 7): validating the demo district's 1,115-grid layer as a coverage, and
// publishing a new version of the grids while about 100,000 cases are open: a planner's split of
// one grid (the everyday case: the open cases of that grid are looked at, some move) and a
// re-coding of every grid (the worst case: every open case moves, each with a "reassign" event).
// Each publish runs on a fresh copy of the database; only Planner::publish is timed (it includes
// the validation that publish repeats, the new version and the re-assignment).
//
//   bench_planning [--benchmark_filter=...]
//
// The database with the cases is generated once with `onegrid demo-history` into
// benchmarks/results/planning-N.db and reused. The cases are reported in the four hours before
// 2026-11-29 12:00 Beijing time (and "now" is that moment for the generator), so that about 90% are
// still open: ONEGRID_BENCH_PLANNING_INCIDENTS (default 111000) gives ~100,000 open cases.
// benchmarks/planning/run.sh runs this and the same re-assignment in PostGIS.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "onegrid/core/geography.hpp"
#include "onegrid/core/planning.hpp"
#include "onegrid/core/spatialite_store.hpp"

using namespace onegrid;
using namespace onegrid::core;
namespace fs = std::filesystem;

namespace {

using Steady = std::chrono::steady_clock;
double seconds_since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

std::int64_t incidents_wanted() {
    const char* e = std::getenv("ONEGRID_BENCH_PLANNING_INCIDENTS");
    return e != nullptr && std::atoll(e) > 0 ? std::atoll(e) : 111000;
}

void copy_database(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    for (const char* side : {"-wal", "-shm"})
        if (fs::exists(from.string() + side)) fs::copy_file(from.string() + side, to.string() + side, fs::copy_options::overwrite_existing);
}

/// The demo database plus the generated cases (built once, kept in benchmarks/results).
fs::path history_database() {
    const std::int64_t n = incidents_wanted();
    const fs::path dir = ONEGRID_RESULTS_DIR;
    fs::create_directories(dir);
    const fs::path db = dir / ("planning-" + std::to_string(n) + ".db");
    if (fs::exists(db)) return db;
    const fs::path building = db.string() + ".building";
    for (const char* side : {"", "-wal", "-shm"}) fs::remove(building.string() + side);
    fs::remove_all(building.string() + ".media");
    fs::copy_file(ONEGRID_DEMO_DB, building);
    std::cerr << "generating " << db << " with onegrid demo-history (" << n << " cases; kept for later runs)\n";
    const std::string cmd = std::string("'") + ONEGRID_CLI + "' demo-history --db '" + building.string() + "' --incidents " +
                            std::to_string(n) + " --from 2026-11-29T08:00:00+08:00 --to 2026-11-29T12:00:00+08:00 >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("onegrid demo-history failed: " + cmd);
    fs::rename(building, db);
    fs::remove_all(building.string() + ".media");
    return db;
}

/// A private copy of a database with a planner on it.
struct World {
    fs::path dir;
    std::unique_ptr<Store> store;
    SystemClock clock;
    GeographyHolder geography;
    std::unique_ptr<Planner> planner;

    explicit World(const fs::path& source) {
        dir = fs::temp_directory_path() / ("onegrid-bench-planning-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        const fs::path db = dir / "onegrid.db";
        copy_database(source, db);
        SpatialiteOptions o;
        o.path = db;
        o.create = false;
        store = open_spatialite_store(o);
        geography.load_current(*store, clock.now());
        planner = std::make_unique<Planner>(*store, clock, geography);
    }
    ~World() {
        planner.reset();
        store.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    std::int64_t open_cases() {
        IncidentQuery q;
        q.open_only = true;
        q.limit = 0;
        return store->count_incidents(q);
    }
};

/// Latitudes where the vertical line at x crosses the rings of a single polygon.
std::vector<double> vertical_crossings(const spatial::Polygon& p, double x) {
    std::vector<double> ys;
    auto ring = [&](const spatial::Ring& r) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            const auto& a = r[i];
            const auto& b = r[(i + 1) % r.size()];
            if ((a.x <= x && x < b.x) || (b.x <= x && x < a.x)) ys.push_back(a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x));
        }
    };
    ring(p.shell);
    for (const auto& h : p.holes) ring(h);
    return ys;
}

/// Splits, in a new draft, the grid with the most open cases that a north-south line through its
/// middle cuts in two. Returns the draft id; `code` and `open_in_grid` describe the grid.
std::int64_t draft_with_split(World& w, std::string& code, std::int64_t& open_in_grid) {
    const Draft d = w.planner->create_draft("grids", "bench: split", "bench");
    std::vector<std::pair<std::int64_t, DraftFeature>> ranked;
    for (const auto& f : w.store->draft_features(d.id)) {
        IncidentQuery q;
        q.open_only = true;
        q.grid = f.feature.code;
        q.limit = 0;
        ranked.emplace_back(w.store->count_incidents(q), f);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [open, df] : ranked) {
        const LayerFeature& f = df.feature;
        if (f.geometry.size() != 1) continue;
        const spatial::Box b = spatial::bounds(f.geometry);
        const double x = (b.minx + b.maxx) / 2;
        if (vertical_crossings(f.geometry.front(), x).size() != 2) continue;
        const double pad = b.height() * 0.1;
        const spatial::Line line{{x, b.miny - pad}, {x, b.maxy + pad}};
        try {
            w.planner->split(d.id, f.code, line, Revisions{{f.code, df.revision}});
        } catch (const planning_error&) {
            continue;
        }
        code = f.code;
        open_in_grid = open;
        return d.id;
    }
    throw std::runtime_error("no grid could be split");
}

/// A draft in which every grid has a new code (the same community, serial + 500): every open
/// case inside a grid moves.
std::int64_t draft_recoding_all(World& w) {
    const Draft d = w.planner->create_draft("grids", "bench: re-code every grid", "bench");
    std::vector<LayerFeature> units;
    for (auto& f : w.store->draft_features(d.id)) {
        LayerFeature u = std::move(f.feature);
        const int serial = std::stoi(u.code.substr(12));
        u.code = u.code.substr(0, 12) + std::to_string(500 + serial);
        units.push_back(std::move(u));
    }
    w.planner->replace_all(d.id, units);
    return d.id;
}

void BM_ValidateDemoLayer(benchmark::State& state) {
    World w(ONEGRID_DEMO_DB);
    const Draft d = w.planner->create_draft("grids", "bench: validate", "bench");
    const auto units = w.store->draft_features(d.id).size();
    Validation v;
    for (auto _ : state) {
        v = w.planner->validate(d.id);
        benchmark::DoNotOptimize(v.findings.data());
    }
    state.counters["grids"] = static_cast<double>(units);
    state.counters["errors"] = static_cast<double>(v.errors);
    state.counters["warnings"] = static_cast<double>(v.warnings);
}

enum class Edit { split_one, recode_all };

void BM_Publish(benchmark::State& state, Edit change) {
    const fs::path source = history_database();
    double moved = 0, open = 0, validation = 0, preview = 0, in_grid = 0;
    for (auto _ : state) {
        World w(source);
        open = static_cast<double>(w.open_cases());
        std::int64_t draft = 0;
        if (change == Edit::split_one) {
            std::string code;
            std::int64_t n = 0;
            draft = draft_with_split(w, code, n);
            in_grid = static_cast<double>(n);
        } else {
            draft = draft_recoding_all(w);
        }
        const auto p0 = Steady::now();
        const auto pv = w.planner->preview(draft);
        preview = seconds_since(p0);
        const auto t0 = Steady::now();
        const auto report = w.planner->publish(draft, std::nullopt, "bench", "bench");
        state.SetIterationTime(seconds_since(t0));
        if (report.moved != pv.incidents_to_move) state.SkipWithError("publish moved a different number of cases than the preview said");
        moved = static_cast<double>(report.moved);
        validation = report.validation_seconds;
    }
    state.counters["open_cases"] = open;
    state.counters["moved"] = moved;
    state.counters["validation_s"] = validation;
    state.counters["preview_s"] = preview;
    if (change == Edit::split_one) state.counters["open_in_grid"] = in_grid;
}

}  // namespace

BENCHMARK(BM_ValidateDemoLayer)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK_CAPTURE(BM_Publish, split_one_grid, Edit::split_one)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_Publish, recode_every_grid, Edit::recode_all)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);

BENCHMARK_MAIN();
