// Planning over HTTP: drafts of a layer as OGC API – Features collections with Part 4 transactions
// (POST/PUT/PATCH/DELETE items, optimistic locking with ETag/If-Match), the editing operations
// (split, merge, move a shared boundary, recode, bulk replacement from a GIS file), validation
// with GeoJSON findings, publish preview and publish, versions and diffs.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app_internal.hpp"
#include "multipart.hpp"
#include "ogc_support.hpp"
#include "onegrid/core/planning.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/features.hpp"

namespace onegrid::server {

using nlohmann::json;
namespace o = ogc;

namespace {

constexpr std::string_view draft_prefix = "draft-";

std::string etag(const std::string& code, std::int64_t revision) { return "\"" + code + "@" + std::to_string(revision) + "\""; }

/// If-Match: a list of "code@revision" entity tags. nullopt when the header is absent.
std::optional<core::Revisions> if_match(const Request& req) {
    const auto h = req.find(http::field::if_match);
    if (h == req.end()) return std::nullopt;
    core::Revisions out;
    std::string_view v(h->value().data(), h->value().size());
    while (!v.empty()) {
        const auto comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.starts_with("W/")) item.remove_prefix(2);
        if (item.size() < 2 || item.front() != '"' || item.back() != '"') continue;
        item = item.substr(1, item.size() - 2);
        const auto at = item.rfind('@');
        if (at == std::string_view::npos) continue;
        char* end = nullptr;
        const std::string rev(item.substr(at + 1));
        const long long r = std::strtoll(rev.c_str(), &end, 10);
        if (end == nullptr || *end != '\0' || r <= 0) continue;
        out[std::string(item.substr(0, at))] = r;
    }
    return out;
}

json coords(const spatial::Ring& r) {
    json a = json::array();
    for (const auto& p : r) a.push_back({p.x, p.y});
    if (!r.empty()) a.push_back({r.front().x, r.front().y});
    return a;
}

json geometry_json(const spatial::MultiPolygon& mp) {
    json polys = json::array();
    for (const auto& p : mp) {
        json rings = json::array({coords(p.shell)});
        for (const auto& h : p.holes) rings.push_back(coords(h));
        polys.push_back(rings);
    }
    return {{"type", "MultiPolygon"}, {"coordinates", polys}};
}

json feature_json(const core::DraftFeature& d) {
    const auto& f = d.feature;
    json props = {{"code", f.code}, {"name", f.name}, {"parent", f.parent}, {"revision", d.revision}, {"etag", etag(f.code, d.revision)}};
    for (const auto& [k, v] : f.properties) {
        char* end = nullptr;
        const double num = std::strtod(v.c_str(), &end);
        props[k] = (!v.empty() && end != nullptr && *end == '\0' && (k == "population" || k == "households")) ? json(num) : json(v);
    }
    return {{"type", "Feature"}, {"id", f.code}, {"geometry", geometry_json(f.geometry)}, {"properties", props}};
}

json collection_of(const std::vector<core::DraftFeature>& v) {
    json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
    for (const auto& d : v) fc["features"].push_back(feature_json(d));
    return fc;
}

spatial::Ring ring_of(const json& a, const o::CrsConverter& conv, const char* what) {
    if (!a.is_array() || a.size() < 4) throw core::planning_error(std::string(what) + ": a ring needs at least 4 positions");
    spatial::Ring r;
    for (const auto& p : a) {
        if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number())
            throw core::planning_error(std::string(what) + ": a position must be [x, y] numbers");
        r.push_back(conv.in(p[0].get<double>(), p[1].get<double>()));
    }
    if (r.front() == r.back()) r.pop_back();
    return r;
}

spatial::MultiPolygon polygon_of(const json& g, const o::CrsConverter& conv) {
    if (!g.is_object() || !g.contains("type") || !g.contains("coordinates"))
        throw core::planning_error("geometry must be a GeoJSON Polygon or MultiPolygon");
    const std::string type = g.value("type", "");
    spatial::MultiPolygon mp;
    auto polygon = [&](const json& rings) {
        if (!rings.is_array() || rings.empty()) throw core::planning_error("a polygon needs at least its outer ring");
        spatial::Polygon p;
        p.shell = ring_of(rings[0], conv, "geometry");
        for (std::size_t i = 1; i < rings.size(); ++i) p.holes.push_back(ring_of(rings[i], conv, "geometry"));
        mp.push_back(std::move(p));
    };
    if (type == "Polygon") {
        polygon(g["coordinates"]);
    } else if (type == "MultiPolygon") {
        if (!g["coordinates"].is_array()) throw core::planning_error("MultiPolygon coordinates must be an array");
        for (const auto& p : g["coordinates"]) polygon(p);
    } else {
        throw core::planning_error("geometry must be a GeoJSON Polygon or MultiPolygon, not '" + type + "'");
    }
    return mp;
}

spatial::Line line_of(const json& g) {
    const json& geom = g.is_object() && g.value("type", "") == "Feature" ? g["geometry"] : g;
    if (!geom.is_object() || geom.value("type", "") != "LineString" || !geom.contains("coordinates") || !geom["coordinates"].is_array())
        throw core::planning_error("'line' must be a GeoJSON LineString (longitude, latitude)");
    spatial::Line l;
    for (const auto& p : geom["coordinates"]) {
        if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number())
            throw core::planning_error("'line': a position must be [longitude, latitude]");
        l.push_back({p[0].get<double>(), p[1].get<double>()});
    }
    return l;
}

std::string text(const json& j, const char* key, bool required = true) {
    if (!j.contains(key) || j[key].is_null()) {
        if (required) throw core::planning_error(std::string("'") + key + "' is required");
        return "";
    }
    if (!j[key].is_string()) throw core::planning_error(std::string("'") + key + "' must be a string");
    return j[key].get<std::string>();
}

json body_json(const Call& call) {
    if (call.req.body().empty()) return json::object();
    json j = json::parse(call.req.body(), nullptr, false);
    if (j.is_discarded()) throw core::planning_error("the body is not valid JSON");
    if (!j.is_object()) throw core::planning_error("the body must be a JSON object");
    return j;
}

json draft_json(const Call& call, const core::Draft& d) {
    const std::string coll = call.base + "/collections/draft-" + std::to_string(d.id);
    return {{"id", d.id},
            {"layer", d.layer},
            {"name", d.name},
            {"base_version", d.base_version},
            {"created_by", d.created_by},
            {"created_at", core::format_iso8601(d.created_at)},
            {"updated_at", core::format_iso8601(d.updated_at)},
            {"revision", d.revision},
            {"collection", "draft-" + std::to_string(d.id)},
            {"links", json::array({{{"rel", "items"}, {"type", "application/geo+json"}, {"href", coll + "/items"}},
                                   {{"rel", "self"}, {"type", "application/json"}, {"href", call.base + "/v1/drafts/" + std::to_string(d.id)}}})}};
}

json findings_json(const std::vector<spatial::Finding>& findings) {
    json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
    for (const auto& f : findings) {
        json g = nullptr;
        if (!f.area.empty()) {
            g = geometry_json(f.area);
        } else if (f.location) {
            g = {{"type", "Point"}, {"coordinates", {f.location->x, f.location->y}}};
        }
        fc["features"].push_back({{"type", "Feature"},
                                  {"geometry", g},
                                  {"properties", {{"severity", spatial::to_string(f.severity)}, {"rule", f.rule}, {"message", f.message}, {"codes", f.codes}}}});
    }
    return fc;
}

json moves_json(const std::vector<core::Move>& moves) {
    json a = json::array();
    for (const auto& m : moves) a.push_back({{"from", m.from}, {"to", m.to}, {"count", m.count}});
    return a;
}

json change_json(const core::DraftChange& c) { return {{"changed", collection_of(c.changed)}, {"removed", c.removed}}; }

/// Keeps the server's views in step after a publish (or a version coming into force).
void after_publish(App::Context& ctx, const std::string& layer, core::Timestamp since) {
    ctx.layers.forget(layer);
    ctx.tiles.layers_changed();
    ctx.refresh_crosswalks();
    core::IncidentQuery q;
    q.updated_since = since;
    q.limit = 0;
    ctx.store.scan_incidents(q, [&](const core::Incident& i) { ctx.incident_changed(i); });
}

std::int64_t draft_id(const std::string& s) {
    char* end = nullptr;
    const long long id = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end == nullptr || *end != '\0' || id <= 0) throw core::not_found_error("no draft '" + s + "'");
    return id;
}

/// Bulk replacement: a GIS file in the body (multipart part "file" with its file name, or raw
/// with ?filename=), read through GDAL.
std::vector<core::LayerFeature> features_from_upload(const Call& call) {
    std::string name = call.target.param("filename").value_or("");
    std::string_view data = call.req.body();
    const auto ct = call.req.find(http::field::content_type);
    if (ct != call.req.end()) {
        if (auto b = detail::multipart_boundary(std::string(ct->value()))) {
            for (const auto& p : detail::parse_multipart(call.req.body(), *b)) {
                if (!p.filename.empty()) {
                    name = p.filename;
                    data = p.body;
                }
            }
        }
    }
    const auto ext = std::filesystem::path(name).extension().string();
    static const std::set<std::string> allowed = {".gpkg", ".geojson", ".json", ".kml", ".fgb", ".zip", ".csv"};
    if (name.empty() || !allowed.contains(ext))
        throw core::planning_error("upload a GIS file named *.gpkg, *.geojson, *.kml, *.fgb, *.csv or a zipped shapefile (*.zip)");
    if (data.empty()) throw core::planning_error("the uploaded file is empty");
    const auto dir = std::filesystem::temp_directory_path() / ("onegrid_upload_" + std::to_string(::getpid()) + "_" +
                                                              std::to_string(std::hash<std::string_view>{}(data)));
    std::filesystem::create_directories(dir);
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    } cleanup{dir};
    const auto file = dir / ("upload" + ext);
    std::ofstream(file, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    spatial::ReadOptions ro;
    ro.id_field = call.target.param("id_field").value_or("code");
    const std::string source = ext == ".zip" ? "/vsizip/" + file.string() : file.string();
    spatial::PolygonLayer layer;
    try {
        layer = spatial::read_polygon_layer(source, ro);
    } catch (const std::exception& e) {
        throw core::planning_error(std::string("the uploaded file cannot be used: ") + e.what());
    }
    const std::string name_field = call.target.param("name_field").value_or("name");
    std::vector<core::LayerFeature> out;
    for (const auto& f : layer.features) {
        core::LayerFeature lf;
        lf.code = f.id;
        lf.name = std::string(layer.value(f, name_field));
        if (auto v = layer.value(f, "parent"); !v.empty()) lf.parent = std::string(v);
        else if (auto c = layer.value(f, "community_code"); !c.empty()) lf.parent = std::string(c);
        else if (f.id.size() == 15) lf.parent = f.id.substr(0, 12);
        for (std::size_t i = 0; i < layer.fields.size(); ++i) {
            if (layer.fields[i] == ro.id_field || layer.fields[i] == name_field || f.values[i].empty()) continue;
            lf.properties[layer.fields[i]] = f.values[i];
        }
        lf.geometry = f.geometry;
        out.push_back(std::move(lf));
    }
    return out;
}

Reply draft_items(App::Context& ctx, Call& call, std::int64_t id) {
    const auto& p = call.parts;
    const auto method = call.req.method();
    core::Planner& planner = *ctx.planner;
    const auto d = ctx.store.draft(id);
    if (!d) return error_reply(http::status::not_found, "not_found", "no draft " + std::to_string(id));
    if (p.size() == 2) {
        if (method != http::verb::get) return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET");
        const std::string base = call.base + "/collections/" + p[1];
        return json_reply(json{{"id", p[1]},
                               {"title", "draft " + std::to_string(id) + ": " + d->name},
                               {"description", "Draft of layer '" + d->layer + "' from version " + std::to_string(d->base_version)},
                               {"itemType", "feature"},
                               {"crs", json::array({o::crs84})},
                               {"links", json::array({{{"rel", "items"}, {"type", "application/geo+json"}, {"href", base + "/items"}},
                                                      {{"rel", "self"}, {"type", "application/json"}, {"href", base}}})}}
                              .dump());
    }
    if (p.size() == 3 && p[2] == "items") {
        if (method == http::verb::get || method == http::verb::head) {
            o::check_parameters(call.target, {"f", "limit", "offset"});
            const auto all = ctx.store.draft_features(id);
            const std::size_t limit = o::parse_limit(call.target, ctx.config.max_items, ctx.config.max_items);
            const std::size_t offset = o::parse_offset(call.target);
            std::vector<core::DraftFeature> page;
            for (std::size_t i = offset; i < all.size() && page.size() < limit; ++i) page.push_back(all[i]);
            json fc = collection_of(page);
            fc["numberMatched"] = all.size();
            fc["numberReturned"] = page.size();
            fc["links"] = json::array({{{"rel", "self"}, {"type", "application/geo+json"}, {"href", call.base + call.target.path}}});
            if (offset + page.size() < all.size()) {
                fc["links"].push_back({{"rel", "next"}, {"type", "application/geo+json"},
                                       {"href", call.base + call.target.path + "?" + o::page_href(call, offset + limit, limit)}});
            }
            return json_reply(fc.dump(), http::status::ok, "application/geo+json");
        }
        if (method == http::verb::post) {
            const json f = body_json(call);
            o::CrsConverter conv(*o::find_crs(o::crs84));
            core::LayerFeature lf;
            const json props = f.value("properties", json::object());
            lf.code = f.contains("id") && f["id"].is_string() ? f["id"].get<std::string>() : text(props, "code");
            lf.name = props.value("name", "");
            lf.parent = props.value("parent", "");
            for (auto it = props.begin(); it != props.end(); ++it)
                if (it.key() != "code" && it.key() != "name" && it.key() != "parent" && it.key() != "revision" && it.key() != "etag")
                    lf.properties[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
            lf.geometry = polygon_of(f.value("geometry", json()), conv);
            const auto c = planner.put_unit(id, lf, std::nullopt);
            Reply r = json_reply(feature_json(c.changed.front()).dump(), http::status::created, "application/geo+json");
            r.header("Location", call.base + "/collections/" + p[1] + "/items/" + url_encode(lf.code));
            r.header("ETag", etag(lf.code, c.changed.front().revision));
            return r;
        }
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET or POST");
    }
    if (p.size() == 4 && p[2] == "items") {
        const std::string code = p[3];
        const auto cur = ctx.store.draft_feature(id, code);
        if (method == http::verb::get || method == http::verb::head) {
            if (!cur) return error_reply(http::status::not_found, "not_found", "no unit " + code + " in draft " + std::to_string(id));
            const std::string tag = etag(code, cur->revision);
            if (const auto inm = call.req.find(http::field::if_none_match);
                inm != call.req.end() && etag_matches(std::string_view(inm->value().data(), inm->value().size()), tag)) {
                Reply r;
                r.status = http::status::not_modified;
                r.header("ETag", tag);
                return r;
            }
            Reply r = json_reply(feature_json(*cur).dump(), http::status::ok, "application/geo+json");
            r.header("ETag", tag);
            return r;
        }
        if (method != http::verb::put && method != http::verb::patch && method != http::verb::delete_)
            return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET, PUT, PATCH or DELETE");
        if (!cur) return error_reply(http::status::not_found, "not_found", "no unit " + code + " in draft " + std::to_string(id));
        const auto seen = if_match(call.req);
        if (!seen) return error_reply(http::status::precondition_required, "precondition_required",
                                      "send If-Match with the unit's ETag (GET the item first)");
        const auto it = seen->find(code);
        if (it == seen->end() || it->second != cur->revision) {
            Reply r = error_reply(http::status::precondition_failed, "precondition_failed",
                                  "unit " + code + " changed since you read it (now " + etag(code, cur->revision) + ")");
            r.header("ETag", etag(code, cur->revision));
            return r;
        }
        if (method == http::verb::delete_) {
            (void)planner.remove_unit(id, code, cur->revision);
            Reply r;
            r.status = http::status::no_content;
            return r;
        }
        const json f = body_json(call);
        o::CrsConverter conv(*o::find_crs(o::crs84));
        core::LayerFeature lf = method == http::verb::patch ? cur->feature : core::LayerFeature{};
        lf.code = code;
        if (method == http::verb::put) lf.parent = cur->feature.parent;
        if (f.contains("geometry") && !f["geometry"].is_null()) lf.geometry = polygon_of(f["geometry"], conv);
        else if (method == http::verb::put) throw core::planning_error("PUT replaces the unit: the geometry is required");
        if (f.contains("properties") && f["properties"].is_object()) {
            for (auto pit = f["properties"].begin(); pit != f["properties"].end(); ++pit) {
                const std::string k = pit.key();
                if (k == "code" || k == "revision" || k == "etag") continue;
                const std::string v = pit->is_string() ? pit->get<std::string>() : pit->dump();
                if (k == "name") lf.name = v;
                else if (k == "parent") lf.parent = v;
                else if (pit->is_null()) lf.properties.erase(k);
                else lf.properties[k] = v;
            }
        }
        const auto c = planner.put_unit(id, lf, cur->revision);
        Reply r = json_reply(feature_json(c.changed.front()).dump(), http::status::ok, "application/geo+json");
        r.header("ETag", etag(code, c.changed.front().revision));
        return r;
    }
    return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
}

Reply drafts(App::Context& ctx, Call& call) {
    const auto& p = call.parts;  // v1 drafts [id [op]]
    const auto method = call.req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    core::Planner& planner = *ctx.planner;
    if (p.size() == 2) {
        if (get) {
            json a = json::array();
            for (const auto& d : ctx.store.drafts()) a.push_back(draft_json(call, d));
            return json_reply(a.dump());
        }
        if (method != http::verb::post) return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET or POST");
        const json b = body_json(call);
        const auto d = planner.create_draft(text(b, "layer"), b.value("name", "draft by " + call.who.user), call.who.user);
        Reply r = json_reply(draft_json(call, d).dump(), http::status::created);
        r.header("Location", call.base + "/v1/drafts/" + std::to_string(d.id));
        return r;
    }
    const std::int64_t id = draft_id(p[2]);
    if (p.size() == 3) {
        if (get) {
            const auto d = ctx.store.draft(id);
            if (!d) return error_reply(http::status::not_found, "not_found", "no draft " + std::to_string(id));
            return json_reply(draft_json(call, *d).dump());
        }
        if (method == http::verb::delete_) {
            ctx.store.delete_draft(id);
            Reply r;
            r.status = http::status::no_content;
            return r;
        }
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET or DELETE");
    }
    if (p.size() != 4) return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
    const std::string op = p[3];
    if (op == "preview") {
        if (!get) return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET");
        const auto pv = planner.preview(id);
        return json_reply(json{{"changed", pv.changed}, {"incidents_to_move", pv.incidents_to_move}, {"moves", moves_json(pv.moves)}}.dump());
    }
    if (method != http::verb::post) return error_reply(http::status::method_not_allowed, "method_not_allowed", "POST");
    if (op == "validate") {
        const auto v = planner.validate(id);
        return json_reply(json{{"errors", v.errors}, {"warnings", v.warnings}, {"seconds", v.seconds}, {"findings", findings_json(v.findings)}}.dump());
    }
    if (op == "publish") {
        const json b = body_json(call);
        std::optional<core::Timestamp> eff;
        if (const auto e = text(b, "effective_from", false); !e.empty()) {
            eff = core::parse_iso8601(e);
            if (!eff) throw core::planning_error("effective_from is not an RFC 3339 date-time");
        }
        const auto layer = ctx.store.draft(id);
        const core::Timestamp since = ctx.clock.now();
        try {
            const auto rep = planner.publish(id, eff, text(b, "note", false), call.who.user);
            after_publish(ctx, layer ? layer->layer : "", since);
            return json_reply(json{{"layer", rep.version.layer},
                                   {"version", rep.version.version},
                                   {"effective_from", core::format_iso8601(rep.version.effective_from)},
                                   {"moved", rep.moved},
                                   {"validation_seconds", rep.validation_seconds},
                                   {"publish_seconds", rep.publish_seconds}}
                                  .dump());
        } catch (const core::validation_failed& e) {
            return json_reply(json{{"code", "validation_failed"}, {"description", e.what()}, {"findings", findings_json(e.findings)}}.dump(),
                              http::status::conflict);
        }
    }
    if (op == "replace") {
        const auto c = planner.replace_all(id, features_from_upload(call));
        return json_reply(json{{"units", c.changed.size()}, {"removed", c.removed}}.dump());
    }
    const json b = body_json(call);
    const auto seen = if_match(call.req);
    if (!seen) return error_reply(http::status::precondition_required, "precondition_required",
                                  "send If-Match with the ETags of the units you edit");
    core::DraftChange change;
    if (op == "split") {
        change = planner.split(id, text(b, "code"), line_of(b.value("line", json())), *seen);
    } else if (op == "merge") {
        if (!b.contains("codes") || !b["codes"].is_array() || b["codes"].size() != 2 || !b["codes"][0].is_string() || !b["codes"][1].is_string())
            throw core::planning_error("'codes' must list the two units to merge");
        change = planner.merge(id, b["codes"][0].get<std::string>(), b["codes"][1].get<std::string>(), *seen);
    } else if (op == "move-boundary") {
        change = planner.move_boundary(id, text(b, "a"), text(b, "b"), line_of(b.value("line", json())), *seen);
    } else if (op == "recode") {
        change = planner.recode(id, text(b, "from"), text(b, "to"), *seen);
    } else {
        return error_reply(http::status::not_found, "not_found", "no draft operation '" + op + "'");
    }
    return json_reply(change_json(change).dump());
}

Reply layers_api(App::Context& ctx, Call& call) {
    const auto& p = call.parts;  // v1 layers <id> versions|diff
    if (call.req.method() != http::verb::get) return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET");
    if (p.size() == 2) {
        json a = json::array();
        for (const auto& l : ctx.store.layers())
            a.push_back({{"id", l.id}, {"kind", std::string(core::to_string(l.kind))}, {"title", l.title}, {"department", l.department}});
        return json_reply(a.dump());
    }
    if (p.size() != 4) return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
    const std::string layer = p[2];
    if (!ctx.store.layer(layer)) return error_reply(http::status::not_found, "not_found", "no layer '" + layer + "'");
    if (p[3] == "versions") {
        json a = json::array();
        for (const auto& v : ctx.store.versions(layer))
            a.push_back({{"version", v.version}, {"effective_from", core::format_iso8601(v.effective_from)},
                         {"published_at", core::format_iso8601(v.published_at)}, {"note", v.note}, {"features", v.features}});
        return json_reply(a.dump());
    }
    if (p[3] == "diff") {
        auto num = [&](const char* k) {
            const auto v = call.target.param(k);
            char* end = nullptr;
            const long n = v ? std::strtol(v->c_str(), &end, 10) : 0;
            if (!v || end == nullptr || *end != '\0' || n <= 0) throw core::planning_error(std::string("?") + k + "= must name a version number");
            return static_cast<int>(n);
        };
        const auto d = ctx.planner->diff(layer, num("from"), num("to"));
        json changed = json::array();
        for (const auto& c : d.changed)
            changed.push_back({{"code", c.code}, {"area_before_m2", c.area_before_m2}, {"area_after_m2", c.area_after_m2},
                               {"area_change_m2", c.area_after_m2 - c.area_before_m2}, {"geometry", c.geometry}, {"attributes", c.attributes}});
        return json_reply(json{{"layer", layer}, {"added", d.added}, {"removed", d.removed}, {"changed", changed}}.dump());
    }
    return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
}

}  // namespace

std::optional<Reply> planner_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    const bool draft_collection = p.size() >= 2 && p[0] == "collections" && p[1].rfind(draft_prefix, 0) == 0;
    const bool api = p.size() >= 2 && p[0] == "v1" && (p[1] == "drafts" || p[1] == "layers");
    if (!draft_collection && !api) return std::nullopt;
    const bool layers_read = api && p[1] == "layers";
    if (!layers_read) {
        if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "drafts need a planner's token");
        if (!call.who.any_of({core::Role::planner})) return error_reply(http::status::forbidden, "forbidden", "drafts are for planners");
    } else if (!ctx.config.public_reads && !call.who.authenticated) {
        return error_reply(http::status::unauthorized, "unauthorized", "reads need a token on this server");
    }
    try {
        if (draft_collection) return draft_items(ctx, call, draft_id(p[1].substr(draft_prefix.size())));
        if (p[1] == "drafts") return drafts(ctx, call);
        return layers_api(ctx, call);
    } catch (const core::precondition_required& e) {
        return error_reply(http::status::precondition_required, "precondition_required", e.what());
    } catch (const core::conflict_error& e) {
        return error_reply(http::status::precondition_failed, "precondition_failed", e.what());
    } catch (const core::planning_error& e) {
        return error_reply(http::status::bad_request, "invalid", e.what());
    } catch (const o::bad_parameter& e) {
        return error_reply(http::status::bad_request, "invalid_parameter", e.what());
    } catch (const detail::multipart_error& e) {
        return error_reply(http::status::bad_request, "invalid", std::string("multipart body: ") + e.what());
    }
}

}  // namespace onegrid::server
