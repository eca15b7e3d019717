#pragma once
/// @file
/// Overlay of two polygon layers: the area every polygon of one shares with every polygon of the
/// other, measured in EPSG:4549.

#include <cstdint>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

struct SharedArea {
    std::uint32_t a = 0;  ///< index in the first layer
    std::uint32_t b = 0;  ///< index in the second layer
    double area_m2 = 0.0;
};

/// Areas in square metres (EPSG:4549) of EPSG:4490 polygons.
[[nodiscard]] std::vector<double> areas_m2(const std::vector<MultiPolygon>& polygons);

/// Every pair (a, b) whose interiors intersect, with the area of the intersection (m², EPSG:4549).
/// Pairs that only touch are left out. GEOS STRtree + prepared geometries + OverlayNG.
[[nodiscard]] std::vector<SharedArea> overlay_areas(const std::vector<MultiPolygon>& a, const std::vector<MultiPolygon>& b);

/// The polygons transformed to EPSG:4549 (metres).
[[nodiscard]] std::vector<MultiPolygon> to_metric(const std::vector<MultiPolygon>& polygons);

}  // namespace onegrid::spatial
