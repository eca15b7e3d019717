#include "onegrid/spatial/geometry.hpp"

#include <charconv>
#include <string>

namespace onegrid::spatial {

Box bounds(const Ring& ring) noexcept {
    Box b;
    for (const Point& p : ring) b.expand(p);
    return b;
}

Box bounds(const MultiPolygon& mp) noexcept {
    Box b;
    for (const Polygon& poly : mp) b.expand(bounds(poly.shell));
    return b;
}

double signed_area(const Ring& ring) noexcept {
    const std::size_t n = ring.size();
    if (n < 3) return 0.0;
    // Shoelace relative to the first vertex keeps the products small and precise.
    const Point o = ring[0];
    double twice = 0.0;
    for (std::size_t i = 1; i + 1 < n; ++i) {
        const double x1 = ring[i].x - o.x;
        const double y1 = ring[i].y - o.y;
        const double x2 = ring[i + 1].x - o.x;
        const double y2 = ring[i + 1].y - o.y;
        twice += x1 * y2 - x2 * y1;
    }
    return twice / 2.0;
}

std::size_t vertex_count(const MultiPolygon& mp) noexcept {
    std::size_t n = 0;
    for (const Polygon& poly : mp) {
        n += poly.shell.size();
        for (const Ring& h : poly.holes) n += h.size();
    }
    return n;
}

bool all_finite(const MultiPolygon& mp) noexcept {
    auto ring_ok = [](const Ring& r) {
        return std::all_of(r.begin(), r.end(),
                           [](Point p) { return std::isfinite(p.x) && std::isfinite(p.y); });
    };
    for (const Polygon& poly : mp) {
        if (!ring_ok(poly.shell)) return false;
        for (const Ring& h : poly.holes)
            if (!ring_ok(h)) return false;
    }
    return true;
}

namespace {
void append_number(std::string& out, double v, int precision) {
    char buf[64];
    auto res = precision > 0
                   ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision)
                   : std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

void append_ring(std::string& out, const Ring& ring, int precision) {
    out += '(';
    for (std::size_t i = 0; i <= ring.size(); ++i) {
        const Point& p = ring[i % ring.size()];
        if (i) out += ',';
        append_number(out, p.x, precision);
        out += ' ';
        append_number(out, p.y, precision);
    }
    out += ')';
}
}  // namespace

std::string to_wkt(const MultiPolygon& mp, int precision) {
    if (mp.empty()) return "MULTIPOLYGON EMPTY";
    std::string out = "MULTIPOLYGON(";
    for (std::size_t i = 0; i < mp.size(); ++i) {
        if (i) out += ',';
        out += '(';
        append_ring(out, mp[i].shell, precision);
        for (const Ring& h : mp[i].holes) {
            out += ',';
            append_ring(out, h, precision);
        }
        out += ')';
    }
    out += ')';
    return out;
}

}  // namespace onegrid::spatial
