// The workflow API over real HTTP: intake (JSON and multipart with photos), every transition,
// queues, history with photos, personal data by role.

#include "../core/workflow_fixture.hpp"
#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

std::string png() {
    const auto b = png_bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// A multipart/form-data body with a JSON part and files.
struct Multipart {
    std::string boundary = "----onegrid-test-boundary-7d1f";
    std::string body;
    Multipart& json_part(const std::string& name, const json& j) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
                "\"\r\nContent-Type: application/json\r\n\r\n" + j.dump() + "\r\n";
        return *this;
    }
    Multipart& file(const std::string& name, const std::string& filename, const std::string& type, const std::string& bytes) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
                "\"\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n";
        return *this;
    }
    std::string finish() { return body + "--" + boundary + "--\r\n"; }
    [[nodiscard]] std::map<std::string, std::string> headers(const std::string& token) const {
        return {{"Content-Type", "multipart/form-data; boundary=" + boundary}, {"Authorization", "Bearer " + token}};
    }
};

class WorkflowApi : public ::testing::Test {
protected:
    void SetUp() override { world = std::make_unique<ServerWorld>("workflow_api"); }
    Response act(const std::string& id, const std::string& action, core::Role role, const json& body = json::object()) {
        Client c = world->client();
        return c.post_json("/v1/incidents/" + id + "/actions/" + action, body, world->token(role));
    }
    Response act_with_photo(const std::string& id, const std::string& action, core::Role role, const json& fields = json::object()) {
        Client c = world->client();
        Multipart m;
        m.json_part("data", fields).file("photo", "evidence.png", "image/png", png());
        auto h = m.headers(world->token(role));
        return c.request(bhttp::verb::post, "/v1/incidents/" + id + "/actions/" + action, m.finish(), h);
    }
    std::unique_ptr<ServerWorld> world;
};

TEST_F(WorkflowApi, ACaseGoesThroughEveryStepOverHttp) {
    Client c = world->client();
    // A grid worker reports with a photo (multipart).
    Multipart m;
    m.json_part("report", {{"category", "0102"}, {"description", "路灯不亮"}, {"lon", demo_lon}, {"lat", demo_lat}, {"crs", "cgcs2000"}})
        .file("photo", "lamp.png", "image/png", png());
    auto r = c.request(bhttp::verb::post, "/v1/incidents", m.finish(), m.headers(world->token(core::Role::grid_worker)));
    ASSERT_EQ(r.status, 201u) << r.body;
    auto j = r.as_json();
    const std::string id = std::to_string(j["id"].get<long long>());
    EXPECT_EQ(r.header("location"), world->base() + "/v1/incidents/" + id);
    EXPECT_EQ(j["grid"], world->demo_grid);
    EXPECT_EQ(j["status"], "reported");
    EXPECT_EQ(j["route"]["department"], "cgj");
    ASSERT_EQ(j["photos"].size(), 1u);

    // The command centre sees it in its queue, registers and dispatches it.
    auto q = c.get_as("/v1/queues/command_centre", world->token(core::Role::command_centre)).as_json();
    EXPECT_EQ(q["total"], 1);
    EXPECT_EQ(act(id, "register", core::Role::command_centre).status, 200u);
    auto d = act(id, "dispatch", core::Role::command_centre);
    ASSERT_EQ(d.status, 200u) << d.body;
    EXPECT_EQ(d.as_json()["incident"]["department"], "cgj");
    EXPECT_FALSE(d.as_json()["incident"]["due_at"].is_null());

    // The department works it: queue, accept, handle with evidence.
    q = c.get_as("/v1/queues/department", world->token(core::Role::department_handler)).as_json();
    EXPECT_EQ(q["total"], 1);
    EXPECT_EQ(act(id, "accept", core::Role::department_handler).status, 200u);
    EXPECT_EQ(act(id, "handle", core::Role::department_handler).status, 400u);  // no evidence photo
    auto h = act_with_photo(id, "handle", core::Role::department_handler, {{"note", "换了灯泡"}});
    ASSERT_EQ(h.status, 200u) << h.body;

    // The grid worker verifies on site; the resident's rating closes the loop (via the hotline).
    q = c.get_as("/v1/queues/grid", world->token(core::Role::grid_worker)).as_json();
    EXPECT_EQ(q["total"], 1);
    ASSERT_EQ(act_with_photo(id, "verify_pass", core::Role::grid_worker).status, 200u);
    auto rate = act(id, "rate", core::Role::hotline_operator, {{"rating", "satisfied"}});
    ASSERT_EQ(rate.status, 200u) << rate.body;
    EXPECT_EQ(rate.as_json()["incident"]["status"], "rated");

    // The history holds every step with its photos, and the photos are served.
    auto detail = c.get_as("/v1/incidents/" + id, world->token(core::Role::command_centre)).as_json();
    std::vector<std::string> actions;
    for (const auto& e : detail["history"]) actions.push_back(e["action"]);
    EXPECT_EQ(actions, (std::vector<std::string>{"report", "register", "dispatch", "accept", "handle", "verify_pass", "rate"}));
    int photos = 0;
    for (const auto& e : detail["history"]) {
        for (const auto& p : e["photos"]) {
            ++photos;
            const std::string href = p;
            auto img = c.get_as(href.substr(href.find("/v1/")), world->token(core::Role::command_centre));
            EXPECT_EQ(img.status, 200u);
            EXPECT_EQ(img.header("content-type"), "image/png");
            EXPECT_EQ(img.body, png());
        }
    }
    EXPECT_EQ(photos, 3);
}

TEST_F(WorkflowApi, IllegalTransitionsAndUnknownActionsAreRefused) {
    const std::string id = std::to_string(world->report("0102")["id"].get<long long>());
    auto r = act(id, "accept", core::Role::department_handler);
    EXPECT_EQ(r.status, 409u);
    EXPECT_EQ(r.as_json()["code"], "illegal_transition");
    EXPECT_EQ(act(id, "fly", core::Role::command_centre).status, 404u);
    EXPECT_EQ(act(id, "register", core::Role::grid_worker).status, 403u);
    EXPECT_EQ(act("999999", "register", core::Role::command_centre).status, 404u);
    EXPECT_EQ(act(id, "void", core::Role::command_centre).status, 400u);  // needs a reason
    EXPECT_EQ(act(id, "rate", core::Role::command_centre, {{"rating", "great"}}).status, 400u);
}

TEST_F(WorkflowApi, UploadsAreTypeCheckedAndSizeLimited) {
    Client c = world->client();
    Multipart m;
    m.json_part("report", {{"category", "0102"}, {"lon", demo_lon}, {"lat", demo_lat}})
        .file("photo", "lamp.png", "image/png", "#!/bin/sh\necho this is not a picture\n");
    auto r = c.request(bhttp::verb::post, "/v1/incidents", m.finish(), m.headers(world->token(core::Role::grid_worker)));
    EXPECT_EQ(r.status, 400u);
    EXPECT_NE(r.as_json()["description"].get<std::string>().find("photo"), std::string::npos);
    Multipart big;
    std::string huge = png();
    huge.resize(11u << 20, 'x');  // over the 10 MiB photo limit
    big.json_part("report", {{"category", "0102"}, {"lon", demo_lon}, {"lat", demo_lat}}).file("photo", "big.png", "image/png", huge);
    r = c.request(bhttp::verb::post, "/v1/incidents", big.finish(), big.headers(world->token(core::Role::grid_worker)));
    EXPECT_EQ(r.status, 400u);
    // Nothing was half-written.
    EXPECT_EQ(c.get("/collections/incidents/items").as_json()["numberMatched"], 0);
}

TEST_F(WorkflowApi, ARepeatedRequestIdIsAnsweredWithTheSameCase) {
    Client c = world->client();
    const json body = {{"request_id", "phone-7-0001"}, {"category", "0102"}, {"lon", demo_lon}, {"lat", demo_lat}};
    auto a = c.post_json("/v1/incidents", body, world->token(core::Role::grid_worker));
    auto b = c.post_json("/v1/incidents", body, world->token(core::Role::grid_worker));
    EXPECT_EQ(a.status, 201u);
    EXPECT_EQ(b.status, 200u);
    EXPECT_EQ(a.as_json()["id"], b.as_json()["id"]);
    EXPECT_FALSE(b.as_json()["created"].get<bool>());
}

TEST_F(WorkflowApi, ReportsNearAnOpenCaseOfTheSameCategoryNameItAsAPossibleDuplicate) {
    Client c = world->client();
    const auto gw = world->token(core::Role::grid_worker);
    auto first = c.post_json("/v1/incidents", {{"category", "0102"}, {"lon", demo_lon}, {"lat", demo_lat}}, gw);
    ASSERT_EQ(first.status, 201u) << first.body;
    EXPECT_TRUE(first.as_json()["possible_duplicates"].empty());
    const auto first_id = first.as_json()["id"];
    // 20 m east: the same category is a candidate, another category is not.
    const double east = demo_lon + 20.0 / (111320.0 * std::cos(demo_lat * 3.141592653589793 / 180.0));
    auto near = c.post_json("/v1/incidents", {{"category", "0102"}, {"lon", east}, {"lat", demo_lat}}, gw);
    ASSERT_EQ(near.status, 201u) << near.body;
    EXPECT_EQ(near.as_json()["possible_duplicates"], json::array({first_id}));
    auto other = c.post_json("/v1/incidents", {{"category", "0101"}, {"lon", east}, {"lat", demo_lat}}, gw);
    ASSERT_EQ(other.status, 201u) << other.body;
    EXPECT_TRUE(other.as_json()["possible_duplicates"].empty());
    // 200 m away: too far.
    const double far = demo_lon + 200.0 / (111320.0 * std::cos(demo_lat * 3.141592653589793 / 180.0));
    auto distant = c.post_json("/v1/incidents", {{"category", "0102"}, {"lon", far}, {"lat", demo_lat}}, gw);
    ASSERT_EQ(distant.status, 201u) << distant.body;
    EXPECT_TRUE(distant.as_json()["possible_duplicates"].empty());
}

TEST_F(WorkflowApi, CoordinatesInGcj02AreConvertedBeforeAssignment) {
    Client c = world->client();
    // The same place as demo_lon/demo_lat, as an Amap phone reports it (GCJ-02 shifts by ~500 m here).
    const auto gcj = spatial::wgs84_to_gcj02({demo_lon, demo_lat});
    auto r = c.post_json("/v1/incidents", {{"category", "0102"}, {"lon", gcj.x}, {"lat", gcj.y}, {"crs", "gcj02"}},
                         world->token(core::Role::grid_worker));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(r.as_json()["grid"], world->demo_grid);
    EXPECT_NEAR(r.as_json()["location"]["lon"].get<double>(), demo_lon, 1e-5);
}

TEST_F(WorkflowApi, PersonalDataIsShownOnlyToRolesThatNeedIt) {
    const auto j = world->report("0102");
    const std::string id = std::to_string(j["id"].get<long long>());
    Client c = world->client();
    auto phone_visible = [&](core::Role role) {
        auto r = c.get_as("/v1/incidents/" + id, world->token(role));
        return r.status == 200 && r.body.find("13900000000") != std::string::npos;
    };
    EXPECT_TRUE(phone_visible(core::Role::hotline_operator));
    EXPECT_TRUE(phone_visible(core::Role::command_centre));
    EXPECT_TRUE(phone_visible(core::Role::admin));
    EXPECT_TRUE(phone_visible(core::Role::grid_worker));  // the case is in the worker's grid
    EXPECT_FALSE(phone_visible(core::Role::planner));
    EXPECT_FALSE(phone_visible(core::Role::department_handler));  // not dispatched to it yet
    act(id, "register", core::Role::command_centre);
    act(id, "dispatch", core::Role::command_centre);
    EXPECT_TRUE(phone_visible(core::Role::department_handler));
}

TEST_F(WorkflowApi, ADepartmentSeesOnlyCasesDispatchedToIt) {
    Client c = world->client();
    const std::string mine = std::to_string(world->report("0102")["id"].get<long long>());   // → cgj
    const std::string other = std::to_string(world->report("0201")["id"].get<long long>());  // → jtj
    for (const auto& id : {mine, other}) {
        act(id, "register", core::Role::command_centre);
        act(id, "dispatch", core::Role::command_centre);
    }
    const std::string h = world->token(core::Role::department_handler);
    EXPECT_EQ(c.get_as("/v1/incidents/" + mine, h).status, 200u);
    EXPECT_EQ(c.get_as("/v1/incidents/" + other, h).status, 404u);
    const auto list = c.get_as("/v1/incidents", h).as_json();
    EXPECT_EQ(list["total"], 1);
    // Asking for another department's queue still answers with one's own.
    EXPECT_EQ(c.get_as("/v1/queues/department?department=jtj", h).as_json()["total"], 1);
    EXPECT_EQ(c.get_as("/v1/queues/department?department=jtj", h).as_json()["items"][0]["department"], "cgj");
    // The same through OGC API and tiles: a handler's token narrows the incident collection.
    EXPECT_EQ(c.get_as("/collections/incidents/items", h).as_json()["numberMatched"], 1);
    EXPECT_EQ(c.get("/collections/incidents/items").as_json()["numberMatched"], 2);
    // And it cannot act on the other department's case.
    EXPECT_EQ(act(other, "accept", core::Role::department_handler).status, 403u);
}

TEST_F(WorkflowApi, QueuesForTownsAndEscalations) {
    Client c = world->client();
    world->report("0102");
    auto town = c.get_as("/v1/queues/town", world->token(core::Role::town_officer)).as_json();
    EXPECT_EQ(town["total"], 1);
    EXPECT_EQ(c.get_as("/v1/queues/escalated", world->token(core::Role::command_centre)).as_json()["total"], 0);
    EXPECT_EQ(c.get_as("/v1/queues/nope", world->token(core::Role::command_centre)).status, 404u);
    EXPECT_EQ(c.get_as("/v1/queues/town", world->token(core::Role::department_handler)).status, 403u);
    auto mine = c.get_as("/v1/queues/mine", world->token(core::Role::hotline_operator)).as_json();
    EXPECT_EQ(mine["total"], 1);
}

TEST_F(WorkflowApi, ReferenceDataAndIdentity) {
    Client c = world->client();
    auto cats = c.get("/v1/categories").as_json();
    EXPECT_GE(cats.size(), 25u + 11u);
    auto deps = c.get("/v1/departments").as_json();
    std::set<std::string> codes;
    for (const auto& d : deps) codes.insert(d["code"]);
    for (const char* d : {"cgj", "police", "health", "market"}) EXPECT_TRUE(codes.contains(d)) << d;
    auto me = c.get_as("/v1/me", world->token(core::Role::department_handler)).as_json();
    EXPECT_EQ(me["role"], "department_handler");
    EXPECT_EQ(me["department"], "cgj");
    EXPECT_EQ(c.get("/v1/me").as_json()["role"], "anonymous");
}

}  // namespace
}  // namespace onegrid::test
