// Access: every role against every class of endpoint, token errors, private reads; bad requests
// each getting the right 4xx with the one JSON error format.

#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

using core::Role;

const std::vector<std::optional<Role>> everyone = {std::nullopt,       Role::citizen,        Role::grid_worker,
                                                   Role::hotline_operator, Role::department_handler, Role::town_officer,
                                                   Role::planner,      Role::command_centre, Role::admin};

std::string name(const std::optional<Role>& r) { return r ? std::string(core::to_string(*r)) : "anonymous"; }

class Access : public ::testing::Test {
protected:
    static void SetUpTestSuite() { world = new ServerWorld("access"); }
    static void TearDownTestSuite() {
        delete world;
        world = nullptr;
    }
    static std::string token(const std::optional<Role>& r) { return r ? world->token(*r) : ""; }
    static Response get(const std::string& path, const std::optional<Role>& r) {
        Client c = world->client();
        return c.get_as(path, token(r));
    }
    static Response post(const std::string& path, const json& body, const std::optional<Role>& r) {
        Client c = world->client();
        return c.post_json(path, body, token(r));
    }
    static std::string new_case() { return std::to_string(world->report("0102")["id"].get<long long>()); }
    static ServerWorld* world;
};
ServerWorld* Access::world = nullptr;

// Expected status of each endpoint class for: anonymous, citizen, grid worker, hotline operator,
// department handler, town officer, planner, command centre, admin.
struct Row {
    const char* what;
    std::function<Response(const std::optional<Role>&)> call;
    std::array<unsigned, 9> expected;
};

TEST_F(Access, EveryRoleAgainstEveryEndpointClass) {
    const std::vector<Row> matrix = {
        {"public layer items", [](auto r) { return get("/collections/grids/items?limit=1", r); },
         {200, 200, 200, 200, 200, 200, 200, 200, 200}},
        {"vector tile", [](auto r) { return get("/tiles/grids/10/855/395.mvt", r); }, {200, 200, 200, 200, 200, 200, 200, 200, 200}},
        {"Open311 services", [](auto r) { return get("/open311/v2/services.json", r); },
         {200, 200, 200, 200, 200, 200, 200, 200, 200}},
        {"intake", [](auto r) { return post("/v1/incidents", {{"category", "0301"}, {"lon", demo_lon}, {"lat", demo_lat}}, r); },
         {401, 201, 201, 201, 201, 201, 403, 201, 201}},
        {"case list", [](auto r) { return get("/v1/incidents?limit=1", r); }, {401, 200, 200, 200, 200, 200, 200, 200, 200}},
        {"register (立案)", [](auto r) { return post("/v1/incidents/" + new_case() + "/actions/register", json::object(), r); },
         {401, 403, 403, 200, 403, 200, 403, 200, 200}},
        {"department queue", [](auto r) { return get("/v1/queues/department?department=cgj", r); },
         {401, 403, 403, 200, 200, 403, 403, 200, 200}},
        {"command centre queue", [](auto r) { return get("/v1/queues/command_centre", r); },
         {401, 403, 403, 200, 403, 403, 403, 200, 200}},
        {"grid queue", [](auto r) { return get("/v1/queues/grid?grid=" + world->demo_grid, r); },
         {401, 403, 200, 403, 403, 403, 403, 200, 200}},
        {"town queue", [](auto r) { return get("/v1/queues/town?town=370614001", r); }, {401, 403, 403, 403, 403, 200, 403, 200, 200}},
    };
    for (const auto& row : matrix) {
        for (std::size_t i = 0; i < everyone.size(); ++i) {
            const auto r = row.call(everyone[i]);
            EXPECT_EQ(r.status, row.expected[i]) << row.what << " as " << name(everyone[i]) << ": " << r.body.substr(0, 200);
            if (r.status >= 400) {
                const auto j = r.as_json();
                EXPECT_TRUE(j.contains("code") && j.contains("description")) << row.what << " as " << name(everyone[i]);
            }
        }
    }
}

TEST_F(Access, BadTokensGet401WithAChallenge) {
    Client c = world->client();
    for (const std::string h : {"Bearer og_not_a_token", "Basic dXNlcjpwYXNz", "Bearer", "og_raw_token"}) {
        auto r = c.get("/collections/grids/items?limit=1", {{"Authorization", h}});
        EXPECT_EQ(r.status, 401u) << h;
        EXPECT_EQ(r.as_json()["code"], "unauthorized") << h;
        EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos) << h;
    }
    // A revoked token stops working.
    const std::string t = world->add_token(Role::hotline_operator, "op-revoked");
    EXPECT_EQ(c.get_as("/v1/queues/command_centre", t).status, 200u);
    world->store->revoke_token(core::sha256_hex(t), world->clock.now());
    world->clock.advance(31 * core::ms_per_second);  // past the token cache
    EXPECT_EQ(c.get_as("/v1/queues/command_centre", t).status, 401u);
}

TEST_F(Access, PrivateReadsNeedAToken) {
    ServerWorld::Options o;
    o.public_reads = false;
    ServerWorld closed("access_private", o);
    Client c = closed.client();
    for (const char* path : {"/collections/grids/items?limit=1", "/tiles/grids/10/855/395.mvt", "/collections"}) {
        EXPECT_EQ(c.get(path).status, 401u) << path;
        EXPECT_EQ(c.get_as(path, closed.token(Role::citizen)).status, 200u) << path;
    }
    EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST_F(Access, BadRequestsGetTheRight4xxWithAJsonError) {
    Client c = world->client();
    const std::string op = world->token(Role::hotline_operator);
    struct Case {
        std::string what;
        Response r;
        unsigned status;
    };
    std::vector<Case> cases;
    cases.push_back({"malformed JSON",
                     c.request(bhttp::verb::post, "/v1/incidents", "{\"category\": \"0102\",",
                               {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + op}}),
                     400});
    cases.push_back({"JSON that is not an object", c.post_json("/v1/incidents", json::array({1, 2}), op), 400});
    cases.push_back({"missing coordinates", c.post_json("/v1/incidents", {{"category", "0102"}}, op), 400});
    cases.push_back({"unknown category", c.post_json("/v1/incidents", {{"category", "9999"}, {"lon", demo_lon}, {"lat", demo_lat}}, op), 400});
    cases.push_back({"coordinates out of range", c.post_json("/v1/incidents", {{"category", "0102"}, {"lon", 720}, {"lat", 37}}, op), 400});
    cases.push_back({"bad bbox", c.get("/collections/incidents/items?bbox=1,2,three,4"), 400});
    cases.push_back({"unknown collection", c.get("/collections/rivers/items"), 404});
    cases.push_back({"unknown route", c.get("/nothing/here"), 404});
    cases.push_back({"bad token", c.get("/v1/incidents", {{"Authorization", "Bearer og_forged"}}), 401});
    cases.push_back({"write method on a read-only resource", c.request(bhttp::verb::delete_, "/collections/grids/items"), 405});
    cases.push_back({"malformed escape in the target", c.get("/collections/grids/items?limit=%zz"), 400});
    for (auto& [what, r, status] : cases) {
        EXPECT_EQ(r.status, status) << what << ": " << r.body;
        EXPECT_NE(r.header("content-type").find("json"), std::string::npos) << what;
        const auto j = r.as_json();
        EXPECT_TRUE(j.contains("code")) << what;
        EXPECT_FALSE(j.value("description", "").empty()) << what;
    }
    // Nothing of the refused intakes was stored.
    EXPECT_EQ(c.get("/collections/incidents/items?category=9999").as_json()["numberMatched"], 0);
}

TEST_F(Access, OversizedBodiesGet413) {
    ServerWorld::Options o;
    o.http.max_body_bytes = 64 * 1024;
    ServerWorld small("access_small", o);
    Client c = small.client();
    const std::string big(200 * 1024, 'x');
    auto r = c.request(bhttp::verb::post, "/v1/incidents", big,
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + small.token(Role::hotline_operator)}});
    EXPECT_EQ(r.status, 413u);
    EXPECT_EQ(r.as_json()["code"], "payload_too_large");
    // The server still answers.
    Client d = small.client();
    EXPECT_EQ(d.get("/healthz").status, 200u);
}

}  // namespace
}  // namespace onegrid::test
