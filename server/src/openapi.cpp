// The OpenAPI 3.0 definition of the server, built from the live collections so that every
// parameter the server accepts is declared (OGC API Part 1 answers 400 to undeclared ones).

#include <nlohmann/json.hpp>

#include "app_internal.hpp"

namespace onegrid::server {

using nlohmann::json;

namespace {

json param(const std::string& name, const std::string& in, const json& schema, const std::string& description,
           bool required = false) {
    json p = {{"name", name}, {"in", in}, {"schema", schema}, {"description", description}, {"required", required}};
    if (in == "query") {
        p["style"] = "form";
        p["explode"] = false;
    }
    return p;
}

json responses(const std::string& ok_type, const std::string& description) {
    json r;
    r["200"] = {{"description", description}, {"content", {{ok_type, {{"schema", {{"type", "object"}}}}}}}};
    r["304"] = {{"description", "not modified (If-None-Match matched the ETag)"}};
    for (const auto& [code, text] : std::vector<std::pair<std::string, std::string>>{
             {"400", "invalid or unknown parameter"}, {"401", "missing or invalid token"}, {"403", "not allowed"},
             {"404", "not found"}, {"405", "method not allowed"}, {"406", "not acceptable"},
             {"413", "request body too large"}, {"500", "server error"}}) {
        r[code] = {{"description", text}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/exception"}}}}}}}};
    }
    return r;
}

json items_parameters(const std::vector<std::pair<std::string, std::string>>& queryables) {
    json ps = json::array({
        {{"$ref", "#/components/parameters/f"}},
        {{"$ref", "#/components/parameters/limit"}},
        {{"$ref", "#/components/parameters/offset"}},
        {{"$ref", "#/components/parameters/bbox"}},
        {{"$ref", "#/components/parameters/bbox-crs"}},
        {{"$ref", "#/components/parameters/crs"}},
        {{"$ref", "#/components/parameters/datetime"}},
        {{"$ref", "#/components/parameters/filter"}},
        {{"$ref", "#/components/parameters/filter-lang"}},
        {{"$ref", "#/components/parameters/filter-crs"}},
    });
    for (const auto& [name, type] : queryables) {
        ps.push_back(param(name, "query", {{"type", type == "integer" ? "integer" : type == "boolean" ? "boolean" : "string"}},
                           "equals (queryable)"));
    }
    return ps;
}

}  // namespace

json openapi_document(App::Context& ctx, const std::string& base) {
    json doc;
    doc["openapi"] = "3.0.3";
    doc["info"] = {{"title", "OneGrid"},
                   {"version", "1.0.0"},
                   {"description", "OGC API – Features (Parts 1–3), vector tiles, Open311 GeoReport v2 and the OneGrid workflow API"}};
    doc["servers"] = json::array({{{"url", base}}});
    json& c = doc["components"];
    c["schemas"]["exception"] = {{"type", "object"},
                                 {"required", json::array({"code"})},
                                 {"properties", {{"code", {{"type", "string"}}}, {"description", {{"type", "string"}}}}}};
    c["securitySchemes"]["bearer"] = {{"type", "http"}, {"scheme", "bearer"}};
    auto& P = c["parameters"];
    P["f"] = param("f", "query", {{"type", "string"}, {"enum", json::array({"json", "html"})}}, "response format");
    P["limit"] = param("limit", "query", {{"type", "integer"}, {"minimum", 1}, {"maximum", ctx.config.max_items}, {"default", ctx.config.default_items}},
                       "most features per page; larger values are clamped");
    P["offset"] = param("offset", "query", {{"type", "integer"}, {"minimum", 0}, {"default", 0}}, "paging offset (next links carry it)");
    P["bbox"] = param("bbox", "query", {{"type", "array"}, {"minItems", 4}, {"maxItems", 6}, {"items", {{"type", "number"}}}},
                      "minx,miny,maxx,maxy in bbox-crs (default CRS84)");
    json crs_enum = json::array();
    for (const char* u : {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4490",
                          "http://www.opengis.net/def/crs/EPSG/0/4326", "http://www.opengis.net/def/crs/EPSG/0/3857",
                          "http://www.opengis.net/def/crs/EPSG/0/4549"})
        crs_enum.push_back(u);
    P["bbox-crs"] = param("bbox-crs", "query", {{"type", "string"}, {"format", "uri"}, {"enum", crs_enum}}, "system of bbox");
    P["crs"] = param("crs", "query", {{"type", "string"}, {"format", "uri"}, {"enum", crs_enum}}, "system of the response geometries");
    P["datetime"] = param("datetime", "query", {{"type", "string"}},
                          "RFC 3339 instant or interval (.. for open ends): reported time for incidents, the version in force for layers");
    P["filter"] = param("filter", "query", {{"type", "string"}}, "CQL2 text filter (basic, advanced comparison, S_INTERSECTS)");
    P["filter-lang"] = param("filter-lang", "query", {{"type", "string"}, {"enum", json::array({"cql2-text"})}, {"default", "cql2-text"}},
                             "filter language");
    P["filter-crs"] = param("filter-crs", "query", {{"type", "string"}, {"format", "uri"}, {"enum", crs_enum}}, "system of filter geometries");
    P["collectionId"] = param("collectionId", "path", {{"type", "string"}}, "collection id", true);
    P["featureId"] = param("featureId", "path", {{"type", "string"}}, "feature id", true);

    json& paths = doc["paths"];
    const json f_only = json::array({{{"$ref", "#/components/parameters/f"}}});
    paths["/"]["get"] = {{"summary", "landing page"}, {"parameters", f_only}, {"responses", responses("application/json", "links")}};
    paths["/conformance"]["get"] = {{"summary", "conformance classes"}, {"parameters", f_only},
                                    {"responses", responses("application/json", "conformsTo")}};
    paths["/api"]["get"] = {{"summary", "this document"}, {"parameters", f_only},
                            {"responses", responses("application/vnd.oai.openapi+json;version=3.0", "OpenAPI 3.0")}};
    paths["/collections"]["get"] = {{"summary", "collections"}, {"parameters", f_only},
                                    {"responses", responses("application/json", "collections")}};
    json coll_params = json::array({{{"$ref", "#/components/parameters/collectionId"}}, {{"$ref", "#/components/parameters/f"}}});
    paths["/collections/{collectionId}"]["get"] = {{"summary", "one collection"}, {"parameters", coll_params},
                                                   {"responses", responses("application/json", "collection")}};
    paths["/collections/{collectionId}/queryables"]["get"] = {{"summary", "queryables (JSON Schema)"}, {"parameters", coll_params},
                                                              {"responses", responses("application/schema+json", "queryables")}};
    paths["/collections/{collectionId}/schema"]["get"] = {{"summary", "feature schema (JSON Schema)"}, {"parameters", coll_params},
                                                          {"responses", responses("application/schema+json", "schema")}};
    json generic = items_parameters({});
    generic.insert(generic.begin(), {{"$ref", "#/components/parameters/collectionId"}});
    paths["/collections/{collectionId}/items"]["get"] = {{"summary", "features"}, {"parameters", generic},
                                                         {"responses", responses("application/geo+json", "FeatureCollection")}};
    json item_params = json::array({{{"$ref", "#/components/parameters/collectionId"}},
                                    {{"$ref", "#/components/parameters/featureId"}},
                                    {{"$ref", "#/components/parameters/f"}},
                                    {{"$ref", "#/components/parameters/crs"}}});
    paths["/collections/{collectionId}/items/{featureId}"]["get"] = {{"summary", "one feature"}, {"parameters", item_params},
                                                                     {"responses", responses("application/geo+json", "Feature")}};
    // Concrete items paths with each collection's queryables as parameters.
    const std::vector<std::pair<std::string, std::string>> incident_q = {
        {"id", "integer"}, {"category", "string"}, {"status", "string"}, {"source", "string"}, {"grid", "string"},
        {"community", "string"}, {"town", "string"}, {"department", "string"}, {"escalation_level", "integer"}, {"outside", "boolean"}};
    paths["/collections/incidents/items"]["get"] = {{"summary", "incidents"}, {"parameters", items_parameters(incident_q)},
                                                    {"responses", responses("application/geo+json", "FeatureCollection")}};
    for (const auto& l : ctx.store.layers()) {
        paths["/collections/" + l.id + "/items"]["get"] = {
            {"summary", l.title}, {"parameters", items_parameters({{"code", "string"}, {"name", "string"}, {"parent", "string"}})},
            {"responses", responses("application/geo+json", "FeatureCollection")}};
    }
    paths["/collections/crosswalk/items"]["get"] = {
        {"summary", "crosswalk: base grids and the business units they lie in"},
        {"parameters", items_parameters({{"layer", "string"}, {"base", "string"}, {"business", "string"}, {"split", "boolean"}})},
        {"responses", responses("application/geo+json", "FeatureCollection")}};
    // Per-grid statistics: the period and filters, and every figure as a queryable.
    {
        std::vector<std::pair<std::string, std::string>> q = {{"code", "string"}, {"name", "string"}, {"parent", "string"}, {"period", "string"}};
        for (const char* n : {"reported", "registered", "dispatched", "handled", "handled_in_time", "reworked", "due", "closed",
                              "closed_in_time", "overdue", "self_handled", "rated", "satisfied"})
            q.emplace_back(n, "integer");
        for (const char* n : {"closing_rate", "closing_in_time_rate", "handling_in_time_rate", "rework_rate", "satisfaction_rate",
                              "mean_handling_hours"})
            q.emplace_back(n, "number");
        json ps = items_parameters(q);
        ps.push_back(param("period", "query", {{"type", "string"}}, "YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD (Beijing time; default this month)"));
        ps.push_back(param("town", "query", {{"type", "string"}}, "count only the cases of this town/street"));
        ps.push_back(param("category", "query", {{"type", "string"}}, "count only this category (4 digits) or major class (2 digits)"));
        paths["/collections/grid-stats/items"]["get"] = {{"summary", "the base grids with their indicators for a period (docs/indicators.md)"},
                                                         {"parameters", ps},
                                                         {"responses", responses("application/geo+json", "FeatureCollection")}};
    }
    // Tiles, Open311 and the workflow API, in brief.
    paths["/tiles/{layers}/{z}/{x}/{y}.mvt"]["get"] = {
        {"summary", "Mapbox Vector Tile (several layers: comma-separated)"},
        {"parameters", json::array({param("layers", "path", {{"type", "string"}}, "layer ids", true),
                                    param("z", "path", {{"type", "integer"}}, "zoom", true),
                                    param("x", "path", {{"type", "integer"}}, "column", true),
                                    param("y", "path", {{"type", "integer"}}, "row (XYZ)", true)})},
        {"responses", responses("application/vnd.mapbox-vector-tile", "tile")}};
    paths["/tiles/{layers}.json"]["get"] = {
        {"summary", "TileJSON 3.0.0"},
        {"parameters", json::array({param("layers", "path", {{"type", "string"}}, "layer ids", true)})},
        {"responses", responses("application/json", "TileJSON")}};
    paths["/open311/v2/services.json"]["get"] = {{"summary", "Open311 services"}, {"responses", responses("application/json", "services")}};
    paths["/open311/v2/requests.json"]["get"] = {{"summary", "Open311 service requests"}, {"responses", responses("application/json", "requests")}};
    paths["/open311/v2/requests.json"]["post"] = {{"summary", "Open311: report (api_key)"}, {"responses", responses("application/json", "created")}};
    paths["/v1/incidents"]["post"] = {{"summary", "intake (JSON or multipart with photos)"}, {"security", json::array({{{"bearer", json::array()}}})},
                                      {"responses", responses("application/json", "incident")}};
    paths["/v1/incidents"]["get"] = {{"summary", "incidents (filters, paging)"}, {"responses", responses("application/json", "incidents")}};
    paths["/v1/incidents/{id}"]["get"] = {{"summary", "one incident with its history"}, {"responses", responses("application/json", "incident")}};
    paths["/v1/incidents/{id}/actions/{action}"]["post"] = {{"summary", "a workflow transition"},
                                                           {"responses", responses("application/json", "transition")}};
    paths["/v1/queues/{queue}"]["get"] = {{"summary", "work queues: department, town, grid, command_centre, mine"},
                                          {"responses", responses("application/json", "queue")}};
    // The analysis and assessment endpoints (command centre, towns).
    const json bearer = json::array({{{"bearer", json::array()}}});
    const json unit = param("unit", "query", {{"type", "string"}, {"enum", json::array({"grid", "community", "town", "department", "grid_worker", "district"})}},
                            "unit kind");
    const json town = param("town", "query", {{"type", "string"}}, "town/street code");
    const json category = param("category", "query", {{"type", "string"}}, "category (4 digits) or major class (2 digits)");
    const json as_of = param("as_of", "query", {{"type", "string"}, {"format", "date-time"}}, "the moment the figures are taken (default now)");
    const json month = param("month", "query", {{"type", "string"}}, "YYYY-MM (default this month)");
    const json limit = param("limit", "query", {{"type", "integer"}, {"minimum", 0}}, "most rows");
    paths["/v1/indicators"]["get"] = {
        {"summary", "counts and rates (with numerators and denominators) per unit and period"}, {"security", bearer},
        {"parameters", json::array({unit, param("period", "query", {{"type", "string"}, {"enum", json::array({"day", "week", "month", "custom"})}}, "granularity"),
                                    param("from", "query", {{"type", "string"}, {"format", "date"}}, "first day (Beijing time)"),
                                    param("to", "query", {{"type", "string"}, {"format", "date"}}, "last day, included"), town, category,
                                    param("code", "query", {{"type", "string"}}, "units, comma-separated"), as_of, limit,
                                    param("offset", "query", {{"type", "integer"}, {"minimum", 0}}, "first unit")})},
        {"responses", responses("application/json", "indicators")}};
    paths["/v1/assessment"]["get"] = {
        {"summary", "scores, grades A–E and ranks of a month; sort by a rate for rankings"}, {"security", bearer},
        {"parameters", json::array({unit, month, town, category, as_of,
                                    param("sort", "query", {{"type", "string"}}, "score (default), code, or a rate id"), limit,
                                    param("offset", "query", {{"type", "integer"}, {"minimum", 0}}, "first unit")})},
        {"responses", responses("application/json", "assessment")}};
    paths["/v1/hotspots"]["get"] = {
        {"summary", "emerging hotspots, Getis-Ord Gi*, recurring spots"}, {"security", bearer},
        {"parameters", json::array({param("week", "query", {{"type", "string"}}, "YYYY-Www (default the 7 days to now)"), town, category, limit})},
        {"responses", responses("application/json", "hotspots")}};
    paths["/v1/overdue"]["get"] = {{"summary", "open cases past their deadline"}, {"security", bearer},
                                   {"parameters", json::array({town, category, param("department", "query", {{"type", "string"}}, "department code"), limit})},
                                   {"responses", responses("application/json", "overdue cases")}};
    for (const char* fmt : {"csv", "xlsx"}) {
        paths[std::string("/v1/reports/assessment.") + fmt]["get"] = {
            {"summary", std::string("the monthly assessment report (") + fmt + ", attachment)"}, {"security", bearer},
            {"parameters", json::array({month, param("unit", "query", {{"type", "string"}}, "unit kinds, comma-separated (default all)"), town, category, as_of})},
            {"responses", responses(std::string(fmt) == "csv" ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report")}};
    }
    return doc;
}

}  // namespace onegrid::server
