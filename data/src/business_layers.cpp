#include <algorithm>
#include <map>
#include <set>

#include "geos_tools.hpp"
#include "onegrid/data/business_layers.hpp"

namespace onegrid::data {

using detail::Geos;
using spatial::GeosGeometryPtr;
using spatial::MultiPolygon;
using spatial::PolygonFeature;
using spatial::PolygonLayer;

namespace {

GeosGeometryPtr union_of(const Geos& g, const std::vector<const MultiPolygon*>& parts) {
    std::vector<GEOSGeometry*> geoms;
    for (const MultiPolygon* mp : parts) geoms.push_back(spatial::to_geos(g.ctx, *mp).release());
    auto coll = g.own(GEOSGeom_createCollection_r(g.h, GEOS_GEOMETRYCOLLECTION, geoms.data(), static_cast<unsigned>(geoms.size())),
                      "a collection");
    GEOSGeometry* u = GEOSCoverageUnion_r(g.h, coll.get());
    if (u == nullptr) u = GEOSUnaryUnion_r(g.h, coll.get());
    return g.own(u, "a union");
}

PolygonLayer make_layer(const std::string& name, std::vector<std::string> extra_fields = {}) {
    PolygonLayer l;
    l.name = name;
    l.fields = {"code", "name"};
    for (auto& f : extra_fields) l.fields.push_back(std::move(f));
    return l;
}

void add(PolygonLayer& l, const std::string& code, const std::string& name, MultiPolygon geometry,
         std::vector<std::string> extra = {}) {
    PolygonFeature f;
    f.id = code;
    f.geometry = std::move(geometry);
    f.values = {code, name};
    for (auto& e : extra) f.values.push_back(std::move(e));
    l.features.push_back(std::move(f));
}

std::string code(const char* prefix, int n, int width) {
    std::string digits = std::to_string(n);
    while (static_cast<int>(digits.size()) < width) digits.insert(digits.begin(), '0');
    return prefix + digits;
}

// Splits `region` into `n` parts with straight boundaries (relaxed Voronoi): such boundaries cut
// across grids, as departments' own jurisdictions often do.
std::vector<MultiPolygon> split(const Geos& g, const GEOSGeometry* region, int n, Random& rng) {
    auto seeds = g.random_points(region, static_cast<std::size_t>(n), rng);
    std::vector<GeosGeometryPtr> cells = g.voronoi(region, seeds);
    for (int it = 0; it < 3; ++it) {
        for (std::size_t i = 0; i < seeds.size(); ++i) seeds[i] = g.centroid_or_inside(cells[i].get());
        cells = g.voronoi(region, seeds);
    }
    std::vector<MultiPolygon> out;
    for (auto& c : cells) {
        auto mp = g.polys(c.get());
        if (!mp.empty()) out.push_back(std::move(mp));
    }
    return out;
}

}  // namespace

BusinessLayers generate_business_layers(const DemoDistrict& d, std::uint64_t seed) {
    Random rng(seed);
    Geos g;
    std::map<std::string, const PolygonFeature*> towns;
    for (const auto& t : d.towns.features) towns[t.id] = &t;
    auto town_name = [&](const std::string& c) { return std::string(d.towns.value(*towns.at(c), "name")); };
    const std::vector<std::string> urban = {"370614001", "370614002", "370614003", "370614004", "370614005"};
    const std::vector<std::string> rural = {"370614102", "370614103", "370614105", "370614106",
                                            "370614107", "370614108", "370614109"};
    std::vector<std::string> islands;
    for (const auto& [c, f] : towns)
        if (std::find(urban.begin(), urban.end(), c) == urban.end() && std::find(rural.begin(), rural.end(), c) == rural.end())
            islands.push_back(c);

    BusinessLayers out;

    // ---- policing: stations and patrol beats ----------------------------------------------------
    // Urban stations follow the streets' boundaries; rural stations are drawn across towns; all
    // the islands form one station.
    out.stations = make_layer("stations", {"kind"});
    int st = 0;
    auto station = [&](const std::string& name, MultiPolygon mp, const char* kind) {
        add(out.stations, code("PS", ++st, 2), name, std::move(mp), {kind});
    };
    station("登州派出所", g.polys(union_of(g, {&towns.at("370614001")->geometry, &towns.at("370614004")->geometry}).get()), "urban");
    station("紫荆山派出所", towns.at("370614002")->geometry, "urban");
    station("新港派出所", towns.at("370614003")->geometry, "urban");
    station("南王派出所", towns.at("370614005")->geometry, "urban");
    {
        std::vector<const MultiPolygon*> parts;
        for (const auto& c : rural) parts.push_back(&towns.at(c)->geometry);
        auto region = union_of(g, parts);
        const char* names[] = {"刘家沟派出所", "潮水派出所", "大柳行派出所", "北沟派出所", "村里集派出所"};
        int k = 0;
        for (auto& mp : split(g, region.get(), 5, rng)) station(names[k++ % 5], std::move(mp), "rural");
    }
    {
        std::vector<const MultiPolygon*> parts;
        for (const auto& c : islands) parts.push_back(&towns.at(c)->geometry);
        station("长岛派出所", g.polys(union_of(g, parts).get()), "island");
    }
    out.beats = make_layer("beats", {"station"});
    int beat = 0;
    for (const auto& s : out.stations.features) {
        auto sg = spatial::to_geos(g.ctx, s.geometry);
        const int n = s.values[2] == "island" ? 3 : 6;
        for (auto& mp : split(g, sg.get(), n, rng)) {
            ++beat;
            add(out.beats, code("PB", beat, 3), s.values[1] + "第" + std::to_string(beat) + "警务区", std::move(mp), {s.id});
        }
    }

    // ---- health: community health service areas --------------------------------------------------
    // In the streets each service centre covers whole communities; in the towns areas are drawn.
    out.health_areas = make_layer("areas", {"town_code"});
    int ha = 0;
    std::map<std::string, std::vector<const PolygonFeature*>> communities_by_town;
    for (const auto& c : d.communities.features) communities_by_town[c.id.substr(0, 9)].push_back(&c);
    for (const auto& [town_code, comms] : communities_by_town) {
        const bool is_urban = std::find(urban.begin(), urban.end(), town_code) != urban.end();
        const std::string tname = town_name(town_code);
        if (is_urban) {
            // Two centres per street, each serving half of the communities.
            const std::size_t half = (comms.size() + 1) / 2;
            for (int part = 0; part < 2; ++part) {
                std::vector<const MultiPolygon*> parts;
                for (std::size_t k = part * half; k < std::min(comms.size(), (part + 1) * half); ++k) parts.push_back(&comms[k]->geometry);
                if (parts.empty()) continue;
                add(out.health_areas, code("HA", ++ha, 2), tname + (part == 0 ? "东" : "西") + "社区卫生服务中心",
                    g.polys(union_of(g, parts).get()), {town_code});
            }
        } else {
            auto tg = spatial::to_geos(g.ctx, towns.at(town_code)->geometry);
            const bool island = std::find(islands.begin(), islands.end(), town_code) != islands.end();
            int k = 0;
            for (auto& mp : split(g, tg.get(), island ? 1 : 2, rng)) {
                add(out.health_areas, code("HA", ++ha, 2), tname + "卫生院" + (k++ == 0 ? "" : "分院"), std::move(mp), {town_code});
            }
        }
    }

    // ---- markets: market supervision offices ----------------------------------------------------
    // One office per town, except two pairs of towns merged into one office each and one town cut
    // in two between neighbouring offices.
    out.market_offices = make_layer("offices");
    int mo = 0;
    std::set<std::string> done;
    auto office = [&](const std::string& name, MultiPolygon mp) { add(out.market_offices, code("MS", ++mo, 2), name, std::move(mp)); };
    office("大辛店-村里集市场监管所",
           g.polys(union_of(g, {&towns.at("370614107")->geometry, &towns.at("370614108")->geometry}).get()));
    done.insert({"370614107", "370614108"});
    {
        // 刘家沟镇 is split by a north–south line: its west goes to 紫荆山, its east to 潮水.
        auto liu = spatial::to_geos(g.ctx, towns.at("370614102")->geometry);
        double minx = 0, maxx = 0, miny = 0, maxy = 0;
        GEOSGeom_getXMin_r(g.h, liu.get(), &minx);
        GEOSGeom_getXMax_r(g.h, liu.get(), &maxx);
        GEOSGeom_getYMin_r(g.h, liu.get(), &miny);
        GEOSGeom_getYMax_r(g.h, liu.get(), &maxy);
        const double mid = (minx + maxx) / 2;
        auto box = [&](double x0, double x1) {
            return spatial::to_geos(g.ctx, MultiPolygon{{{{x0, miny - 1}, {x1, miny - 1}, {x1, maxy + 1}, {x0, maxy + 1}}, {}}});
        };
        auto west = g.own(GEOSIntersectionPrec_r(g.h, liu.get(), box(minx - 1, mid).get(), detail::grid_size), "west part");
        auto east = g.own(GEOSIntersectionPrec_r(g.h, liu.get(), box(mid, maxx + 1).get(), detail::grid_size), "east part");
        const auto w = g.polys(west.get());
        const auto e = g.polys(east.get());
        office("紫荆山市场监管所", g.polys(union_of(g, {&towns.at("370614002")->geometry, &w}).get()));
        office("潮水市场监管所", g.polys(union_of(g, {&towns.at("370614103")->geometry, &e}).get()));
        done.insert({"370614102", "370614002", "370614103"});
    }
    {
        std::vector<const MultiPolygon*> parts;
        for (const auto& c : islands) parts.push_back(&towns.at(c)->geometry);
        office("长岛市场监管所", g.polys(union_of(g, parts).get()));
        for (const auto& c : islands) done.insert(c);
    }
    for (const auto& [c, f] : towns) {
        if (done.count(c)) continue;
        office(town_name(c) + "市场监管所", f->geometry);
    }
    return out;
}

void write_business_layers(const BusinessLayers& b, const std::string& dir) {
    const std::string base = dir + "/";
    spatial::write_polygon_layers(base + "policing.gpkg", {&b.stations, &b.beats});
    spatial::write_polygon_layers(base + "health.gpkg", {&b.health_areas});
    spatial::write_polygon_layers(base + "markets.gpkg", {&b.market_offices});
}

}  // namespace onegrid::data
