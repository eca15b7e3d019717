#pragma once
/// @file
/// The case workflow: an explicit state machine over the seven steps of digital urban management.
/// Every transition is checked (state, role, scope, required evidence), recorded in the event log
/// and announced to the department's system through the outbox, atomically.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "onegrid/core/calendar.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/model.hpp"
#include "onegrid/core/routing.hpp"
#include "onegrid/core/store.hpp"
#include "onegrid/spatial/crs.hpp"

namespace onegrid::core {

/// Who acts, with the scope their role gives them.
struct Actor {
    std::string id;
    Role role = Role::citizen;
    std::string department;  ///< department handlers: their department
    std::string town;        ///< town officers: their town/street
    std::string grid;        ///< grid workers: their grid
};

/// A photo as uploaded. Its type is detected from the content, not trusted from the client.
struct Photo {
    std::vector<std::byte> bytes;
    std::string filename;
};

/// Why a request was refused.
struct workflow_error : public std::runtime_error {
    enum class Kind { invalid, forbidden, illegal_transition, not_found };
    workflow_error(Kind k, const std::string& message) : std::runtime_error(message), kind(k) {}
    Kind kind;
};

enum class Action : std::uint8_t {
    register_case,  ///< 立案
    void_case,      ///< 作废 (invalid, or a duplicate of another case)
    dispatch,       ///< 派遣 to a department (also re-dispatch after a return)
    accept,         ///< the department takes the case on
    return_case,    ///< 退回: wrongly dispatched, with a reason
    handle,         ///< 处置 with evidence photos
    verify_pass,    ///< 核查 on site: handled → closed (结案), with a photo
    verify_fail,    ///< 核查 on site: not handled → rework (返工), with a photo and reason
    self_handle,    ///< 自行处置: a grid worker fixed it on the spot, with photos
    rate,           ///< the resident's rating (满意 / 基本满意 / 不满意)
    reopen,         ///< after an unsatisfied rating the command centre sends it back for rework
    comment,        ///< a note in the history, no change of state
};

[[nodiscard]] std::string_view to_string(Action a) noexcept;
[[nodiscard]] std::optional<Action> parse_action(std::string_view s) noexcept;

/// One row of the transition table.
struct TransitionRule {
    Action action;
    std::vector<Status> from;  ///< empty: any state (comments)
    std::optional<Status> to;  ///< nullopt: unchanged
    std::vector<Role> roles;
    bool needs_photo = false;
    bool needs_note = false;
    const char* rule;  ///< the rule in words, quoted in refusals
};

/// The transition table (the state machine, also used by the docs and the tests).
[[nodiscard]] const std::vector<TransitionRule>& transition_table();

struct WorkflowConfig {
    double duplicate_radius_m = 50.0;
    Timestamp duplicate_window = 72 * ms_per_hour;
    double warning_fraction = 0.8;  ///< warn when this share of the time limit has passed
    /// Overdue escalation: level 1 (grid) at the deadline, level 2 (town/street) one step later,
    /// level 3 (district command centre) two steps later.
    Timestamp escalation_step = 24 * ms_per_hour;
    std::size_t max_photo_bytes = 10u << 20;
    std::size_t max_photos = 9;
    std::set<std::string> photo_types = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"};
    std::size_t max_description = 4000;
};

struct IntakeRequest {
    std::string request_id;  ///< the client's idempotency key (optional)
    Source source = Source::grid_worker;
    std::string category;
    std::string description;
    std::string address;
    spatial::Point point;  ///< longitude/latitude in `crs`
    spatial::InputCrs crs = spatial::InputCrs::wgs84;
    Reporter reporter;
    std::vector<Photo> photos;
    /// Links to photos kept elsewhere (Open311 `media_url`): recorded with the report, not fetched.
    std::vector<std::string> media_urls;
    Actor actor;
    std::optional<Timestamp> reported_at;  ///< sensors and imports may supply it; default now
};

struct IntakeOutcome {
    Incident incident;
    bool created = true;
    std::vector<IncidentId> possible_duplicates;  ///< open incidents of the category nearby
    RouteDecision route;
    /// The report event written with a new incident (seq 1; its row id is not read back), for
    /// in-memory views that take events (CaseLog::apply). Empty (seq 0) when not created.
    Event first_event;
};

struct ActionInput {
    std::string note;
    std::vector<Photo> photos;
    std::string department;  ///< dispatch: the department (default: the routed one)
    std::string sub_unit;
    std::optional<IncidentId> duplicate_of;  ///< void as a duplicate of this case
    std::optional<Rating> rating;
};

/// Detected content type of an upload, or empty when unknown (libmagic).
[[nodiscard]] std::string detect_mime(std::span<const std::byte> bytes);

class Workflow {
public:
    Workflow(Store& store, const Clock& clock, GeographyHolder& geography, WorkflowConfig config = {});

    /// Reloads categories, routing rules and the working calendar from the store.
    void reload_reference_data();
    /// Plugin routing callbacks, tried before the rules table.
    void set_routing_hooks(std::vector<std::shared_ptr<RoutingHook>> hooks);
    /// Told after an incident was dispatched ("dispatched") or closed ("closed"): plugins' hooks.
    void set_lifecycle_listener(std::function<void(const Incident&, std::string_view)> listener);
    /// Finds the duplicate candidates of a report: the same contract as
    /// Store::open_incidents_near, which answers when no finder is set. A server that keeps every
    /// incident in memory answers without a database read. Set before the first intake.
    using NearbyFinder = std::function<std::vector<IncidentId>(const std::string& category, spatial::Point p,
                                                               double radius_m, Timestamp since)>;
    void set_nearby_finder(NearbyFinder finder);

    /// Takes in a report: converts its coordinates to EPSG:4490, places it (grid, community,
    /// town, business grids; outside the district → flagged for the command centre), routes
    /// it, looks for duplicates, stores photos, incident and first event durably.
    /// @throws workflow_error (invalid) for bad input.
    IntakeOutcome intake(const IntakeRequest& request);
    /// Called once with the outcome of intake_async, or with its error.
    using IntakeDone = std::function<void(std::optional<IntakeOutcome> outcome, std::exception_ptr error)>;
    /// intake() without waiting for the durable write: checks, places, routes and stores photos
    /// now (@throws workflow_error as intake() does), then returns; `done` is called on one of the
    /// store's threads once the incident is durable (see Store::intake_async: keep it quick).
    void intake_async(const IntakeRequest& request, IntakeDone done);

    /// Applies one action. @throws workflow_error naming the state and the rule when the action
    /// is not allowed; not_found for an unknown incident.
    TransitionResult act(IncidentId id, Action action, const Actor& actor, const ActionInput& input = {});

    /// Finds due warnings and escalations (indexed by check time) and records them. Returns the
    /// number of events written; `on_event` (optional) gets each of them with its incident.
    std::size_t run_due_checks(std::size_t limit = 10000,
                               const std::function<void(const TransitionResult&)>& on_event = {});

    /// Where an incident would be routed now (for display and tests).
    [[nodiscard]] RouteDecision route(const Incident& incident);

    [[nodiscard]] std::optional<Category> category(const std::string& code) const;
    [[nodiscard]] WorkCalendar calendar() const;
    [[nodiscard]] const WorkflowConfig& config() const noexcept { return m_config; }
    [[nodiscard]] Store& store() noexcept { return m_store; }
    [[nodiscard]] const Clock& clock() const noexcept { return m_clock; }

private:
    /// What intake decides before the write.
    struct PreparedIntake {
        NewIncident record;
        std::vector<IncidentId> duplicates;
        RouteDecision route;
    };
    PreparedIntake prepare_intake(const IntakeRequest& request);
    static IntakeOutcome intake_outcome(PreparedIntake&& prepared, IntakeResult&& stored);
    std::vector<MediaInfo> save_photos(const std::vector<Photo>& photos);
    Timestamp due_time(const Category& c, Timestamp from) const;
    Timestamp warning_time(const Category& c, Timestamp from) const;

    Store& m_store;
    const Clock& m_clock;
    GeographyHolder& m_geography;
    WorkflowConfig m_config;
    mutable std::mutex m_mutex;  // guards the reference data below
    std::map<std::string, Category> m_categories;
    RoutingTable m_routing;
    WorkCalendar m_calendar;
    std::vector<std::shared_ptr<RoutingHook>> m_hooks;
    std::function<void(const Incident&, std::string_view)> m_lifecycle;
    NearbyFinder m_nearby;
};

}  // namespace onegrid::core
