#pragma once
// A static, packed R-tree (Sort-Tile-Recursive) over line segments in a planar metric system,
// answering "which segment is nearest to this point" by best-first search. Immutable after
// construction, so concurrent queries are safe.

#include <cstdint>
#include <limits>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial::detail {

class NearestTree {
public:
    struct Segment {
        Point a;
        Point b;
        std::uint32_t id;
    };
    struct Hit {
        std::uint32_t id = std::numeric_limits<std::uint32_t>::max();
        double distance = std::numeric_limits<double>::infinity();
    };

    NearestTree() = default;
    explicit NearestTree(std::vector<Segment> segments);

    [[nodiscard]] Hit nearest(Point p) const;
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

private:
    struct Node {
        Box box;
        std::uint32_t first = 0;  // first child node, or first segment for leaves
        std::uint32_t count = 0;
        bool leaf = false;
    };
    std::vector<Segment> m_segments;
    std::vector<Node> m_nodes;  // root is the last node
};

/// Squared distance from p to the segment ab.
[[nodiscard]] double segment_distance2(Point p, Point a, Point b) noexcept;

}  // namespace onegrid::spatial::detail
