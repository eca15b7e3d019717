#include "detail/nearest_tree.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

namespace onegrid::spatial::detail {
namespace {

constexpr std::size_t fanout = 16;

double box_distance2(Point p, const Box& b) noexcept {
    const double dx = std::max({b.minx - p.x, 0.0, p.x - b.maxx});
    const double dy = std::max({b.miny - p.y, 0.0, p.y - b.maxy});
    return dx * dx + dy * dy;
}

// Sort-Tile-Recursive ordering of items by their boxes' centres: vertical slices by x, then y.
template <class Item, class BoxOf>
void str_order(std::vector<Item>& items, BoxOf box_of) {
    const std::size_t n = items.size();
    const auto leaves = (n + fanout - 1) / fanout;
    const auto slices = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(leaves))));
    const std::size_t per_slice = slices * fanout;
    auto cx = [&](const Item& it) { const Box b = box_of(it); return b.minx + b.maxx; };
    auto cy = [&](const Item& it) { const Box b = box_of(it); return b.miny + b.maxy; };
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) { return cx(a) < cx(b); });
    for (std::size_t s = 0; s < n; s += per_slice) {
        const auto end = items.begin() + static_cast<std::ptrdiff_t>(std::min(n, s + per_slice));
        std::sort(items.begin() + static_cast<std::ptrdiff_t>(s), end,
                  [&](const Item& a, const Item& b) { return cy(a) < cy(b); });
    }
}

}  // namespace

double segment_distance2(Point p, Point a, Point b) noexcept {
    const double dx = b.x - a.x;
    const double dy = b.y - a.y;
    const double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const double qx = a.x + t * dx - p.x;
    const double qy = a.y + t * dy - p.y;
    return qx * qx + qy * qy;
}

NearestTree::NearestTree(std::vector<Segment> segments) : m_segments(std::move(segments)) {
    if (m_segments.empty()) return;
    auto seg_box = [](const Segment& s) {
        Box b;
        b.expand(s.a);
        b.expand(s.b);
        return b;
    };
    str_order(m_segments, seg_box);
    std::vector<Node> level;
    for (std::size_t i = 0; i < m_segments.size(); i += fanout) {
        Node n;
        n.first = static_cast<std::uint32_t>(i);
        n.count = static_cast<std::uint32_t>(std::min(fanout, m_segments.size() - i));
        n.leaf = true;
        for (std::size_t k = i; k < i + n.count; ++k) n.box.expand(seg_box(m_segments[k]));
        level.push_back(n);
    }
    while (true) {
        if (level.size() > 1) str_order(level, [](const Node& n) { return n.box; });
        const auto base = static_cast<std::uint32_t>(m_nodes.size());
        m_nodes.insert(m_nodes.end(), level.begin(), level.end());
        if (level.size() == 1) break;
        std::vector<Node> parents;
        for (std::size_t i = 0; i < level.size(); i += fanout) {
            Node n;
            n.first = base + static_cast<std::uint32_t>(i);
            n.count = static_cast<std::uint32_t>(std::min(fanout, level.size() - i));
            for (std::size_t k = i; k < i + n.count; ++k) n.box.expand(level[k].box);
            parents.push_back(n);
        }
        level = std::move(parents);
    }
}

NearestTree::Hit NearestTree::nearest(Point p) const {
    Hit best;
    if (m_nodes.empty()) return best;
    double best2 = std::numeric_limits<double>::infinity();
    using Entry = std::pair<double, std::uint32_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    const auto root = static_cast<std::uint32_t>(m_nodes.size() - 1);
    queue.emplace(box_distance2(p, m_nodes[root].box), root);
    while (!queue.empty()) {
        const auto [d2, ni] = queue.top();
        queue.pop();
        if (d2 > best2) break;
        const Node& n = m_nodes[ni];
        if (n.leaf) {
            for (std::uint32_t k = n.first; k < n.first + n.count; ++k) {
                const Segment& s = m_segments[k];
                const double sd = segment_distance2(p, s.a, s.b);
                if (sd < best2 || (sd == best2 && s.id < best.id)) {
                    best2 = sd;
                    best.id = s.id;
                }
            }
        } else {
            for (std::uint32_t k = n.first; k < n.first + n.count; ++k) {
                const double cd = box_distance2(p, m_nodes[k].box);
                if (cd <= best2) queue.emplace(cd, k);
            }
        }
    }
    best.distance = std::sqrt(best2);
    return best;
}

std::size_t NearestTree::memory_bytes() const noexcept {
    return m_segments.size() * sizeof(Segment) + m_nodes.size() * sizeof(Node);
}

}  // namespace onegrid::spatial::detail
