#include "onegrid/spatial/grid_index.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <queue>
#include <thread>

#include "detail/nearest_tree.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/predicates.hpp"

namespace onegrid::spatial {

// How the index works
// -------------------
// A uniform raster over the layer's extent (the top level) whose cells are refined K×K, like a
// quadtree, where grid boundaries pass. Every cell is one 32-bit node:
//   tag 0  outside        no grid covers the cell
//   tag 1  grid id        the cell lies inside exactly this grid (no boundary within it)
//   tag 2  subdivision    offset of K×K child nodes
//   tag 3  leaf           offset of a leaf record: a few boundary edges, tested exactly
// Cells are classified conservatively: an edge belongs to a cell when it comes within a margin of
// it, so floating-point rounding in the point→cell mapping can never pick a cell whose verdict does
// not hold for the point.
//
// Leaves answer with the half-open crossing rule restricted to the cell. For a grid G, a point q
// and the horizontal ray from q eastwards, the crossings split into those with edges that meet the
// cell (tested exactly, orient2d) and those with every other edge of G. The latter never cross the
// cell, so over the cell's height they lie wholly east or west of it, and their count's parity
// N_G(y) is a step function of y alone: it is stored at the cell's bottom together with the
// heights where it steps (where a ring leaves the cell's edge set for an edge east of the cell).
// A leaf therefore answers in a handful of comparisons, whatever the size of the grids.

namespace {

constexpr std::uint32_t tag_shift = 30;
constexpr std::uint32_t value_mask = (1u << tag_shift) - 1u;
constexpr std::uint32_t tag_outside = 0;
constexpr std::uint32_t tag_grid = 1;
constexpr std::uint32_t tag_sub = 2;
constexpr std::uint32_t tag_leaf = 3;
constexpr std::uint32_t K = 4;  // children per axis
constexpr int max_depth = 14;
constexpr std::uint32_t max_leaf_candidates = 32;  // one bit each in the leaf's parity mask

// Leaf record layout in leaf_data.
constexpr std::uint32_t leaf_kind_edges = 0;  // cell-local edges and parity steps
constexpr std::uint32_t leaf_kind_full = 1;   // rare: too many grids; full test per candidate
constexpr std::uint32_t leaf_header = 5;      // kind|ncand<<8, base mask, nedges, nbreaks, break offset
constexpr std::uint32_t edge_bit_bits = 5;

constexpr std::uint32_t make_node(std::uint32_t tag, std::uint32_t value) { return (tag << tag_shift) | value; }

struct Edge {
    double x1, y1, x2, y2;
};

struct GridGeom {
    Box box;
    std::uint32_t band_first = 0;  // index into band_offsets
    std::uint32_t nbands = 0;
    double band_y0 = 0.0;
    double band_inv_h = 0.0;
};

bool segment_meets_box(const Edge& e, const Box& b) noexcept {
    if (std::max(e.x1, e.x2) < b.minx || std::min(e.x1, e.x2) > b.maxx || std::max(e.y1, e.y2) < b.miny ||
        std::min(e.y1, e.y2) > b.maxy) {
        return false;
    }
    if (b.contains({e.x1, e.y1}) || b.contains({e.x2, e.y2})) return true;
    const double dx = e.x2 - e.x1;
    const double dy = e.y2 - e.y1;
    auto side = [&](double x, double y) { return dx * (y - e.y1) - dy * (x - e.x1); };
    const double s1 = side(b.minx, b.miny);
    const double s2 = side(b.maxx, b.miny);
    const double s3 = side(b.minx, b.maxy);
    const double s4 = side(b.maxx, b.maxy);
    if (s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0) return false;
    if (s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0) return false;
    return true;
}

Box expanded(const Box& b, double margin) noexcept {
    return {b.minx - margin, b.miny - margin, b.maxx + margin, b.maxy + margin};
}

/// The half-open crossing rule for one edge: does the eastward ray from p cross it?
inline bool crosses(const Edge& e, Point p) noexcept {
    if ((e.y1 > p.y) == (e.y2 > p.y)) return false;
    if (e.x1 < p.x && e.x2 < p.x) return false;
    if (e.x1 > p.x && e.x2 > p.x) return true;
    const int o = orient2d({e.x1, e.y1}, {e.x2, e.y2}, p);
    return o != 0 && ((o > 0) == (e.y2 > e.y1));
}

inline bool on_edge(const Edge& e, Point p) noexcept {
    if (p.x < std::min(e.x1, e.x2) || p.x > std::max(e.x1, e.x2) || p.y < std::min(e.y1, e.y2) ||
        p.y > std::max(e.y1, e.y2)) {
        return false;
    }
    return orient2d({e.x1, e.y1}, {e.x2, e.y2}, p) == 0;
}

}  // namespace

struct GridIndex::Impl {
    std::vector<GridUnit> units;
    std::vector<MultiPolygon> geometries;
    std::vector<GridGeom> grids;
    std::vector<Edge> edges;
    std::vector<std::uint32_t> edge_grid;
    std::vector<std::uint32_t> edge_next;  // next edge along the same ring (build only)
    std::vector<std::uint32_t> edge_prev;  // previous edge along the same ring (build only)
    std::vector<std::uint32_t> band_offsets;
    std::vector<std::uint32_t> band_edges;

    Box extent;  // the raster's extent
    std::uint32_t nx = 0;
    std::uint32_t ny = 0;
    double inv_cw = 0.0;
    double inv_ch = 0.0;
    double cw = 0.0;
    double ch = 0.0;
    std::vector<std::uint32_t> top;
    std::vector<std::uint32_t> nodes;
    std::vector<std::uint32_t> leaf_data;
    std::vector<double> break_y;
    std::vector<std::uint32_t> break_bit;
    std::size_t total_vertices = 0;
    std::size_t leaf_count = 0;

    detail::NearestTree nearest_tree;

    // --- exact per-grid tests (build time, and leaves with too many grids) ---------------------

    [[nodiscard]] std::pair<const std::uint32_t*, const std::uint32_t*> band_range(const GridGeom& g,
                                                                                 double y) const noexcept {
        auto b = static_cast<std::int64_t>((y - g.band_y0) * g.band_inv_h);
        b = std::clamp<std::int64_t>(b, 0, static_cast<std::int64_t>(g.nbands) - 1);
        const std::uint32_t* base = band_edges.data();
        return {base + band_offsets[g.band_first + b], base + band_offsets[g.band_first + b + 1]};
    }

    /// Half-open crossing rule over all edges of a grid: the grid contains p + (δ, ε).
    [[nodiscard]] bool claims(std::uint32_t gi, Point p) const noexcept {
        const GridGeom& g = grids[gi];
        if (!g.box.contains(p)) return false;
        auto [it, end] = band_range(g, p.y);
        bool inside = false;
        for (; it != end; ++it)
            if (crosses(edges[*it], p)) inside = !inside;
        return inside;
    }

    [[nodiscard]] bool on_boundary(std::uint32_t gi, Point p) const noexcept {
        const GridGeom& g = grids[gi];
        if (!g.box.contains(p)) return false;
        auto [it, end] = band_range(g, p.y);
        for (; it != end; ++it)
            if (on_edge(edges[*it], p)) return true;
        return false;
    }

    // --- queries --------------------------------------------------------------------------------

    [[nodiscard]] std::uint32_t resolve_leaf(std::uint32_t offset, Point p) const noexcept {
        const std::uint32_t* L = leaf_data.data() + offset;
        const std::uint32_t ncand = L[0] >> 8;
        const std::uint32_t* cand = L + leaf_header;
        if ((L[0] & 0xFF) == leaf_kind_full) {
            for (std::uint32_t i = 0; i < ncand; ++i)
                if (claims(cand[i], p)) return cand[i];
            for (std::uint32_t i = 0; i < ncand; ++i)
                if (on_boundary(cand[i], p)) return cand[i];
            return outside;
        }
        std::uint32_t mask = L[1];
        const std::uint32_t nedges = L[2];
        const std::uint32_t nbreaks = L[3];
        const double* by = break_y.data() + L[4];
        const std::uint32_t* bb = break_bit.data() + L[4];
        for (std::uint32_t k = 0; k < nbreaks; ++k)
            if (by[k] <= p.y) mask ^= bb[k];
        const std::uint32_t* refs = cand + ncand;
        for (std::uint32_t k = 0; k < nedges; ++k) {
            if (crosses(edges[refs[k] >> edge_bit_bits], p)) mask ^= 1u << (refs[k] & 31u);
        }
        if (mask != 0) return cand[__builtin_ctz(mask)];
        // In no grid's interior: on a boundary that no grid lies east of, the point belongs to
        // the first grid whose boundary it is on.
        std::uint32_t first = 32;
        for (std::uint32_t k = 0; k < nedges; ++k) {
            if (on_edge(edges[refs[k] >> edge_bit_bits], p)) first = std::min(first, refs[k] & 31u);
        }
        return first < 32 ? cand[first] : outside;
    }

    [[nodiscard]] std::uint32_t locate(double x, double y) const noexcept {
        double fx = (x - extent.minx) * inv_cw;
        double fy = (y - extent.miny) * inv_ch;
        if (!(fx >= 0.0 && fy >= 0.0 && fx < static_cast<double>(nx) && fy < static_cast<double>(ny))) {
            return outside;
        }
        auto ix = static_cast<std::uint32_t>(fx);
        auto iy = static_cast<std::uint32_t>(fy);
        std::uint32_t node = top[static_cast<std::size_t>(iy) * nx + ix];
        while ((node >> tag_shift) == tag_sub) {
            fx = (fx - ix) * K;
            fy = (fy - iy) * K;
            ix = std::min(static_cast<std::uint32_t>(fx), K - 1);
            iy = std::min(static_cast<std::uint32_t>(fy), K - 1);
            node = nodes[(node & value_mask) + iy * K + ix];
        }
        switch (node >> tag_shift) {
            case tag_grid: return node & value_mask;
            case tag_leaf: return resolve_leaf(node & value_mask, {x, y});
            default: return outside;
        }
    }

    // Many points at once: all points of a block descend the tree level by level, and each
    // level's nodes are prefetched before they are read, so that cache misses overlap.
    void locate_block(const Point* pts, std::uint32_t* out, std::size_t m) const noexcept {
        constexpr std::size_t B = 32;
        double fx[B];
        double fy[B];
        std::uint32_t ix[B];
        std::uint32_t iy[B];
        std::uint32_t node[B];
        std::uint32_t slot[B];
        std::uint8_t active[B];
        std::size_t nactive = 0;
        for (std::size_t j = 0; j < m; ++j) {
            fx[j] = (pts[j].x - extent.minx) * inv_cw;
            fy[j] = (pts[j].y - extent.miny) * inv_ch;
            if (fx[j] >= 0.0 && fy[j] >= 0.0 && fx[j] < static_cast<double>(nx) && fy[j] < static_cast<double>(ny)) {
                ix[j] = static_cast<std::uint32_t>(fx[j]);
                iy[j] = static_cast<std::uint32_t>(fy[j]);
                slot[j] = iy[j] * nx + ix[j];
                __builtin_prefetch(&top[slot[j]]);
                active[nactive++] = static_cast<std::uint8_t>(j);
            } else {
                node[j] = make_node(tag_outside, 0);
            }
        }
        for (std::size_t a = 0; a < nactive; ++a) node[active[a]] = top[slot[active[a]]];
        while (nactive > 0) {
            std::size_t still = 0;
            for (std::size_t a = 0; a < nactive; ++a) {
                const std::size_t j = active[a];
                if ((node[j] >> tag_shift) != tag_sub) continue;
                fx[j] = (fx[j] - ix[j]) * K;
                fy[j] = (fy[j] - iy[j]) * K;
                ix[j] = std::min(static_cast<std::uint32_t>(fx[j]), K - 1);
                iy[j] = std::min(static_cast<std::uint32_t>(fy[j]), K - 1);
                slot[j] = (node[j] & value_mask) + iy[j] * K + ix[j];
                __builtin_prefetch(&nodes[slot[j]]);
                active[still++] = static_cast<std::uint8_t>(j);
            }
            nactive = still;
            for (std::size_t a = 0; a < nactive; ++a) node[active[a]] = nodes[slot[active[a]]];
        }
        for (std::size_t j = 0; j < m; ++j)
            if ((node[j] >> tag_shift) == tag_leaf) __builtin_prefetch(&leaf_data[node[j] & value_mask]);
        for (std::size_t j = 0; j < m; ++j) {
            switch (node[j] >> tag_shift) {
                case tag_grid: out[j] = node[j] & value_mask; break;
                case tag_leaf: out[j] = resolve_leaf(node[j] & value_mask, pts[j]); break;
                default: out[j] = outside; break;
            }
        }
    }

    // --- build ---------------------------------------------------------------------------------

    struct Candidate {
        std::uint32_t grid;
        std::vector<std::uint32_t> edges;  // edges of this grid meeting the cell (with margin)
    };

    struct Builder {
        const Impl& index;
        std::vector<std::uint32_t> nodes;
        std::vector<std::uint32_t> leaf_data;
        std::vector<std::uint32_t> leaf_offsets;
        std::vector<double> break_y;
        std::vector<std::uint32_t> break_bit;
        double min_cell_deg_x;
        double min_cell_deg_y;
        std::uint32_t max_leaf_edges;

        std::uint32_t build_cell(const Box& cell, int depth, const std::vector<Candidate>& parent) {
            const double margin = std::max(cell.width(), cell.height()) * 1e-6;
            const Box test = expanded(cell, margin);
            const Point center{(cell.minx + cell.maxx) / 2.0, (cell.miny + cell.maxy) / 2.0};
            std::vector<Candidate> boundary;
            std::vector<std::uint32_t> covering;
            std::size_t total_edges = 0;
            for (const Candidate& c : parent) {
                Candidate mine{c.grid, {}};
                for (std::uint32_t e : c.edges)
                    if (segment_meets_box(index.edges[e], test)) mine.edges.push_back(e);
                if (!mine.edges.empty()) {
                    total_edges += mine.edges.size();
                    boundary.push_back(std::move(mine));
                } else if (index.grids[c.grid].box.intersects(test) && index.claims(c.grid, center)) {
                    covering.push_back(c.grid);
                }
            }
            if (boundary.empty()) {
                if (covering.empty()) return make_node(tag_outside, 0);
                return make_node(tag_grid, *std::min_element(covering.begin(), covering.end()));
            }
            const std::size_t ncand = boundary.size() + covering.size();
            const bool small = cell.width() <= min_cell_deg_x && cell.height() <= min_cell_deg_y;
            if ((total_edges <= max_leaf_edges && ncand <= max_leaf_candidates) || small || depth >= max_depth) {
                for (std::uint32_t g : covering) boundary.push_back(Candidate{g, {}});
                std::sort(boundary.begin(), boundary.end(),
                          [](const Candidate& a, const Candidate& b) { return a.grid < b.grid; });
                return make_node(tag_leaf, make_leaf(cell, margin, boundary));
            }
            for (std::uint32_t g : covering) boundary.push_back(Candidate{g, {}});
            const auto offset = static_cast<std::uint32_t>(nodes.size());
            nodes.resize(nodes.size() + K * K);
            const double w = cell.width() / K;
            const double h = cell.height() / K;
            for (std::uint32_t cy = 0; cy < K; ++cy) {
                for (std::uint32_t cx = 0; cx < K; ++cx) {
                    const Box child{cell.minx + cx * w, cell.miny + cy * h,
                                    cx + 1 == K ? cell.maxx : cell.minx + (cx + 1) * w,
                                    cy + 1 == K ? cell.maxy : cell.miny + (cy + 1) * h};
                    const std::uint32_t node = build_cell(child, depth + 1, boundary);
                    nodes[offset + cy * K + cx] = node;
                }
            }
            return make_node(tag_sub, offset);
        }

        std::uint32_t make_leaf(const Box& cell, double margin, const std::vector<Candidate>& cands) {
            const auto offset = static_cast<std::uint32_t>(leaf_data.size());
            leaf_offsets.push_back(offset);
            const auto ncand = static_cast<std::uint32_t>(cands.size());
            if (ncand > max_leaf_candidates) {
                leaf_data.push_back(leaf_kind_full | (ncand << 8));
                leaf_data.insert(leaf_data.end(), {0u, 0u, 0u, 0u});
                for (const Candidate& c : cands) leaf_data.push_back(c.grid);
                return offset;
            }
            // Points mapped to this cell lie within the cell widened by far less than margin/2;
            // edges outside the cell widened by `margin` lie wholly beyond these lines.
            const double x_split = cell.maxx + margin / 2;
            const double y_ref = cell.miny - margin / 2;
            const double y_top = cell.maxy + margin;
            std::uint32_t mask = 0;
            std::vector<std::uint32_t> refs;
            const auto break_offset = static_cast<std::uint32_t>(break_y.size());
            for (std::uint32_t i = 0; i < ncand; ++i) {
                const Candidate& c = cands[i];
                const std::uint32_t bit = 1u << i;
                // Parity of the edges outside the cell at the reference height: all crossings
                // east of the split line, minus those of the cell's own edges.
                bool parity = index.claims(c.grid, {x_split, y_ref});
                for (std::uint32_t e : c.edges)
                    if (crosses(index.edges[e], {x_split, y_ref})) parity = !parity;
                if (parity) mask |= bit;
                for (std::uint32_t e : c.edges) refs.push_back((e << edge_bit_bits) | i);
                // Heights where a ring passes from this cell's edges to an outside edge east of
                // the cell: there the outside parity steps. Horizontal outside edges never cross a
                // ray, so the walk passes over them.
                auto in_cell = [&](std::uint32_t e) { return std::binary_search(c.edges.begin(), c.edges.end(), e); };
                for (std::uint32_t e : c.edges) {
                    for (int dir = 0; dir < 2; ++dir) {
                        std::uint32_t f = dir == 0 ? index.edge_next[e] : index.edge_prev[e];
                        std::size_t steps = 0;
                        while (!in_cell(f) && index.edges[f].y1 == index.edges[f].y2 && steps++ < index.edges.size())
                            f = dir == 0 ? index.edge_next[f] : index.edge_prev[f];
                        if (in_cell(f) || index.edges[f].y1 == index.edges[f].y2) continue;
                        const Edge& fe = index.edges[f];
                        const Point v = dir == 0 ? Point{fe.x1, fe.y1} : Point{fe.x2, fe.y2};
                        if (v.x > x_split && v.y > y_ref && v.y <= y_top) {
                            break_y.push_back(v.y);
                            break_bit.push_back(bit);
                        }
                    }
                }
            }
            leaf_data.push_back(leaf_kind_edges | (ncand << 8));
            leaf_data.push_back(mask);
            leaf_data.push_back(static_cast<std::uint32_t>(refs.size()));
            leaf_data.push_back(static_cast<std::uint32_t>(break_y.size()) - break_offset);
            leaf_data.push_back(break_offset);
            for (const Candidate& c : cands) leaf_data.push_back(c.grid);
            leaf_data.insert(leaf_data.end(), refs.begin(), refs.end());
            return offset;
        }
    };

    void build_grid_geometry(const std::vector<MultiPolygon>& geoms) {
        grids.resize(geoms.size());
        for (std::size_t gi = 0; gi < geoms.size(); ++gi) {
            const MultiPolygon& mp = geoms[gi];
            GridGeom& g = grids[gi];
            g.box = spatial::bounds(mp);
            const auto first_edge = static_cast<std::uint32_t>(edges.size());
            auto add_ring = [&](const Ring& r) {
                const auto ring_first = static_cast<std::uint32_t>(edges.size());
                for (std::size_t i = 0; i < r.size(); ++i) {
                    const Point a = r[i];
                    const Point b = r[(i + 1) % r.size()];
                    if (a == b) continue;
                    edges.push_back({a.x, a.y, b.x, b.y});
                    edge_grid.push_back(static_cast<std::uint32_t>(gi));
                }
                const auto ring_end = static_cast<std::uint32_t>(edges.size());
                for (std::uint32_t e = ring_first; e < ring_end; ++e) {
                    edge_next.push_back(e + 1 == ring_end ? ring_first : e + 1);
                    edge_prev.push_back(e == ring_first ? ring_end - 1 : e - 1);
                }
                total_vertices += r.size();
            };
            for (const Polygon& poly : mp) {
                add_ring(poly.shell);
                for (const Ring& h : poly.holes) add_ring(h);
            }
            const auto last_edge = static_cast<std::uint32_t>(edges.size());
            const std::uint32_t nedges = last_edge - first_edge;
            // About two edges per band keeps the crossing test short.
            g.nbands = std::max<std::uint32_t>(1, nedges / 2);
            g.band_y0 = g.box.miny;
            g.band_inv_h = g.box.height() > 0 ? g.nbands / g.box.height() : 0.0;
            g.band_first = static_cast<std::uint32_t>(band_offsets.size());
            std::vector<std::uint32_t> count(g.nbands + 1, 0);
            auto band_of = [&](double y) {
                auto b = static_cast<std::int64_t>((y - g.band_y0) * g.band_inv_h);
                return static_cast<std::uint32_t>(std::clamp<std::int64_t>(b, 0, static_cast<std::int64_t>(g.nbands) - 1));
            };
            for (std::uint32_t e = first_edge; e < last_edge; ++e) {
                const Edge& ed = edges[e];
                for (auto b = band_of(std::min(ed.y1, ed.y2)); b <= band_of(std::max(ed.y1, ed.y2)); ++b) ++count[b];
            }
            const auto base = static_cast<std::uint32_t>(band_edges.size());
            std::uint32_t acc = base;
            for (std::uint32_t b = 0; b < g.nbands; ++b) {
                band_offsets.push_back(acc);
                acc += count[b];
            }
            band_offsets.push_back(acc);
            band_edges.resize(acc);
            std::vector<std::uint32_t> fill(band_offsets.begin() + g.band_first, band_offsets.end() - 1);
            for (std::uint32_t e = first_edge; e < last_edge; ++e) {
                const Edge& ed = edges[e];
                for (auto b = band_of(std::min(ed.y1, ed.y2)); b <= band_of(std::max(ed.y1, ed.y2)); ++b)
                    band_edges[fill[b]++] = e;
            }
        }
    }

    void build_raster(const BuildOptions& options) {
        for (const GridGeom& g : grids) extent.expand(g.box);
        const double mid_lat = (extent.miny + extent.maxy) / 2.0;
        const double m_per_deg_x = 111320.0 * std::max(0.01, std::cos(mid_lat * 3.141592653589793 / 180.0));
        const double m_per_deg_y = 110574.0;
        // A little slack so that points on the extent's edge map into the raster.
        const double pad = std::max(extent.width(), extent.height()) * 1e-6 + 1e-9;
        extent = expanded(extent, pad);
        const double w_m = extent.width() * m_per_deg_x;
        const double h_m = extent.height() * m_per_deg_y;
        const double target = std::clamp(static_cast<double>(grids.size()) * options.top_cells_per_grid, 1.0,
                                         static_cast<double>(1u << 26));
        const double side = std::sqrt(w_m * h_m / target);
        nx = static_cast<std::uint32_t>(std::clamp(std::ceil(w_m / side), 1.0, 65535.0));
        ny = static_cast<std::uint32_t>(std::clamp(std::ceil(h_m / side), 1.0, 65535.0));
        cw = extent.width() / nx;
        ch = extent.height() / ny;
        inv_cw = nx / extent.width();
        inv_ch = ny / extent.height();

        auto col = [&](double x) {
            return static_cast<std::uint32_t>(std::clamp((x - extent.minx) * inv_cw, 0.0, nx - 1.0));
        };
        auto row = [&](double y) {
            return static_cast<std::uint32_t>(std::clamp((y - extent.miny) * inv_ch, 0.0, ny - 1.0));
        };
        const std::size_t ncells = static_cast<std::size_t>(nx) * ny;
        const double m = std::max(cw, ch) * 1e-6;
        // cell → grids whose box meets it (CSR)
        std::vector<std::uint32_t> start(ncells + 1, 0);
        for (const GridGeom& g : grids) {
            const Box b = expanded(g.box, m);
            for (std::uint32_t r = row(b.miny); r <= row(b.maxy); ++r)
                for (std::uint32_t c = col(b.minx); c <= col(b.maxx); ++c) ++start[static_cast<std::size_t>(r) * nx + c + 1];
        }
        for (std::size_t i = 0; i < ncells; ++i) start[i + 1] += start[i];
        std::vector<std::uint32_t> cell_grids(start[ncells]);
        std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
        for (std::uint32_t gi = 0; gi < grids.size(); ++gi) {
            const Box b = expanded(grids[gi].box, m);
            for (std::uint32_t r = row(b.miny); r <= row(b.maxy); ++r)
                for (std::uint32_t c = col(b.minx); c <= col(b.maxx); ++c)
                    cell_grids[fill[static_cast<std::size_t>(r) * nx + c]++] = gi;
        }
        // cell → edges whose box meets it (CSR); exact meeting is tested per cell later.
        auto for_edge_cells = [&](const Edge& e, auto&& fn) {
            for (std::uint32_t r = row(std::min(e.y1, e.y2) - m); r <= row(std::max(e.y1, e.y2) + m); ++r)
                for (std::uint32_t c = col(std::min(e.x1, e.x2) - m); c <= col(std::max(e.x1, e.x2) + m); ++c)
                    fn(static_cast<std::size_t>(r) * nx + c);
        };
        std::vector<std::uint32_t> estart(ncells + 1, 0);
        for (const Edge& e : edges) for_edge_cells(e, [&](std::size_t cell) { ++estart[cell + 1]; });
        for (std::size_t i = 0; i < ncells; ++i) estart[i + 1] += estart[i];
        std::vector<std::uint32_t> cell_edges(estart[ncells]);
        std::copy(estart.begin(), estart.end() - 1, fill.begin());
        for (std::uint32_t ei = 0; ei < edges.size(); ++ei)
            for_edge_cells(edges[ei], [&](std::size_t cell) { cell_edges[fill[cell]++] = ei; });

        top.assign(ncells, make_node(tag_outside, 0));
        const unsigned hw = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
        const unsigned nthreads = std::min<unsigned>(hw, std::max<std::uint32_t>(1, ny));
        const double mx = std::max(0.01, options.min_cell_m) / m_per_deg_x;
        const double my = std::max(0.01, options.min_cell_m) / m_per_deg_y;
        std::vector<Builder> builders;
        builders.reserve(nthreads);
        for (unsigned t = 0; t < nthreads; ++t)
            builders.push_back(Builder{*this, {}, {}, {}, {}, {}, mx, my, std::max(2u, options.max_leaf_edges)});

        auto work = [&](unsigned t) {
            Builder& b = builders[t];
            std::vector<Candidate> cands;
            for (std::uint32_t r = t; r < ny; r += nthreads) {
                for (std::uint32_t c = 0; c < nx; ++c) {
                    const std::size_t cell = static_cast<std::size_t>(r) * nx + c;
                    cands.clear();
                    for (std::uint32_t k = start[cell]; k < start[cell + 1]; ++k) cands.push_back({cell_grids[k], {}});
                    if (cands.empty()) continue;
                    std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b2) { return a.grid < b2.grid; });
                    for (std::uint32_t k = estart[cell]; k < estart[cell + 1]; ++k) {
                        const std::uint32_t e = cell_edges[k];
                        auto it = std::lower_bound(cands.begin(), cands.end(), edge_grid[e],
                                                   [](const Candidate& a, std::uint32_t g) { return a.grid < g; });
                        if (it != cands.end() && it->grid == edge_grid[e]) it->edges.push_back(e);
                    }
                    const Box box{extent.minx + c * cw, extent.miny + r * ch,
                                  c + 1 == nx ? extent.maxx : extent.minx + (c + 1) * cw,
                                  r + 1 == ny ? extent.maxy : extent.miny + (r + 1) * ch};
                    top[cell] = b.build_cell(box, 0, cands);
                }
            }
        };
        if (nthreads == 1) {
            work(0);
        } else {
            std::vector<std::thread> threads;
            for (unsigned t = 0; t < nthreads; ++t) threads.emplace_back(work, t);
            for (auto& th : threads) th.join();
        }
        // Concatenate the builders' arrays, relocating their offsets.
        std::vector<std::uint32_t> node_base(nthreads);
        std::vector<std::uint32_t> leaf_base(nthreads);
        for (unsigned t = 0; t < nthreads; ++t) {
            Builder& b = builders[t];
            node_base[t] = static_cast<std::uint32_t>(nodes.size());
            leaf_base[t] = static_cast<std::uint32_t>(leaf_data.size());
            const auto break_base = static_cast<std::uint32_t>(break_y.size());
            for (std::uint32_t off : b.leaf_offsets) {
                if ((b.leaf_data[off] & 0xFF) == leaf_kind_edges) b.leaf_data[off + 4] += break_base;
            }
            leaf_count += b.leaf_offsets.size();
            nodes.insert(nodes.end(), b.nodes.begin(), b.nodes.end());
            leaf_data.insert(leaf_data.end(), b.leaf_data.begin(), b.leaf_data.end());
            break_y.insert(break_y.end(), b.break_y.begin(), b.break_y.end());
            break_bit.insert(break_bit.end(), b.break_bit.begin(), b.break_bit.end());
            b.nodes = {};
            b.leaf_data = {};
            b.break_y = {};
            b.break_bit = {};
            if (nodes.size() > value_mask || leaf_data.size() > value_mask) {
                throw data_error("grid index too large: reduce the layer or raise min_cell_m");
            }
        }
        auto relocate = [&](std::uint32_t& node, unsigned t) {
            const std::uint32_t tag = node >> tag_shift;
            if (tag == tag_sub) node = make_node(tag_sub, (node & value_mask) + node_base[t]);
            if (tag == tag_leaf) node = make_node(tag_leaf, (node & value_mask) + leaf_base[t]);
        };
        for (std::uint32_t r = 0; r < ny; ++r)
            for (std::uint32_t c = 0; c < nx; ++c) relocate(top[static_cast<std::size_t>(r) * nx + c], r % nthreads);
        for (unsigned t = 0; t < nthreads; ++t) {
            const std::size_t end = t + 1 < nthreads ? node_base[t + 1] : nodes.size();
            for (std::size_t i = node_base[t]; i < end; ++i) relocate(nodes[i], t);
        }
        // Ring links are needed only while building.
        edge_next = {};
        edge_prev = {};
    }

    void build_nearest() {
        std::vector<detail::NearestTree::Segment> segs;
        segs.reserve(edges.size());
        std::vector<Point> pts;
        pts.reserve(edges.size() * 2);
        for (const Edge& e : edges) {
            pts.push_back({e.x1, e.y1});
            pts.push_back({e.x2, e.y2});
        }
        const CrsTransform t(storage_crs, metric_crs);
        t.apply(pts);
        for (std::size_t i = 0; i < edges.size(); ++i) {
            segs.push_back({pts[2 * i], pts[2 * i + 1], edge_grid[i]});
        }
        nearest_tree = detail::NearestTree(std::move(segs));
    }
};

GridIndex::GridIndex() = default;
GridIndex::~GridIndex() = default;
GridIndex::GridIndex(GridIndex&&) noexcept = default;
GridIndex& GridIndex::operator=(GridIndex&&) noexcept = default;
GridIndex::GridIndex(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

GridIndex GridIndex::build(std::vector<GridUnit> units, std::vector<MultiPolygon> geometries) {
    return build(std::move(units), std::move(geometries), BuildOptions{});
}

GridIndex GridIndex::build(std::vector<GridUnit> units, std::vector<MultiPolygon> geometries,
                           const BuildOptions& options) {
    if (units.size() != geometries.size()) {
        throw data_error("grid index: " + std::to_string(units.size()) + " units but " +
                         std::to_string(geometries.size()) + " geometries");
    }
    if (geometries.size() >= value_mask) throw data_error("grid index: too many grids");
    for (std::size_t i = 0; i < geometries.size(); ++i) {
        if (geometries[i].empty()) throw data_error("grid '" + units[i].code + "' has an empty geometry");
        if (!all_finite(geometries[i])) {
            throw data_error("grid '" + units[i].code + "' has a non-finite coordinate");
        }
    }
    auto impl = std::make_unique<Impl>();
    impl->units = std::move(units);
    impl->build_grid_geometry(geometries);
    impl->geometries = std::move(geometries);
    if (!impl->grids.empty()) {
        impl->build_raster(options);
        impl->build_nearest();
    } else {
        impl->nx = impl->ny = 0;
    }
    return GridIndex(std::move(impl));
}

std::uint32_t GridIndex::locate(double lon, double lat) const noexcept {
    if (!m_impl || m_impl->top.empty()) return outside;
    return m_impl->locate(lon, lat);
}

void GridIndex::locate(std::span<const Point> points, std::span<std::uint32_t> out) const noexcept {
    const std::size_t n = std::min(points.size(), out.size());
    if (!m_impl || m_impl->top.empty()) {
        std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), outside);
        return;
    }
    constexpr std::size_t block = 32;
    for (std::size_t i = 0; i < n; i += block) {
        m_impl->locate_block(points.data() + i, out.data() + i, std::min(block, n - i));
    }
}

GridIndex::Nearest GridIndex::nearest(Point p) const {
    if (!m_impl || m_impl->grids.empty()) return {};
    const std::uint32_t g = locate(p.x, p.y);
    if (g != outside) return {g, 0.0};
    check_lonlat(p);
    const Point m = to_metric(p);
    const auto hit = m_impl->nearest_tree.nearest(m);
    return {hit.id, hit.distance};
}

GridIndex::Assignment GridIndex::assign(Point p) const {
    Assignment a;
    const std::uint32_t g = locate(p.x, p.y);
    if (g != outside) {
        a.status = Status::inside;
        a.grid = g;
        return a;
    }
    const Nearest n = nearest(p);
    a.grid = n.grid;
    a.distance_m = n.distance_m;
    return a;
}

std::size_t GridIndex::size() const noexcept { return m_impl ? m_impl->units.size() : 0; }

const GridUnit& GridIndex::unit(std::uint32_t grid) const { return m_impl->units.at(grid); }

const std::vector<GridUnit>& GridIndex::units() const noexcept {
    static const std::vector<GridUnit> none;
    return m_impl ? m_impl->units : none;
}

const MultiPolygon& GridIndex::geometry(std::uint32_t grid) const { return m_impl->geometries.at(grid); }

Box GridIndex::bounds() const noexcept {
    Box b;
    if (m_impl)
        for (const auto& g : m_impl->grids) b.expand(g.box);
    return b;
}

std::size_t GridIndex::memory_bytes() const noexcept {
    if (!m_impl) return 0;
    const Impl& i = *m_impl;
    return i.grids.size() * sizeof(GridGeom) + i.edges.size() * (sizeof(Edge) + sizeof(std::uint32_t)) +
           (i.band_offsets.size() + i.band_edges.size() + i.top.size() + i.nodes.size() + i.leaf_data.size() +
            i.break_bit.size()) * sizeof(std::uint32_t) +
           i.break_y.size() * sizeof(double) +
           i.nearest_tree.memory_bytes();
}

std::size_t GridIndex::vertex_count() const noexcept { return m_impl ? m_impl->total_vertices : 0; }

std::size_t GridIndex::leaf_count() const noexcept { return m_impl ? m_impl->leaf_count : 0; }

bool GridIndex::grid_claims(std::uint32_t grid, Point p) const noexcept {
    if (!m_impl || grid >= m_impl->grids.size()) return false;
    return m_impl->claims(grid, p);
}

}  // namespace onegrid::spatial
