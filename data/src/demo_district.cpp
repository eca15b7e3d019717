#include "onegrid/data/demo_district.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <stdexcept>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"
#include "geos_tools.hpp"

namespace onegrid::data {

using spatial::Box;
using spatial::GeosContext;
using spatial::GeosGeometryPtr;
using spatial::MultiPolygon;
using spatial::Point;
using spatial::Polygon;
using spatial::PolygonFeature;
using spatial::PolygonLayer;
using spatial::Ring;
using detail::Geos;

double Random::normal() {
    const double u1 = std::max(uniform(), 1e-300);
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

const std::vector<TownSpec>& penglai_towns() {
    // Grid shares: dense streets around the city centre, rural towns, sparsely settled islands.
    static const std::vector<TownSpec> towns = {
        {"370614001", "登州街道", 135, 120.752, 37.800, -1},
        {"370614002", "紫荆山街道", 120, 120.790, 37.775, -1},
        {"370614003", "新港街道", 85, 120.700, 37.775, -1},
        {"370614004", "蓬莱阁街道", 75, 120.770, 37.818, -1},
        {"370614005", "南王街道", 90, 120.735, 37.748, -1},
        {"370614102", "刘家沟镇", 85, 120.890, 37.765, -1},
        {"370614103", "潮水镇", 85, 120.975, 37.680, -1},
        {"370614105", "大柳行镇", 80, 120.800, 37.620, -1},
        {"370614106", "小门家镇", 70, 120.880, 37.520, -1},
        {"370614107", "大辛店镇", 90, 120.640, 37.650, -1},
        {"370614108", "村里集镇", 70, 120.700, 37.520, -1},
        {"370614109", "北沟镇", 85, 120.600, 37.710, -1},
        {"370614006", "南长山街道", 16, 120.740, 37.925, 0},
        {"370614110", "砣矶镇", 7, 120.745, 38.165, 1},
        {"370614201", "北长山乡", 6, 120.712, 37.972, 2},
        {"370614202", "黑山乡", 4, 120.630, 37.962, 3},
        {"370614203", "大钦岛乡", 4, 120.830, 38.298, 4},
        {"370614204", "小钦岛乡", 2, 120.835, 38.342, 5},
        {"370614205", "南隍城乡", 2, 120.898, 38.360, 6},
        {"370614206", "北隍城乡", 4, 120.912, 38.398, 7},
    };
    return towns;
}

namespace {

constexpr double grid_size = 1e-7;  // ~1 cm: every generated vertex is snapped to this lattice
constexpr double m_per_deg_lat = 110950.0;
constexpr double m_per_deg_lon = 88050.0;  // at ~37.7°N

struct Island {
    int group;
    double lon, lat, area_km2;
};

// Approximate positions and areas of the main islands of the former Changdao county.
const std::vector<Island>& islands() {
    static const std::vector<Island> list = {
        {0, 120.740, 37.925, 12.8}, {0, 120.688, 37.942, 1.4},  // 南长山岛, 庙岛
        {1, 120.745, 38.165, 7.1},                               // 砣矶岛
        {2, 120.712, 37.972, 8.0},                               // 北长山岛
        {3, 120.630, 37.962, 7.5},  {3, 120.655, 37.985, 1.2},  // 大黑山岛, 小黑山岛
        {4, 120.830, 38.298, 6.4},                               // 大钦岛
        {5, 120.835, 38.342, 1.2},                               // 小钦岛
        {6, 120.898, 38.360, 1.8},                               // 南隍城岛
        {7, 120.912, 38.398, 2.7},                               // 北隍城岛
    };
    return list;
}

// Fractal coast: midpoint displacement of every edge down to `min_len_m`.
void displace(Point a, Point b, double rough, double min_len_m, Random& rng, Ring& out) {
    const double dx = (b.x - a.x) * m_per_deg_lon;
    const double dy = (b.y - a.y) * m_per_deg_lat;
    const double len = std::hypot(dx, dy);
    if (len <= min_len_m) {
        out.push_back(a);
        return;
    }
    const double off = rng.normal() * rough * len;
    Point m{(a.x + b.x) / 2.0 - dy / len * off / m_per_deg_lon, (a.y + b.y) / 2.0 + dx / len * off / m_per_deg_lat};
    displace(a, m, rough * 0.9, min_len_m, rng, out);
    displace(m, b, rough * 0.9, min_len_m, rng, out);
}

Ring roughen(const Ring& base, const std::vector<double>& roughness, double min_len_m, Random& rng) {
    Ring out;
    for (std::size_t i = 0; i < base.size(); ++i) {
        displace(base[i], base[(i + 1) % base.size()], roughness[i], min_len_m, rng, out);
    }
    return out;
}

Polygon mainland_outline(Random& rng) {
    // Counter-clockwise; the first eight edges are the north coast, the rest land borders.
    const Ring base = {
        {120.520, 37.660}, {120.585, 37.712}, {120.660, 37.758}, {120.712, 37.792}, {120.760, 37.833},
        {120.822, 37.802}, {120.905, 37.782}, {120.985, 37.748}, {121.040, 37.700},   // coast
        {121.062, 37.600}, {121.005, 37.520}, {120.950, 37.460}, {120.820, 37.440},
        {120.700, 37.452}, {120.600, 37.500}, {120.548, 37.575}};
    std::vector<double> rough(base.size(), 0.05);
    for (std::size_t i = 0; i < 8; ++i) rough[i] = 0.13;
    Polygon p;
    p.shell = roughen(base, rough, 250.0, rng);
    return p;
}

Polygon island_outline(const Island& is, Random& rng) {
    const double r_m = std::sqrt(is.area_km2 * 1e6 / std::numbers::pi);
    Ring base;
    const int n = 14;
    const double phase = rng.uniform(0, 2 * std::numbers::pi);
    const double stretch = rng.uniform(1.1, 1.7);  // islands are elongated
    for (int i = 0; i < n; ++i) {
        const double t = 2 * std::numbers::pi * i / n;
        const double rr = r_m * rng.uniform(0.8, 1.15);
        const double x = rr * std::cos(t) * stretch;
        const double y = rr * std::sin(t) / stretch;
        base.push_back({is.lon + (x * std::cos(phase) - y * std::sin(phase)) / m_per_deg_lon,
                        is.lat + (x * std::sin(phase) + y * std::cos(phase)) / m_per_deg_lat});
    }
    Polygon p;
    p.shell = roughen(base, std::vector<double>(base.size(), 0.12), 120.0, rng);
    return p;
}

// Inserts points between the vertices of every edge so that no piece is longer than `step_m`.
// The points of an edge are computed from its lexicographically smaller end, so two grids that
// share an edge get bit-identical vertices whichever way their rings run.
Ring densify(const Ring& r, double step_m) {
    Ring out;
    for (std::size_t i = 0; i < r.size(); ++i) {
        const Point p = r[i];
        const Point q = r[(i + 1) % r.size()];
        out.push_back(p);
        const double len = std::hypot((q.x - p.x) * m_per_deg_lon, (q.y - p.y) * m_per_deg_lat);
        const int n = static_cast<int>(std::ceil(len / step_m));
        if (n <= 1) continue;
        const bool forward = std::pair(p.x, p.y) < std::pair(q.x, q.y);
        const Point a = forward ? p : q;
        const Point b = forward ? q : p;
        for (int k = 1; k < n; ++k) {
            const int j = forward ? k : n - k;
            out.push_back({a.x + (b.x - a.x) * j / n, a.y + (b.y - a.y) * j / n});
        }
    }
    return out;
}

// A smooth displacement field with a small gradient (a diffeomorphism): straight Voronoi edges
// become gently curved like streets and streams, and shared edges stay shared.
struct Warp {
    double amp_m;
    double phase[6];
    Point apply(Point p) const {
        const double x = (p.x - 120.5) * m_per_deg_lon;
        const double y = (p.y - 37.5) * m_per_deg_lat;
        const double two_pi = 2 * std::numbers::pi;
        const double dx = amp_m * (0.55 * std::sin(two_pi * y / 730.0 + phase[0]) +
                                   0.30 * std::sin(two_pi * (x + y) / 1900.0 + phase[1]) +
                                   0.15 * std::sin(two_pi * x / 310.0 + phase[2]));
        const double dy = amp_m * (0.55 * std::sin(two_pi * x / 810.0 + phase[3]) +
                                   0.30 * std::sin(two_pi * (x - y) / 2300.0 + phase[4]) +
                                   0.15 * std::sin(two_pi * y / 290.0 + phase[5]));
        // Snap to the lattice so that exchange formats and SQL peers see exactly these values.
        return {std::round((p.x + dx / m_per_deg_lon) / grid_size) * grid_size,
                std::round((p.y + dy / m_per_deg_lat) / grid_size) * grid_size};
    }
};

MultiPolygon reshape(const MultiPolygon& mp, const Warp& warp, double step_m) {
    MultiPolygon out;
    for (const Polygon& p : mp) {
        Polygon q;
        for (const Point& v : densify(p.shell, step_m)) q.shell.push_back(warp.apply(v));
        for (const Ring& h : p.holes) {
            Ring hole;
            for (const Point& v : densify(h, step_m)) hole.push_back(warp.apply(v));
            q.holes.push_back(std::move(hole));
        }
        out.push_back(std::move(q));
    }
    return out;
}

// Synthetic community names: two syllables from a list of common place-name parts.
std::string community_name(Random& rng, bool street, std::map<std::string, int>& used) {
    static const char* first[] = {"东", "西", "南", "北", "新", "大", "小", "前", "后", "上", "下", "中",
                                  "海", "山", "河", "石", "青", "金", "兴", "和", "安", "福", "丰", "长"};
    static const char* second[] = {"关", "港", "湾", "庄", "岭", "泉", "园", "里", "城", "阳", "峰", "林",
                                   "口", "桥", "台", "沟", "家", "营", "店", "崖", "滩", "坡", "苑", "寨"};
    std::string name;
    do {
        name = std::string(first[rng.next() % std::size(first)]) + second[rng.next() % std::size(second)];
    } while (used[name]++ > 0);
    return name + (street ? "社区" : "村");
}

std::string pad3(int v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03d", v);
    return buf;
}

struct GridDraft {
    MultiPolygon geometry;
    Point seed;
    int town = 0;
    int community = -1;
};

}  // namespace

DemoDistrict generate_demo_district(const DemoDistrictOptions& options) {
    Random rng(options.seed);
    Geos g;
    const auto& towns = penglai_towns();

    // 1. Land: the mainland and the island groups.
    MultiPolygon mainland_mp{mainland_outline(rng)};
    std::map<int, MultiPolygon> island_groups;
    for (const Island& is : islands()) island_groups[is.group].push_back(island_outline(is, rng));

    std::vector<GridDraft> drafts;
    // 2. Mainland grids: seeds sampled per town region (Voronoi of the town seats), then one
    //    relaxed Voronoi diagram over all of them, so neighbouring grids share exact edges.
    {
        auto land = g.geom(mainland_mp);
        std::vector<Point> seats;
        std::vector<int> mainland_towns;
        for (std::size_t t = 0; t < towns.size(); ++t) {
            if (towns[t].island < 0) {
                seats.push_back({towns[t].lon, towns[t].lat});
                mainland_towns.push_back(static_cast<int>(t));
            }
        }
        auto town_regions = g.voronoi(land.get(), seats);
        std::vector<Point> seeds;
        for (std::size_t i = 0; i < mainland_towns.size(); ++i) {
            const auto pts = g.random_points(town_regions[i].get(),
                                             static_cast<std::size_t>(towns[static_cast<std::size_t>(mainland_towns[i])].grids), rng);
            seeds.insert(seeds.end(), pts.begin(), pts.end());
        }
        auto cells = relaxed_cells(g, land.get(), seeds, 2);
        // A grid belongs to the town whose region holds its seed.
        std::vector<const GEOSPreparedGeometry*> preps;
        for (auto& r : town_regions) preps.push_back(GEOSPrepare_r(g.h, r.get()));
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            GridDraft d;
            d.geometry = g.polys(cells[i].get());
            d.seed = seeds[i];
            d.town = mainland_towns.front();
            for (std::size_t t = 0; t < preps.size(); ++t) {
                if (g.contains(preps[t], seeds[i])) {
                    d.town = mainland_towns[t];
                    break;
                }
            }
            drafts.push_back(std::move(d));
        }
        for (auto* p : preps) GEOSPreparedGeom_destroy_r(g.h, p);
    }
    // 3. Island grids: one diagram per island town.
    for (std::size_t t = 0; t < towns.size(); ++t) {
        if (towns[t].island < 0) continue;
        auto land = g.geom(island_groups.at(towns[t].island));
        auto seeds = g.random_points(land.get(), static_cast<std::size_t>(towns[t].grids), rng);
        auto cells = relaxed_cells(g, land.get(), seeds, 3);
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            GridDraft d;
            d.geometry = g.polys(cells[i].get());
            d.seed = seeds[i];
            d.town = static_cast<int>(t);
            drafts.push_back(std::move(d));
        }
    }

    // 4. Communities: k-means of each town's grid seeds, about 16 grids per community.
    std::vector<std::vector<std::size_t>> town_grids(towns.size());
    for (std::size_t i = 0; i < drafts.size(); ++i) town_grids[static_cast<std::size_t>(drafts[i].town)].push_back(i);
    struct CommunityDraft {
        int town;
        std::vector<std::size_t> grids;
        Point center;
        std::string name;
    };
    std::vector<CommunityDraft> communities;
    std::map<std::string, int> used_names;
    for (std::size_t t = 0; t < towns.size(); ++t) {
        const auto& members = town_grids[t];
        if (members.empty()) continue;
        const std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(members.size() / 16.0)));
        std::vector<Point> centers;
        // Farthest-point initialisation: deterministic and well spread.
        centers.push_back(drafts[members[0]].seed);
        while (centers.size() < k) {
            double best = -1;
            Point pick{};
            for (std::size_t m : members) {
                double dmin = 1e300;
                for (const Point& c : centers) dmin = std::min(dmin, std::hypot(drafts[m].seed.x - c.x, drafts[m].seed.y - c.y));
                if (dmin > best) {
                    best = dmin;
                    pick = drafts[m].seed;
                }
            }
            centers.push_back(pick);
        }
        std::vector<int> label(members.size(), 0);
        for (int it = 0; it < 12; ++it) {
            for (std::size_t i = 0; i < members.size(); ++i) {
                double best = 1e300;
                for (std::size_t c = 0; c < centers.size(); ++c) {
                    const double d = std::hypot(drafts[members[i]].seed.x - centers[c].x, drafts[members[i]].seed.y - centers[c].y);
                    if (d < best) {
                        best = d;
                        label[i] = static_cast<int>(c);
                    }
                }
            }
            for (std::size_t c = 0; c < centers.size(); ++c) {
                Point s{0, 0};
                int n = 0;
                for (std::size_t i = 0; i < members.size(); ++i) {
                    if (label[i] == static_cast<int>(c)) {
                        s.x += drafts[members[i]].seed.x;
                        s.y += drafts[members[i]].seed.y;
                        ++n;
                    }
                }
                if (n > 0) centers[c] = {s.x / n, s.y / n};
            }
        }
        const bool street = std::string(towns[t].name).find("街道") != std::string::npos;
        std::vector<CommunityDraft> local(centers.size());
        for (std::size_t i = 0; i < members.size(); ++i) local[static_cast<std::size_t>(label[i])].grids.push_back(members[i]);
        // Communities numbered north→south, west→east like grids.
        for (std::size_t c = 0; c < local.size(); ++c) local[c].center = centers[c];
        std::sort(local.begin(), local.end(), [](const CommunityDraft& a, const CommunityDraft& b) {
            const double ra = std::floor((38.5 - a.center.y) / 0.03);
            const double rb = std::floor((38.5 - b.center.y) / 0.03);
            return ra != rb ? ra < rb : a.center.x < b.center.x;
        });
        for (auto& c : local) {
            if (c.grids.empty()) continue;
            c.town = static_cast<int>(t);
            c.name = community_name(rng, street, used_names);
            communities.push_back(std::move(c));
        }
    }

    // 5. Final geometry: densify and warp every grid, then build the parents as exact unions.
    Warp warp{options.warp_m, {}};
    for (double& ph : warp.phase) ph = rng.uniform(0, 2 * std::numbers::pi);

    DemoDistrict out;
    out.grids.name = "grids";
    out.grids.fields = {"code", "name", "community_code", "community", "town_code", "town", "district_code",
                        "district", "population", "households"};
    out.grids.field_types = {spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string,
                             spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string,
                             spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::integer,
                             spatial::FieldType::integer};
    out.communities.name = "communities";
    out.communities.fields = {"code", "name", "town_code", "town", "district_code", "district", "population"};
    out.communities.field_types = {spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string,
                                   spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string,
                                   spatial::FieldType::integer};
    out.towns.name = "towns";
    out.towns.fields = {"code", "name", "district_code", "district", "population"};
    out.towns.field_types = {spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string,
                             spatial::FieldType::string, spatial::FieldType::integer};
    out.district.name = "district";
    out.district.fields = {"code", "name", "population"};
    out.district.field_types = {spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::integer};
    const std::string district_code = "370614";
    const std::string district_name = "蓬莱区";

    auto union_of = [&](const std::vector<const MultiPolygon*>& parts) {
        std::vector<GEOSGeometry*> geoms;
        for (const MultiPolygon* mp : parts) geoms.push_back(spatial::to_geos(g.ctx, *mp).release());
        auto coll = g.own(GEOSGeom_createCollection_r(g.h, GEOS_GEOMETRYCOLLECTION, geoms.data(),
                                                      static_cast<unsigned>(geoms.size())),
                          "a collection");
        GEOSGeometry* u = GEOSCoverageUnion_r(g.h, coll.get());
        if (u == nullptr) u = GEOSUnaryUnion_r(g.h, coll.get());
        auto owned = g.own(u, "a union");
        return g.polys(owned.get());
    };

    std::vector<std::vector<std::size_t>> town_communities(towns.size());
    std::vector<long> town_pop(towns.size(), 0);
    long district_pop = 0;
    std::vector<int> community_seq(towns.size(), 0);
    for (std::size_t ci = 0; ci < communities.size(); ++ci) {
        CommunityDraft& c = communities[ci];
        const auto t = static_cast<std::size_t>(c.town);
        const std::string ccode = std::string(towns[t].code) + pad3(++community_seq[t]);
        // Grids numbered north→south in rows, west→east within a row.
        std::sort(c.grids.begin(), c.grids.end(), [&](std::size_t a, std::size_t b) {
            const double ra = std::floor((38.5 - drafts[a].seed.y) / 0.009);
            const double rb = std::floor((38.5 - drafts[b].seed.y) / 0.009);
            return ra != rb ? ra < rb : drafts[a].seed.x < drafts[b].seed.x;
        });
        long cpop = 0;
        std::vector<const MultiPolygon*> parts;
        int seq = 0;
        for (std::size_t gi : c.grids) {
            PolygonFeature f;
            f.id = ccode + pad3(++seq);
            f.geometry = reshape(drafts[gi].geometry, warp, options.densify_m);
            const long pop = std::lround(std::clamp(1000.0 + 130.0 * rng.normal(), 680.0, 1400.0));
            const long households = std::lround(pop / rng.uniform(2.6, 2.95));
            cpop += pop;
            f.values = {f.id, c.name + "第" + std::to_string(seq) + "网格", ccode, c.name, towns[t].code, towns[t].name,
                        district_code, district_name, std::to_string(pop), std::to_string(households)};
            out.grids.features.push_back(std::move(f));
        }
        const std::size_t first = out.grids.features.size() - c.grids.size();
        for (std::size_t k = first; k < out.grids.features.size(); ++k) parts.push_back(&out.grids.features[k].geometry);
        PolygonFeature cf;
        cf.id = ccode;
        cf.geometry = union_of(parts);
        cf.values = {ccode, c.name, towns[t].code, towns[t].name, district_code, district_name, std::to_string(cpop)};
        town_communities[t].push_back(out.communities.features.size());
        out.communities.features.push_back(std::move(cf));
        town_pop[t] += cpop;
        district_pop += cpop;
    }
    // Towns in code order.
    std::vector<std::size_t> order(towns.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return std::string(towns[a].code) < towns[b].code; });
    std::vector<const MultiPolygon*> all_towns;
    for (std::size_t t : order) {
        std::vector<const MultiPolygon*> parts;
        for (std::size_t ci : town_communities[t]) parts.push_back(&out.communities.features[ci].geometry);
        if (parts.empty()) continue;
        PolygonFeature tf;
        tf.id = towns[t].code;
        tf.geometry = union_of(parts);
        tf.values = {towns[t].code, towns[t].name, district_code, district_name, std::to_string(town_pop[t])};
        out.towns.features.push_back(std::move(tf));
    }
    for (const auto& tf : out.towns.features) all_towns.push_back(&tf.geometry);
    PolygonFeature df;
    df.id = district_code;
    df.geometry = union_of(all_towns);
    df.values = {district_code, district_name, std::to_string(district_pop)};
    out.district.features.push_back(std::move(df));
    return out;
}

void write_demo_district(const DemoDistrict& d, const std::string& gpkg_path) {
    spatial::write_polygon_layers(gpkg_path, {&d.district, &d.towns, &d.communities, &d.grids});
}

std::vector<spatial::PointRecord> demo_report_points(const DemoDistrict& d, std::size_t n, std::uint64_t seed) {
    Random rng(seed);
    Geos g;
    std::vector<double> cumulative;
    double total = 0;
    const auto pop_field = d.grids.field_index("population");
    for (const auto& f : d.grids.features) {
        total += pop_field ? std::stod(f.values[*pop_field]) : 1.0;
        cumulative.push_back(total);
    }
    Box extent = spatial::bounds(d.district.features.front().geometry);
    std::vector<GeosGeometryPtr> geoms;
    std::vector<const GEOSPreparedGeometry*> preps;
    for (const auto& f : d.grids.features) {
        geoms.push_back(g.geom(f.geometry));
        preps.push_back(GEOSPrepare_r(g.h, geoms.back().get()));
    }
    std::vector<spatial::PointRecord> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        spatial::PointRecord r;
        r.id = "R" + std::to_string(i + 1);
        if (rng.uniform() < 0.9) {
            const double pick = rng.uniform() * total;
            const auto gi = static_cast<std::size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), pick) - cumulative.begin());
            const Box b = spatial::bounds(d.grids.features[std::min(gi, geoms.size() - 1)].geometry);
            do {
                r.position = {rng.uniform(b.minx, b.maxx), rng.uniform(b.miny, b.maxy)};
            } while (!g.contains(preps[std::min(gi, geoms.size() - 1)], r.position));
        } else {
            r.position = {rng.uniform(extent.minx, extent.maxx), rng.uniform(extent.miny, extent.maxy)};
        }
        // Seven decimals, as phones report (about 1 cm).
        r.position.x = std::round(r.position.x * 1e7) / 1e7;
        r.position.y = std::round(r.position.y * 1e7) / 1e7;
        out.push_back(std::move(r));
    }
    for (auto* p : preps) GEOSPreparedGeom_destroy_r(g.h, p);
    return out;
}

std::vector<spatial::PointRecord> uniform_points(const DemoDistrict& d, std::size_t n, std::uint64_t seed) {
    Random rng(seed);
    const Box b = spatial::bounds(d.district.features.front().geometry);
    std::vector<spatial::PointRecord> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].id = "U" + std::to_string(i + 1);
        out[i].position = {std::round(rng.uniform(b.minx, b.maxx) * 1e7) / 1e7,
                           std::round(rng.uniform(b.miny, b.maxy) * 1e7) / 1e7};
    }
    return out;
}

void write_points_csv(const std::vector<spatial::PointRecord>& points, const std::string& path) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write '" + path + "'");
        out << "id,lon,lat\n";
        char buf[96];
        for (const auto& p : points) {
            std::snprintf(buf, sizeof buf, ",%.7f,%.7f\n", p.position.x, p.position.y);
            out << p.id << buf;
        }
        out.flush();
        if (!out) throw std::runtime_error("cannot write '" + path + "'");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace onegrid::data
