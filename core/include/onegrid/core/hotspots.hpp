#pragma once
/// @file
/// Where problems cluster (研判分析): incidents per grid and category over time windows; emerging
/// hotspots (this week against the trailing weeks, an exact conditional binomial test); Getis-Ord
/// Gi* over the adjacency of the grid coverage; recurring spots (the same category within 50 m on
/// several days). The methods are stated in docs/indicators.md.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onegrid/core/indicators.hpp"

namespace onegrid::core {

/// Which grids are neighbours: polygons sharing a stretch of boundary (not just a corner).
struct GridAdjacency {
    std::vector<std::string> codes;                      ///< sorted
    std::vector<std::vector<std::uint32_t>> neighbours;  ///< per grid, sorted, without the grid itself

    [[nodiscard]] std::optional<std::size_t> find(std::string_view code) const;
};

struct AdjacencyOptions {
    /// Boundaries closer than this (EPSG:4549 metres) count as shared: neighbours drawn separately
    /// need not share exact vertices.
    double tolerance_m = 0.5;
    /// The shared stretch must be at least this long (metres): grids meeting at a corner are not
    /// neighbours.
    double min_shared_m = 5.0;
};

/// Adjacency of grid polygons (EPSG:4490), computed in EPSG:4549 with GEOS: two grids are neighbours
/// when the part of one's boundary within `tolerance_m` of the other is at least `min_shared_m`
/// long. @throws spatial::data_error for duplicate codes or invalid geometry.
[[nodiscard]] GridAdjacency grid_adjacency(const std::vector<LayerFeature>& grids, const AdjacencyOptions& options = {});
/// The adjacency of the base grid version in force at `at` (layer `grids`).
/// @throws not_found_error when there is no base grid at that time.
[[nodiscard]] GridAdjacency load_grid_adjacency(Store& store, Timestamp at, const AdjacencyOptions& options = {});

/// Incidents per grid and category in each window (by reported time; voided cases left out).
struct GridCategoryCounts {
    std::vector<Period> windows;
    struct Row {
        std::string grid;
        std::string category;
        std::vector<std::int64_t> counts;  ///< one per window
    };
    std::vector<Row> rows;  ///< rows with at least one incident, by grid and category
};
/// @throws indicator_error for unsorted or overlapping windows.
[[nodiscard]] GridCategoryCounts count_incidents(const CaseLog& log, const std::vector<Period>& windows,
                                                 const CaseFilter& filter = {});

struct HotspotConfig {
    Timestamp week = 7 * ms_per_day;  ///< the current window of the emerging test
    int trailing_weeks = 8;           ///< the baseline: this many windows before it
    double alpha = 0.01;              ///< flag when the one-sided p-value is below
    std::int64_t min_count = 5;       ///< …and the current week has at least this many incidents
    /// …and the Benjamini–Hochberg q-value (over the tests of its level) is at most this; 1: no
    /// control of the false discovery rate (at alpha 0.01, about 1% of quiet grids are flagged).
    double max_q = 1.0;
    Timestamp window = 28 * ms_per_day;  ///< the window of Gi* and recurring spots
    double recurring_radius_m = 50.0;
    std::int64_t recurring_min_incidents = 3;
    int recurring_min_days = 3;  ///< distinct days (Beijing time)
};

/// One emerging-hotspot test: c incidents this week against b in the trailing weeks. Under H0 (a
/// constant rate) c given c + b is Binomial(c + b, 1 / (trailing_weeks + 1)); p = P(X ≥ c).
struct EmergingTest {
    std::string grid;
    std::string category;  ///< empty: all categories of the grid
    std::int64_t current = 0;
    std::int64_t trailing = 0;
    double expected = 0.0;  ///< (c + b) / (trailing_weeks + 1)
    double p_value = 1.0;
    double q_value = 1.0;  ///< Benjamini–Hochberg, over the tests of its level (grids; grid × category)
    bool flagged = false;  ///< p < alpha, current ≥ min_count and q ≤ max_q
};

/// P(X ≥ k) for X ~ Binomial(n, p), exact (summed in log space).
[[nodiscard]] double binomial_upper_tail(std::int64_t n, std::int64_t k, double p);

/// Confidence classes of Gi* (two-sided): ±1.645 (90%), ±1.960 (95%), ±2.576 (99%).
enum class GiClass : std::int8_t { cold_99 = -3, cold_95 = -2, cold_90 = -1, none = 0, hot_90 = 1, hot_95 = 2, hot_99 = 3 };
[[nodiscard]] std::string_view to_string(GiClass c) noexcept;
[[nodiscard]] GiClass classify_gi(double z) noexcept;

struct GiStar {
    std::string grid;
    double count = 0;
    std::uint32_t neighbours = 0;  ///< without the grid itself
    double z = 0.0;                ///< 0 when every grid has the same count
    double p_value = 1.0;          ///< two-sided
    GiClass cls = GiClass::none;
};

/// Getis-Ord Gi* of every grid of `adjacency` for `counts` (same order as adjacency.codes), with
/// binary weights that include the grid itself. @throws indicator_error when the sizes differ.
[[nodiscard]] std::vector<GiStar> getis_ord_gi_star(const GridAdjacency& adjacency, std::span<const double> counts);

/// A place where incidents of one category come back: at least `recurring_min_incidents` within
/// `recurring_radius_m` of one of them, on at least `recurring_min_days` distinct days.
struct RecurringSpot {
    std::string category;
    std::string grid;          ///< the grid of the seed incident
    spatial::Point location;   ///< centroid of the incidents, EPSG:4490 (lon/lat)
    spatial::Point metric;     ///< the same in EPSG:4549 (metres)
    double radius_m = 0.0;     ///< largest distance of an incident from the centroid
    int days = 0;
    Timestamp first = 0;
    Timestamp last = 0;
    std::vector<IncidentId> incidents;  ///< by id
};

/// Everything for a window ending at `end`.
struct HotspotReport {
    Period week;      ///< [end − week, end)
    Period baseline;  ///< the trailing weeks before it
    Period window;    ///< [end − window, end): Gi* and recurring spots
    std::vector<EmergingTest> emerging;  ///< every test with current ≥ min_count (grids, then grid × category), by p-value
    std::vector<GiStar> gi_star;         ///< every grid of the adjacency
    std::vector<RecurringSpot> recurring;  ///< most incidents first
};

[[nodiscard]] std::vector<EmergingTest> emerging_hotspots(const CaseLog& log, Timestamp end, const HotspotConfig& config = {},
                                                          const CaseFilter& filter = {});
/// Gi* of the incident counts of every grid in [end − config.window, end).
[[nodiscard]] std::vector<GiStar> gi_star_hotspots(const CaseLog& log, const GridAdjacency& adjacency, Timestamp end,
                                                   const HotspotConfig& config = {}, const CaseFilter& filter = {});
[[nodiscard]] std::vector<RecurringSpot> recurring_spots(const CaseLog& log, Timestamp end, const HotspotConfig& config = {},
                                                         const CaseFilter& filter = {});
[[nodiscard]] HotspotReport find_hotspots(const CaseLog& log, const GridAdjacency& adjacency, Timestamp end,
                                          const HotspotConfig& config = {}, const CaseFilter& filter = {});

}  // namespace onegrid::core
