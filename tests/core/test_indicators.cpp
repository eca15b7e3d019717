// Indicators and assessment: every count and rate on a hand-built set of ten cases whose answers
// are worked out below (reopened after an unsatisfied rating, reworked twice, dispatched in March
// and handled in April, returned before and after its deadline, voided, self-handled, open and
// overdue); the same figures from incremental updates and from a store; scores, grades, rankings
// with ties, bad weight files; the CSV and XLSX reports.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "onegrid/core/assessment.hpp"
#include "onegrid/core/hotspots.hpp"
#include "onegrid/core/indicators.hpp"
#include "workflow_fixture.hpp"

using namespace onegrid;
using namespace onegrid::core;

namespace {

// Beijing time in March/April 2026: T("03-02 09:00").
Timestamp T(const std::string& md_hm) { return *parse_iso8601("2026-" + md_hm.substr(0, 5) + "T" + md_hm.substr(6) + ":00+08:00"); }
constexpr Timestamp H = ms_per_hour;

const std::string G1 = "370614001001001";
const std::string G2 = "370614001001002";
const std::string G3 = "370614002001001";
const std::string T1 = "370614001";
const std::string T2 = "370614002";

struct CaseBuilder {
    Incident incident;
    std::vector<Event> events;

    CaseBuilder(IncidentId id, const std::string& grid, const std::string& category, const std::string& department) {
        incident.id = id;
        incident.grid = grid;
        incident.community = grid.substr(0, 12);
        incident.town = grid.substr(0, 9);
        incident.category = category;
        incident.department = department;
        incident.location = {120.7, 37.7};
    }
    CaseBuilder& ev(const std::string& at, const std::string& action, const std::string& actor, Role role,
                    std::optional<Status> to, const std::string& data = "") {
        Event e;
        e.incident = incident.id;
        e.seq = static_cast<int>(events.size()) + 1;
        e.at = T(at);
        e.actor = actor;
        e.role = role;
        e.action = action;
        e.from = events.empty() ? std::nullopt : events.back().to;
        e.to = to ? to : e.from;
        e.data = data;
        events.push_back(e);
        if (e.to) incident.status = *e.to;
        return *this;
    }
    CaseBuilder& report(const std::string& at, const std::string& actor, Role role) {
        incident.reported_at = T(at);
        return ev(at, "report", actor, role, Status::reported);
    }
    CaseBuilder& step(const std::string& at, const std::string& action, Status to) {
        const Role role = action == "accept" || action == "handle" || action == "return" ? Role::department_handler
                          : action == "verify_pass" || action == "verify_fail" || action == "self_handle" ? Role::grid_worker
                                                                                                           : Role::command_centre;
        return ev(at, action, "someone", role, to);
    }
    CaseBuilder& dispatch(const std::string& at, const std::string& department, const std::string& due) {
        incident.department = department;
        return ev(at, "dispatch", "cc1", Role::command_centre, Status::dispatched,
                  nlohmann::json{{"department", department}, {"due_at", format_iso8601(T(due))}}.dump());
    }
    CaseBuilder& reopen(const std::string& at, const std::string& due) {
        return ev(at, "reopen", "cc1", Role::command_centre, Status::rework, nlohmann::json{{"due_at", format_iso8601(T(due))}}.dump());
    }
    CaseBuilder& rate(const std::string& at, Rating r) {
        return ev(at, "rate", "op1", Role::hotline_operator, Status::rated, nlohmann::json{{"rating", to_string(r)}}.dump());
    }
};

// The ten cases. Categories: 0101 except cases 4 and 5 (0203). Grid workers gw1 (grid 1) and gw2 (grid 2).
std::vector<CaseBuilder> ten_cases() {
    std::vector<CaseBuilder> v;
    // 1. G1, by gw1: dispatched, handled in time (24 h), closed in time, satisfied.
    v.emplace_back(1, G1, "0101", "cgj");
    v.back().report("03-02 09:00", "gw1", Role::grid_worker).step("03-02 10:00", "register", Status::registered)
        .dispatch("03-02 11:00", "cgj", "03-04 11:00").step("03-02 12:00", "accept", Status::accepted)
        .step("03-03 11:00", "handle", Status::handled).step("03-03 15:00", "verify_pass", Status::closed)
        .rate("03-03 18:00", Rating::satisfied);
    // 2. G1, by a resident: closed in time, rated unsatisfied, reopened (new deadline), handled
    //    late (27 h after the reopening) and closed late, then rated basically satisfied.
    v.emplace_back(2, G1, "0101", "cgj");
    v.back().report("03-05 09:00", "r2", Role::citizen).step("03-05 09:30", "register", Status::registered)
        .dispatch("03-05 10:00", "cgj", "03-06 10:00").step("03-05 11:00", "accept", Status::accepted)
        .step("03-05 20:00", "handle", Status::handled).step("03-06 08:00", "verify_pass", Status::closed)
        .rate("03-06 12:00", Rating::unsatisfied).reopen("03-07 09:00", "03-08 09:00")
        .step("03-08 12:00", "handle", Status::handled).step("03-08 14:00", "verify_pass", Status::closed)
        .rate("03-08 20:00", Rating::basically_satisfied);
    // 3. G2, by gw2: reworked twice; the third handling comes after the deadline.
    v.emplace_back(3, G2, "0101", "cgj");
    v.back().report("03-10 09:00", "gw2", Role::grid_worker).step("03-10 10:00", "register", Status::registered)
        .dispatch("03-10 10:00", "cgj", "03-13 10:00").step("03-10 11:00", "accept", Status::accepted)
        .step("03-11 10:00", "handle", Status::handled).step("03-11 14:00", "verify_fail", Status::rework)
        .step("03-12 14:00", "handle", Status::handled).step("03-12 16:00", "verify_fail", Status::rework)
        .step("03-14 16:00", "handle", Status::handled).step("03-14 18:00", "verify_pass", Status::closed);
    // 4. G3: dispatched on 31 March, handled, closed and rated in April.
    v.emplace_back(4, G3, "0203", "sw");
    v.back().report("03-30 09:00", "op1", Role::hotline_operator).step("03-30 10:00", "register", Status::registered)
        .dispatch("03-31 20:00", "sw", "04-02 20:00").step("04-01 08:00", "accept", Status::accepted)
        .step("04-01 20:00", "handle", Status::handled).step("04-02 09:00", "verify_pass", Status::closed)
        .rate("04-03 10:00", Rating::satisfied);
    // 5. G3: dispatched to the wrong department, returned before the deadline, dispatched again.
    v.emplace_back(5, G3, "0203", "sw");
    v.back().report("03-16 09:00", "r5", Role::citizen).step("03-16 10:00", "register", Status::registered)
        .dispatch("03-16 11:00", "cgj", "03-18 11:00").step("03-16 15:00", "return", Status::returned)
        .dispatch("03-16 16:00", "sw", "03-18 16:00").step("03-16 17:00", "accept", Status::accepted)
        .step("03-17 16:00", "handle", Status::handled).step("03-17 18:00", "verify_pass", Status::closed);
    // 6. G2: registered, then voided.
    v.emplace_back(6, G2, "0101", "cgj");
    v.back().report("03-20 09:00", "r6", Role::citizen).step("03-20 10:00", "register", Status::registered)
        .step("03-20 11:00", "void", Status::voided);
    // 7. G1: self-handled by gw1, rated satisfied.
    v.emplace_back(7, G1, "0101", "cgj");
    v.back().report("03-21 09:00", "gw1", Role::grid_worker).step("03-21 09:30", "self_handle", Status::closed)
        .rate("03-21 12:00", Rating::satisfied);
    // 8. G2: dispatched and accepted, never handled: open and overdue.
    v.emplace_back(8, G2, "0101", "cgj");
    v.back().report("03-25 09:00", "r8", Role::citizen).step("03-25 09:10", "register", Status::registered)
        .dispatch("03-25 10:00", "cgj", "03-26 10:00").step("03-25 11:00", "accept", Status::accepted);
    // 9. G1, April: voided straight from reported.
    v.emplace_back(9, G1, "0101", "cgj");
    v.back().report("04-05 09:00", "r9", Role::citizen).step("04-05 10:00", "void", Status::voided);
    // 10. G3: returned two hours after its 4-hour deadline, dispatched again, handled in time (3 h)
    //     but verified an hour after the second deadline.
    v.emplace_back(10, G3, "0101", "sw");
    v.back().report("03-03 09:00", "r10", Role::citizen).step("03-03 09:30", "register", Status::registered)
        .dispatch("03-03 10:00", "cgj", "03-03 14:00").step("03-03 11:00", "accept", Status::accepted)
        .step("03-03 16:00", "return", Status::returned).dispatch("03-03 17:00", "sw", "03-03 21:00")
        .step("03-03 18:00", "accept", Status::accepted).step("03-03 20:00", "handle", Status::handled)
        .step("03-03 22:00", "verify_pass", Status::closed);
    return v;
}

CaseLog ten_case_log() {
    CaseLog log;
    for (const auto& c : ten_cases()) log.put(c.incident, c.events);
    return log;
}

std::vector<Period> march_april() { return calendar_periods(PeriodKind::month, T("03-01 00:00"), T("05-01 00:00")); }

IndicatorTable table(const CaseLog& log, UnitKind kind, std::optional<Timestamp> as_of = std::nullopt, CaseFilter filter = {}) {
    IndicatorQuery q;
    q.unit = kind;
    q.periods = march_april();
    q.as_of = as_of;
    q.filter = std::move(filter);
    return log.indicators(q);
}

const Counts& counts(const IndicatorTable& t, const std::string& code, std::size_t period) {
    const auto u = t.find(code);
    if (!u) throw std::runtime_error("no unit " + code);
    return t.at(*u, period);
}

// Counts written field by field, in the order of the struct.
Counts make(std::int64_t reported, std::int64_t registered, std::int64_t voided, std::int64_t dispatched, std::int64_t handled,
            std::int64_t handled_in_time, std::int64_t reworked, std::int64_t due, std::int64_t closed,
            std::int64_t closed_in_time, std::int64_t overdue, std::int64_t self_handled, std::int64_t rated,
            std::int64_t satisfied, std::int64_t basically, std::int64_t unsatisfied, std::int64_t handling_hours) {
    return {reported, registered, voided, dispatched, handled, handled_in_time, reworked, due, closed, closed_in_time,
            overdue, self_handled, rated, satisfied, basically, unsatisfied, handling_hours * H};
}

void expect_rate(const Counts& c, RateId r, std::int64_t num, std::int64_t den) {
    const Rate x = rate(c, r);
    EXPECT_EQ(x.numerator, num) << to_string(r);
    EXPECT_EQ(x.denominator, den) << to_string(r);
    if (den == 0) {
        EXPECT_FALSE(x.value().has_value()) << to_string(r) << " has no data";
    } else {
        ASSERT_TRUE(x.value().has_value());
        EXPECT_DOUBLE_EQ(*x.value(), static_cast<double>(num) / static_cast<double>(den)) << to_string(r);
    }
}

}  // namespace

TEST(Indicators, PeriodsAreCalendarPeriodsInBeijingTime) {
    const auto months = march_april();
    ASSERT_EQ(months.size(), 2u);
    EXPECT_EQ(months[0].label, "2026-03");
    EXPECT_EQ(months[0].from, *parse_iso8601("2026-02-28T16:00:00Z"));
    EXPECT_EQ(months[0].until, months[1].from);
    EXPECT_EQ(months[1].label, "2026-04");
    // 2026-03-02 is a Monday of ISO week 10; 2026-01-01 (a Thursday) is in week 1, which starts on 29 December.
    const auto weeks = calendar_periods(PeriodKind::week, T("03-04 12:00"), T("03-10 00:00"));
    ASSERT_EQ(weeks.size(), 2u);
    EXPECT_EQ(weeks[0].label, "2026-W10");
    EXPECT_EQ(weeks[0].from, T("03-02 00:00"));
    EXPECT_EQ(weeks[1].label, "2026-W11");
    EXPECT_EQ(calendar_period(PeriodKind::week, {2026, 1, 1}).label, "2026-W01");
    EXPECT_EQ(calendar_period(PeriodKind::week, {2026, 1, 1}).from, *parse_iso8601("2025-12-29T00:00:00+08:00"));
    EXPECT_EQ(calendar_period(PeriodKind::week, {2027, 1, 1}).label, "2026-W53");
    const auto days = calendar_periods(PeriodKind::day, T("03-31 23:00"), T("04-01 00:30"));
    ASSERT_EQ(days.size(), 2u);
    EXPECT_EQ(days[1].label, "2026-04-01");
    EXPECT_EQ(custom_period(T("03-01 00:00"), T("03-16 00:00")).label, "2026-03-01/2026-03-16");
    EXPECT_THROW((void)custom_period(T("03-02 00:00"), T("03-01 00:00")), indicator_error);

    const CaseLog log;
    IndicatorQuery q;
    EXPECT_THROW((void)log.indicators(q), indicator_error);  // no period
    q.periods = {custom_period(T("03-01 00:00"), T("03-10 00:00")), custom_period(T("03-09 00:00"), T("03-20 00:00"))};
    try {
        (void)log.indicators(q);
        FAIL() << "overlapping periods were accepted";
    } catch (const indicator_error& e) {
        EXPECT_NE(std::string(e.what()).find("overlap"), std::string::npos) << e.what();
    }
}

TEST(Indicators, GridCountsAndRatesOfTheHandBuiltCases) {
    const CaseLog log = ten_case_log();
    EXPECT_EQ(log.size(), 10u);
    const auto t = table(log, UnitKind::grid);
    ASSERT_EQ(t.units.size(), 3u);
    EXPECT_EQ(t.units[0].code, G1);
    EXPECT_EQ(t.units[2].code, G3);

    // G1 in March: cases 1, 2 and 7.
    //   reported 3 (1, 2, 7); registered 2 (1, 2); dispatched 2;
    //   handled 3 (case 1 once, case 2 before and after the reopening), in time 2 (the second
    //   handling of case 2 came after its new deadline), reworked 1 (case 2's first handling, sent
    //   back by the reopening), handling 24 h + 10 h + 27 h = 61 h;
    //   due 3 (case 1; case 2 twice: each deadline is a round), closed 3, in time 2, overdue 1
    //   (case 2's second round: in rework at its deadline);
    //   self-handled 1 (case 7); rated 4: satisfied 2 (cases 1, 7), basically 1, unsatisfied 1 (case 2).
    const Counts g1 = counts(t, G1, 0);
    EXPECT_EQ(g1, make(3, 2, 0, 2, 3, 2, 1, 3, 3, 2, 1, 1, 4, 2, 1, 1, 61));
    expect_rate(g1, RateId::closing, 3, 3);
    expect_rate(g1, RateId::closing_in_time, 2, 3);
    expect_rate(g1, RateId::handling_in_time, 2, 3);
    expect_rate(g1, RateId::rework, 1, 3);
    expect_rate(g1, RateId::satisfaction, 3, 4);
    EXPECT_NEAR(*mean_handling_hours(g1), 61.0 / 3.0, 1e-12);
    // G1 in April: case 9, reported and voided.
    EXPECT_EQ(counts(t, G1, 1), make(1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    EXPECT_FALSE(mean_handling_hours(counts(t, G1, 1)).has_value());

    // G2 in March: cases 3, 6 and 8.
    //   reported 3, registered 3, voided 1 (case 6), dispatched 2 (3, 8);
    //   handled 3 (case 3 three times), in time 2, reworked 2, handling 24 + 24 + 48 = 96 h;
    //   due 2 (cases 3 and 8), closed 1 (case 3, late), in time 0, overdue 2 (case 3 in rework and
    //   case 8 accepted at their deadlines); no ratings.
    const Counts g2 = counts(t, G2, 0);
    EXPECT_EQ(g2, make(3, 3, 1, 2, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 96));
    expect_rate(g2, RateId::closing, 1, 2);
    expect_rate(g2, RateId::closing_in_time, 0, 2);
    expect_rate(g2, RateId::handling_in_time, 2, 3);
    expect_rate(g2, RateId::rework, 2, 3);
    expect_rate(g2, RateId::satisfaction, 0, 0);

    // G3 in March: cases 4 (only its report, registration and dispatch), 5 and 10.
    //   dispatched 5 (4 once; 5 and 10 twice each); handled 2 (5: 24 h; 10: 3 h), both in time;
    //   due 3: case 5's second round, case 10's first round (returned after its deadline: due,
    //   not closed, overdue) and second round (closed an hour late); case 5's first round was
    //   returned before its deadline and does not count. Closed 2, in time 1 (case 5), overdue 1.
    const Counts g3 = counts(t, G3, 0);
    EXPECT_EQ(g3, make(3, 3, 0, 5, 2, 2, 0, 3, 2, 1, 1, 0, 0, 0, 0, 0, 27));
    expect_rate(g3, RateId::closing, 2, 3);
    expect_rate(g3, RateId::closing_in_time, 1, 3);
    expect_rate(g3, RateId::handling_in_time, 2, 2);
    expect_rate(g3, RateId::rework, 0, 2);
    // G3 in April: case 4 handled (24 h after its dispatch on 31 March), closed in time, rated.
    const Counts g3a = counts(t, G3, 1);
    EXPECT_EQ(g3a, make(0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 24));
    expect_rate(g3a, RateId::closing, 1, 1);
    expect_rate(g3a, RateId::satisfaction, 1, 1);
}

TEST(Indicators, TownsCommunitiesAndTheDistrictAddUp) {
    const CaseLog log = ten_case_log();
    const auto grids = table(log, UnitKind::grid);
    const auto towns = table(log, UnitKind::town);
    const auto communities = table(log, UnitKind::community);
    const auto district = table(log, UnitKind::district);
    ASSERT_EQ(towns.units.size(), 2u);
    ASSERT_EQ(district.units.size(), 1u);
    for (std::size_t p = 0; p < 2; ++p) {
        Counts t1 = counts(grids, G1, p);
        t1 += counts(grids, G2, p);
        EXPECT_EQ(counts(towns, T1, p), t1);
        EXPECT_EQ(counts(communities, G1.substr(0, 12), p), t1);
        EXPECT_EQ(counts(towns, T2, p), counts(grids, G3, p));
        Counts all = t1;
        all += counts(grids, G3, p);
        EXPECT_EQ(district.at(0, p), all);
    }
    // The district in March, summed by hand from the three grids.
    EXPECT_EQ(district.at(0, 0), make(9, 8, 1, 9, 8, 6, 3, 8, 6, 3, 4, 1, 4, 2, 1, 1, 184));
}

TEST(Indicators, DepartmentsAreCountedForWhatTheyWereResponsibleFor) {
    const CaseLog log = ten_case_log();
    const auto t = table(log, UnitKind::department);
    ASSERT_EQ(t.units.size(), 2u);
    // cgj in March. Reports, registrations, voids and self-handling count for the department now
    // responsible: cases 1, 2, 3, 6, 7, 8 (reported 6; registered 5; voided 1; self-handled 1).
    // Dispatches to cgj: cases 1, 2, 3, 8 and the first dispatches of 5 and 10 = 6.
    // Handlings: case 1 (1), case 2 (2), case 3 (3) = 6, in time 4, reworked 3, 24+10+27+24+24+48 = 157 h.
    // Rounds due: 1, 2 (two), 3, 8, and case 10's first (returned after its deadline) = 6; case 5's
    // first round (returned in time) is not due. Closed 4 (1, 2, 2, 3), in time 2, overdue 4 (2's
    // second round, 3, 8, 10's first round). Ratings: cases 1 and 2 (three); case 7's rating is
    // not a department's (self-handled).
    EXPECT_EQ(counts(t, "cgj", 0), make(6, 5, 1, 6, 6, 4, 3, 6, 4, 2, 4, 1, 3, 1, 1, 1, 157));
    // sw in March: cases 4, 5 and 10 are sw's now; second dispatches of 5 and 10 and case 4's.
    EXPECT_EQ(counts(t, "sw", 0), make(3, 3, 0, 3, 2, 2, 0, 2, 2, 1, 0, 0, 0, 0, 0, 0, 27));
    EXPECT_EQ(counts(t, "sw", 1), make(0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 24));
    EXPECT_EQ(counts(t, "cgj", 1), make(1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
}

TEST(Indicators, GridWorkersAreCountedForTheCasesTheyReported) {
    const CaseLog log = ten_case_log();
    const auto t = table(log, UnitKind::grid_worker);
    ASSERT_EQ(t.units.size(), 2u);
    // gw1 reported cases 1 and 7; gw2 case 3. Cases reported by residents and the hotline have no grid worker.
    EXPECT_EQ(counts(t, "gw1", 0), make(2, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 2, 2, 0, 0, 24));
    EXPECT_EQ(counts(t, "gw2", 0), make(1, 1, 0, 1, 3, 2, 2, 1, 1, 0, 1, 0, 0, 0, 0, 0, 96));
}

TEST(Indicators, AsOfShowsTheFiguresAsTheyStoodThen) {
    const CaseLog log = ten_case_log();
    // 7 March 00:00, before case 2 was reopened: its first handling is not (yet) reworked, its
    // second round does not exist; case 7 has not been reported.
    auto t = table(log, UnitKind::grid, T("03-07 00:00"));
    EXPECT_EQ(counts(t, G1, 0), make(2, 2, 0, 2, 2, 2, 0, 2, 2, 2, 0, 0, 2, 1, 0, 1, 34));
    // 12 March 12:00: case 3's first handling was already sent back; its second handling and its
    // deadline (13 March) are still to come.
    t = table(log, UnitKind::grid, T("03-12 12:00"));
    EXPECT_EQ(counts(t, G2, 0), make(1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24));
    // 3 March 16:00: case 1 was closed (15:00) a day before its deadline: it counts as due and closed.
    t = table(log, UnitKind::grid, T("03-03 16:00"));
    EXPECT_EQ(counts(t, G1, 0).due, 1);
    EXPECT_EQ(counts(t, G1, 0).closed, 1);
    EXPECT_EQ(counts(t, G1, 0).closed_in_time, 1);
    // The end of March: every March outcome was known by then, so March is as with everything.
    EXPECT_EQ(table(log, UnitKind::district, T("04-01 00:00")).at(0, 0), table(log, UnitKind::district).at(0, 0));
}

TEST(Indicators, FiltersAndListedUnits) {
    const CaseLog log = ten_case_log();
    // Town 2 only.
    auto t = table(log, UnitKind::grid, std::nullopt, {T2, ""});
    ASSERT_EQ(t.units.size(), 1u);
    EXPECT_EQ(t.units[0].code, G3);
    // Category major class 02: cases 4 and 5.
    t = table(log, UnitKind::grid, std::nullopt, {"", "02"});
    ASSERT_EQ(t.units.size(), 1u);
    EXPECT_EQ(counts(t, G3, 0), make(2, 2, 0, 3, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 24));
    // A unit that does not occur is not listed.
    EXPECT_FALSE(table(log, UnitKind::grid, std::nullopt, {"370614999", ""}).find(G1));
    // Listed units: in the given order, with names, zeros for a grid without cases, other grids not counted.
    IndicatorQuery q;
    q.unit = UnitKind::grid;
    q.periods = march_april();
    q.units = {{G3, "网格三"}, {"370614001001009", "空网格"}, {G1, "网格一"}};
    t = log.indicators(q);
    ASSERT_EQ(t.units.size(), 3u);
    EXPECT_EQ(t.units[0].name, "网格三");
    EXPECT_EQ(t.at(1, 0), Counts{});
    EXPECT_EQ(t.at(2, 0).reported, 3);
    q.units.push_back({G3, "again"});
    EXPECT_THROW((void)log.indicators(q), indicator_error);
    // The district takes its name from the first listed unit.
    q.unit = UnitKind::district;
    q.units = {{"370614", "蓬莱区"}};
    t = log.indicators(q);
    ASSERT_EQ(t.units.size(), 1u);
    EXPECT_EQ(t.units[0].name, "蓬莱区");
    EXPECT_EQ(t.at(0, 0).reported, 9);
}

TEST(Indicators, IncrementalUpdatesGiveTheSameFigures) {
    const auto cases = ten_cases();
    // Every event in time order, as the server sees them, each with its incident.
    std::vector<std::pair<const Incident*, const Event*>> stream;
    for (const auto& c : cases)
        for (const auto& e : c.events) stream.emplace_back(&c.incident, &e);
    std::stable_sort(stream.begin(), stream.end(), [](auto& a, auto& b) { return a.second->at < b.second->at; });
    CaseLog log;
    for (const auto& [incident, event] : stream) EXPECT_TRUE(log.apply(*incident, *event));
    // Repeats are ignored.
    EXPECT_FALSE(log.apply(*stream.front().first, *stream.front().second));
    EXPECT_EQ(log.event_count(), stream.size());
    const CaseLog reference = ten_case_log();
    for (UnitKind kind : all_unit_kinds) {
        const auto a = table(log, kind);
        const auto b = table(reference, kind);
        ASSERT_EQ(a.units.size(), b.units.size()) << to_string(kind);
        for (std::size_t u = 0; u < a.units.size(); ++u) {
            EXPECT_EQ(a.units[u].code, b.units[u].code);
            for (std::size_t p = 0; p < 2; ++p) EXPECT_EQ(a.at(u, p), b.at(u, p)) << to_string(kind) << " " << a.units[u].code;
        }
    }
    // A missing event is refused, naming it.
    CaseLog partial;
    const auto& c2 = cases[1];
    partial.apply(c2.incident, c2.events[0]);
    try {
        partial.apply(c2.incident, c2.events[2]);
        FAIL() << "a gap was accepted";
    } catch (const indicator_error& e) {
        EXPECT_NE(std::string(e.what()).find("event 2 is missing"), std::string::npos) << e.what();
    }
    EXPECT_THROW(partial.apply(cases[2].incident, cases[2].events[3]), indicator_error);
    // put() replaces a case: case 2 again, with its whole history.
    partial.put(c2.incident, c2.events);
    EXPECT_EQ(partial.size(), 1u);
    EXPECT_EQ(table(partial, UnitKind::grid).at(0, 0).rated, 2);
    std::vector<Event> shuffled = c2.events;
    std::swap(shuffled[1], shuffled[2]);
    EXPECT_THROW(partial.put(c2.incident, shuffled), indicator_error);
}

TEST(Indicators, LoadFromAStoreMatchesTheWorkflow) {
    test::WorkflowWorld w("ind_load");
    auto& clock = w.clock;  // Monday 2026-03-02 09:00
    // A street light (0101, 2 working days) handled and closed in time, rated satisfied.
    const auto a = w.report("0101", test::WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1)).incident.id;
    w.workflow->act(a, Action::register_case, w.operator_());
    w.workflow->act(a, Action::dispatch, w.centre());
    clock.advance(H);
    w.workflow->act(a, Action::accept, w.handler("cgj"));
    clock.advance(5 * H);
    w.workflow->act(a, Action::handle, w.handler("cgj"), w.with_photo());
    clock.advance(H);
    w.workflow->act(a, Action::verify_pass, w.grid_worker(1, 1), w.with_photo());
    ActionInput rating;
    rating.rating = Rating::unsatisfied;
    clock.advance(H);
    w.workflow->act(a, Action::rate, w.operator_(), rating);
    ActionInput why;
    why.note = "still dark";
    w.workflow->act(a, Action::reopen, w.centre(), why);
    // A bus shelter (0203, 48 h) returned and dispatched again, handled late.
    const auto b = w.report("0203", test::WorkflowWorld::in_grid(2, 2), w.citizen("res")).incident.id;
    w.workflow->act(b, Action::register_case, w.operator_());
    w.workflow->act(b, Action::dispatch, w.centre());
    ActionInput reason;
    reason.note = "not ours";
    w.workflow->act(b, Action::return_case, w.handler("cgj"), reason);
    w.workflow->act(b, Action::dispatch, w.centre());
    w.workflow->act(b, Action::accept, w.handler("cgj"));
    clock.advance(50 * H);
    w.workflow->act(b, Action::handle, w.handler("cgj"), w.with_photo());

    const CaseLog loaded = CaseLog::load(*w.store);
    CaseLog replayed;
    for (IncidentId id : {a, b}) {
        const auto inc = *w.store->incident(id);
        for (const auto& e : w.store->events(id)) replayed.apply(inc, e);
    }
    EXPECT_EQ(loaded.size(), 2u);
    IndicatorQuery q;
    q.unit = UnitKind::district;
    q.periods = {calendar_period(PeriodKind::month, {2026, 3, 1})};
    const Counts got = loaded.indicators(q).at(0, 0);
    EXPECT_EQ(got, replayed.indicators(q).at(0, 0));
    // a: handled in 6 h, in time, closed in time, rated unsatisfied, reopened on Monday 17:00 (so
    // reworked); its second round was due Wednesday 17:00 and is still in rework at the latest
    // event (Wednesday 19:00): due and overdue. b: two dispatches, the first returned before its
    // deadline; handled 50 h after the second dispatch (due after 48 h): late and overdue.
    EXPECT_EQ(got.reported, 2);
    EXPECT_EQ(got.dispatched, 3);
    EXPECT_EQ(got.handled, 2);
    EXPECT_EQ(got.handled_in_time, 1);
    EXPECT_EQ(got.reworked, 1);
    EXPECT_EQ(got.due, 3);
    EXPECT_EQ(got.closed, 1);
    EXPECT_EQ(got.closed_in_time, 1);
    EXPECT_EQ(got.overdue, 2);
    // As of Wednesday 12:00 neither deadline had passed: only a's first round was due (and closed).
    q.as_of = T("03-04 12:00");
    const Counts before = loaded.indicators(q).at(0, 0);
    EXPECT_EQ(before.due, 1);
    EXPECT_EQ(before.closed, 1);
    EXPECT_EQ(before.overdue, 0);
    EXPECT_EQ(before.handled, 1);
    EXPECT_EQ(got.unsatisfied, 1);
    EXPECT_EQ(got.handling_ms, 6 * H + 50 * H);
}

TEST(Indicators, DeadlinesMissingFromImportedEventsComeFromTheCategoryAndCalendar) {
    test::WorkflowWorld w("ind_import");
    // Two imported bus-shelter cases (0203: 48 hours) whose dispatch events carry no deadline:
    // due 4 March 10:00; one handled at 09:00 (in time), one at 11:00 (late).
    std::vector<CaseRecord> cases;
    for (int k = 0; k < 2; ++k) {
        CaseRecord r;
        r.incident.request_id = "import-" + std::to_string(k);
        r.incident.category = "0203";
        r.incident.grid = test::WorkflowWorld::grid_code(1, 1);
        r.incident.town = "370614001";
        r.incident.department = "cgj";
        r.incident.location = test::WorkflowWorld::in_grid(1, 1);
        r.incident.reported_at = T("03-02 08:00");
        r.incident.status = Status::handled;
        auto ev = [&](const std::string& at, const std::string& action, Status to, const std::string& data = "") {
            Event e;
            e.at = T(at);
            e.actor = "x";
            e.role = Role::command_centre;
            e.action = action;
            e.to = to;
            e.data = data;
            r.events.push_back(e);
        };
        ev("03-02 08:00", "report", Status::reported);
        ev("03-02 09:00", "register", Status::registered);
        ev("03-02 10:00", "dispatch", Status::dispatched, R"({"department":"cgj"})");
        ev(k == 0 ? "03-04 09:00" : "03-04 11:00", "handle", Status::handled);
        cases.push_back(r);
    }
    ASSERT_EQ(w.store->import_cases(cases), 2u);
    const CaseLog log = CaseLog::load(*w.store);
    IndicatorQuery q;
    q.unit = UnitKind::department;
    q.periods = {calendar_period(PeriodKind::month, {2026, 3, 1})};
    const auto t = log.indicators(q);
    const Counts& c = counts(t, "cgj", 0);
    EXPECT_EQ(c.handled, 2);
    EXPECT_EQ(c.handled_in_time, 1);
    EXPECT_EQ(c.due, 2);
    EXPECT_EQ(c.overdue, 1);
}

TEST(Indicators, UnitsAndAdjacencyComeFromTheStore) {
    test::WorkflowWorld w("ind_units");
    const Timestamp now = w.clock.now();
    const auto grids = load_units(*w.store, UnitKind::grid, now);
    ASSERT_EQ(grids.size(), 4u);
    EXPECT_EQ(grids[0].code, "370614001001001");
    EXPECT_EQ(grids[0].name, "370614001001001");
    const auto departments = load_units(*w.store, UnitKind::department, now);
    ASSERT_EQ(departments.size(), 3u);
    EXPECT_EQ(departments[0].code, "cgj");
    EXPECT_EQ(departments[0].name, "城市管理局");
    // No district layer in this store: the one district unit has a placeholder code.
    const auto district = load_units(*w.store, UnitKind::district, now);
    ASSERT_EQ(district.size(), 1u);
    EXPECT_EQ(district[0].code, "district");
    // Before the grids took effect there are none.
    EXPECT_TRUE(load_units(*w.store, UnitKind::grid, T("01-01 00:00") - ms_per_day).empty());
    // Two towns of two grids each, stacked north–south: every grid has two edge neighbours.
    const auto adjacency = load_grid_adjacency(*w.store, now);
    ASSERT_EQ(adjacency.codes.size(), 4u);
    for (const auto& n : adjacency.neighbours) EXPECT_EQ(n.size(), 2u);
    EXPECT_THROW((void)load_grid_adjacency(*w.store, T("01-01 00:00") - ms_per_day), not_found_error);
}

// ---- assessment ----------------------------------------------------------------------------------

namespace {

// Grid weights of the tests: closing 0.3, closing in time 0.3, handling in time 0.1, rework 0.1,
// satisfaction 0.2; the other kinds weigh closing alone.
std::string weights_json(const std::string& grid_set) {
    nlohmann::json j;
    j["about"] = "test weights";
    for (UnitKind k : all_unit_kinds) j["weights"][std::string(to_string(k))] = {{"closing_rate", 1.0}};
    j["weights"]["grid"] = nlohmann::json::parse(grid_set);
    return j.dump();
}

const std::string grid_weights =
    R"({"closing_rate":0.3,"closing_in_time_rate":0.3,"handling_in_time_rate":0.1,"rework_rate":0.1,"satisfaction_rate":0.2})";

std::string config_error(const std::string& json) {
    try {
        (void)AssessmentConfig::parse(json, "test.json");
    } catch (const assessment_config_error& e) {
        return e.what();
    }
    return "accepted";
}

Assessment march_grids() {
    const CaseLog log = ten_case_log();
    IndicatorQuery q;
    q.unit = UnitKind::grid;
    q.periods = march_april();
    q.units = {{G1, "一号网格"}, {G2, "二号网格"}, {G3, "三号网格, 港区"}, {"370614001001009", "无案件网格"}};
    return assess(log.indicators(q), 0, AssessmentConfig::parse(weights_json(grid_weights)));
}

}  // namespace

TEST(Assessment, TheShippedWeightsAreValid) {
    const auto config = AssessmentConfig::load(std::string(ONEGRID_SOURCE_DIR) + "/data/assessment/weights.json");
    for (UnitKind k : all_unit_kinds) {
        double sum = 0;
        for (double w : config.weights(k)) sum += w;
        EXPECT_NEAR(sum, 1.0, 1e-9) << to_string(k);
    }
}

TEST(Assessment, BadWeightsAreRefusedNamingTheProblem) {
    auto has = [](const std::string& message, const std::string& part) {
        return message.find(part) != std::string::npos;
    };
    std::string m = config_error("{\"weights\": {");
    EXPECT_TRUE(has(m, "test.json") && has(m, "not valid JSON")) << m;
    m = config_error(R"({"weights": {"grid": {"closing_rate": 1}}})");
    EXPECT_TRUE(has(m, "no weights for unit kind 'community'")) << m;
    m = config_error(weights_json(R"({"closing_rate": 1.2, "rework_rate": -0.2})"));
    EXPECT_TRUE(has(m, "weights.grid.rework_rate is negative")) << m;
    m = config_error(weights_json(R"({"closing_rate": 0.5, "rework_rate": 0.45})"));
    EXPECT_TRUE(has(m, "the weights of 'grid' sum to 0.95; they must sum to 1")) << m;
    m = config_error(weights_json(R"({"closing_rate": 0.5, "speed": 0.5})"));
    EXPECT_TRUE(has(m, "unknown rate 'speed' in weights.grid")) << m;
    m = config_error(weights_json(R"({"closing_rate": "1"})"));
    EXPECT_TRUE(has(m, "weights.grid.closing_rate is not a number")) << m;
    m = config_error(weights_json(R"({})"));
    EXPECT_TRUE(has(m, "weights.grid must be an object")) << m;
    auto j = nlohmann::json::parse(weights_json(grid_weights));
    j["weights"]["street"] = {{"closing_rate", 1}};
    m = config_error(j.dump());
    EXPECT_TRUE(has(m, "unknown unit kind 'street'")) << m;
    m = config_error(R"({"wieghts": {}})");
    EXPECT_TRUE(has(m, "unknown key 'wieghts'")) << m;
    m = config_error(R"([1, 2])");
    EXPECT_TRUE(has(m, "must be a JSON object")) << m;
    try {
        (void)AssessmentConfig::load("/nonexistent/weights.json");
        FAIL();
    } catch (const assessment_config_error& e) {
        EXPECT_TRUE(has(e.what(), "/nonexistent/weights.json")) << e.what();
    }
}

TEST(Assessment, ScoresGradesAndRanksOfTheGrids) {
    const Assessment a = march_grids();
    ASSERT_EQ(a.units.size(), 4u);
    // G1: closing 3/3 → 100, in time 2/3 → 66.67, handling in time 2/3 → 66.67, rework 1/3 → 66.67,
    // satisfaction 3/4 → 75: 0.3·100 + 0.3·66.67 + 0.1·66.67 + 0.1·66.67 + 0.2·75 = 78.33 → B, first.
    EXPECT_EQ(a.units[0].unit.code, G1);
    EXPECT_DOUBLE_EQ(*a.units[0].score, 78.33);
    EXPECT_EQ(a.units[0].grade, 'B');
    EXPECT_EQ(a.units[0].rank, 1);
    EXPECT_NEAR(*a.units[0].rate_scores[static_cast<int>(RateId::rework)], 200.0 / 3.0, 1e-9);
    // G3: 2/3 → 66.67, 1/3 → 33.33, 2/2 → 100, rework 0/2 → 100, satisfaction no data: the other
    // weights (0.8) rescaled: (20 + 10 + 10 + 10) / 0.8 = 62.5 → C.
    EXPECT_EQ(a.units[1].unit.code, G3);
    EXPECT_DOUBLE_EQ(*a.units[1].score, 62.5);
    EXPECT_EQ(a.units[1].grade, 'C');
    EXPECT_EQ(a.units[1].rank, 2);
    EXPECT_FALSE(a.units[1].rate_scores[static_cast<int>(RateId::satisfaction)].has_value());
    // G2: 1/2 → 50, 0/2 → 0, 2/3 → 66.67, rework 2/3 → 33.33, no satisfaction: (15 + 0 + 6.67 + 3.33) / 0.8 = 31.25 → E.
    EXPECT_EQ(a.units[2].unit.code, G2);
    EXPECT_DOUBLE_EQ(*a.units[2].score, 31.25);
    EXPECT_EQ(a.units[2].grade, 'E');
    EXPECT_EQ(a.units[2].rank, 3);
    // A grid without cases: no score, no grade, not ranked, listed last.
    EXPECT_EQ(a.units[3].unit.code, "370614001001009");
    EXPECT_FALSE(a.units[3].score.has_value());
    EXPECT_EQ(a.units[3].grade, 0);
    EXPECT_EQ(a.units[3].rank, 0);
    EXPECT_THROW((void)assess(IndicatorTable{}, 0, AssessmentConfig::parse(weights_json(grid_weights))), indicator_error);
}

TEST(Assessment, GradeThresholdsAndTies) {
    EXPECT_EQ(grade_of(100), 'A');
    EXPECT_EQ(grade_of(90), 'A');
    EXPECT_EQ(grade_of(89.99), 'B');
    EXPECT_EQ(grade_of(75), 'B');
    EXPECT_EQ(grade_of(74.99), 'C');
    EXPECT_EQ(grade_of(60), 'C');
    EXPECT_EQ(grade_of(59.99), 'D');
    EXPECT_EQ(grade_of(40), 'D');
    EXPECT_EQ(grade_of(39.99), 'E');
    EXPECT_EQ(grade_of(0), 'E');
    EXPECT_DOUBLE_EQ(rate_score(RateId::rework, 0.25), 75.0);
    EXPECT_DOUBLE_EQ(rate_score(RateId::closing, 0.25), 25.0);
    // Towns scored on the closing rate alone: d 7/10, b 8/10, a 4/5, c 9/10, e 0/0, f 8999/10000
    // (89.99 → B), g 22499/25000 (89.996 rounds to 90.00 → A, tied with c).
    IndicatorTable t;
    t.kind = UnitKind::town;
    t.periods = {calendar_period(PeriodKind::month, {2026, 3, 1})};
    auto unit = [&](const std::string& code, std::int64_t closed, std::int64_t due) {
        t.units.push_back({code, ""});
        Counts c;
        c.closed = closed;
        c.due = due;
        t.counts.push_back(c);
    };
    unit("d", 7, 10);
    unit("b", 8, 10);
    unit("a", 4, 5);
    unit("c", 9, 10);
    unit("e", 0, 0);
    unit("f", 8999, 10000);
    unit("g", 22499, 25000);
    const Assessment a = assess(t, 0, AssessmentConfig::parse(weights_json(grid_weights)));
    std::vector<std::string> order;
    std::vector<int> ranks;
    std::string grades;
    for (const auto& u : a.units) {
        order.push_back(u.unit.code);
        ranks.push_back(u.rank);
        grades += u.grade != 0 ? u.grade : '-';
    }
    EXPECT_EQ(order, (std::vector<std::string>{"c", "g", "f", "a", "b", "d", "e"}));
    EXPECT_EQ(ranks, (std::vector<int>{1, 1, 3, 4, 4, 6, 0}));
    EXPECT_EQ(grades, "AABBBC-");
}

TEST(Assessment, CsvReportHasABomAndEveryFigure) {
    const Assessment a = march_grids();
    const std::string csv = report_csv(std::span(&a, 1));
    ASSERT_GE(csv.size(), 3u);
    EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
    std::vector<std::string> lines;
    std::istringstream in(csv.substr(3));
    for (std::string line; std::getline(in, line);) {
        ASSERT_FALSE(line.empty());
        ASSERT_EQ(line.back(), '\r');
        lines.push_back(line.substr(0, line.size() - 1));
    }
    ASSERT_EQ(lines.size(), 5u);  // header + 4 grids
    EXPECT_EQ(lines[0].rfind("单位类型,期间,单位代码,单位名称,上报数,立案数,作废数,派遣数,处置数,按期处置数,返工数,应结案数,结案数,按期结案数,超期数,自行处置数,评价数,满意数,基本满意数,不满意数,结案率(%),", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(",综合得分,等级,排名"), std::string::npos);
    // G1: counts, rates in percent, 61 h / 3, the five rate scores, score, grade, rank.
    EXPECT_EQ(lines[1],
              "网格,2026-03,370614001001001,一号网格,3,2,0,2,3,2,1,3,3,2,1,1,4,2,1,1,"
              "100.00,66.67,66.67,33.33,75.00,20.33,100.00,66.67,66.67,66.67,75.00,78.33,B,1");
    // A name with a comma is quoted; rates without data are empty.
    EXPECT_EQ(lines[2].rfind("网格,2026-03,370614002001001,\"三号网格, 港区\",3,3,0,5,2,2,0,3,2,1,1,0,0,0,0,0,66.67,33.33,100.00,0.00,,13.50,", 0), 0u)
        << lines[2];
    EXPECT_EQ(lines[4], "网格,2026-03,370614001001009,无案件网格,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,,,,,,,,,,,,,,");
}

TEST(Assessment, XlsxReportIsAWorkbookWithTheSameRows) {
    const std::vector<Assessment> both = {march_grids(), march_grids()};
    test::TempDir dir("xlsx");
    const auto file = dir / "report.xlsx";
    write_report_xlsx(both, file);
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 2000u);
    EXPECT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));
    const std::string again = report_xlsx(both);
    EXPECT_EQ(again.substr(0, 4), std::string("PK\x03\x04", 4));
    EXPECT_THROW(write_report_xlsx(both, dir / "no" / "such" / "dir" / "r.xlsx"), report_error);
    if (std::system("command -v unzip >/dev/null 2>&1") != 0) GTEST_SKIP() << "unzip is not installed: contents not checked";
    auto member = [&](const std::string& name) {
        const std::string cmd = "unzip -p '" + file.string() + "' " + name;
        std::string out;
        FILE* p = popen(cmd.c_str(), "r");
        if (p == nullptr) return out;
        char buf[4096];
        for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        pclose(p);
        return out;
    };
    const std::string workbook = member("xl/workbook.xml");
    EXPECT_NE(workbook.find("name=\"网格 2026-03\""), std::string::npos) << workbook;
    EXPECT_NE(workbook.find("name=\"网格 2026-03 (2)\""), std::string::npos) << workbook;
    EXPECT_NE(workbook.find("name=\"说明\""), std::string::npos) << workbook;
    const std::string sheet = member("xl/worksheets/sheet1.xml");
    std::size_t rows = 0;
    for (std::size_t pos = 0; (pos = sheet.find("<row ", pos)) != std::string::npos; ++pos) ++rows;
    const std::string csv = report_csv(std::span(&both[0], 1));
    EXPECT_EQ(rows, static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')));  // the same rows as the CSV
    EXPECT_NE(sheet.find("<v>78.33</v>"), std::string::npos);
    const std::string strings = member("xl/sharedStrings.xml");
    for (const char* s : {"综合得分", "370614001001001", "一号网格", "三号网格, 港区", "按期结案率(%)"}) {
        EXPECT_NE(strings.find(s), std::string::npos) << s;
    }
}
