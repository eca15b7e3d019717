#pragma once
/// @file
/// Edits of a polygon coverage that keep it a coverage: split a unit by a drawn line, merge two
/// neighbours, redraw the boundary two neighbours share. Geometries are EPSG:4490 lon/lat; areas
/// are measured in EPSG:4549. Refused edits throw edit_error with the reason.

#include <stdexcept>
#include <utility>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// A drawn line (at least two points).
using Line = std::vector<Point>;

struct edit_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Cuts a unit by a line that crosses it from edge to edge. Returns the pieces, the largest (by
/// area) first; a line crossing several times may give more than two.
/// @throws edit_error when the line is malformed or does not cut the unit.
[[nodiscard]] std::vector<MultiPolygon> split_by_line(const MultiPolygon& unit, const Line& line);

/// The union of two units that share a boundary (touching at a point is not enough).
/// @throws edit_error when they do not share a boundary or overlap by more than `overlap_m2`.
[[nodiscard]] MultiPolygon merge_adjacent(const MultiPolygon& a, const MultiPolygon& b, double overlap_m2 = 1.0);

/// Replaces the boundary two neighbours share by `line`: their union is cut by the line in two,
/// and each side goes to the neighbour that held most of it before. Nothing outside the pair
/// changes, so the coverage keeps no gap and no overlap. Returns {new a, new b}.
/// @throws edit_error when they are not neighbours or the line does not cut their union in two.
[[nodiscard]] std::pair<MultiPolygon, MultiPolygon> move_shared_boundary(const MultiPolygon& a, const MultiPolygon& b,
                                                                         const Line& line);

/// Length in metres (EPSG:4549) of the boundary two units share.
[[nodiscard]] double shared_boundary_m(const MultiPolygon& a, const MultiPolygon& b);

}  // namespace onegrid::spatial
