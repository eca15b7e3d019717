// The analysis endpoints over real HTTP: indicators on a hand-built case set (and against the core
// computing the same from the store independently), the assessment with grades and rankings,
// hotspots on constructed reports, the overdue list, the CSV/XLSX report, the grid-stats
// collection and tile layer, and clear 400s for bad parameters.

#include <gdal.h>
#include <ogr_api.h>

#include <cmath>
#include <fstream>

#include "../core/workflow_fixture.hpp"
#include "onegrid/core/indicators.hpp"
#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

std::string png() {
    const auto b = png_bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

constexpr core::Timestamp hour = core::ms_per_hour;

class AnalysisApi : public ::testing::Test {
protected:
    void SetUp() override { world = std::make_unique<ServerWorld>("analysis_api"); }

    Response act(long long id, const std::string& action, core::Role role, const json& body = json::object()) {
        Client c = world->client();
        auto r = c.post_json("/v1/incidents/" + std::to_string(id) + "/actions/" + action, body, world->token(role));
        EXPECT_EQ(r.status, 200u) << action << ": " << r.body;
        return r;
    }
    Response act_with_photo(long long id, const std::string& action, core::Role role) {
        Client c = world->client();
        const std::string boundary = "----onegrid-analysis-boundary";
        const std::string body = "--" + boundary +
                                 "\r\nContent-Disposition: form-data; name=\"data\"\r\nContent-Type: application/json\r\n\r\n" +
                                 json{{"note", "evidence"}}.dump() + "\r\n--" +
                                 boundary + "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"e.png\"\r\nContent-Type: image/png\r\n\r\n" +
                                 png() + "\r\n--" + boundary + "--\r\n";
        auto r = c.request(bhttp::verb::post, "/v1/incidents/" + std::to_string(id) + "/actions/" + action, body,
                           {{"Content-Type", "multipart/form-data; boundary=" + boundary},
                            {"Authorization", "Bearer " + world->token(role)}});
        EXPECT_EQ(r.status, 200u) << action << ": " << r.body;
        return r;
    }
    long long report(const std::string& category = "0102", double lon = demo_lon, double lat = demo_lat) {
        return world->report(category, lon, lat)["id"].get<long long>();
    }
    json get(const std::string& target, core::Role role = core::Role::command_centre) {
        Client c = world->client();
        auto r = c.get_as(target, world->token(role));
        EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
        return r.as_json();
    }
    void advance(core::Timestamp ms) { world->clock.advance(ms); }

    /// Three cases on 2 March 2026 (Beijing), all in the demo grid, worked out by hand:
    /// A: dispatched at +1 h, handled at +3 h (2 h), verified, rated satisfied.
    /// B: dispatched at +1 h, handled at +3 h, verification failed at +4 h, handled again at +5 h
    ///    (1 h from the failed verification), verified: two handlings, one reworked.
    /// C: voided.
    void hand_built_cases() {
        const auto a = report();
        const auto b = report();
        const auto c = report();
        for (auto id : {a, b}) act(id, "register", core::Role::command_centre);
        act(c, "void", core::Role::command_centre, {{"note", "not a problem"}});
        advance(hour);
        for (auto id : {a, b}) {
            act(id, "dispatch", core::Role::command_centre);
            act(id, "accept", core::Role::department_handler);
        }
        advance(2 * hour);
        for (auto id : {a, b}) act_with_photo(id, "handle", core::Role::department_handler);
        advance(hour);
        act_with_photo(a, "verify_pass", core::Role::grid_worker);
        act_with_photo(b, "verify_fail", core::Role::grid_worker);
        act(a, "rate", core::Role::hotline_operator, {{"rating", "satisfied"}});
        advance(hour);
        act_with_photo(b, "handle", core::Role::department_handler);
        act_with_photo(b, "verify_pass", core::Role::grid_worker);
    }

    std::unique_ptr<ServerWorld> world;
};

json cell(const json& indicators, const std::string& code) {
    for (const auto& u : indicators["units"])
        if (u["code"] == code) return u["periods"][0];
    ADD_FAILURE() << "no unit " << code << " in " << indicators.dump().substr(0, 300);
    return json::object();
}

TEST_F(AnalysisApi, IndicatorsOfAHandBuiltCaseSet) {
    hand_built_cases();
    const auto j = get("/v1/indicators?unit=grid&period=month&from=2026-03-01&to=2026-03-31&code=" + world->demo_grid);
    EXPECT_EQ(j["unit"], "grid");
    ASSERT_EQ(j["periods"].size(), 1u);
    EXPECT_EQ(j["periods"][0]["label"], "2026-03");
    ASSERT_EQ(j["units"].size(), 1u);
    const auto g = cell(j, world->demo_grid);
    const auto& n = g["counts"];
    EXPECT_EQ(n["reported"], 3);
    EXPECT_EQ(n["registered"], 2);
    EXPECT_EQ(n["voided"], 1);
    EXPECT_EQ(n["dispatched"], 2);
    EXPECT_EQ(n["handled"], 3);
    EXPECT_EQ(n["handled_in_time"], 3);
    EXPECT_EQ(n["reworked"], 1);
    // Two rounds, both closed well before their deadline (a working-day limit): due because closed.
    EXPECT_EQ(n["due"], 2);
    EXPECT_EQ(n["closed"], 2);
    EXPECT_EQ(n["closed_in_time"], 2);
    EXPECT_EQ(n["overdue"], 0);
    EXPECT_EQ(n["rated"], 1);
    EXPECT_EQ(n["satisfied"], 1);
    const auto& r = g["rates"];
    EXPECT_EQ(r["closing_rate"]["numerator"], 2);
    EXPECT_EQ(r["closing_rate"]["denominator"], 2);
    EXPECT_DOUBLE_EQ(r["closing_rate"]["value"].get<double>(), 1.0);
    EXPECT_EQ(r["rework_rate"]["numerator"], 1);
    EXPECT_EQ(r["rework_rate"]["denominator"], 3);
    EXPECT_NEAR(r["rework_rate"]["value"].get<double>(), 1.0 / 3.0, 1e-12);
    EXPECT_EQ(r["satisfaction_rate"]["numerator"], 1);
    EXPECT_EQ(r["satisfaction_rate"]["denominator"], 1);
    // Handling times: A 2 h, B 2 h and then 1 h from the failed verification.
    EXPECT_NEAR(g["mean_handling_hours"].get<double>(), 5.0 / 3.0, 1e-9);

    // By day: everything happened on 2 March; the rounds' deadlines lie later, so that day has
    // no due rounds and its closing rates have no data (null, not 0).
    const auto d = get("/v1/indicators?unit=district&period=day&from=2026-03-01&to=2026-03-02");
    ASSERT_EQ(d["units"].size(), 1u);
    ASSERT_EQ(d["units"][0]["periods"].size(), 2u);
    EXPECT_EQ(d["units"][0]["periods"][0]["counts"]["reported"], 0);
    EXPECT_EQ(d["units"][0]["periods"][1]["counts"]["reported"], 3);
    EXPECT_EQ(d["units"][0]["periods"][1]["counts"]["due"], 0);
    EXPECT_TRUE(d["units"][0]["periods"][1]["rates"]["closing_rate"]["value"].is_null());

    // The department: both dispatches went to cgj.
    const auto dep = get("/v1/indicators?unit=department&period=custom&from=2026-03-01&to=2026-03-31");
    EXPECT_EQ(cell(dep, "cgj")["counts"]["dispatched"], 2);
    EXPECT_EQ(cell(dep, "cgj")["counts"]["closed_in_time"], 2);
}

TEST_F(AnalysisApi, TheServersLiveFiguresEqualTheCoreFromTheStore) {
    hand_built_cases();
    // A case left open past its deadline, and one reopened after an unsatisfied rating.
    const auto open = report();
    act(open, "register", core::Role::command_centre);
    act(open, "dispatch", core::Role::command_centre);
    const auto reopened = report();
    act(reopened, "register", core::Role::command_centre);
    act(reopened, "dispatch", core::Role::command_centre);
    act(reopened, "accept", core::Role::department_handler);
    act_with_photo(reopened, "handle", core::Role::department_handler);
    act_with_photo(reopened, "verify_pass", core::Role::grid_worker);
    act(reopened, "rate", core::Role::hotline_operator, {{"rating", "unsatisfied"}});
    // A grid worker's own report counts for the worker.
    {
        Client c = world->client();
        auto r = c.post_json("/v1/incidents", {{"category", "0102"}, {"description", "found on patrol"}, {"lon", demo_lon}, {"lat", demo_lat}},
                             world->token(core::Role::grid_worker));
        ASSERT_EQ(r.status, 201u) << r.body;
    }
    advance(40 * 24 * hour);
    (void)world->app->run_scheduler();  // warnings and escalations: events the case log skips
    act(reopened, "reopen", core::Role::command_centre, {{"note", "the resident was not satisfied"}});

    const std::string month = "&period=month&from=2026-03-01&to=2026-04-30";
    for (const auto kind : core::all_unit_kinds) {
        const std::string unit(core::to_string(kind));
        const auto j = get("/v1/indicators?unit=" + unit + month);
        // The same figures from a log built from the store by the core, at the same moment.
        const auto log = core::CaseLog::load(*world->store);
        core::IndicatorQuery q;
        q.unit = kind;
        q.periods = core::calendar_periods(core::PeriodKind::month, *core::parse_iso8601("2026-03-01T00:00:00+08:00"),
                                           *core::parse_iso8601("2026-05-01T00:00:00+08:00"));
        q.as_of = *core::parse_iso8601(j["as_of"].get<std::string>());
        const auto t = log.indicators(q);
        std::int64_t compared = 0;
        for (std::size_t u = 0; u < t.units.size(); ++u) {
            for (std::size_t p = 0; p < t.periods.size(); ++p) {
                // The district is one unit (named by its layer on the server).
                json mine = kind == core::UnitKind::district ? j["units"][0]["periods"][p]["counts"] : json();
                for (const auto& x : j["units"])
                    if (x["code"] == t.units[u].code) mine = x["periods"][p]["counts"];
                ASSERT_FALSE(mine.is_null()) << unit << " " << t.units[u].code;
                const auto& e = t.at(u, p);
                EXPECT_EQ(mine["reported"], e.reported) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["dispatched"], e.dispatched) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["handled"], e.handled) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["reworked"], e.reworked) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["due"], e.due) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["closed"], e.closed) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["closed_in_time"], e.closed_in_time) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["overdue"], e.overdue) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["rated"], e.rated) << unit << " " << t.units[u].code;
                EXPECT_EQ(mine["unsatisfied"], e.unsatisfied) << unit << " " << t.units[u].code;
                compared += e.reported + e.dispatched;
            }
        }
        EXPECT_GT(compared, 0) << unit;
    }
    // The open case is overdue: it is on the overdue list with its department.
    const auto o = get("/v1/overdue");
    bool listed = false;
    for (const auto& i : o["items"]) listed = listed || i["id"] == open;
    EXPECT_TRUE(listed) << o.dump().substr(0, 500);
    const auto g = get("/v1/indicators?unit=grid&period=month&from=2026-03-01&to=2026-03-31&code=" + world->demo_grid);
    EXPECT_EQ(cell(g, world->demo_grid)["counts"]["overdue"], 1);
}

TEST_F(AnalysisApi, AssessmentGradesRanksAndSorts) {
    hand_built_cases();
    const auto j = get("/v1/assessment?unit=department&month=2026-03");
    EXPECT_EQ(j["month"], "2026-03");
    EXPECT_DOUBLE_EQ(j["weights"]["closing_in_time_rate"].get<double>(), 0.30);
    ASSERT_FALSE(j["units"].empty());
    // cgj is the only department with figures: closing 100, in time 100, handling in time 100,
    // rework (1 − 1/3) × 100, satisfaction 100; weights 0.20 0.30 0.20 0.15 0.15.
    const auto& top = j["units"][0];
    EXPECT_EQ(top["code"], "cgj");
    EXPECT_EQ(top["rank"], 1);
    EXPECT_NEAR(top["score"].get<double>(), 95.0, 1e-9);
    EXPECT_EQ(top["grade"], "A");
    EXPECT_NEAR(top["rate_scores"]["rework_rate"].get<double>(), 200.0 / 3.0, 1e-9);
    EXPECT_EQ(j["grade_counts"]["A"], 1);
    // Departments without data have no score, grade or rank, and come last.
    EXPECT_TRUE(j["units"][j["units"].size() - 1]["score"].is_null());
    EXPECT_TRUE(j["units"][j["units"].size() - 1]["grade"].is_null());
    const auto s = get("/v1/assessment?unit=department&month=2026-03&sort=closing_in_time_rate");
    EXPECT_EQ(s["units"][0]["code"], "cgj");
    EXPECT_EQ(s["units"][0]["sort_rank"], 1);
    const auto grids = get("/v1/assessment?unit=grid&month=2026-03&town=" + world->demo_grid.substr(0, 9));
    for (const auto& u : grids["units"]) EXPECT_EQ(u["code"].get<std::string>().substr(0, 9), world->demo_grid.substr(0, 9));
    EXPECT_EQ(grids["units"][0]["code"], world->demo_grid);
}

TEST_F(AnalysisApi, EmergingAndRecurringHotspotsOfConstructedReports) {
    // Six reports of one category at one spot on three days of week 2026-W10, nothing before:
    // c = 6, b = 0, p = (1/9)^6 < 0.01 → emerging; 6 incidents within 50 m on 3 days → recurring.
    for (int day = 0; day < 3; ++day) {
        report("0102");
        report("0102", demo_lon + 0.0001, demo_lat);
        advance(24 * hour);
    }
    const auto j = get("/v1/hotspots?week=2026-W10");
    EXPECT_EQ(j["week"]["until"], "2026-03-05T01:00:00.000Z");  // now, as the week is not over
    bool grid_flagged = false;
    for (const auto& e : j["emerging"]) {
        if (e["grid"] == world->demo_grid && e["category"].is_null()) {
            grid_flagged = e["flagged"].get<bool>();
            EXPECT_EQ(e["current"], 6);
            EXPECT_EQ(e["trailing"], 0);
            EXPECT_NEAR(e["p_value"].get<double>(), std::pow(1.0 / 9.0, 6), 1e-12);
        }
    }
    EXPECT_TRUE(grid_flagged) << j.dump().substr(0, 800);
    ASSERT_EQ(j["recurring"].size(), 1u);
    EXPECT_EQ(j["recurring"][0]["category"], "0102");
    EXPECT_EQ(j["recurring"][0]["days"], 3);
    EXPECT_EQ(j["recurring"][0]["incidents"].size(), 6u);
    EXPECT_EQ(j["recurring"][0]["grid"], world->demo_grid);
    // Gi*: only the demo grid has incidents in the window: with n = 1115 grids its z is far above
    // 2.576 whatever its number of neighbours (6 incidents against a mean of 6/1115).
    std::string cls;
    for (const auto& g : j["gi_star"])
        if (g["grid"] == world->demo_grid) cls = g["class"];
    EXPECT_EQ(cls, "hot_99");
}

TEST_F(AnalysisApi, BadParametersAreRefusedByName) {
    Client c = world->client();
    const std::string cc = world->token(core::Role::command_centre);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/v1/indicators?unit=village", "unit"},
        {"/v1/indicators?period=year", "period"},
        {"/v1/indicators?from=2026-02-30", "from"},
        {"/v1/indicators?to=tomorrow", "to"},
        {"/v1/indicators?from=2026-03-02&to=2026-03-01", "from"},
        {"/v1/indicators?town=999999999", "town"},
        {"/v1/indicators?category=1", "category"},
        {"/v1/indicators?category=9999", "category"},
        {"/v1/indicators?unit=grid&code=nope", "code"},
        {"/v1/indicators?limit=-1", "limit"},
        {"/v1/indicators?as_of=yesterday", "as_of"},
        {"/v1/indicators?colour=red", "colour"},
        {"/v1/assessment?month=2026-13", "month"},
        {"/v1/assessment?sort=fastest", "sort"},
        {"/v1/hotspots?week=2026-W54", "week"},
        {"/v1/hotspots?week=2027-W01", "week"},
        {"/v1/reports/assessment.csv?unit=grid,street", "unit"},
        {"/v1/reports/assessment.xlsx?month=March", "month"},
        {"/v1/overdue?limit=x", "limit"},
        {"/v1/overdue?department=nope", "department"},
        {"/v1/indicators?as_of=2030-01-01T00:00:00Z", "as_of"},
    };
    for (const auto& [target, param] : cases) {
        auto r = c.get_as(target, cc);
        EXPECT_EQ(r.status, 400u) << target;
        const auto j = r.as_json();
        EXPECT_EQ(j.value("code", ""), "invalid_parameter") << target;
        EXPECT_NE(j.value("description", "").find(param), std::string::npos) << target << ": " << r.body;
    }
    EXPECT_EQ(c.get("/v1/indicators").status, 401u);
    EXPECT_EQ(c.get_as("/v1/assessment", world->token(core::Role::grid_worker)).status, 403u);
    EXPECT_EQ(c.get_as("/v1/hotspots", world->token(core::Role::citizen)).status, 403u);
    EXPECT_EQ(c.get_as("/v1/indicators", world->token(core::Role::town_officer)).status, 200u);
    EXPECT_EQ(c.get_as("/v1/reports/summary.pdf", cc).status, 404u);
    EXPECT_EQ(c.post_json("/v1/indicators", json::object(), cc).status, 405u);
}

TEST_F(AnalysisApi, TheMonthlyReportDownloadsAsCsvAndXlsx) {
    hand_built_cases();
    Client c = world->client();
    const std::string cc = world->token(core::Role::command_centre);
    auto csv = c.get_as("/v1/reports/assessment.csv?month=2026-03", cc);
    ASSERT_EQ(csv.status, 200u) << csv.body;
    EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
    EXPECT_EQ(csv.header("content-disposition"), "attachment; filename=\"assessment-2026-03.csv\"");
    EXPECT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
    EXPECT_NE(csv.body.find("按期结案率"), std::string::npos);
    EXPECT_NE(csv.body.find(world->demo_grid), std::string::npos);
    EXPECT_NE(csv.body.find("cgj"), std::string::npos);
    auto only = c.get_as("/v1/reports/assessment.csv?month=2026-03&unit=department", cc);
    EXPECT_EQ(only.body.find(world->demo_grid), std::string::npos);
    auto xlsx = c.get_as("/v1/reports/assessment.xlsx?month=2026-03&unit=grid,department", cc);
    ASSERT_EQ(xlsx.status, 200u) << xlsx.body;
    EXPECT_EQ(xlsx.header("content-type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(xlsx.header("content-disposition"), "attachment; filename=\"assessment-2026-03.xlsx\"");
    ASSERT_GT(xlsx.body.size(), 4u);
    EXPECT_EQ(xlsx.body.substr(0, 4), std::string("PK\x03\x04", 4));
    // GDAL opens it as a workbook with a sheet per assessment and the 说明 sheet.
    TempDir dir("analysis_xlsx");
    const auto file = dir.path() / "report.xlsx";
    std::ofstream(file, std::ios::binary) << xlsx.body;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(file.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
    ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
    EXPECT_EQ(GDALDatasetGetLayerCount(ds), 3);
    GDALClose(ds);
}

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

TEST_F(AnalysisApi, GridStatisticsAsAnOgcCollectionAndATileLayer) {
    hand_built_cases();
    Client c = world->client();
    // Listed among the collections, with a TileJSON link.
    const auto cols = c.get("/collections").as_json();
    bool listed = false;
    for (const auto& col : cols["collections"]) listed = listed || col["id"] == "grid-stats";
    EXPECT_TRUE(listed);
    // Items: every grid with its figures for the period chosen (public reads, like the other layers).
    auto r = c.get("/collections/grid-stats/items?period=2026-03&code=" + world->demo_grid);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = r.as_json();
    ASSERT_EQ(j["numberMatched"], 1);
    const auto& p = j["features"][0]["properties"];
    EXPECT_EQ(p["period"], "2026-03");
    EXPECT_EQ(p["reported"], 3);
    EXPECT_EQ(p["handled"], 3);
    EXPECT_EQ(p["reworked"], 1);
    EXPECT_NEAR(p["rework_rate"].get<double>(), 1.0 / 3.0, 1e-12);
    EXPECT_EQ(j["features"][0]["geometry"]["type"], "MultiPolygon");
    EXPECT_EQ(c.get("/collections/grid-stats/items?limit=1").as_json()["numberMatched"], 1115);
    // A week and a CQL2 filter on a count.
    j = c.get("/collections/grid-stats/items?period=2026-W10&filter=reported%20%3E%200").as_json();
    ASSERT_EQ(j["numberMatched"], 1);
    EXPECT_EQ(j["features"][0]["id"], world->demo_grid);
    // Another period: no reports, and rates without data are absent.
    j = c.get("/collections/grid-stats/items/" + world->demo_grid + "?period=2026-02").as_json();
    EXPECT_EQ(j["properties"]["reported"], 0);
    EXPECT_FALSE(j["properties"].contains("closing_rate"));
    // Unknown and bad parameters are 400 (OGC API Part 1), with the parameter named.
    for (const std::string target : {"/collections/grid-stats/items?periode=2026-03", "/collections/grid-stats/items?period=2026-3",
                                     "/collections/grid-stats/items?town=1", "/collections/grid-stats/items?datetime=2026-03-01T00:00:00Z",
                                     "/tiles/grid-stats.json?period=x", "/tiles/grid-stats/10/1/1.mvt?colour=red"}) {
        auto bad = c.get(target);
        EXPECT_EQ(bad.status, 400u) << target << ": " << bad.body;
    }

    // The tile layer: TileJSON carries the period into the tile URL.
    const auto tj = c.get("/tiles/grid-stats.json?period=2026-03").as_json();
    ASSERT_EQ(tj["tiles"].size(), 1u);
    EXPECT_NE(tj["tiles"][0].get<std::string>().find("?period=2026-03"), std::string::npos);
    EXPECT_EQ(tj["vector_layers"][0]["id"], "grid-stats");
    const Xyz t = tile_of(demo_lon, demo_lat, 14);
    const std::string path = "/tiles/grid-stats/14/" + std::to_string(t.x) + "/" + std::to_string(t.y) + ".mvt?period=2026-03";
    auto tile = c.get(path);
    ASSERT_EQ(tile.status, 200u) << tile.body;
    EXPECT_EQ(tile.header("content-type"), "application/vnd.mapbox-vector-tile");
    TempDir dir("analysis_tiles");
    const auto folder = dir.path() / "14" / std::to_string(t.x);
    std::filesystem::create_directories(folder);
    const auto file = folder / (std::to_string(t.y) + ".mvt");
    std::ofstream(file, std::ios::binary) << tile.body;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(file.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
    ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
    OGRLayerH layer = GDALDatasetGetLayerByName(ds, "grid-stats");
    ASSERT_NE(layer, nullptr);
    std::int64_t reported = -1;
    int features = 0;
    while (OGRFeatureH f = OGR_L_GetNextFeature(layer)) {
        ++features;
        if (std::string(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "code"))) == world->demo_grid)
            reported = OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, "reported"));
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    EXPECT_GT(features, 1);
    EXPECT_EQ(reported, 3);
    // A new report changes the figures: the cached tile is not served again.
    report();
    auto again = c.get(path);
    EXPECT_NE(again.body, tile.body);
}

}  // namespace
}  // namespace onegrid::test
