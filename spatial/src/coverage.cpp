#include "onegrid/spatial/coverage.hpp"

#include <algorithm>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::spatial {

std::vector<Overlap> find_overlaps(const std::vector<MultiPolygon>& polygons, double min_area_m2) {
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();
    std::vector<GeosGeometryPtr> geoms;
    geoms.reserve(polygons.size());
    for (const MultiPolygon& mp : polygons) geoms.push_back(to_geos(ctx, mp));

    GEOSSTRtree* tree = GEOSSTRtree_create_r(h, 10);
    std::vector<std::uint32_t> ids(polygons.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
        ids[i] = i;
        GEOSSTRtree_insert_r(h, tree, geoms[i].get(), &ids[i]);
    }
    std::vector<Overlap> out;
    struct Query {
        std::uint32_t self;
        std::vector<std::uint32_t> hits;
    } q{};
    for (std::uint32_t i = 0; i < geoms.size(); ++i) {
        q.self = i;
        q.hits.clear();
        GEOSSTRtree_query_r(
            h, tree, geoms[i].get(),
            [](void* item, void* userdata) {
                auto* qq = static_cast<Query*>(userdata);
                const std::uint32_t j = *static_cast<std::uint32_t*>(item);
                if (j > qq->self) qq->hits.push_back(j);
            },
            &q);
        if (q.hits.empty()) continue;
        std::sort(q.hits.begin(), q.hits.end());
        const GEOSPreparedGeometry* prep = GEOSPrepare_r(h, geoms[i].get());
        for (std::uint32_t j : q.hits) {
            // Neighbours touch; only a two-dimensional intersection of interiors is an overlap.
            if (GEOSPreparedIntersects_r(h, prep, geoms[j].get()) != 1) continue;
            if (GEOSPreparedTouches_r(h, prep, geoms[j].get()) == 1) continue;
            GEOSGeometry* inter = GEOSIntersection_r(h, geoms[i].get(), geoms[j].get());
            if (inter == nullptr) continue;
            GeosGeometryPtr owned(inter, GeosGeometryDeleter{h});
            MultiPolygon region = from_geos(ctx, inter);
            if (region.empty()) continue;
            const double area = area_m2(region);
            if (area > min_area_m2) out.push_back({i, j, area, std::move(region)});
        }
        GEOSPreparedGeom_destroy_r(h, prep);
    }
    GEOSSTRtree_destroy_r(h, tree);
    return out;
}

}  // namespace onegrid::spatial
