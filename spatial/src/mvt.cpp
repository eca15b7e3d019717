#include "onegrid/spatial/mvt.hpp"

#include <protozero/pbf_writer.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

namespace onegrid::spatial {
namespace {

constexpr double max_lat = 85.0511287798066;
constexpr std::uint32_t cmd_move_to = 1;
constexpr std::uint32_t cmd_line_to = 2;
constexpr std::uint32_t cmd_close_path = 7;
constexpr int type_point = 1;
constexpr int type_polygon = 3;

std::uint32_t command(std::uint32_t id, std::uint32_t count) { return (id & 0x7u) | (count << 3u); }
std::uint32_t zigzag(std::int32_t v) { return (static_cast<std::uint32_t>(v) << 1u) ^ static_cast<std::uint32_t>(v >> 31); }

double mercator_y(double lat) {
    const double phi = std::clamp(lat, -max_lat, max_lat) * std::numbers::pi / 180.0;
    return (1.0 - std::log(std::tan(phi) + 1.0 / std::cos(phi)) / std::numbers::pi) / 2.0;
}

struct IPoint {
    std::int32_t x;
    std::int32_t y;
    bool operator==(const IPoint&) const = default;
};

// Sutherland–Hodgman against one axis-aligned edge; `inside` and `cut` are for that edge.
template <class Inside, class Cut>
std::vector<std::pair<double, double>> clip_edge(const std::vector<std::pair<double, double>>& in, Inside inside, Cut cut) {
    std::vector<std::pair<double, double>> out;
    if (in.empty()) return out;
    out.reserve(in.size() + 4);
    auto prev = in.back();
    bool prev_in = inside(prev);
    for (const auto& cur : in) {
        const bool cur_in = inside(cur);
        if (cur_in) {
            if (!prev_in) out.push_back(cut(prev, cur));
            out.push_back(cur);
        } else if (prev_in) {
            out.push_back(cut(prev, cur));
        }
        prev = cur;
        prev_in = cur_in;
    }
    return out;
}

std::vector<std::pair<double, double>> clip_ring(std::vector<std::pair<double, double>> ring, double lo, double hi) {
    auto x_cut = [](double edge) {
        return [edge](std::pair<double, double> a, std::pair<double, double> b) {
            const double t = (edge - a.first) / (b.first - a.first);
            return std::pair<double, double>{edge, a.second + t * (b.second - a.second)};
        };
    };
    auto y_cut = [](double edge) {
        return [edge](std::pair<double, double> a, std::pair<double, double> b) {
            const double t = (edge - a.second) / (b.second - a.second);
            return std::pair<double, double>{a.first + t * (b.first - a.first), edge};
        };
    };
    ring = clip_edge(ring, [&](auto p) { return p.first >= lo; }, x_cut(lo));
    ring = clip_edge(ring, [&](auto p) { return p.first <= hi; }, x_cut(hi));
    ring = clip_edge(ring, [&](auto p) { return p.second >= lo; }, y_cut(lo));
    ring = clip_edge(ring, [&](auto p) { return p.second <= hi; }, y_cut(hi));
    return ring;
}

// Twice the signed area in tile coordinates (y down): positive is clockwise on screen.
std::int64_t area2(const std::vector<IPoint>& r) {
    std::int64_t a = 0;
    for (std::size_t i = 0; i < r.size(); ++i) {
        const IPoint& p = r[i];
        const IPoint& q = r[(i + 1) % r.size()];
        a += static_cast<std::int64_t>(p.x) * q.y - static_cast<std::int64_t>(q.x) * p.y;
    }
    return a;
}

void encode_ring(const std::vector<IPoint>& r, IPoint& cursor, std::vector<std::uint32_t>& out) {
    out.push_back(command(cmd_move_to, 1));
    out.push_back(zigzag(r[0].x - cursor.x));
    out.push_back(zigzag(r[0].y - cursor.y));
    cursor = r[0];
    out.push_back(command(cmd_line_to, static_cast<std::uint32_t>(r.size() - 1)));
    for (std::size_t i = 1; i < r.size(); ++i) {
        out.push_back(zigzag(r[i].x - cursor.x));
        out.push_back(zigzag(r[i].y - cursor.y));
        cursor = r[i];
    }
    out.push_back(command(cmd_close_path, 1));
}

}  // namespace

bool valid(TileId t) noexcept {
    return t.z >= 0 && t.z <= 24 && t.x < (1u << t.z) && t.y < (1u << t.z);
}

Box tile_bounds(TileId t) noexcept {
    const double n = std::ldexp(1.0, t.z);
    auto lon = [&](double x) { return x / n * 360.0 - 180.0; };
    auto lat = [&](double y) {
        return std::atan(std::sinh(std::numbers::pi * (1.0 - 2.0 * y / n))) * 180.0 / std::numbers::pi;
    };
    return {lon(t.x), lat(t.y + 1.0), lon(t.x + 1.0), lat(t.y)};
}

TileId tile_of(Point p, int z) noexcept {
    const double n = std::ldexp(1.0, z);
    const double fx = (p.x + 180.0) / 360.0 * n;
    const double fy = mercator_y(p.y) * n;
    const auto clampi = [&](double v) { return static_cast<std::uint32_t>(std::clamp(v, 0.0, n - 1.0)); };
    return {z, clampi(std::floor(fx)), clampi(std::floor(fy))};
}

MvtLayer::MvtLayer(std::string name, TileId tile, std::uint32_t extent, std::uint32_t buffer)
    : m_name(std::move(name)), m_tile(tile), m_extent(extent), m_buffer(buffer),
      m_world(static_cast<double>(extent) * std::ldexp(1.0, tile.z)) {}

MvtLayer::Pixel MvtLayer::project(Point p) const noexcept {
    const double wx = (p.x + 180.0) / 360.0 * m_world;
    const double wy = mercator_y(p.y) * m_world;
    return {wx - static_cast<double>(m_tile.x) * m_extent, wy - static_cast<double>(m_tile.y) * m_extent};
}

bool MvtLayer::add_point(std::uint64_t id, Point lonlat, const MvtProperties& properties) {
    thread_local std::vector<std::uint32_t> tags;
    tags_of(properties, tags);
    return add_point(id, lonlat, tags);
}

bool MvtLayer::add_point(std::uint64_t id, Point lonlat, std::span<const std::uint32_t> tags) {
    const Pixel px = project(lonlat);
    const double x = std::floor(px.x);
    const double y = std::floor(px.y);
    if (!(x >= 0 && y >= 0 && x < m_extent && y < m_extent)) return false;
    const std::uint32_t g[3] = {command(cmd_move_to, 1), zigzag(static_cast<std::int32_t>(x)), zigzag(static_cast<std::int32_t>(y))};
    add_feature(id, type_point, g, tags);
    return true;
}

bool MvtLayer::add_polygon(std::uint64_t id, const MultiPolygon& mp, const MvtProperties& properties) {
    const double lo = -m_buffer;
    const double hi = static_cast<double>(m_extent) + m_buffer;
    std::vector<std::uint32_t> geometry;
    IPoint cursor{0, 0};
    auto prepare = [&](const Ring& ring) -> std::vector<IPoint> {
        std::vector<std::pair<double, double>> px;
        px.reserve(ring.size());
        double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;
        for (const Point& p : ring) {
            const Pixel q = project(p);
            px.emplace_back(q.x, q.y);
            minx = std::min(minx, q.x);
            maxx = std::max(maxx, q.x);
            miny = std::min(miny, q.y);
            maxy = std::max(maxy, q.y);
        }
        if (maxx < lo || minx > hi || maxy < lo || miny > hi) return {};
        if (minx < lo || maxx > hi || miny < lo || maxy > hi) px = clip_ring(std::move(px), lo, hi);
        std::vector<IPoint> out;
        out.reserve(px.size());
        for (const auto& [x, y] : px) {
            const IPoint q{static_cast<std::int32_t>(std::lround(x)), static_cast<std::int32_t>(std::lround(y))};
            if (out.empty() || !(out.back() == q)) out.push_back(q);
        }
        while (out.size() > 1 && out.front() == out.back()) out.pop_back();
        if (out.size() < 3) return {};
        return out;
    };
    for (const Polygon& poly : mp) {
        std::vector<IPoint> shell = prepare(poly.shell);
        if (shell.empty()) continue;
        const std::int64_t a = area2(shell);
        if (a == 0) continue;
        if (a < 0) std::reverse(shell.begin(), shell.end());
        encode_ring(shell, cursor, geometry);
        for (const Ring& h : poly.holes) {
            std::vector<IPoint> hole = prepare(h);
            if (hole.empty()) continue;
            const std::int64_t ha = area2(hole);
            if (ha == 0) continue;
            if (ha > 0) std::reverse(hole.begin(), hole.end());
            encode_ring(hole, cursor, geometry);
        }
    }
    if (geometry.empty()) return false;
    thread_local std::vector<std::uint32_t> tags;
    tags_of(properties, tags);
    add_feature(id, type_polygon, geometry, tags);
    return true;
}

std::uint32_t MvtLayer::key(std::string_view k) {
    if (const auto it = m_key_index.find(k); it != m_key_index.end()) return it->second;
    const auto index = static_cast<std::uint32_t>(m_keys.size());
    m_keys.emplace_back(k);
    m_key_index.emplace(m_keys.back(), index);
    return index;
}

std::uint32_t MvtLayer::append_value(int field, std::uint64_t raw) {
    // A Value message holds one field: the tag, the payload, and around it the Layer's field-4
    // framing. Written in place: values are appended by the thousand (one per feature id).
    std::string v;
    protozero::pbf_writer w(v);
    switch (field) {
    case 3: w.add_double(3, std::bit_cast<double>(raw)); break;
    case 5: w.add_uint64(5, raw); break;
    case 6: w.add_sint64(6, static_cast<std::int64_t>(raw)); break;
    default: w.add_bool(7, raw != 0); break;
    }
    protozero::pbf_writer(m_values_pbf).add_message(4, v);
    return m_value_count++;
}

std::uint32_t MvtLayer::value(std::string_view v) {
    if (const auto it = m_string_values.find(v); it != m_string_values.end()) return it->second;
    std::string encoded;
    protozero::pbf_writer(encoded).add_string(1, v.data(), v.size());
    protozero::pbf_writer(m_values_pbf).add_message(4, encoded);
    m_string_values.emplace(std::string(v), m_value_count);
    return m_value_count++;
}

std::uint32_t MvtLayer::value(std::int64_t v) {
    return m_int_values.find_or_add(static_cast<std::uint64_t>(v), [&] {
        return v < 0 ? append_value(6, static_cast<std::uint64_t>(v)) : append_value(5, static_cast<std::uint64_t>(v));
    });
}

std::uint32_t MvtLayer::value(double v) {
    return m_double_values.find_or_add(std::bit_cast<std::uint64_t>(v), [&] { return append_value(3, std::bit_cast<std::uint64_t>(v)); });
}

std::uint32_t MvtLayer::value(bool v) {
    std::uint32_t& slot = m_bool_values[v ? 1 : 0];
    if (slot == none) slot = append_value(7, v ? 1 : 0);
    return slot;
}

std::uint32_t MvtLayer::value(const MvtValue& v) {
    return std::visit(
        [&](const auto& x) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) {
                return value(std::string_view(x));
            } else {
                return value(x);
            }
        },
        v);
}

std::uint32_t MvtLayer::tags_of(const MvtProperties& properties, std::vector<std::uint32_t>& tags) {
    tags.clear();
    for (const auto& [k, v] : properties) {
        tags.push_back(key(k));
        tags.push_back(value(v));
    }
    return static_cast<std::uint32_t>(tags.size());
}

template <class Make>
std::uint32_t MvtLayer::BitsTable::find_or_add(std::uint64_t bits, Make&& make) {
    if (m_used * 2 >= m_keys.size()) grow();
    const std::size_t mask = m_keys.size() - 1;
    // Fibonacci hashing: consecutive ids spread over the table.
    std::size_t at = static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (m_indexes[at] != none) {
        if (m_keys[at] == bits) return m_indexes[at];
        at = (at + 1) & mask;
    }
    const std::uint32_t index = make();
    m_keys[at] = bits;
    m_indexes[at] = index;
    ++m_used;
    return index;
}

void MvtLayer::BitsTable::grow() {
    std::vector<std::uint64_t> keys(std::max<std::size_t>(64, m_keys.size() * 2));
    std::vector<std::uint32_t> indexes(keys.size(), none);
    const std::size_t mask = keys.size() - 1;
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        if (m_indexes[i] == none) continue;
        std::size_t at = static_cast<std::size_t>((m_keys[i] * 0x9E3779B97F4A7C15ull) >> 20) & mask;
        while (indexes[at] != none) at = (at + 1) & mask;
        keys[at] = m_keys[i];
        indexes[at] = m_indexes[i];
    }
    m_keys = std::move(keys);
    m_indexes = std::move(indexes);
}

void MvtLayer::add_feature(std::uint64_t id, int type, std::span<const std::uint32_t> geometry,
                           std::span<const std::uint32_t> tags) {
    thread_local std::string feature;
    feature.clear();
    {
        protozero::pbf_writer f(feature);
        f.add_uint64(1, id);
        if (!tags.empty()) f.add_packed_uint32(2, tags.begin(), tags.end());
        f.add_enum(3, type);
        f.add_packed_uint32(4, geometry.begin(), geometry.end());
    }
    protozero::pbf_writer(m_features_pbf).add_message(2, feature);
    ++m_features;
}

std::string MvtLayer::finish() const {
    std::string out;
    protozero::pbf_writer layer(out);
    layer.add_uint32(15, 2);
    layer.add_string(1, m_name);
    out += m_features_pbf;  // the features were written as field 2 submessages already
    for (const auto& k : m_keys) layer.add_string(3, k);
    out += m_values_pbf;  // field 4 submessages too
    layer.add_uint32(5, m_extent);
    return out;
}

std::string mvt_tile(const std::vector<MvtLayer>& layers) {
    std::string out;
    protozero::pbf_writer tile(out);
    for (const auto& l : layers) {
        if (l.size() == 0) continue;
        tile.add_message(3, l.finish());
    }
    return out;
}

}  // namespace onegrid::spatial
