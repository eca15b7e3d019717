// GridIndex on a hand-made coverage whose answers are known: interiors, shared edges (vertical,
// horizontal, diagonal), vertices, a hole with an island grid inside, a multi-part grid, outside.

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/geos.hpp"
#include "onegrid/spatial/grid_index.hpp"

using namespace onegrid::spatial;

namespace {

// Coordinates are multiples of u = 2^-7 degrees from (120.5, 37.5): exactly representable, so
// points placed "on" an edge are really on it.
constexpr double ox = 120.5;
constexpr double oy = 37.5;
constexpr double u = 0.0078125;
Point P(double x, double y) { return {ox + x * u, oy + y * u}; }
Ring box(double x0, double y0, double x1, double y1) { return {P(x0, y0), P(x1, y0), P(x1, y1), P(x0, y1)}; }

//   y=4  +-------+
//        | F  /G |        F, G: triangles sharing a diagonal
//   y=2  +---+---+---+
//        |   C   | D |    D has a hole; E is an island in the hole, plus a part at x 4..5
//   y=1  +---+---+ ▢ |
//        | A | B |   |    [E2]
//   y=0  +---+---+---+    +--+
//        0   1   2   3    4  5
struct Coverage {
    std::vector<GridUnit> units;
    std::vector<MultiPolygon> geoms;
    Coverage() {
        auto add = [&](const std::string& code, MultiPolygon mp) {
            GridUnit g;
            g.code = code;
            g.town = "T";
            units.push_back(g);
            geoms.push_back(std::move(mp));
        };
        add("A", {{box(0, 0, 1, 1), {}}});
        add("B", {{box(1, 0, 2, 1), {}}});
        add("C", {{box(0, 1, 2, 2), {}}});  // no vertex at (1,1): a T-junction
        add("D", {{box(2, 0, 3, 2), {box(2.25, 0.5, 2.75, 1.5)}}});
        add("E", {{box(2.375, 0.75, 2.625, 1.25), {}}, {box(4, 0, 5, 1), {}}});
        add("F", {{{P(0, 2), P(2, 2), P(0, 4)}, {}}});
        add("G", {{{P(2, 2), P(2, 4), P(0, 4)}, {}}});
    }
};

class HandMade : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        Coverage c;
        s_index = new GridIndex(GridIndex::build(c.units, c.geoms));
        // A tiny minimum cell forces deep subdivision; a huge one leaves everything in leaves.
        GridIndex::BuildOptions fine;
        fine.min_cell_m = 1.0;
        s_fine = new GridIndex(GridIndex::build(c.units, c.geoms, fine));
        GridIndex::BuildOptions coarse;
        coarse.min_cell_m = 1e6;
        coarse.top_cells_per_grid = 0.1;
        s_coarse = new GridIndex(GridIndex::build(c.units, c.geoms, coarse));
    }
    static void TearDownTestSuite() {
        delete s_index;
        delete s_fine;
        delete s_coarse;
    }
    static std::string at(Point p) {
        std::string answers[3];
        const GridIndex* all[] = {s_index, s_fine, s_coarse};
        for (int i = 0; i < 3; ++i) {
            const auto g = all[i]->locate(p.x, p.y);
            answers[i] = g == GridIndex::outside ? "outside" : all[i]->unit(g).code;
        }
        EXPECT_EQ(answers[0], answers[1]) << "fine index disagrees";
        EXPECT_EQ(answers[0], answers[2]) << "coarse index disagrees";
        return answers[0];
    }
    static GridIndex* s_index;
    static GridIndex* s_fine;
    static GridIndex* s_coarse;
};
GridIndex* HandMade::s_index = nullptr;
GridIndex* HandMade::s_fine = nullptr;
GridIndex* HandMade::s_coarse = nullptr;

}  // namespace

TEST_F(HandMade, Interiors) {
    EXPECT_EQ(at(P(0.5, 0.5)), "A");
    EXPECT_EQ(at(P(1.5, 0.5)), "B");
    EXPECT_EQ(at(P(1.0, 1.5)), "C");
    EXPECT_EQ(at(P(2.1, 0.2)), "D");
    EXPECT_EQ(at(P(0.5, 2.5)), "F");
    EXPECT_EQ(at(P(1.5, 3.5)), "G");
}

TEST_F(HandMade, SharedVerticalEdgeGoesEast) {
    EXPECT_EQ(at(P(1, 0.5)), "B");  // A | B
    EXPECT_EQ(at(P(2, 0.5)), "D");  // B | D
    EXPECT_EQ(at(P(2, 1.5)), "D");  // C | D
}

TEST_F(HandMade, SharedHorizontalEdgeGoesNorth) {
    EXPECT_EQ(at(P(0.5, 1)), "C");  // A / C
    EXPECT_EQ(at(P(1.5, 1)), "C");  // B / C
    EXPECT_EQ(at(P(1.0, 2)), "F");  // C / F
}

TEST_F(HandMade, SharedDiagonalEdgeGoesEast) {
    EXPECT_EQ(at(P(1, 3)), "G");
    EXPECT_EQ(at(P(0.5, 3.5)), "G");
}

TEST_F(HandMade, VerticesGoToTheGridNorthEastOfThem) {
    EXPECT_EQ(at(P(1, 1)), "C");  // A, B, C meet (T-junction)
    EXPECT_EQ(at(P(1, 0)), "B");  // A, B on the outer boundary
    EXPECT_EQ(at(P(0, 0)), "A");  // outer corner
    // C, D, F, G meet and no grid lies north-east of the point: it goes to the first grid, in
    // layer order, whose boundary it is on.
    EXPECT_EQ(at(P(2, 2)), "C");
    EXPECT_EQ(at(P(2, 1)), "D");  // B, C, D meet
}

TEST_F(HandMade, OuterBoundaryPointsBelongToTheirGrid) {
    // Nothing lies east of these: the point is covered by exactly one grid, which gets it.
    EXPECT_EQ(at(P(3, 0.5)), "D");
    EXPECT_EQ(at(P(3, 2)), "D");
    EXPECT_EQ(at(P(0.5, 0)), "A");
    EXPECT_EQ(at(P(2, 4)), "G");
    EXPECT_EQ(at(P(5, 0.5)), "E");
}

TEST_F(HandMade, HolesAndIslands) {
    EXPECT_EQ(at(P(2.3, 1.0)), "outside");  // in D's hole, not on E's island
    EXPECT_EQ(at(P(2.5, 1.0)), "E");        // the island in the hole
    EXPECT_EQ(at(P(4.5, 0.5)), "E");        // E's second part
    EXPECT_EQ(at(P(2.25, 1.0)), "D");       // on the hole's west edge: only D covers it
    EXPECT_EQ(at(P(2.75, 1.0)), "D");       // on the hole's east edge: D lies east of it
    EXPECT_EQ(at(P(2.375, 1.0)), "E");      // island's west edge: E lies east
}

TEST_F(HandMade, OutsideGetsTheNearestGridAndDistance) {
    EXPECT_EQ(at(P(3.5, 0.5)), "outside");
    EXPECT_EQ(at(P(-1, -1)), "outside");
    EXPECT_EQ(at({0.0, 0.0}), "outside");
    // Between D (x=3) and E's part (x=4): nearer to D.
    const auto a = s_index->assign(P(3.4, 0.5));
    EXPECT_EQ(a.status, GridIndex::Status::outside);
    EXPECT_EQ(s_index->unit(a.grid).code, "D");
    const double expect = 0.4 * u * 111320.0 * std::cos(37.5 * 3.14159265358979 / 180.0);
    EXPECT_NEAR(a.distance_m, expect, expect * 0.01);
    const auto b = s_index->assign(P(3.8, 0.5));
    EXPECT_EQ(s_index->unit(b.grid).code, "E");
    // Inside: distance 0.
    const auto c = s_index->assign(P(0.5, 0.5));
    EXPECT_EQ(c.status, GridIndex::Status::inside);
    EXPECT_EQ(c.distance_m, 0.0);
}

TEST_F(HandMade, NonFiniteCoordinatesAreOutside) {
    EXPECT_EQ(s_index->locate(std::nan(""), oy), GridIndex::outside);
    EXPECT_EQ(s_index->locate(ox, INFINITY), GridIndex::outside);
    EXPECT_EQ(s_index->locate(-INFINITY, -INFINITY), GridIndex::outside);
}

TEST_F(HandMade, AgreesWithGeosCoversOnADenseLattice) {
    // Every point of a lattice that includes all edges and vertices: the answer must be covered
    // by GEOS, and a point covered by one grid only must get exactly that grid.
    GeosContext ctx;
    Coverage c;
    std::vector<GeosGeometryPtr> geoms;
    for (const auto& g : c.geoms) geoms.push_back(to_geos(ctx, g));
    int checked = 0;
    for (int ix = -4; ix <= 44; ++ix) {
        for (int iy = -4; iy <= 36; ++iy) {
            const Point p = P(ix / 8.0, iy / 8.0);
            auto pt = geos_owned(ctx, GEOSGeom_createPointFromXY_r(ctx.handle(), p.x, p.y), "point");
            std::vector<std::size_t> covering;
            for (std::size_t g = 0; g < geoms.size(); ++g) {
                if (GEOSCovers_r(ctx.handle(), geoms[g].get(), pt.get()) == 1) covering.push_back(g);
            }
            const auto got = s_index->locate(p.x, p.y);
            if (covering.empty()) {
                EXPECT_EQ(got, GridIndex::outside) << ix << "," << iy;
            } else {
                ASSERT_NE(got, GridIndex::outside) << ix << "," << iy;
                EXPECT_NE(std::find(covering.begin(), covering.end(), got), covering.end()) << ix << "," << iy;
                if (covering.size() == 1) {
                    EXPECT_EQ(got, covering[0]);
                }
            }
            ++checked;
        }
    }
    EXPECT_EQ(checked, 49 * 41);
}

TEST_F(HandMade, ConcurrentQueriesGiveTheSameAnswers) {
    std::vector<Point> pts;
    for (int i = 0; i < 20000; ++i) pts.push_back(P((i % 211) * 0.0271 - 0.5, (i % 173) * 0.0277 - 0.5));
    std::vector<std::uint32_t> want(pts.size());
    s_index->locate(pts, want);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round) {
                for (std::size_t i = 0; i < pts.size(); ++i) {
                    if (s_index->locate(pts[i].x, pts[i].y) != want[i]) ++mismatches[static_cast<std::size_t>(t)];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(GridIndexBuild, RejectsMismatchedAndEmptyInput) {
    EXPECT_THROW((void)GridIndex::build({GridUnit{}}, {}), data_error);
    EXPECT_THROW((void)GridIndex::build({GridUnit{}}, {MultiPolygon{}}), data_error);
    MultiPolygon nan_poly{{{P(0, 0), P(1, 0), {std::nan(""), oy}}, {}}};
    EXPECT_THROW((void)GridIndex::build({GridUnit{}}, {nan_poly}), data_error);
    const GridIndex empty = GridIndex::build({}, {});
    EXPECT_EQ(empty.locate(ox, oy), GridIndex::outside);
}
