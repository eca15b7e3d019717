#pragma once
// Shared state and helpers of the server's services (internal).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "incident_index.hpp"
#include "onegrid/core/crosswalk.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/indicators.hpp"
#include "onegrid/core/planning.hpp"
#include "onegrid/server/app.hpp"
#include "onegrid/spatial/mvt.hpp"

namespace onegrid::server {

// ---- access ---------------------------------------------------------------------------------------

struct Principal {
    bool authenticated = false;
    core::Role role = core::Role::citizen;
    std::string user;
    std::string department;
    std::string town;
    std::string grid;

    [[nodiscard]] bool is(core::Role r) const { return authenticated && role == r; }
    [[nodiscard]] bool staff() const {
        return authenticated && role != core::Role::citizen;
    }
    [[nodiscard]] bool any_of(std::initializer_list<core::Role> roles) const {
        if (!authenticated) return false;
        for (auto r : roles)
            if (role == r) return true;
        return role == core::Role::admin;
    }
    [[nodiscard]] core::Actor actor() const { return {user, role, department, town, grid}; }
};

/// Resolves bearer tokens and Open311 API keys (hashed in the store) with a short cache.
class Auth {
public:
    Auth(core::Store& store, const core::Clock& clock) : m_store(store), m_clock(clock) {}
    /// nullopt for an unknown, revoked or expired secret.
    std::optional<Principal> resolve(std::string_view secret);
    /// From "Authorization: Bearer …"; an anonymous principal without the header. Throws
    /// std::invalid_argument for a malformed or unknown token.
    Principal from_request(const Request& req);

private:
    core::Store& m_store;
    const core::Clock& m_clock;
    std::mutex m_mutex;
    std::unordered_map<std::string, std::pair<std::optional<Principal>, core::Timestamp>> m_cache;
};

// ---- metrics --------------------------------------------------------------------------------------

class Metrics {
public:
    void request(const std::string& route, unsigned status, double seconds);
    std::atomic<std::uint64_t> intakes{0};
    std::atomic<std::uint64_t> intake_duplicates{0};
    std::atomic<std::uint64_t> transitions{0};
    std::atomic<std::uint64_t> tile_hits{0};
    std::atomic<std::uint64_t> tile_misses{0};
    std::atomic<std::uint64_t> scheduler_events{0};
    [[nodiscard]] std::string prometheus(const std::string& extra) const;

private:
    struct Route {
        std::map<unsigned, std::uint64_t> by_status;
        std::array<std::uint64_t, 12> buckets{};
        double sum = 0;
        std::uint64_t count = 0;
    };
    mutable std::mutex m_mutex;
    std::map<std::string, Route> m_routes;
};

// ---- layers ---------------------------------------------------------------------------------------

/// One version of a layer, in memory, for feature queries and tiles.
struct LayerSnapshot {
    core::LayerInfo info;
    int version = 0;
    core::Timestamp effective_from = 0;
    std::vector<core::LayerFeature> features;
    std::vector<spatial::Box> boxes;
    spatial::Box extent;
    std::unordered_map<std::string, std::size_t> by_code;
};

class LayerCache {
public:
    explicit LayerCache(core::Store& store) : m_store(store) {}
    /// The version of `layer` in force at `t` (nullopt when the layer or the version does not exist).
    std::shared_ptr<const LayerSnapshot> at(const std::string& layer, core::Timestamp t);
    std::shared_ptr<const LayerSnapshot> version(const std::string& layer, int version);
    void forget(const std::string& layer);

private:
    core::Store& m_store;
    std::mutex m_mutex;
    std::map<std::pair<std::string, int>, std::shared_ptr<const LayerSnapshot>> m_cache;
};

// ---- tiles ----------------------------------------------------------------------------------------

struct CachedTile {
    std::shared_ptr<const std::string> raw;
    std::shared_ptr<const std::string> gzip;
    std::string etag;
    std::uint64_t stamp = 0;  ///< what the tile was made from (see TileCache::stamp)
};

/// Tiles in memory, least recently used evicted. A tile stays valid while the data under it is
/// unchanged: every change to an incident bumps a counter of every tile that contains it, at
/// every zoom, and every new version of a layer bumps the layers' counter.
class TileCache {
public:
    explicit TileCache(std::size_t max_bytes) : m_max(max_bytes) {}
    std::optional<CachedTile> get(const std::string& key, std::uint64_t stamp);
    void put(const std::string& key, CachedTile tile);
    void incident_changed(spatial::Point p);
    void layers_changed() { ++m_layers; }
    /// The stamp of a tile: the layers' counter combined with the incident counter of the tile.
    [[nodiscard]] std::uint64_t stamp(const spatial::TileId& t, bool has_incidents) const;
    [[nodiscard]] std::size_t bytes() const;

private:
    static constexpr int max_tracked_zoom = 20;
    std::size_t m_max;
    mutable std::mutex m_mutex;
    std::list<std::pair<std::string, CachedTile>> m_lru;
    std::unordered_map<std::string, std::list<std::pair<std::string, CachedTile>>::iterator> m_index;
    std::size_t m_bytes = 0;
    mutable std::shared_mutex m_counter_mutex;
    std::unordered_map<std::uint64_t, std::uint64_t> m_incident_counters;  // (z, x, y) → changes
    std::atomic<std::uint64_t> m_layers{1};
};

// ---- context --------------------------------------------------------------------------------------

/// Caches of the analysis service (analysis_api.cpp).
struct AnalysisState;

struct App::Context {
    Context(core::Store& s, const core::Clock& c, AppConfig cfg, core::PluginHost* p);

    core::Store& store;
    const core::Clock& clock;
    AppConfig config;
    core::PluginHost* plugins;
    core::GeographyHolder geography;
    std::unique_ptr<core::Workflow> workflow;
    std::unique_ptr<core::Planner> planner;
    detail::IncidentIndex incidents;
    LayerCache layers;
    TileCache tiles;
    Auth auth;
    Metrics metrics;
    std::atomic<std::uint64_t> reference_version{1};
    mutable std::mutex crosswalk_mutex;
    std::map<std::string, std::shared_ptr<const core::Crosswalk>> crosswalks;
    /// The categories by code: replaced whole when they change, so that a request takes one
    /// reference and looks names up without a lock (a page of features names a category each).
    using CategoryMap = std::map<std::string, core::Category, std::less<>>;
    mutable std::mutex categories_mutex;
    std::shared_ptr<const CategoryMap> categories = std::make_shared<const CategoryMap>();
    /// Every case's history reduced to what the indicators need, kept current by incident_changed.
    /// It is built in the background at start (a million cases take tens of seconds): until it is
    /// ready, changed cases are remembered and taken again once it is.
    core::CaseLog case_log;
    std::atomic<bool> case_log_ready{false};
    std::mutex case_log_mutex;
    std::condition_variable case_log_cv;
    std::vector<core::IncidentId> case_log_pending;
    std::string case_log_error;
    /// Increases with every change to a case (analysis caches compare it).
    std::atomic<std::uint64_t> cases_version{1};
    std::shared_ptr<AnalysisState> analysis;

    /// Keeps the in-memory views in step after a write to an incident. `event` is the event the
    /// write appended, when the caller has it; without it the case log re-reads the case's history.
    void incident_changed(const core::Incident& i, const core::Event* event = nullptr);
    /// The same for writes that appended no event the indicators count (warnings, escalations):
    /// the case log catches up with the case's next event.
    void incident_touched(const core::Incident& i);
    /// Builds the case log from the store (the loader thread), then takes the cases changed meanwhile.
    void load_case_log();
    /// Waits until the case log is ready. @throws core::store_error when it is not within `wait`
    /// or its loading failed.
    void wait_case_log(std::chrono::milliseconds wait);
    /// Recomputes the crosswalks whose layer versions changed.
    void refresh_crosswalks();
    void reload_categories();
    [[nodiscard]] std::optional<core::Category> category(const std::string& code) const;
    [[nodiscard]] std::shared_ptr<const CategoryMap> category_map() const;

    std::jthread case_log_loader;  ///< last: joined before the members it uses are destroyed
};

/// One request on its way through the services.
struct Call {
    const Request& req;
    Target target;
    Principal who;
    std::string base;  ///< absolute base URL, no trailing slash
    std::vector<std::string> parts;  ///< path segments
    /// Set when the handler may answer later (Reply::deferred): the reply it is given is
    /// finished as handle() finishes any (errors mapped, CORS, metrics) and sent.
    Responder later;
};

using Service = std::optional<Reply> (*)(App::Context& ctx, Call& call);

std::optional<Reply> ogc_service(App::Context& ctx, Call& call);
std::optional<Reply> tiles_service(App::Context& ctx, Call& call);
std::optional<Reply> open311_service(App::Context& ctx, Call& call);
std::optional<Reply> workflow_service(App::Context& ctx, Call& call);
std::optional<Reply> ops_service(App::Context& ctx, Call& call);
std::optional<Reply> static_service(App::Context& ctx, Call& call);
std::optional<Reply> planner_service(App::Context& ctx, Call& call);
std::optional<Reply> analysis_service(App::Context& ctx, Call& call);

// ---- per-grid statistics (the `grid-stats` collection and tile layer; analysis_api.cpp) ------------

/// The figures of every grid of the base grid version in force, for one period.
struct GridStats {
    std::shared_ptr<const LayerSnapshot> grids;  ///< the base grid version (features in order)
    core::Period period;
    core::Timestamp as_of = 0;
    std::string town;      ///< filter, empty: all
    std::string category;  ///< filter (code or major class), empty: all
    std::vector<core::Counts> counts;  ///< per feature of `grids`
};

/// The parameters that select a grid-stats period and filter: `period`, `town`, `category`.
const std::vector<std::string>& grid_stats_parameters();
/// The statistics a request's parameters select (cached while no case changes).
/// @throws ogc::bad_parameter naming the parameter.
std::shared_ptr<const GridStats> grid_stats(App::Context& ctx, const Target& target);
/// The properties of grid `i`: counts, rates (absent without data) and the mean handling time.
spatial::MvtProperties grid_stats_properties(const GridStats& stats, std::size_t i);

/// Public view of an incident (what anyone may see) as a GeoJSON feature's properties writer.
std::string category_name(const App::Context& ctx, const std::string& code);
/// The same from a map taken once (App::Context::category_map); empty for an unknown code.
std::string_view category_name(const App::Context::CategoryMap& categories, std::string_view code);

/// Whether a case has reached its department (dispatched to it at some point): departments see
/// only those.
bool reached_department(core::Status s, bool self_handled);
/// The states in which a case has reached its department.
const std::set<core::Status>& department_states();

/// Whether `who` may see the reporter's personal data of an incident.
bool may_see_personal_data(const Principal& who, const core::Incident& i);

/// Restricts a query to what `who` may see (departments see only their cases, residents theirs).
bool visible_to(const Principal& who, const detail::IncidentRow& r);
/// Whether visible_to lets `who` see every incident (queries then need not ask it row by row).
bool sees_every_incident(const Principal& who);

/// A typed workflow refusal as an HTTP error.
Reply workflow_error_reply(const core::workflow_error& e);

}  // namespace onegrid::server
