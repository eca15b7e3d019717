// The demo district: deterministic, complete, nested exactly, and a valid coverage.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "onegrid/data/demo_district.hpp"
#include "onegrid/spatial/coverage.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/geos.hpp"

using namespace onegrid;
using spatial::PolygonLayer;

namespace {
const data::DemoDistrict& district() {
    static const data::DemoDistrict d = data::generate_demo_district();
    return d;
}
}  // namespace

TEST(DemoDistrict, HasTheReferenceFigures) {
    const auto& d = district();
    EXPECT_EQ(d.grids.features.size(), 1115u);
    EXPECT_EQ(d.towns.features.size(), 20u);
    ASSERT_EQ(d.district.features.size(), 1u);
    // Mainland plus islands.
    EXPECT_GE(d.district.features[0].geometry.size(), 9u);
    EXPECT_GT(d.communities.features.size(), 40u);
}

TEST(DemoDistrict, IsDeterministic) {
    const auto again = data::generate_demo_district();
    const auto& d = district();
    ASSERT_EQ(again.grids.features.size(), d.grids.features.size());
    for (std::size_t i = 0; i < d.grids.features.size(); ++i) {
        ASSERT_EQ(again.grids.features[i].id, d.grids.features[i].id);
        ASSERT_EQ(again.grids.features[i].values, d.grids.features[i].values);
        ASSERT_EQ(spatial::to_wkt(again.grids.features[i].geometry), spatial::to_wkt(d.grids.features[i].geometry));
    }
    data::DemoDistrictOptions other;
    other.seed = 7;
    EXPECT_NE(spatial::to_wkt(data::generate_demo_district(other).grids.features[0].geometry),
              spatial::to_wkt(d.grids.features[0].geometry));
}

TEST(DemoDistrict, CodesFollowTheFifteenDigitLayout) {
    const auto& d = district();
    std::set<std::string> codes;
    std::set<std::string> town_codes;
    for (const auto& t : d.towns.features) town_codes.insert(t.id);
    for (const auto& f : d.grids.features) {
        ASSERT_EQ(f.id.size(), 15u) << f.id;
        ASSERT_TRUE(std::all_of(f.id.begin(), f.id.end(), ::isdigit)) << f.id;
        EXPECT_TRUE(codes.insert(f.id).second) << "duplicate " << f.id;
        EXPECT_EQ(f.id.substr(0, 6), "370614");
        EXPECT_EQ(d.grids.value(f, "community_code"), f.id.substr(0, 12));
        EXPECT_EQ(d.grids.value(f, "town_code"), f.id.substr(0, 9));
        EXPECT_TRUE(town_codes.count(f.id.substr(0, 9))) << f.id;
    }
    // The real towns and codes of the district.
    std::map<std::string, std::string> names;
    for (const auto& t : d.towns.features) names[t.id] = std::string(d.towns.value(t, "name"));
    EXPECT_EQ(names["370614001"], "登州街道");
    EXPECT_EQ(names["370614109"], "北沟镇");
    EXPECT_EQ(names["370614006"], "南长山街道");
    EXPECT_EQ(names["370614206"], "北隍城乡");
}

TEST(DemoDistrict, GridsHoldAboutAThousandResidents) {
    const auto& d = district();
    double total = 0;
    for (const auto& f : d.grids.features) {
        const double pop = std::stod(std::string(d.grids.value(f, "population")));
        const double households = std::stod(std::string(d.grids.value(f, "households")));
        EXPECT_GE(pop, 600);
        EXPECT_LE(pop, 1400);
        EXPECT_GT(households, 200);
        EXPECT_LT(households, 550);
        total += pop;
    }
    EXPECT_NEAR(total / d.grids.features.size(), 1000.0, 30.0);
}

TEST(DemoDistrict, GridsFormAValidCoverageNestedInTheirParents) {
    const auto& d = district();
    spatial::GeosContext ctx;
    std::vector<spatial::MultiPolygon> geoms;
    double grid_area = 0;
    for (const auto& f : d.grids.features) {
        auto g = spatial::to_geos(ctx, f.geometry);
        ASSERT_EQ(spatial::invalid_reason(ctx, g.get()), "") << f.id;
        geoms.push_back(f.geometry);
        grid_area += spatial::area_m2(f.geometry);
    }
    EXPECT_TRUE(spatial::find_overlaps(geoms, 0.01).empty());
    // No gaps: the grids add up to the district (the district is their union).
    const double district_area = spatial::area_m2(d.district.features[0].geometry);
    EXPECT_NEAR(grid_area, district_area, district_area * 1e-9);
    EXPECT_GT(district_area, 1.0e9);  // over 1,000 km²
    // Every grid lies within its town.
    std::map<std::string, spatial::GeosGeometryPtr> towns;
    for (const auto& t : d.towns.features) towns.emplace(t.id, spatial::to_geos(ctx, t.geometry));
    for (const auto& f : d.grids.features) {
        auto g = spatial::to_geos(ctx, f.geometry);
        ASSERT_EQ(GEOSCovers_r(ctx.handle(), towns.at(f.id.substr(0, 9)).get(), g.get()), 1) << f.id;
    }
}

TEST(DemoDistrict, WritesAGeoPackageInCgcs2000) {
    const auto dir = std::filesystem::temp_directory_path() / "onegrid_demo_test";
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "district.gpkg").string();
    data::write_demo_district(district(), path);
    spatial::ReadOptions o;
    o.layer = "grids";
    const auto grids = spatial::read_polygon_layer(path, o);
    EXPECT_EQ(grids.source_crs, "EPSG:4490");
    EXPECT_EQ(grids.features.size(), 1115u);
    o.layer = "district";
    EXPECT_EQ(spatial::read_polygon_layer(path, o).features.size(), 1u);
    std::filesystem::remove_all(dir);
}
