// OGC API – Features: Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS by reference),
// Part 3 (queryables, CQL2 text filters). Collections: the base grid (versioned: `datetime` picks a
// past version), towns, communities, the district, every business layer, incidents, the crosswalk.

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cql2.hpp"
#include "ogc_support.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::server {

using detail::JsonWriter;
using nlohmann::json;
namespace o = ogc;

namespace {

const char* const conformance_classes[] = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
};

enum class Kind { layer, incidents, crosswalk, grid_stats };

struct Queryable {
    std::string name;
    std::string type;  // string, integer, number, boolean, date-time
    std::string title;
};

struct Collection {
    std::string id;
    std::string title;
    std::string description;
    Kind kind = Kind::layer;
    spatial::Box extent;
    std::vector<Queryable> queryables;
    std::shared_ptr<const LayerSnapshot> snapshot;  // layers: the version in force now
};

const std::set<std::string> numeric_properties = {"population", "households", "area_m2", "share"};

const std::vector<Queryable>& incident_queryables() {
    static const std::vector<Queryable> all = {{"id", "integer", "incident id"},        {"category", "string", "category code"},
            {"status", "string", "workflow state"},  {"source", "string", "where the report came from"},
            {"grid", "string", "base grid code"},    {"community", "string", "community code"},
            {"town", "string", "town/street code"},  {"department", "string", "responsible department"},
            {"escalation_level", "integer", "0–3"},  {"outside", "boolean", "outside the district"},
            {"reported_at", "date-time", "reported"}, {"updated_at", "date-time", "last change"}};
    return all;
}

Collection incidents_collection(App::Context& ctx) {
    Collection inc;
    inc.id = "incidents";
    inc.title = "事件 Incidents";
    inc.description = "Reported incidents with their grid, town, department and state (public fields)";
    inc.kind = Kind::incidents;
    if (const auto geo = ctx.geography.get(); geo->base) inc.extent = geo->base->index.bounds();
    inc.queryables = incident_queryables();
    return inc;
}

std::vector<Collection> collections(App::Context& ctx) {
    std::vector<Collection> out;
    const core::Timestamp now = ctx.clock.now();
    const auto layers = ctx.store.layers();
    auto order = [](const core::LayerInfo& l) {
        switch (l.kind) {
            case core::LayerKind::base: return 0;
            case core::LayerKind::town: return 1;
            case core::LayerKind::community: return 2;
            case core::LayerKind::district: return 3;
            default: return 4;
        }
    };
    std::vector<core::LayerInfo> sorted = layers;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) { return order(a) < order(b); });
    for (const auto& l : sorted) {
        auto snap = ctx.layers.at(l.id, now);
        if (!snap) continue;
        Collection c;
        c.id = l.id;
        c.title = l.title;
        c.description = std::string("Layer '") + l.id + "' (" + std::string(core::to_string(l.kind)) + "), version " +
                        std::to_string(snap->version) + (l.kind == core::LayerKind::base ? "; datetime selects a past version" : "");
        c.kind = Kind::layer;
        c.extent = snap->extent;
        c.snapshot = snap;
        c.queryables = {{"code", "string", "code"}, {"name", "string", "name"}, {"parent", "string", "containing unit"}};
        std::set<std::string> keys;
        for (const auto& f : snap->features)
            for (const auto& [k, v] : f.properties) keys.insert(k);
        for (const auto& k : keys) c.queryables.push_back({k, numeric_properties.count(k) ? "number" : "string", k});
        out.push_back(std::move(c));
    }
    out.push_back(incidents_collection(ctx));
    if (auto grids = ctx.layers.at("grids", now)) {
        Collection gs;
        gs.id = "grid-stats";
        gs.title = "网格统计 Grid statistics";
        gs.description = "The base grids with their indicators for a period: ?period=YYYY-MM, YYYY-Www, YYYY-MM-DD or "
                         "YYYY-MM-DD/YYYY-MM-DD (Beijing time; default: this month), &town=, &category= (a category or "
                         "major class). Counts and rates as defined in docs/indicators.md; a rate without data is absent";
        gs.kind = Kind::grid_stats;
        gs.extent = grids->extent;
        gs.snapshot = grids;
        gs.queryables = {{"code", "string", "grid code"}, {"name", "string", "grid name"}, {"parent", "string", "community"},
                         {"period", "string", "the period's label"}};
        for (const char* n : {"reported", "registered", "dispatched", "handled", "handled_in_time", "reworked", "due", "closed",
                              "closed_in_time", "overdue", "self_handled", "rated", "satisfied"})
            gs.queryables.push_back({n, "integer", n});
        for (const char* n : {"closing_rate", "closing_in_time_rate", "handling_in_time_rate", "rework_rate", "satisfaction_rate",
                              "mean_handling_hours"})
            gs.queryables.push_back({n, "number", n});
        out.push_back(std::move(gs));
    }
    {
        std::lock_guard lock(ctx.crosswalk_mutex);
        if (!ctx.crosswalks.empty()) {
            Collection cw;
            cw.id = "crosswalk";
            cw.title = "一网统筹 Crosswalk";
            cw.description = "For every base grid, the business units of each business layer it lies in, with area shares";
            cw.kind = Kind::crosswalk;
            if (const auto geo = ctx.geography.get(); geo->base) cw.extent = geo->base->index.bounds();
            cw.queryables = {{"layer", "string", "business layer"},
                             {"base", "string", "base grid code"},
                             {"business", "string", "business unit code"},
                             {"share", "number", "share of the base grid's area"},
                             {"split", "boolean", "the base grid is split by a business boundary"}};
            out.push_back(std::move(cw));
        }
    }
    return out;
}

std::shared_ptr<const Collection> find_collection(App::Context& ctx, const std::string& id) {
    // The most asked for, and independent of the layers (listing those reads the store and every
    // feature's properties); "incidents" is the incident layer for tiles too. It depends on the
    // geography only (its extent), so it is made once per geography.
    if (id == "incidents") {
        static std::mutex mutex;
        static std::shared_ptr<const core::Geography> made_for;
        static std::shared_ptr<const Collection> made;
        const auto geo = ctx.geography.get();
        std::lock_guard lock(mutex);
        if (!made || made_for != geo) {
            made = std::make_shared<const Collection>(incidents_collection(ctx));
            made_for = geo;
        }
        return made;
    }
    for (auto& c : collections(ctx))
        if (c.id == id) return std::make_shared<const Collection>(std::move(c));
    return nullptr;
}

json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l = {{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}

std::vector<std::string> crs_list() {
    std::vector<std::string> out;
    for (const auto& c : o::supported_crs()) out.push_back(c.uri);
    return out;
}

json collection_json(const Call& call, const Collection& c) {
    const std::string base = call.base + "/collections/" + url_encode(c.id);
    json j;
    j["id"] = c.id;
    j["title"] = c.title;
    j["description"] = c.description;
    j["itemType"] = "feature";
    if (!c.extent.empty()) {
        j["extent"]["spatial"] = {{"bbox", json::array({json::array({c.extent.minx, c.extent.miny, c.extent.maxx, c.extent.maxy})})},
                                  {"crs", o::crs84}};
    }
    j["crs"] = crs_list();
    j["storageCrs"] = "http://www.opengis.net/def/crs/EPSG/0/4490";
    j["links"] = json::array({
        link(base + "/items", "items", "application/geo+json", c.title),
        link(base + "/items?f=html", "items", "text/html", c.title),
        link(base, "self", "application/json"),
        link(base + "?f=html", "alternate", "text/html"),
        link(base + "/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json"),
        // GDAL 3.6 reads the camel-case relation; the registered one is lower case.
        link(base + "/schema", "describedBy", "application/schema+json"),
        link(base + "/schema", "describedby", "application/schema+json"),
    });
    if (c.kind != Kind::crosswalk) {
        const std::string tiles = call.base + "/tiles/" + url_encode(c.id);
        j["links"].push_back(link(tiles + ".json", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json",
                                  "TileJSON"));
    }
    return j;
}

// ---- HTML -----------------------------------------------------------------------------------------

std::string page(const std::string& title, const std::string& body) {
    return "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
           "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.2em .5em;font-size:.9em}code{background:#eee}</style></head><body>"
           "<p><a href=\"/\">OneGrid</a> · <a href=\"/collections?f=html\">collections</a> · <a href=\"/api?f=html\">API</a>"
           " · <a href=\"/planner/\">planner</a> · <a href=\"/dashboard/\">dashboard</a></p><h1>" +
           html_escape(title) + "</h1>" + body + "</body></html>";
}

Reply html(std::string body) { return Reply(http::status::ok, "text/html; charset=utf-8", std::move(body)); }

// ---- features -----------------------------------------------------------------------------------

bool polygon_meets_box(const spatial::MultiPolygon& mp, const spatial::Box& b, const spatial::Box& fb) {
    if (!fb.intersects(b)) return false;
    if (b.contains({fb.minx, fb.miny}) && b.contains({fb.maxx, fb.maxy})) return true;
    spatial::GeosContext ctx;
    auto g = spatial::to_geos(ctx, mp);
    auto box = spatial::to_geos(ctx, spatial::Polygon{{{b.minx, b.miny}, {b.maxx, b.miny}, {b.maxx, b.maxy}, {b.minx, b.maxy}}, {}});
    return GEOSIntersects_r(ctx.handle(), g.get(), box.get()) == 1;
}

cql2::Value layer_value(const core::LayerFeature& f, const std::string& p) {
    if (p == "code") return f.code;
    if (p == "name") return f.name;
    if (p == "parent") return f.parent;
    auto it = f.properties.find(p);
    if (it == f.properties.end()) return std::monostate{};
    if (numeric_properties.count(p)) {
        char* end = nullptr;
        const double d = std::strtod(it->second.c_str(), &end);
        if (end != nullptr && *end == '\0') return d;
    }
    return it->second;
}

void write_layer_feature(JsonWriter& w, const core::LayerFeature& f, int version, const o::CrsConverter& conv) {
    w.begin_object().key("type").value("Feature").key("id").value(f.code).key("geometry");
    o::write_polygon(w, f.geometry, conv);
    w.key("properties").begin_object().key("code").value(f.code).key("name").value(f.name).key("parent").value(f.parent);
    w.key("version").value(version);
    for (const auto& [k, v] : f.properties) {
        w.key(k);
        const cql2::Value val = layer_value(f, k);
        if (const auto* d = std::get_if<double>(&val)) {
            w.value(*d);
        } else {
            w.value(v);
        }
    }
    w.end_object().end_object();
}

cql2::Value incident_value(const App::Context&, const detail::IncidentRow& r, const std::string& p) {
    if (p == "id") return static_cast<double>(r.id);
    if (p == "category") return r.category;
    if (p == "status") return std::string(core::to_string(r.status));
    if (p == "source") return std::string(core::to_string(r.source));
    if (p == "grid") return r.grid.empty() ? cql2::Value{} : cql2::Value{r.grid};
    if (p == "community") return r.community.empty() ? cql2::Value{} : cql2::Value{r.community};
    if (p == "town") return r.town.empty() ? cql2::Value{} : cql2::Value{r.town};
    if (p == "department") return r.department.empty() ? cql2::Value{} : cql2::Value{r.department};
    if (p == "escalation_level") return static_cast<double>(r.escalation_level);
    if (p == "outside") return r.outside;
    if (p == "reported_at") return cql2::Time{r.reported_at};
    if (p == "updated_at") return cql2::Time{r.updated_at};
    return std::monostate{};
}

void write_incident_feature(JsonWriter& w, const App::Context::CategoryMap& categories, const detail::IncidentRow& r,
                            const o::CrsConverter& conv, core::Timestamp now) {
    w.begin_object().key("type").value("Feature").key("id").value(static_cast<std::int64_t>(r.id)).key("geometry");
    o::write_point(w, r.location, conv);
    w.key("properties").begin_object();
    w.key("id").value(static_cast<std::int64_t>(r.id));
    w.key("category").value(r.category).key("category_name").value(category_name(categories, r.category));
    w.key("status").value(core::to_string(r.status)).key("status_zh").value(core::label_zh(r.status));
    w.key("source").value(core::to_string(r.source));
    auto opt = [&](const std::string& v) {
        if (v.empty()) {
            w.null();
        } else {
            w.value(v);
        }
    };
    w.key("grid");
    opt(r.grid);
    w.key("community");
    opt(r.community);
    w.key("town");
    opt(r.town);
    w.key("department");
    opt(r.department);
    w.key("sub_unit");
    opt(r.sub_unit);
    w.key("reported_at").timestamp(r.reported_at);
    w.key("updated_at").timestamp(r.updated_at);
    w.key("due_at");
    if (r.due_at) {
        w.timestamp(*r.due_at);
    } else {
        w.null();
    }
    w.key("escalation_level").value(r.escalation_level);
    w.key("outside").value(r.outside);
    w.key("overdue").value(r.due_at && *r.due_at < now && core::is_open(r.status) && r.status != core::Status::handled);
    w.end_object().end_object();
}

/// A queryable given as a query parameter (`?population=1000`) against a feature's value: text
/// compares as text, numbers as numbers.
bool equals_parameter(const cql2::Value& value, const std::string& wanted) {
    if (const auto* text = std::get_if<std::string>(&value)) return *text == wanted;
    if (const auto* d = std::get_if<double>(&value)) {
        char* end = nullptr;
        const double number = std::strtod(wanted.c_str(), &end);
        return end != wanted.c_str() && *end == '\0' && *d == number;
    }
    return false;
}

std::unique_ptr<cql2::Expression> parse_filter(const Call& call, const Collection& c) {
    const auto f = call.target.param("filter");
    const auto lang = call.target.param("filter-lang");
    const auto fcrs = call.target.param("filter-crs");
    if (!f) {
        if (lang || fcrs) throw o::bad_parameter("filter-lang / filter-crs given without filter");
        return nullptr;
    }
    if (lang && *lang != "cql2-text") throw o::bad_parameter("filter-lang '" + *lang + "' is not supported (cql2-text)");
    std::set<std::string> names{"geometry", "geom"};
    for (const auto& q : c.queryables) names.insert(q.name);
    cql2::CoordinateTransform transform;
    std::shared_ptr<o::CrsConverter> conv;
    if (fcrs) {
        const auto crs = o::find_crs(*fcrs);
        if (!crs) throw o::bad_parameter("filter-crs '" + *fcrs + "' is not supported");
        conv = std::make_shared<o::CrsConverter>(*crs);
        transform = [conv](double a, double b) { return conv->in(a, b); };
    }
    try {
        return cql2::parse(*f, names, transform);
    } catch (const cql2::filter_error& e) {
        throw o::bad_parameter(e.what());
    }
}

std::vector<std::string> items_parameters(const Collection& c) {
    std::vector<std::string> p = {"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs"};
    for (const auto& q : c.queryables) p.push_back(q.name);
    return p;
}

/// The start of a FeatureCollection's body: items handlers append their features to it
/// (comma-separated) and a closing ']', and feature_collection completes it in place.
constexpr std::string_view collection_head = R"({"type":"FeatureCollection","features":[)";

Reply feature_collection(const Call& call, const Collection& c, std::size_t matched, std::size_t offset, std::size_t limit,
                         std::string body, std::size_t returned, const o::Crs& crs, const std::string& fmt,
                         core::Timestamp now) {
    if (fmt == "text/html") {
        // A readable list; the JSON is a click away.
        const std::string_view features_json = std::string_view(body).substr(collection_head.size() - 1);
        std::string html_body = "<p>" + std::to_string(matched) + " features match; showing " + std::to_string(returned) +
                                " from " + std::to_string(offset + 1) + ".</p><p><a href=\"" +
                                html_escape(o::page_href(call, offset, limit)) + "&f=json\">GeoJSON</a></p><pre>" +
                                html_escape(std::string(features_json.substr(0, 20000))) + "</pre>";
        if (offset + returned < matched) {
            html_body += "<p><a href=\"" + html_escape(o::page_href(call, offset + limit, limit)) + "\">next page</a></p>";
        }
        return html(page(c.title, html_body));
    }
    JsonWriter w(body, JsonWriter::continuing_object);
    w.key("numberMatched").value(static_cast<std::int64_t>(matched));
    w.key("numberReturned").value(static_cast<std::int64_t>(returned));
    w.key("timeStamp").timestamp(now);
    w.key("links").begin_array();
    auto l = [&](const std::string& href, const char* rel, const char* type) {
        w.begin_object().key("href").value(href).key("rel").value(rel).key("type").value(type).end_object();
    };
    const std::string self = o::page_href(call, offset, limit);
    l(self, "self", "application/geo+json");
    l(self + "&f=html", "alternate", "text/html");
    if (offset + returned < matched) l(o::page_href(call, offset + limit, limit), "next", "application/geo+json");
    if (offset > 0) l(o::page_href(call, offset > limit ? offset - limit : 0, limit), "prev", "application/geo+json");
    l(call.base + "/collections/" + url_encode(c.id), "collection", "application/json");
    w.end_array().end_object();
    Reply r(http::status::ok, "application/geo+json", std::move(body));
    r.header("Content-Crs", "<" + crs.uri + ">");
    return o::with_etag(call.req, std::move(r));
}

Reply layer_items(App::Context& ctx, const Call& call, const Collection& c, const std::string& fmt) {
    o::check_parameters(call.target, items_parameters(c));
    const std::size_t limit = o::parse_limit(call.target, ctx.config.default_items, ctx.config.max_items);
    const std::size_t offset = o::parse_offset(call.target);
    const auto bbox = o::parse_bbox(call.target);
    const auto crs = o::output_crs(call.target);
    const auto when = o::parse_datetime(call.target);
    const auto filter = parse_filter(call, c);
    const core::Timestamp now = ctx.clock.now();
    auto snap = c.snapshot;
    if (when) {
        // The version in force at the end of the interval (or at the instant).
        snap = ctx.layers.at(c.id, when->to.value_or(now));
        if (!snap) {
            return feature_collection(call, c, 0, offset, limit, std::string(collection_head) + "]", 0, crs, fmt, now);
        }
    }
    std::vector<std::pair<std::string, std::string>> equals;
    for (const auto& q : c.queryables)
        if (auto v = call.target.param(q.name)) equals.emplace_back(q.name, *v);
    const o::CrsConverter conv(crs);
    std::string features(collection_head);
    std::size_t matched = 0;
    std::size_t returned = 0;
    for (std::size_t i = 0; i < snap->features.size(); ++i) {
        const auto& f = snap->features[i];
        if (bbox && !polygon_meets_box(f.geometry, *bbox, snap->boxes[i])) continue;
        bool ok = true;
        for (const auto& [k, v] : equals) {
            if (!equals_parameter(layer_value(f, k), v)) ok = false;
        }
        if (!ok) continue;
        if (filter) {
            cql2::Feature cf{[&](const std::string& p) { return layer_value(f, p); },
                             [&](const cql2::SpatialLiteral& lit) { return lit.intersects_polygon(f.geometry); }};
            if (filter->evaluate(cf) != true) continue;
        }
        if (matched >= offset && returned < limit) {
            if (returned > 0) features += ',';
            JsonWriter fw(features);
            write_layer_feature(fw, f, snap->version, conv);
            ++returned;
        }
        ++matched;
    }
    features += ']';
    return feature_collection(call, c, matched, offset, limit, std::move(features), returned, crs, fmt, now);
}

std::optional<core::Status> status_param(const std::string& v) {
    if (auto s = core::parse_status(v)) return s;
    throw o::bad_parameter("status '" + v + "' is not a workflow state");
}

Reply incident_items(App::Context& ctx, const Call& call, const Collection& c, const std::string& fmt) {
    o::check_parameters(call.target, items_parameters(c));
    const std::size_t limit = o::parse_limit(call.target, ctx.config.default_items, ctx.config.max_items);
    const std::size_t offset = o::parse_offset(call.target);
    const auto crs = o::output_crs(call.target);
    detail::IncidentIndex::Query q;
    q.bbox = o::parse_bbox(call.target);
    q.offset = offset;
    q.limit = limit;
    if (const auto when = o::parse_datetime(call.target)) {
        q.reported_from = when->from;
        q.reported_to = when->to;
    }
    auto list = [](const std::string& v) {
        std::vector<std::string> out;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= v.size(); ++i) {
            if (i == v.size() || v[i] == ',') {
                if (i > start) out.push_back(v.substr(start, i - start));
                start = i + 1;
            }
        }
        return out;
    };
    if (auto v = call.target.param("status"))
        for (const auto& s : list(*v)) q.statuses.insert(*status_param(s));
    if (auto v = call.target.param("category"))
        for (const auto& s : list(*v)) q.categories.insert(s);
    if (auto v = call.target.param("grid")) q.grid = *v;
    if (auto v = call.target.param("town")) q.town = *v;
    if (auto v = call.target.param("community")) q.community = *v;
    if (auto v = call.target.param("department")) q.department = *v;
    std::optional<core::Source> source;
    if (auto v = call.target.param("source")) {
        source = core::parse_source(*v);
        if (!source) throw o::bad_parameter("source '" + *v + "' is not a report source");
    }
    std::optional<std::int64_t> id_eq;
    if (auto v = call.target.param("id")) {
        char* end = nullptr;
        id_eq = std::strtoll(v->c_str(), &end, 10);
        if (end == nullptr || *end != '\0') throw o::bad_parameter("id must be an integer");
    }
    std::optional<bool> outside_eq;
    if (auto v = call.target.param("outside")) {
        if (*v != "true" && *v != "false") throw o::bad_parameter("outside must be true or false");
        outside_eq = *v == "true";
    }
    std::optional<int> level_eq;
    if (auto v = call.target.param("escalation_level")) level_eq = std::atoi(v->c_str());
    for (const char* p : {"reported_at", "updated_at"})
        if (call.target.has(p)) throw o::bad_parameter(std::string(p) + " is queryable through filter or datetime");
    const auto filter = parse_filter(call, c);
    const Principal who = call.who;
    const auto extra = [&](const detail::IncidentRow& r) {
        if (!visible_to(who, r)) return false;
        if (source && r.source != *source) return false;
        if (id_eq && r.id != *id_eq) return false;
        if (outside_eq && r.outside != *outside_eq) return false;
        if (level_eq && r.escalation_level != *level_eq) return false;
        if (filter) {
            cql2::Feature cf{[&](const std::string& p) { return incident_value(ctx, r, p); },
                             [&](const cql2::SpatialLiteral& lit) { return lit.intersects_point(r.location); }};
            if (filter->evaluate(cf) != true) return false;
        }
        return true;
    };
    // Without filters beyond the box, the index counts the matches without reading the rows.
    if (!sees_every_incident(who) || source || id_eq || outside_eq || level_eq || filter) q.extra = extra;
    const auto result = ctx.incidents.query(q);
    const o::CrsConverter conv(crs);
    const core::Timestamp now = ctx.clock.now();
    const auto categories = ctx.category_map();
    std::string features(collection_head);
    features.reserve(640 * result.rows.size() + 16);  // a feature is about 500 bytes
    for (std::size_t i = 0; i < result.rows.size(); ++i) {
        if (i > 0) features += ',';
        JsonWriter w(features);
        write_incident_feature(w, *categories, result.rows[i], conv, now);
    }
    features += ']';
    return feature_collection(call, c, result.matched, offset, limit, std::move(features), result.rows.size(), crs, fmt, now);
}

Reply crosswalk_items(App::Context& ctx, const Call& call, const Collection& c, const std::string& fmt) {
    o::check_parameters(call.target, items_parameters(c));
    const std::size_t limit = o::parse_limit(call.target, ctx.config.default_items, ctx.config.max_items);
    const std::size_t offset = o::parse_offset(call.target);
    const auto bbox = o::parse_bbox(call.target);
    const auto crs = o::output_crs(call.target);
    const auto filter = parse_filter(call, c);
    const auto geo = ctx.geography.get();
    std::map<std::string, std::shared_ptr<const core::Crosswalk>> all;
    {
        std::lock_guard lock(ctx.crosswalk_mutex);
        all = ctx.crosswalks;
    }
    std::map<std::string, std::uint32_t> base_index;
    for (std::uint32_t i = 0; i < geo->base->index.size(); ++i) base_index[geo->base->index.unit(i).code] = i;
    const o::CrsConverter conv(crs);
    std::string features(collection_head);
    std::size_t matched = 0;
    std::size_t returned = 0;
    const auto layer_eq = call.target.param("layer");
    const auto base_eq = call.target.param("base");
    const auto business_eq = call.target.param("business");
    const auto split_eq = call.target.param("split");
    for (const auto& [layer, cw] : all) {
        if (layer_eq && *layer_eq != layer) continue;
        const std::set<std::string> split(cw->misaligned.begin(), cw->misaligned.end());
        for (const auto& row : cw->rows) {
            if (base_eq && *base_eq != row.base) continue;
            if (business_eq && *business_eq != row.business) continue;
            const bool is_split = split.count(row.base) > 0;
            if (split_eq && (*split_eq == "true") != is_split) continue;
            auto bi = base_index.find(row.base);
            if (bi == base_index.end()) continue;
            const auto& geom = geo->base->index.geometry(bi->second);
            if (bbox && !polygon_meets_box(geom, *bbox, spatial::bounds(geom))) continue;
            if (filter) {
                cql2::Feature cf{[&](const std::string& p) -> cql2::Value {
                                     if (p == "layer") return layer;
                                     if (p == "base") return row.base;
                                     if (p == "business") return row.business;
                                     if (p == "share") return row.share;
                                     if (p == "split") return is_split;
                                     return std::monostate{};
                                 },
                                 [&](const cql2::SpatialLiteral& lit) { return lit.intersects_polygon(geom); }};
                if (filter->evaluate(cf) != true) continue;
            }
            if (matched >= offset && returned < limit) {
                if (returned > 0) features += ',';
                JsonWriter w(features);
                w.begin_object().key("type").value("Feature").key("id").value(layer + ":" + row.base + ":" + row.business);
                w.key("geometry");
                o::write_polygon(w, geom, conv);
                w.key("properties").begin_object().key("layer").value(layer).key("base").value(row.base);
                w.key("business").value(row.business).key("share").value(row.share).key("area_m2").value(row.area_m2);
                w.key("split").value(is_split).end_object().end_object();
                ++returned;
            }
            ++matched;
        }
    }
    features += ']';
    return feature_collection(call, c, matched, offset, limit, std::move(features), returned, crs, fmt, ctx.clock.now());
}

cql2::Value stats_value(const spatial::MvtProperties& props, const std::string& name) {
    for (const auto& [k, v] : props) {
        if (k != name) continue;
        if (const auto* str = std::get_if<std::string>(&v)) return *str;
        if (const auto* d = std::get_if<double>(&v)) return *d;
        if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
        if (const auto* b = std::get_if<bool>(&v)) return *b;
    }
    return std::monostate{};
}

void write_stats_feature(JsonWriter& w, const core::LayerFeature& f, const spatial::MvtProperties& props, const o::CrsConverter& conv) {
    w.begin_object().key("type").value("Feature").key("id").value(f.code).key("geometry");
    o::write_polygon(w, f.geometry, conv);
    w.key("properties").begin_object();
    for (const auto& [k, v] : props) {
        w.key(k);
        if (const auto* str = std::get_if<std::string>(&v)) {
            w.value(*str);
        } else if (const auto* d = std::get_if<double>(&v)) {
            w.value(*d);
        } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
            w.value(*i);
        } else {
            w.value(std::get<bool>(v));
        }
    }
    w.end_object().end_object();
}

Reply grid_stats_items(App::Context& ctx, const Call& call, const Collection& c, const std::string& fmt) {
    auto allowed = items_parameters(c);
    allowed.insert(allowed.end(), grid_stats_parameters().begin(), grid_stats_parameters().end());
    o::check_parameters(call.target, allowed);
    if (call.target.has("datetime")) throw o::bad_parameter("datetime: the grid statistics choose their period with period=");
    const std::size_t limit = o::parse_limit(call.target, ctx.config.default_items, ctx.config.max_items);
    const std::size_t offset = o::parse_offset(call.target);
    const auto bbox = o::parse_bbox(call.target);
    const auto crs = o::output_crs(call.target);
    const auto filter = parse_filter(call, c);
    const auto stats = grid_stats(ctx, call.target);
    const auto& grids = *stats->grids;
    std::vector<std::pair<std::string, std::string>> equals;
    for (const auto& q : c.queryables)
        if (auto v = call.target.param(q.name)) equals.emplace_back(q.name, *v);
    const o::CrsConverter conv(crs);
    std::string features(collection_head);
    std::size_t matched = 0;
    std::size_t returned = 0;
    for (std::size_t i = 0; i < grids.features.size(); ++i) {
        const auto& f = grids.features[i];
        if (bbox && !polygon_meets_box(f.geometry, *bbox, grids.boxes[i])) continue;
        const auto props = grid_stats_properties(*stats, i);
        bool ok = true;
        for (const auto& [k, v] : equals) {
            if (!equals_parameter(stats_value(props, k), v)) ok = false;
        }
        if (!ok) continue;
        if (filter) {
            cql2::Feature cf{[&](const std::string& p) { return stats_value(props, p); },
                             [&](const cql2::SpatialLiteral& lit) { return lit.intersects_polygon(f.geometry); }};
            if (filter->evaluate(cf) != true) continue;
        }
        if (matched >= offset && returned < limit) {
            if (returned > 0) features += ',';
            JsonWriter fw(features);
            write_stats_feature(fw, f, props, conv);
            ++returned;
        }
        ++matched;
    }
    features += ']';
    return feature_collection(call, c, matched, offset, limit, std::move(features), returned, crs, fmt, ctx.clock.now());
}

Reply single_feature(App::Context& ctx, const Call& call, const Collection& c, const std::string& fid, const std::string& fmt) {
    std::vector<std::string> allowed = {"f", "crs"};
    if (c.kind == Kind::grid_stats) allowed.insert(allowed.end(), grid_stats_parameters().begin(), grid_stats_parameters().end());
    o::check_parameters(call.target, allowed);
    const auto crs = o::output_crs(call.target);
    const o::CrsConverter conv(crs);
    std::string out;
    JsonWriter w(out);
    const std::string self = call.base + "/collections/" + url_encode(c.id) + "/items/" + url_encode(fid);
    if (c.kind == Kind::layer) {
        auto it = c.snapshot->by_code.find(fid);
        if (it == c.snapshot->by_code.end()) return error_reply(http::status::not_found, "not_found", "no feature '" + fid + "' in " + c.id);
        write_layer_feature(w, c.snapshot->features[it->second], c.snapshot->version, conv);
    } else if (c.kind == Kind::incidents) {
        char* end = nullptr;
        const long long id = std::strtoll(fid.c_str(), &end, 10);
        const auto row = (end != nullptr && *end == '\0') ? ctx.incidents.get(id) : std::nullopt;
        if (!row || !visible_to(call.who, *row)) {
            return error_reply(http::status::not_found, "not_found", "no incident '" + fid + "'");
        }
        write_incident_feature(w, *ctx.category_map(), *row, conv, ctx.clock.now());
    } else if (c.kind == Kind::grid_stats) {
        const auto stats = grid_stats(ctx, call.target);
        auto it = stats->grids->by_code.find(fid);
        if (it == stats->grids->by_code.end()) return error_reply(http::status::not_found, "not_found", "no grid '" + fid + "'");
        write_stats_feature(w, stats->grids->features[it->second], grid_stats_properties(*stats, it->second), conv);
    } else {
        return error_reply(http::status::not_found, "not_found", "crosswalk rows are listed through items");
    }
    // Add the links to the written feature.
    out.pop_back();
    out += ",\"links\":[{\"href\":\"" + self + "\",\"rel\":\"self\",\"type\":\"application/geo+json\"},{\"href\":\"" + self +
           "?f=html\",\"rel\":\"alternate\",\"type\":\"text/html\"},{\"href\":\"" + call.base + "/collections/" +
           url_encode(c.id) + "\",\"rel\":\"collection\",\"type\":\"application/json\"}]}";
    if (fmt == "text/html") return html(page(c.title + " · " + fid, "<pre>" + html_escape(out) + "</pre>"));
    Reply r(http::status::ok, "application/geo+json", std::move(out));
    r.header("Content-Crs", "<" + crs.uri + ">");
    return o::with_etag(call.req, std::move(r));
}

json queryables_json(const Call& call, const Collection& c) {
    json j;
    j["$schema"] = "https://json-schema.org/draft/2019-09/schema";
    j["$id"] = call.base + "/collections/" + url_encode(c.id) + "/queryables";
    j["type"] = "object";
    j["title"] = c.title;
    json props = json::object();
    for (const auto& q : c.queryables) {
        json p = {{"title", q.title}};
        if (q.type == "date-time") {
            p["type"] = "string";
            p["format"] = "date-time";
        } else {
            p["type"] = q.type;
        }
        if (q.name == "status") {
            json e = json::array();
            for (auto s : {"reported", "registered", "voided", "dispatched", "accepted", "returned", "handled", "rework",
                           "closed", "rated"})
                e.push_back(s);
            p["enum"] = e;
        }
        props[q.name] = p;
    }
    props["geometry"] = {{"format", c.kind == Kind::incidents ? "geometry-point" : "geometry-multipolygon"}};
    j["properties"] = props;
    j["additionalProperties"] = false;
    return j;
}

json schema_json(const Call& call, const Collection& c) {
    // A GeoJSON Feature schema: how GDAL learns field types before reading data.
    json props = json::object();
    auto add = [&](const std::string& n, const std::string& t) {
        json p;
        if (t == "date-time") {
            p["type"] = "string";
            p["format"] = "date-time";
        } else {
            p["type"] = t;
        }
        props[n] = p;
    };
    if (c.kind == Kind::incidents) {
        // The incident id is the feature id; listing it again would give clients two id fields.
        for (const auto& q : c.queryables)
            if (q.name != "id") add(q.name, q.type);
        for (const char* n : {"category_name", "status_zh", "sub_unit"}) add(n, "string");
        add("due_at", "date-time");
        add("overdue", "boolean");
    } else if (c.kind == Kind::layer) {
        for (const auto& q : c.queryables) add(q.name, q.type);
        add("version", "integer");
    } else if (c.kind == Kind::grid_stats) {
        for (const auto& q : c.queryables) add(q.name, q.type);
    } else {
        for (const auto& q : c.queryables) add(q.name, q.type);
        add("area_m2", "number");
    }
    json j;
    j["$schema"] = "https://json-schema.org/draft/2019-09/schema";
    j["$id"] = call.base + "/collections/" + url_encode(c.id) + "/schema";
    j["type"] = "object";
    j["properties"] = {{"type", {{"type", "string"}}}, {"geometry", {{"type", "object"}}},
                       {"properties", {{"type", "object"}, {"properties", props}}}};
    return j;
}

}  // namespace

json openapi_document(App::Context& ctx, const std::string& base);

std::optional<Reply> ogc_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    const bool get = call.req.method() == http::verb::get || call.req.method() == http::verb::head;
    const bool root = p.empty();
    const bool known = root || p[0] == "api" || p[0] == "conformance" || p[0] == "collections";
    if (!known) return std::nullopt;
    if (!get) {
        return error_reply(http::status::method_not_allowed, "method_not_allowed",
                           std::string(call.req.method_string()) + " is not allowed on " + call.target.path);
    }
    if (!ctx.config.public_reads && !call.who.authenticated) {
        return error_reply(http::status::unauthorized, "unauthorized", "reads need a token on this server");
    }
    try {
        const bool items = p.size() >= 3 && p[0] == "collections" && p[2] == "items";
        const auto fmt = o::format(call, items);
        if (root) {
            o::check_parameters(call.target, {"f"});
            json j;
            j["title"] = "OneGrid";
            j["description"] = "Grid-based community governance: grids, incidents and business layers (OGC API – Features)";
            j["links"] = json::array({
                link(call.base + "/", "self", "application/json"),
                link(call.base + "/?f=html", "alternate", "text/html"),
                link(call.base + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "OpenAPI 3.0"),
                link(call.base + "/api?f=html", "service-doc", "text/html", "API documentation"),
                link(call.base + "/conformance", "conformance", "application/json"),
                link(call.base + "/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json"),
                link(call.base + "/collections", "data", "application/json"),
                link(call.base + "/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", "application/json"),
                link(call.base + "/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json", "vector tiles"),
                link(call.base + "/open311/discovery.json", "service", "application/json", "Open311 GeoReport v2"),
            });
            if (*fmt == "text/html") {
                std::string body = "<p>" + html_escape(j["description"].get<std::string>()) + "</p><ul>";
                for (const auto& l : j["links"]) {
                    body += "<li><a href=\"" + html_escape(l["href"].get<std::string>()) + "\">" +
                            html_escape(l["rel"].get<std::string>()) + "</a> (" + html_escape(l["type"].get<std::string>()) + ")</li>";
                }
                return html(page("OneGrid", body + "</ul>"));
            }
            return o::with_etag(call.req, json_reply(j.dump()));
        }
        if (p[0] == "conformance" && p.size() == 1) {
            o::check_parameters(call.target, {"f"});
            json j;
            j["conformsTo"] = json::array();
            for (const char* c : conformance_classes) j["conformsTo"].push_back(c);
            if (*fmt == "text/html") return html(page("Conformance", "<pre>" + html_escape(j.dump(2)) + "</pre>"));
            return o::with_etag(call.req, json_reply(j.dump()));
        }
        if (p[0] == "api" && p.size() == 1) {
            o::check_parameters(call.target, {"f"});
            const json doc = openapi_document(ctx, call.base);
            if (call.target.param("f") == std::optional<std::string>("html")) {
                return html(page("OneGrid API (OpenAPI 3.0)", "<pre>" + html_escape(doc.dump(2)) + "</pre>"));
            }
            return o::with_etag(call.req, json_reply(doc.dump(), http::status::ok, "application/vnd.oai.openapi+json;version=3.0"));
        }
        if (p[0] != "collections") return std::nullopt;
        if (p.size() == 1) {
            o::check_parameters(call.target, {"f"});
            json j;
            j["links"] = json::array({link(call.base + "/collections", "self", "application/json"),
                                      link(call.base + "/collections?f=html", "alternate", "text/html")});
            j["collections"] = json::array();
            j["crs"] = crs_list();
            for (const auto& c : collections(ctx)) j["collections"].push_back(collection_json(call, c));
            if (*fmt == "text/html") {
                std::string body = "<table><tr><th>id</th><th>title</th><th>description</th></tr>";
                for (const auto& c : j["collections"]) {
                    const std::string id = c["id"];
                    body += "<tr><td><a href=\"/collections/" + html_escape(url_encode(id)) + "/items?f=html\">" + html_escape(id) +
                            "</a></td><td>" + html_escape(c["title"].get<std::string>()) + "</td><td>" +
                            html_escape(c["description"].get<std::string>()) + "</td></tr>";
                }
                return html(page("Collections", body + "</table>"));
            }
            return o::with_etag(call.req, json_reply(j.dump()));
        }
        const auto c = find_collection(ctx, p[1]);
        if (!c) return error_reply(http::status::not_found, "not_found", "no collection '" + p[1] + "'");
        if (p.size() == 2) {
            o::check_parameters(call.target, {"f"});
            const json j = collection_json(call, *c);
            if (*fmt == "text/html") return html(page(c->title, "<pre>" + html_escape(j.dump(2)) + "</pre>"));
            return o::with_etag(call.req, json_reply(j.dump()));
        }
        if (p.size() == 3 && p[2] == "queryables") {
            o::check_parameters(call.target, {"f"});
            return o::with_etag(call.req, json_reply(queryables_json(call, *c).dump(), http::status::ok, "application/schema+json"));
        }
        if (p.size() == 3 && p[2] == "schema") {
            o::check_parameters(call.target, {"f"});
            return o::with_etag(call.req, json_reply(schema_json(call, *c).dump(), http::status::ok, "application/schema+json"));
        }
        if (p.size() == 3 && p[2] == "items") {
            switch (c->kind) {
                case Kind::layer: return layer_items(ctx, call, *c, *fmt);
                case Kind::incidents: return incident_items(ctx, call, *c, *fmt);
                case Kind::crosswalk: return crosswalk_items(ctx, call, *c, *fmt);
                case Kind::grid_stats: return grid_stats_items(ctx, call, *c, *fmt);
            }
        }
        if (p.size() == 4 && p[2] == "items") return single_feature(ctx, call, *c, p[3], *fmt);
        return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
    } catch (const o::bad_parameter& e) {
        return error_reply(http::status::bad_request, "invalid_parameter", e.what());
    }
}

}  // namespace onegrid::server
