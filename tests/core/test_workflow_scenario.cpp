// A synthetic month of reports replayed through the whole workflow with a simulated clock: the
// final count of every state and every incident's event log must match what the simulation did,
// and warnings and escalations must follow the deadlines.

#include <gtest/gtest.h>

#include <map>
#include <queue>

#include <nlohmann/json.hpp>

#include "onegrid/data/demo_district.hpp"
#include "workflow_fixture.hpp"

using namespace onegrid;
using namespace onegrid::core;
using onegrid::test::WorkflowWorld;

namespace {

struct Step {
    Timestamp at;
    IncidentId id;
    int stage;
    bool operator>(const Step& o) const { return at > o.at || (at == o.at && id > o.id); }
};

// What happens to one case, decided when it is reported.
struct Plan {
    bool invalid = false;
    bool duplicate = false;
    bool self_handled = false;
    bool returned = false;
    int reworks = 0;
    bool late = false;
    std::optional<Rating> rating;
    bool reopened = false;
    int town = 1;
    int grid = 1;
};

}  // namespace

TEST(WorkflowScenario, ASyntheticMonthEndsWithTheExpectedStatesAndEvents) {
    WorkflowWorld w("wf_month");
    data::Random rng(2026);
    const std::vector<std::string> categories = {"0101", "0203", "1101", "0401"};
    std::map<IncidentId, Plan> plans;
    std::map<IncidentId, std::vector<std::string>> expected_actions;
    std::map<IncidentId, Status> expected_status;
    std::priority_queue<Step, std::vector<Step>, std::greater<>> agenda;
    const Timestamp start = w.clock.now();
    const Timestamp end = start + 30 * ms_per_day;
    std::vector<IncidentId> open_same_place;

    // Reports arrive during the month; each schedules its next step.
    Timestamp t = start;
    while (t < end) {
        t += static_cast<Timestamp>(rng.uniform(20, 60) * ms_per_minute);
        w.clock.set(t);
        Plan p;
        p.town = 1 + static_cast<int>(rng.next() % 2);
        p.grid = 1 + static_cast<int>(rng.next() % 2);
        const double u = rng.uniform();
        p.invalid = u < 0.05;
        p.self_handled = !p.invalid && u < 0.15;
        p.returned = rng.uniform() < 0.08;
        p.reworks = rng.uniform() < 0.10 ? 1 + static_cast<int>(rng.next() % 2) : 0;
        p.late = rng.uniform() < 0.15;
        if (rng.uniform() < 0.7) {
            const double r = rng.uniform();
            p.rating = r < 0.6 ? Rating::satisfied : r < 0.9 ? Rating::basically_satisfied : Rating::unsatisfied;
            p.reopened = p.rating == Rating::unsatisfied && rng.uniform() < 0.5;
        }
        std::string cat = categories[rng.next() % categories.size()];
        if (cat == "0401") p.town = 2;  // water is routed in the east town only
        const auto reporter = p.self_handled ? w.grid_worker(p.town, p.grid) : w.citizen("resident" + std::to_string(rng.next() % 100));
        spatial::Point pt = WorkflowWorld::in_grid(p.town, p.grid);
        pt.x += rng.uniform(-0.004, 0.004);
        pt.y += rng.uniform(-0.004, 0.004);
        const auto out = w.report(cat, pt, reporter, p.self_handled ? Source::grid_worker : Source::citizen);
        const IncidentId id = out.incident.id;
        p.duplicate = !p.invalid && !p.self_handled && !out.possible_duplicates.empty() && rng.uniform() < 0.5;
        plans[id] = p;
        expected_actions[id] = {"report"};
        agenda.push({t + 30 * ms_per_minute, id, 0});
    }

    // The month's work, in time order, with the scheduler running every hour.
    Timestamp next_scan = start + ms_per_hour;
    auto act = [&](IncidentId id, Action a, const Actor& who, const ActionInput& in) {
        w.workflow->act(id, a, who, in);
        expected_actions[id].push_back(std::string(to_string(a)));
        if (a == Action::void_case && in.duplicate_of) expected_actions[*in.duplicate_of].push_back("duplicate_linked");
    };
    while (!agenda.empty()) {
        const Step s = agenda.top();
        agenda.pop();
        while (next_scan <= s.at) {
            w.clock.set(next_scan);
            w.workflow->run_due_checks();
            next_scan += ms_per_hour;
        }
        w.clock.set(s.at);
        Plan& p = plans[s.id];
        const Incident cur = *w.store->incident(s.id);
        const auto worker = w.grid_worker(p.town, p.grid);
        const auto dep = w.handler(cur.department.empty() ? "cgj" : cur.department);
        auto later = [&](double hours, int stage) {
            agenda.push({s.at + static_cast<Timestamp>(hours * ms_per_hour), s.id, stage});
        };
        switch (s.stage) {
            case 0:  // triage
                if (p.invalid) {
                    ActionInput in;
                    in.note = "not a matter for the platform";
                    act(s.id, Action::void_case, w.operator_(), in);
                } else if (p.duplicate) {
                    const auto near = w.store->open_incidents_near(cur.category, cur.location, 50, s.at - 72 * ms_per_hour);
                    IncidentId original = 0;
                    for (const IncidentId n : near) {
                        if (n != s.id) original = n;
                    }
                    if (original != 0) {
                        ActionInput in;
                        in.note = "duplicate";
                        in.duplicate_of = original;
                        act(s.id, Action::void_case, w.operator_(), in);
                    } else {
                        p.duplicate = false;
                        later(0, 0);
                    }
                } else if (p.self_handled) {
                    act(s.id, Action::self_handle, worker, w.with_photo());
                    if (p.rating) later(24, 7);
                } else {
                    act(s.id, Action::register_case, w.operator_(), {});
                    ActionInput in;
                    if (cur.department.empty()) in.department = "cgj";
                    act(s.id, Action::dispatch, w.centre(), in);
                    later(1, 1);
                }
                break;
            case 1:  // the department
                if (p.returned) {
                    ActionInput in;
                    in.note = "not ours";
                    act(s.id, Action::return_case, dep, in);
                    p.returned = false;
                    ActionInput again;
                    again.department = cur.department.empty() ? "cgj" : cur.department;
                    act(s.id, Action::dispatch, w.centre(), again);
                    later(1, 1);
                } else {
                    act(s.id, Action::accept, dep, {});
                    later(p.late ? 24 * 8 : 3, 2);
                }
                break;
            case 2:  // handled
                act(s.id, Action::handle, dep, w.with_photo());
                later(4, 3);
                break;
            case 3:  // verified on site
                if (p.reworks > 0) {
                    --p.reworks;
                    act(s.id, Action::verify_fail, worker, w.with_photo("not done"));
                    later(5, 2);
                } else {
                    act(s.id, Action::verify_pass, worker, w.with_photo());
                    if (p.rating) later(24, 7);
                }
                break;
            case 7: {  // rated
                ActionInput in;
                in.rating = p.rating;
                act(s.id, Action::rate, w.operator_(), in);
                if (p.reopened) {
                    ActionInput r;
                    r.note = "resident unsatisfied";
                    act(s.id, Action::reopen, w.centre(), r);
                    p.reopened = false;
                    p.rating.reset();
                    later(6, 2);
                }
                break;
            }
            default: break;
        }
    }
    w.clock.set(end + 20 * ms_per_day);
    w.workflow->run_due_checks();

    // Expected final state of every case from the plan.
    std::map<Status, std::int64_t> want;
    for (const auto& [id, actions] : expected_actions) {
        const std::string& last_own = [&]() -> const std::string& {
            for (auto it = actions.rbegin(); it != actions.rend(); ++it)
                if (*it != "duplicate_linked") return *it;
            return actions.front();
        }();
        Status s = Status::reported;
        if (last_own == "void") s = Status::voided;
        if (last_own == "self_handle" || last_own == "verify_pass") s = Status::closed;
        if (last_own == "rate") s = Status::rated;
        ++want[s];
        expected_status[id] = s;
    }
    const auto stats = w.store->stats();
    EXPECT_EQ(stats.incidents, static_cast<std::int64_t>(expected_actions.size()));
    for (Status s : {Status::reported, Status::voided, Status::closed, Status::rated, Status::dispatched,
                     Status::accepted, Status::handled, Status::rework}) {
        const auto got = stats.incidents_by_status.count(s) ? stats.incidents_by_status.at(s) : 0;
        EXPECT_EQ(got, want.count(s) ? want.at(s) : 0) << to_string(s);
    }
    EXPECT_GT(want[Status::rated], 100);
    EXPECT_GT(want[Status::voided], 20);

    // Every incident's log: the simulation's actions in order, plus scheduler events that obey
    // the deadlines.
    int warned = 0;
    int escalated = 0;
    for (const auto& [id, actions] : expected_actions) {
        const auto events = w.store->events(id);
        std::vector<std::string> own;
        int level = 0;
        for (const auto& e : events) {
            if (e.role == Role::system) {
                if (e.action == "escalate") {
                    ++level;
                    EXPECT_LE(level, 3) << id;
                    ++escalated;
                    // Never before the deadline in force when it fired.
                    const auto due = parse_iso8601(nlohmann::json::parse(e.data)["due_at"].get<std::string>());
                    EXPECT_GE(e.at, *due) << id;
                }
                if (e.action == "warn") ++warned;
                continue;
            }
            own.push_back(e.action);
            if (e.action == "dispatch" || e.action == "reopen") level = 0;  // a new deadline, a new cycle
        }
        EXPECT_EQ(own, actions) << "incident " << id;
        EXPECT_EQ(w.store->incident(id)->status, expected_status[id]) << id;
        EXPECT_LE(level, 3) << id;
        for (std::size_t k = 1; k < events.size(); ++k) EXPECT_EQ(events[k].seq, events[k - 1].seq + 1);
    }
    // Late handling (8 days) overran every limit, so some cases warned and escalated.
    EXPECT_GT(warned, 10);
    EXPECT_GT(escalated, 10);
}
