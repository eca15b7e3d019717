// The SpatiaLite store: what goes in comes out, complete; layers are versioned; intake is
// idempotent; the event log is append-only; bbox queries use the spatial index.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

#include "onegrid/core/spatialite_store.hpp"
#include "store_fixtures.hpp"

using namespace onegrid;
using namespace onegrid::core;
using onegrid::test::numbered_incident;
using onegrid::test::TempDir;

namespace {

std::unique_ptr<Store> open_in(const TempDir& dir) {
    SpatialiteOptions o;
    o.path = dir / "onegrid.db";
    return open_spatialite_store(o);
}

void expect_same(const Incident& got, const Incident& want) {
    EXPECT_EQ(got.request_id, want.request_id);
    EXPECT_EQ(got.source, want.source);
    EXPECT_EQ(got.category, want.category);
    EXPECT_EQ(got.description, want.description);
    EXPECT_EQ(got.address, want.address);
    EXPECT_EQ(got.location, want.location);
    EXPECT_EQ(got.original_crs, want.original_crs);
    EXPECT_EQ(got.grid, want.grid);
    EXPECT_EQ(got.community, want.community);
    EXPECT_EQ(got.town, want.town);
    ASSERT_EQ(got.business.size(), want.business.size());
    for (std::size_t k = 0; k < got.business.size(); ++k) {
        EXPECT_EQ(got.business[k].layer, want.business[k].layer);
        EXPECT_EQ(got.business[k].code, want.business[k].code);
    }
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.reporter.name, want.reporter.name);
    EXPECT_EQ(got.reporter.phone, want.reporter.phone);
    EXPECT_EQ(got.reported_at, want.reported_at);
}

LayerFeature square(const std::string& code, double x0, double y0, double size) {
    LayerFeature f;
    f.code = code;
    f.name = "网格 " + code;
    f.parent = code.substr(0, 12);
    f.properties["population"] = "1000";
    f.geometry = {{{{x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}}, {}}};
    return f;
}

}  // namespace

TEST(SpatialiteStore, CreatesANewDatabaseWithTheLatestSchema) {
    TempDir dir("store_new");
    auto store = open_in(dir);
    EXPECT_EQ(store->stats().schema_version, spatialite_schema_version());
    EXPECT_TRUE(std::filesystem::exists(dir / "onegrid.db"));
    EXPECT_TRUE(std::filesystem::is_directory(dir / "onegrid.db.media"));
    store.reset();
    // Reopening an existing database works and keeps the version.
    auto again = open_in(dir);
    EXPECT_EQ(again->stats().schema_version, spatialite_schema_version());
}

TEST(SpatialiteStore, IntakeStoresEverythingAndReadsItBack) {
    TempDir dir("store_intake");
    auto store = open_in(dir);
    const auto n = numbered_incident(42);
    const auto r = store->intake(n);
    EXPECT_TRUE(r.created);
    EXPECT_GT(r.incident.id, 0);
    const auto got = store->incident(r.incident.id);
    ASSERT_TRUE(got);
    expect_same(*got, n.incident);
    const auto events = store->events(r.incident.id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].seq, 1);
    EXPECT_EQ(events[0].action, "report");
    EXPECT_EQ(events[0].to, Status::reported);
    EXPECT_EQ(events[0].note, "reported 42");
    const auto outbox = store->outbox_due(n.incident.reported_at, 10);
    ASSERT_EQ(outbox.size(), 1u);
    EXPECT_EQ(outbox[0].incident, r.incident.id);
    EXPECT_EQ(outbox[0].event, events[0].id);
    store->outbox_delivered(outbox[0].id, n.incident.reported_at + 5);
    EXPECT_TRUE(store->outbox_due(n.incident.reported_at + 10, 10).empty());
}

TEST(SpatialiteStore, AReservedWalHoldsEveryWriteAcrossReopens) {
    TempDir dir("store_reserve");
    const auto db = dir / "onegrid.db";
    const std::int64_t reserve = 4 << 20;
    std::vector<std::int64_t> ids;
    for (int open = 0; open < 2; ++open) {
        SpatialiteOptions o;
        o.path = db;
        o.wal_reserve_bytes = reserve;
        auto store = open_spatialite_store(o);
        // The WAL file was extended to the reserve before the first write...
        EXPECT_GE(static_cast<std::int64_t>(std::filesystem::file_size(db.string() + "-wal")), reserve);
        for (int n = 0; n < 40; ++n) ids.push_back(store->intake(numbered_incident(open * 100 + n)).incident.id);
        // ...and the writes went into it, not after it.
        EXPECT_EQ(static_cast<std::int64_t>(std::filesystem::file_size(db.string() + "-wal")), reserve);
    }
    auto store = open_in(dir);
    EXPECT_EQ(store->count_incidents({}), 80);
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const auto got = store->incident(ids[k]);
        ASSERT_TRUE(got) << "incident " << ids[k] << " is missing";
        expect_same(*got, numbered_incident(static_cast<std::int64_t>((k / 40) * 100 + k % 40)).incident);
    }
}

TEST(SpatialiteStore, SameRequestIdReturnsTheExistingIncident) {
    TempDir dir("store_idem");
    auto store = open_in(dir);
    const auto first = store->intake(numbered_incident(7));
    auto retry = numbered_incident(7);
    retry.incident.description = "a retried request with different text";
    const auto second = store->intake(retry);
    EXPECT_FALSE(second.created);
    EXPECT_EQ(second.incident.id, first.incident.id);
    EXPECT_EQ(second.incident.description, numbered_incident(7).incident.description);
    EXPECT_EQ(store->count_incidents({}), 1);
    EXPECT_EQ(store->stats().events, 1);
}

TEST(SpatialiteStore, ImportedCasesKeepTheirWholeHistoryAndAreNotImportedTwice) {
    TempDir dir("store_import");
    auto store = open_in(dir);
    std::vector<CaseRecord> cases;
    for (int n = 1; n <= 3; ++n) {
        CaseRecord c;
        c.incident = numbered_incident(n).incident;
        c.incident.status = Status::closed;
        c.incident.closed_at = c.incident.reported_at + 3 * ms_per_hour;
        for (const char* action : {"report", "register", "dispatch", "accept", "handle", "verify_pass"}) {
            Event e;
            e.at = c.incident.reported_at + static_cast<Timestamp>(c.events.size()) * 1800 * 1000;
            e.actor = "migrated";
            e.action = action;
            c.events.push_back(e);
        }
        cases.push_back(c);
    }
    EXPECT_EQ(store->import_cases(cases), 3u);
    EXPECT_EQ(store->import_cases(cases), 0u);  // same request ids: skipped
    EXPECT_EQ(store->count_incidents({}), 3);
    const auto all = store->incidents({});
    const auto events = store->events(all[1].id);
    ASSERT_EQ(events.size(), 6u);
    for (std::size_t k = 0; k < events.size(); ++k) EXPECT_EQ(events[k].seq, static_cast<int>(k + 1));
    EXPECT_EQ(events.back().action, "verify_pass");
    EXPECT_EQ(all[1].status, Status::closed);
    // A case without events is refused, and the whole batch with it.
    std::vector<CaseRecord> bad = {cases[0], CaseRecord{}};
    bad[0].incident.request_id = "new-one";
    EXPECT_THROW((void)store->import_cases(bad), store_error);
    EXPECT_EQ(store->count_incidents({}), 3);
}

TEST(SpatialiteStore, ConcurrentRetriesOfOneRequestMakeOneIncident) {
    TempDir dir("store_idem_conc");
    auto store = open_in(dir);
    std::vector<std::thread> threads;
    std::atomic<int> created{0};
    std::vector<IncidentId> ids(16);
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            const auto r = store->intake(numbered_incident(5));
            ids[static_cast<std::size_t>(t)] = r.incident.id;
            if (r.created) ++created;
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(created.load(), 1);
    for (auto id : ids) EXPECT_EQ(id, ids[0]);
    EXPECT_EQ(store->count_incidents({}), 1);
}

TEST(SpatialiteStore, ARetryInTheSameTransactionFindsTheFirstAndAnonymousReportsStayApart) {
    TempDir dir("store_idem_tx");
    auto store = open_in(dir);
    auto anonymous = numbered_incident(9);
    anonymous.incident.request_id.clear();
    const auto out = store->intake_many({numbered_incident(8), numbered_incident(8), anonymous, anonymous});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_TRUE(out[0].created);
    EXPECT_FALSE(out[1].created);
    EXPECT_EQ(out[1].incident.id, out[0].incident.id);
    EXPECT_TRUE(out[2].created);
    EXPECT_TRUE(out[3].created);
    EXPECT_NE(out[2].incident.id, out[3].incident.id);
    EXPECT_EQ(store->count_incidents({}), 3);
    EXPECT_EQ(store->stats().events, 3);
    // The spatial index answers with the three incidents.
    IncidentQuery q;
    q.bbox = spatial::Box{-180, -90, 180, 90};
    q.limit = 0;
    EXPECT_EQ(store->incidents(q).size(), 3u);
}

TEST(SpatialiteStore, ConcurrentIntakesShareCommits) {
    TempDir dir("store_group");
    auto store = open_in(dir);
    constexpr int threads_n = 32;
    constexpr int per_thread = 40;
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < per_thread; ++k) store->intake(numbered_incident(t * 1000 + k));
        });
    }
    for (auto& th : threads) th.join();
    const auto st = store->stats();
    EXPECT_EQ(st.incidents, threads_n * per_thread);
    EXPECT_EQ(st.events, threads_n * per_thread);
    // Fewer commits than writes: intakes that arrived together were committed together.
    EXPECT_LT(st.commits, static_cast<std::uint64_t>(threads_n * per_thread));
    EXPECT_GT(st.group_commits, 0u);
}

TEST(SpatialiteStore, AsynchronousIntakesAnswerOnceEachWhenDurable) {
    TempDir dir("store_async");
    constexpr int n = 300;
    std::mutex m;
    std::condition_variable cv;
    int answered = 0;
    std::vector<IntakeResult> results(n + 1);
    std::vector<int> calls(n + 1, 0);
    {
        auto store = open_in(dir);
        // One thread submits everything without waiting; the store answers from its own threads.
        for (int k = 0; k <= n; ++k) {
            // The last one repeats the first request id: the existing incident, not a new one.
            store->intake_async(numbered_incident(k == n ? 0 : k), [&, k](std::optional<IntakeResult> r, std::exception_ptr e) {
                std::lock_guard lock(m);
                ++calls[static_cast<std::size_t>(k)];
                if (!e && r) results[static_cast<std::size_t>(k)] = std::move(*r);
                ++answered;
                cv.notify_one();
            });
        }
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered == n + 1; }));
        EXPECT_GT(store->stats().group_commits, 0u);  // submitted together, committed together
    }
    for (int c : calls) EXPECT_EQ(c, 1);
    // Every answered intake is in the file after the store is closed and opened again.
    auto again = open_in(dir);
    EXPECT_EQ(again->count_incidents({}), n);
    for (int k = 0; k < n; ++k) {
        const auto& r = results[static_cast<std::size_t>(k)];
        EXPECT_TRUE(r.created);
        const auto stored = again->incident(r.incident.id);
        ASSERT_TRUE(stored);
        EXPECT_EQ(stored->request_id, numbered_incident(k).incident.request_id);
    }
    EXPECT_FALSE(results[n].created);
    EXPECT_EQ(results[n].incident.id, results[0].incident.id);
}

TEST(SpatialiteStore, AsynchronousIntakeIsRefusedAtOnceByAReadOnlyStore) {
    TempDir dir("store_async_ro");
    open_in(dir).reset();
    SpatialiteOptions o;
    o.path = dir / "onegrid.db";
    o.read_only = true;
    auto store = open_spatialite_store(o);
    bool called = false;
    EXPECT_THROW(store->intake_async(numbered_incident(1), [&](std::optional<IntakeResult>, std::exception_ptr) { called = true; }),
                 store_error);
    EXPECT_FALSE(called);
}

TEST(SpatialiteStore, AFailingWriteInABatchDoesNotAffectTheOthers) {
    TempDir dir("store_batch_fail");
    auto store = open_in(dir);
    const auto r = store->intake(numbered_incident(1));
    // Rounds of concurrent writes, so that failing and succeeding writes share batches. The
    // failing ones fail in both ways a write can: refused before it writes (a rule), and after it
    // has written part of its rows (an import whose second case is invalid).
    constexpr int rounds = 20;
    constexpr int writers = 8;
    std::atomic<int> refused{0};
    std::atomic<int> failed_imports{0};
    std::vector<IntakeResult> accepted(rounds * writers);
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::thread> threads;
        std::latch start(writers);  // the round's writes arrive together
        for (int t = 0; t < writers; ++t) {
            threads.emplace_back([&, round, t] {
                const int n = 100 + round * writers + t;
                start.arrive_and_wait();
                if (t % 4 == 0) {
                    try {
                        store->transition(r.incident.id, [](const Incident&) -> Change {
                            throw std::runtime_error("refused by the rule");
                        });
                    } catch (const std::runtime_error&) {
                        ++refused;
                    }
                } else if (t % 4 == 1) {
                    CaseRecord half;
                    half.incident = numbered_incident(n).incident;
                    half.events.push_back(Event{});
                    half.events.back().action = "report";
                    try {
                        (void)store->import_cases({half, CaseRecord{}});
                    } catch (const store_error&) {
                        ++failed_imports;
                    }
                } else {
                    accepted[static_cast<std::size_t>(round * writers + t)] = store->intake(numbered_incident(n));
                }
            });
        }
        for (auto& th : threads) th.join();
    }
    EXPECT_EQ(refused.load(), rounds * writers / 4);
    EXPECT_EQ(failed_imports.load(), rounds * writers / 4);
    // Nothing of the failed imports remains; every accepted intake is stored as it was answered.
    EXPECT_EQ(store->count_incidents({}), 1 + rounds * writers / 2);
    EXPECT_EQ(store->stats().events, 1 + rounds * writers / 2);
    for (const auto& a : accepted) {
        if (a.incident.request_id.empty()) continue;
        EXPECT_TRUE(a.created);
        const auto stored = store->incident(a.incident.id);
        ASSERT_TRUE(stored) << a.incident.request_id;
        EXPECT_EQ(stored->request_id, a.incident.request_id);
        EXPECT_EQ(store->events(a.incident.id).size(), 1u);
    }
    EXPECT_EQ(store->events(r.incident.id).size(), 1u);  // refused transitions left nothing
    EXPECT_GT(store->stats().group_commits, 0u);
}

TEST(SpatialiteStore, TransitionsAppendEventsAndUpdateTheIncident) {
    TempDir dir("store_transition");
    auto store = open_in(dir);
    const auto r = store->intake(numbered_incident(3));
    const auto t = store->transition(r.incident.id, [](const Incident& cur) {
        EXPECT_EQ(cur.status, Status::reported);
        Change c;
        c.incident = cur;
        c.incident.status = Status::registered;
        c.incident.department = "cgj";
        c.incident.updated_at = cur.updated_at + 60000;
        c.event.at = c.incident.updated_at;
        c.event.actor = "op1";
        c.event.role = Role::hotline_operator;
        c.event.action = "register";
        c.event.from = cur.status;
        c.event.to = Status::registered;
        return c;
    });
    EXPECT_EQ(t.event.seq, 2);
    EXPECT_EQ(t.incident.status, Status::registered);
    const auto got = store->incident(r.incident.id);
    EXPECT_EQ(got->status, Status::registered);
    EXPECT_EQ(got->department, "cgj");
    const auto events = store->events(r.incident.id);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].from, Status::reported);
    EXPECT_EQ(events[1].role, Role::hotline_operator);
    EXPECT_THROW(store->transition(999999, [](const Incident& c) { return Change{c, {}, {}, {}}; }), not_found_error);
}

TEST(SpatialiteStore, TheEventLogIsAppendOnly) {
    TempDir dir("store_append_only");
    auto store = open_in(dir);
    store->intake(numbered_incident(1));
    store.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "onegrid.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(db, "UPDATE events SET note = 'rewritten'", nullptr, nullptr, &err), SQLITE_OK);
    ASSERT_NE(err, nullptr);
    EXPECT_NE(std::string(err).find("append-only"), std::string::npos);
    sqlite3_free(err);
    EXPECT_NE(sqlite3_exec(db, "DELETE FROM events", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
}

TEST(SpatialiteStore, BboxQueriesUseTheSpatialIndexAndAreExact) {
    TempDir dir("store_bbox");
    auto store = open_in(dir);
    std::vector<NewIncident> batch;
    for (int n = 0; n < 5000; ++n) batch.push_back(numbered_incident(n));
    store->intake_many(batch);
    const spatial::Box box{120.7200, 37.7000, 120.7500, 37.7003};
    IncidentQuery q;
    q.bbox = box;
    q.limit = 0;
    const auto found = store->incidents(q);
    std::size_t want = 0;
    for (const auto& n : batch) want += box.contains(n.incident.location);
    EXPECT_EQ(found.size(), want);
    EXPECT_GT(want, 100u);
    for (const auto& i : found) EXPECT_TRUE(box.contains(i.location));
    EXPECT_EQ(store->count_incidents(q), static_cast<std::int64_t>(want));
    // The plan reads the R*Tree of the geometry column.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "onegrid.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "EXPLAIN QUERY PLAN SELECT id FROM incidents WHERE id IN (SELECT pkid FROM "
                                 "idx_incidents_geom WHERE xmin <= 1 AND xmax >= 0 AND ymin <= 1 AND ymax >= 0)",
                                 -1, &st, nullptr),
              SQLITE_OK);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW) plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3)) + std::string("\n");
    sqlite3_finalize(st);
    sqlite3_close(db);
    EXPECT_NE(plan.find("idx_incidents_geom VIRTUAL TABLE INDEX"), std::string::npos) << plan;
}

TEST(SpatialiteStore, QueriesFilterAndPage) {
    TempDir dir("store_query");
    auto store = open_in(dir);
    std::vector<NewIncident> batch;
    for (int n = 0; n < 300; ++n) batch.push_back(numbered_incident(n));
    store->intake_many(batch);
    IncidentQuery q;
    q.categories = {"0101"};
    q.limit = 50;
    const auto page1 = store->incidents(q);
    ASSERT_EQ(page1.size(), 50u);
    for (const auto& i : page1) EXPECT_EQ(i.category, "0101");
    q.offset = 50;
    const auto page2 = store->incidents(q);
    EXPECT_GT(page2.front().id, page1.back().id);
    EXPECT_EQ(store->count_incidents(q), 150);
    IncidentQuery t;
    t.reported_from = batch[100].incident.reported_at;
    t.reported_to = batch[110].incident.reported_at;
    EXPECT_EQ(store->count_incidents(t), 10);
    IncidentQuery s;
    s.source = Source::hotline;
    EXPECT_EQ(store->count_incidents(s), 60);
}

TEST(SpatialiteStore, NearbyOpenIncidentsForDuplicateChecks) {
    TempDir dir("store_near");
    auto store = open_in(dir);
    auto a = numbered_incident(1);
    a.incident.location = {120.75, 37.80};
    auto b = numbered_incident(3);  // same category (0101), 30 m east
    b.incident.location = {120.75034, 37.80};
    auto c = numbered_incident(5);  // same category, 200 m away
    c.incident.location = {120.7523, 37.80};
    auto d = numbered_incident(2);  // other category, same place
    d.incident.location = {120.75, 37.80};
    store->intake(a);
    store->intake(b);
    store->intake(c);
    store->intake(d);
    const auto near = store->open_incidents_near("0101", {120.75001, 37.80}, 50.0, 0);
    ASSERT_EQ(near.size(), 2u);
    EXPECT_EQ(store->incident(near[0])->request_id, "req-1");
    EXPECT_EQ(store->incident(near[1])->request_id, "req-3");
}

TEST(SpatialiteStore, LayersAreVersionedAndThePastStaysQueryable) {
    TempDir dir("store_layers");
    auto store = open_in(dir);
    store->put_layer({"grids", LayerKind::base, "基础网格", "", ""});
    const Timestamp jan = *parse_iso8601("2026-01-01T00:00:00Z");
    const Timestamp jun = *parse_iso8601("2026-06-01T00:00:00Z");
    const auto v1 = store->publish_version("grids", {square("370614001001001", 120.70, 37.70, 0.01),
                                                     square("370614001001002", 120.71, 37.70, 0.01)},
                                           jan, "initial");
    const auto v2 = store->publish_version("grids", {square("370614001001001", 120.70, 37.70, 0.02)}, jun, "merged");
    EXPECT_EQ(v1.version, 1);
    EXPECT_EQ(v2.version, 2);
    EXPECT_EQ(store->versions("grids").size(), 2u);
    EXPECT_EQ(store->version_at("grids", *parse_iso8601("2026-03-15T00:00:00Z"))->version, 1);
    EXPECT_EQ(store->version_at("grids", *parse_iso8601("2026-07-01T00:00:00Z"))->version, 2);
    EXPECT_FALSE(store->version_at("grids", *parse_iso8601("2025-12-31T00:00:00Z")));
    const auto old = store->features("grids", 1);
    ASSERT_EQ(old.size(), 2u);
    EXPECT_EQ(old[0].name, "网格 370614001001001");
    EXPECT_EQ(old[0].properties.at("population"), "1000");
    EXPECT_NEAR(spatial::bounds(old[1].geometry).minx, 120.71, 1e-12);
    FeatureQuery fq;
    fq.bbox = spatial::Box{120.715, 37.705, 120.716, 37.706};
    const auto hit = store->features("grids", 1, fq);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].code, "370614001001002");
    EXPECT_EQ(store->count_features("grids", 2), 1);
    EXPECT_THROW(store->publish_version("nope", {}, jan, ""), not_found_error);
}

TEST(SpatialiteStore, ReferenceDataRoundTrips) {
    TempDir dir("store_ref");
    auto store = open_in(dir);
    store->put_department({"cgj", "城管局", ""});
    store->put_category({"0101", "路灯", "公用设施", "facility", 2, LimitUnit::workdays, ""});
    store->replace_routing_rules({{0, "0101", "town", "370614001", "cgj", "", 5}, {0, "", "", "", "zhzx", "", 0}});
    store->put_user({"u1", "王五", Role::grid_worker, "", "370614001", "370614001001001"});
    store->put_token({"abc123", "u1", Role::grid_worker, "", "", "phone", 1, std::nullopt, std::nullopt});
    store->put_calendar_day({2026, 10, 1}, false);
    store->put_calendar_day({2026, 10, 10}, true);
    EXPECT_EQ(store->departments().at(0).name, "城管局");
    EXPECT_EQ(store->categories().at(0).limit_unit, LimitUnit::workdays);
    const auto rules = store->routing_rules();
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].priority, 5);
    EXPECT_EQ(store->user("u1")->grid, "370614001001001");
    EXPECT_EQ(store->token("abc123")->role, Role::grid_worker);
    store->revoke_token("abc123", 99);
    EXPECT_EQ(store->token("abc123")->revoked_at, 99);
    EXPECT_THROW(store->revoke_token("abc123", 100), not_found_error);
    const auto cal = store->calendar();
    EXPECT_FALSE(cal.at({2026, 10, 1}));
    EXPECT_TRUE(cal.at({2026, 10, 10}));
}

TEST(SpatialiteStore, MediaIsStoredOnceByContent) {
    TempDir dir("store_media");
    auto store = open_in(dir);
    const std::string photo = "\xFF\xD8\xFF\xE0 a jpeg body";
    const auto bytes = std::as_bytes(std::span<const char>(photo.data(), photo.size()));
    const auto m1 = store->save_media(bytes, "image/jpeg");
    const auto m2 = store->save_media(bytes, "image/jpeg");
    EXPECT_EQ(m1.hash, m2.hash);
    EXPECT_EQ(m1.hash.size(), 64u);
    EXPECT_TRUE(std::filesystem::exists(store->media_path(m1.hash)));
    EXPECT_EQ(std::filesystem::file_size(store->media_path(m1.hash)), photo.size());
    auto n = numbered_incident(1);
    n.media = {m1};
    n.incident.media = {m1.hash};
    n.first_event.media = {m1.hash};
    const auto r = store->intake(n);
    EXPECT_EQ(store->media(m1.hash)->mime, "image/jpeg");
    EXPECT_EQ(store->incident(r.incident.id)->media, std::vector<std::string>{m1.hash});
    EXPECT_EQ(store->events(r.incident.id)[0].media, std::vector<std::string>{m1.hash});
    EXPECT_THROW((void)store->media_path("../../etc/passwd"), not_found_error);
}

TEST(SpatialiteStore, OnlineBackupIsAConsistentCopy) {
    TempDir dir("store_backup");
    auto store = open_in(dir);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (int n = 0; !stop; ++n) store->intake(numbered_incident(n));
    });
    while (store->count_incidents({}) < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    store->backup(dir / "copy.db");
    stop = true;
    writer.join();
    SpatialiteOptions o;
    o.path = dir / "copy.db";
    o.read_only = true;
    auto copy = open_spatialite_store(o);
    const auto st = copy->stats();
    EXPECT_GE(st.incidents, 200);
    EXPECT_EQ(st.events, st.incidents);  // every incident with its first event: consistent
}

TEST(SpatialiteStore, ReadersDuringWritesSeeWholeIntakesAndTheFileStaysIntact) {
    TempDir dir("store_concurrent_read");
    auto store = open_in(dir);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&, t] {
            for (int n = 0; !stop; ++n) store->intake(numbered_incident(t * 1'000'000 + n));
        });
    }
    // A large transaction too: thousands of frames in one commit.
    writers.emplace_back([&] {
        std::vector<NewIncident> batch;
        for (int n = 0; n < 5000; ++n) batch.push_back(numbered_incident(9'000'000 + n));
        store->intake_many(batch);
    });
    std::atomic<int> checked{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (checked < 2000) {
                IncidentQuery q;
                q.newest_first = true;
                q.limit = 20;
                for (const auto& i : store->incidents(q)) {
                    // Written in one transaction with the incident: visible together.
                    ASSERT_FALSE(store->events(i.id).empty()) << i.id;
                    ASSERT_EQ(i.description, numbered_incident(std::stoll(i.request_id.substr(4))).incident.description);
                    ++checked;
                }
            }
        });
    }
    for (auto& th : readers) th.join();
    stop = true;
    for (auto& th : writers) th.join();
    const auto total = store->count_incidents({});
    EXPECT_GE(total, 5000);
    store.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "onegrid.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}
