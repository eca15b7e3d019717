#pragma once
/// @file
/// The governance domain's records: incidents, their event log, layers of grids, reference data.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "onegrid/core/time.hpp"
#include "onegrid/spatial/geometry.hpp"

namespace onegrid::core {

using IncidentId = std::int64_t;

/// Where a report came from.
enum class Source : std::uint8_t {
    grid_worker,  ///< the grid worker app (photos, one-click upload)
    hotline,      ///< the 12345 hotline desk
    citizen,      ///< residents through Open311 / the public channel
    department,   ///< a department's own system
    sensor,       ///< IoT sensors and video analytics
};

/// States of a case (the seven steps of digital urban management).
enum class Status : std::uint8_t {
    reported,    ///< 上报: received, not yet registered
    registered,  ///< 立案: accepted as a case by the command centre
    voided,      ///< 作废: invalid or a duplicate (final)
    dispatched,  ///< 派遣: sent to a department
    accepted,    ///< 接收: the department took it on
    returned,    ///< 退回: the department sent it back (wrongly dispatched)
    handled,     ///< 处置: the department reports it handled, with evidence
    rework,      ///< 返工: on-site verification failed, back to the department
    closed,      ///< 结案: verified on site (or self-handled), awaiting the resident's rating
    rated,       ///< 已评价: the resident rated the handling (final)
};

/// Who acts.
enum class Role : std::uint8_t {
    grid_worker,
    hotline_operator,
    department_handler,
    town_officer,
    command_centre,
    citizen,
    planner,
    admin,
    system,  ///< the platform itself (scheduler, intake)
};

/// The resident's rating.
enum class Rating : std::uint8_t { satisfied, basically_satisfied, unsatisfied };

[[nodiscard]] std::string_view to_string(Source v) noexcept;
[[nodiscard]] std::string_view to_string(Status v) noexcept;
[[nodiscard]] std::string_view to_string(Role v) noexcept;
[[nodiscard]] std::string_view to_string(Rating v) noexcept;
[[nodiscard]] std::optional<Source> parse_source(std::string_view s) noexcept;
[[nodiscard]] std::optional<Status> parse_status(std::string_view s) noexcept;
[[nodiscard]] std::optional<Role> parse_role(std::string_view s) noexcept;
[[nodiscard]] std::optional<Rating> parse_rating(std::string_view s) noexcept;
/// Chinese label as used in the domain (上报, 立案, ...).
[[nodiscard]] std::string_view label_zh(Status v) noexcept;
/// Open cases are neither voided, closed nor rated.
[[nodiscard]] bool is_open(Status v) noexcept;

struct Reporter {
    std::string name;
    std::string phone;
    std::string id;  ///< user id or citizen account
};

/// The grid a point was assigned to, in one layer.
struct GridAssignment {
    std::string layer;  ///< layer id (`base` for the base grid)
    std::string code;   ///< empty when the point is in no grid of the layer
    int version = 0;
};

/// An incident (事件/案件) as stored.
struct Incident {
    IncidentId id = 0;
    std::string request_id;  ///< the client's idempotency key; empty when none was given
    Source source = Source::grid_worker;
    std::string category;  ///< 4-digit category code
    std::string description;
    std::string address;
    spatial::Point location;  ///< EPSG:4490
    spatial::Point original;  ///< as reported
    std::string original_crs;  ///< wgs84, cgcs2000, gcj02, bd09
    // Assignment
    std::string grid;  ///< base grid code; empty when outside the district
    int grid_version = 0;
    std::string community;
    std::string town;
    bool outside = false;  ///< outside the district: the command centre's queue, flagged
    double distance_m = 0.0;  ///< distance to the nearest grid when outside
    std::vector<GridAssignment> business;  ///< the business grid of each business layer
    // Handling
    std::string department;  ///< responsible department code; empty: command centre
    std::string sub_unit;    ///< e.g. the police station a plugin chose
    Status status = Status::reported;
    std::optional<Timestamp> due_at;  ///< deadline, set at dispatch
    std::optional<Timestamp> warn_at;    ///< when the warning is due (80% of the time limit)
    std::optional<Timestamp> warned_at;  ///< when the warning fired
    int escalation_level = 0;  ///< 0 none, 1 grid, 2 town/street, 3 district command centre
    std::optional<Timestamp> next_check_at;  ///< when the scheduler next looks at it (warning, deadline, escalation)
    bool self_handled = false;
    std::optional<IncidentId> duplicate_of;
    std::optional<Rating> rating;
    Reporter reporter;
    Timestamp reported_at = 0;
    Timestamp updated_at = 0;
    std::optional<Timestamp> closed_at;
    std::vector<std::string> media;  ///< content hashes of the photos attached at intake
};

/// One entry of an incident's append-only event log.
struct Event {
    std::int64_t id = 0;
    IncidentId incident = 0;
    int seq = 0;  ///< 1, 2, … per incident
    Timestamp at = 0;
    std::string actor;  ///< user id
    Role role = Role::system;
    std::string action;  ///< report, register, void, dispatch, accept, return, handle, …
    std::optional<Status> from;
    std::optional<Status> to;
    std::string note;
    std::vector<std::string> media;  ///< content hashes of attached photos
    std::string data;  ///< JSON object with action-specific details
};

/// A message for a department's system, delivered at least once.
struct OutboxMessage {
    std::int64_t id = 0;
    IncidentId incident = 0;
    std::int64_t event = 0;
    std::string department;  ///< recipient; empty: the command centre's own systems
    std::string topic;       ///< e.g. incident.dispatched
    std::string payload;     ///< JSON
    Timestamp created_at = 0;
    std::optional<Timestamp> delivered_at;
    int attempts = 0;
    Timestamp next_attempt_at = 0;
    std::string last_error;
};

/// A photo or other attachment, stored once per content.
struct MediaInfo {
    std::string hash;  ///< lowercase hex SHA-256 of the content
    std::string mime;
    std::int64_t size = 0;
    Timestamp created_at = 0;
};

// ---- reference data --------------------------------------------------------------------------

struct Department {
    std::string code;
    std::string name;
    std::string plugin;  ///< plugin id when a plugin speaks for it
};

enum class LimitUnit : std::uint8_t { hours, workdays };

struct Category {
    std::string code;  ///< 4 digits: 2-digit major + 2-digit minor class
    std::string name;
    std::string major_class;
    std::string kind;  ///< event, facility, social
    double limit = 24;  ///< time limit
    LimitUnit limit_unit = LimitUnit::hours;
    std::string plugin;  ///< plugin that declared it, if any
};

/// Category and place → department. An empty field matches anything.
struct RoutingRule {
    std::int64_t id = 0;
    std::string category;     ///< a category code, or a 2-digit major class, or empty
    std::string layer;        ///< `base`, `town`, `community` or a business layer id; empty: anywhere
    std::string code;         ///< the grid/town/community/business unit code within `layer`
    std::string department;
    std::string sub_unit;
    int priority = 0;  ///< higher wins among matching rules
};

struct User {
    std::string id;
    std::string name;
    Role role = Role::citizen;
    std::string department;  ///< for department handlers
    std::string town;        ///< for town officers
    std::string grid;        ///< for grid workers: their grid
};

/// An API token; the secret itself is never stored, only its hash.
struct ApiToken {
    std::string hash;  ///< hex SHA-256 of the secret
    std::string user;
    Role role = Role::citizen;
    std::string department;
    std::string town;
    std::string label;
    Timestamp created_at = 0;
    std::optional<Timestamp> expires_at;
    std::optional<Timestamp> revoked_at;
};

// ---- layers ------------------------------------------------------------------------------------

enum class LayerKind : std::uint8_t { district, town, community, base, business };
[[nodiscard]] std::string_view to_string(LayerKind v) noexcept;
[[nodiscard]] std::optional<LayerKind> parse_layer_kind(std::string_view s) noexcept;

struct LayerInfo {
    std::string id;  ///< `district`, `towns`, `communities`, `grids` (the base grid) or a business layer id
    LayerKind kind = LayerKind::business;
    std::string title;
    std::string department;  ///< owner of a business layer
    std::string plugin;      ///< plugin that ships it
};

struct LayerVersion {
    std::string layer;
    int version = 0;
    Timestamp effective_from = 0;
    Timestamp published_at = 0;
    std::string note;
    std::int64_t features = 0;
};

/// A polygon of a layer version: a grid, a town, a business unit.
struct LayerFeature {
    std::string code;
    std::string name;
    std::string parent;  ///< the containing unit's code (community of a grid, town of a community)
    std::map<std::string, std::string> properties;  ///< further attributes (population, households, …)
    spatial::MultiPolygon geometry;  ///< EPSG:4490
};

/// A planner's working copy of a layer, edited before it is published as a new version.
struct Draft {
    std::int64_t id = 0;
    std::string layer;
    std::string name;
    int base_version = 0;  ///< the version it was copied from
    std::string created_by;
    Timestamp created_at = 0;
    Timestamp updated_at = 0;
    std::int64_t revision = 0;  ///< bumped by every edit
};

/// A unit of a draft with its own revision (for optimistic locking of concurrent edits).
struct DraftFeature {
    LayerFeature feature;
    std::int64_t revision = 1;
};

/// One edit of a draft, applied atomically: every unit named in `expected` must still be at that
/// revision (0: must not exist), otherwise nothing is written (conflict_error).
struct DraftEdit {
    std::map<std::string, std::int64_t> expected;
    std::vector<LayerFeature> put;     ///< created or replaced (revision + 1)
    std::vector<std::string> remove;   ///< deleted
};

// ---- crosswalk (一网统筹) -----------------------------------------------------------------------
// For every base grid, the business units it lies in and the share of its area in each; base
// grids split by a business boundary (largest share under 95%) are misalignments.

struct CrosswalkRow {
    std::string base;      ///< base grid code
    std::string business;  ///< business unit code
    double area_m2 = 0.0;  ///< shared area (EPSG:4549)
    double share = 0.0;    ///< of the base grid's area, 0..1
};

struct CrosswalkSummary {
    std::string layer;
    int base_version = 0;
    int business_version = 0;
    std::int64_t grids = 0;    ///< base grids
    std::int64_t aligned = 0;  ///< base grids with one business unit holding ≥ 95% of their area
    std::int64_t split = 0;    ///< base grids split by a business boundary
    std::int64_t uncovered = 0;  ///< base grids the business layer does not reach at all
    double aligned_share = 0.0;  ///< aligned / grids
    Timestamp computed_at = 0;
};

struct Crosswalk {
    CrosswalkSummary summary;
    std::vector<CrosswalkRow> rows;            ///< every (base grid, business unit) pair with a shared area
    std::vector<std::string> misaligned;       ///< codes of split base grids
};

}  // namespace onegrid::core
