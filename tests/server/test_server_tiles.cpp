// Vector tiles over real HTTP: TileJSON, MVT 2.1 content decoded by GDAL's MVT driver and by the
// npm package @mapbox/vector-tile, aggregation at low zooms, gzip, ETags and cache invalidation.

#include <gdal.h>
#include <ogr_api.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

struct Xyz {
    int z;
    int x;
    int y;
};

Xyz tile_of(double lon, double lat, int z) {
    const double n = std::ldexp(1.0, z);
    const double r = lat * M_PI / 180.0;
    return {z, static_cast<int>((lon + 180.0) / 360.0 * n),
            static_cast<int>((1.0 - std::log(std::tan(r) + 1.0 / std::cos(r)) / M_PI) / 2.0 * n)};
}

std::string tile_path(const std::string& layers, Xyz t) {
    return "/tiles/" + layers + "/" + std::to_string(t.z) + "/" + std::to_string(t.x) + "/" + std::to_string(t.y) + ".mvt";
}

std::string gunzip(const std::string& in) {
    z_stream s{};
    EXPECT_EQ(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
    std::string out(in.size() * 20 + 1024, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    s.avail_in = static_cast<uInt>(in.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    inflateEnd(&s);
    return out;
}

/// Writes a tile where GDAL's MVT driver georeferences it (a z/x/y.mvt path).
std::filesystem::path save_tile(const TempDir& dir, const std::string& bytes, Xyz t) {
    const auto folder = dir.path() / "tiles" / std::to_string(t.z) / std::to_string(t.x);
    std::filesystem::create_directories(folder);
    const auto file = folder / (std::to_string(t.y) + ".mvt");
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
}

std::string run(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    while (const auto n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = pclose(p);
    EXPECT_EQ(status, 0) << command << "\n" << out.substr(0, 500);
    return out;
}

class Tiles : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        world = new ServerWorld("tiles");
        for (int i = 0; i < 5; ++i) world->report("0102", demo_lon + i * 0.0001, demo_lat);
        world->report("0301", demo_lon, demo_lat + 0.0005);
    }
    static void TearDownTestSuite() {
        delete world;
        world = nullptr;
    }
    static ServerWorld* world;
};
ServerWorld* Tiles::world = nullptr;

TEST_F(Tiles, TileJsonDescribesTheLayers) {
    Client c = world->client();
    auto r = c.get("/tiles/grids,incidents.json");
    ASSERT_EQ(r.status, 200u);
    const auto j = r.as_json();
    EXPECT_EQ(j["tilejson"], "3.0.0");
    EXPECT_EQ(j["tiles"][0], world->base() + "/tiles/grids,incidents/{z}/{x}/{y}.mvt");
    ASSERT_EQ(j["vector_layers"].size(), 2u);
    EXPECT_EQ(j["vector_layers"][0]["id"], "grids");
    EXPECT_EQ(j["vector_layers"][1]["id"], "incidents");
    EXPECT_TRUE(j["vector_layers"][0]["fields"].contains("code"));
    ASSERT_EQ(j["bounds"].size(), 4u);
    EXPECT_NEAR(j["bounds"][0].get<double>(), 120.5, 0.1);
    EXPECT_EQ(c.get("/tiles/nope.json").status, 404u);
    EXPECT_EQ(c.get("/tiles").status, 200u);
}

TEST_F(Tiles, GdalMvtDriverFindsGridsAndIncidentsWithTheirProperties) {
    Client c = world->client();
    const Xyz t = tile_of(demo_lon, demo_lat, 15);
    auto r = c.get(tile_path("grids,incidents", t));
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("content-type"), "application/vnd.mapbox-vector-tile");
    TempDir dir("tiles_gdal");
    const auto file = save_tile(dir, r.body, t);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(file.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
    ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
    OGRLayerH grids = GDALDatasetGetLayerByName(ds, "grids");
    OGRLayerH incidents = GDALDatasetGetLayerByName(ds, "incidents");
    ASSERT_NE(grids, nullptr);
    ASSERT_NE(incidents, nullptr);
    // The demo point's grid is in the tile, as a polygon with its code, and it contains the point
    // (GDAL gives EPSG:3857 coordinates).
    bool found = false;
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    const double mx = demo_lon * 20037508.342789244 / 180.0;
    const double my = std::log(std::tan((90.0 + demo_lat) * M_PI / 360.0)) * 6378137.0;
    OGR_G_SetPoint_2D(pt, 0, mx, my);
    while (OGRFeatureH f = OGR_L_GetNextFeature(grids)) {
        const std::string code = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "code"));
        if (code == world->demo_grid) {
            found = true;
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            EXPECT_EQ(wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPolygon || wkbFlatten(OGR_G_GetGeometryType(g)) == wkbMultiPolygon, true);
            EXPECT_TRUE(OGR_G_Intersects(g, pt));
            EXPECT_GT(OGR_F_GetFieldAsDouble(f, OGR_F_GetFieldIndex(f, "population")), 0.0);
        }
        OGR_F_Destroy(f);
    }
    EXPECT_TRUE(found) << world->demo_grid;
    int n0102 = 0;
    while (OGRFeatureH f = OGR_L_GetNextFeature(incidents)) {
        if (std::string(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "category"))) == "0102") ++n0102;
        EXPECT_EQ(std::string(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "status"))), "reported");
        OGR_F_Destroy(f);
    }
    EXPECT_EQ(n0102, 5);
    OGR_G_DestroyGeometry(pt);
    GDALClose(ds);
}

TEST_F(Tiles, MapboxVectorTileDecodesOurTiles) {
    const std::string modules = ONEGRID_NODE_MODULES;
    ASSERT_TRUE(std::filesystem::exists(modules + "/@mapbox/vector-tile")) << "run npm ci in server/web";
    Client c = world->client();
    const Xyz t = tile_of(demo_lon, demo_lat, 14);
    auto r = c.get(tile_path("grids,incidents", t));
    ASSERT_EQ(r.status, 200u);
    TempDir dir("tiles_js");
    const auto file = save_tile(dir, r.body, t);
    const std::string out = run("node " + std::string(ONEGRID_SOURCE_DIR) + "/tests/server/decode_mvt.mjs " + modules + " " +
                                file.string() + " " + std::to_string(t.z) + " " + std::to_string(t.x) + " " + std::to_string(t.y));
    const auto j = json::parse(out);
    for (const char* name : {"grids", "incidents"}) {
        ASSERT_TRUE(j.contains(name)) << name;
        EXPECT_EQ(j[name]["version"], 2);
        EXPECT_EQ(j[name]["extent"], 4096);
    }
    // Incidents: points with ids and properties, back at their place within a tile pixel.
    int points = 0;
    for (const auto& f : j["incidents"]["features"]) {
        EXPECT_EQ(f["type"], 1);
        EXPECT_GT(f["id"].get<int>(), 0);
        const auto& xy = f["geometry"]["coordinates"];
        EXPECT_NEAR(xy[1].get<double>(), demo_lat, 0.001);
        if (f["properties"]["category"] == "0102") ++points;
    }
    EXPECT_EQ(points, 5);
    // Grids: polygons whose exterior rings decode as polygons (winding understood), with ids.
    bool found = false;
    for (const auto& f : j["grids"]["features"]) {
        EXPECT_EQ(f["type"], 3);
        EXPECT_TRUE(f["geometry"]["type"] == "Polygon" || f["geometry"]["type"] == "MultiPolygon");
        EXPECT_GT(f["id"].get<int>(), 0);
        if (f["properties"]["code"] == world->demo_grid) found = true;
    }
    EXPECT_TRUE(found);
}

TEST_F(Tiles, LowZoomsCountIncidentsPerGrid) {
    Client c = world->client();
    const Xyz t = tile_of(demo_lon, demo_lat, 10);
    auto r = c.get(tile_path("incidents", t));
    ASSERT_EQ(r.status, 200u);
    TempDir dir("tiles_low");
    const auto file = save_tile(dir, r.body, t);
    const auto j = json::parse(run("node " + std::string(ONEGRID_SOURCE_DIR) + "/tests/server/decode_mvt.mjs " +
                                   ONEGRID_NODE_MODULES + " " + file.string() + " 10 " + std::to_string(t.x) + " " +
                                   std::to_string(t.y)));
    std::int64_t total = 0;
    bool demo = false;
    for (const auto& f : j["incidents"]["features"]) {
        total += f["properties"]["count"].get<std::int64_t>();
        if (f["properties"]["grid"] == world->demo_grid) demo = true;
    }
    EXPECT_EQ(total, 6);
    EXPECT_TRUE(demo);
}

TEST_F(Tiles, GzipWhenAcceptedAndEtagsWith304) {
    Client c = world->client();
    const std::string path = tile_path("grids", tile_of(demo_lon, demo_lat, 13));
    auto plain = c.get(path);
    auto zipped = c.get(path, {{"Accept-Encoding", "gzip, deflate"}});
    ASSERT_EQ(zipped.status, 200u);
    EXPECT_EQ(zipped.header("content-encoding"), "gzip");
    EXPECT_EQ(plain.header("content-encoding"), "");
    EXPECT_EQ(zipped.header("vary"), "Accept-Encoding");
    EXPECT_LT(zipped.body.size(), plain.body.size());
    EXPECT_EQ(gunzip(zipped.body), plain.body);
    EXPECT_NE(plain.header("etag"), zipped.header("etag"));
    EXPECT_NE(plain.header("cache-control").find("max-age"), std::string::npos);
    EXPECT_EQ(c.get(path, {{"If-None-Match", plain.header("etag")}}).status, 304u);
    EXPECT_EQ(c.get(path, {{"If-None-Match", zipped.header("etag")}, {"Accept-Encoding", "gzip"}}).status, 304u);
}

TEST_F(Tiles, ANewIncidentInvalidatesTheTilesUnderIt) {
    Client c = world->client();
    const double lon = 120.70, lat = 37.70;  // in another town's grid
    const std::string here = tile_path("incidents", tile_of(lon, lat, 15));
    const std::string elsewhere = tile_path("incidents", tile_of(demo_lon, demo_lat, 15));
    const std::string low = tile_path("incidents", tile_of(lon, lat, 9));
    auto before_here = c.get(here);
    auto before_elsewhere = c.get(elsewhere);
    auto before_low = c.get(low);
    world->report("0102", lon, lat);
    auto after_here = c.get(here);
    EXPECT_NE(after_here.header("etag"), before_here.header("etag"));
    EXPECT_GT(after_here.body.size(), before_here.body.size());
    EXPECT_NE(c.get(low).header("etag"), before_low.header("etag"));
    // A tile elsewhere keeps its ETag (and stays cached).
    EXPECT_EQ(c.get(elsewhere).header("etag"), before_elsewhere.header("etag"));
}

TEST_F(Tiles, BadTileRequests) {
    Client c = world->client();
    EXPECT_EQ(c.get("/tiles/grids/3/8/1.mvt").status, 400u);    // x out of range
    EXPECT_EQ(c.get("/tiles/grids/-1/0/0.mvt").status, 400u);
    EXPECT_EQ(c.get("/tiles/grids/25/0/0.mvt").status, 400u);   // beyond the deepest zoom
    EXPECT_EQ(c.get("/tiles/grids/a/b/c.mvt").status, 400u);
    EXPECT_EQ(c.get("/tiles/nope/1/0/0.mvt").status, 404u);
    EXPECT_EQ(c.get("/tiles/grids/1/0/0.png").status, 400u);  // only .mvt
    auto r = c.get("/tiles/grids/3/8/1.mvt");
    EXPECT_FALSE(r.as_json().value("description", "").empty());
}

TEST_F(Tiles, ATileOfTheWholeDistrictStaysSmall) {
    Client c = world->client();
    // Many incidents in one area: the low-zoom tile aggregates them.
    for (int i = 0; i < 300; ++i) world->report("0301", 120.70 + (i % 30) * 0.003, 37.70 + (i / 30) * 0.003);
    for (int z = 8; z <= 12; ++z) {
        auto r = c.get(tile_path("grids,incidents", tile_of(120.75, 37.75, z)));
        ASSERT_EQ(r.status, 200u);
        EXPECT_LT(r.body.size(), 500u * 1024u) << "z" << z;
    }
}

}  // namespace
}  // namespace onegrid::test
