#include "onegrid/core/crosswalk.hpp"

#include <algorithm>
#include <map>

#include "onegrid/spatial/overlay.hpp"

namespace onegrid::core {

Crosswalk compute_crosswalk(const IndexedLayer& base, const IndexedLayer& business, Timestamp now) {
    std::vector<spatial::MultiPolygon> a;
    std::vector<spatial::MultiPolygon> b;
    for (std::uint32_t i = 0; i < base.index.size(); ++i) a.push_back(base.index.geometry(i));
    for (std::uint32_t i = 0; i < business.index.size(); ++i) b.push_back(business.index.geometry(i));
    const auto base_area = spatial::areas_m2(a);
    const auto shared = spatial::overlay_areas(a, b);

    Crosswalk cw;
    cw.summary.layer = business.info.id;
    cw.summary.base_version = base.version;
    cw.summary.business_version = business.version;
    cw.summary.grids = static_cast<std::int64_t>(a.size());
    cw.summary.computed_at = now;
    std::vector<double> largest(a.size(), 0.0);
    for (const auto& s : shared) {
        const double share = base_area[s.a] > 0 ? s.area_m2 / base_area[s.a] : 0.0;
        // Slivers below a square metre come from digitising noise, not from the boundaries.
        if (s.area_m2 < 1.0) continue;
        cw.rows.push_back({base.index.unit(s.a).code, business.index.unit(s.b).code, s.area_m2, share});
        largest[s.a] = std::max(largest[s.a], share);
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (largest[i] == 0.0) {
            ++cw.summary.uncovered;
        } else if (largest[i] >= crosswalk_aligned_threshold) {
            ++cw.summary.aligned;
        } else {
            ++cw.summary.split;
            cw.misaligned.push_back(base.index.unit(static_cast<std::uint32_t>(i)).code);
        }
    }
    cw.summary.aligned_share = cw.summary.grids > 0 ? static_cast<double>(cw.summary.aligned) / cw.summary.grids : 0.0;
    std::sort(cw.rows.begin(), cw.rows.end(), [](const CrosswalkRow& x, const CrosswalkRow& y) {
        return x.base != y.base ? x.base < y.base : x.share > y.share;
    });
    std::sort(cw.misaligned.begin(), cw.misaligned.end());
    return cw;
}

std::map<std::string, std::shared_ptr<const Crosswalk>> current_crosswalks(Store& store, const Geography& geography, Timestamp now) {
    std::map<std::string, std::shared_ptr<const Crosswalk>> out;
    if (!geography.base) return out;
    std::map<std::string, CrosswalkSummary> stored;
    for (const auto& s : store.crosswalk_summaries()) stored[s.layer] = s;
    for (const auto& b : geography.business) {
        auto it = stored.find(b->info.id);
        if (it != stored.end() && it->second.base_version == geography.base->version && it->second.business_version == b->version) {
            if (auto c = store.crosswalk(b->info.id)) {
                out[b->info.id] = std::make_shared<Crosswalk>(std::move(*c));
                continue;
            }
        }
        // A layer got a new version: recompute and store.
        auto c = compute_crosswalk(*geography.base, *b, now);
        store.put_crosswalk(c);
        out[b->info.id] = std::make_shared<Crosswalk>(std::move(c));
    }
    return out;
}

}  // namespace onegrid::core
