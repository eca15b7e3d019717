// Reading grid layers from every supported format, and every kind of bad input.

#include <gtest/gtest.h>

#include <filesystem>

#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/features.hpp"
#include "onegrid/spatial/grid_index.hpp"

using namespace onegrid::spatial;

namespace {

const std::string fixtures = ONEGRID_FIXTURES_DIR;
std::string grids(const std::string& f) { return fixtures + "/grids/" + f; }
std::string bad(const std::string& f) { return fixtures + "/bad/" + f; }

// The message of the exception `fn` throws, checked to be of type E.
template <class E, class Fn>
std::string error_of(Fn fn) {
    try {
        fn();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception type: ") + e.what();
    }
    return "no exception";
}

const PolygonFeature* find(const PolygonLayer& layer, const std::string& id) {
    for (const auto& f : layer.features)
        if (f.id == id) return &f;
    return nullptr;
}

// Formats may reorder features (FlatGeobuf sorts them along its spatial index), so features are
// looked up by id.
void expect_four_grids(const PolygonLayer& layer, double tolerance = 1e-9) {
    ASSERT_EQ(layer.features.size(), 4u);
    const PolygonFeature* first = find(layer, "370614001001001");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(layer.value(*first, "name"), "登州街道钟楼社区第1网格");
    const Box b = bounds(first->geometry);
    EXPECT_NEAR(b.minx, 120.74, tolerance);
    EXPECT_NEAR(b.maxy, 37.81, tolerance);
    // The fourth grid has two parts.
    const PolygonFeature* fourth = find(layer, "370614001001004");
    ASSERT_NE(fourth, nullptr);
    EXPECT_EQ(fourth->geometry.size(), 2u);
    const GridIndex index = build_grid_index(layer);
    const auto g = index.locate(120.7725, 37.7925);
    ASSERT_NE(g, GridIndex::outside);
    EXPECT_EQ(index.unit(g).code, "370614001001004");
}

}  // namespace

TEST(ReadPolygonLayer, GeoJson) { expect_four_grids(read_polygon_layer(grids("four_grids.geojson"))); }

TEST(ReadPolygonLayer, GeoPackage) { expect_four_grids(read_polygon_layer(grids("four_grids.gpkg"))); }

TEST(ReadPolygonLayer, GeoPackageInGaussKrugerIsTransformedTo4490) {
    const auto layer = read_polygon_layer(grids("four_grids_4549.gpkg"));
    EXPECT_EQ(layer.source_crs, "EPSG:4549");
    expect_four_grids(layer, 1e-8);  // a PROJ round trip: well under a millimetre
}

TEST(ReadPolygonLayer, FlatGeobuf) { expect_four_grids(read_polygon_layer(grids("four_grids.fgb"))); }

TEST(ReadPolygonLayer, Kml) {
    expect_four_grids(read_polygon_layer(grids("four_grids.kml")));
}

TEST(ReadPolygonLayer, IdFieldChosenByName) {
    ReadOptions o;
    o.id_field = "name";
    const auto layer = read_polygon_layer(grids("four_grids.gpkg"), o);
    EXPECT_NE(find(layer, "登州街道钟楼社区第3网格"), nullptr);
}

TEST(ReadPolygonLayer, CsvWithWktNeedsItsSystemNamed) {
    const std::string msg = error_of<data_error>([] { (void)read_polygon_layer(grids("four_grids_wkt.csv")); });
    EXPECT_NE(msg.find("no coordinate reference system"), std::string::npos) << msg;
    ReadOptions o;
    o.source_crs = "EPSG:4490";
    expect_four_grids(read_polygon_layer(grids("four_grids_wkt.csv"), o));
}

TEST(ReadPolygonLayer, ShapefileWithGbkAttributesIsReadAsUtf8) {
    const auto layer = read_polygon_layer(grids("four_grids_gbk.shp"));
    expect_four_grids(layer);
    EXPECT_EQ(layer.value(layer.features[0], "name"), "登州街道钟楼社区第1网格");
    EXPECT_EQ(layer.value(layer.features[1], "town"), "登州街道");
    const auto units = grid_units_from(layer);
    EXPECT_EQ(units[0].name, "登州街道钟楼社区第1网格");
    EXPECT_EQ(units[0].town, "370614001");
}

TEST(ReadPolygonLayer, MissingFile) {
    const auto msg = error_of<source_error>([] { (void)read_polygon_layer(bad("no_such_file.gpkg")); });
    EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no_such_file.gpkg"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, NotAGisFile) {
    const auto msg = error_of<source_error>([] { (void)read_polygon_layer(bad("not_a_geopackage.gpkg")); });
    EXPECT_NE(msg.find("not_a_geopackage.gpkg"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, UnknownLayer) {
    ReadOptions o;
    o.layer = "parcels";
    const auto msg = error_of<source_error>([&] { (void)read_polygon_layer(grids("four_grids.gpkg"), o); });
    EXPECT_NE(msg.find("no layer named 'parcels'"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, LayerWithoutPolygons) {
    const auto msg = error_of<data_error>([] { (void)read_polygon_layer(bad("points_only.geojson")); });
    EXPECT_NE(msg.find("no polygon features"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, UnknownCrs) {
    ReadOptions o;
    o.source_crs = "EPSG:999999";
    const auto msg = error_of<crs_error>([&] { (void)read_polygon_layer(grids("four_grids.geojson"), o); });
    EXPECT_NE(msg.find("EPSG:999999"), std::string::npos) << msg;
    // A Shapefile whose .prj cannot be parsed has no usable system either.
    const auto msg2 = error_of<data_error>([] { (void)read_polygon_layer(bad("garbage_prj.shp")); });
    EXPECT_NE(msg2.find("no coordinate reference system"), std::string::npos) << msg2;
}

TEST(ReadPolygonLayer, InvalidPolygonIsNamedWithGeosReason) {
    const auto msg = error_of<data_error>([] { (void)read_polygon_layer(bad("bowtie.geojson")); });
    EXPECT_NE(msg.find("370614001001009"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Self-intersection"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--make-valid"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, MakeValidRepairsTheBowtie) {
    ReadOptions o;
    o.make_valid = true;
    const auto layer = read_polygon_layer(bad("bowtie.geojson"), o);
    ASSERT_EQ(layer.features.size(), 2u);
    EXPECT_EQ(layer.features[1].geometry.size(), 2u);  // the bow-tie becomes two triangles
}

TEST(ReadPolygonLayer, DuplicateIdsNameBothFeatures) {
    const auto msg = error_of<data_error>([] { (void)read_polygon_layer(bad("duplicate_ids.geojson")); });
    EXPECT_NE(msg.find("duplicate id '370614001001001'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("FID 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("FID 1"), std::string::npos) << msg;
}

TEST(ReadPolygonLayer, MissingAndEmptyIdField) {
    ReadOptions o;
    o.id_field = "grid_no";
    const auto msg = error_of<data_error>([&] { (void)read_polygon_layer(grids("four_grids.geojson"), o); });
    EXPECT_NE(msg.find("no field 'grid_no'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("code"), std::string::npos) << msg;  // lists the fields there are
    const auto msg2 = error_of<data_error>([] { (void)read_polygon_layer(bad("empty_id.geojson")); });
    EXPECT_NE(msg2.find("empty 'code'"), std::string::npos) << msg2;
}

TEST(ReadPoints, CsvRowsAndBadCoordinatesGetARowStatus) {
    std::vector<PointRecord> all;
    const auto n = read_points(bad("points_bad_coordinates.csv"), {}, [&](std::vector<PointRecord>& b) {
        all.insert(all.end(), b.begin(), b.end());
    });
    ASSERT_EQ(n, 6u);
    EXPECT_TRUE(all[0].valid);
    EXPECT_FALSE(all[1].valid);  // nan
    EXPECT_FALSE(all[2].valid);  // inf
    EXPECT_FALSE(all[3].valid);  // longitude 200
    EXPECT_NE(all[3].error.find("longitude"), std::string::npos);
    EXPECT_NE(all[3].error.find("line 5"), std::string::npos);
    EXPECT_FALSE(all[4].valid);  // latitude -95
    EXPECT_TRUE(all[5].valid);
}

TEST(ReadPoints, MalformedCsvLineNamesTheLine) {
    auto sink = [](std::vector<PointRecord>&) {};
    auto msg = error_of<source_error>([&] { (void)read_points(bad("points_malformed.csv"), {}, sink); });
    EXPECT_NE(msg.find(":4:"), std::string::npos) << msg;
    msg = error_of<source_error>([&] { (void)read_points(bad("points_not_a_number.csv"), {}, sink); });
    EXPECT_NE(msg.find(":2:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a number"), std::string::npos) << msg;
    msg = error_of<source_error>([&] { (void)read_points(bad("points_wrong_header.csv"), {}, sink); });
    EXPECT_NE(msg.find("id,lon,lat"), std::string::npos) << msg;
    msg = error_of<source_error>([&] { (void)read_points(bad("missing.csv"), {}, sink); });
    EXPECT_NE(msg.find("missing.csv"), std::string::npos) << msg;
}

TEST(ReadPoints, GdalPointLayer) {
    std::vector<PointRecord> all;
    PointReadOptions o;
    o.id_field = "code";
    read_points(bad("points_only.geojson"), o, [&](std::vector<PointRecord>& b) { all.insert(all.end(), b.begin(), b.end()); });
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].id, "P1");
    EXPECT_NEAR(all[0].position.x, 120.74, 1e-12);
}

TEST(WritePolygonLayers, RoundTripsThroughEveryFormat) {
    const auto layer = read_polygon_layer(grids("four_grids.geojson"));
    const auto dir = std::filesystem::temp_directory_path() / "onegrid_write_test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const char* ext : {".gpkg", ".shp", ".geojson", ".fgb", ".kml"}) {
        const std::string path = (dir / (std::string("out") + ext)).string();
        write_polygon_layer(layer, path);
        const auto back = read_polygon_layer(path);
        SCOPED_TRACE(ext);
        expect_four_grids(back);
    }
    // Shapefiles are written with a UTF-8 .cpg.
    EXPECT_TRUE(std::filesystem::exists(dir / "out.cpg"));
    // No temporary directory is left behind.
    for (const auto& e : std::filesystem::directory_iterator(dir))
        EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos);
    // An unknown format is refused before anything is written.
    EXPECT_THROW(write_polygon_layer(layer, (dir / "out.xyz").string()), source_error);
    EXPECT_FALSE(std::filesystem::exists(dir / "out.xyz"));
    std::filesystem::remove_all(dir);
}
