// Planning over real HTTP: drafts as OGC collections with Part 4 edits and optimistic locking,
// split/merge/move-boundary operations, validation findings, publish with re-assignment of exactly
// the open cases in the changed area, versions and diffs.

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/editing.hpp"
#include "onegrid/spatial/geos.hpp"
#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

using core::Role;

spatial::MultiPolygon multipolygon_of(const json& g) {
    spatial::MultiPolygon mp;
    auto ring = [](const json& a) {
        spatial::Ring r;
        for (const auto& p : a) r.push_back({p[0].get<double>(), p[1].get<double>()});
        r.pop_back();
        return r;
    };
    for (const auto& poly : g["coordinates"]) {
        spatial::Polygon p;
        p.shell = ring(poly[0]);
        for (std::size_t i = 1; i < poly.size(); ++i) p.holes.push_back(ring(poly[i]));
        mp.push_back(p);
    }
    return mp;
}

spatial::Point inside(const spatial::MultiPolygon& mp) {
    spatial::GeosContext ctx;
    auto g = spatial::to_geos(ctx, mp);
    auto p = spatial::geos_owned(ctx, GEOSPointOnSurface_r(ctx.handle(), g.get()), "a point");
    spatial::Point out;
    GEOSGeomGetX_r(ctx.handle(), p.get(), &out.x);
    GEOSGeomGetY_r(ctx.handle(), p.get(), &out.y);
    return out;
}

class Planning : public ::testing::Test {
protected:
    void SetUp() override {
        world = std::make_unique<ServerWorld>("planning");
        planner = world->token(Role::planner);
    }
    Response send(bhttp::verb v, const std::string& path, const json& body = json::object(), const std::string& if_match = "") {
        Client c = world->client();
        std::map<std::string, std::string> h{{"Authorization", "Bearer " + planner}, {"Content-Type", "application/json"}};
        if (!if_match.empty()) h["If-Match"] = if_match;
        return c.request(v, path, body.dump(), h);
    }
    json new_draft() {
        auto r = send(bhttp::verb::post, "/v1/drafts", {{"layer", "grids"}, {"name", "test"}});
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.as_json();
    }
    json unit(const json& draft, const std::string& code) {
        Client c = world->client();
        auto r = c.get_as("/collections/" + draft["collection"].get<std::string>() + "/items/" + code, planner);
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.as_json();
    }
    std::unique_ptr<ServerWorld> world;
    std::string planner;
};

TEST_F(Planning, OnlyPlannersWorkOnDrafts) {
    Client c = world->client();
    EXPECT_EQ(c.post_json("/v1/drafts", {{"layer", "grids"}}).status, 401u);
    for (Role r : {Role::citizen, Role::grid_worker, Role::hotline_operator, Role::department_handler, Role::command_centre})
        EXPECT_EQ(c.post_json("/v1/drafts", {{"layer", "grids"}}, world->token(r)).status, 403u) << core::to_string(r);
    EXPECT_EQ(c.post_json("/v1/drafts", {{"layer", "grids"}}, world->token(Role::admin)).status, 201u);
    EXPECT_EQ(c.post_json("/v1/drafts", {{"layer", "towns"}}, planner).status, 400u);   // not an editable layer
    EXPECT_EQ(c.post_json("/v1/drafts", {{"layer", "rivers"}}, planner).status, 404u);
}

TEST_F(Planning, DraftItemsArePart4WithOptimisticLocking) {
    const auto d = new_draft();
    const std::string coll = "/collections/" + d["collection"].get<std::string>();
    Client c = world->client();
    const auto all = c.get_as(coll + "/items", planner).as_json();
    EXPECT_EQ(all["numberMatched"], 1115);
    const std::string code = world->demo_grid;
    const auto u = unit(d, code);
    const std::string tag = u["properties"]["etag"];
    // PATCH without If-Match: 428; with it: 200 and a new ETag; the old one is now stale: 412.
    EXPECT_EQ(send(bhttp::verb::patch, coll + "/items/" + code, {{"properties", {{"name", "改名"}}}}).status, 428u);
    auto ok = send(bhttp::verb::patch, coll + "/items/" + code, {{"properties", {{"name", "改名"}}}}, tag);
    ASSERT_EQ(ok.status, 200u) << ok.body;
    EXPECT_NE(ok.header("etag"), tag);
    EXPECT_EQ(ok.as_json()["properties"]["name"], "改名");
    auto stale = send(bhttp::verb::patch, coll + "/items/" + code, {{"properties", {{"name", "again"}}}}, tag);
    EXPECT_EQ(stale.status, 412u);
    EXPECT_EQ(stale.as_json()["code"], "precondition_failed");
    // POST a new unit: 201 with Location; DELETE it: 204.
    const json feature = {{"type", "Feature"},
                          {"id", "370614001005999"},
                          {"properties", {{"name", "new"}, {"parent", "370614001005"}}},
                          {"geometry", {{"type", "Polygon"}, {"coordinates", {{{121.5, 38.5}, {121.51, 38.5}, {121.51, 38.51}, {121.5, 38.5}}}}}}};
    auto created = send(bhttp::verb::post, coll + "/items", feature);
    ASSERT_EQ(created.status, 201u) << created.body;
    EXPECT_EQ(created.header("location"), world->base() + coll + "/items/370614001005999");
    EXPECT_EQ(send(bhttp::verb::post, coll + "/items", feature).status, 412u);  // exists already
    EXPECT_EQ(send(bhttp::verb::delete_, coll + "/items/370614001005999", json::object(), created.header("etag")).status, 204u);
    EXPECT_EQ(c.get_as(coll + "/items/370614001005999", planner).status, 404u);
    // Bad geometry is refused with a reason.
    auto bad = send(bhttp::verb::put, coll + "/items/" + code, {{"geometry", {{"type", "Point"}, {"coordinates", {1, 2}}}}},
                    ok.header("etag"));
    EXPECT_EQ(bad.status, 400u);
}

TEST_F(Planning, SplitValidatePublishMovesExactlyTheOpenCasesInTheChangedArea) {
    const auto d = new_draft();
    const std::string id = std::to_string(d["id"].get<long long>());
    const std::string code = world->demo_grid;
    const auto u = unit(d, code);
    const auto geom = multipolygon_of(u["geometry"]);
    const auto box = spatial::bounds(geom);
    const double cx = (box.minx + box.maxx) / 2;
    const json line = {{"type", "LineString"}, {"coordinates", {{cx, box.miny - 0.001}, {cx, box.maxy + 0.001}}}};
    // Operations need If-Match.
    EXPECT_EQ(send(bhttp::verb::post, "/v1/drafts/" + id + "/split", {{"code", code}, {"line", line}}).status, 428u);
    auto split = send(bhttp::verb::post, "/v1/drafts/" + id + "/split", {{"code", code}, {"line", line}}, u["properties"]["etag"]);
    ASSERT_EQ(split.status, 200u) << split.body;
    const auto changed = split.as_json()["changed"]["features"];
    ASSERT_EQ(changed.size(), 2u);
    EXPECT_EQ(changed[0]["id"], code);
    const std::string new_code = changed[1]["id"];
    EXPECT_EQ(new_code.substr(0, 12), code.substr(0, 12));
    const auto kept_point = inside(multipolygon_of(changed[0]["geometry"]));
    const auto new_point = inside(multipolygon_of(changed[1]["geometry"]));

    // Cases: one in each piece, one elsewhere, and a closed one in the new piece.
    const auto a = world->report("0102", kept_point.x, kept_point.y)["id"].get<long long>();
    const auto b = world->report("0102", new_point.x, new_point.y)["id"].get<long long>();
    const auto elsewhere = world->report("0102", 120.70, 37.70)["id"].get<long long>();
    const auto closed = world->report("0301", new_point.x, new_point.y)["id"].get<long long>();
    Client c = world->client();
    ASSERT_EQ(c.post_json("/v1/incidents/" + std::to_string(closed) + "/actions/void", {{"note", "duplicate"}},
                          world->token(Role::command_centre)).status, 200u);

    auto v = send(bhttp::verb::post, "/v1/drafts/" + id + "/validate");
    ASSERT_EQ(v.status, 200u) << v.body;
    EXPECT_EQ(v.as_json()["errors"], 0) << v.body.substr(0, 2000);
    auto preview = c.get_as("/v1/drafts/" + id + "/preview", planner).as_json();
    EXPECT_EQ(preview["incidents_to_move"], 1);
    EXPECT_EQ(preview["changed"], (json{code, new_code}));

    auto pub = send(bhttp::verb::post, "/v1/drafts/" + id + "/publish", {{"note", "split for the new estate"}});
    ASSERT_EQ(pub.status, 200u) << pub.body;
    EXPECT_EQ(pub.as_json()["version"], 2);
    EXPECT_EQ(pub.as_json()["moved"], 1);
    const std::string cc = world->token(Role::command_centre);
    auto grid_of = [&](long long incident) { return c.get_as("/v1/incidents/" + std::to_string(incident), cc).as_json(); };
    EXPECT_EQ(grid_of(a)["grid"], code);
    const auto moved = grid_of(b);
    EXPECT_EQ(moved["grid"], new_code);
    EXPECT_EQ(moved["history"].back()["action"], "reassign");
    EXPECT_EQ(moved["history"].back()["data"]["from"], code);
    EXPECT_EQ(moved["history"].back()["data"]["to"], new_code);
    EXPECT_EQ(grid_of(closed)["grid"], code);  // closed cases keep their historical grid
    EXPECT_EQ(grid_of(elsewhere)["history"].size(), 1u);
    // The public views follow: the new grid is served, the old version stays queryable.
    EXPECT_EQ(c.get("/collections/grids/items?limit=1").as_json()["numberMatched"], 1116);
    EXPECT_EQ(c.get("/collections/grids/items?limit=1&datetime=2026-02-01T00:00:00Z").as_json()["numberMatched"], 1115);
    EXPECT_EQ(c.get("/collections/incidents/items?grid=" + new_code).as_json()["numberMatched"], 1);
    // A new case at the same place goes to the new grid.
    EXPECT_EQ(world->report("0102", new_point.x, new_point.y)["grid"], new_code);
    // Versions and the diff.
    EXPECT_EQ(c.get("/v1/layers/grids/versions").as_json().size(), 2u);
    const auto diff = c.get("/v1/layers/grids/diff?from=1&to=2").as_json();
    EXPECT_EQ(diff["added"], json::array({new_code}));
    ASSERT_EQ(diff["changed"].size(), 1u);
    EXPECT_EQ(diff["changed"][0]["code"], code);
    EXPECT_LT(diff["changed"][0]["area_change_m2"].get<double>(), 0.0);
    EXPECT_EQ(c.get("/v1/layers/grids/diff?from=1&to=9").status, 404u);
    // The draft was consumed; a draft made before the publish cannot overwrite it.
    EXPECT_EQ(c.get_as("/v1/drafts/" + id, planner).status, 404u);
}

TEST_F(Planning, ReCodingManyGridsMovesTheOpenCasesInThemAndNoOthers) {
    // Twenty grids re-coded in one draft (more areas than publish looks up one by one): one open
    // case in each moves to the new code; a case elsewhere and a closed one stay where they were.
    const auto d = new_draft();
    const std::string id = std::to_string(d["id"].get<long long>());
    Client c = world->client();
    const auto all = c.get_as("/collections/" + d["collection"].get<std::string>() + "/items?limit=10000", planner).as_json();
    std::vector<json> grids;
    for (const auto& f : all["features"])
        if (f["geometry"]["type"] == "MultiPolygon" && f["geometry"]["coordinates"].size() == 1) grids.push_back(f);
    ASSERT_GT(grids.size(), 21u);
    const json other = grids[21];
    grids.resize(20);
    const std::string cc = world->token(Role::command_centre);
    std::map<long long, std::string> expected;  // case → grid after the publish
    auto recoded = [](const std::string& code) { return code.substr(0, 12) + std::to_string(500 + std::stoi(code.substr(12))); };
    for (const auto& g : grids) {
        const std::string code = g["id"];
        const auto p = inside(multipolygon_of(g["geometry"]));
        const auto r = world->report("0102", p.x, p.y);
        ASSERT_EQ(r["grid"], code);
        const std::string to = recoded(code);
        expected[r["id"].get<long long>()] = to;
        auto rc = send(bhttp::verb::post, "/v1/drafts/" + id + "/recode", {{"from", code}, {"to", to}}, g["properties"]["etag"]);
        ASSERT_EQ(rc.status, 200u) << rc.body;
    }
    const auto po = inside(multipolygon_of(other["geometry"]));
    const auto elsewhere = world->report("0102", po.x, po.y)["id"].get<long long>();
    expected[elsewhere] = other["id"];
    const auto pc = inside(multipolygon_of(grids[0]["geometry"]));
    const auto closed = world->report("0301", pc.x, pc.y)["id"].get<long long>();
    ASSERT_EQ(c.post_json("/v1/incidents/" + std::to_string(closed) + "/actions/void", {{"note", "duplicate"}}, cc).status, 200u);
    expected[closed] = grids[0]["id"];

    const auto before = c.get_as("/collections/incidents/items?limit=1&status=reported,registered,dispatched,accepted,returned,handled,rework", cc)
                            .as_json()["numberMatched"].get<long long>();
    auto preview = c.get_as("/v1/drafts/" + id + "/preview", planner).as_json();
    EXPECT_EQ(preview["changed"].size(), 40u);  // 20 codes gone, 20 new
    auto pub = send(bhttp::verb::post, "/v1/drafts/" + id + "/publish");
    ASSERT_EQ(pub.status, 200u) << pub.body;
    // Every open case inside the re-coded grids moved (the fixture's own cases included), and only those.
    long long in_recoded = 0;
    for (const auto& g : grids) {
        in_recoded += c.get_as("/collections/incidents/items?limit=1&grid=" + recoded(g["id"].get<std::string>()) +
                                   "&status=reported,registered,dispatched,accepted,returned,handled,rework", cc)
                          .as_json()["numberMatched"].get<long long>();
    }
    EXPECT_EQ(pub.as_json()["moved"].get<long long>(), in_recoded);
    EXPECT_EQ(preview["incidents_to_move"].get<long long>(), in_recoded);
    EXPECT_GE(in_recoded, 20);
    EXPECT_LT(in_recoded, before);
    for (const auto& [incident, grid] : expected) {
        const auto i = c.get_as("/v1/incidents/" + std::to_string(incident), cc).as_json();
        EXPECT_EQ(i["grid"], grid) << "case " << incident;
        EXPECT_EQ(i["history"].back()["action"] == "reassign", incident != elsewhere && incident != closed) << "case " << incident;
    }
}

TEST_F(Planning, BadEditsAreFoundAndPublishIsRefused) {
    const auto d = new_draft();
    const std::string id = std::to_string(d["id"].get<long long>());
    const std::string coll = "/collections/" + d["collection"].get<std::string>();
    const std::string code = world->demo_grid;
    const auto u = unit(d, code);
    // Grow the grid into its neighbours (overlaps, and out of its community) …
    const auto box = spatial::bounds(multipolygon_of(u["geometry"]));
    const double m = 0.004;
    const json big = {{"type", "Polygon"},
                      {"coordinates", {{{box.minx - m, box.miny - m}, {box.maxx + m, box.miny - m}, {box.maxx + m, box.maxy + m},
                                        {box.minx - m, box.maxy + m}, {box.minx - m, box.miny - m}}}}};
    ASSERT_EQ(send(bhttp::verb::put, coll + "/items/" + code, {{"geometry", big}}, u["properties"]["etag"]).status, 200u);
    // … and delete another grid far away (a gap).
    const std::string far = "370614107003012";
    const auto f = unit(d, far);
    ASSERT_EQ(send(bhttp::verb::delete_, coll + "/items/" + far, json::object(), f["properties"]["etag"]).status, 204u);
    auto v = send(bhttp::verb::post, "/v1/drafts/" + id + "/validate").as_json();
    std::set<std::string> rules;
    for (const auto& x : v["findings"]["features"]) {
        if (x["properties"]["severity"] == "error") rules.insert(x["properties"]["rule"]);
        EXPECT_FALSE(x["geometry"].is_null()) << x["properties"]["message"];
    }
    EXPECT_TRUE(rules.contains("overlap"));
    EXPECT_TRUE(rules.contains("gap"));
    EXPECT_TRUE(rules.contains("outside_parent"));
    EXPECT_GT(v["errors"].get<int>(), 0);
    auto pub = send(bhttp::verb::post, "/v1/drafts/" + id + "/publish");
    EXPECT_EQ(pub.status, 409u);
    EXPECT_EQ(pub.as_json()["code"], "validation_failed");
    Client c = world->client();
    EXPECT_EQ(c.get("/v1/layers/grids/versions").as_json().size(), 1u);  // nothing published
}

TEST_F(Planning, MergeAndMoveBoundaryThroughTheApi) {
    const auto d = new_draft();
    const std::string id = std::to_string(d["id"].get<long long>());
    // Two neighbours: the demo grid and the next one in its community that shares a boundary.
    const std::string a = world->demo_grid;
    const auto ua = unit(d, a);
    std::string b;
    json ub;
    for (int seq = 1; seq < 60 && b.empty(); ++seq) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%03d", seq);
        const std::string cand = a.substr(0, 12) + buf;
        if (cand == a) continue;
        Client c = world->client();
        auto r = c.get_as("/collections/" + d["collection"].get<std::string>() + "/items/" + cand, planner);
        if (r.status != 200) continue;
        if (spatial::shared_boundary_m(multipolygon_of(ua["geometry"]), multipolygon_of(r.as_json()["geometry"])) > 50) {
            b = cand;
            ub = r.as_json();
        }
    }
    ASSERT_FALSE(b.empty());
    const std::string tags = ua["properties"]["etag"].get<std::string>() + ", " + ub["properties"]["etag"].get<std::string>();
    auto merged = send(bhttp::verb::post, "/v1/drafts/" + id + "/merge", {{"codes", {a, b}}}, tags);
    ASSERT_EQ(merged.status, 200u) << merged.body;
    EXPECT_EQ(merged.as_json()["removed"], json::array({b}));
    EXPECT_EQ(merged.as_json()["changed"]["features"][0]["id"], a);
    // The same edit again is stale now.
    EXPECT_EQ(send(bhttp::verb::post, "/v1/drafts/" + id + "/merge", {{"codes", {a, b}}}, tags).status, 412u);
    // A merge of units that are not neighbours is refused with the reason.
    const auto far = unit(d, "370614107003012");
    auto bad = send(bhttp::verb::post, "/v1/drafts/" + id + "/merge", {{"codes", {a, "370614107003012"}}},
                    merged.as_json()["changed"]["features"][0]["properties"]["etag"].get<std::string>() + "," +
                        far["properties"]["etag"].get<std::string>());
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(bad.as_json()["description"].get<std::string>().find("share"), std::string::npos);

    // Move a boundary: split a grid at 50% of its width, then move the new boundary to 70%:
    // both pieces change together, the total area stays, and the coverage keeps no gap or overlap.
    const std::string g = "370614107003012";
    const auto ug = unit(d, g);
    const auto gbox = spatial::bounds(multipolygon_of(ug["geometry"]));
    auto vertical = [&](double share) {
        const double x = gbox.minx + share * (gbox.maxx - gbox.minx);
        return json{{"type", "LineString"}, {"coordinates", {{x, gbox.miny - 0.001}, {x, gbox.maxy + 0.001}}}};
    };
    auto split = send(bhttp::verb::post, "/v1/drafts/" + id + "/split", {{"code", g}, {"line", vertical(0.5)}}, ug["properties"]["etag"]);
    ASSERT_EQ(split.status, 200u) << split.body;
    const auto pieces = split.as_json()["changed"]["features"];
    const double before = spatial::area_m2(multipolygon_of(pieces[0]["geometry"])) + spatial::area_m2(multipolygon_of(pieces[1]["geometry"]));
    auto moved = send(bhttp::verb::post, "/v1/drafts/" + id + "/move-boundary",
                      {{"a", pieces[0]["id"]}, {"b", pieces[1]["id"]}, {"line", vertical(0.7)}},
                      pieces[0]["properties"]["etag"].get<std::string>() + ", " + pieces[1]["properties"]["etag"].get<std::string>());
    ASSERT_EQ(moved.status, 200u) << moved.body;
    const auto fs = moved.as_json()["changed"]["features"];
    ASSERT_EQ(fs.size(), 2u);
    const double after = spatial::area_m2(multipolygon_of(fs[0]["geometry"])) + spatial::area_m2(multipolygon_of(fs[1]["geometry"]));
    EXPECT_NEAR(after, before, 1.0);
    EXPECT_NE(spatial::area_m2(multipolygon_of(fs[0]["geometry"])), spatial::area_m2(multipolygon_of(pieces[0]["geometry"])));
    auto v = send(bhttp::verb::post, "/v1/drafts/" + id + "/validate").as_json();
    for (const auto& x : v["findings"]["features"]) {
        const std::string rule = x["properties"]["rule"];
        EXPECT_TRUE(rule != "overlap" && rule != "gap") << x["properties"]["message"];
    }
    // A boundary line that does not cut the pair in two is refused with the reason.
    auto bad_line = send(bhttp::verb::post, "/v1/drafts/" + id + "/move-boundary",
                         {{"a", fs[0]["id"]}, {"b", fs[1]["id"]},
                          {"line", {{"type", "LineString"}, {"coordinates", {{gbox.minx + 0.0001, gbox.miny + 0.0001}, {gbox.minx + 0.0002, gbox.miny + 0.0002}}}}}},
                         fs[0]["properties"]["etag"].get<std::string>() + ", " + fs[1]["properties"]["etag"].get<std::string>());
    EXPECT_EQ(bad_line.status, 400u) << bad_line.body;
}

}  // namespace
}  // namespace onegrid::test
