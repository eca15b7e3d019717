// Coverage edits (split, merge, move a shared boundary) and coverage validation, on small
// constructed layers near Penglai (lon 120.7, lat 37.7) whose answers are known.

#include <gtest/gtest.h>

#include "onegrid/spatial/coverage.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/editing.hpp"
#include "onegrid/spatial/validation.hpp"

namespace onegrid::spatial {
namespace {

constexpr double x0 = 120.70, y0 = 37.70, d = 0.01;  // ~880 m × 1,110 m cells

MultiPolygon rect(double minx, double miny, double maxx, double maxy) {
    return {Polygon{{{minx, miny}, {maxx, miny}, {maxx, maxy}, {minx, maxy}}, {}}};
}
MultiPolygon cell(int i, int j) { return rect(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d); }

double total_area(const std::vector<MultiPolygon>& v) {
    double a = 0;
    for (const auto& p : v) a += area_m2(p);
    return a;
}

TEST(Split, ALineAcrossAUnitGivesTwoPiecesLargestFirstWithTheSameArea) {
    const auto unit = cell(0, 0);
    // A vertical line at 30% of the width, overshooting both edges.
    const double x = x0 + 0.3 * d;
    const auto pieces = split_by_line(unit, {{x, y0 - 0.001}, {x, y0 + d + 0.001}});
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_GT(area_m2(pieces[0]), area_m2(pieces[1]));
    EXPECT_NEAR(area_m2(pieces[1]) / area_m2(unit), 0.3, 0.01);
    EXPECT_NEAR(total_area(pieces), area_m2(unit), 0.01);
    EXPECT_TRUE(find_overlaps(pieces, 0.01).empty());
}

TEST(Split, LinesThatDoNotCutAreRefused) {
    const auto unit = cell(0, 0);
    // Ends inside the unit.
    EXPECT_THROW((void)split_by_line(unit, {{x0 - 0.001, y0 + 0.005}, {x0 + 0.005, y0 + 0.005}}), edit_error);
    // Entirely outside.
    EXPECT_THROW((void)split_by_line(unit, {{x0 + 0.02, y0}, {x0 + 0.03, y0 + 0.01}}), edit_error);
    // One point, or crossing itself.
    EXPECT_THROW((void)split_by_line(unit, {{x0, y0}}), edit_error);
    EXPECT_THROW((void)split_by_line(unit, {{x0 - 0.001, y0 + 0.002}, {x0 + 0.02, y0 + 0.008}, {x0 + 0.02, y0 + 0.002}, {x0 - 0.001, y0 + 0.008}}),
                 edit_error);
}

TEST(Merge, NeighboursBecomeOneAndStrangersAreRefused) {
    const auto m = merge_adjacent(cell(0, 0), cell(1, 0));
    ASSERT_EQ(m.size(), 1u);
    EXPECT_NEAR(area_m2(m), area_m2(cell(0, 0)) + area_m2(cell(1, 0)), 0.01);
    EXPECT_THROW((void)merge_adjacent(cell(0, 0), cell(2, 0)), edit_error);  // apart
    EXPECT_THROW((void)merge_adjacent(cell(0, 0), cell(1, 1)), edit_error);  // corner only
    EXPECT_THROW((void)merge_adjacent(cell(0, 0), rect(x0 + 0.005, y0, x0 + 0.015, y0 + d)), edit_error);  // overlap
    EXPECT_GT(shared_boundary_m(cell(0, 0), cell(1, 0)), 1000.0);
}

TEST(MoveBoundary, BothNeighboursChangeTogetherWithoutGapOrOverlap) {
    const auto a = cell(0, 0), b = cell(1, 0);
    // The shared boundary x = x0 + d moves to x0 + 1.4 d (a grows).
    const double x = x0 + 1.4 * d;
    const auto [na, nb] = move_shared_boundary(a, b, {{x, y0 - 0.001}, {x, y0 + d + 0.001}});
    EXPECT_NEAR(area_m2(na) / area_m2(a), 1.4, 0.01);
    EXPECT_NEAR(area_m2(nb) / area_m2(b), 0.6, 0.01);
    EXPECT_NEAR(area_m2(na) + area_m2(nb), area_m2(a) + area_m2(b), 0.01);
    EXPECT_TRUE(find_overlaps({na, nb, cell(2, 0), cell(0, 1)}, 0.01).empty());
    // A line that does not cut the pair in two, and units that are not neighbours.
    EXPECT_THROW((void)move_shared_boundary(a, b, {{x0 + 0.5 * d, y0 + 0.5 * d}, {x0 + 1.5 * d, y0 + 0.5 * d}}), edit_error);
    EXPECT_THROW((void)move_shared_boundary(a, cell(2, 0), {{x, y0 - 0.001}, {x, y0 + d + 0.001}}), edit_error);
}

// ---- validation -----------------------------------------------------------------------------------

struct Layer {
    std::vector<CoverageUnit> units;
    std::vector<CoverageUnit> parents;
    MultiPolygon extent;
};

/// Four grids in a 2×2 block, two per community; the district is the block.
Layer good_layer() {
    Layer l;
    l.parents = {{"370614001001", rect(x0, y0, x0 + 2 * d, y0 + d), "", {}, {}},
                 {"370614001002", rect(x0, y0 + d, x0 + 2 * d, y0 + 2 * d), "", {}, {}}};
    l.units = {{"370614001001001", cell(0, 0), "370614001001", 1000, 350},
               {"370614001001002", cell(1, 0), "370614001001", 1000, 350},
               {"370614001002001", cell(0, 1), "370614001002", 1000, 350},
               {"370614001002002", cell(1, 1), "370614001002", 1000, 350}};
    l.extent = rect(x0, y0, x0 + 2 * d, y0 + 2 * d);
    return l;
}

std::vector<std::string> rules_of(const std::vector<Finding>& f) {
    std::vector<std::string> out;
    for (const auto& x : f) out.push_back(x.rule);
    return out;
}

TEST(Validation, AGoodCoverageHasNoFindings) {
    const auto l = good_layer();
    EXPECT_TRUE(validate_coverage(l.units, l.parents, l.extent).empty());
}

TEST(Validation, GapsOverlapsAndUnitsLeavingTheirParentAreErrorsWithTheirPlace) {
    auto l = good_layer();
    // Grid 2 shrinks (a gap of 0.2 d × d), grid 4 reaches into the other community by 0.1 d.
    l.units[1].geometry = rect(x0 + d, y0, x0 + 1.8 * d, y0 + d);
    l.units[3].geometry = rect(x0 + d, y0 + 0.9 * d, x0 + 2 * d, y0 + 2 * d);
    const auto f = validate_coverage(l.units, l.parents, l.extent);
    const auto rules = rules_of(f);
    EXPECT_NE(std::find(rules.begin(), rules.end(), "gap"), rules.end());
    EXPECT_NE(std::find(rules.begin(), rules.end(), "overlap"), rules.end());
    EXPECT_NE(std::find(rules.begin(), rules.end(), "outside_parent"), rules.end());
    for (const auto& x : f) {
        EXPECT_EQ(x.severity, Severity::error) << x.message;
        EXPECT_FALSE(x.area.empty() && !x.location) << x.rule << " has no place";
        if (x.rule == "gap") {
            EXPECT_NEAR(area_m2(x.area), area_m2(rect(x0 + 1.8 * d, y0, x0 + 2 * d, y0 + 0.9 * d)), 5.0);
        }
        if (x.rule == "overlap") {
            EXPECT_EQ(x.codes, (std::vector<std::string>{"370614001001002", "370614001002002"}));
        }
        if (x.rule == "outside_parent") {
            EXPECT_EQ(x.codes, (std::vector<std::string>{"370614001002002"}));
        }
    }
}

TEST(Validation, SelfIntersectionsSliversAndCodes) {
    auto l = good_layer();
    // A bow-tie polygon.
    l.units[0].geometry = {Polygon{{{x0, y0}, {x0 + d, y0 + d}, {x0 + d, y0}, {x0, y0 + d}}, {}}};
    // A thin sliver unit, a duplicate code and a malformed one.
    l.units.push_back({"370614001001003", rect(x0 + 2 * d, y0, x0 + 2 * d + 0.00001, y0 + d), "370614001001", {}, {}});
    l.units.push_back({"370614001001002", cell(5, 5), "370614001001", {}, {}});
    l.units.push_back({"37061400100100X", cell(6, 6), "370614001001", {}, {}});
    l.units.push_back({"370614001009001", cell(7, 7), "370614001001", {}, {}});  // code not under its parent
    const auto f = validate_coverage(l.units, {}, {});
    const auto rules = rules_of(f);
    for (const char* r : {"invalid_polygon", "sliver", "duplicate_code", "malformed_code"})
        EXPECT_NE(std::find(rules.begin(), rules.end(), r), rules.end()) << r;
    for (const auto& x : f) {
        if (x.rule == "invalid_polygon") {
            EXPECT_TRUE(x.location.has_value());
        }
    }
    EXPECT_EQ(std::count(rules.begin(), rules.end(), "malformed_code"), 2);
}

TEST(Validation, SizeOutsideTheNormIsAWarning) {
    auto l = good_layer();
    l.units[2].population = 2400;
    l.units[3].households = 150;
    const auto f = validate_coverage(l.units, l.parents, l.extent);
    ASSERT_EQ(f.size(), 2u);
    for (const auto& x : f) {
        EXPECT_EQ(x.severity, Severity::warning);
        EXPECT_EQ(x.rule, "size_norm");
    }
}

}  // namespace
}  // namespace onegrid::spatial
