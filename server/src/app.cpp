#include <chrono>
#include <cmath>
#include <cstdio>

#include "app_internal.hpp"
#include "onegrid/core/crypto.hpp"
#include "onegrid/spatial/mvt.hpp"

namespace onegrid::server {

// ---- auth -----------------------------------------------------------------------------------------

std::optional<Principal> Auth::resolve(std::string_view secret) {
    if (secret.empty() || secret.size() > 200) return std::nullopt;
    const std::string hash = core::sha256_hex(secret);
    const core::Timestamp now = m_clock.now();
    {
        std::lock_guard lock(m_mutex);
        auto it = m_cache.find(hash);
        if (it != m_cache.end() && it->second.second > now) return it->second.first;
    }
    std::optional<Principal> p;
    if (const auto t = m_store.token(hash)) {
        const bool live = !t->revoked_at && (!t->expires_at || *t->expires_at > now);
        if (live) {
            Principal q;
            q.authenticated = true;
            q.role = t->role;
            q.user = t->user.empty() ? "token:" + hash.substr(0, 12) : t->user;
            q.department = t->department;
            q.town = t->town;
            if (auto u = m_store.user(q.user)) {
                if (q.department.empty()) q.department = u->department;
                if (q.town.empty()) q.town = u->town;
                q.grid = u->grid;
            }
            p = q;
        }
    }
    std::lock_guard lock(m_mutex);
    // Revocations take effect within the cache lifetime (30 s).
    if (m_cache.size() > 100000) m_cache.clear();
    m_cache[hash] = {p, now + 30 * core::ms_per_second};
    return p;
}

Principal Auth::from_request(const Request& req) {
    const auto h = req.find(http::field::authorization);
    if (h == req.end()) return {};
    std::string_view v(h->value().data(), h->value().size());
    constexpr std::string_view bearer = "Bearer ";
    if (v.size() <= bearer.size() || !std::equal(bearer.begin(), bearer.end(), v.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
        throw std::invalid_argument("the Authorization header must be 'Bearer <token>'");
    }
    v.remove_prefix(bearer.size());
    auto p = resolve(v);
    if (!p) throw std::invalid_argument("the bearer token is unknown, revoked or expired");
    return *p;
}

// ---- metrics --------------------------------------------------------------------------------------

namespace {
constexpr std::array<double, 12> bucket_bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.5,    2.0};
}

void Metrics::request(const std::string& route, unsigned status, double seconds) {
    std::lock_guard lock(m_mutex);
    Route& r = m_routes[route];
    ++r.by_status[status];
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i)
        if (seconds <= bucket_bounds[i]) ++r.buckets[i];
    r.sum += seconds;
    ++r.count;
}

std::string Metrics::prometheus(const std::string& extra) const {
    std::string out;
    char buf[256];
    out += "# HELP onegrid_http_requests_total HTTP requests by route class and status.\n";
    out += "# TYPE onegrid_http_requests_total counter\n";
    std::lock_guard lock(m_mutex);
    for (const auto& [route, r] : m_routes) {
        for (const auto& [status, n] : r.by_status) {
            std::snprintf(buf, sizeof buf, "onegrid_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", route.c_str(),
                          status, static_cast<unsigned long long>(n));
            out += buf;
        }
    }
    out += "# HELP onegrid_http_request_duration_seconds Time to answer a request.\n";
    out += "# TYPE onegrid_http_request_duration_seconds histogram\n";
    for (const auto& [route, r] : m_routes) {
        for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
            std::snprintf(buf, sizeof buf, "onegrid_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                          route.c_str(), bucket_bounds[i], static_cast<unsigned long long>(r.buckets[i]));
            out += buf;
        }
        std::snprintf(buf, sizeof buf,
                      "onegrid_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                      "onegrid_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                      "onegrid_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                      route.c_str(), static_cast<unsigned long long>(r.count), route.c_str(), r.sum, route.c_str(),
                      static_cast<unsigned long long>(r.count));
        out += buf;
    }
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
        std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                      static_cast<unsigned long long>(v));
        out += buf;
    };
    counter("onegrid_intake_total", "Incidents taken in (acknowledged).", intakes.load());
    counter("onegrid_intake_repeated_total", "Intakes that repeated a request id (answered idempotently).",
            intake_duplicates.load());
    counter("onegrid_transitions_total", "Workflow transitions applied.", transitions.load());
    counter("onegrid_tile_cache_hits_total", "Tiles served from the cache.", tile_hits.load());
    counter("onegrid_tile_cache_misses_total", "Tiles rendered.", tile_misses.load());
    counter("onegrid_scheduler_events_total", "Warnings and escalations recorded.", scheduler_events.load());
    out += extra;
    return out;
}

// ---- layers ---------------------------------------------------------------------------------------

std::shared_ptr<const LayerSnapshot> LayerCache::version(const std::string& layer, int v) {
    {
        std::lock_guard lock(m_mutex);
        auto it = m_cache.find({layer, v});
        if (it != m_cache.end()) return it->second;
    }
    const auto info = m_store.layer(layer);
    if (!info) return nullptr;
    std::optional<core::LayerVersion> lv;
    for (const auto& x : m_store.versions(layer))
        if (x.version == v) lv = x;
    if (!lv) return nullptr;
    auto snap = std::make_shared<LayerSnapshot>();
    snap->info = *info;
    snap->version = v;
    snap->effective_from = lv->effective_from;
    snap->features = m_store.features(layer, v);
    for (std::size_t i = 0; i < snap->features.size(); ++i) {
        const auto b = spatial::bounds(snap->features[i].geometry);
        snap->boxes.push_back(b);
        snap->extent.expand(b);
        snap->by_code[snap->features[i].code] = i;
    }
    std::lock_guard lock(m_mutex);
    m_cache[{layer, v}] = snap;
    return snap;
}

std::shared_ptr<const LayerSnapshot> LayerCache::at(const std::string& layer, core::Timestamp t) {
    const auto v = m_store.version_at(layer, t);
    if (!v) return nullptr;
    return version(layer, v->version);
}

void LayerCache::forget(const std::string& layer) {
    std::lock_guard lock(m_mutex);
    for (auto it = m_cache.begin(); it != m_cache.end();) it = it->first.first == layer ? m_cache.erase(it) : std::next(it);
}

// ---- tile cache -----------------------------------------------------------------------------------

namespace {
std::uint64_t tile_key(int z, std::uint32_t x, std::uint32_t y) {
    return (static_cast<std::uint64_t>(z) << 58) | (static_cast<std::uint64_t>(x) << 29) | y;
}
}  // namespace

std::optional<CachedTile> TileCache::get(const std::string& key, std::uint64_t stamp) {
    std::lock_guard lock(m_mutex);
    auto it = m_index.find(key);
    if (it == m_index.end()) return std::nullopt;
    if (it->second->second.stamp != stamp) return std::nullopt;
    m_lru.splice(m_lru.begin(), m_lru, it->second);
    return it->second->second;
}

void TileCache::put(const std::string& key, CachedTile tile) {
    const std::size_t size = tile.raw->size() + (tile.gzip ? tile.gzip->size() : 0) + key.size();
    std::lock_guard lock(m_mutex);
    if (auto it = m_index.find(key); it != m_index.end()) {
        m_bytes -= it->second->second.raw->size() + (it->second->second.gzip ? it->second->second.gzip->size() : 0) + key.size();
        m_lru.erase(it->second);
        m_index.erase(it);
    }
    m_lru.emplace_front(key, std::move(tile));
    m_index[key] = m_lru.begin();
    m_bytes += size;
    while (m_bytes > m_max && m_lru.size() > 1) {
        auto& last = m_lru.back();
        m_bytes -= last.second.raw->size() + (last.second.gzip ? last.second.gzip->size() : 0) + last.first.size();
        m_index.erase(last.first);
        m_lru.pop_back();
    }
}

void TileCache::incident_changed(spatial::Point p) {
    // The tile at each shallower zoom is the deepest one's ancestor: one projection, then shifts.
    const auto deepest = spatial::tile_of(p, max_tracked_zoom);
    std::unique_lock lock(m_counter_mutex);
    for (int z = 0; z <= max_tracked_zoom; ++z) {
        const int up = max_tracked_zoom - z;
        ++m_incident_counters[tile_key(z, deepest.x >> up, deepest.y >> up)];
    }
}

std::uint64_t TileCache::stamp(const spatial::TileId& t, bool has_incidents) const {
    std::uint64_t s = m_layers.load() << 32;
    if (!has_incidents) return s;
    // Deeper tiles than tracked inherit the counter of their ancestor at the tracked zoom.
    int z = std::min(t.z, max_tracked_zoom);
    const std::uint32_t x = t.x >> (t.z - z);
    const std::uint32_t y = t.y >> (t.z - z);
    std::shared_lock lock(m_counter_mutex);
    auto it = m_incident_counters.find(tile_key(z, x, y));
    return s ^ (it == m_incident_counters.end() ? 0 : it->second);
}

std::size_t TileCache::bytes() const {
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

// ---- context --------------------------------------------------------------------------------------

App::Context::Context(core::Store& s, const core::Clock& c, AppConfig cfg, core::PluginHost* p)
    : store(s), clock(c), config(std::move(cfg)), plugins(p), layers(s), tiles(config.tile_cache_bytes), auth(s, c) {}

void App::Context::incident_changed(const core::Incident& i, const core::Event* event) {
    incident_touched(i);
    if (!case_log_ready.load()) {
        std::lock_guard lock(case_log_mutex);
        if (!case_log_ready.load()) {
            case_log_pending.push_back(i.id);
            return;
        }
    }
    try {
        if (event != nullptr && event->incident == i.id && event->seq > 0) {
            case_log.apply(i, *event);
            return;
        }
    } catch (const core::indicator_error&) {
        // An event the log has not seen came before this one (a warning, an escalation, a link to
        // a duplicate): take the case's whole history instead.
    }
    const auto current = store.incident(i.id);
    if (current) case_log.put(*current, store.events(i.id));
}

void App::Context::load_case_log() {
    try {
        auto log = core::CaseLog::load(store);
        std::vector<core::IncidentId> pending;
        {
            std::lock_guard lock(case_log_mutex);
            case_log = std::move(log);
            pending.swap(case_log_pending);
            case_log_ready = true;
        }
        // Cases changed while the log was read: their whole history again (put() is idempotent).
        for (const auto id : pending) {
            if (const auto current = store.incident(id)) case_log.put(*current, store.events(id));
        }
        ++cases_version;
    } catch (const std::exception& e) {
        std::lock_guard lock(case_log_mutex);
        case_log_error = e.what();
    }
    case_log_cv.notify_all();
}

void App::Context::wait_case_log(std::chrono::milliseconds wait) {
    if (case_log_ready.load()) return;
    std::unique_lock lock(case_log_mutex);
    case_log_cv.wait_for(lock, wait, [&] { return case_log_ready.load() || !case_log_error.empty(); });
    if (!case_log_error.empty()) throw core::store_error("the case log could not be built: " + case_log_error);
    if (!case_log_ready.load()) throw core::store_error("the case log is still being built from the store; try again shortly");
}

void App::Context::incident_touched(const core::Incident& i) {
    incidents.upsert(i);
    tiles.incident_changed(i.location);
    ++cases_version;
}

void App::Context::reload_categories() {
    auto m = std::make_shared<CategoryMap>();
    for (auto& c : store.categories()) (*m)[c.code] = c;
    std::lock_guard lock(categories_mutex);
    categories = std::move(m);
}

std::shared_ptr<const App::Context::CategoryMap> App::Context::category_map() const {
    std::lock_guard lock(categories_mutex);
    return categories;
}

std::optional<core::Category> App::Context::category(const std::string& code) const {
    const auto all = category_map();
    auto it = all->find(code);
    if (it == all->end()) return std::nullopt;
    return it->second;
}

void App::Context::refresh_crosswalks() {
    auto fresh = core::current_crosswalks(store, *geography.get(), clock.now());
    std::lock_guard lock(crosswalk_mutex);
    crosswalks = std::move(fresh);
}

std::string category_name(const App::Context& ctx, const std::string& code) {
    return std::string(category_name(*ctx.category_map(), code));
}

std::string_view category_name(const App::Context::CategoryMap& categories, std::string_view code) {
    const auto it = categories.find(code);
    return it == categories.end() ? std::string_view() : std::string_view(it->second.name);
}

const std::set<core::Status>& department_states() {
    static const std::set<core::Status> states = {core::Status::dispatched, core::Status::accepted, core::Status::returned,
                                                  core::Status::handled,    core::Status::rework,   core::Status::closed,
                                                  core::Status::rated};
    return states;
}

bool reached_department(core::Status s, bool self_handled) { return !self_handled && department_states().contains(s); }

bool may_see_personal_data(const Principal& who, const core::Incident& i) {
    if (!who.authenticated) return false;
    switch (who.role) {
        case core::Role::admin:
        case core::Role::command_centre:
        case core::Role::hotline_operator: return true;
        case core::Role::department_handler:
            return who.department == i.department && reached_department(i.status, i.self_handled);
        case core::Role::town_officer: return who.town == i.town;
        case core::Role::grid_worker: return who.grid == i.grid;
        case core::Role::citizen: return who.user == i.reporter.id;
        default: return false;
    }
}

bool sees_every_incident(const Principal& who) { return !who.is(core::Role::department_handler); }

bool visible_to(const Principal& who, const detail::IncidentRow& r) {
    if (sees_every_incident(who)) return true;
    return r.department == who.department && reached_department(r.status, r.self_handled);
}

Reply workflow_error_reply(const core::workflow_error& e) {
    using K = core::workflow_error::Kind;
    switch (e.kind) {
        case K::invalid: return error_reply(http::status::bad_request, "invalid", e.what());
        case K::forbidden: return error_reply(http::status::forbidden, "forbidden", e.what());
        case K::illegal_transition: return error_reply(http::status::conflict, "illegal_transition", e.what());
        case K::not_found: return error_reply(http::status::not_found, "not_found", e.what());
    }
    return error_reply(http::status::bad_request, "invalid", e.what());
}

// ---- app ------------------------------------------------------------------------------------------

App::App(core::Store& store, const core::Clock& clock, AppConfig config, core::PluginHost* plugins)
    : m_ctx(std::make_unique<Context>(store, clock, std::move(config), plugins)) {}

App::~App() = default;

void App::start() {
    Context& c = *m_ctx;
    if (c.plugins != nullptr) c.plugins->sync_to_store(c.store, c.clock.now());
    c.geography.load_current(c.store, c.clock.now());
    c.workflow = std::make_unique<core::Workflow>(c.store, c.clock, c.geography, c.config.workflow);
    c.planner = std::make_unique<core::Planner>(c.store, c.clock, c.geography);
    if (c.plugins != nullptr) {
        c.workflow->set_routing_hooks(c.plugins->routing_hooks());
        c.workflow->set_lifecycle_listener([&c](const core::Incident& i, std::string_view e) { c.plugins->notify(i, e); });
    }
    c.reload_categories();
    c.incidents.load(c.store);
    // Every incident is in memory from here on: duplicate candidates are found there.
    c.workflow->set_nearby_finder([&c](const std::string& category, spatial::Point p, double radius_m, core::Timestamp since) {
        return c.incidents.open_near(category, p, radius_m, since);
    });
    c.case_log_loader = std::jthread([&c] { c.load_case_log(); });
    c.refresh_crosswalks();
}

core::Workflow& App::workflow() { return *m_ctx->workflow; }

std::size_t App::run_scheduler() {
    Context& c = *m_ctx;
    // Layer versions published with a later effective-from: re-assign when they come into force.
    const auto geography_before = c.geography.get();
    const core::Timestamp since = c.clock.now();
    c.planner->apply_due_versions();
    if (c.geography.get() != geography_before) {
        for (const auto& l : c.store.layers()) c.layers.forget(l.id);
        c.tiles.layers_changed();
        c.refresh_crosswalks();
        core::IncidentQuery q;
        q.updated_since = since;
        q.limit = 0;
        c.store.scan_incidents(q, [&](const core::Incident& i) { c.incident_changed(i); });
    }
    // Warnings and escalations change incidents: refresh exactly those (reports and transitions
    // meanwhile refresh themselves).
    std::vector<core::Incident> touched;
    const std::size_t n = c.workflow->run_due_checks(10000, [&](const core::TransitionResult& r) { touched.push_back(r.incident); });
    for (const auto& i : touched) c.incident_touched(i);
    c.metrics.scheduler_events += n;
    return n;
}

bool App::blocking(const Request& request) const {
    const auto m = request.method();
    if (m == http::verb::get || m == http::verb::head || m == http::verb::options) return false;
    // A report in JSON waits on nothing but its commit, which is answered later (handle).
    if (m == http::verb::post) {
        const std::string_view target(request.target().data(), request.target().size());
        const auto type = request.find(http::field::content_type);
        const bool multipart = type != request.end() && type->value().starts_with("multipart/");
        if (!multipart && target.substr(0, target.find('?')) == "/v1/incidents") return false;
    }
    return true;
}

namespace {

std::string route_class(const std::vector<std::string>& parts) {
    if (parts.empty()) return "landing";
    const std::string& p = parts[0];
    if (p == "collections") {
        if (parts.size() >= 3 && parts[2] == "items") return parts.size() >= 4 ? "ogc_item" : "ogc_items";
        return "ogc_collections";
    }
    if (p == "tiles") return "tiles";
    if (p == "open311") return "open311";
    if (p == "v1") return parts.size() >= 2 ? "v1_" + parts[1] : "v1";
    if (p == "healthz" || p == "readyz" || p == "metrics") return "ops";
    if (p == "planner" || p == "dashboard" || p == "vendor" || p == "web") return "static";
    if (p == "api" || p == "conformance") return "ogc_meta";
    return "other";
}

}  // namespace

Reply App::handle(const Request& request, const std::string& remote) { return handle(request, remote, Responder{}); }

namespace {

// One mapping of errors to replies, for replies made now and later.
Reply guarded(const std::function<Reply()>& make) {
    try {
        return make();
    } catch (const core::workflow_error& e) {
        return workflow_error_reply(e);
    } catch (const core::not_found_error& e) {
        return error_reply(http::status::not_found, "not_found", e.what());
    } catch (const core::store_error& e) {
        return error_reply(http::status::service_unavailable, "store_unavailable", e.what());
    } catch (const std::exception& e) {
        return error_reply(http::status::internal_server_error, "internal", e.what());
    } catch (...) {
        return error_reply(http::status::internal_server_error, "internal", "unknown error");
    }
}

}  // namespace

Reply App::handle(const Request& request, const std::string& remote, const Responder& later) {
    (void)remote;
    Context& c = *m_ctx;
    const auto t0 = std::chrono::steady_clock::now();
    std::string route = "invalid";
    // Every reply, now or later: CORS (the API is public data for browsers on other origins
    // too) and the request metrics.
    auto finish = [&c, t0](Reply& reply, const std::string& route_class) {
        reply.header("Access-Control-Allow-Origin", "*");
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        c.metrics.request(route_class, static_cast<unsigned>(reply.status), secs);
    };
    auto dispatch = [&]() -> Reply {
        auto target = parse_target(std::string_view(request.target().data(), request.target().size()));
        if (!target) return error_reply(http::status::bad_request, "bad_target", "the request target is malformed");
        Call call{request, std::move(*target), {}, {}, {}, {}};
        call.parts = segments(call.target.path);
        route = route_class(call.parts);
        if (!c.config.base_url.empty()) {
            call.base = c.config.base_url;
        } else {
            const auto host = request.find(http::field::host);
            call.base = "http://" + (host != request.end() ? std::string(host->value()) : std::string("127.0.0.1"));
        }
        try {
            call.who = c.auth.from_request(request);
        } catch (const std::invalid_argument& e) {
            Reply r = error_reply(http::status::unauthorized, "unauthorized", e.what());
            r.header("WWW-Authenticate", "Bearer realm=\"onegrid\"");
            return r;
        }
        if (later) {
            call.later = [later, finish, route](std::function<Reply()> make) {
                later([make = std::move(make), finish, route] {
                    Reply r = guarded(make);
                    finish(r, route);
                    return r;
                });
            };
        }
        for (Service s : {ops_service, tiles_service, open311_service, planner_service, analysis_service, workflow_service, static_service,
                           ogc_service}) {
            if (auto r = s(c, call)) return std::move(*r);
        }
        return error_reply(http::status::not_found, "not_found", "no resource at " + call.target.path);
    };
    Reply reply = guarded(dispatch);
    if (reply.deferred) return reply;
    finish(reply, route);
    return reply;
}

}  // namespace onegrid::server
