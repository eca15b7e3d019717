// The server's in-memory incident index: rows arriving out of id order (concurrent intakes commit
// together and are indexed in any order) keep ids, positions and the spatial cells consistent.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "incident_index.hpp"

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

}  // namespace
}  // namespace onegrid::test
