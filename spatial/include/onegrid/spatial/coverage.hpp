#pragma once
/// @file
/// Checks of a set of polygons as a coverage (grids must not overlap).

#include <cstdint>
#include <string>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

struct Overlap {
    std::uint32_t a = 0;  ///< index of the first polygon
    std::uint32_t b = 0;  ///< index of the second polygon (a < b)
    double area_m2 = 0.0;
    MultiPolygon region;  ///< the overlapping area (EPSG:4490)
};

/// Every pair of polygons (EPSG:4490) whose interiors overlap by more than `min_area_m2`
/// (areas measured in EPSG:4549). Uses a GEOS STRtree and prepared geometries.
[[nodiscard]] std::vector<Overlap> find_overlaps(const std::vector<MultiPolygon>& polygons, double min_area_m2 = 1.0);

}  // namespace onegrid::spatial
