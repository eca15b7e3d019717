// The workflow API (/v1): intake with photos, every transition, queues, incident history, media,
// reference data. JSON in and out; photos as multipart/form-data.

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app_internal.hpp"
#include "multipart.hpp"
#include "onegrid/spatial/crs.hpp"

namespace onegrid::server {

using nlohmann::json;

namespace {

struct Body {
    json fields = json::object();
    std::vector<core::Photo> photos;
};

// A request body: JSON, form fields, or multipart with a JSON part ("report"/"data") and photos.
Body read_body(const Request& req, bool allow_empty) {
    Body b;
    const auto ct_it = req.find(http::field::content_type);
    const std::string ct = ct_it != req.end() ? std::string(ct_it->value()) : "";
    if (req.body().empty()) {
        if (allow_empty) return b;
        throw core::workflow_error(core::workflow_error::Kind::invalid, "the request has no body");
    }
    if (auto boundary = detail::multipart_boundary(ct)) {
        std::vector<detail::Part> parts;
        try {
            parts = detail::parse_multipart(req.body(), *boundary);
        } catch (const detail::multipart_error& e) {
            throw core::workflow_error(core::workflow_error::Kind::invalid, std::string("multipart body: ") + e.what());
        }
        for (const auto& p : parts) {
            if (!p.filename.empty() || p.name == "photo" || p.name == "photos") {
                core::Photo photo;
                const auto* d = reinterpret_cast<const std::byte*>(p.body.data());
                photo.bytes.assign(d, d + p.body.size());
                photo.filename = p.filename;
                b.photos.push_back(std::move(photo));
            } else if (p.name == "report" || p.name == "data" || p.name == "json") {
                b.fields = json::parse(p.body, nullptr, false);
                if (!b.fields.is_object()) {
                    throw core::workflow_error(core::workflow_error::Kind::invalid, "the '" + p.name + "' part is not a JSON object");
                }
            } else {
                b.fields[p.name] = std::string(p.body);
            }
        }
        return b;
    }
    if (ct.rfind("application/x-www-form-urlencoded", 0) == 0) {
        const auto form = parse_form(req.body());
        if (!form) throw core::workflow_error(core::workflow_error::Kind::invalid, "malformed form body");
        for (const auto& [k, v] : *form) b.fields[k] = v;
        return b;
    }
    b.fields = json::parse(req.body(), nullptr, false);
    if (b.fields.is_discarded()) throw core::workflow_error(core::workflow_error::Kind::invalid, "the body is not valid JSON");
    if (!b.fields.is_object()) throw core::workflow_error(core::workflow_error::Kind::invalid, "the body must be a JSON object");
    return b;
}

std::string str(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return {};
    if (j[key].is_string()) return j[key].get<std::string>();
    if (j[key].is_number() || j[key].is_boolean()) return j[key].dump();
    throw core::workflow_error(core::workflow_error::Kind::invalid, std::string("'") + key + "' must be a string");
}

double number(const json& j, const char* key) {
    if (!j.contains(key)) throw core::workflow_error(core::workflow_error::Kind::invalid, std::string("'") + key + "' is required");
    const json& v = j[key];
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        char* end = nullptr;
        const std::string s = v.get<std::string>();
        const double d = std::strtod(s.c_str(), &end);
        if (end != s.c_str() && *end == '\0') return d;
    }
    throw core::workflow_error(core::workflow_error::Kind::invalid, std::string("'") + key + "' must be a number");
}

json incident_json(const App::Context& ctx, const core::Incident& i, const Principal& who, const std::string& base) {
    json j;
    j["id"] = i.id;
    if (!i.request_id.empty()) j["request_id"] = i.request_id;
    j["source"] = core::to_string(i.source);
    j["category"] = i.category;
    j["category_name"] = category_name(ctx, i.category);
    j["description"] = i.description;
    j["address"] = i.address;
    j["location"] = {{"lon", i.location.x}, {"lat", i.location.y}, {"crs", "EPSG:4490"}};
    j["reported_location"] = {{"lon", i.original.x}, {"lat", i.original.y}, {"crs", i.original_crs}};
    j["grid"] = i.grid;
    j["grid_version"] = i.grid_version;
    j["community"] = i.community;
    j["town"] = i.town;
    j["outside"] = i.outside;
    if (i.outside) j["distance_m"] = i.distance_m;
    json business = json::object();
    for (const auto& b : i.business) business[b.layer] = b.code;
    j["business"] = business;
    j["department"] = i.department;
    j["sub_unit"] = i.sub_unit;
    j["status"] = core::to_string(i.status);
    j["status_zh"] = core::label_zh(i.status);
    j["due_at"] = i.due_at ? json(core::format_iso8601(*i.due_at)) : json(nullptr);
    j["warned_at"] = i.warned_at ? json(core::format_iso8601(*i.warned_at)) : json(nullptr);
    j["escalation_level"] = i.escalation_level;
    j["self_handled"] = i.self_handled;
    j["duplicate_of"] = i.duplicate_of ? json(*i.duplicate_of) : json(nullptr);
    j["rating"] = i.rating ? json(core::to_string(*i.rating)) : json(nullptr);
    j["reported_at"] = core::format_iso8601(i.reported_at);
    j["updated_at"] = core::format_iso8601(i.updated_at);
    j["closed_at"] = i.closed_at ? json(core::format_iso8601(*i.closed_at)) : json(nullptr);
    json photos = json::array();
    for (const auto& h : i.media) photos.push_back(base + "/v1/media/" + h);
    j["photos"] = photos;
    if (may_see_personal_data(who, i)) {
        j["reporter"] = {{"id", i.reporter.id}, {"name", i.reporter.name}, {"phone", i.reporter.phone}};
    }
    return j;
}

json event_json(const core::Event& e, const std::string& base) {
    json j;
    j["seq"] = e.seq;
    j["at"] = core::format_iso8601(e.at);
    j["actor"] = e.actor;
    j["role"] = core::to_string(e.role);
    j["action"] = e.action;
    j["from"] = e.from ? json(core::to_string(*e.from)) : json(nullptr);
    j["to"] = e.to ? json(core::to_string(*e.to)) : json(nullptr);
    j["note"] = e.note;
    json photos = json::array();
    for (const auto& h : e.media) photos.push_back(base + "/v1/media/" + h);
    j["photos"] = photos;
    if (!e.data.empty()) j["data"] = json::parse(e.data, nullptr, false);
    return j;
}

// Which sources a role may report as.
bool may_report_as(const Principal& who, core::Source s) {
    switch (who.role) {
        case core::Role::admin:
        case core::Role::command_centre: return true;
        case core::Role::grid_worker: return s == core::Source::grid_worker;
        case core::Role::hotline_operator: return s == core::Source::hotline;
        case core::Role::department_handler: return s == core::Source::department || s == core::Source::sensor;
        case core::Role::citizen: return s == core::Source::citizen;
        case core::Role::town_officer: return s == core::Source::department;
        default: return false;
    }
}

core::Source default_source(core::Role r) {
    switch (r) {
        case core::Role::grid_worker: return core::Source::grid_worker;
        case core::Role::hotline_operator: return core::Source::hotline;
        case core::Role::citizen: return core::Source::citizen;
        default: return core::Source::department;
    }
}

bool may_read_incident(const Principal& who, const core::Incident& i) {
    if (!who.authenticated) return false;
    if (who.is(core::Role::department_handler))
        return i.department == who.department && reached_department(i.status, i.self_handled);
    if (who.is(core::Role::citizen)) return i.reporter.id == who.user;
    return true;
}

Reply intake_reply(App::Context& ctx, const core::IntakeOutcome& out, const Principal& who, const std::string& base) {
    if (out.created) {
        ++ctx.metrics.intakes;
        ctx.incident_changed(out.incident, &out.first_event);
    } else {
        ++ctx.metrics.intake_duplicates;
    }
    json j = incident_json(ctx, out.incident, who, base);
    j["created"] = out.created;
    j["possible_duplicates"] = out.possible_duplicates;
    j["route"] = {{"department", out.route.department}, {"sub_unit", out.route.sub_unit}, {"decided_by", out.route.decided_by}};
    Reply rep = json_reply(j.dump(), out.created ? http::status::created : http::status::ok);
    rep.header("Location", base + "/v1/incidents/" + std::to_string(out.incident.id));
    return rep;
}

Reply intake(App::Context& ctx, const Call& call) {
    if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "reporting needs a token");
    if (call.who.is(core::Role::planner)) return error_reply(http::status::forbidden, "forbidden", "a planner does not report incidents");
    const Body body = read_body(call.req, false);
    const json& f = body.fields;
    core::IntakeRequest r;
    r.request_id = str(f, "request_id");
    r.source = default_source(call.who.role);
    if (const auto s = str(f, "source"); !s.empty()) {
        const auto src = core::parse_source(s);
        if (!src) return error_reply(http::status::bad_request, "invalid", "unknown source '" + s + "'");
        r.source = *src;
    }
    if (!may_report_as(call.who, r.source)) {
        return error_reply(http::status::forbidden, "forbidden",
                           "a " + std::string(core::to_string(call.who.role)) + " may not report as source '" +
                               std::string(core::to_string(r.source)) + "'");
    }
    r.category = str(f, "category");
    if (r.category.empty()) return error_reply(http::status::bad_request, "invalid", "'category' is required");
    r.description = str(f, "description");
    r.address = str(f, "address");
    r.point = {number(f, "lon"), number(f, "lat")};
    const std::string crs = str(f, "crs");
    if (!crs.empty()) {
        const auto c = spatial::parse_input_crs(crs);
        if (!c) return error_reply(http::status::bad_request, "invalid", "unknown crs '" + crs + "' (wgs84, cgcs2000, gcj02, bd09)");
        r.crs = *c;
    }
    if (f.contains("reporter") && f["reporter"].is_object()) {
        r.reporter.name = str(f["reporter"], "name");
        r.reporter.phone = str(f["reporter"], "phone");
    }
    r.reporter.id = call.who.user;
    if (const auto ra = str(f, "reported_at"); !ra.empty()) {
        const auto t = core::parse_iso8601(ra);
        if (!t) return error_reply(http::status::bad_request, "invalid", "reported_at is not an RFC 3339 date-time");
        r.reported_at = t;
    }
    r.photos = body.photos;
    r.actor = call.who.actor();
    if (call.later && r.photos.empty()) {
        // Answered once the commit is on disk, without a thread waiting for it. The store calls
        // back on one of its threads, which only hands the answer to this connection's thread.
        ctx.workflow->intake_async(r, [&ctx, later = call.later, who = call.who, base = call.base](
                                          std::optional<core::IntakeOutcome> out, std::exception_ptr error) {
            later([&ctx, out = std::move(out), error, who, base]() -> Reply {
                if (error) std::rethrow_exception(error);
                return intake_reply(ctx, *out, who, base);
            });
        });
        Reply deferred;
        deferred.deferred = true;
        return deferred;
    }
    return intake_reply(ctx, ctx.workflow->intake(r), call.who, call.base);
}

Reply act(App::Context& ctx, const Call& call, core::IncidentId id, const std::string& action_name) {
    if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "actions need a token");
    const auto action = core::parse_action(action_name);
    if (!action) return error_reply(http::status::not_found, "not_found", "no action '" + action_name + "'");
    const Body body = read_body(call.req, true);
    const json& f = body.fields;
    core::ActionInput in;
    in.note = str(f, "note");
    in.department = str(f, "department");
    in.sub_unit = str(f, "sub_unit");
    if (const auto d = str(f, "duplicate_of"); !d.empty()) {
        char* end = nullptr;
        in.duplicate_of = std::strtoll(d.c_str(), &end, 10);
        if (end == nullptr || *end != '\0') return error_reply(http::status::bad_request, "invalid", "duplicate_of must be an incident id");
    }
    if (const auto r = str(f, "rating"); !r.empty()) {
        in.rating = core::parse_rating(r);
        if (!in.rating) return error_reply(http::status::bad_request, "invalid", "rating must be satisfied, basically_satisfied or unsatisfied");
    }
    in.photos = body.photos;
    const auto t = ctx.workflow->act(id, *action, call.who.actor(), in);
    ++ctx.metrics.transitions;
    ctx.incident_changed(t.incident, &t.event);
    if (in.duplicate_of) {
        if (auto o = ctx.store.incident(*in.duplicate_of)) ctx.incident_changed(*o);
    }
    json j;
    j["incident"] = incident_json(ctx, t.incident, call.who, call.base);
    j["event"] = event_json(t.event, call.base);
    return json_reply(j.dump());
}

Reply incident_detail(App::Context& ctx, const Call& call, core::IncidentId id) {
    const auto i = ctx.store.incident(id);
    if (!i || !may_read_incident(call.who, *i)) {
        if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "reading cases needs a token");
        return error_reply(http::status::not_found, "not_found", "no incident " + std::to_string(id));
    }
    json j = incident_json(ctx, *i, call.who, call.base);
    json history = json::array();
    for (const auto& e : ctx.store.events(id)) history.push_back(event_json(e, call.base));
    j["history"] = history;
    return json_reply(j.dump());
}

std::size_t size_param(const Target& t, const char* name, std::size_t dflt, std::size_t max) {
    const auto v = t.param(name);
    if (!v) return dflt;
    char* end = nullptr;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || n < 0) {
        throw core::workflow_error(core::workflow_error::Kind::invalid, std::string(name) + " must be a non-negative integer");
    }
    return std::min<std::size_t>(static_cast<std::size_t>(n), max);
}

Reply incident_list(App::Context& ctx, const Call& call, core::IncidentQuery q, const std::string& title) {
    q.limit = size_param(call.target, "limit", 100, 1000);
    q.offset = size_param(call.target, "offset", 0, 10'000'000);
    if (auto v = call.target.param("status")) {
        std::stringstream ss(*v);
        for (std::string s; std::getline(ss, s, ',');) {
            const auto st = core::parse_status(s);
            if (!st) return error_reply(http::status::bad_request, "invalid", "unknown status '" + s + "'");
            q.statuses.insert(*st);
        }
    }
    if (auto v = call.target.param("category")) q.categories.insert(*v);
    if (auto v = call.target.param("grid")) q.grid = *v;
    if (auto v = call.target.param("town")) q.town = *v;
    if (auto v = call.target.param("department"); v && !call.who.is(core::Role::department_handler)) q.department = *v;
    if (call.target.param("newest") == std::optional<std::string>("true")) q.newest_first = true;
    // Scope: departments see their own cases, residents their own reports.
    if (call.who.is(core::Role::department_handler)) {
        q.department = call.who.department;
        std::set<core::Status> allowed;
        for (const auto st : department_states())
            if (q.statuses.empty() || q.statuses.contains(st)) allowed.insert(st);
        if (allowed.empty()) allowed.insert(core::Status::voided);  // asked only for states it never sees: match none
        q.statuses = allowed;
    }
    if (call.who.is(core::Role::citizen)) q.reporter = call.who.user;
    const auto total = ctx.store.count_incidents(q);
    json items = json::array();
    for (const auto& i : ctx.store.incidents(q)) items.push_back(incident_json(ctx, i, call.who, call.base));
    return json_reply(json{{"queue", title}, {"total", total}, {"offset", q.offset}, {"items", items}}.dump());
}

Reply queue(App::Context& ctx, const Call& call, const std::string& name) {
    if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "queues need a token");
    core::IncidentQuery q;
    q.open_only = true;
    if (name == "department") {
        if (!call.who.any_of({core::Role::department_handler, core::Role::command_centre, core::Role::hotline_operator})) {
            return error_reply(http::status::forbidden, "forbidden", "this role has no department queue");
        }
        const std::string dep = call.who.is(core::Role::department_handler) ? call.who.department
                                                                            : call.target.param("department").value_or("");
        if (dep.empty()) return error_reply(http::status::bad_request, "invalid", "department queue: ?department= is required");
        q.department = dep;
        q.statuses = {core::Status::dispatched, core::Status::accepted, core::Status::rework};
    } else if (name == "town") {
        if (!call.who.any_of({core::Role::town_officer, core::Role::command_centre})) {
            return error_reply(http::status::forbidden, "forbidden", "this role has no town queue");
        }
        const std::string town = call.who.is(core::Role::town_officer) ? call.who.town : call.target.param("town").value_or("");
        if (town.empty()) return error_reply(http::status::bad_request, "invalid", "town queue: ?town= is required");
        q.town = town;
    } else if (name == "grid") {
        if (!call.who.any_of({core::Role::grid_worker, core::Role::command_centre})) {
            return error_reply(http::status::forbidden, "forbidden", "the grid queue is the grid worker's");
        }
        q.grid = call.who.is(core::Role::grid_worker) ? call.who.grid : call.target.param("grid").value_or("");
        if (q.grid.empty()) return error_reply(http::status::bad_request, "invalid", "grid queue: no grid");
        // What waits for the grid worker: cases to verify on site, and reports to triage or self-handle.
        q.statuses = {core::Status::handled, core::Status::reported};
    } else if (name == "command_centre") {
        if (!call.who.any_of({core::Role::command_centre, core::Role::hotline_operator})) {
            return error_reply(http::status::forbidden, "forbidden", "the command centre's queue is the command centre's");
        }
        q.statuses = {core::Status::reported, core::Status::registered, core::Status::returned};
    } else if (name == "escalated") {
        if (!call.who.any_of({core::Role::command_centre, core::Role::town_officer})) {
            return error_reply(http::status::forbidden, "forbidden", "escalations are for the command centre and towns");
        }
        if (call.who.is(core::Role::town_officer)) q.town = call.who.town;
        core::IncidentQuery all = q;
        // Escalated cases: filter in memory over the open ones (there are few).
        json items = json::array();
        std::int64_t total = 0;
        all.limit = 0;
        ctx.store.scan_incidents(all, [&](const core::Incident& i) {
            if (i.escalation_level == 0) return;
            ++total;
            if (items.size() < 1000) items.push_back(incident_json(ctx, i, call.who, call.base));
        });
        return json_reply(json{{"queue", name}, {"total", total}, {"offset", 0}, {"items", items}}.dump());
    } else if (name == "mine") {
        q.open_only = false;
        q.reporter = call.who.user;
    } else {
        return error_reply(http::status::not_found, "not_found", "no queue '" + name + "'");
    }
    return incident_list(ctx, call, q, name);
}

Reply media(App::Context& ctx, const Call& call, const std::string& hash) {
    if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "photos need a token");
    const auto m = ctx.store.media(hash);
    if (!m) return error_reply(http::status::not_found, "not_found", "no photo " + hash);
    std::ifstream in(ctx.store.media_path(hash), std::ios::binary);
    if (!in) return error_reply(http::status::not_found, "not_found", "the photo file is missing");
    std::stringstream ss;
    ss << in.rdbuf();
    Reply r(http::status::ok, m->mime, ss.str());
    r.header("Cache-Control", "private, max-age=31536000, immutable");
    r.header("ETag", "\"" + hash + "\"");
    return r;
}

}  // namespace

std::optional<Reply> workflow_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    if (p.empty() || p[0] != "v1") return std::nullopt;
    const auto method = call.req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    if (p.size() == 2 && p[1] == "me" && get) {
        return json_reply(json{{"authenticated", call.who.authenticated},
                               {"user", call.who.user},
                               {"role", call.who.authenticated ? std::string(core::to_string(call.who.role)) : "anonymous"},
                               {"department", call.who.department},
                               {"town", call.who.town},
                               {"grid", call.who.grid}}
                              .dump());
    }
    if (p.size() == 2 && p[1] == "categories" && get) {
        json list = json::array();
        for (const auto& c : ctx.store.categories()) {
            list.push_back({{"code", c.code}, {"name", c.name}, {"major_class", c.major_class}, {"time_limit", c.limit},
                            {"unit", c.limit_unit == core::LimitUnit::hours ? "hours" : "workdays"}, {"plugin", c.plugin}});
        }
        return json_reply(list.dump());
    }
    if (p.size() == 2 && p[1] == "departments" && get) {
        json list = json::array();
        for (const auto& d : ctx.store.departments()) list.push_back({{"code", d.code}, {"name", d.name}, {"plugin", d.plugin}});
        return json_reply(list.dump());
    }
    if (p.size() >= 2 && p[1] == "incidents") {
        if (p.size() == 2) {
            if (method == http::verb::post) return intake(ctx, call);
            if (get) {
                if (!call.who.authenticated) return error_reply(http::status::unauthorized, "unauthorized", "listing cases needs a token");
                return incident_list(ctx, call, {}, "incidents");
            }
            return error_reply(http::status::method_not_allowed, "method_not_allowed", "GET or POST");
        }
        char* end = nullptr;
        const long long id = std::strtoll(p[2].c_str(), &end, 10);
        if (end == nullptr || *end != '\0' || id <= 0) return error_reply(http::status::not_found, "not_found", "no incident '" + p[2] + "'");
        if (p.size() == 3 && get) return incident_detail(ctx, call, id);
        if (p.size() == 5 && p[3] == "actions" && method == http::verb::post) return act(ctx, call, id, p[4]);
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "no such operation on an incident");
    }
    if (p.size() == 3 && p[1] == "queues" && get) return queue(ctx, call, p[2]);
    if (p.size() == 3 && p[1] == "media" && get) return media(ctx, call, p[2]);
    return std::nullopt;
}

}  // namespace onegrid::server
