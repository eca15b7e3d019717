#include "onegrid/spatial/geos.hpp"

#include "onegrid/spatial/errors.hpp"

namespace onegrid::spatial {
namespace {

void record_message(const char* message, void* userdata) {
    *static_cast<std::string*>(userdata) = message != nullptr ? message : "";
}

GEOSCoordSequence* make_ring_seq(GEOSContextHandle_t h, const Ring& ring) {
    const auto n = static_cast<unsigned>(ring.size());
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, n + 1, 2);
    if (seq == nullptr) throw data_error("GEOS could not allocate a coordinate sequence");
    for (unsigned i = 0; i <= n; ++i) {
        const Point& p = ring[i % n];
        GEOSCoordSeq_setXY_r(h, seq, i, p.x, p.y);
    }
    return seq;
}

GEOSGeometry* make_polygon(GEOSContextHandle_t h, const Polygon& poly) {
    if (poly.shell.size() < 3) throw data_error("a polygon ring has fewer than 3 distinct vertices");
    GEOSGeometry* shell = GEOSGeom_createLinearRing_r(h, make_ring_seq(h, poly.shell));
    if (shell == nullptr) throw data_error("GEOS rejected a polygon shell");
    std::vector<GEOSGeometry*> holes;
    holes.reserve(poly.holes.size());
    for (const Ring& r : poly.holes) {
        if (r.size() < 3) continue;
        GEOSGeometry* hole = GEOSGeom_createLinearRing_r(h, make_ring_seq(h, r));
        if (hole == nullptr) {
            for (GEOSGeometry* g : holes) GEOSGeom_destroy_r(h, g);
            GEOSGeom_destroy_r(h, shell);
            throw data_error("GEOS rejected a polygon hole");
        }
        holes.push_back(hole);
    }
    GEOSGeometry* g = GEOSGeom_createPolygon_r(h, shell, holes.data(), static_cast<unsigned>(holes.size()));
    if (g == nullptr) throw data_error("GEOS could not build a polygon");
    return g;
}

Ring read_ring(GEOSContextHandle_t h, const GEOSGeometry* ring) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(h, seq, &n);
    Ring out;
    if (n == 0) return out;
    out.reserve(n - 1);
    for (unsigned i = 0; i + 1 < n; ++i) {
        Point p;
        GEOSCoordSeq_getXY_r(h, seq, i, &p.x, &p.y);
        out.push_back(p);
    }
    return out;
}

void collect_polygons(GEOSContextHandle_t h, const GEOSGeometry* g, MultiPolygon& out) {
    const int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) == 1) return;
        Polygon poly;
        poly.shell = read_ring(h, GEOSGetExteriorRing_r(h, g));
        const int nholes = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < nholes; ++i) poly.holes.push_back(read_ring(h, GEOSGetInteriorRingN_r(h, g, i)));
        out.push_back(std::move(poly));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        const int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; ++i) collect_polygons(h, GEOSGetGeometryN_r(h, g, i), out);
    }
}

}  // namespace

GeosContext::GeosContext() : m_handle(GEOS_init_r()) {
    GEOSContext_setErrorMessageHandler_r(m_handle, record_message, &m_last_error);
    GEOSContext_setNoticeMessageHandler_r(m_handle, record_message, &m_last_error);
}

GeosContext::~GeosContext() { GEOS_finish_r(m_handle); }

GeosGeometryPtr geos_owned(const GeosContext& ctx, GEOSGeometry* g, const char* what) {
    if (g == nullptr) {
        throw data_error(std::string("GEOS failed to compute ") + what +
                         (ctx.last_error().empty() ? "" : ": " + ctx.last_error()));
    }
    return GeosGeometryPtr(g, GeosGeometryDeleter{ctx.handle()});
}

GeosGeometryPtr to_geos(const GeosContext& ctx, const Polygon& poly) {
    return GeosGeometryPtr(make_polygon(ctx.handle(), poly), GeosGeometryDeleter{ctx.handle()});
}

GeosGeometryPtr to_geos(const GeosContext& ctx, const MultiPolygon& mp) {
    GEOSContextHandle_t h = ctx.handle();
    std::vector<GEOSGeometry*> parts;
    parts.reserve(mp.size());
    try {
        for (const Polygon& p : mp) parts.push_back(make_polygon(h, p));
    } catch (...) {
        for (GEOSGeometry* g : parts) GEOSGeom_destroy_r(h, g);
        throw;
    }
    GEOSGeometry* g =
        GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts.data(), static_cast<unsigned>(parts.size()));
    return geos_owned(ctx, g, "a multipolygon");
}

MultiPolygon from_geos(const GeosContext& ctx, const GEOSGeometry* g) {
    MultiPolygon out;
    if (g != nullptr) collect_polygons(ctx.handle(), g, out);
    return out;
}

std::string invalid_reason(const GeosContext& ctx, const GEOSGeometry* g) {
    if (GEOSisValid_r(ctx.handle(), g) == 1) return {};
    char* reason = GEOSisValidReason_r(ctx.handle(), g);
    std::string out = reason != nullptr ? reason : "invalid geometry";
    GEOSFree_r(ctx.handle(), reason);
    return out;
}

}  // namespace onegrid::spatial
