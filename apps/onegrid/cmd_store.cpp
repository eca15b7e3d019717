// onegrid import / backup / check: the store from the command line.

#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/spatial/coverage.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/features.hpp"

namespace onegrid::cli {
namespace {

std::string parent_of(const spatial::PolygonLayer& layer, const spatial::PolygonFeature& f, core::LayerKind kind,
                      const std::string& parent_field) {
    if (!parent_field.empty()) return std::string(layer.value(f, parent_field));
    const bool digits = f.id.find_first_not_of("0123456789") == std::string::npos;
    switch (kind) {
        case core::LayerKind::base:
            if (auto v = layer.value(f, "community_code"); !v.empty()) return std::string(v);
            return digits && f.id.size() == 15 ? f.id.substr(0, 12) : "";
        case core::LayerKind::community:
            if (auto v = layer.value(f, "town_code"); !v.empty()) return std::string(v);
            return digits && f.id.size() == 12 ? f.id.substr(0, 9) : "";
        case core::LayerKind::town:
            if (auto v = layer.value(f, "district_code"); !v.empty()) return std::string(v);
            return digits && f.id.size() == 9 ? f.id.substr(0, 6) : "";
        default: return "";
    }
}

int run_import(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, layer_id, kind_name, source, id_field, name_field, parent_field, source_layer, source_crs, title,
        department, effective, note;
    double overlap_m2 = 1.0;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database (created if missing)")(
        "layer", po::value(&layer_id)->required(), "layer id: grids (the base grid), towns, communities, district, or a business layer id")(
        "kind", po::value(&kind_name), "base, town, community, district or business (default: from the layer id)")(
        "source", po::value(&source)->required(), "any GDAL vector source")(
        "source-layer", po::value(&source_layer), "layer of the source (default: first polygon layer)")(
        "source-crs", po::value(&source_crs), "system of the source when it names none")(
        "id-field", po::value(&id_field)->default_value("code"), "field holding each unit's code")(
        "name-field", po::value(&name_field)->default_value("name"), "field holding each unit's name")(
        "parent-field", po::value(&parent_field), "field holding the parent unit's code (default: by layout)")(
        "title", po::value(&title), "human title of the layer")(
        "department", po::value(&department), "owning department of a business layer")(
        "effective-from", po::value(&effective), "when the new version takes effect (RFC 3339; default now)")(
        "note", po::value(&note)->default_value("import"), "note recorded with the version")(
        "make-valid", "repair invalid polygons instead of refusing them")(
        "overlap-tolerance", po::value(&overlap_m2)->default_value(1.0), "overlap tolerated between units (m²)");
    po::variables_map vm;
    if (!parse(args, opts, vm, "import", "--db FILE --layer ID --source SRC [options]")) return 0;

    core::LayerKind kind = core::LayerKind::business;
    if (!kind_name.empty()) {
        const auto k = core::parse_layer_kind(kind_name);
        if (!k) throw usage_error("unknown --kind '" + kind_name + "'");
        kind = *k;
    } else if (layer_id == "grids") {
        kind = core::LayerKind::base;
    } else if (layer_id == "towns") {
        kind = core::LayerKind::town;
    } else if (layer_id == "communities") {
        kind = core::LayerKind::community;
    } else if (layer_id == "district") {
        kind = core::LayerKind::district;
    }
    core::Timestamp effective_from = core::SystemClock().now();
    if (!effective.empty()) {
        const auto t = core::parse_iso8601(effective);
        if (!t) throw usage_error("--effective-from '" + effective + "' is not an RFC 3339 date-time");
        effective_from = *t;
    }

    spatial::ReadOptions ro;
    ro.id_field = id_field;
    ro.layer = source_layer;
    ro.source_crs = source_crs;
    ro.make_valid = vm.count("make-valid") != 0U;
    const auto layer = spatial::read_polygon_layer(source, ro);
    std::vector<spatial::MultiPolygon> geoms;
    for (const auto& f : layer.features) geoms.push_back(f.geometry);
    const auto overlaps = spatial::find_overlaps(geoms, overlap_m2);
    if (!overlaps.empty()) {
        std::string msg = std::to_string(overlaps.size()) + " pair(s) of units overlap:";
        for (std::size_t i = 0; i < overlaps.size() && i < 10; ++i) {
            msg += " '" + layer.features[overlaps[i].a].id + "' and '" + layer.features[overlaps[i].b].id + "'";
        }
        throw spatial::data_error(msg);
    }
    std::vector<core::LayerFeature> features;
    features.reserve(layer.features.size());
    for (const auto& f : layer.features) {
        core::LayerFeature lf;
        lf.code = f.id;
        lf.name = std::string(layer.value(f, name_field));
        lf.parent = parent_of(layer, f, kind, parent_field);
        for (std::size_t i = 0; i < layer.fields.size(); ++i) {
            const auto& field = layer.fields[i];
            if (field == id_field || field == name_field || f.values[i].empty()) continue;
            lf.properties[field] = f.values[i];
        }
        lf.geometry = f.geometry;
        features.push_back(std::move(lf));
    }

    core::SpatialiteOptions so;
    so.path = db;
    auto store = core::open_spatialite_store(so);
    auto info = store->layer(layer_id).value_or(core::LayerInfo{layer_id, kind, title.empty() ? layer_id : title, department, ""});
    info.kind = kind;
    if (!title.empty()) info.title = title;
    if (!department.empty()) info.department = department;
    store->put_layer(info);
    const auto v = store->publish_version(layer_id, features, effective_from, note);
    std::cout << "imported " << v.features << " features from " << source << " into layer '" << layer_id << "' ("
              << core::to_string(kind) << ") as version " << v.version << ", effective from "
              << core::format_iso8601(v.effective_from) << "\n";
    return 0;
}

int run_backup(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, target;
    opts.add_options()("db", po::value(&db)->required(), "the database to copy (may be in use)")(
        "out", po::value(&target)->required(), "the copy to write");
    po::positional_options_description pos;
    po::variables_map vm;
    // `onegrid backup DB FILE` as well as `--db DB --out FILE`.
    std::vector<std::string> a = args;
    if (a.size() == 2 && a[0].rfind("--", 0) != 0 && a[1].rfind("--", 0) != 0) a = {"--db", args[0], "--out", args[1]};
    if (!parse(a, opts, vm, "backup", "DB FILE")) return 0;
    const auto t0 = std::chrono::steady_clock::now();
    core::backup_spatialite(db, target);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "backup of " << db << " written to " << target << " in " << secs << " s (a consistent copy; "
              << "media files are content-addressed: copy " << db << ".media alongside)\n";
    return 0;
}

int run_check(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db;
    opts.add_options()("db", po::value(&db)->required(), "the database to check");
    po::variables_map vm;
    std::vector<std::string> a = args;
    if (a.size() == 1 && a[0].rfind("--", 0) != 0) a = {"--db", args[0]};
    if (!parse(a, opts, vm, "check", "DB")) return 0;
    core::SpatialiteOptions so;
    so.path = db;
    so.read_only = true;
    auto store = core::open_spatialite_store(so);
    const auto st = store->stats();
    std::cout << db << ": schema version " << st.schema_version << ", " << st.incidents << " incidents, " << st.events
              << " events, " << st.media << " media files, " << st.outbox_pending << " outbox messages pending\n";
    for (const auto& l : store->layers()) {
        const auto versions = store->versions(l.id);
        std::cout << "  layer " << l.id << " (" << core::to_string(l.kind) << "): " << versions.size() << " version(s)";
        if (!versions.empty()) std::cout << ", current " << versions.back().version << " with " << versions.back().features << " features";
        std::cout << "\n";
    }
    return 0;
}

}  // namespace

Command import_command() { return {"import", "import a layer (grids, towns, business grids) from a GDAL source as a new version", run_import}; }
Command backup_command() { return {"backup", "online, consistent copy of a database: onegrid backup DB FILE", run_backup}; }
Command check_command() { return {"check", "open a database read-only and summarise it", run_check}; }

}  // namespace onegrid::cli
