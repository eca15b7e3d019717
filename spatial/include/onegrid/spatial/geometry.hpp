#pragma once
/// @file
/// Plain geometry value types used across OneGrid (no GEOS/GDAL objects in hot paths).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace onegrid::spatial {

/// A position; for geographic systems x is longitude and y latitude (degrees).
struct Point {
    double x = 0.0;
    double y = 0.0;
    friend bool operator==(const Point&, const Point&) = default;
};

/// Axis-aligned bounding box. An empty box has min > max.
struct Box {
    double minx = std::numeric_limits<double>::infinity();
    double miny = std::numeric_limits<double>::infinity();
    double maxx = -std::numeric_limits<double>::infinity();
    double maxy = -std::numeric_limits<double>::infinity();

    [[nodiscard]] bool empty() const noexcept { return minx > maxx || miny > maxy; }
    void expand(Point p) noexcept {
        minx = std::min(minx, p.x);
        miny = std::min(miny, p.y);
        maxx = std::max(maxx, p.x);
        maxy = std::max(maxy, p.y);
    }
    void expand(const Box& b) noexcept {
        minx = std::min(minx, b.minx);
        miny = std::min(miny, b.miny);
        maxx = std::max(maxx, b.maxx);
        maxy = std::max(maxy, b.maxy);
    }
    [[nodiscard]] bool intersects(const Box& b) const noexcept {
        return !(b.minx > maxx || b.maxx < minx || b.miny > maxy || b.maxy < miny);
    }
    [[nodiscard]] bool contains(Point p) const noexcept {
        return p.x >= minx && p.x <= maxx && p.y >= miny && p.y <= maxy;
    }
    [[nodiscard]] double width() const noexcept { return maxx - minx; }
    [[nodiscard]] double height() const noexcept { return maxy - miny; }
    friend bool operator==(const Box&, const Box&) = default;
};

/// A closed ring without the repeated closing vertex.
using Ring = std::vector<Point>;

/// A polygon: one shell and any number of holes.
struct Polygon {
    Ring shell;
    std::vector<Ring> holes;
};

/// The geometry of a grid: one or more polygons (islands are extra parts).
using MultiPolygon = std::vector<Polygon>;

[[nodiscard]] Box bounds(const Ring& ring) noexcept;
[[nodiscard]] Box bounds(const MultiPolygon& mp) noexcept;

/// Signed planar area of a ring (positive when counter-clockwise), in squared input units.
[[nodiscard]] double signed_area(const Ring& ring) noexcept;

/// Number of vertices in all rings.
[[nodiscard]] std::size_t vertex_count(const MultiPolygon& mp) noexcept;

/// True when every coordinate is finite.
[[nodiscard]] bool all_finite(const MultiPolygon& mp) noexcept;

/// Well-known text of a multipolygon (for messages, tests and exchange with SQL peers).
/// `precision` 0 writes the shortest text that reads back to the same doubles.
[[nodiscard]] std::string to_wkt(const MultiPolygon& mp, int precision = 0);

}  // namespace onegrid::spatial
