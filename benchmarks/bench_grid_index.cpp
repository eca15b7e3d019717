// Grid assignment: OneGrid's GridIndex against the usual GEOS approach (STRtree of prepared
// polygons, PreparedCovers) on the same data in the same binary.
//
//   bench_grid_index --benchmark_counters_tabular=true
//
// Data: the demo district (1,115 grids, ~120k vertices) and 1,000,000 points drawn uniformly over
// its bounding box (most fall in the sea), fixed seeds. The province benchmarks use 100,000
// synthetic grids.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "onegrid/data/demo_district.hpp"
#include "onegrid/spatial/geos.hpp"
#include "onegrid/spatial/grid_index.hpp"

using namespace onegrid;
using spatial::GridIndex;
using spatial::MultiPolygon;
using spatial::Point;

namespace {

constexpr std::size_t n_points = 1'000'000;

struct Demo {
    data::DemoDistrict district = data::generate_demo_district();
    GridIndex index = spatial::build_grid_index(district.grids);
    std::vector<Point> uniform;    // over the bounding box
    std::vector<Point> reports;    // demo reports: 90% in grids, weighted by population
    std::vector<Point> sea;        // points in no grid
    Demo() {
        const auto b = index.bounds();
        data::Random rng(2024);
        uniform.reserve(n_points);
        for (std::size_t i = 0; i < n_points; ++i)
            uniform.push_back({rng.uniform(b.minx, b.maxx), rng.uniform(b.miny, b.maxy)});
        for (const auto& r : data::demo_report_points(district, n_points, 7)) reports.push_back(r.position);
        for (const Point& p : uniform) {
            if (index.locate(p.x, p.y) == GridIndex::outside) sea.push_back(p);
            if (sea.size() == 100000) break;
        }
    }
};

const Demo& demo() {
    static const Demo d;
    return d;
}

// The usual way with GEOS: an STRtree of the grids, prepared geometries, Covers per candidate.
class GeosBaseline {
public:
    explicit GeosBaseline(const spatial::PolygonLayer& layer) {
        m_tree = GEOSSTRtree_create_r(h(), 10);
        m_ids.resize(layer.features.size());
        for (std::size_t i = 0; i < layer.features.size(); ++i) {
            m_geoms.push_back(spatial::to_geos(m_ctx, layer.features[i].geometry));
            m_prepared.push_back(GEOSPrepare_r(h(), m_geoms.back().get()));
            m_ids[i] = static_cast<std::uint32_t>(i);
            GEOSSTRtree_insert_r(h(), m_tree, m_geoms.back().get(), &m_ids[i]);
        }
        // GEOS 3.11 builds the tree on the first query (there is no explicit build call yet).
        locate({0.0, 0.0});
    }
    ~GeosBaseline() {
        for (auto* p : m_prepared) GEOSPreparedGeom_destroy_r(h(), p);
        GEOSSTRtree_destroy_r(h(), m_tree);
    }
    GeosBaseline(const GeosBaseline&) = delete;
    GeosBaseline& operator=(const GeosBaseline&) = delete;

    std::uint32_t locate(Point p) {
        GEOSGeometry* pt = GEOSGeom_createPointFromXY_r(h(), p.x, p.y);
        m_query = {this, pt, GridIndex::outside};
        GEOSSTRtree_query_r(
            h(), m_tree, pt,
            [](void* item, void* userdata) {
                auto* q = static_cast<Query*>(userdata);
                const auto id = *static_cast<std::uint32_t*>(item);
                if (q->found == GridIndex::outside &&
                    GEOSPreparedCovers_r(q->self->h(), q->self->m_prepared[id], q->point) == 1) {
                    q->found = id;
                }
            },
            &m_query);
        GEOSGeom_destroy_r(h(), pt);
        return m_query.found;
    }

private:
    struct Query {
        GeosBaseline* self;
        const GEOSGeometry* point;
        std::uint32_t found;
    };
    GEOSContextHandle_t h() const { return m_ctx.handle(); }
    spatial::GeosContext m_ctx;
    GEOSSTRtree* m_tree = nullptr;
    std::vector<spatial::GeosGeometryPtr> m_geoms;
    std::vector<const GEOSPreparedGeometry*> m_prepared;
    std::vector<std::uint32_t> m_ids;
    Query m_query{};
};

void locate_batch(benchmark::State& state, const std::vector<Point>& pts) {
    const GridIndex& index = demo().index;
    std::vector<std::uint32_t> out(pts.size());
    for (auto _ : state) {
        index.locate(pts, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    std::size_t inside = 0;
    for (auto g : out) inside += g != GridIndex::outside;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pts.size()));
    state.counters["inside_share"] = static_cast<double>(inside) / static_cast<double>(pts.size());
}

}  // namespace

// --- OneGrid -------------------------------------------------------------------------------------

static void BM_OneGrid_Locate_Uniform(benchmark::State& state) { locate_batch(state, demo().uniform); }
BENCHMARK(BM_OneGrid_Locate_Uniform)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_OneGrid_Locate_Reports(benchmark::State& state) { locate_batch(state, demo().reports); }
BENCHMARK(BM_OneGrid_Locate_Reports)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_OneGrid_Locate_Uniform_Threads(benchmark::State& state) {
    // Each thread runs the whole batch against the one shared immutable index.
    locate_batch(state, demo().uniform);
}
BENCHMARK(BM_OneGrid_Locate_Uniform_Threads)->Threads(2)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_OneGrid_LocateOne_Uniform(benchmark::State& state) {
    // One call per point, no batching.
    const GridIndex& index = demo().index;
    const auto& pts = demo().uniform;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(index.locate(pts[i].x, pts[i].y));
        if (++i == pts.size()) i = 0;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_OneGrid_LocateOne_Uniform);

static void BM_OneGrid_Nearest_Sea(benchmark::State& state) {
    const GridIndex& index = demo().index;
    const auto& pts = demo().sea;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(index.nearest(pts[i]));
        if (++i == pts.size()) i = 0;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_OneGrid_Nearest_Sea);

static void BM_OneGrid_Build_Demo(benchmark::State& state) {
    const auto& layer = demo().district.grids;
    std::size_t bytes = 0;
    std::size_t vertices = 0;
    for (auto _ : state) {
        GridIndex ix = spatial::build_grid_index(layer);
        bytes = ix.memory_bytes();
        vertices = ix.vertex_count();
        benchmark::DoNotOptimize(ix);
    }
    state.counters["grids"] = static_cast<double>(layer.features.size());
    state.counters["vertices"] = static_cast<double>(vertices);
    state.counters["MB"] = static_cast<double>(bytes) / 1e6;
    state.counters["bytes_per_vertex"] = static_cast<double>(bytes) / static_cast<double>(vertices);
}
BENCHMARK(BM_OneGrid_Build_Demo)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- GEOS baseline --------------------------------------------------------------------------------

static void BM_GEOS_PreparedSTRtree_Uniform(benchmark::State& state) {
    GeosBaseline geos(demo().district.grids);
    const auto& pts = demo().uniform;
    std::vector<std::uint32_t> out(pts.size());
    for (auto _ : state) {
        for (std::size_t i = 0; i < pts.size(); ++i) out[i] = geos.locate(pts[i]);
        benchmark::ClobberMemory();
    }
    // Both answers for every point: they must agree (random points are never on a boundary).
    std::vector<std::uint32_t> ours(pts.size());
    demo().index.locate(pts, ours);
    std::size_t disagree = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) disagree += ours[i] != out[i];
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pts.size()));
    state.counters["disagreements"] = static_cast<double>(disagree);
}
BENCHMARK(BM_GEOS_PreparedSTRtree_Uniform)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

static void BM_GEOS_PreparedSTRtree_Reports(benchmark::State& state) {
    GeosBaseline geos(demo().district.grids);
    const auto& pts = demo().reports;
    std::vector<std::uint32_t> out(pts.size());
    for (auto _ : state) {
        for (std::size_t i = 0; i < pts.size(); ++i) out[i] = geos.locate(pts[i]);
        benchmark::ClobberMemory();
    }
    std::vector<std::uint32_t> ours(pts.size());
    demo().index.locate(pts, ours);
    std::size_t disagree = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) disagree += ours[i] != out[i];
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pts.size()));
    state.counters["disagreements"] = static_cast<double>(disagree);
}
BENCHMARK(BM_GEOS_PreparedSTRtree_Reports)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// --- Province scale: 100,000 grids -----------------------------------------------------------------

namespace {

// A jittered lattice of 1 km quadrilaterals whose edges carry jittered intermediate vertices
// (shared by both neighbours), about 20 vertices per grid: a valid coverage like a province's grids.
struct Province {
    std::vector<spatial::GridUnit> units;
    std::vector<MultiPolygon> geoms;
    std::size_t vertices = 0;
    explicit Province(int side) {
        data::Random rng(99);
        const double x0 = 117.0;
        const double y0 = 35.0;
        const double dx = 0.0113;  // ~1 km at 36°N
        const double dy = 0.0090;
        const int n = side + 1;
        std::vector<Point> corner(static_cast<std::size_t>(n * n));
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i)
                corner[static_cast<std::size_t>(j * n + i)] = {x0 + (i + (i > 0 && i < side ? rng.uniform(-0.3, 0.3) : 0)) * dx,
                                                              y0 + (j + (j > 0 && j < side ? rng.uniform(-0.3, 0.3) : 0)) * dy};
        constexpr int inner = 4;
        auto edge_points = [&](Point a, Point b, std::uint64_t key) {
            data::Random er(key);
            std::vector<Point> pts;
            for (int k = 1; k <= inner; ++k) {
                const double t = static_cast<double>(k) / (inner + 1);
                const double off = er.uniform(-0.06, 0.06);
                pts.push_back({a.x + (b.x - a.x) * t - (b.y - a.y) * off, a.y + (b.y - a.y) * t + (b.x - a.x) * off});
            }
            return pts;
        };
        auto at = [&](int i, int j) { return corner[static_cast<std::size_t>(j * n + i)]; };
        auto hkey = [&](int i, int j) { return static_cast<std::uint64_t>(j) * 1000003u + static_cast<std::uint64_t>(i) * 2u; };
        auto vkey = [&](int i, int j) { return static_cast<std::uint64_t>(j) * 1000003u + static_cast<std::uint64_t>(i) * 2u + 1u; };
        for (int j = 0; j < side; ++j) {
            for (int i = 0; i < side; ++i) {
                spatial::Ring r;
                auto append = [&](Point a, Point b, std::uint64_t key, bool reverse) {
                    r.push_back(a);
                    auto pts = reverse ? edge_points(b, a, key) : edge_points(a, b, key);
                    if (reverse) std::reverse(pts.begin(), pts.end());
                    r.insert(r.end(), pts.begin(), pts.end());
                };
                append(at(i, j), at(i + 1, j), hkey(i, j), false);
                append(at(i + 1, j), at(i + 1, j + 1), vkey(i + 1, j), false);
                append(at(i + 1, j + 1), at(i, j + 1), hkey(i, j + 1), true);
                append(at(i, j + 1), at(i, j), vkey(i, j), true);
                vertices += r.size();
                spatial::GridUnit u;
                u.code = std::to_string(j * side + i);
                units.push_back(u);
                geoms.push_back({{std::move(r), {}}});
            }
        }
    }
};

const Province& province() {
    static const Province p(316);  // 99,856 grids
    return p;
}

}  // namespace

static void BM_OneGrid_Build_Province100k(benchmark::State& state) {
    const Province& p = province();
    std::size_t bytes = 0;
    for (auto _ : state) {
        GridIndex ix = GridIndex::build(p.units, p.geoms);
        bytes = ix.memory_bytes();
        benchmark::DoNotOptimize(ix);
    }
    state.counters["grids"] = static_cast<double>(p.geoms.size());
    state.counters["vertices"] = static_cast<double>(p.vertices);
    state.counters["MB"] = static_cast<double>(bytes) / 1e6;
    state.counters["bytes_per_vertex"] = static_cast<double>(bytes) / static_cast<double>(p.vertices);
}
BENCHMARK(BM_OneGrid_Build_Province100k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

static void BM_OneGrid_Locate_Province100k(benchmark::State& state) {
    const Province& p = province();
    const GridIndex ix = GridIndex::build(p.units, p.geoms);
    const auto b = ix.bounds();
    data::Random rng(5);
    std::vector<Point> pts(n_points);
    for (auto& pt : pts) pt = {rng.uniform(b.minx, b.maxx), rng.uniform(b.miny, b.maxy)};
    std::vector<std::uint32_t> out(pts.size());
    for (auto _ : state) {
        ix.locate(pts, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * pts.size()));
}
BENCHMARK(BM_OneGrid_Locate_Province100k)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
