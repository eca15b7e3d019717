#include "onegrid/core/workflow.hpp"

#include <magic.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "onegrid/spatial/errors.hpp"

namespace onegrid::core {
namespace {

using Kind = workflow_error::Kind;

constexpr std::array<std::pair<Action, std::string_view>, 12> action_names{{
    {Action::register_case, "register"},
    {Action::void_case, "void"},
    {Action::dispatch, "dispatch"},
    {Action::accept, "accept"},
    {Action::return_case, "return"},
    {Action::handle, "handle"},
    {Action::verify_pass, "verify_pass"},
    {Action::verify_fail, "verify_fail"},
    {Action::self_handle, "self_handle"},
    {Action::rate, "rate"},
    {Action::reopen, "reopen"},
    {Action::comment, "comment"},
}};

const std::vector<Role> all_roles = {Role::grid_worker, Role::hotline_operator, Role::department_handler,
                                     Role::town_officer, Role::command_centre, Role::citizen, Role::planner};

// The states in which a department's deadline clock runs.
bool clock_runs(Status s) { return s == Status::dispatched || s == Status::accepted || s == Status::rework; }

std::string status_label(Status s) { return "'" + std::string(to_string(s)) + "' (" + std::string(label_zh(s)) + ")"; }

std::string roles_text(const std::vector<Role>& roles) {
    std::string out;
    for (std::size_t i = 0; i < roles.size(); ++i) {
        if (i) out += i + 1 == roles.size() ? " or " : ", ";
        out += to_string(roles[i]);
    }
    return out;
}

nlohmann::json incident_summary(const Incident& i) {
    nlohmann::json j;
    j["id"] = i.id;
    j["status"] = to_string(i.status);
    j["category"] = i.category;
    j["grid"] = i.grid;
    j["town"] = i.town;
    j["department"] = i.department;
    if (!i.sub_unit.empty()) j["sub_unit"] = i.sub_unit;
    j["lon"] = i.location.x;
    j["lat"] = i.location.y;
    if (i.due_at) j["due_at"] = format_iso8601(*i.due_at);
    j["escalation_level"] = i.escalation_level;
    return j;
}

OutboxMessage message(const std::string& recipient, const std::string& topic, const Incident& i, const Event& e,
                      Timestamp now) {
    nlohmann::json payload;
    payload["incident"] = incident_summary(i);
    payload["event"] = {{"action", e.action},
                        {"at", format_iso8601(e.at)},
                        {"actor", e.actor},
                        {"role", to_string(e.role)},
                        {"note", e.note}};
    if (e.from) payload["event"]["from"] = to_string(*e.from);
    if (e.to) payload["event"]["to"] = to_string(*e.to);
    OutboxMessage m;
    m.department = recipient;
    m.topic = topic;
    m.payload = payload.dump();
    m.created_at = now;
    m.next_attempt_at = now;
    return m;
}

}  // namespace

std::string_view to_string(Action a) noexcept {
    for (const auto& [v, n] : action_names)
        if (v == a) return n;
    return "unknown";
}

std::optional<Action> parse_action(std::string_view s) noexcept {
    for (const auto& [v, n] : action_names)
        if (n == s) return v;
    return std::nullopt;
}

const std::vector<TransitionRule>& transition_table() {
    using S = Status;
    using R = Role;
    static const std::vector<TransitionRule> table = {
        {Action::register_case, {S::reported}, S::registered, {R::hotline_operator, R::town_officer, R::command_centre},
         false, false, "register (立案) takes a reported case; hotline operators, town/street officers and the command centre register"},
        {Action::void_case, {S::reported, S::registered}, S::voided, {R::hotline_operator, R::town_officer, R::command_centre},
         false, true, "void (作废) ends a reported or registered case that is invalid or a duplicate, with the reason"},
        {Action::dispatch, {S::registered, S::returned}, S::dispatched, {R::hotline_operator, R::town_officer, R::command_centre},
         false, false, "dispatch (派遣) sends a registered or returned case to a department"},
        {Action::accept, {S::dispatched}, S::accepted, {R::department_handler},
         false, false, "the department a case was dispatched to accepts it"},
        {Action::return_case, {S::dispatched, S::accepted}, S::returned, {R::department_handler},
         false, true, "a department returns (退回) a case dispatched to it, with the reason"},
        {Action::handle, {S::accepted, S::rework}, S::handled, {R::department_handler},
         true, false, "the department reports a case it accepted as handled (处置), with evidence photos"},
        {Action::verify_pass, {S::handled}, S::closed, {R::grid_worker, R::command_centre},
         true, false, "only a handled case is verified on site and closed (核查结案), with a photo"},
        {Action::verify_fail, {S::handled}, S::rework, {R::grid_worker, R::command_centre},
         true, true, "verification of a handled case fails into rework (返工), with a photo and the reason"},
        {Action::self_handle, {S::reported}, S::closed, {R::grid_worker},
         true, false, "a grid worker self-handles (自行处置) a reported case of their grid on the spot, with photos"},
        {Action::rate, {S::closed}, S::rated, {R::citizen, R::hotline_operator, R::command_centre},
         false, false, "a closed case is rated once, by the resident (or recorded by the hotline)"},
        {Action::reopen, {S::rated}, S::rework, {R::command_centre},
         false, true, "the command centre reopens a case the resident rated unsatisfied (不满意)"},
        {Action::comment, {}, std::nullopt, all_roles,
         false, true, "anyone concerned may add a note to the history"},
    };
    return table;
}

std::string detect_mime(std::span<const std::byte> bytes) {
    struct Cookie {
        magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
        Cookie() {
            if (m != nullptr && magic_load(m, nullptr) != 0) {
                magic_close(m);
                m = nullptr;
            }
        }
        ~Cookie() {
            if (m != nullptr) magic_close(m);
        }
    };
    thread_local Cookie cookie;
    if (cookie.m == nullptr || bytes.empty()) return {};
    const char* t = magic_buffer(cookie.m, bytes.data(), bytes.size());
    return t != nullptr ? t : "";
}

Workflow::Workflow(Store& store, const Clock& clock, GeographyHolder& geography, WorkflowConfig config)
    : m_store(store), m_clock(clock), m_geography(geography), m_config(std::move(config)) {
    reload_reference_data();
}

void Workflow::reload_reference_data() {
    std::map<std::string, Category> categories;
    for (auto& c : m_store.categories()) categories[c.code] = c;
    RoutingTable routing(m_store.routing_rules());
    WorkCalendar calendar(m_store.calendar());
    std::lock_guard lock(m_mutex);
    m_categories = std::move(categories);
    m_routing = std::move(routing);
    m_calendar = std::move(calendar);
}

void Workflow::set_routing_hooks(std::vector<std::shared_ptr<RoutingHook>> hooks) {
    std::lock_guard lock(m_mutex);
    m_hooks = std::move(hooks);
}

void Workflow::set_nearby_finder(NearbyFinder finder) { m_nearby = std::move(finder); }

void Workflow::set_lifecycle_listener(std::function<void(const Incident&, std::string_view)> listener) {
    std::lock_guard lock(m_mutex);
    m_lifecycle = std::move(listener);
}

std::optional<Category> Workflow::category(const std::string& code) const {
    std::lock_guard lock(m_mutex);
    auto it = m_categories.find(code);
    if (it == m_categories.end()) return std::nullopt;
    return it->second;
}

WorkCalendar Workflow::calendar() const {
    std::lock_guard lock(m_mutex);
    return m_calendar;
}

Timestamp Workflow::due_time(const Category& c, Timestamp from) const { return calendar().add(from, c.limit, c.limit_unit); }

Timestamp Workflow::warning_time(const Category& c, Timestamp from) const {
    return calendar().add(from, c.limit * m_config.warning_fraction, c.limit_unit);
}

RouteDecision Workflow::route(const Incident& incident) {
    std::vector<std::shared_ptr<RoutingHook>> hooks;
    RoutingTable table;
    {
        std::lock_guard lock(m_mutex);
        hooks = m_hooks;
        table = m_routing;
    }
    for (const auto& hook : hooks) {
        std::string error;
        std::optional<RouteDecision> d;
        try {
            d = hook->route(incident, error);
        } catch (...) {
            d.reset();  // a hook must not throw; if it does, the rules table decides
        }
        if (d && !d->department.empty()) {
            if (d->decided_by.empty()) d->decided_by = "plugin:" + hook->name();
            return *d;
        }
    }
    if (auto d = table.route(incident)) return *d;
    return RouteDecision{"", "", "command_centre"};
}

std::vector<MediaInfo> Workflow::save_photos(const std::vector<Photo>& photos) {
    if (photos.size() > m_config.max_photos) {
        throw workflow_error(Kind::invalid, std::to_string(photos.size()) + " photos attached; at most " +
                                                std::to_string(m_config.max_photos) + " are accepted");
    }
    std::vector<MediaInfo> out;
    for (std::size_t i = 0; i < photos.size(); ++i) {
        const Photo& p = photos[i];
        const std::string label = "photo " + std::to_string(i + 1) + (p.filename.empty() ? "" : " (" + p.filename + ")");
        if (p.bytes.empty()) throw workflow_error(Kind::invalid, label + " is empty");
        if (p.bytes.size() > m_config.max_photo_bytes) {
            throw workflow_error(Kind::invalid, label + " is " + std::to_string(p.bytes.size()) + " bytes; the limit is " +
                                                    std::to_string(m_config.max_photo_bytes));
        }
        const std::string mime = detect_mime(p.bytes);
        if (m_config.photo_types.count(mime) == 0) {
            throw workflow_error(Kind::invalid, label + " is " + (mime.empty() ? std::string("of unknown type") : mime) +
                                                    ", not an accepted image type (JPEG, PNG, WebP, HEIC)");
        }
        out.push_back(m_store.save_media(p.bytes, mime));
    }
    return out;
}

Workflow::PreparedIntake Workflow::prepare_intake(const IntakeRequest& r) {
    const auto cat = category(r.category);
    if (!cat) throw workflow_error(Kind::invalid, "unknown category '" + r.category + "'");
    if (r.description.size() > m_config.max_description) {
        throw workflow_error(Kind::invalid, "description is longer than " + std::to_string(m_config.max_description) + " bytes");
    }
    if (r.request_id.size() > 200) throw workflow_error(Kind::invalid, "request id is longer than 200 characters");
    spatial::Point p;
    try {
        p = spatial::to_cgcs2000(r.point, r.crs);
    } catch (const spatial::coordinate_error& e) {
        throw workflow_error(Kind::invalid, std::string("location: ") + e.what());
    }
    const Timestamp now = m_clock.now();
    const auto geo = m_geography.get();
    const auto place = geo->place(p);

    Incident i;
    i.request_id = r.request_id;
    i.source = r.source;
    i.category = r.category;
    i.description = r.description;
    i.address = r.address;
    i.location = p;
    i.original = r.point;
    i.original_crs = std::string(spatial::to_string(r.crs));
    i.grid = place.grid;
    i.grid_version = place.grid_version;
    i.community = place.community;
    i.town = place.town;
    i.outside = place.outside;
    i.distance_m = place.distance_m;
    i.business = place.business;
    i.status = Status::reported;
    i.reporter = r.reporter;
    if (i.reporter.id.empty()) i.reporter.id = r.actor.id;
    i.reported_at = r.reported_at.value_or(now);
    i.updated_at = now;

    RouteDecision route_decision{"", "", "command_centre"};
    if (!i.outside) route_decision = route(i);
    i.department = route_decision.department;
    i.sub_unit = route_decision.sub_unit;

    const Timestamp since = now - m_config.duplicate_window;
    std::vector<IncidentId> duplicates = m_nearby ? m_nearby(i.category, p, m_config.duplicate_radius_m, since)
                                                  : m_store.open_incidents_near(i.category, p, m_config.duplicate_radius_m, since);
    const auto media = save_photos(r.photos);
    for (const auto& m : media) i.media.push_back(m.hash);

    NewIncident n;
    n.incident = i;
    n.media = media;
    Event& e = n.first_event;
    e.at = now;
    e.actor = r.actor.id;
    e.role = r.actor.role;
    e.action = "report";
    e.to = Status::reported;
    e.media = i.media;
    nlohmann::json data;
    data["source"] = to_string(r.source);
    data["crs"] = spatial::to_string(r.crs);
    data["route"] = {{"department", route_decision.department},
                     {"sub_unit", route_decision.sub_unit},
                     {"decided_by", route_decision.decided_by}};
    if (i.outside) {
        data["outside"] = {{"nearest_grid", place.nearest_grid}, {"distance_m", place.distance_m}};
        e.note = "outside the district";
    }
    if (!duplicates.empty()) data["possible_duplicates"] = duplicates;
    if (!r.media_urls.empty()) data["media_urls"] = r.media_urls;
    e.data = data.dump();
    n.outbox.push_back(message("", "incident.reported", i, e, now));
    return {std::move(n), std::move(duplicates), std::move(route_decision)};
}

IntakeOutcome Workflow::intake_outcome(PreparedIntake&& prepared, IntakeResult&& stored) {
    if (!stored.created) return {std::move(stored.incident), false, {}, {}, {}};
    IntakeOutcome out{std::move(stored.incident), true, std::move(prepared.duplicates), std::move(prepared.route),
                      std::move(prepared.record.first_event)};
    out.first_event.incident = out.incident.id;
    out.first_event.seq = 1;
    return out;
}

// A repeated request id returns what the first request created (the store checks it in the same
// transaction as the write, so two concurrent repeats make one incident too).
IntakeOutcome Workflow::intake(const IntakeRequest& r) {
    PreparedIntake prepared = prepare_intake(r);
    IntakeResult stored = m_store.intake(prepared.record);
    return intake_outcome(std::move(prepared), std::move(stored));
}

void Workflow::intake_async(const IntakeRequest& r, IntakeDone done) {
    auto prepared = std::make_shared<PreparedIntake>(prepare_intake(r));
    NewIncident record = prepared->record;
    m_store.intake_async(std::move(record), [prepared, done = std::move(done)](std::optional<IntakeResult> stored,
                                                                               std::exception_ptr error) {
        if (error || !stored) return done(std::nullopt, error);
        done(intake_outcome(std::move(*prepared), std::move(*stored)), nullptr);
    });
}

TransitionResult Workflow::act(IncidentId id, Action action, const Actor& actor, const ActionInput& in) {
    const auto& table = transition_table();
    const auto rule_it = std::find_if(table.begin(), table.end(), [&](const TransitionRule& t) { return t.action == action; });
    const TransitionRule& rule = *rule_it;
    const std::string name(to_string(action));
    // The role may act at all (admins act as the command centre).
    const Role role = actor.role == Role::admin ? Role::command_centre : actor.role;
    if (std::find(rule.roles.begin(), rule.roles.end(), role) == rule.roles.end()) {
        throw workflow_error(Kind::forbidden, "a " + std::string(to_string(actor.role)) + " may not " + name +
                                                  ": " + rule.rule + " (roles: " + roles_text(rule.roles) + ")");
    }
    if (rule.needs_note && in.note.empty()) {
        throw workflow_error(Kind::invalid, name + " needs a note giving the reason: " + rule.rule);
    }
    if (rule.needs_photo && in.photos.empty()) {
        throw workflow_error(Kind::invalid, name + " needs at least one photo as evidence: " + rule.rule);
    }
    if (action == Action::rate && !in.rating) throw workflow_error(Kind::invalid, "rate needs a rating (satisfied, basically_satisfied or unsatisfied)");
    if (action == Action::void_case && in.duplicate_of && *in.duplicate_of == id) {
        throw workflow_error(Kind::invalid, "an incident cannot be a duplicate of itself");
    }
    std::optional<Incident> original;
    if (action == Action::void_case && in.duplicate_of) {
        original = m_store.incident(*in.duplicate_of);
        if (!original) throw workflow_error(Kind::not_found, "no incident " + std::to_string(*in.duplicate_of) + " to be a duplicate of");
    }
    std::optional<Category> cat;
    std::string dispatch_department = in.department;
    if (action == Action::dispatch && !dispatch_department.empty()) {
        const auto deps = m_store.departments();
        if (std::none_of(deps.begin(), deps.end(), [&](const Department& d) { return d.code == dispatch_department; })) {
            throw workflow_error(Kind::invalid, "unknown department '" + dispatch_department + "'");
        }
    }
    // Photos are stored before the transaction (content-addressed: a refused action leaves only
    // an unreferenced file).
    const auto media = save_photos(in.photos);
    const Timestamp now = m_clock.now();

    auto decide = [&](const Incident& cur) -> Change {
        // State.
        if (!rule.from.empty() && std::find(rule.from.begin(), rule.from.end(), cur.status) == rule.from.end()) {
            throw workflow_error(Kind::illegal_transition, "cannot " + name + " incident " + std::to_string(id) +
                                                               ": it is " + status_label(cur.status) + "; " + rule.rule);
        }
        // Scope of the role.
        if (role == Role::department_handler && cur.department != actor.department) {
            throw workflow_error(Kind::forbidden, "incident " + std::to_string(id) + " is the case of department '" +
                                                      cur.department + "'; a handler of '" + actor.department +
                                                      "' may not " + name + " it");
        }
        if (role == Role::town_officer && cur.town != actor.town) {
            throw workflow_error(Kind::forbidden, "incident " + std::to_string(id) + " lies in town '" + cur.town +
                                                      "'; an officer of '" + actor.town + "' may not " + name + " it");
        }
        if (role == Role::grid_worker && (action == Action::verify_pass || action == Action::verify_fail ||
                                          action == Action::self_handle)) {
            if (cur.grid != actor.grid && !(action == Action::self_handle && cur.reporter.id == actor.id)) {
                throw workflow_error(Kind::forbidden, "incident " + std::to_string(id) + " lies in grid '" + cur.grid +
                                                          "'; the worker of grid '" + actor.grid + "' may not " + name + " it");
            }
        }
        if (role == Role::citizen && action == Action::rate && cur.reporter.id != actor.id) {
            throw workflow_error(Kind::forbidden, "only the resident who reported incident " + std::to_string(id) + " may rate it");
        }
        if (action == Action::reopen && cur.rating != Rating::unsatisfied) {
            throw workflow_error(Kind::illegal_transition, "cannot reopen incident " + std::to_string(id) +
                                                               ": it was not rated unsatisfied; " + rule.rule);
        }
        Change c;
        c.incident = cur;
        Incident& i = c.incident;
        nlohmann::json data = nlohmann::json::object();
        std::vector<std::pair<std::string, std::string>> recipients;  // (recipient, topic)
        switch (action) {
            case Action::void_case:
                if (original) {
                    i.duplicate_of = original->id;
                    data["duplicate_of"] = original->id;
                }
                break;
            case Action::dispatch: {
                const std::string dep = !dispatch_department.empty() ? dispatch_department : cur.department;
                if (dep.empty()) {
                    throw workflow_error(Kind::invalid, "dispatch needs a department: routing found none for incident " +
                                                            std::to_string(id));
                }
                cat = category(cur.category);
                if (!cat) throw workflow_error(Kind::invalid, "incident " + std::to_string(id) + " has an unknown category");
                i.department = dep;
                i.sub_unit = !dispatch_department.empty() ? in.sub_unit : cur.sub_unit;
                i.due_at = due_time(*cat, now);
                i.warn_at = warning_time(*cat, now);
                i.warned_at.reset();
                i.escalation_level = 0;
                data["department"] = dep;
                if (!i.sub_unit.empty()) data["sub_unit"] = i.sub_unit;
                data["due_at"] = format_iso8601(*i.due_at);
                data["time_limit"] = {{"value", cat->limit}, {"unit", cat->limit_unit == LimitUnit::hours ? "hours" : "workdays"}};
                recipients.emplace_back(dep, "incident.dispatched");
                break;
            }
            case Action::return_case:
                recipients.emplace_back("", "incident.returned");
                break;
            case Action::verify_fail:
                recipients.emplace_back(cur.department, "incident.rework");
                break;
            case Action::self_handle:
                i.self_handled = true;
                break;
            case Action::rate:
                i.rating = in.rating;
                data["rating"] = to_string(*in.rating);
                break;
            case Action::reopen: {
                cat = category(cur.category);
                if (cat) {
                    i.due_at = due_time(*cat, now);
                    i.warn_at = warning_time(*cat, now);
                    i.warned_at.reset();
                    i.escalation_level = 0;
                    data["due_at"] = format_iso8601(*i.due_at);
                }
                i.rating.reset();
                i.closed_at.reset();
                recipients.emplace_back(cur.department, "incident.reopened");
                break;
            }
            default: break;
        }
        if (rule.to) i.status = *rule.to;
        if (i.status == Status::closed && cur.status != Status::closed) i.closed_at = now;
        i.updated_at = now;
        // The deadline clock runs only while the department holds the case.
        if (clock_runs(i.status) && i.due_at) {
            if (!i.warned_at && i.warn_at) {
                i.next_check_at = i.warn_at;
            } else {
                i.next_check_at = *i.due_at + std::min(i.escalation_level, 2) * m_config.escalation_step;
                if (i.escalation_level >= 3) i.next_check_at.reset();
            }
        } else {
            i.next_check_at.reset();
        }
        Event& e = c.event;
        e.at = now;
        e.actor = actor.id;
        e.role = actor.role;
        e.action = name;
        e.from = cur.status;
        e.to = i.status;
        e.note = in.note;
        for (const auto& m : media) e.media.push_back(m.hash);
        if (!data.empty()) e.data = data.dump();
        c.media = media;
        // The department's system hears of every change to its cases; the command centre of
        // changes that need it.
        if (!i.department.empty() && std::none_of(recipients.begin(), recipients.end(), [&](const auto& r) {
                return r.first == i.department;
            })) {
            recipients.emplace_back(i.department, "incident." + name);
        }
        for (const auto& [to, topic] : recipients) c.outbox.push_back(message(to, topic, i, e, now));
        return c;
    };
    try {
        auto result = m_store.transition(id, decide);
        if (original) {
            // The original shows the link in its history too.
            ActionInput note;
            note.note = "incident " + std::to_string(id) + " was voided as a duplicate of this case";
            m_store.transition(original->id, [&](const Incident& cur) {
                Change c;
                c.incident = cur;
                c.event.at = now;
                c.event.actor = actor.id;
                c.event.role = actor.role;
                c.event.action = "duplicate_linked";
                c.event.from = cur.status;
                c.event.to = cur.status;
                c.event.note = note.note;
                c.event.data = nlohmann::json{{"duplicate", id}}.dump();
                return c;
            });
        }
        std::function<void(const Incident&, std::string_view)> listener;
        {
            std::lock_guard lock(m_mutex);
            listener = m_lifecycle;
        }
        if (listener && result.event.from != result.incident.status) {
            if (result.incident.status == Status::dispatched) listener(result.incident, "dispatched");
            if (result.incident.status == Status::closed) listener(result.incident, "closed");
        }
        return result;
    } catch (const not_found_error&) {
        throw workflow_error(Kind::not_found, "no incident " + std::to_string(id));
    }
}

std::size_t Workflow::run_due_checks(std::size_t limit, const std::function<void(const TransitionResult&)>& on_event) {
    std::size_t written = 0;
    while (written < limit) {
        const Timestamp now = m_clock.now();
        const auto due = m_store.due_checks(now, std::min<std::size_t>(1000, limit - written));
        if (due.empty()) break;
        std::size_t progressed = 0;
        for (const auto& candidate : due) {
            auto result = m_store.transition(candidate.id, [&](const Incident& cur) {
                Change c;
                c.incident = cur;
                Incident& i = c.incident;
                if (!i.next_check_at || *i.next_check_at > now) return c;  // already dealt with
                if (!clock_runs(i.status) || !i.due_at) {
                    i.next_check_at.reset();  // the clock stopped since: nothing to do
                    return c;
                }
                Event& e = c.event;
                e.at = now;
                e.actor = "scheduler";
                e.role = Role::system;
                e.from = i.status;
                e.to = i.status;
                nlohmann::json data;
                const Timestamp step = m_config.escalation_step;
                std::string recipient;
                if (!i.warned_at && i.warn_at && now >= *i.warn_at) {
                    i.warned_at = now;
                    e.action = "warn";
                    e.note = "80% of the time limit has passed; due " + format_iso8601(*i.due_at);
                    recipient = i.department;
                } else if (i.escalation_level < 3 && now >= *i.due_at + i.escalation_level * step) {
                    ++i.escalation_level;
                    e.action = "escalate";
                    static const char* level_names[] = {"", "grid", "town/street", "district command centre"};
                    e.note = std::string("overdue since ") + format_iso8601(*i.due_at) + ": escalated to the " +
                             level_names[i.escalation_level];
                    data["level"] = i.escalation_level;
                    data["to"] = level_names[i.escalation_level];
                    recipient = i.escalation_level == 1   ? "grid:" + i.grid
                                : i.escalation_level == 2 ? "town:" + i.town
                                                          : "command_centre";
                }
                // Next check.
                if (!i.warned_at && i.warn_at) {
                    i.next_check_at = i.warn_at;
                } else if (i.escalation_level < 3) {
                    i.next_check_at = *i.due_at + i.escalation_level * step;
                } else {
                    i.next_check_at.reset();
                }
                if (!e.action.empty()) {
                    data["due_at"] = format_iso8601(*i.due_at);
                    e.data = data.dump();
                    i.updated_at = now;
                    c.outbox.push_back(message(recipient, "incident." + e.action, i, e, now));
                    if (e.action == "escalate" && recipient != i.department && !i.department.empty()) {
                        c.outbox.push_back(message(i.department, "incident.escalate", i, e, now));
                    }
                }
                return c;
            });
            if (!result.event.action.empty()) {
                ++written;
                if (on_event) on_event(result);
            }
            ++progressed;
        }
        if (progressed == 0) break;
        // Several thresholds may have passed (the scheduler was stopped): go round again while
        // checks are still due; each round moves every incident's check forward or clears it.
        bool any_left = false;
        for (const auto& d : m_store.due_checks(now, 1)) any_left = d.next_check_at && *d.next_check_at <= now;
        if (!any_left) break;
    }
    return written;
}

}  // namespace onegrid::core
