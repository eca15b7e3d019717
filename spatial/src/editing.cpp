#include "onegrid/spatial/editing.hpp"

#include <algorithm>
#include <cmath>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::spatial {

namespace {

GeosGeometryPtr line_geos(const GeosContext& ctx, const Line& line) {
    GEOSContextHandle_t h = ctx.handle();
    if (line.size() < 2) throw edit_error("a line needs at least two points");
    for (const Point& p : line)
        if (!std::isfinite(p.x) || !std::isfinite(p.y) || std::abs(p.x) > 180 || std::abs(p.y) > 90)
            throw edit_error("the line has a coordinate outside longitude/latitude ranges");
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, static_cast<unsigned>(line.size()), 2);
    for (unsigned i = 0; i < line.size(); ++i) GEOSCoordSeq_setXY_r(h, seq, i, line[i].x, line[i].y);
    auto g = geos_owned(ctx, GEOSGeom_createLineString_r(h, seq), "a line");
    if (GEOSisSimple_r(h, g.get()) != 1) throw edit_error("the line crosses itself");
    return g;
}

/// The faces of `polygon` cut by `line` (polygonize the noded boundary and line; keep the faces
/// inside the polygon).
std::vector<GeosGeometryPtr> faces_cut(const GeosContext& ctx, const GEOSGeometry* polygon, const GEOSGeometry* line) {
    GEOSContextHandle_t h = ctx.handle();
    auto boundary = geos_owned(ctx, GEOSBoundary_r(h, polygon), "a boundary");
    auto both = geos_owned(ctx, GEOSUnion_r(h, boundary.get(), line), "the noded boundary and line");
    const GEOSGeometry* parts[] = {both.get()};
    auto faces = geos_owned(ctx, GEOSPolygonize_r(h, parts, 1), "the faces");
    const GEOSPreparedGeometry* prep = GEOSPrepare_r(h, polygon);
    std::vector<GeosGeometryPtr> inside;
    const int n = GEOSGetNumGeometries_r(h, faces.get());
    for (int i = 0; i < n; ++i) {
        const GEOSGeometry* f = GEOSGetGeometryN_r(h, faces.get(), i);
        auto p = geos_owned(ctx, GEOSPointOnSurface_r(h, f), "a point on a face");
        if (GEOSPreparedContains_r(h, prep, p.get()) == 1) inside.push_back(geos_owned(ctx, GEOSGeom_clone_r(h, f), "a face"));
    }
    GEOSPreparedGeom_destroy_r(h, prep);
    return inside;
}

std::vector<MultiPolygon> by_area(const GeosContext& ctx, std::vector<GeosGeometryPtr>& faces) {
    std::vector<std::pair<double, MultiPolygon>> out;
    for (auto& f : faces) {
        MultiPolygon mp = from_geos(ctx, f.get());
        const double a = area_m2(mp);
        out.emplace_back(a, std::move(mp));
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::vector<MultiPolygon> result;
    for (auto& [a, mp] : out) result.push_back(std::move(mp));
    return result;
}

double boundary_overlap_length_m(const GeosContext& ctx, const GEOSGeometry* a, const GEOSGeometry* b) {
    GEOSContextHandle_t h = ctx.handle();
    auto ba = geos_owned(ctx, GEOSBoundary_r(h, a), "a boundary");
    auto bb = geos_owned(ctx, GEOSBoundary_r(h, b), "a boundary");
    auto shared = geos_owned(ctx, GEOSIntersection_r(h, ba.get(), bb.get()), "the shared boundary");
    // Length in metres: transform the shared segments' vertices.
    double total = 0;
    const int n = GEOSGetNumGeometries_r(h, shared.get());
    for (int i = 0; i < n; ++i) {
        const GEOSGeometry* part = GEOSGetGeometryN_r(h, shared.get(), i);
        if (GEOSGeomTypeId_r(h, part) != GEOS_LINESTRING) continue;
        const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h, part);
        unsigned size = 0;
        GEOSCoordSeq_getSize_r(h, seq, &size);
        Point prev{};
        for (unsigned k = 0; k < size; ++k) {
            Point p;
            GEOSCoordSeq_getXY_r(h, seq, k, &p.x, &p.y);
            if (k > 0) total += distance_m(prev, p);
            prev = p;
        }
    }
    return total;
}

}  // namespace

std::vector<MultiPolygon> split_by_line(const MultiPolygon& unit, const Line& line) {
    GeosContext ctx;
    auto poly = to_geos(ctx, unit);
    auto l = line_geos(ctx, line);
    if (GEOSIntersects_r(ctx.handle(), poly.get(), l.get()) != 1) throw edit_error("the line does not touch the unit");
    auto faces = faces_cut(ctx, poly.get(), l.get());
    // Faces of separate parts (islands) that the line did not touch stay with the largest piece.
    if (faces.size() < 2) throw edit_error("the line does not cut the unit in two: it must cross it from edge to edge");
    auto pieces = by_area(ctx, faces);
    // A multi-part unit: parts the line does not cross stay whole, each one its own face; merge
    // every untouched part into the largest piece so that only the cut creates new units.
    if (unit.size() > 1) {
        std::vector<MultiPolygon> cut;
        MultiPolygon rest;
        for (auto& p : pieces) {
            auto g = to_geos(ctx, p);
            const bool touched = GEOSIntersects_r(ctx.handle(), g.get(), l.get()) == 1;
            if (touched) cut.push_back(std::move(p));
            else rest.insert(rest.end(), p.begin(), p.end());
        }
        if (cut.size() < 2) throw edit_error("the line does not cut the unit in two: it must cross it from edge to edge");
        cut.front().insert(cut.front().end(), rest.begin(), rest.end());
        return cut;
    }
    return pieces;
}

MultiPolygon merge_adjacent(const MultiPolygon& a, const MultiPolygon& b, double overlap_m2) {
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();
    auto ga = to_geos(ctx, a);
    auto gb = to_geos(ctx, b);
    auto inter = geos_owned(ctx, GEOSIntersection_r(h, ga.get(), gb.get()), "the intersection");
    const MultiPolygon overlap = from_geos(ctx, inter.get());
    if (!overlap.empty() && area_m2(overlap) > overlap_m2) throw edit_error("the units overlap: fix the overlap before merging");
    if (boundary_overlap_length_m(ctx, ga.get(), gb.get()) <= 0.0) throw edit_error("the units do not share a boundary");
    auto u = geos_owned(ctx, GEOSUnion_r(h, ga.get(), gb.get()), "the union");
    return from_geos(ctx, u.get());
}

std::pair<MultiPolygon, MultiPolygon> move_shared_boundary(const MultiPolygon& a, const MultiPolygon& b, const Line& line) {
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();
    auto ga = to_geos(ctx, a);
    auto gb = to_geos(ctx, b);
    if (boundary_overlap_length_m(ctx, ga.get(), gb.get()) <= 0.0) throw edit_error("the units are not neighbours: they share no boundary");
    auto u = geos_owned(ctx, GEOSUnion_r(h, ga.get(), gb.get()), "the union");
    auto l = line_geos(ctx, line);
    auto faces = faces_cut(ctx, u.get(), l.get());
    if (faces.size() != 2) {
        throw edit_error("the new boundary must cut the two units' area in exactly two parts (it cut it in " +
                         std::to_string(faces.size()) + "): draw it from the pair's outer edge to their outer edge");
    }
    // Each side to the neighbour that held most of it.
    auto share = [&](const GEOSGeometry* face, const GEOSGeometry* unit) {
        auto i = geos_owned(ctx, GEOSIntersection_r(h, face, unit), "an intersection");
        double area = 0;
        GEOSArea_r(h, i.get(), &area);
        return area;
    };
    const double a0 = share(faces[0].get(), ga.get()), b0 = share(faces[0].get(), gb.get());
    const double a1 = share(faces[1].get(), ga.get()), b1 = share(faces[1].get(), gb.get());
    const bool first_to_a = (a0 - b0) >= (a1 - b1);
    MultiPolygon na = from_geos(ctx, faces[first_to_a ? 0 : 1].get());
    MultiPolygon nb = from_geos(ctx, faces[first_to_a ? 1 : 0].get());
    (void)b0;
    (void)b1;
    return {std::move(na), std::move(nb)};
}

double shared_boundary_m(const MultiPolygon& a, const MultiPolygon& b) {
    GeosContext ctx;
    auto ga = to_geos(ctx, a);
    auto gb = to_geos(ctx, b);
    return boundary_overlap_length_m(ctx, ga.get(), gb.get());
}

}  // namespace onegrid::spatial
