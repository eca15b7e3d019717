// The plugin host: broken plugins are refused with a clear reason and the rest keep working; the
// three department plugins load, their layers are indexed, incidents are routed to the right
// department and sub-unit; the crosswalk agrees with an independent GEOS computation.

#include <gtest/gtest.h>

#include <map>

#include "onegrid/core/crosswalk.hpp"
#include "onegrid/data/demo_district.hpp"
#include "onegrid/core/plugin_host.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"
#include "workflow_fixture.hpp"

using namespace onegrid;
using namespace onegrid::core;
namespace fs = std::filesystem;

namespace {

const fs::path plugin_dir = ONEGRID_PLUGIN_DIR;
const fs::path fixture_dir = ONEGRID_PLUGIN_FIXTURE_DIR;

std::map<std::string, PluginReport> by_name(const std::vector<PluginReport>& reports) {
    std::map<std::string, PluginReport> out;
    for (const auto& r : reports) out[r.name] = r;
    return out;
}

}  // namespace

TEST(PluginHost, BrokenPluginsAreRefusedWithTheReasonAndTheOthersLoad) {
    std::vector<std::string> log;
    PluginHost host([&](const std::string& m) { log.push_back(m); });
    // A good plugin sits among the broken ones.
    fs::copy_file(plugin_dir / "markets.so", fixture_dir / "markets.so", fs::copy_options::overwrite_existing);
    fs::copy_file(plugin_dir / "markets.gpkg", fixture_dir / "markets.gpkg", fs::copy_options::overwrite_existing);
    const auto reports = by_name(host.load(fixture_dir, {"wrong_magic", "newer_abi", "other_major", "failing_init",
                                                         "missing_init", "no_magic", "bad_layer", "unresolved",
                                                         "init_throws", "not_there", "../etc/passwd", "markets"}));
    auto refused = [&](const std::string& name, const std::string& reason) {
        ASSERT_TRUE(reports.count(name)) << name;
        EXPECT_FALSE(reports.at(name).loaded) << name;
        EXPECT_NE(reports.at(name).error.find(reason), std::string::npos) << name << ": " << reports.at(name).error;
    };
    refused("wrong_magic", "wrong magic 0xDEADBEEF");
    refused("newer_abi", "newer plugin ABI 1.7");
    refused("other_major", "built for plugin ABI 2.0");
    refused("failing_init", "the licence server at 10.0.0.1 is unreachable");
    refused("missing_init", "no onegrid_plugin_init");
    refused("no_magic", "not a OneGrid plugin");
    refused("bad_layer", "not_shipped.gpkg");
    refused("unresolved", "onegrid_function_that_does_not_exist");
    refused("init_throws", "init exploded");
    refused("not_there", "no file");
    refused("../etc/passwd", "not a plugin name");
    EXPECT_TRUE(reports.at("markets").loaded) << reports.at("markets").error;
    const auto loaded = host.plugins();
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].id, "markets");
    // Every refusal was logged.
    EXPECT_GE(log.size(), 12u);
}

TEST(PluginHost, AFailingOrThrowingRoutingCallbackFallsBackToTheRulesTable) {
    test::WorkflowWorld w("plugin_fallback");
    std::vector<std::string> log;
    PluginHost host([&](const std::string& m) { log.push_back(m); });
    const auto reports = host.load(fixture_dir, {"routing_error", "throwing"});
    for (const auto& r : reports) ASSERT_TRUE(r.loaded) << r.name << ": " << r.error;
    const auto before = host.callback_failures();
    w.workflow->set_routing_hooks(host.routing_hooks());
    // 0101 is a street light: both plugins fail on it, and the rules table sends it to cgj.
    const auto r = w.report("0101", test::WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1));
    EXPECT_EQ(r.incident.department, "cgj");
    EXPECT_EQ(r.route.decided_by.rfind("rule:", 0), 0u) << r.route.decided_by;
    EXPECT_EQ(host.callback_failures(), before + 2);
    bool locked = false;
    bool threw = false;
    for (const auto& m : log) {
        locked = locked || m.find("the routing database is locked") != std::string::npos;
        threw = threw || m.find("a C++ exception escaping a plugin") != std::string::npos;
    }
    EXPECT_TRUE(locked);
    EXPECT_TRUE(threw);
    // The layer handed over feature by feature through the API was taken.
    const auto info = host.plugins();
    const auto it = std::find_if(info.begin(), info.end(), [](const auto& p) { return p.id == "routing_error"; });
    ASSERT_NE(it, info.end());
    ASSERT_EQ(it->layers.size(), 1u);
    ASSERT_EQ(it->layers[0].features.size(), 1u);
    EXPECT_EQ(it->layers[0].features[0].properties.at("kind"), "test");
}

class DepartmentPlugins : public ::testing::Test {
protected:
    void SetUp() override {
        host = std::make_unique<PluginHost>([](const std::string&) {});
        const auto reports = host->load(plugin_dir, {"policing", "health", "markets"});
        for (const auto& r : reports) ASSERT_TRUE(r.loaded) << r.name << ": " << r.error;
        world = std::make_unique<test::WorkflowWorld>("plugins_demo");
        // The demo district's base grid replaces the fixture's small one.
        const auto d = data::generate_demo_district();
        std::vector<LayerFeature> grids;
        for (const auto& f : d.grids.features) {
            LayerFeature lf;
            lf.code = f.id;
            lf.parent = f.id.substr(0, 12);
            lf.properties["town_code"] = f.id.substr(0, 9);
            lf.geometry = f.geometry;
            grids.push_back(lf);
        }
        world->store->publish_version("grids", grids, world->clock.now() - 1000, "demo district");
        host->sync_to_store(*world->store, world->clock.now() - 1000);
        world->geography.load_current(*world->store, world->clock.now());
        world->workflow->reload_reference_data();
        world->workflow->set_routing_hooks(host->routing_hooks());
    }
    // A point inside a unit of a plugin layer.
    spatial::Point inside(const std::string& layer, const std::string& code) {
        for (const auto& p : host->plugins())
            for (const auto& l : p.layers)
                if (l.info.id == layer)
                    for (const auto& f : l.features)
                        if (f.code == code) {
                            spatial::GeosContext ctx;
                            auto g = spatial::to_geos(ctx, f.geometry);
                            auto pt = spatial::geos_owned(ctx, GEOSPointOnSurface_r(ctx.handle(), g.get()), "point");
                            spatial::Point out;
                            GEOSGeomGetX_r(ctx.handle(), pt.get(), &out.x);
                            GEOSGeomGetY_r(ctx.handle(), pt.get(), &out.y);
                            return out;
                        }
        ADD_FAILURE() << "no unit " << code << " in " << layer;
        return {};
    }
    std::unique_ptr<PluginHost> host;
    std::unique_ptr<test::WorkflowWorld> world;
};

TEST_F(DepartmentPlugins, TheirLayersAreIndexedAndTheirCategoriesRegistered) {
    const auto geo = world->geography.get();
    std::set<std::string> layers;
    for (const auto& b : geo->business) layers.insert(b->info.id);
    for (const char* id : {"policing.stations", "policing.beats", "health.areas", "markets.offices"})
        EXPECT_TRUE(layers.count(id)) << id;
    EXPECT_TRUE(world->workflow->category("1101"));  // policing
    EXPECT_TRUE(world->workflow->category("1302"));  // health
    EXPECT_EQ(world->workflow->category("1402")->limit_unit, LimitUnit::workdays);  // markets, in C
    const auto deps = world->store->departments();
    EXPECT_TRUE(std::any_of(deps.begin(), deps.end(), [](const Department& d) { return d.code == "market" && d.plugin == "markets"; }));
    // Publishing again without a change adds no version.
    const auto versions = world->store->versions("policing.beats").size();
    host->sync_to_store(*world->store, world->clock.now());
    EXPECT_EQ(world->store->versions("policing.beats").size(), versions);
}

TEST_F(DepartmentPlugins, IncidentsAreRoutedToTheRightDepartmentAndSubUnit) {
    const auto station_point = inside("policing.stations", "PS02");  // 紫荆山派出所
    auto r = world->report("1101", station_point, world->citizen("c1"), Source::citizen);
    EXPECT_EQ(r.incident.department, "police");
    EXPECT_EQ(r.incident.sub_unit.rfind("紫荆山派出所 / PB", 0), 0u) << r.incident.sub_unit;
    EXPECT_EQ(r.route.decided_by, "plugin:policing");
    const auto area = inside("health.areas", "HA05");
    r = world->report("1302", area, world->citizen("c2"), Source::citizen);
    EXPECT_EQ(r.incident.department, "health");
    EXPECT_FALSE(r.incident.sub_unit.empty());
    const auto office = inside("markets.offices", "MS01");  // 大辛店-村里集
    r = world->report("1402", office, world->citizen("c3"), Source::citizen);
    EXPECT_EQ(r.incident.department, "market");
    EXPECT_EQ(r.incident.sub_unit, "大辛店-村里集市场监管所");
    EXPECT_EQ(r.route.decided_by, "plugin:markets");
    // A street light is none of theirs: the rules table decides.
    r = world->report("0101", office, world->citizen("c4"), Source::citizen);
    EXPECT_EQ(r.incident.department, "cgj");
    // Every incident carries its unit in every business layer.
    EXPECT_EQ(r.incident.business.size(), 4u);
}

TEST_F(DepartmentPlugins, LifecycleHooksAreCalledOnDispatch) {
    world->workflow->set_lifecycle_listener([&](const Incident& i, std::string_view e) { host->notify(i, e); });
    const auto before = host->callback_failures();
    const auto r = world->report("1101", inside("policing.stations", "PS01"), world->citizen("c"), Source::citizen);
    world->workflow->act(r.incident.id, Action::register_case, world->centre());
    world->workflow->act(r.incident.id, Action::dispatch, world->centre());
    EXPECT_EQ(host->callback_failures(), before);
}

TEST_F(DepartmentPlugins, CrosswalkSharesAgreeWithAnIndependentGeosComputation) {
    const auto geo = world->geography.get();
    std::map<std::string, Crosswalk> by_layer;
    for (const auto& b : geo->business) by_layer[b->info.id] = compute_crosswalk(*geo->base, *b, world->clock.now());
    // Stations follow the streets' boundaries in town but not in the country: real misalignments.
    const auto& st = by_layer.at("policing.stations");
    EXPECT_EQ(st.summary.grids, 1115);
    EXPECT_GT(st.summary.split, 10);
    EXPECT_GT(st.summary.aligned, 600);
    EXPECT_EQ(st.summary.aligned + st.summary.split + st.summary.uncovered, st.summary.grids);
    EXPECT_GT(by_layer.at("policing.beats").summary.split, st.summary.split);  // finer, more cuts
    // Independent check of some rows: transform both polygons to EPSG:4549 here and intersect them.
    spatial::GeosContext ctx;
    const spatial::CrsTransform t(spatial::storage_crs, spatial::metric_crs);
    auto metric = [&](spatial::MultiPolygon mp) {
        for (auto& poly : mp) {
            t.apply(poly.shell);
            for (auto& h : poly.holes) t.apply(h);
        }
        return spatial::to_geos(ctx, mp);
    };
    std::map<std::string, std::uint32_t> base_idx;
    for (std::uint32_t i = 0; i < geo->base->index.size(); ++i) base_idx[geo->base->index.unit(i).code] = i;
    const IndexedLayer* stations = nullptr;
    for (const auto& b : geo->business)
        if (b->info.id == "policing.stations") stations = b.get();
    std::map<std::string, std::uint32_t> st_idx;
    for (std::uint32_t i = 0; i < stations->index.size(); ++i) st_idx[stations->index.unit(i).code] = i;
    int checked = 0;
    for (std::size_t k = 0; k < st.rows.size(); k += 37) {
        const auto& row = st.rows[k];
        auto a = metric(geo->base->index.geometry(base_idx.at(row.base)));
        auto b = metric(stations->index.geometry(st_idx.at(row.business)));
        auto inter = spatial::geos_owned(ctx, GEOSIntersection_r(ctx.handle(), a.get(), b.get()), "intersection");
        double ia = 0, aa = 0;
        GEOSArea_r(ctx.handle(), inter.get(), &ia);
        GEOSArea_r(ctx.handle(), a.get(), &aa);
        EXPECT_NEAR(row.share, ia / aa, 1e-9) << row.base << " / " << row.business;
        EXPECT_NEAR(row.area_m2, ia, 1e-6 * ia + 1e-3);
        ++checked;
    }
    EXPECT_GT(checked, 20);
    // Stored and read back.
    world->store->put_crosswalk(st);
    const auto back = world->store->crosswalk("policing.stations");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->summary.split, st.summary.split);
    EXPECT_EQ(back->rows.size(), st.rows.size());
    EXPECT_EQ(back->misaligned, st.misaligned);
}
