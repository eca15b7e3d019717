#include "onegrid/spatial/overlay.hpp"

#include <cmath>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::spatial {

std::vector<MultiPolygon> to_metric(const std::vector<MultiPolygon>& polygons) {
    const CrsTransform t(storage_crs, metric_crs);
    std::vector<MultiPolygon> out = polygons;
    for (auto& mp : out) {
        for (auto& poly : mp) {
            t.apply(poly.shell);
            for (auto& h : poly.holes) t.apply(h);
        }
    }
    return out;
}

std::vector<double> areas_m2(const std::vector<MultiPolygon>& polygons) {
    std::vector<double> out;
    out.reserve(polygons.size());
    for (const auto& mp : to_metric(polygons)) {
        double a = 0;
        for (const auto& poly : mp) {
            a += std::fabs(signed_area(poly.shell));
            for (const auto& h : poly.holes) a -= std::fabs(signed_area(h));
        }
        out.push_back(a);
    }
    return out;
}

std::vector<SharedArea> overlay_areas(const std::vector<MultiPolygon>& a, const std::vector<MultiPolygon>& b) {
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();
    std::vector<GeosGeometryPtr> ga;
    std::vector<GeosGeometryPtr> gb;
    for (const auto& mp : to_metric(a)) ga.push_back(to_geos(ctx, mp));
    for (const auto& mp : to_metric(b)) gb.push_back(to_geos(ctx, mp));
    GEOSSTRtree* tree = GEOSSTRtree_create_r(h, 10);
    std::vector<std::uint32_t> ids(gb.size());
    for (std::uint32_t i = 0; i < gb.size(); ++i) {
        ids[i] = i;
        GEOSSTRtree_insert_r(h, tree, gb[i].get(), &ids[i]);
    }
    std::vector<SharedArea> out;
    std::vector<std::uint32_t> hits;
    for (std::uint32_t i = 0; i < ga.size(); ++i) {
        hits.clear();
        GEOSSTRtree_query_r(
            h, tree, ga[i].get(),
            [](void* item, void* data) { static_cast<std::vector<std::uint32_t>*>(data)->push_back(*static_cast<std::uint32_t*>(item)); },
            &hits);
        if (hits.empty()) continue;
        const GEOSPreparedGeometry* prep = GEOSPrepare_r(h, ga[i].get());
        for (std::uint32_t j : hits) {
            if (GEOSPreparedIntersects_r(h, prep, gb[j].get()) != 1) continue;
            if (GEOSPreparedContains_r(h, prep, gb[j].get()) == 1) {
                double area = 0;
                GEOSArea_r(h, gb[j].get(), &area);
                out.push_back({i, j, area});
                continue;
            }
            GEOSGeometry* inter = GEOSIntersection_r(h, ga[i].get(), gb[j].get());
            if (inter == nullptr) continue;
            double area = 0;
            GEOSArea_r(h, inter, &area);
            GEOSGeom_destroy_r(h, inter);
            if (area > 0) out.push_back({i, j, area});
        }
        GEOSPreparedGeom_destroy_r(h, prep);
    }
    GEOSSTRtree_destroy_r(h, tree);
    return out;
}

}  // namespace onegrid::spatial
