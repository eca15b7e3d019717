// The server's in-memory incident index: rows arriving out of id order (concurrent intakes commit
// together and are indexed in any order) keep ids, positions and the spatial cells consistent.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "../core/store_fixtures.hpp"
#include "incident_index.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/spatial/crs.hpp"

namespace onegrid::test {
namespace {

using server::detail::IncidentIndex;

core::Incident incident(core::IncidentId id, double lon, double lat) {
    core::Incident i;
    i.id = id;
    i.location = {lon, lat};
    i.category = "0102";
    return i;
}

std::vector<core::IncidentId> ids_in(const IncidentIndex& index, const spatial::Box& box) {
    IncidentIndex::Query q;
    q.bbox = box;
    q.limit = 1000000;
    std::vector<core::IncidentId> out;
    for (const auto& r : index.query(q).rows) out.push_back(r.id);
    return out;
}

TEST(IncidentIndex, OutOfOrderUpsertsKeepIdOrderAndCells) {
    // 2,000 points over a few cells, upserted in batches whose order is shuffled.
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> lon(120.70, 120.73), lat(37.78, 37.80);
    std::vector<core::Incident> all;
    for (core::IncidentId id = 1; id <= 2000; ++id) all.push_back(incident(id, lon(rng), lat(rng)));
    IncidentIndex index;
    for (std::size_t b = 0; b < all.size(); b += 40) {
        std::vector<core::Incident> batch(all.begin() + static_cast<std::ptrdiff_t>(b),
                                          all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), b + 40)));
        std::shuffle(batch.begin(), batch.end(), rng);
        for (const auto& i : batch) index.upsert(i);
    }
    // A late one from far back, and moves of existing rows.
    ASSERT_EQ(index.size(), all.size());
    for (core::IncidentId id : {5, 700, 1999}) {
        auto& i = all[static_cast<std::size_t>(id - 1)];
        i.location = {i.location.x + 0.004, i.location.y - 0.003};
        index.upsert(i);
    }

    for (const auto& i : all) {
        const auto r = index.get(i.id);
        ASSERT_TRUE(r.has_value()) << i.id;
        EXPECT_EQ(r->id, i.id);
        EXPECT_DOUBLE_EQ(r->location.x, i.location.x);
    }
    // Every box finds exactly the points inside it, in id order (what paging relies on).
    const std::vector<spatial::Box> boxes = {{120.70, 37.78, 120.73, 37.80}, {120.705, 37.785, 120.712, 37.79},
                                             {120.719, 37.781, 120.7201, 37.799}, {120.60, 37.70, 120.90, 37.90}};
    for (const auto& box : boxes) {
        std::vector<core::IncidentId> want;
        for (const auto& i : all)
            if (box.contains(i.location)) want.push_back(i.id);
        EXPECT_EQ(ids_in(index, box), want);
        std::vector<core::IncidentId> visited;
        index.for_each_in(box, [&](const server::detail::IncidentRow& r) { visited.push_back(r.id); });
        std::sort(visited.begin(), visited.end());
        EXPECT_EQ(visited, want);
    }
    // Paging over everything in id order.
    IncidentIndex::Query q;
    q.offset = 10;
    q.limit = 5;
    const auto page = index.query(q);
    ASSERT_EQ(page.rows.size(), 5u);
    for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(page.rows[k].id, static_cast<core::IncidentId>(11 + k));
    EXPECT_EQ(page.matched, all.size());
}


TEST(IncidentIndex, DuplicateCandidatesAgreeWithTheStore) {
    // The server finds duplicate candidates in memory; the store answers the same question with
    // SQL. Both over one set of reports: two categories, open and closed states, old and recent
    // reports, at distances from 0 to 120 m of the query points (the radius is 50 m).
    TempDir dir("duplicates");
    core::SpatialiteOptions so;
    so.path = dir / "onegrid.db";
    auto store = core::open_spatialite_store(so);
    IncidentIndex index;
    const spatial::Point centre{120.7512, 37.7831};
    const core::Timestamp now = 1'772'000'000'000;
    const core::Timestamp since = now - 72 * core::ms_per_hour;
    const core::Status states[] = {core::Status::reported, core::Status::dispatched, core::Status::closed, core::Status::voided,
                                   core::Status::handled, core::Status::rated};
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> metres(0.0, 120.0), angle(0.0, 6.283185307179586);
    for (int n = 0; n < 400; ++n) {
        core::NewIncident ni = numbered_incident(n, "dup-");
        core::Incident& i = ni.incident;
        const double d = metres(rng), a = angle(rng);
        i.location = {centre.x + d * std::cos(a) / (111320.0 * std::cos(centre.y * 3.141592653589793 / 180.0)),
                      centre.y + d * std::sin(a) / 110574.0};
        i.category = n % 3 == 0 ? "0203" : "0101";
        i.status = states[n % 6];
        i.reported_at = now - (n % 5) * 24 * core::ms_per_hour;  // 0 to 4 days old
        const auto stored = store->intake(ni);
        ASSERT_TRUE(stored.created);
        index.upsert(stored.incident);
    }
    const auto compare = [&](const char* when) {
        int found = 0;
        for (const spatial::Point p : {centre, spatial::Point{centre.x + 0.0004, centre.y - 0.0002}, spatial::Point{centre.x - 0.0011, centre.y}}) {
            for (const std::string category : {"0101", "0203", "9999"}) {
                const auto from_store = store->open_incidents_near(category, p, 50.0, since);
                EXPECT_EQ(index.open_near(category, p, 50.0, since), from_store) << category << ", " << when;
                for (const auto id : from_store) {
                    const auto i = store->incident(id);
                    ASSERT_TRUE(i);
                    EXPECT_LE(spatial::distance_m(p, i->location), 50.0);
                    EXPECT_TRUE(core::is_open(i->status));
                    EXPECT_GE(i->reported_at, since);
                    EXPECT_EQ(i->category, category);
                }
                found += static_cast<int>(from_store.size());
            }
        }
        EXPECT_GT(found, 20) << "the fixture must put candidates within reach, " << when;
    };
    compare("as reported");
    // Cases close, reopen, move and change category: the index follows every change (it keeps
    // open cases apart).
    for (core::IncidentId id = 1; id <= 400; id += 3) {
        const auto changed = store->transition(id, [&](const core::Incident& current) {
            core::Change c;
            c.incident = current;
            c.incident.status = core::is_open(current.status) ? core::Status::closed : core::Status::dispatched;
            if (id % 2 == 0) c.incident.location = {current.location.x + 0.0003, current.location.y};
            if (id % 5 == 0) c.incident.category = current.category == "0101" ? "0203" : "0101";
            c.event.at = now;
            c.event.role = core::Role::admin;
            c.event.action = "test";
            c.event.from = current.status;
            c.event.to = c.incident.status;
            return c;
        });
        index.upsert(changed.incident);
    }
    compare("after closing, reopening and moving cases");
}

}  // namespace
}  // namespace onegrid::test
