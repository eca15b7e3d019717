/* markets: the market supervision bureau's plugin, written in plain C to show that the ABI needs
 * no C++. Business grid: market supervision offices (市场监管所辖区), shipped in markets.gpkg.
 * Handles food safety, unlicensed vendors and market order; routes to the office of the area. */

#include <stdio.h>
#include <string.h>

#include "onegrid_plugin.h"

static const onegrid_host_api* g_host = NULL;

static const char* business(const onegrid_incident_view* incident, const char* layer) {
    uint32_t i;
    for (i = 0; i < incident->business_count; ++i) {
        if (strcmp(incident->business[i].layer, layer) == 0) return incident->business[i].code;
    }
    return "";
}

static int route(void* user, const onegrid_incident_view* incident, onegrid_route_result* out, onegrid_error* error) {
    const char* office;
    const char* name;
    (void)user;
    (void)error;
    if (strncmp(incident->category, "14", 2) != 0) return ONEGRID_ROUTE_DECLINE;
    office = business(incident, "markets.offices");
    if (office[0] == '\0') return ONEGRID_ROUTE_DECLINE;
    name = g_host->unit_name(g_host->host, "markets.offices", office);
    snprintf(out->department, sizeof out->department, "%s", "market");
    snprintf(out->sub_unit, sizeof out->sub_unit, "%s", name != NULL ? name : office);
    return ONEGRID_ROUTE_ACCEPT;
}

ONEGRID_PLUGIN_EXPORT const onegrid_plugin_magic* onegrid_plugin_abi(void) {
    static const onegrid_plugin_magic magic = ONEGRID_PLUGIN_MAGIC_INIT;
    return &magic;
}

static int category(const char* code, const char* name, const char* major, double limit, int workdays) {
    onegrid_category_decl c;
    c.struct_size = sizeof c;
    c.code = code;
    c.name = name;
    c.major_class = major;
    c.time_limit = limit;
    c.limit_in_workdays = workdays;
    return g_host->add_category(g_host->host, &c);
}

ONEGRID_PLUGIN_EXPORT int onegrid_plugin_init(const onegrid_host_api* api) {
    onegrid_plugin_info info;
    onegrid_layer_decl layer;
    g_host = api;
    info.struct_size = sizeof info;
    info.id = "markets";
    info.department_code = "market";
    info.department_name = "蓬莱区市场监督管理局";
    info.version = "1.0.0";
    if (api->set_info(api->host, &info) != ONEGRID_OK) return ONEGRID_ERROR;
    memset(&layer, 0, sizeof layer);
    layer.struct_size = sizeof layer;
    layer.id = "markets.offices";
    layer.title = "市场监管所辖区";
    layer.source = "markets.gpkg";
    layer.source_layer = "offices";
    layer.id_field = "code";
    layer.name_field = "name";
    if (api->add_layer(api->host, &layer) != ONEGRID_OK) return ONEGRID_ERROR;
    if (category("1401", "食品安全", "市场秩序", 4, 0) != ONEGRID_OK) return ONEGRID_ERROR;
    if (category("1402", "无照经营游商", "市场秩序", 1, 1) != ONEGRID_OK) return ONEGRID_ERROR;
    if (category("1403", "市场秩序", "市场秩序", 2, 1) != ONEGRID_OK) return ONEGRID_ERROR;
    return api->set_routing(api->host, route, NULL);
}
