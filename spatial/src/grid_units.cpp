#include <algorithm>

#include "onegrid/spatial/features.hpp"
#include "onegrid/spatial/grid_index.hpp"

namespace onegrid::spatial {
namespace {
bool is_grid_code(std::string_view code) {
    return code.size() == 15 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::vector<GridUnit> grid_units_from(const PolygonLayer& layer) {
    std::vector<GridUnit> units;
    units.reserve(layer.features.size());
    for (const PolygonFeature& f : layer.features) {
        GridUnit u;
        u.code = f.id;
        u.name = std::string(layer.value(f, "name"));
        u.community = std::string(layer.value(f, "community_code"));
        u.community_name = std::string(layer.value(f, "community"));
        u.town = std::string(layer.value(f, "town_code"));
        u.town_name = std::string(layer.value(f, "town"));
        u.district = std::string(layer.value(f, "district_code"));
        u.district_name = std::string(layer.value(f, "district"));
        if (is_grid_code(u.code)) {
            if (u.community.empty()) u.community = u.code.substr(0, 12);
            if (u.town.empty()) u.town = u.code.substr(0, 9);
            if (u.district.empty()) u.district = u.code.substr(0, 6);
        }
        units.push_back(std::move(u));
    }
    return units;
}

GridIndex build_grid_index(const PolygonLayer& layer, const GridIndex::BuildOptions& options) {
    std::vector<MultiPolygon> geoms;
    geoms.reserve(layer.features.size());
    for (const PolygonFeature& f : layer.features) geoms.push_back(f.geometry);
    return GridIndex::build(grid_units_from(layer), std::move(geoms), options);
}

}  // namespace onegrid::spatial
