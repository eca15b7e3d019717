// Hotspots on constructed data with known answers: grid adjacency of a 5 × 5 lattice (exact and
// with gaps below the tolerance), Getis-Ord Gi* of a hot block checked against the formula worked
// by hand, the exact binomial tail, emerging hotspots, recurring spots found and isolated
// incidents not, incidents per grid and category.

#include <gtest/gtest.h>

#include <cmath>

#include "onegrid/core/hotspots.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"

using namespace onegrid;
using namespace onegrid::core;

namespace {

constexpr double x0 = 120.70;
constexpr double y0 = 37.70;
constexpr double d = 0.001;  // about 88 m east–west and 111 m north–south

std::string cell(int r, int c) { return "r" + std::to_string(r) + "c" + std::to_string(c); }

// A 5 × 5 lattice of squares; `gap` (degrees) shrinks every square on all sides.
std::vector<LayerFeature> lattice(double gap = 0.0) {
    std::vector<LayerFeature> out;
    for (int r = 0; r < 5; ++r) {
        for (int c = 0; c < 5; ++c) {
            LayerFeature f;
            f.code = cell(r, c);
            const double x = x0 + c * d + gap;
            const double y = y0 + r * d + gap;
            const double s = d - 2 * gap;
            f.geometry = {{{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}}, {}}};
            out.push_back(f);
        }
    }
    return out;
}

spatial::Point centre(int r, int c) { return {x0 + (c + 0.5) * d, y0 + (r + 0.5) * d}; }

// A case with its report (and a void, when asked).
void add_case(CaseLog& log, IncidentId id, const std::string& grid, const std::string& category, spatial::Point p,
              Timestamp at, bool voided = false) {
    Incident i;
    i.id = id;
    i.grid = grid;
    i.town = "370614001";
    i.category = category;
    i.location = p;
    i.reported_at = at;
    std::vector<Event> events(1);
    events[0].seq = 1;
    events[0].at = at;
    events[0].action = "report";
    events[0].to = Status::reported;
    if (voided) {
        Event v;
        v.seq = 2;
        v.at = at + ms_per_hour;
        v.action = "void";
        v.from = Status::reported;
        v.to = Status::voided;
        events.push_back(v);
    }
    log.put(i, events);
}

const Timestamp end_time = *parse_iso8601("2026-11-30T00:00:00+08:00");  // a Monday

std::size_t degree(const GridAdjacency& a, int r, int c) { return a.neighbours[*a.find(cell(r, c))].size(); }

}  // namespace

TEST(Hotspots, AdjacencyOfALatticeSharesEdgesNotCorners) {
    for (double gap : {0.0, 1e-6}) {  // exact vertices; then 0.1 m gaps, under the 0.5 m tolerance
        const auto a = grid_adjacency(lattice(gap));
        ASSERT_EQ(a.codes.size(), 25u);
        EXPECT_EQ(degree(a, 0, 0), 2u) << gap;
        EXPECT_EQ(degree(a, 0, 2), 3u) << gap;
        EXPECT_EQ(degree(a, 2, 2), 4u) << gap;
        const auto& n = a.neighbours[*a.find(cell(1, 1))];
        std::vector<std::string> names;
        for (auto j : n) names.push_back(a.codes[j]);
        EXPECT_EQ(names, (std::vector<std::string>{"r0c1", "r1c0", "r1c2", "r2c1"})) << "rook neighbours only";
    }
    // Gaps wider than the tolerance: nobody is a neighbour.
    AdjacencyOptions tight;
    tight.tolerance_m = 0.01;
    const auto apart = grid_adjacency(lattice(1e-6), tight);
    for (const auto& n : apart.neighbours) EXPECT_TRUE(n.empty());
    auto twice = lattice();
    twice.push_back(twice.front());
    EXPECT_THROW((void)grid_adjacency(twice), spatial::data_error);
}

TEST(Hotspots, GiStarOfAHotBlockMatchesTheFormula) {
    const auto a = grid_adjacency(lattice());
    // Counts: 10 in the block r1–r2 × c1–c2, 1 elsewhere.
    auto count_of = [](int r, int c) { return (r == 1 || r == 2) && (c == 1 || c == 2) ? 10 : 1; };
    std::vector<double> counts(25);
    for (int r = 0; r < 5; ++r)
        for (int c = 0; c < 5; ++c) counts[*a.find(cell(r, c))] = count_of(r, c);
    const auto gi = getis_ord_gi_star(a, counts);
    // By hand: n = 25, Σx = 4·10 + 21 = 61, mean 2.44, Σx² = 421, S = √(421/25 − 2.44²) = √10.8864.
    // Gi* = (Σ_j w_ij x_j − mean·W) / (S·√((n·W − W²)/(n − 1))), W = neighbours + 1.
    const double S = std::sqrt(10.8864);
    // r1c1: itself and r0c1 (1), r1c0 (1), r1c2 (10), r2c1 (10): 32, W = 5.
    const double z11 = (32 - 2.44 * 5) / (S * std::sqrt((25.0 * 5 - 25) / 24));
    // r0c0: 1 + 1 + 1, W = 3.
    const double z00 = (3 - 2.44 * 3) / (S * std::sqrt((25.0 * 3 - 9) / 24));
    // r0c1: 1 + r0c0 1 + r0c2 1 + r1c1 10, W = 4.
    const double z01 = (13 - 2.44 * 4) / (S * std::sqrt((25.0 * 4 - 16) / 24));
    EXPECT_NEAR(z11, 2.9398736610, 1e-9);
    EXPECT_NEAR(gi[*a.find("r1c1")].z, z11, 1e-12);
    EXPECT_NEAR(gi[*a.find("r0c0")].z, z00, 1e-12);
    EXPECT_NEAR(gi[*a.find("r0c1")].z, z01, 1e-12);
    EXPECT_EQ(gi[*a.find("r1c1")].cls, GiClass::hot_99);
    EXPECT_NEAR(gi[*a.find("r1c1")].p_value, std::erfc(z11 / std::sqrt(2.0)), 1e-15);
    EXPECT_EQ(gi[*a.find("r0c0")].cls, GiClass::none);
    EXPECT_EQ(gi[*a.find("r1c1")].neighbours, 4u);
    // By symmetry the four block cells have the same z.
    for (const char* c : {"r1c2", "r2c1", "r2c2"}) EXPECT_NEAR(gi[*a.find(c)].z, z11, 1e-12) << c;
    // The same from incidents in a case log, counted over the window ending at end_time.
    CaseLog log;
    IncidentId id = 0;
    for (int r = 0; r < 5; ++r) {
        for (int c = 0; c < 5; ++c) {
            for (int k = 0; k < count_of(r, c); ++k) add_case(log, ++id, cell(r, c), "0101", centre(r, c), end_time - (k + 1) * ms_per_day);
        }
    }
    add_case(log, ++id, "r0c0", "0101", centre(0, 0), end_time - 40 * ms_per_day);  // before the 28-day window
    add_case(log, ++id, "r0c0", "0101", centre(0, 0), end_time - ms_per_day, true);  // voided
    const auto from_log = gi_star_hotspots(log, a, end_time);
    ASSERT_EQ(from_log.size(), 25u);
    for (std::size_t k = 0; k < 25; ++k) {
        EXPECT_EQ(from_log[k].count, counts[k]) << from_log[k].grid;
        EXPECT_NEAR(from_log[k].z, gi[k].z, 1e-12) << from_log[k].grid;
    }
    // Classes at the two-sided thresholds; no variation means no z.
    EXPECT_EQ(classify_gi(1.6), GiClass::none);
    EXPECT_EQ(classify_gi(1.7), GiClass::hot_90);
    EXPECT_EQ(classify_gi(-2.0), GiClass::cold_95);
    EXPECT_EQ(classify_gi(-2.6), GiClass::cold_99);
    const std::vector<double> flat(25, 3.0);
    for (const auto& g : getis_ord_gi_star(a, flat)) EXPECT_EQ(g.z, 0.0);
    EXPECT_THROW((void)getis_ord_gi_star(a, std::vector<double>(24)), indicator_error);
}

TEST(Hotspots, BinomialTailIsExact) {
    // Reference values summed exactly: Σ_{i≥k} C(n,i) p^i (1−p)^(n−i).
    EXPECT_NEAR(binomial_upper_tail(28, 12, 1.0 / 9), 1.9259952376882903e-05, 1e-15);
    EXPECT_NEAR(binomial_upper_tail(45, 5, 1.0 / 9), 0.5699046171680218, 1e-12);
    EXPECT_NEAR(binomial_upper_tail(20, 5, 1.0 / 9), 0.06324457840664414, 1e-13);
    EXPECT_NEAR(binomial_upper_tail(900, 50, 1.0 / 9), 0.9999999976638393, 1e-12);
    EXPECT_NEAR(binomial_upper_tail(9, 9, 1.0 / 9), std::pow(1.0 / 9, 9), 1e-20);
    EXPECT_EQ(binomial_upper_tail(10, 0, 0.3), 1.0);
    EXPECT_EQ(binomial_upper_tail(10, 11, 0.3), 0.0);
    // Large n stays finite and monotone.
    const double a = binomial_upper_tail(100000, 11300, 1.0 / 9);
    const double b = binomial_upper_tail(100000, 11400, 1.0 / 9);
    EXPECT_GT(a, b);
    EXPECT_GT(b, 0.0);
}

TEST(Hotspots, EmergingHotspotsByTheConditionalBinomialTest) {
    CaseLog log;
    IncidentId id = 0;
    const Timestamp week = 7 * ms_per_day;
    // r0c0: 2 a week for the trailing 8 weeks, 12 this week: c = 12, b = 16 → p = 1.93e-5, flagged.
    // r0c1: 5 every week: c = 5, b = 40 → p = 0.57, listed, not flagged.
    // r0c2: 3 a week: below the minimum count of 5, not tested.
    for (int w = 0; w < 9; ++w) {
        const Timestamp start = end_time - (9 - w) * week;
        const int hot = w == 8 ? 12 : 2;
        for (int k = 0; k < hot; ++k) add_case(log, ++id, "r0c0", "0101", centre(0, 0), start + k * ms_per_hour);
        for (int k = 0; k < 5; ++k) add_case(log, ++id, "r0c1", k < 3 ? "0101" : "0203", centre(0, 1), start + k * ms_per_hour);
        for (int k = 0; k < 3; ++k) add_case(log, ++id, "r0c2", "0101", centre(0, 2), start + k * ms_per_hour);
    }
    add_case(log, ++id, "r0c0", "0101", centre(0, 0), end_time + ms_per_hour);  // after the end: not counted
    const auto tests = emerging_hotspots(log, end_time);
    // Grid-level tests first (by p-value), then grid × category.
    ASSERT_GE(tests.size(), 3u);
    EXPECT_EQ(tests[0].grid, "r0c0");
    EXPECT_TRUE(tests[0].category.empty());
    EXPECT_EQ(tests[0].current, 12);
    EXPECT_EQ(tests[0].trailing, 16);
    EXPECT_NEAR(tests[0].expected, 28.0 / 9, 1e-12);
    EXPECT_NEAR(tests[0].p_value, 1.9259952376882903e-05, 1e-15);
    EXPECT_TRUE(tests[0].flagged);
    EXPECT_EQ(tests[1].grid, "r0c1");
    EXPECT_TRUE(tests[1].category.empty());
    EXPECT_NEAR(tests[1].p_value, 0.5699046171680218, 1e-12);
    EXPECT_FALSE(tests[1].flagged);
    // Grid × category: r0c0 × 0101 (all of r0c0) is flagged; r0c1's categories have 3 and 2 this week: untested.
    ASSERT_EQ(tests.size(), 3u);
    EXPECT_EQ(tests[2].grid, "r0c0");
    EXPECT_EQ(tests[2].category, "0101");
    EXPECT_TRUE(tests[2].flagged);
    for (const auto& t : tests) EXPECT_NE(t.grid, "r0c2");
    // Benjamini–Hochberg over the two grid tests: q = p·2/1 for the smaller, p for the larger; one
    // grid × category test: q = p.
    EXPECT_NEAR(tests[0].q_value, 2 * 1.9259952376882903e-05, 1e-15);
    EXPECT_NEAR(tests[1].q_value, 0.5699046171680218, 1e-12);
    EXPECT_NEAR(tests[2].q_value, tests[2].p_value, 1e-15);
    HotspotConfig fdr;
    fdr.max_q = 3e-5;  // between p and q of the hot grid: only its grid × category test stays flagged
    const auto controlled = emerging_hotspots(log, end_time, fdr);
    EXPECT_FALSE(controlled[0].flagged);
    EXPECT_TRUE(controlled[2].flagged);
    // A stricter minimum leaves only the hot grid; a filter on another category leaves nothing flagged.
    HotspotConfig strict;
    strict.min_count = 6;
    EXPECT_EQ(emerging_hotspots(log, end_time, strict).size(), 2u);
    EXPECT_TRUE(emerging_hotspots(log, end_time, {}, {"", "02"}).empty());
}

TEST(Hotspots, RecurringSpotsAreFoundAndIsolatedIncidentsAreNot) {
    CaseLog log;
    const spatial::Point base = spatial::to_metric(centre(2, 2));
    auto at_offset = [&](double east, double north) { return spatial::from_metric({base.x + east, base.y + north}); };
    const Timestamp day = ms_per_day;
    // A spot: 0101 four times within 20 m on four days.
    add_case(log, 1, "r2c2", "0101", at_offset(0, 0), end_time - 20 * day);
    add_case(log, 2, "r2c2", "0101", at_offset(10, 0), end_time - 15 * day);
    add_case(log, 3, "r2c2", "0101", at_offset(0, 15), end_time - 10 * day);
    add_case(log, 4, "r2c2", "0101", at_offset(-12, -8), end_time - 2 * day);
    // Not a spot: 0203 three times within 10 m, but on one day.
    for (IncidentId k = 10; k < 13; ++k) add_case(log, k, "r2c2", "0203", at_offset(5, 5), end_time - 3 * day + (k - 10) * ms_per_hour);
    // Not a spot: 0301 on three days, but 80 m apart.
    add_case(log, 20, "r2c2", "0301", at_offset(0, 0), end_time - 5 * day);
    add_case(log, 21, "r2c2", "0301", at_offset(80, 0), end_time - 6 * day);
    add_case(log, 22, "r2c2", "0301", at_offset(0, 80), end_time - 7 * day);
    // Not a spot: 0401 three times close together on three days, but one was voided.
    add_case(log, 30, "r2c2", "0401", at_offset(0, 0), end_time - 5 * day);
    add_case(log, 31, "r2c2", "0401", at_offset(3, 0), end_time - 6 * day);
    add_case(log, 32, "r2c2", "0401", at_offset(0, 3), end_time - 7 * day, true);
    // Not in the window: 0501 three times close together, two months ago.
    for (IncidentId k = 40; k < 43; ++k) add_case(log, k, "r2c2", "0501", at_offset(1, 1), end_time - (60 + k) * day);
    // An isolated 0101 far away is not part of the spot.
    add_case(log, 50, "r0c0", "0101", centre(0, 0), end_time - 4 * day);

    const auto spots = recurring_spots(log, end_time);
    ASSERT_EQ(spots.size(), 1u);
    const RecurringSpot& s = spots[0];
    EXPECT_EQ(s.category, "0101");
    EXPECT_EQ(s.incidents, (std::vector<IncidentId>{1, 2, 3, 4}));
    EXPECT_EQ(s.days, 4);
    EXPECT_EQ(s.grid, "r2c2");
    EXPECT_EQ(s.first, end_time - 20 * day);
    EXPECT_EQ(s.last, end_time - 2 * day);
    // The centroid of the offsets (0,0), (10,0), (0,15), (−12,−8) is (−0.5, 1.75) m from the base.
    EXPECT_NEAR(s.metric.x, base.x - 0.5, 1e-6);
    EXPECT_NEAR(s.metric.y, base.y + 1.75, 1e-6);
    EXPECT_LT(spatial::distance_m(s.location, at_offset(-0.5, 1.75)), 0.01);
    EXPECT_NEAR(s.radius_m, std::hypot(-12 + 0.5, -8 - 1.75), 1e-6);
    // Demanding five incidents finds nothing.
    HotspotConfig five;
    five.recurring_min_incidents = 5;
    EXPECT_TRUE(recurring_spots(log, end_time, five).empty());
}

TEST(Hotspots, IncidentsPerGridAndCategoryOverWindows) {
    CaseLog log;
    const auto weeks = calendar_periods(PeriodKind::week, end_time - 14 * ms_per_day, end_time);
    ASSERT_EQ(weeks.size(), 2u);
    add_case(log, 1, "r0c0", "0101", centre(0, 0), weeks[0].from);
    add_case(log, 2, "r0c0", "0101", centre(0, 0), weeks[1].from + 1);
    add_case(log, 3, "r0c0", "0101", centre(0, 0), weeks[1].until - 1);
    add_case(log, 4, "r0c0", "0203", centre(0, 0), weeks[1].from);
    add_case(log, 5, "r0c1", "0101", centre(0, 1), weeks[0].from, true);  // voided
    add_case(log, 6, "r0c1", "0101", centre(0, 1), weeks[1].until);       // after the windows
    const auto c = count_incidents(log, weeks);
    ASSERT_EQ(c.rows.size(), 2u);
    EXPECT_EQ(c.rows[0].grid, "r0c0");
    EXPECT_EQ(c.rows[0].category, "0101");
    EXPECT_EQ(c.rows[0].counts, (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(c.rows[1].category, "0203");
    EXPECT_EQ(c.rows[1].counts, (std::vector<std::int64_t>{0, 1}));
    EXPECT_TRUE(count_incidents(log, weeks, {"", "02"}).rows.size() == 1u);
    EXPECT_THROW((void)count_incidents(log, {weeks[1], weeks[0]}), indicator_error);
}

TEST(Hotspots, TheReportPutsItTogether) {
    const auto a = grid_adjacency(lattice());
    CaseLog log;
    add_case(log, 1, "r0c0", "0101", centre(0, 0), end_time - ms_per_day);
    const auto r = find_hotspots(log, a, end_time);
    EXPECT_EQ(r.week.from, end_time - 7 * ms_per_day);
    EXPECT_EQ(r.baseline.from, end_time - 63 * ms_per_day);
    EXPECT_EQ(r.baseline.until, r.week.from);
    EXPECT_EQ(r.window.from, end_time - 28 * ms_per_day);
    EXPECT_EQ(r.gi_star.size(), 25u);
    EXPECT_TRUE(r.emerging.empty());
    EXPECT_TRUE(r.recurring.empty());
}
