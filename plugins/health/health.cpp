// health: the health commission's plugin. Business grid: community health service areas
// (社区卫生服务中心服务区), shipped in health.gpkg. Handles public health and epidemic categories
// and routes them to the service centre of the area.

#include <string>

#include "onegrid_plugin.hpp"

namespace {

namespace og = onegrid::plugin;
const onegrid_host_api* g_host = nullptr;

std::optional<og::Route> route(const og::Incident& incident) {
    if (incident.category().substr(0, 2) != "13") return std::nullopt;
    const auto area = incident.business("health.areas");
    if (area.empty()) return std::nullopt;
    return og::Route{"health", og::Host(g_host).unit_name("health.areas", area)};
}

auto g_route = &route;

}  // namespace

ONEGRID_PLUGIN_DEFINE_ABI()

extern "C" ONEGRID_PLUGIN_EXPORT int onegrid_plugin_init(const onegrid_host_api* api) {
    return og::init(api, [&](const og::Host& host) {
        g_host = api;
        host.info("health", "health", "蓬莱区卫生健康局", "1.0.0");
        host.layer_from_file("health.areas", "社区卫生服务中心服务区", "health.gpkg", "areas");
        host.category("1301", "公共卫生隐患", "公共卫生", 1, true);
        host.category("1302", "传染病疫情线索", "公共卫生", 2, false);
        host.category("1303", "病媒生物孳生", "公共卫生", 2, true);
        og::set_routing(api, g_route);
    });
}
