// Routing through the plugin ABI: the cost per incident of building the C view, calling the
// plugin's callback and reading its decision, next to the same decision made by the in-process
// rules table.

#include <benchmark/benchmark.h>

#include "onegrid/core/plugin_host.hpp"

using namespace onegrid::core;

namespace {

Incident sample(const std::string& category) {
    Incident i;
    i.id = 42;
    i.category = category;
    i.description = "摊贩占道经营";
    i.location = {120.75, 37.80};
    i.grid = "370614001001001";
    i.community = "370614001001";
    i.town = "370614001";
    i.status = Status::reported;
    i.business = {{"policing.stations", "PS01", 1}, {"policing.beats", "PB001", 1}, {"health.areas", "HA01", 1},
                  {"markets.offices", "MS03", 1}};
    return i;
}

PluginHost& host() {
    static PluginHost h([](const std::string&) {});
    static bool loaded = [] {
        for (const auto& r : h.load(ONEGRID_PLUGIN_DIR, {"policing", "health", "markets"}))
            if (!r.loaded) throw std::runtime_error(r.error);
        return true;
    }();
    (void)loaded;
    return h;
}

std::shared_ptr<RoutingHook> hook(const std::string& id) {
    for (auto& h : host().routing_hooks())
        if (h->name() == id) return h;
    throw std::runtime_error("no plugin " + id);
}

void route_through(benchmark::State& state, const std::string& plugin, const std::string& category) {
    auto h = hook(plugin);
    const Incident i = sample(category);
    std::string error;
    for (auto _ : state) benchmark::DoNotOptimize(h->route(i, error));
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

static void BM_PluginRoute_Markets_C_Accept(benchmark::State& s) { route_through(s, "markets", "1402"); }
BENCHMARK(BM_PluginRoute_Markets_C_Accept);
static void BM_PluginRoute_Policing_Cpp_Accept(benchmark::State& s) { route_through(s, "policing", "1101"); }
BENCHMARK(BM_PluginRoute_Policing_Cpp_Accept);
static void BM_PluginRoute_Health_Decline(benchmark::State& s) { route_through(s, "health", "0101"); }
BENCHMARK(BM_PluginRoute_Health_Decline);

static void BM_AllPlugins_ThenRules(benchmark::State& state) {
    // What intake does for a street light: every plugin declines, then the rules table decides.
    auto hooks = host().routing_hooks();
    RoutingTable rules({{1, "01", "", "", "cgj", "", 0}, {2, "14", "town", "370614001", "market", "", 0}});
    const Incident i = sample("0101");
    std::string error;
    for (auto _ : state) {
        for (auto& h : hooks) benchmark::DoNotOptimize(h->route(i, error));
        benchmark::DoNotOptimize(rules.route(i));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllPlugins_ThenRules);

static void BM_RulesTable_Only(benchmark::State& state) {
    RoutingTable rules({{1, "01", "", "", "cgj", "", 0}, {2, "14", "town", "370614001", "market", "", 0}});
    const Incident i = sample("1402");
    for (auto _ : state) benchmark::DoNotOptimize(rules.route(i));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesTable_Only);

BENCHMARK_MAIN();
