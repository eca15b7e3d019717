// Vector tiles: /tiles/{layers}/{z}/{x}/{y}.mvt (several layers in one tile), TileJSON 3.0.0 at
// /tiles/{layers}.json. Tiles are cached in memory and served gzip-compressed when the client
// accepts it; a tile stays cached while the data under it is unchanged.

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <charconv>
#include <nlohmann/json.hpp>

#include "app_internal.hpp"
#include "ogc_support.hpp"
#include "onegrid/spatial/geos.hpp"
#include "onegrid/spatial/mvt.hpp"

namespace onegrid::server {

using nlohmann::json;

namespace {

std::string gzip(const std::string& raw) {
    z_stream zs{};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out;
    out.resize(deflateBound(&zs, raw.size()) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

struct TileLayerInfo {
    std::string id;
    std::string description;
    json fields;
    int minzoom = 0;
    int maxzoom = 20;
};

// The layers a tile may hold: every stored polygon layer, and incidents.
std::vector<TileLayerInfo> tile_layers(App::Context& ctx) {
    std::vector<TileLayerInfo> out;
    for (const auto& l : ctx.store.layers()) {
        TileLayerInfo t;
        t.id = l.id;
        t.description = l.title;
        t.fields = {{"code", "String"}, {"name", "String"}, {"parent", "String"}};
        if (l.kind == core::LayerKind::base) {
            t.fields["population"] = "Number";
            t.fields["households"] = "Number";
            t.minzoom = 8;
        }
        out.push_back(t);
    }
    TileLayerInfo inc;
    inc.id = "incidents";
    inc.description = "incidents: counts per grid below zoom " + std::to_string(ctx.config.incident_detail_zoom) +
                      ", single incidents from there on";
    inc.fields = {{"id", "Number"},     {"category", "String"},        {"status", "String"}, {"grid", "String"},
                  {"count", "Number"},  {"open", "Number"},            {"overdue", "Boolean"},
                  {"escalation_level", "Number"}};
    out.push_back(inc);
    TileLayerInfo stats;
    stats.id = "grid-stats";
    stats.description = "the base grids with their indicators for a period (?period=YYYY-MM|YYYY-Www|YYYY-MM-DD|"
                        "YYYY-MM-DD/YYYY-MM-DD, default this month; &town=, &category=); see docs/indicators.md";
    stats.fields = {{"code", "String"}, {"name", "String"}, {"parent", "String"}, {"period", "String"}};
    for (const char* n : {"reported", "registered", "dispatched", "handled", "handled_in_time", "reworked", "due", "closed",
                          "closed_in_time", "overdue", "self_handled", "rated", "satisfied", "closing_rate", "closing_in_time_rate",
                          "handling_in_time_rate", "rework_rate", "satisfaction_rate", "mean_handling_hours"})
        stats.fields[n] = "Number";
    stats.minzoom = 8;
    out.push_back(stats);
    return out;
}

// The query string of the grid-stats parameters a request gave ("" or "?period=…&town=…").
std::string grid_stats_query(const Target& t) {
    std::string q;
    for (const auto& name : grid_stats_parameters()) {
        if (const auto v = t.param(name)) q += (q.empty() ? "?" : "&") + name + "=" + url_encode(*v);
    }
    return q;
}

std::vector<std::string> split_layers(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ',') {
            if (i > start) out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

std::optional<std::uint32_t> parse_uint(std::string_view s) {
    std::uint32_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// A point inside each grid polygon (for the per-grid counts), computed once per base version.
struct LabelPoints {
    int version = -1;
    std::unordered_map<std::string, spatial::Point> points;
};

std::shared_ptr<const LabelPoints> label_points(const LayerSnapshot& base) {
    static std::mutex mutex;
    static std::shared_ptr<const LabelPoints> cached;
    std::lock_guard lock(mutex);
    if (cached && cached->version == base.version) return cached;
    auto lp = std::make_shared<LabelPoints>();
    lp->version = base.version;
    spatial::GeosContext ctx;
    for (const auto& f : base.features) {
        auto g = spatial::to_geos(ctx, f.geometry);
        auto p = spatial::geos_owned(ctx, GEOSPointOnSurface_r(ctx.handle(), g.get()), "label point");
        spatial::Point pt;
        GEOSGeomGetX_r(ctx.handle(), p.get(), &pt.x);
        GEOSGeomGetY_r(ctx.handle(), p.get(), &pt.y);
        lp->points[f.code] = pt;
    }
    cached = lp;
    return cached;
}

void render_polygons(spatial::MvtLayer& layer, const LayerSnapshot& snap, const spatial::TileId& t) {
    const spatial::Box b = spatial::tile_bounds(t);
    // The buffer in degrees (80/4096 of a tile on each side).
    const double bx = b.width() * 0.02;
    const double by = b.height() * 0.02;
    const spatial::Box search{b.minx - bx, b.miny - by, b.maxx + bx, b.maxy + by};
    for (std::size_t i = 0; i < snap.features.size(); ++i) {
        if (!snap.boxes[i].intersects(search)) continue;
        const auto& f = snap.features[i];
        spatial::MvtProperties props = {{"code", f.code}, {"name", f.name}, {"parent", f.parent}};
        for (const char* k : {"population", "households"}) {
            auto it = f.properties.find(k);
            if (it != f.properties.end()) props.emplace_back(k, std::strtod(it->second.c_str(), nullptr));
        }
        layer.add_polygon(i + 1, f.geometry, props);
    }
}

void render_grid_stats(spatial::MvtLayer& layer, const GridStats& stats, const spatial::TileId& t) {
    const spatial::Box b = spatial::tile_bounds(t);
    const double bx = b.width() * 0.02;
    const double by = b.height() * 0.02;
    const spatial::Box search{b.minx - bx, b.miny - by, b.maxx + bx, b.maxy + by};
    const LayerSnapshot& grids = *stats.grids;
    for (std::size_t i = 0; i < grids.features.size(); ++i) {
        if (!grids.boxes[i].intersects(search)) continue;
        layer.add_polygon(i + 1, grids.features[i].geometry, grid_stats_properties(stats, i));
    }
}

void render_incidents(App::Context& ctx, spatial::MvtLayer& layer, const spatial::TileId& t, const Principal& who) {
    const spatial::Box b = spatial::tile_bounds(t);
    const core::Timestamp now = ctx.clock.now();
    if (t.z >= ctx.config.incident_detail_zoom) {
        // Thousands of points: keys are resolved once, and the values that repeat (states,
        // categories, grids) once per tile each.
        const std::uint32_t k_id = layer.key("id");
        const std::uint32_t k_category = layer.key("category");
        const std::uint32_t k_status = layer.key("status");
        const std::uint32_t k_grid = layer.key("grid");
        const std::uint32_t k_overdue = layer.key("overdue");
        const std::uint32_t k_escalation = layer.key("escalation_level");
        std::array<std::uint32_t, static_cast<std::size_t>(core::Status::rated) + 1> status_values;  // per state, by its number
        status_values.fill(std::numeric_limits<std::uint32_t>::max());
        ctx.incidents.for_each_in(b, [&](const detail::IncidentRow& r) {
            if (!visible_to(who, r)) return;
            const bool overdue = r.due_at && *r.due_at < now && core::is_open(r.status) && r.status != core::Status::handled;
            std::uint32_t& status = status_values[static_cast<std::size_t>(r.status)];
            if (status == std::numeric_limits<std::uint32_t>::max()) status = layer.value(core::to_string(r.status));
            const std::uint32_t tags[] = {k_id,      layer.value(static_cast<std::int64_t>(r.id)),
                                          k_category, layer.value(std::string_view(r.category)),
                                          k_status,   status,
                                          k_grid,     layer.value(std::string_view(r.grid)),
                                          k_overdue,  layer.value(overdue),
                                          k_escalation, layer.value(static_cast<std::int64_t>(r.escalation_level))};
            layer.add_point(static_cast<std::uint64_t>(r.id), r.location, tags);
        });
        return;
    }
    // Low zooms: one point per grid with its counts.
    const auto base = ctx.layers.at("grids", now);
    if (!base) return;
    const auto labels = label_points(*base);
    struct Counts {
        std::int64_t all = 0;
        std::int64_t open = 0;
        std::int64_t overdue = 0;
    };
    std::unordered_map<std::string, Counts> counts;
    const double bx = b.width() * 0.25;
    const double by = b.height() * 0.25;
    ctx.incidents.for_each_in({b.minx - bx, b.miny - by, b.maxx + bx, b.maxy + by}, [&](const detail::IncidentRow& r) {
        if (r.grid.empty() || !visible_to(who, r)) return;
        Counts& c = counts[r.grid];
        ++c.all;
        if (core::is_open(r.status)) ++c.open;
        if (r.due_at && *r.due_at < now && core::is_open(r.status) && r.status != core::Status::handled) ++c.overdue;
    });
    for (const auto& [grid, c] : counts) {
        auto it = labels->points.find(grid);
        if (it == labels->points.end()) continue;
        const auto idx = base->by_code.find(grid);
        layer.add_point(idx != base->by_code.end() ? idx->second + 1 : 0, it->second,
                        {{"grid", grid}, {"count", c.all}, {"open", c.open}, {"overdue", c.overdue > 0}});
    }
}

Reply tilejson(App::Context& ctx, const Call& call, const std::string& spec) {
    const auto names = split_layers(spec);
    std::string query;
    if (std::find(names.begin(), names.end(), "grid-stats") != names.end()) {
        ogc::check_parameters(call.target, grid_stats_parameters());
        (void)grid_stats(ctx, call.target);  // refuses bad parameters now rather than tile by tile
        query = grid_stats_query(call.target);
    }
    const auto all = tile_layers(ctx);
    json vector_layers = json::array();
    int minzoom = 30;
    for (const auto& n : names) {
        auto it = std::find_if(all.begin(), all.end(), [&](const TileLayerInfo& l) { return l.id == n; });
        if (it == all.end()) return error_reply(http::status::not_found, "not_found", "no tile layer '" + n + "'");
        vector_layers.push_back({{"id", it->id},
                                 {"description", it->description},
                                 {"fields", it->fields},
                                 {"minzoom", it->minzoom},
                                 {"maxzoom", ctx.config.max_tile_zoom}});
        minzoom = std::min(minzoom, it->minzoom);
    }
    spatial::Box extent;
    if (const auto geo = ctx.geography.get(); geo->base) extent = geo->base->index.bounds();
    json j;
    j["tilejson"] = "3.0.0";
    j["name"] = spec;
    j["scheme"] = "xyz";
    j["tiles"] = json::array({call.base + "/tiles/" + spec + "/{z}/{x}/{y}.mvt" + query});
    j["minzoom"] = 0;
    j["maxzoom"] = ctx.config.max_tile_zoom;
    j["vector_layers"] = vector_layers;
    if (!extent.empty()) {
        j["bounds"] = {extent.minx, extent.miny, extent.maxx, extent.maxy};
        j["center"] = {(extent.minx + extent.maxx) / 2, (extent.miny + extent.maxy) / 2, 9};
    }
    j["attribution"] = "OneGrid (synthetic demo data)";
    Reply r = json_reply(j.dump());
    r.header("Cache-Control", "public, max-age=60");
    return r;
}

Reply tile(App::Context& ctx, const Call& call);

}  // namespace

std::optional<Reply> tiles_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    if (p.empty() || p[0] != "tiles") return std::nullopt;
    if (call.req.method() != http::verb::get && call.req.method() != http::verb::head) {
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "tiles are read-only");
    }
    if (!ctx.config.public_reads && !call.who.authenticated) {
        return error_reply(http::status::unauthorized, "unauthorized", "reads need a token on this server");
    }
    if (p.size() == 1) {
        json list = json::array();
        for (const auto& l : tile_layers(ctx)) {
            list.push_back({{"id", l.id}, {"description", l.description},
                            {"tilejson", call.base + "/tiles/" + l.id + ".json"}});
        }
        return json_reply(json{{"tilesets", list}}.dump());
    }
    try {
        if (p.size() == 2 && p[1].size() > 5 && p[1].ends_with(".json")) return tilejson(ctx, call, p[1].substr(0, p[1].size() - 5));
        return tile(ctx, call);
    } catch (const ogc::bad_parameter& e) {
        return error_reply(http::status::bad_request, "invalid_parameter", e.what());
    }
}

namespace {

Reply tile(App::Context& ctx, const Call& call) {
    const auto& p = call.parts;
    if (p.size() != 5) return error_reply(http::status::not_found, "not_found", "tiles are at /tiles/{layers}/{z}/{x}/{y}.mvt");
    std::string ystr = p[4];
    for (const char* ext : {".mvt", ".pbf"})
        if (ystr.ends_with(ext)) ystr = ystr.substr(0, ystr.size() - 4);
    const auto z = parse_uint(p[2]);
    const auto x = parse_uint(p[3]);
    const auto y = parse_uint(ystr);
    if (!z || !x || !y) return error_reply(http::status::bad_request, "bad_tile", "z, x and y must be non-negative integers");
    const spatial::TileId t{static_cast<int>(*z), *x, *y};
    if (*z > static_cast<std::uint32_t>(ctx.config.max_tile_zoom) || !spatial::valid(t)) {
        return error_reply(http::status::bad_request, "bad_tile", "tile " + p[2] + "/" + p[3] + "/" + ystr + " does not exist");
    }
    const auto names = split_layers(p[1]);
    const auto known = tile_layers(ctx);
    bool has_incidents = false;
    bool has_stats = false;
    for (const auto& n : names) {
        if (std::none_of(known.begin(), known.end(), [&](const TileLayerInfo& l) { return l.id == n; })) {
            return error_reply(http::status::not_found, "not_found", "no tile layer '" + n + "'");
        }
        has_incidents = has_incidents || n == "incidents";
        has_stats = has_stats || n == "grid-stats";
    }
    std::shared_ptr<const GridStats> stats;
    if (has_stats) {
        ogc::check_parameters(call.target, grid_stats_parameters());
        stats = grid_stats(ctx, call.target);
    }
    // Departments see their own cases only: their tiles are cached apart.
    const std::string scope = call.who.is(core::Role::department_handler) ? call.who.department : "";
    const std::string key = p[1] + "/" + p[2] + "/" + p[3] + "/" + ystr + "#" + scope + (stats ? grid_stats_query(call.target) : "");
    std::uint64_t stamp = ctx.tiles.stamp(t, has_incidents);
    // Grid statistics change with any case of a grid reaching into the tile, and as deadlines pass.
    if (stats) stamp ^= (ctx.cases_version.load() << 20) ^ static_cast<std::uint64_t>(stats->as_of / core::ms_per_minute) << 1;
    const auto ae = call.req.find(http::field::accept_encoding);
    const bool gz = ae != call.req.end() && std::string_view(ae->value().data(), ae->value().size()).find("gzip") != std::string_view::npos;
    // A tile cache of size 0 caches nothing (TileCache itself always keeps the newest tile).
    const bool caching = ctx.config.tile_cache_bytes > 0;
    std::optional<CachedTile> tile = caching ? ctx.tiles.get(key, stamp) : std::nullopt;
    if (tile) {
        ++ctx.metrics.tile_hits;
    } else {
        ++ctx.metrics.tile_misses;
        std::vector<spatial::MvtLayer> layers;
        const core::Timestamp now = ctx.clock.now();
        for (const auto& n : names) {
            spatial::MvtLayer layer(n, t);
            if (n == "incidents") {
                render_incidents(ctx, layer, t, call.who);
            } else if (n == "grid-stats") {
                render_grid_stats(layer, *stats, t);
            } else if (auto snap = ctx.layers.at(n, now)) {
                render_polygons(layer, *snap, t);
            }
            layers.push_back(std::move(layer));
        }
        auto raw = std::make_shared<const std::string>(spatial::mvt_tile(layers));
        CachedTile c;
        c.raw = raw;
        // A cached tile keeps both codings; an uncached one is compressed only when asked for.
        if (caching || gz) c.gzip = std::make_shared<const std::string>(gzip(*raw));
        c.etag = etag_of(*raw);
        c.stamp = stamp;
        if (caching) ctx.tiles.put(key, c);
        tile = c;
    }
    // The gzip-coded representation is a different entity: it gets its own strong ETag.
    const std::string etag = gz ? tile->etag.substr(0, tile->etag.size() - 1) + "-gz\"" : tile->etag;
    const auto inm = call.req.find(http::field::if_none_match);
    if (inm != call.req.end() && etag_matches(std::string_view(inm->value().data(), inm->value().size()), etag)) {
        Reply r;
        r.status = http::status::not_modified;
        r.header("ETag", etag);
        r.header("Vary", "Accept-Encoding");
        return r;
    }
    Reply r;
    r.header("Content-Type", "application/vnd.mapbox-vector-tile");
    if (gz) {
        r.body = tile->gzip;
        r.header("Content-Encoding", "gzip");
    } else {
        r.body = tile->raw;
    }
    r.header("Vary", "Accept-Encoding");
    r.header("ETag", etag);
    r.header("Cache-Control", has_incidents || has_stats ? "public, max-age=30" : "public, max-age=3600");
    return r;
}

}  // namespace

}  // namespace onegrid::server
