#pragma once
/// @file
/// Validation of a layer of units as a whole coverage (the check before a grid layer is published):
/// invalid polygons, overlaps, gaps inside the district, slivers, units leaving their parent
/// (community/town), duplicate or malformed codes, units outside the size norm. Every finding
/// carries a severity, a message and the geometry of the problem. Areas in EPSG:4549.

#include <optional>
#include <string>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

struct CoverageUnit {
    std::string code;
    MultiPolygon geometry;  ///< EPSG:4490
    std::string parent;     ///< the parent unit's code (community for grids)
    std::optional<double> population;
    std::optional<double> households;
};

enum class Severity : std::uint8_t { error, warning };
[[nodiscard]] const char* to_string(Severity s) noexcept;

struct Finding {
    Severity severity = Severity::error;
    std::string rule;     ///< invalid_polygon, overlap, gap, sliver, outside_parent, unknown_parent, duplicate_code, malformed_code, size_norm
    std::string message;  ///< what is wrong, with codes and figures
    std::vector<std::string> codes;  ///< the units concerned
    MultiPolygon area;    ///< where (a region); empty when `location` says it
    std::optional<Point> location;  ///< where (a point), e.g. a self-intersection
};

struct CoverageRules {
    double overlap_m2 = 1.0;      ///< overlaps larger than this are errors
    double gap_m2 = 1.0;          ///< uncovered areas inside the extent larger than this are errors
    double sliver_m2 = 500.0;     ///< a polygon part smaller than this is a sliver (error)
    double min_thinness = 0.05;   ///< Polsby–Popper 4πA/P² below this is a sliver (error)
    double outside_parent_m2 = 10.0;  ///< area outside the parent above this is an error
    /// Codes: exactly this many digits, starting with the parent's code (0: any code).
    std::size_t code_digits = 15;
    /// Size norm (warnings): ~1,000 residents or 300–400 households per grid.
    double min_population = 600, max_population = 1500;
    double min_households = 300, max_households = 400;
};

/// Validates `units` as a coverage of `extent` (e.g. the district; empty: no gap check) whose
/// units lie in `parents` (e.g. communities; empty: no parent check). Findings are ordered by
/// severity, then rule, then code.
[[nodiscard]] std::vector<Finding> validate_coverage(const std::vector<CoverageUnit>& units, const std::vector<CoverageUnit>& parents,
                                                     const MultiPolygon& extent, const CoverageRules& rules = {});

}  // namespace onegrid::spatial
