// policing: the public security bureau's plugin. Business grids: police station jurisdictions
// (派出所辖区) and patrol beats (警务网格), shipped in policing.gpkg next to the plugin. Handles
// public security and dispute categories and routes them to the station whose jurisdiction holds
// the incident.

#include <atomic>
#include <string>

#include "onegrid_plugin.hpp"

namespace {

namespace og = onegrid::plugin;

const onegrid_host_api* g_host = nullptr;
std::atomic<long> g_dispatched{0};

// Public security (11xx) and disputes (12xx) go to the police station of the incident's place.
std::optional<og::Route> route(const og::Incident& incident) {
    const auto category = incident.category();
    if (category.size() != 4 || (category.substr(0, 2) != "11" && category.substr(0, 2) != "12")) return std::nullopt;
    const auto station = incident.business("policing.stations");
    if (station.empty()) return std::nullopt;  // outside every jurisdiction: the rules decide
    og::Host host(g_host);
    std::string sub_unit = host.unit_name("policing.stations", station);
    if (const auto beat = incident.business("policing.beats"); !beat.empty()) sub_unit += " / " + std::string(beat);
    return og::Route{"police", sub_unit};
}

auto g_route = &route;

int on_dispatched(void*, const onegrid_incident_view* incident, onegrid_error* error) {
    return og::guarded(error, [&] {
        const long n = ++g_dispatched;
        if (n % 1000 == 0) og::Host(g_host).log(ONEGRID_LOG_INFO, std::to_string(n) + " cases dispatched to the police");
        (void)incident;
        return ONEGRID_OK;
    });
}

}  // namespace

ONEGRID_PLUGIN_DEFINE_ABI()

extern "C" ONEGRID_PLUGIN_EXPORT int onegrid_plugin_init(const onegrid_host_api* api) {
    return og::init(api, [&](const og::Host& host) {
        g_host = api;
        host.info("policing", "police", "蓬莱区公安分局", "1.0.0");
        host.layer_from_file("policing.stations", "派出所辖区", "policing.gpkg", "stations");
        host.layer_from_file("policing.beats", "警务网格", "policing.gpkg", "beats");
        host.category("1101", "治安隐患", "公共安全", 4, false);
        host.category("1102", "可疑人员物品", "公共安全", 2, false);
        host.category("1103", "消防安全隐患", "公共安全", 8, false);
        host.category("1201", "矛盾纠纷", "矛盾纠纷", 3, true);
        host.category("1202", "邻里纠纷", "矛盾纠纷", 2, true);
        og::set_routing(api, g_route);
        onegrid_lifecycle_hooks hooks{sizeof(onegrid_lifecycle_hooks), &on_dispatched, nullptr, nullptr};
        if (api->set_hooks(api->host, &hooks) != ONEGRID_OK) throw std::runtime_error("hooks refused");
    });
}
