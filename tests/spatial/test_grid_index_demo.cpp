// GridIndex against GEOS on the demo district: random points over the whole extent (sea included),
// and every vertex of every grid (the hardest points: on shared boundaries).

#include <gtest/gtest.h>

#include <algorithm>

#include "onegrid/data/demo_district.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"
#include "onegrid/spatial/grid_index.hpp"

using namespace onegrid::spatial;

namespace {

class DemoDistrict : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_district = new onegrid::data::DemoDistrict(onegrid::data::generate_demo_district());
        s_index = new GridIndex(build_grid_index(s_district->grids));
    }
    static void TearDownTestSuite() {
        delete s_index;
        delete s_district;
    }
    static onegrid::data::DemoDistrict* s_district;
    static GridIndex* s_index;
};
onegrid::data::DemoDistrict* DemoDistrict::s_district = nullptr;
GridIndex* DemoDistrict::s_index = nullptr;

struct GeosGrids {
    GeosContext ctx;
    std::vector<GeosGeometryPtr> geoms;
    std::vector<const GEOSPreparedGeometry*> prepared;
    GEOSSTRtree* tree = nullptr;
    std::vector<std::uint32_t> ids;
    explicit GeosGrids(const PolygonLayer& layer) {
        tree = GEOSSTRtree_create_r(ctx.handle(), 10);
        ids.resize(layer.features.size());
        for (std::size_t i = 0; i < layer.features.size(); ++i) {
            geoms.push_back(to_geos(ctx, layer.features[i].geometry));
            prepared.push_back(GEOSPrepare_r(ctx.handle(), geoms.back().get()));
            ids[i] = static_cast<std::uint32_t>(i);
            GEOSSTRtree_insert_r(ctx.handle(), tree, geoms.back().get(), &ids[i]);
        }
    }
    ~GeosGrids() {
        for (auto* p : prepared) GEOSPreparedGeom_destroy_r(ctx.handle(), p);
        GEOSSTRtree_destroy_r(ctx.handle(), tree);
    }
    // Every grid that covers p (GEOS Covers).
    std::vector<std::uint32_t> covering(Point p) {
        auto pt = geos_owned(ctx, GEOSGeom_createPointFromXY_r(ctx.handle(), p.x, p.y), "point");
        struct Q {
            GeosGrids* self;
            const GEOSGeometry* pt;
            std::vector<std::uint32_t> out;
        } q{this, pt.get(), {}};
        GEOSSTRtree_query_r(
            ctx.handle(), tree, pt.get(),
            [](void* item, void* data) {
                auto* qq = static_cast<Q*>(data);
                const auto id = *static_cast<std::uint32_t*>(item);
                if (GEOSPreparedCovers_r(qq->self->ctx.handle(), qq->self->prepared[id], qq->pt) == 1) qq->out.push_back(id);
            },
            &q);
        std::sort(q.out.begin(), q.out.end());
        return q.out;
    }
};

}  // namespace

TEST_F(DemoDistrict, RandomPointsAgreeWithGeosCovers) {
    GeosGrids geos(s_district->grids);
    const Box b = s_index->bounds();
    onegrid::data::Random rng(42);
    std::size_t inside = 0;
    for (int i = 0; i < 200000; ++i) {
        const Point p{rng.uniform(b.minx, b.maxx), rng.uniform(b.miny, b.maxy)};
        const auto want = geos.covering(p);
        const auto got = s_index->locate(p.x, p.y);
        ASSERT_LE(want.size(), 1u) << "random point on a boundary: " << p.x << "," << p.y;
        if (want.empty()) {
            ASSERT_EQ(got, GridIndex::outside) << p.x << "," << p.y;
        } else {
            ASSERT_EQ(got, want[0]) << p.x << "," << p.y;
            ++inside;
        }
    }
    // The sample covers both land and sea.
    EXPECT_GT(inside, 20000u);
    EXPECT_LT(inside, 180000u);
}

TEST_F(DemoDistrict, EveryVertexGoesToExactlyOneGridThatCoversIt) {
    GeosGrids geos(s_district->grids);
    std::size_t vertices = 0;
    std::size_t shared = 0;
    for (const auto& f : s_district->grids.features) {
        for (const auto& poly : f.geometry) {
            for (const Point& v : poly.shell) {
                const auto want = geos.covering(v);
                const auto got = s_index->locate(v.x, v.y);
                ASSERT_NE(got, GridIndex::outside) << "vertex of " << f.id;
                ASSERT_TRUE(std::binary_search(want.begin(), want.end(), got)) << "vertex of " << f.id;
                // Deterministic: the same point always gets the same grid.
                ASSERT_EQ(s_index->locate(v.x, v.y), got);
                ++vertices;
                if (want.size() > 1) ++shared;
            }
        }
    }
    EXPECT_GT(vertices, 100000u);
    EXPECT_GT(shared, vertices / 2);  // most vertices lie on boundaries shared by 2–3 grids
}

TEST_F(DemoDistrict, ChainComesFromTheGridCode) {
    const auto g = s_index->locate(120.76, 37.80);
    ASSERT_NE(g, GridIndex::outside);
    const GridUnit& u = s_index->unit(g);
    EXPECT_EQ(u.code.size(), 15u);
    EXPECT_EQ(u.community, u.code.substr(0, 12));
    EXPECT_EQ(u.town, u.code.substr(0, 9));
    EXPECT_EQ(u.district, "370614");
    EXPECT_FALSE(u.town_name.empty());
    EXPECT_FALSE(u.community_name.empty());
}

TEST_F(DemoDistrict, NearestGridOfASeaPointMatchesABruteForceSearch) {
    // Brute force with GEOS over every grid, in the same metric system (EPSG:4549).
    GeosContext ctx;
    const CrsTransform to4549(storage_crs, metric_crs);
    std::vector<GeosGeometryPtr> metric;
    for (const auto& f : s_district->grids.features) {
        MultiPolygon mp = f.geometry;
        for (auto& poly : mp) {
            to4549.apply(poly.shell);
            for (auto& h : poly.holes) to4549.apply(h);
        }
        metric.push_back(to_geos(ctx, mp));
    }
    onegrid::data::Random rng(9);
    const Box b = s_index->bounds();
    int checked = 0;
    while (checked < 200) {
        const Point p{rng.uniform(b.minx, b.maxx), rng.uniform(b.miny, b.maxy)};
        if (s_index->locate(p.x, p.y) != GridIndex::outside) continue;
        const auto n = s_index->nearest(p);
        ASSERT_NE(n.grid, GridIndex::outside);
        const Point m = to4549.apply(p);
        auto pt = geos_owned(ctx, GEOSGeom_createPointFromXY_r(ctx.handle(), m.x, m.y), "point");
        double best = 1e300;
        for (const auto& g : metric) {
            double d = 0;
            GEOSDistance_r(ctx.handle(), g.get(), pt.get(), &d);
            best = std::min(best, d);
        }
        EXPECT_NEAR(n.distance_m, best, 1e-6 * best + 1e-6);
        double ours = 0;
        GEOSDistance_r(ctx.handle(), metric[n.grid].get(), pt.get(), &ours);
        EXPECT_NEAR(ours, best, 1e-6 * best + 1e-6);
        ++checked;
    }
}
