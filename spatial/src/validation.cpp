#include "onegrid/spatial/validation.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <set>

#include "onegrid/spatial/coverage.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::spatial {

const char* to_string(Severity s) noexcept { return s == Severity::error ? "error" : "warning"; }

namespace {

std::string fmt_m2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f m²", v);
    return buf;
}

double perimeter_m(const Polygon& p) {
    double total = 0;
    auto ring_length = [&](const Ring& r) {
        for (std::size_t i = 0; i < r.size(); ++i) total += distance_m(r[i], r[(i + 1) % r.size()]);
    };
    ring_length(p.shell);
    for (const auto& h : p.holes) ring_length(h);
    return total;
}

}  // namespace

std::vector<Finding> validate_coverage(const std::vector<CoverageUnit>& units, const std::vector<CoverageUnit>& parents,
                                       const MultiPolygon& extent, const CoverageRules& rules) {
    std::vector<Finding> out;
    GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();

    // Codes: duplicates and malformed ones.
    std::map<std::string, std::vector<std::size_t>> by_code;
    for (std::size_t i = 0; i < units.size(); ++i) by_code[units[i].code].push_back(i);
    for (const auto& [code, idx] : by_code) {
        if (idx.size() > 1) {
            Finding f{Severity::error, "duplicate_code", "code " + code + " is used by " + std::to_string(idx.size()) + " units", {code}, {}, {}};
            for (auto i : idx) f.area.insert(f.area.end(), units[i].geometry.begin(), units[i].geometry.end());
            out.push_back(std::move(f));
        }
    }
    std::map<std::string, const CoverageUnit*> parent_by_code;
    for (const auto& p : parents) parent_by_code[p.code] = &p;
    for (const auto& u : units) {
        if (rules.code_digits > 0) {
            const bool digits = !u.code.empty() && u.code.find_first_not_of("0123456789") == std::string::npos;
            if (!digits || u.code.size() != rules.code_digits) {
                out.push_back({Severity::error, "malformed_code",
                               "code '" + u.code + "' must have " + std::to_string(rules.code_digits) + " digits", {u.code}, u.geometry, {}});
            } else if (!u.parent.empty() && u.code.rfind(u.parent, 0) != 0) {
                out.push_back({Severity::error, "malformed_code",
                               "code " + u.code + " does not start with its parent's code " + u.parent, {u.code}, u.geometry, {}});
            }
        }
    }

    // Validity of every polygon; slivers.
    std::vector<GeosGeometryPtr> geoms;
    std::vector<bool> valid(units.size(), true);
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto& u = units[i];
        if (u.geometry.empty() || !all_finite(u.geometry)) {
            out.push_back({Severity::error, "invalid_polygon", "unit " + u.code + " has no usable geometry", {u.code}, {}, {}});
            valid[i] = false;
            geoms.push_back(nullptr);
            continue;
        }
        geoms.push_back(to_geos(ctx, u.geometry));
        char* reason = nullptr;
        GEOSGeometry* where = nullptr;
        if (GEOSisValidDetail_r(h, geoms.back().get(), 0, &reason, &where) != 1) {
            Finding f{Severity::error, "invalid_polygon", "unit " + u.code + " is not a valid polygon: " + (reason ? reason : "?"), {u.code}, {}, {}};
            if (where != nullptr) {
                Point p;
                GEOSGeomGetX_r(h, where, &p.x);
                GEOSGeomGetY_r(h, where, &p.y);
                f.location = p;
                GEOSGeom_destroy_r(h, where);
            }
            if (reason != nullptr) GEOSFree_r(h, reason);
            out.push_back(std::move(f));
            valid[i] = false;
            continue;
        }
        for (const auto& part : u.geometry) {
            const MultiPolygon one{part};
            const double a = area_m2(one);
            const double per = perimeter_m(part);
            const double thin = per > 0 ? 4 * std::numbers::pi * a / (per * per) : 0;
            if (a < rules.sliver_m2 || thin < rules.min_thinness) {
                char buf[200];
                std::snprintf(buf, sizeof buf, "unit %s has a sliver: a part of %.0f m² with thinness %.3f (limits %.0f m², %.2f)",
                              u.code.c_str(), a, thin, rules.sliver_m2, rules.min_thinness);
                out.push_back({Severity::error, "sliver", buf, {u.code}, one, {}});
            }
        }
    }

    // Overlaps between valid units.
    bool overlapping = false;
    {
        std::vector<MultiPolygon> polys;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < units.size(); ++i)
            if (valid[i]) {
                polys.push_back(units[i].geometry);
                index.push_back(i);
            }
        for (auto& o : find_overlaps(polys, 0.0)) {
            overlapping = true;
            if (o.area_m2 <= rules.overlap_m2) continue;
            const auto& a = units[index[o.a]];
            const auto& b = units[index[o.b]];
            out.push_back({Severity::error, "overlap", "units " + a.code + " and " + b.code + " overlap by " + fmt_m2(o.area_m2),
                           {a.code, b.code}, std::move(o.region), {}});
        }
    }

    // Gaps: the extent less the union of the units.
    if (!extent.empty()) {
        std::vector<GEOSGeometry*> parts;
        for (std::size_t i = 0; i < units.size(); ++i)
            if (valid[i]) parts.push_back(GEOSGeom_clone_r(h, geoms[i].get()));
        auto coll = geos_owned(ctx, GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts.data(), static_cast<unsigned>(parts.size())),
                               "the units");
        // Without overlaps the units form a coverage, whose union GEOS computes much faster.
        // (It refuses units whose shared edges are not noded alike, e.g. after a split: then the
        // general union.)
        GEOSGeometry* fast = overlapping ? nullptr : GEOSCoverageUnion_r(h, coll.get());
        auto all = geos_owned(ctx, fast != nullptr ? fast : GEOSUnaryUnion_r(h, coll.get()), "the union of the units");
        auto ext = to_geos(ctx, extent);
        auto gaps = geos_owned(ctx, GEOSDifference_r(h, ext.get(), all.get()), "the gaps");
        for (const auto& part : from_geos(ctx, gaps.get())) {
            const MultiPolygon one{part};
            const double a = area_m2(one);
            if (a <= rules.gap_m2) continue;
            // Name the units around the gap.
            Finding f{Severity::error, "gap", "an area of " + fmt_m2(a) + " inside the district belongs to no unit", {}, one, {}};
            auto g = to_geos(ctx, one);
            for (std::size_t i = 0; i < units.size() && f.codes.size() < 8; ++i)
                if (valid[i] && GEOSIntersects_r(h, g.get(), geoms[i].get()) == 1) f.codes.push_back(units[i].code);
            out.push_back(std::move(f));
        }
    }

    // Units leaving their parent.
    if (!parents.empty()) {
        std::map<std::string, GeosGeometryPtr> parent_geoms;
        std::map<std::string, const GEOSPreparedGeometry*> parent_prepared;
        struct Release {
            GEOSContextHandle_t h;
            std::map<std::string, const GEOSPreparedGeometry*>& m;
            ~Release() {
                for (auto& [k, p] : m)
                    if (p != nullptr) GEOSPreparedGeom_destroy_r(h, p);
            }
        } release{h, parent_prepared};
        for (std::size_t i = 0; i < units.size(); ++i) {
            const auto& u = units[i];
            if (!valid[i]) continue;
            auto it = parent_by_code.find(u.parent);
            if (it == parent_by_code.end()) {
                out.push_back({Severity::error, "unknown_parent", "unit " + u.code + " names parent '" + u.parent + "', which does not exist",
                               {u.code}, u.geometry, {}});
                continue;
            }
            auto& pg = parent_geoms[u.parent];
            if (!pg) pg = to_geos(ctx, it->second->geometry);
            auto& prep = parent_prepared[u.parent];
            if (prep == nullptr) prep = GEOSPrepare_r(h, pg.get());
            if (GEOSPreparedCovers_r(h, prep, geoms[i].get()) == 1) continue;
            auto outside = geos_owned(ctx, GEOSDifference_r(h, geoms[i].get(), pg.get()), "the part outside the parent");
            MultiPolygon region = from_geos(ctx, outside.get());
            if (region.empty()) continue;
            const double a = area_m2(region);
            if (a > rules.outside_parent_m2)
                out.push_back({Severity::error, "outside_parent", "unit " + u.code + " extends " + fmt_m2(a) + " outside its parent " + u.parent,
                               {u.code}, std::move(region), {}});
        }
    }

    // Size norm (where the attributes exist).
    for (const auto& u : units) {
        std::string why;
        if (u.population && (*u.population < rules.min_population || *u.population > rules.max_population))
            why = std::to_string(static_cast<long long>(*u.population)) + " residents";
        if (u.households && (*u.households < rules.min_households || *u.households > rules.max_households))
            why += (why.empty() ? "" : ", ") + std::to_string(static_cast<long long>(*u.households)) + " households";
        if (!why.empty())
            out.push_back({Severity::warning, "size_norm", "unit " + u.code + " has " + why + " (norm: ~1,000 residents or 300–400 households)",
                           {u.code}, u.geometry, {}});
    }

    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
        if (a.severity != b.severity) return a.severity < b.severity;
        if (a.rule != b.rule) return a.rule < b.rule;
        return a.codes < b.codes;
    });
    return out;
}

}  // namespace onegrid::spatial
