#pragma once
// GEOS helpers shared by the demo data generators (internal to data/).

#include <stdexcept>
#include <vector>

#include "onegrid/data/demo_district.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::data::detail {

using spatial::GeosContext;
using spatial::GeosGeometryPtr;
using spatial::MultiPolygon;
using spatial::Point;

inline constexpr double grid_size = 1e-7;  // ~1 cm: every generated vertex is snapped to this lattice

class Geos {
public:
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();

    GeosGeometryPtr own(GEOSGeometry* g, const char* what) const { return spatial::geos_owned(ctx, g, what); }
    GeosGeometryPtr geom(const MultiPolygon& mp) const { return spatial::to_geos(ctx, mp); }
    MultiPolygon polys(const GEOSGeometry* g) const { return spatial::from_geos(ctx, g); }
    GeosGeometryPtr point(Point p) const { return own(GEOSGeom_createPointFromXY_r(h, p.x, p.y), "a point"); }

    bool contains(const GEOSPreparedGeometry* prep, Point p) const {
        auto pt = point(p);
        return GEOSPreparedContains_r(h, prep, pt.get()) == 1;
    }

    Point centroid_or_inside(const GEOSGeometry* g) const {
        auto c = own(GEOSGetCentroid_r(h, g), "a centroid");
        if (GEOSContains_r(h, g, c.get()) != 1) c = own(GEOSPointOnSurface_r(h, g), "a point on surface");
        Point p;
        GEOSGeomGetX_r(h, c.get(), &p.x);
        GEOSGeomGetY_r(h, c.get(), &p.y);
        return p;
    }

    /// Voronoi cells of `seeds` clipped to `region`, in seed order, snapped to the lattice.
    std::vector<GeosGeometryPtr> voronoi(const GEOSGeometry* region, const std::vector<Point>& seeds) const {
        std::vector<GEOSGeometry*> pts;
        for (const Point& p : seeds) pts.push_back(GEOSGeom_createPointFromXY_r(h, p.x, p.y));
        auto mp = own(GEOSGeom_createCollection_r(h, GEOS_MULTIPOINT, pts.data(), static_cast<unsigned>(pts.size())),
                      "seed points");
        auto diagram = own(GEOSVoronoiDiagram_r(h, mp.get(), region, 0.0, 0), "a Voronoi diagram");
        const int n = GEOSGetNumGeometries_r(h, diagram.get());
        std::vector<GeosGeometryPtr> out(seeds.size());
        for (int i = 0; i < n; ++i) {
            const GEOSGeometry* cell = GEOSGetGeometryN_r(h, diagram.get(), i);
            const GEOSPreparedGeometry* prep = GEOSPrepare_r(h, cell);
            for (std::size_t s = 0; s < seeds.size(); ++s) {
                if (!out[s] && contains(prep, seeds[s])) {
                    out[s] = own(GEOSIntersectionPrec_r(h, cell, region, grid_size), "a clipped cell");
                    break;
                }
            }
            GEOSPreparedGeom_destroy_r(h, prep);
        }
        for (std::size_t s = 0; s < seeds.size(); ++s)
            if (!out[s]) throw std::runtime_error("demo district: a Voronoi cell was lost");
        return out;
    }

    std::vector<Point> random_points(const GEOSGeometry* region, std::size_t n, Random& rng) const {
        double minx = 0, miny = 0, maxx = 0, maxy = 0;
        GEOSGeom_getXMin_r(h, region, &minx);
        GEOSGeom_getYMin_r(h, region, &miny);
        GEOSGeom_getXMax_r(h, region, &maxx);
        GEOSGeom_getYMax_r(h, region, &maxy);
        const GEOSPreparedGeometry* prep = GEOSPrepare_r(h, region);
        std::vector<Point> out;
        while (out.size() < n) {
            const Point p{rng.uniform(minx, maxx), rng.uniform(miny, maxy)};
            if (contains(prep, p)) out.push_back(p);
        }
        GEOSPreparedGeom_destroy_r(h, prep);
        return out;
    }
};

// Splits `region` into cells around `seeds` with Lloyd relaxation (centroidal Voronoi), which
// turns random seeds into compact, evenly sized grids.
inline std::vector<GeosGeometryPtr> relaxed_cells(const Geos& g, const GEOSGeometry* region, std::vector<Point>& seeds,
                                           int iterations) {
    std::vector<GeosGeometryPtr> cells = g.voronoi(region, seeds);
    for (int it = 0; it < iterations; ++it) {
        for (std::size_t i = 0; i < seeds.size(); ++i) seeds[i] = g.centroid_or_inside(cells[i].get());
        cells = g.voronoi(region, seeds);
    }
    return cells;
}


}  // namespace onegrid::data::detail
