// onegrid export: any version of a layer to a GIS file; onegrid validate: a layer version or a
// draft checked as a coverage, findings listed.

#include <chrono>
#include <iostream>
#include <set>

#include "cli.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/planning.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/spatial/features.hpp"

namespace onegrid::cli {
namespace {

std::unique_ptr<core::Store> open_existing(const std::string& db, bool read_only) {
    core::SpatialiteOptions so;
    so.path = db;
    so.create = false;
    so.read_only = read_only;
    return core::open_spatialite_store(so);
}

int run_export(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, layer, out, at;
    int version = 0;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database")(
        "layer", po::value(&layer)->default_value("grids"), "layer id")(
        "version", po::value(&version)->default_value(0), "version number (default: the one in force)")(
        "at", po::value(&at), "the version in force at this time (RFC 3339) instead")(
        "out", po::value(&out)->required(), "file to write: .gpkg, .shp (with a UTF-8 .cpg), .geojson, .kml or .fgb");
    po::variables_map vm;
    if (!parse(args, opts, vm, "export", "--db FILE --layer ID [--version N | --at TIME] --out FILE")) return 0;
    auto store = open_existing(db, true);
    const auto info = store->layer(layer);
    if (!info) throw usage_error("no layer '" + layer + "' in " + db);
    if (version == 0) {
        core::Timestamp t = core::SystemClock().now();
        if (!at.empty()) {
            const auto p = core::parse_iso8601(at);
            if (!p) throw usage_error("--at '" + at + "' is not an RFC 3339 date-time");
            t = *p;
        }
        const auto v = store->version_at(layer, t);
        if (!v) throw usage_error("layer '" + layer + "' has no version in force at that time");
        version = v->version;
    } else {
        bool found = false;
        for (const auto& v : store->versions(layer)) found = found || v.version == version;
        if (!found) throw usage_error("layer '" + layer + "' has no version " + std::to_string(version));
    }
    const auto features = store->features(layer, version);
    spatial::PolygonLayer out_layer;
    out_layer.name = layer;
    out_layer.source_crs = "EPSG:4490";
    std::set<std::string> keys;
    for (const auto& f : features)
        for (const auto& [k, v] : f.properties) keys.insert(k);
    out_layer.fields = {"code", "name", "parent"};
    out_layer.field_types = {spatial::FieldType::string, spatial::FieldType::string, spatial::FieldType::string};
    for (const auto& k : keys) {
        out_layer.fields.push_back(k);
        out_layer.field_types.push_back(k == "population" || k == "households" ? spatial::FieldType::integer : spatial::FieldType::string);
    }
    for (const auto& f : features) {
        spatial::PolygonFeature pf;
        pf.id = f.code;
        pf.geometry = f.geometry;
        pf.values = {f.code, f.name, f.parent};
        for (const auto& k : keys) {
            auto it = f.properties.find(k);
            pf.values.push_back(it == f.properties.end() ? "" : it->second);
        }
        out_layer.features.push_back(std::move(pf));
    }
    spatial::write_polygon_layer(out_layer, out);
    std::cout << "exported " << features.size() << " units of layer '" << layer << "' version " << version << " to " << out << "\n";
    return 0;
}

int run_validate(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, layer;
    std::int64_t draft = 0;
    int version = 0;
    std::size_t show = 20;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database")(
        "layer", po::value(&layer)->default_value("grids"), "layer id (its version in force, or --version)")(
        "version", po::value(&version)->default_value(0), "a version of the layer")(
        "draft", po::value(&draft)->default_value(0), "a draft instead of a layer version")(
        "show", po::value(&show)->default_value(20), "findings to list");
    po::variables_map vm;
    if (!parse(args, opts, vm, "validate", "--db FILE [--layer ID [--version N] | --draft N]")) return 0;
    auto store = open_existing(db, false);
    core::SystemClock clock;
    core::GeographyHolder geography;
    core::Planner planner(*store, clock, geography);
    std::int64_t id = draft;
    bool temporary = false;
    if (id == 0) {
        // A layer version is validated through a temporary draft of it.
        if (!store->layer(layer)) throw usage_error("no layer '" + layer + "' in " + db);
        const auto d = planner.create_draft(layer, "validate (temporary)", "onegrid validate");
        id = d.id;
        temporary = true;
        if (version > 0) {
            std::vector<core::LayerFeature> features = store->features(layer, version);
            if (features.empty()) throw usage_error("layer '" + layer + "' has no version " + std::to_string(version));
            (void)planner.replace_all(id, features);
        }
    }
    core::Validation v;
    try {
        v = planner.validate(id);
    } catch (...) {
        if (temporary) store->delete_draft(id);
        throw;
    }
    if (temporary) store->delete_draft(id);
    for (std::size_t i = 0; i < v.findings.size() && i < show; ++i) {
        const auto& f = v.findings[i];
        std::cout << spatial::to_string(f.severity) << "  " << f.rule << "  " << f.message << "\n";
    }
    if (v.findings.size() > show) std::cout << "… and " << v.findings.size() - show << " more\n";
    std::cout << v.errors << " error(s), " << v.warnings << " warning(s); validated in " << v.seconds << " s\n";
    return v.errors == 0 ? 0 : 1;
}

}  // namespace

Command export_command() { return {"export", "write a version of a layer to a GIS file (GeoPackage, Shapefile, GeoJSON, KML)", run_export}; }
Command validate_command() { return {"validate", "check a layer version or a draft as a coverage (gaps, overlaps, codes, …)", run_validate}; }

}  // namespace onegrid::cli
