// The case workflow: every transition for every role, scopes, evidence, deadlines over weekends,
// holidays and make-up working days, warnings and escalations, duplicates, returns, rework,
// self-handling, and the resident's rating.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "workflow_fixture.hpp"

using namespace onegrid;
using namespace onegrid::core;
using onegrid::test::at;
using onegrid::test::WorkflowWorld;

namespace {

// Forces an incident into a state (test set-up only), with the fields that state implies.
void force_state(Store& store, IncidentId id, Status s, const std::string& department) {
    store.transition(id, [&](const Incident& cur) {
        Change c;
        c.incident = cur;
        c.incident.status = s;
        c.incident.department = department;
        if (s == Status::rated) c.incident.rating = Rating::unsatisfied;
        c.event.action = "test_setup";
        c.event.role = Role::system;
        c.event.from = cur.status;
        c.event.to = s;
        return c;
    });
}

// An actor of `role` who is in scope for an incident in town 1, grid 1, dispatched to cgj,
// reported by "resident".
Actor scoped(WorkflowWorld& w, Role role) {
    switch (role) {
        case Role::grid_worker: return w.grid_worker(1, 1);
        case Role::hotline_operator: return w.operator_();
        case Role::department_handler: return w.handler("cgj");
        case Role::town_officer: return w.town_officer(1);
        case Role::command_centre: return w.centre();
        case Role::citizen: return w.citizen("resident");
        case Role::planner: return {"p1", Role::planner, "", "", ""};
        default: return {"x", role, "", "", ""};
    }
}

ActionInput complete_input(Action a) {
    ActionInput in;
    in.note = "a reason";
    in.photos.push_back(onegrid::test::photo());
    if (a == Action::rate) in.rating = Rating::unsatisfied;
    return in;
}

}  // namespace

TEST(Workflow, EveryActionForEveryRoleAndStateIsAllowedOnlyByTheTable) {
    WorkflowWorld w("wf_table");
    const std::vector<Status> states = {Status::reported, Status::registered, Status::voided,  Status::dispatched,
                                        Status::accepted, Status::returned,   Status::handled, Status::rework,
                                        Status::closed,   Status::rated};
    const std::vector<Role> roles = {Role::grid_worker,    Role::hotline_operator, Role::department_handler,
                                     Role::town_officer,   Role::command_centre,   Role::citizen,
                                     Role::planner};
    int allowed = 0;
    int refused = 0;
    for (const auto& rule : transition_table()) {
        for (Status s : states) {
            for (Role role : roles) {
                const auto r = w.report("0101", WorkflowWorld::in_grid(1, 1), w.citizen("resident"), Source::citizen);
                force_state(*w.store, r.incident.id, s, "cgj");
                const bool state_ok = rule.from.empty() || std::find(rule.from.begin(), rule.from.end(), s) != rule.from.end();
                const bool role_ok = std::find(rule.roles.begin(), rule.roles.end(), role) != rule.roles.end();
                const std::string what = std::string(to_string(rule.action)) + " from " + std::string(to_string(s)) +
                                         " by " + std::string(to_string(role));
                try {
                    const auto t = w.workflow->act(r.incident.id, rule.action, scoped(w, role), complete_input(rule.action));
                    EXPECT_TRUE(state_ok && role_ok) << what << " was allowed";
                    if (rule.to) {
                        EXPECT_EQ(t.incident.status, *rule.to) << what;
                    }
                    EXPECT_EQ(w.store->incident(r.incident.id)->status, rule.to.value_or(s)) << what;
                    ++allowed;
                } catch (const workflow_error& e) {
                    EXPECT_FALSE(state_ok && role_ok) << what << " was refused: " << e.what();
                    const std::string msg = e.what();
                    if (!role_ok) {
                        EXPECT_EQ(e.kind, workflow_error::Kind::forbidden) << what << ": " << msg;
                        EXPECT_NE(msg.find(std::string(to_string(role))), std::string::npos) << msg;
                    } else {
                        EXPECT_EQ(e.kind, workflow_error::Kind::illegal_transition) << what << ": " << msg;
                        EXPECT_NE(msg.find(std::string(to_string(s))), std::string::npos) << "names the state: " << msg;
                    }
                    EXPECT_NE(msg.find(rule.rule), std::string::npos) << "quotes the rule: " << msg;
                    // Nothing was written.
                    EXPECT_EQ(w.store->incident(r.incident.id)->status, s) << what;
                    ++refused;
                }
            }
        }
    }
    EXPECT_GT(allowed, 20);
    EXPECT_GT(refused, 500);
}

TEST(Workflow, IllegalTransitionsNameTheStateAndTheRule) {
    WorkflowWorld w("wf_illegal");
    const auto r = w.report("0101", WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1));
    const auto id = r.incident.id;
    w.workflow->act(id, Action::register_case, w.operator_());
    w.workflow->act(id, Action::dispatch, w.centre());
    w.workflow->act(id, Action::accept, w.handler("cgj"));
    // Closing an unverified case.
    try {
        w.workflow->act(id, Action::verify_pass, w.grid_worker(1, 1), w.with_photo());
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_EQ(e.kind, workflow_error::Kind::illegal_transition);
        EXPECT_NE(std::string(e.what()).find("'accepted' (接收)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("only a handled case"), std::string::npos) << e.what();
    }
    // Handling a case of another department.
    try {
        w.workflow->act(id, Action::handle, w.handler("sw"), w.with_photo());
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_EQ(e.kind, workflow_error::Kind::forbidden);
        EXPECT_NE(std::string(e.what()).find("department 'cgj'"), std::string::npos) << e.what();
    }
    // Handling without evidence.
    EXPECT_THROW(w.workflow->act(id, Action::handle, w.handler("cgj")), workflow_error);
    w.workflow->act(id, Action::handle, w.handler("cgj"), w.with_photo());
    // A worker of another grid may not verify.
    EXPECT_THROW(w.workflow->act(id, Action::verify_pass, w.grid_worker(2, 2), w.with_photo()), workflow_error);
    w.workflow->act(id, Action::verify_pass, w.grid_worker(1, 1), w.with_photo());
    // Rating twice.
    ActionInput rating;
    rating.rating = Rating::satisfied;
    w.workflow->act(id, Action::rate, w.citizen(w.grid_worker(1, 1).id), rating);
    try {
        w.workflow->act(id, Action::rate, w.operator_(), rating);
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_EQ(e.kind, workflow_error::Kind::illegal_transition);
        EXPECT_NE(std::string(e.what()).find("'rated'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("rated once"), std::string::npos) << e.what();
    }
    // A resident may rate only their own report.
    const auto other = w.report("0101", WorkflowWorld::in_grid(1, 1), w.citizen("someone"), Source::citizen);
    force_state(*w.store, other.incident.id, Status::closed, "cgj");
    EXPECT_THROW(w.workflow->act(other.incident.id, Action::rate, w.citizen("intruder"), rating), workflow_error);
    // An unknown incident.
    try {
        w.workflow->act(987654, Action::comment, w.centre(), complete_input(Action::comment));
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_EQ(e.kind, workflow_error::Kind::not_found);
    }
}

TEST(Workflow, TheFullPathIsRecordedInTheEventLogAndTheOutbox) {
    WorkflowWorld w("wf_path");
    const auto r = w.report("0101", WorkflowWorld::in_grid(1, 2), w.grid_worker(1, 2));
    const auto id = r.incident.id;
    EXPECT_EQ(r.incident.grid, WorkflowWorld::grid_code(1, 2));
    EXPECT_EQ(r.incident.town, "370614001");
    EXPECT_EQ(r.incident.department, "cgj");  // routed by the rules table
    ASSERT_EQ(r.incident.business.size(), 1u);
    EXPECT_EQ(r.incident.business[0].code, "PB-S");
    w.clock.advance(10 * ms_per_minute);
    w.workflow->act(id, Action::register_case, w.operator_());
    w.workflow->act(id, Action::dispatch, w.centre());
    const auto dispatched = w.store->incident(id);
    // 2 working days from Monday 09:10 → Wednesday 09:10.
    EXPECT_EQ(dispatched->due_at, at("2026-03-04T09:10:00+08:00"));
    w.workflow->act(id, Action::accept, w.handler("cgj"));
    w.workflow->act(id, Action::handle, w.handler("cgj"), w.with_photo("lamp replaced"));
    w.workflow->act(id, Action::verify_pass, w.grid_worker(1, 2), w.with_photo());
    ActionInput rating;
    rating.rating = Rating::basically_satisfied;
    w.workflow->act(id, Action::rate, w.citizen(w.grid_worker(1, 2).id), rating);
    const auto events = w.store->events(id);
    std::vector<std::string> actions;
    for (const auto& e : events) actions.push_back(e.action);
    EXPECT_EQ(actions, (std::vector<std::string>{"report", "register", "dispatch", "accept", "handle", "verify_pass", "rate"}));
    EXPECT_EQ(events[4].note, "lamp replaced");
    EXPECT_EQ(events[4].media.size(), 1u);
    EXPECT_EQ(events[4].role, Role::department_handler);
    for (std::size_t k = 1; k < events.size(); ++k) EXPECT_EQ(events[k].from, events[k - 1].to);
    const auto final = w.store->incident(id);
    EXPECT_EQ(final->status, Status::rated);
    EXPECT_EQ(final->rating, Rating::basically_satisfied);
    EXPECT_TRUE(final->closed_at);
    // The department's system heard of its case at every step from dispatch on.
    int to_cgj = 0;
    for (const auto& m : w.store->outbox_due(w.clock.now(), 100)) to_cgj += m.department == "cgj";
    EXPECT_GE(to_cgj, 5);
}

TEST(Workflow, ReturnAndRedispatch) {
    WorkflowWorld w("wf_return");
    const auto r = w.report("0401", WorkflowWorld::in_grid(1, 1), w.operator_(), Source::hotline);
    const auto id = r.incident.id;
    EXPECT_EQ(r.incident.department, "");  // no water rule for the west town: command centre
    w.workflow->act(id, Action::register_case, w.operator_());
    try {
        w.workflow->act(id, Action::dispatch, w.centre());
        FAIL() << "dispatched without a department";
    } catch (const workflow_error& e) {
        EXPECT_NE(std::string(e.what()).find("needs a department"), std::string::npos);
    }
    ActionInput to_cgj;
    to_cgj.department = "cgj";
    w.workflow->act(id, Action::dispatch, w.centre(), to_cgj);
    ActionInput reason;
    reason.note = "a water main is not ours: 水务局";
    EXPECT_THROW(w.workflow->act(id, Action::return_case, w.handler("cgj")), workflow_error);  // reason needed
    w.workflow->act(id, Action::return_case, w.handler("cgj"), reason);
    EXPECT_EQ(w.store->incident(id)->status, Status::returned);
    ActionInput to_sw;
    to_sw.department = "sw";
    w.workflow->act(id, Action::dispatch, w.centre(), to_sw);
    const auto again = w.store->incident(id);
    EXPECT_EQ(again->department, "sw");
    EXPECT_EQ(again->status, Status::dispatched);
    w.workflow->act(id, Action::accept, w.handler("sw"));
    ActionInput unknown;
    unknown.department = "nope";
    EXPECT_THROW(w.workflow->act(id, Action::dispatch, w.centre(), unknown), workflow_error);
}

TEST(Workflow, ReworkLoopAndReopenAfterAnUnsatisfiedRating) {
    WorkflowWorld w("wf_rework");
    const auto id = w.report("0203", WorkflowWorld::in_grid(2, 1), w.grid_worker(2, 1)).incident.id;
    w.workflow->act(id, Action::register_case, w.centre());
    w.workflow->act(id, Action::dispatch, w.centre());
    w.workflow->act(id, Action::accept, w.handler("cgj"));
    for (int round = 0; round < 2; ++round) {
        w.workflow->act(id, Action::handle, w.handler("cgj"), w.with_photo());
        EXPECT_THROW(w.workflow->act(id, Action::verify_fail, w.grid_worker(2, 1), w.with_photo()), workflow_error);  // reason
        w.workflow->act(id, Action::verify_fail, w.grid_worker(2, 1), w.with_photo("still broken"));
        EXPECT_EQ(w.store->incident(id)->status, Status::rework);
    }
    w.workflow->act(id, Action::handle, w.handler("cgj"), w.with_photo());
    w.workflow->act(id, Action::verify_pass, w.grid_worker(2, 1), w.with_photo());
    ActionInput bad;
    bad.rating = Rating::unsatisfied;
    w.workflow->act(id, Action::rate, w.centre(), bad);
    ActionInput reopen;
    reopen.note = "resident unsatisfied: glass still cracked";
    w.workflow->act(id, Action::reopen, w.centre(), reopen);
    const auto re = w.store->incident(id);
    EXPECT_EQ(re->status, Status::rework);
    EXPECT_FALSE(re->rating);
    EXPECT_FALSE(re->closed_at);
    int reworks = 0;
    for (const auto& e : w.store->events(id)) reworks += e.action == "verify_fail";
    EXPECT_EQ(reworks, 2);
}

TEST(Workflow, SelfHandlingNeedsPhotosAndTheGrid) {
    WorkflowWorld w("wf_self");
    const auto id = w.report("0101", WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1)).incident.id;
    EXPECT_THROW(w.workflow->act(id, Action::self_handle, w.grid_worker(1, 1)), workflow_error);
    EXPECT_THROW(w.workflow->act(id, Action::self_handle, w.grid_worker(2, 1), w.with_photo()), workflow_error);
    const auto t = w.workflow->act(id, Action::self_handle, w.grid_worker(1, 1), w.with_photo("fixed on the spot"));
    EXPECT_EQ(t.incident.status, Status::closed);
    EXPECT_TRUE(t.incident.self_handled);
    EXPECT_FALSE(t.incident.next_check_at);
}

TEST(Workflow, DuplicatesAreSuggestedAndVoidedWithALink) {
    WorkflowWorld w("wf_dup");
    const auto p = WorkflowWorld::in_grid(1, 1);
    const auto first = w.report("0101", p, w.grid_worker(1, 1));
    EXPECT_TRUE(first.possible_duplicates.empty());
    w.clock.advance(2 * ms_per_hour);
    // 30 m east, same category: suggested. Other category: not.
    const auto second = w.report("0101", {p.x + 0.00034, p.y}, w.citizen("c2"), Source::citizen);
    ASSERT_EQ(second.possible_duplicates.size(), 1u);
    EXPECT_EQ(second.possible_duplicates[0], first.incident.id);
    EXPECT_TRUE(w.report("0203", p, w.citizen("c3"), Source::citizen).possible_duplicates.empty());
    // 200 m away: not a duplicate; 4 days later: not either.
    EXPECT_TRUE(w.report("0101", {p.x + 0.0023, p.y}, w.citizen("c4"), Source::citizen).possible_duplicates.empty());
    w.clock.advance(96 * ms_per_hour);
    EXPECT_TRUE(w.report("0101", p, w.citizen("c5"), Source::citizen).possible_duplicates.empty());
    // Void the second as a duplicate of the first: both histories show it.
    ActionInput dup;
    dup.note = "same broken lamp";
    dup.duplicate_of = first.incident.id;
    w.workflow->act(second.incident.id, Action::void_case, w.operator_(), dup);
    const auto voided = w.store->incident(second.incident.id);
    EXPECT_EQ(voided->status, Status::voided);
    EXPECT_EQ(voided->duplicate_of, first.incident.id);
    const auto first_events = w.store->events(first.incident.id);
    EXPECT_EQ(first_events.back().action, "duplicate_linked");
    EXPECT_NE(first_events.back().note.find(std::to_string(second.incident.id)), std::string::npos);
    ActionInput self;
    self.note = "x";
    self.duplicate_of = first.incident.id;
    EXPECT_THROW(w.workflow->act(first.incident.id, Action::void_case, w.operator_(), self), workflow_error);
}

TEST(Workflow, IntakeIsIdempotentAndPlacesReports) {
    WorkflowWorld w("wf_intake");
    const auto a = w.report("1101", WorkflowWorld::in_grid(2, 1), w.citizen("c"), Source::citizen, "phone-123");
    const auto b = w.report("1101", WorkflowWorld::in_grid(2, 1), w.citizen("c"), Source::citizen, "phone-123");
    EXPECT_TRUE(a.created);
    EXPECT_FALSE(b.created);
    EXPECT_EQ(a.incident.id, b.incident.id);
    // Public security in the north: the northern police station, chosen by the business grid.
    EXPECT_EQ(a.incident.department, "police");
    EXPECT_EQ(a.incident.sub_unit, "北站派出所");
    // Outside the district: flagged, for the command centre.
    const auto out = w.report("0101", {120.5, 37.5}, w.operator_(), Source::hotline);
    EXPECT_TRUE(out.incident.outside);
    EXPECT_EQ(out.incident.grid, "");
    EXPECT_EQ(out.incident.department, "");
    EXPECT_GT(out.incident.distance_m, 10000.0);
    // GCJ-02 input is converted: a point reported from Amap lands where it really is.
    core::IntakeRequest g;
    g.category = "0101";
    const auto wgs = WorkflowWorld::in_grid(1, 2);
    g.point = spatial::wgs84_to_gcj02(wgs);
    g.crs = spatial::InputCrs::gcj02;
    g.actor = w.citizen("amap-user");
    const auto placed = w.workflow->intake(g);
    EXPECT_EQ(placed.incident.grid, WorkflowWorld::grid_code(1, 2));
    EXPECT_NEAR(placed.incident.location.x, wgs.x, 1e-8);
    EXPECT_EQ(placed.incident.original_crs, "gcj02");
    // Bad input is refused with the reason.
    core::IntakeRequest bad = g;
    bad.category = "9999";
    EXPECT_THROW(w.workflow->intake(bad), workflow_error);
    bad = g;
    bad.point = {std::nan(""), 37.7};
    try {
        w.workflow->intake(bad);
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_NE(std::string(e.what()).find("location"), std::string::npos);
    }
}

TEST(Workflow, PhotosAreCheckedByContentAndSize) {
    WorkflowWorld w("wf_photo");
    const auto id = w.report("0101", WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1)).incident.id;
    ActionInput text;
    text.photos.push_back({std::vector<std::byte>(100, std::byte{'a'}), "not-a-photo.jpg"});
    try {
        w.workflow->act(id, Action::self_handle, w.grid_worker(1, 1), text);
        FAIL();
    } catch (const workflow_error& e) {
        EXPECT_NE(std::string(e.what()).find("not-a-photo.jpg"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("text/plain"), std::string::npos) << e.what();
    }
    ActionInput huge;
    Photo big = onegrid::test::photo();
    big.bytes.resize(11u << 20);
    huge.photos.push_back(big);
    EXPECT_THROW(w.workflow->act(id, Action::self_handle, w.grid_worker(1, 1), huge), workflow_error);
    EXPECT_EQ(w.store->incident(id)->status, Status::reported);
}

// ---- deadlines ------------------------------------------------------------------------------

TEST(WorkCalendar, HoursRunAroundTheClock) {
    const WorkCalendar cal;
    EXPECT_EQ(cal.add(at("2026-03-06T15:00:00+08:00"), 48, LimitUnit::hours), at("2026-03-08T15:00:00+08:00"));
}

TEST(WorkCalendar, WorkingDaysSkipWeekendsHolidaysAndCountMakeUpDays) {
    const WorkCalendar cal({{{2026, 4, 6}, false}, {{2026, 3, 8}, true}, {{2026, 3, 13}, false}});
    // Friday 15:00 + 1 working day → Monday 15:00.
    EXPECT_EQ(cal.add(at("2026-03-20T15:00:00+08:00"), 1, LimitUnit::workdays), at("2026-03-23T15:00:00+08:00"));
    // Dispatched on a Saturday: the clock starts on Monday, 1 day → end of Monday.
    EXPECT_EQ(cal.add(at("2026-03-21T10:00:00+08:00"), 1, LimitUnit::workdays), at("2026-03-24T00:00:00+08:00"));
    // Qingming: Friday 2026-04-03 12:00 + 1 → Tuesday 04-07 12:00 (Monday 04-06 is a holiday).
    EXPECT_EQ(cal.add(at("2026-04-03T12:00:00+08:00"), 1, LimitUnit::workdays), at("2026-04-07T12:00:00+08:00"));
    // Make-up working Sunday 03-08 counts; holiday Friday 03-13 does not.
    EXPECT_EQ(cal.add(at("2026-03-06T12:00:00+08:00"), 1, LimitUnit::workdays), at("2026-03-08T12:00:00+08:00"));
    EXPECT_EQ(cal.add(at("2026-03-12T12:00:00+08:00"), 1, LimitUnit::workdays), at("2026-03-16T12:00:00+08:00"));
    // Half a working day.
    EXPECT_EQ(cal.add(at("2026-03-02T09:00:00+08:00"), 0.5, LimitUnit::workdays), at("2026-03-02T21:00:00+08:00"));
    EXPECT_TRUE(cal.is_workday({2026, 3, 8}));
    EXPECT_FALSE(cal.is_workday({2026, 3, 14}));
}

TEST(Workflow, DeadlinesWarnAtEightyPercentAndEscalateThreeLevels) {
    WorkflowWorld w("wf_deadline");
    // Dispatched Friday 2026-03-06 09:00, a street light with 2 working days: 15 h of Friday,
    // Saturday off, the make-up working Sunday 03-08 (24 h), then 9 h of Monday → Monday 09:00.
    w.clock.set(at("2026-03-06T09:00:00+08:00"));
    const auto id = w.report("0101", WorkflowWorld::in_grid(1, 1), w.grid_worker(1, 1)).incident.id;
    w.workflow->act(id, Action::register_case, w.centre());
    w.workflow->act(id, Action::dispatch, w.centre());
    const auto d = *w.store->incident(id);
    EXPECT_EQ(d.due_at, at("2026-03-09T09:00:00+08:00"));
    // 80% of 48 working hours = 38.4 h: Friday 15 h + Sunday 23.4 h → Sunday 23:24.
    EXPECT_EQ(d.warn_at, at("2026-03-08T23:24:00+08:00"));
    EXPECT_EQ(d.next_check_at, d.warn_at);

    w.clock.set(at("2026-03-08T23:00:00+08:00"));
    EXPECT_EQ(w.workflow->run_due_checks(), 0u);
    w.clock.set(at("2026-03-08T23:30:00+08:00"));
    EXPECT_EQ(w.workflow->run_due_checks(), 1u);
    EXPECT_EQ(w.store->events(id).back().action, "warn");
    EXPECT_EQ(w.workflow->run_due_checks(), 0u);  // not twice
    w.clock.set(at("2026-03-09T09:00:01+08:00"));
    EXPECT_EQ(w.workflow->run_due_checks(), 1u);
    EXPECT_EQ(w.store->incident(id)->escalation_level, 1);
    w.clock.set(at("2026-03-10T09:00:01+08:00"));  // one step (24 h) later: town/street
    EXPECT_EQ(w.workflow->run_due_checks(), 1u);
    EXPECT_EQ(w.store->incident(id)->escalation_level, 2);
    w.clock.set(at("2026-03-11T09:00:01+08:00"));  // district command centre
    EXPECT_EQ(w.workflow->run_due_checks(), 1u);
    const auto esc = *w.store->incident(id);
    EXPECT_EQ(esc.escalation_level, 3);
    EXPECT_FALSE(esc.next_check_at);
    w.clock.set(at("2026-03-20T09:00:00+08:00"));
    EXPECT_EQ(w.workflow->run_due_checks(), 0u);
    // Each escalation is an event and a message to the level it reached.
    std::vector<std::string> notes;
    for (const auto& e : w.store->events(id)) {
        if (e.action == "escalate") notes.push_back(nlohmann::json::parse(e.data)["to"]);
    }
    EXPECT_EQ(notes, (std::vector<std::string>{"grid", "town/street", "district command centre"}));
    std::set<std::string> recipients;
    for (const auto& m : w.store->outbox_due(w.clock.now(), 1000)) {
        if (m.topic == "incident.escalate") recipients.insert(m.department);
    }
    EXPECT_TRUE(recipients.count("grid:" + WorkflowWorld::grid_code(1, 1)));
    EXPECT_TRUE(recipients.count("town:370614001"));
    EXPECT_TRUE(recipients.count("command_centre"));
}

TEST(Workflow, ASchedulerThatWasDownCatchesUpAndHandledCasesStopTheClock) {
    WorkflowWorld w("wf_catchup");
    const auto late = w.report("0203", WorkflowWorld::in_grid(2, 2), w.grid_worker(2, 2)).incident.id;  // 48 h
    const auto done = w.report("0203", WorkflowWorld::in_grid(2, 1), w.grid_worker(2, 1)).incident.id;
    for (auto id : {late, done}) {
        w.workflow->act(id, Action::register_case, w.centre());
        w.workflow->act(id, Action::dispatch, w.centre());
        w.workflow->act(id, Action::accept, w.handler("cgj"));
    }
    w.workflow->act(done, Action::handle, w.handler("cgj"), w.with_photo());
    EXPECT_FALSE(w.store->incident(done)->next_check_at);
    // A week later in one go: warning, then three escalations.
    w.clock.advance(7 * ms_per_day);
    EXPECT_EQ(w.workflow->run_due_checks(), 4u);
    EXPECT_EQ(w.store->incident(late)->escalation_level, 3);
    EXPECT_EQ(w.store->incident(done)->escalation_level, 0);
}
