#pragma once
/// @file
/// The demo district's departmental business grids, shipped with the three demo plugins:
/// police stations and patrol beats, community health service areas, market supervision offices.
/// Some follow the towns' boundaries and some are drawn across them, so the crosswalk finds real
/// misalignments. Synthetic and deterministic, like the district.

#include <string>

#include "onegrid/data/demo_district.hpp"

namespace onegrid::data {

struct BusinessLayers {
    spatial::PolygonLayer stations;        ///< policing: 派出所辖区
    spatial::PolygonLayer beats;           ///< policing: 警务网格 (patrol beats), within stations
    spatial::PolygonLayer health_areas;    ///< health: 社区卫生服务中心服务区
    spatial::PolygonLayer market_offices;  ///< markets: 市场监管所辖区
};

[[nodiscard]] BusinessLayers generate_business_layers(const DemoDistrict& district, std::uint64_t seed = 20220602);

/// Writes policing.gpkg (stations, beats), health.gpkg (areas) and markets.gpkg (offices) into `dir`.
void write_business_layers(const BusinessLayers& layers, const std::string& dir);

}  // namespace onegrid::data
