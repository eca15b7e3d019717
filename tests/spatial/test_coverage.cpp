#include <gtest/gtest.h>

#include "onegrid/spatial/coverage.hpp"

using namespace onegrid::spatial;

namespace {
Ring box(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }
}  // namespace

TEST(FindOverlaps, NeighboursThatTouchDoNotOverlap) {
    const std::vector<MultiPolygon> grids = {{{box(120.70, 37.70, 120.71, 37.71), {}}},
                                             {{box(120.71, 37.70, 120.72, 37.71), {}}},
                                             {{box(120.70, 37.71, 120.72, 37.72), {}}}};
    EXPECT_TRUE(find_overlaps(grids).empty());
}

TEST(FindOverlaps, NamesThePairAndMeasuresTheArea) {
    // The second square reaches 0.001° (~88 m) into the first: ~88 m × 1110 m.
    const std::vector<MultiPolygon> grids = {{{box(120.70, 37.70, 120.71, 37.71), {}}},
                                             {{box(120.709, 37.70, 120.72, 37.71), {}}},
                                             {{box(120.80, 37.70, 120.81, 37.71), {}}}};
    const auto overlaps = find_overlaps(grids);
    ASSERT_EQ(overlaps.size(), 1u);
    EXPECT_EQ(overlaps[0].a, 0u);
    EXPECT_EQ(overlaps[0].b, 1u);
    EXPECT_NEAR(overlaps[0].area_m2, 88.0 * 1110.0, 88.0 * 1110.0 * 0.02);
    EXPECT_FALSE(overlaps[0].region.empty());
}

TEST(FindOverlaps, TinyOverlapsBelowTheToleranceAreIgnored) {
    // 1e-7° (~1 cm) wide sliver: well under 1 m².
    const std::vector<MultiPolygon> grids = {{{box(120.70, 37.70, 120.71, 37.71), {}}},
                                             {{box(120.7099999, 37.70, 120.72, 37.71), {}}}};
    EXPECT_TRUE(find_overlaps(grids, 100.0).empty());
    EXPECT_EQ(find_overlaps(grids, 1.0).size(), 1u);
}
