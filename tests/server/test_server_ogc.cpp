// OGC API – Features over real HTTP: landing page, conformance, collections, items with paging,
// bbox/datetime/CRS/filters, CQL2, ETags; and GDAL's OAPIF driver reading every collection.

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <set>

#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

std::set<std::string> rels(const json& links) {
    std::set<std::string> out;
    for (const auto& l : links) out.insert(l.at("rel").get<std::string>());
    return out;
}

std::string link(const json& links, const std::string& rel, const std::string& type = "") {
    for (const auto& l : links)
        if (l.at("rel") == rel && (type.empty() || l.value("type", "") == type)) return l.at("href");
    return "";
}

/// Strips the scheme and authority of an absolute link.
std::string path_of(const std::string& href) {
    const auto p = href.find('/', href.find("//") + 2);
    return href.substr(p);
}

class OgcApi : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        world = new ServerWorld("ogc");
        // A few incidents at known places.
        for (int i = 0; i < 7; ++i) world->report("0102", demo_lon + i * 0.001, demo_lat);
        world->report("0201", 120.60, 37.70);
    }
    static void TearDownTestSuite() {
        delete world;
        world = nullptr;
    }
    static ServerWorld* world;
};
ServerWorld* OgcApi::world = nullptr;

TEST_F(OgcApi, LandingPageLinksToEverythingAClientNeeds) {
    Client c = world->client();
    auto r = c.get("/");
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("content-type"), "application/json");
    const auto j = r.as_json();
    const auto rs = rels(j["links"]);
    for (const char* rel : {"self", "service-desc", "service-doc", "conformance", "data"}) EXPECT_TRUE(rs.contains(rel)) << rel;
    EXPECT_EQ(link(j["links"], "self"), world->base() + "/");
    // Every link resolves.
    for (const auto& l : j["links"]) {
        auto x = c.get(path_of(l["href"]));
        EXPECT_EQ(x.status, 200u) << l["href"];
    }
}

TEST_F(OgcApi, ConformanceDeclaresTheImplementedClasses) {
    Client c = world->client();
    const auto j = c.get("/conformance").as_json();
    std::set<std::string> classes;
    for (const auto& x : j["conformsTo"]) classes.insert(x);
    for (const char* cls : {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
                            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
                            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
                            "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
                            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"})
        EXPECT_TRUE(classes.contains(cls)) << cls;
}

TEST_F(OgcApi, OpenApiDocumentDescribesEveryCollectionPath) {
    Client c = world->client();
    auto r = c.get("/api");
    ASSERT_EQ(r.status, 200u);
    EXPECT_NE(r.header("content-type").find("application/vnd.oai.openapi+json"), std::string::npos);
    const auto j = r.as_json();
    EXPECT_EQ(j["openapi"].get<std::string>().substr(0, 3), "3.0");
    const auto& paths = j["paths"];
    for (const char* p : {"/", "/conformance", "/collections", "/collections/grids/items", "/collections/incidents/items",
                          "/collections/crosswalk/items", "/collections/policing.beats/items",
                          "/collections/{collectionId}/items/{featureId}"})
        EXPECT_TRUE(paths.contains(p)) << p;
    EXPECT_EQ(c.get("/api?f=html").status, 200u);
}

TEST_F(OgcApi, CollectionsListBaseAdministrativeBusinessIncidentsAndCrosswalk) {
    Client c = world->client();
    const auto j = c.get("/collections").as_json();
    std::set<std::string> ids;
    for (const auto& col : j["collections"]) {
        ids.insert(col["id"]);
        EXPECT_FALSE(link(col["links"], "items", "application/geo+json").empty()) << col["id"];
        EXPECT_TRUE(col.contains("extent")) << col["id"];
        EXPECT_TRUE(col.contains("crs")) << col["id"];
        EXPECT_EQ(col.value("storageCrs", ""), "http://www.opengis.net/def/crs/EPSG/0/4490") << col["id"];
    }
    for (const char* id : {"grids", "towns", "communities", "district", "incidents", "crosswalk", "policing.beats",
                           "policing.stations", "health.areas", "markets.offices"})
        EXPECT_TRUE(ids.contains(id)) << id;
    EXPECT_EQ(c.get("/collections/nope").status, 404u);
    EXPECT_EQ(c.get("/collections/nope").as_json().value("code", ""), "not_found");
}

TEST_F(OgcApi, ItemsPageWithNextLinksUntilEveryGridIsSeen) {
    Client c = world->client();
    std::string target = "/collections/grids/items?limit=400";
    std::set<std::string> seen;
    int pages = 0;
    while (!target.empty()) {
        auto r = c.get(target);
        ASSERT_EQ(r.status, 200u) << target;
        EXPECT_EQ(r.header("content-type"), "application/geo+json");
        const auto j = r.as_json();
        EXPECT_EQ(j["type"], "FeatureCollection");
        EXPECT_EQ(j["numberMatched"], 1115);
        EXPECT_EQ(j["numberReturned"].get<std::size_t>(), j["features"].size());
        for (const auto& f : j["features"]) {
            EXPECT_TRUE(seen.insert(f["id"].get<std::string>()).second) << "twice: " << f["id"];
            EXPECT_EQ(f["geometry"]["type"], "MultiPolygon");
            EXPECT_EQ(f["properties"]["code"], f["id"]);
        }
        const std::string next = link(j["links"], "next");
        target = next.empty() ? "" : path_of(next);
        ++pages;
        ASSERT_LT(pages, 10);
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen.size(), 1115u);
}

TEST_F(OgcApi, LimitDefaultsTo100AndIsClampedTo10000) {
    Client c = world->client();
    EXPECT_EQ(c.get("/collections/grids/items").as_json()["numberReturned"], 100);
    EXPECT_EQ(c.get("/collections/grids/items?limit=50000").as_json()["numberReturned"], 1115);
    EXPECT_EQ(c.get("/collections/grids/items?limit=0").status, 400u);
    EXPECT_EQ(c.get("/collections/grids/items?limit=abc").status, 400u);
    EXPECT_EQ(c.get("/collections/grids/items?offset=-1").status, 400u);
}

TEST_F(OgcApi, UnknownParametersAreRefused) {
    Client c = world->client();
    auto r = c.get("/collections/grids/items?colour=red");
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(r.as_json()["description"].get<std::string>().find("colour"), std::string::npos);
}

TEST_F(OgcApi, BboxSelectsIncidentsAndBadBboxesGet400) {
    Client c = world->client();
    auto j = c.get("/collections/incidents/items?bbox=120.749,37.799,120.7535,37.801").as_json();
    EXPECT_EQ(j["numberMatched"], 4);  // lon 120.750, .751, .752, .753
    for (const auto& f : j["features"]) {
        const double lon = f["geometry"]["coordinates"][0];
        EXPECT_GE(lon, 120.749);
        EXPECT_LE(lon, 120.7535);
    }
    for (const char* bad : {"bbox=1,2,3", "bbox=a,b,c,d", "bbox=121,38,120,37", "bbox=1,2,3,4,5", "bbox=0,-95,10,10"}) {
        auto r = c.get(std::string("/collections/incidents/items?") + bad);
        EXPECT_EQ(r.status, 400u) << bad;
        EXPECT_EQ(r.as_json().value("code", ""), "invalid_parameter") << bad;
    }
}

TEST_F(OgcApi, OutputCrsFollowsTheAuthorityAxisOrderAndSaysSo) {
    Client c = world->client();
    const std::string one = "/collections/incidents/items?bbox=120.7499,37.7999,120.7501,37.8001";
    auto def = c.get(one);
    EXPECT_EQ(def.header("content-crs"), "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
    auto p = def.as_json()["features"][0]["geometry"]["coordinates"];
    EXPECT_NEAR(p[0].get<double>(), 120.75, 1e-9);
    EXPECT_NEAR(p[1].get<double>(), 37.80, 1e-9);

    auto r = c.get(one + "&crs=http://www.opengis.net/def/crs/EPSG/0/4490");
    EXPECT_EQ(r.header("content-crs"), "<http://www.opengis.net/def/crs/EPSG/0/4490>");
    p = r.as_json()["features"][0]["geometry"]["coordinates"];
    EXPECT_NEAR(p[0].get<double>(), 37.80, 1e-9);  // latitude first
    EXPECT_NEAR(p[1].get<double>(), 120.75, 1e-9);

    r = c.get(one + "&crs=http://www.opengis.net/def/crs/EPSG/0/3857");
    p = r.as_json()["features"][0]["geometry"]["coordinates"];
    EXPECT_NEAR(p[0].get<double>(), 13441828.513, 0.01);
    EXPECT_NEAR(p[1].get<double>(), 4551210.920, 0.01);

    // CGCS2000 / 3-degree GK CM 120E: northing first.
    r = c.get(one + "&crs=http://www.opengis.net/def/crs/EPSG/0/4549");
    p = r.as_json()["features"][0]["geometry"]["coordinates"];
    EXPECT_GT(p[0].get<double>(), 4'000'000.0);
    EXPECT_LT(p[1].get<double>(), 1'000'000.0);
    EXPECT_GT(p[1].get<double>(), 500'000.0);

    EXPECT_EQ(c.get(one + "&crs=http://www.opengis.net/def/crs/EPSG/0/9999").status, 400u);
}

TEST_F(OgcApi, BboxCrsInterpretsTheBoxInTheNamedSystem) {
    Client c = world->client();
    // The same box as lat/lon in EPSG:4490 axis order.
    auto j = c.get("/collections/incidents/items?bbox=37.799,120.749,37.801,120.7535&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4490")
                 .as_json();
    EXPECT_EQ(j["numberMatched"], 4);
}

TEST_F(OgcApi, QueryablesFilterAsParametersAndCql2Text) {
    Client c = world->client();
    auto q = c.get("/collections/incidents/queryables");
    ASSERT_EQ(q.status, 200u);
    EXPECT_EQ(q.header("content-type"), "application/schema+json");
    for (const char* name : {"category", "status", "grid", "town", "department"}) EXPECT_TRUE(q.as_json()["properties"].contains(name)) << name;

    EXPECT_EQ(c.get("/collections/incidents/items?category=0201").as_json()["numberMatched"], 1);
    EXPECT_EQ(c.get("/collections/incidents/items?department=cgj").as_json()["numberMatched"], 7);
    EXPECT_EQ(c.get("/collections/incidents/items?grid=" + world->demo_grid + "&category=0102").as_json()["numberMatched"].get<int>() >= 1, true);

    auto cql = [&](const std::string& text) {
        return c.get("/collections/incidents/items?filter-lang=cql2-text&filter=" + server::url_encode(text));
    };
    EXPECT_EQ(cql("category = '0201'").as_json()["numberMatched"], 1);
    EXPECT_EQ(cql("category IN ('0102','0201') AND status = 'reported'").as_json()["numberMatched"], 8);
    EXPECT_EQ(cql("NOT (category = '0102')").as_json()["numberMatched"], 1);
    EXPECT_EQ(cql("category LIKE '01%'").as_json()["numberMatched"], 7);
    EXPECT_EQ(cql("S_INTERSECTS(geometry, POLYGON((120.749 37.799, 120.7535 37.799, 120.7535 37.801, 120.749 37.801, 120.749 37.799)))")
                  .as_json()["numberMatched"],
              4);
    EXPECT_EQ(cql("escalation_level > 0").as_json()["numberMatched"], 0);
    EXPECT_EQ(cql("town = '370614001' OR category = '0201'").as_json()["numberMatched"].get<int>() >= 1, true);
    // Bad filters: a 400 that says what is wrong.
    for (const char* bad : {"category = ", "colour = 'red'", "S_INTERSECTS(geometry, POLYGON((1 2, 3 4)))", "category = '0102' AND",
                            "((("}) {
        auto r = cql(bad);
        EXPECT_EQ(r.status, 400u) << bad;
        EXPECT_FALSE(r.as_json().value("description", "").empty()) << bad;
    }
    EXPECT_EQ(c.get("/collections/incidents/items?filter-lang=cql2-json&filter=x").status, 400u);
}

TEST_F(OgcApi, DatetimeSelectsAPastVersionOfTheGridLayer) {
    Client c = world->client();
    // The base grid took effect on 2026-01-01 (Beijing time): before that there was none.
    auto before = c.get("/collections/grids/items?datetime=2025-06-01T00:00:00Z");
    EXPECT_EQ(before.status, 200u);
    EXPECT_EQ(before.as_json()["numberMatched"], 0);
    EXPECT_EQ(c.get("/collections/grids/items?datetime=2026-02-01T00:00:00Z&limit=1").as_json()["numberMatched"], 1115);
    // Incidents: an interval over the report time.
    EXPECT_EQ(c.get("/collections/incidents/items?datetime=2026-03-02T00:00:00Z/..").as_json()["numberMatched"], 8);
    EXPECT_EQ(c.get("/collections/incidents/items?datetime=../2026-01-01T00:00:00Z").as_json()["numberMatched"], 0);
    EXPECT_EQ(c.get("/collections/incidents/items?datetime=yesterday").status, 400u);
}

TEST_F(OgcApi, SingleItemsAndTheirErrors) {
    Client c = world->client();
    auto r = c.get("/collections/grids/items/" + world->demo_grid);
    ASSERT_EQ(r.status, 200u);
    const auto f = r.as_json();
    EXPECT_EQ(f["type"], "Feature");
    EXPECT_EQ(f["id"], world->demo_grid);
    EXPECT_FALSE(link(f["links"], "collection").empty());
    EXPECT_EQ(c.get("/collections/grids/items/000").status, 404u);
    EXPECT_EQ(c.get("/collections/incidents/items/1").status, 200u);
    EXPECT_EQ(c.get("/collections/incidents/items/99999").status, 404u);
    EXPECT_EQ(c.get("/collections/incidents/items/abc").status, 404u);
}

TEST_F(OgcApi, PublicIncidentFeaturesCarryNoPersonalData) {
    Client c = world->client();
    const std::string body = c.get("/collections/incidents/items?limit=100").body;
    EXPECT_EQ(body.find("13900000000"), std::string::npos);
    EXPECT_EQ(body.find("李四"), std::string::npos);
}

TEST_F(OgcApi, EtagsAnswer304WhenNothingChanged) {
    Client c = world->client();
    auto r = c.get("/collections/grids/items?limit=5");
    const std::string etag = r.header("etag");
    ASSERT_FALSE(etag.empty());
    auto again = c.get("/collections/grids/items?limit=5", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304u);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(c.get("/collections/grids/items?limit=6", {{"If-None-Match", etag}}).status, 200u);
}

TEST_F(OgcApi, HtmlViewsForBrowsers) {
    Client c = world->client();
    auto r = c.get("/collections/grids/items?limit=3", {{"Accept", "text/html"}});
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
    EXPECT_NE(r.body.find(world->demo_grid.substr(0, 9)), std::string::npos);
    EXPECT_EQ(c.get("/collections?f=html").status, 200u);
    EXPECT_EQ(c.get("/?f=html").status, 200u);
    EXPECT_EQ(c.get("/?f=xml").status, 400u);
}

TEST_F(OgcApi, CrosswalkRelatesBusinessUnitsToBaseGrids) {
    Client c = world->client();
    auto j = c.get("/collections/crosswalk/items?layer=policing.beats&limit=5").as_json();
    ASSERT_GT(j["numberMatched"].get<int>(), 0);
    const auto& p = j["features"][0]["properties"];
    EXPECT_EQ(p["layer"], "policing.beats");
    EXPECT_FALSE(p["base"].get<std::string>().empty());
    EXPECT_GT(p["share"].get<double>(), 0.0);
}

// ---- GDAL ---------------------------------------------------------------------------------------

TEST_F(OgcApi, GdalOapifDriverReadsEveryCollection) {
    GDALAllRegister();
    const std::string url = "OAPIF:" + world->base();
    GDALDatasetH ds = GDALOpenEx(url.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
    Client c = world->client();
    const auto collections = c.get("/collections").as_json()["collections"];
    ASSERT_EQ(GDALDatasetGetLayerCount(ds), static_cast<int>(collections.size()));
    for (const auto& col : collections) {
        const std::string id = col["id"];
        OGRLayerH layer = GDALDatasetGetLayerByName(ds, id.c_str());
        ASSERT_NE(layer, nullptr) << id;
        // Count by reading every feature (GDAL pages through our next links).
        std::int64_t n = 0;
        OGR_L_ResetReading(layer);
        while (OGRFeatureH f = OGR_L_GetNextFeature(layer)) {
            EXPECT_NE(OGR_F_GetGeometryRef(f), nullptr) << id;
            ++n;
            OGR_F_Destroy(f);
        }
        const auto expected = c.get("/collections/" + id + "/items?limit=1").as_json()["numberMatched"].get<std::int64_t>();
        EXPECT_EQ(n, expected) << id;
        EXPECT_GT(n, 0) << id;
    }
    // A server-side attribute filter and a spatial filter through GDAL.
    OGRLayerH incidents = GDALDatasetGetLayerByName(ds, "incidents");
    ASSERT_EQ(OGR_L_SetAttributeFilter(incidents, "category = '0201'"), OGRERR_NONE);
    EXPECT_EQ(OGR_L_GetFeatureCount(incidents, TRUE), 1);
    OGR_L_SetAttributeFilter(incidents, nullptr);
    OGR_L_SetSpatialFilterRect(incidents, 120.749, 37.799, 120.7535, 37.801);
    EXPECT_EQ(OGR_L_GetFeatureCount(incidents, TRUE), 4);
    GDALClose(ds);
}

}  // namespace
}  // namespace onegrid::test
