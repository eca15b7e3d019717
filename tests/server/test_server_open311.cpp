// Open311 GeoReport v2 over real HTTP, in JSON and XML: discovery, services, definitions, POST
// with api_key, GET with the standard filters, one request, tokens, and errors.

#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

class Open311 : public ::testing::Test {
protected:
    static void SetUpTestSuite() { world = new ServerWorld("open311"); }
    static void TearDownTestSuite() {
        delete world;
        world = nullptr;
    }
    static Response post(const std::string& path, const std::string& form) {
        Client c = world->client();
        return c.request(bhttp::verb::post, path, form, {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
    static std::string key() { return world->token(core::Role::citizen); }
    static ServerWorld* world;
};
ServerWorld* Open311::world = nullptr;

TEST_F(Open311, DiscoveryListsTheEndpointInBothFormats) {
    Client c = world->client();
    const auto j = c.get("/open311/discovery.json").as_json();
    EXPECT_EQ(j["endpoints"][0]["url"], world->base() + "/open311/v2");
    EXPECT_EQ(j["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    auto x = c.get("/open311/discovery.xml");
    EXPECT_EQ(x.status, 200u);
    EXPECT_NE(x.header("content-type").find("text/xml"), std::string::npos);
    EXPECT_NE(x.body.find("<discovery>"), std::string::npos);
}

TEST_F(Open311, ServicesComeFromTheCategoriesIncludingThePlugins) {
    Client c = world->client();
    const auto j = c.get("/open311/v2/services.json").as_json();
    ASSERT_TRUE(j.is_array());
    std::set<std::string> codes;
    for (const auto& s : j) {
        codes.insert(s["service_code"]);
        EXPECT_TRUE(s["service_code"].is_string());
        EXPECT_EQ(s["type"], "realtime");
        EXPECT_FALSE(s["service_name"].get<std::string>().empty());
    }
    EXPECT_TRUE(codes.contains("0102"));  // reference data
    EXPECT_TRUE(codes.contains("1101"));  // the policing plugin
    EXPECT_TRUE(codes.contains("1401"));  // the markets plugin
    const auto x = c.get("/open311/v2/services.xml").body;
    EXPECT_NE(x.find("<services><service><service_code>"), std::string::npos);
    const auto d = c.get("/open311/v2/services/0102.json").as_json();
    EXPECT_EQ(d["service_code"], "0102");
    EXPECT_TRUE(d["attributes"].is_array());
    EXPECT_EQ(c.get("/open311/v2/services/9999.json").status, 404u);
}

TEST_F(Open311, PostNeedsAValidApiKey) {
    auto r = post("/open311/v2/requests.json", "service_code=0102&lat=37.8&long=120.75");
    EXPECT_EQ(r.status, 403u);
    const auto j = r.as_json();
    ASSERT_TRUE(j.is_array());
    EXPECT_EQ(j[0]["code"], 403);
    EXPECT_FALSE(j[0]["description"].get<std::string>().empty());
    EXPECT_EQ(post("/open311/v2/requests.json", "api_key=og_wrong&service_code=0102&lat=37.8&long=120.75").status, 403u);
    auto x = post("/open311/v2/requests.xml", "service_code=0102&lat=37.8&long=120.75");
    EXPECT_EQ(x.status, 403u);
    EXPECT_NE(x.body.find("<errors><error><code>403</code>"), std::string::npos);
}

TEST_F(Open311, PostCreatesARequestAssignedToItsGridAndGetFindsIt) {
    auto r = post("/open311/v2/requests.json",
                  "api_key=" + key() + "&service_code=0102&lat=37.8&long=120.75&description=" + server::url_encode("路灯坏了") +
                      "&first_name=Wang&last_name=Wu&phone=13700000000&media_url=" +
                      server::url_encode("https://example.org/p/1.jpg"));
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto created = r.as_json();
    ASSERT_TRUE(created.is_array());
    const std::string id = created[0]["service_request_id"];
    EXPECT_FALSE(created[0]["service_notice"].get<std::string>().empty());

    Client c = world->client();
    const auto got = c.get("/open311/v2/requests/" + id + ".json").as_json();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["status"], "open");
    EXPECT_EQ(got[0]["service_code"], "0102");
    EXPECT_EQ(got[0]["description"], "路灯坏了");
    EXPECT_EQ(got[0]["media_url"], "https://example.org/p/1.jpg");
    EXPECT_NEAR(got[0]["lat"].get<double>(), 37.8, 1e-6);
    EXPECT_NEAR(got[0]["long"].get<double>(), 120.75, 1e-6);
    EXPECT_EQ(got[0]["agency_responsible"], "蓬莱区综合行政执法局");
    // Personal data is not published.
    EXPECT_EQ(c.get("/open311/v2/requests/" + id + ".json").body.find("13700000000"), std::string::npos);
    const auto xml = c.get("/open311/v2/requests/" + id + ".xml").body;
    EXPECT_NE(xml.find("<service_request_id>" + id + "</service_request_id>"), std::string::npos);
    // The case reached the workflow: its grid is the demo grid.
    const auto detail = c.get_as("/v1/incidents/" + id, world->token(core::Role::command_centre)).as_json();
    EXPECT_EQ(detail["grid"], world->demo_grid);
    EXPECT_EQ(detail["source"], "citizen");
}

TEST_F(Open311, RequestTokensAnswerWithTheRequestId) {
    auto r = post("/open311/v2/requests.json", "api_key=" + key() + "&service_code=0301&lat=37.81&long=120.76&request_token=tok-42");
    ASSERT_EQ(r.status, 200u) << r.body;
    const std::string id = r.as_json()[0]["service_request_id"];
    Client c = world->client();
    const auto t = c.get("/open311/v2/tokens/tok-42.json").as_json();
    EXPECT_EQ(t[0]["service_request_id"], id);
    EXPECT_EQ(t[0]["token"], "tok-42");
    EXPECT_EQ(c.get("/open311/v2/tokens/none.json").status, 404u);
    // The same token again: the same request (idempotent).
    auto again = post("/open311/v2/requests.json", "api_key=" + key() + "&service_code=0301&lat=37.81&long=120.76&request_token=tok-42");
    EXPECT_EQ(again.as_json()[0]["service_request_id"], id);
}

TEST_F(Open311, GetRequestsFiltersByCodeStatusAndDates) {
    ASSERT_EQ(post("/open311/v2/requests.json", "api_key=" + key() + "&service_code=0201&lat=37.7&long=120.6").status, 200u);
    Client c = world->client();
    const auto by_code = c.get("/open311/v2/requests.json?service_code=0201").as_json();
    ASSERT_GE(by_code.size(), 1u);
    for (const auto& x : by_code) EXPECT_EQ(x["service_code"], "0201");
    EXPECT_EQ(c.get("/open311/v2/requests.json?status=closed").as_json().size(), 0u);
    EXPECT_GE(c.get("/open311/v2/requests.json?status=open").as_json().size(), 1u);
    EXPECT_EQ(c.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-01-02T00:00:00Z").as_json().size(), 0u);
    EXPECT_EQ(c.get("/open311/v2/requests.json?start_date=2026-03-01T00:00:00Z&end_date=2026-03-03T00:00:00Z").as_json().size(),
              c.get("/open311/v2/requests.json").as_json().size());
    EXPECT_EQ(c.get("/open311/v2/requests.json?status=pending").status, 400u);
    EXPECT_EQ(c.get("/open311/v2/requests.json?start_date=yesterday").status, 400u);
    EXPECT_EQ(c.get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z").status, 400u);
}

TEST_F(Open311, ClosedWorkflowStatesReadAsClosed) {
    auto r = post("/open311/v2/requests.json", "api_key=" + key() + "&service_code=0102&lat=37.8&long=120.7505");
    const std::string id = r.as_json()[0]["service_request_id"];
    Client c = world->client();
    auto act = [&](const std::string& action, core::Role role) {
        auto x = c.post_json("/v1/incidents/" + id + "/actions/" + action, {{"note", "test"}}, world->token(role));
        EXPECT_EQ(x.status, 200u) << action << ": " << x.body;
    };
    act("void", core::Role::command_centre);
    EXPECT_EQ(c.get("/open311/v2/requests/" + id + ".json").as_json()[0]["status"], "closed");
}

TEST_F(Open311, BadRequestsGetOpen311Errors) {
    const std::string k = "api_key=" + key();
    struct Case {
        std::string form;
        unsigned status;
    };
    for (const auto& [form, status] : std::vector<Case>{{k + "&lat=37.8&long=120.75", 400},
                                                        {k + "&service_code=0102", 400},
                                                        {k + "&service_code=0102&lat=north&long=120.75", 400},
                                                        {k + "&service_code=7777&lat=37.8&long=120.75", 404},
                                                        {k + "&service_code=0102&lat=37.8&long=120.75&media_url=file:///etc/passwd", 400}}) {
        auto r = post("/open311/v2/requests.json", form);
        EXPECT_EQ(r.status, status) << form;
        const auto j = r.as_json();
        ASSERT_TRUE(j.is_array()) << form;
        EXPECT_EQ(j[0]["code"].get<unsigned>(), status) << form;
    }
    Client c = world->client();
    EXPECT_EQ(c.get("/open311/v2/requests/123456.json").status, 404u);
    EXPECT_EQ(c.get("/open311/v2/requests").status, 404u);  // no format
}

}  // namespace
}  // namespace onegrid::test
