#pragma once
/// @file
/// The Store: everything OneGrid knows, behind one interface. The embedded implementation is a
/// SpatiaLite file (spatialite_store.hpp); a PostGIS backend implements the same interface. Nothing
/// here is specific to SQL.

#include <cstddef>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "onegrid/core/model.hpp"

namespace onegrid::core {

/// The store failed: I/O error, full disk, read-only file system, corruption.
struct store_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// A file is refused at open: not a OneGrid database, a newer schema, or corrupt. It is left untouched.
struct schema_error : public store_error {
    using store_error::store_error;
};
/// A record changed since the caller looked at it (optimistic check failed).
struct conflict_error : public store_error {
    using store_error::store_error;
};
/// No such record.
struct not_found_error : public store_error {
    using store_error::store_error;
};

/// Filters of an incident query; empty members match everything.
struct IncidentQuery {
    std::optional<spatial::Box> bbox;  ///< EPSG:4490, answered with the spatial index
    std::set<Status> statuses;
    std::set<std::string> categories;
    std::string grid;
    std::string community;
    std::string town;
    std::string department;
    std::optional<Source> source;
    std::optional<bool> outside;
    bool open_only = false;
    std::optional<Timestamp> reported_from;  ///< inclusive
    std::optional<Timestamp> reported_to;    ///< exclusive
    std::optional<Timestamp> updated_since;  ///< inclusive
    std::string reporter;                    ///< reporter id
    std::vector<IncidentId> ids;
    bool newest_first = false;
    std::size_t limit = 100;
    std::size_t offset = 0;
};

/// A new incident with its first event, written together.
struct NewIncident {
    Incident incident;  ///< id is assigned by the store
    Event first_event;
    std::vector<MediaInfo> media;  ///< files already saved with save_media()
    std::vector<OutboxMessage> outbox;
};

/// A case with its whole history, as migrated from another system (or generated for a demo):
/// the incident as it is now and its events in order.
struct CaseRecord {
    Incident incident;  ///< id is assigned by the store
    std::vector<Event> events;  ///< seq is assigned by the store (1, 2, …)
};

struct IntakeResult {
    Incident incident;
    bool created = true;  ///< false: the request id was seen before; this is the existing incident
};

/// What a state change writes: the incident as it is afterwards, the event, and messages.
struct Change {
    Incident incident;
    Event event;
    std::vector<MediaInfo> media;
    std::vector<OutboxMessage> outbox;
};

/// Decides a change from the current record, inside the write transaction (so the check and the
/// write are atomic). It must not call the store; it may throw to refuse the change. A change whose
/// event has no action updates the incident without writing an event or messages. It may be called
/// more than once for one change (a group commit that has to be run again), so it must have no
/// effect beyond its result.
using Decide = std::function<Change(const Incident& current)>;

struct TransitionResult {
    Incident incident;
    Event event;  ///< with its id and sequence number
};

struct FeatureQuery {
    std::optional<spatial::Box> bbox;
    std::string code;
    std::size_t limit = 0;  ///< 0: all
    std::size_t offset = 0;
};

struct StoreStats {
    std::map<Status, std::int64_t> incidents_by_status;
    std::int64_t incidents = 0;
    std::int64_t events = 0;
    std::int64_t media = 0;
    std::int64_t outbox_pending = 0;
    int schema_version = 0;
    std::uint64_t commits = 0;
    std::uint64_t group_commits = 0;  ///< transactions that carried more than one write
};

class Store {
public:
    virtual ~Store() = default;

    // ---- layers (versioned) -----------------------------------------------------------------
    virtual void put_layer(const LayerInfo& layer) = 0;
    [[nodiscard]] virtual std::vector<LayerInfo> layers() = 0;
    [[nodiscard]] virtual std::optional<LayerInfo> layer(const std::string& id) = 0;
    /// Publishes a complete new version of a layer, effective from `effective_from`.
    /// @throws not_found_error for an unknown layer, store_error on failure (nothing written).
    virtual LayerVersion publish_version(const std::string& layer, const std::vector<LayerFeature>& features,
                                         Timestamp effective_from, const std::string& note) = 0;
    [[nodiscard]] virtual std::vector<LayerVersion> versions(const std::string& layer) = 0;
    /// The version in force at `t`: the latest whose effective-from is not after `t`.
    [[nodiscard]] virtual std::optional<LayerVersion> version_at(const std::string& layer, Timestamp t) = 0;
    [[nodiscard]] virtual std::vector<LayerFeature> features(const std::string& layer, int version,
                                                             const FeatureQuery& query = {}) = 0;
    [[nodiscard]] virtual std::int64_t count_features(const std::string& layer, int version,
                                                      const FeatureQuery& query = {}) = 0;

    // ---- drafts (planners' working copies of layers) ------------------------------------------
    /// Creates a draft holding a copy of `features`. Returns it with its id.
    virtual Draft create_draft(const Draft& draft, const std::vector<LayerFeature>& features) = 0;
    [[nodiscard]] virtual std::vector<Draft> drafts() = 0;
    [[nodiscard]] virtual std::optional<Draft> draft(std::int64_t id) = 0;
    [[nodiscard]] virtual std::vector<DraftFeature> draft_features(std::int64_t id) = 0;
    [[nodiscard]] virtual std::optional<DraftFeature> draft_feature(std::int64_t id, const std::string& code) = 0;
    /// Applies an edit atomically. @throws not_found_error (no draft), conflict_error (a unit is
    /// not at the expected revision; nothing written). Returns the units written, with their
    /// new revisions.
    virtual std::vector<DraftFeature> edit_draft(std::int64_t id, const DraftEdit& edit, Timestamp now) = 0;
    virtual void delete_draft(std::int64_t id) = 0;

    /// Replaces the stored crosswalk of a business layer.
    virtual void put_crosswalk(const Crosswalk& crosswalk) = 0;
    /// The stored crosswalk of a layer (rows included), if computed.
    [[nodiscard]] virtual std::optional<Crosswalk> crosswalk(const std::string& layer) = 0;
    [[nodiscard]] virtual std::vector<CrosswalkSummary> crosswalk_summaries() = 0;

    // ---- reference data ------------------------------------------------------------------------
    virtual void put_department(const Department& d) = 0;
    [[nodiscard]] virtual std::vector<Department> departments() = 0;
    virtual void put_category(const Category& c) = 0;
    [[nodiscard]] virtual std::vector<Category> categories() = 0;
    /// Replaces the whole routing table.
    virtual void replace_routing_rules(const std::vector<RoutingRule>& rules) = 0;
    [[nodiscard]] virtual std::vector<RoutingRule> routing_rules() = 0;
    virtual void put_user(const User& u) = 0;
    [[nodiscard]] virtual std::optional<User> user(const std::string& id) = 0;
    [[nodiscard]] virtual std::vector<User> users() = 0;
    virtual void put_token(const ApiToken& t) = 0;
    [[nodiscard]] virtual std::optional<ApiToken> token(const std::string& hash) = 0;
    [[nodiscard]] virtual std::vector<ApiToken> tokens() = 0;
    virtual void revoke_token(const std::string& hash, Timestamp at) = 0;
    /// Working-day calendar: `workday` (a make-up working day, 调休) or `holiday`, by date.
    virtual void put_calendar_day(CivilDate date, bool workday) = 0;
    [[nodiscard]] virtual std::map<CivilDate, bool> calendar() = 0;

    // ---- incidents -------------------------------------------------------------------------------
    /// Stores a new incident, its first event, media and outbox messages in one transaction,
    /// durably (fsync) before returning. A request id seen before returns the existing incident.
    /// Concurrent intakes share commits.
    virtual IntakeResult intake(const NewIncident& incident) = 0;
    /// Called once an intake is answered: with its result once it is durable, or with the error.
    using IntakeDone = std::function<void(std::optional<IntakeResult> result, std::exception_ptr error)>;
    /// intake() without waiting: returns at once and calls `done` exactly once, on one of the
    /// store's threads, when the intake is durable (or has failed). `done` must be quick (hand the
    /// answer to another thread): the store's commits wait for it. This lets a server answer many
    /// reports without a thread blocked on each. The default runs intake() and then `done`.
    /// @throws store_error at once when the store takes no writes (read-only, closed, failed).
    virtual void intake_async(NewIncident incident, IntakeDone done) {
        std::optional<IntakeResult> result;
        std::exception_ptr error;
        try {
            result = intake(incident);
        } catch (...) {
            error = std::current_exception();
        }
        done(std::move(result), error);
    }
    /// Many intakes in one transaction (imports of historical data); same rules as intake().
    virtual std::vector<IntakeResult> intake_many(const std::vector<NewIncident>& incidents) = 0;
    /// Applies one state change atomically: `decide` sees the current record inside the write
    /// transaction. Durable before returning. @throws not_found_error, or what `decide` throws.
    virtual TransitionResult transition(IncidentId id, const Decide& decide) = 0;
    /// Writes cases with their complete event logs in one transaction. A case whose request id is
    /// already stored is skipped (so an interrupted import can be run again). Returns the number
    /// written.
    virtual std::size_t import_cases(const std::vector<CaseRecord>& cases) = 0;
    /// Applies many state changes in one transaction (e.g. re-assignment after a new grid
    /// version). A `decide` that throws refuses the whole batch.
    virtual std::vector<TransitionResult> transition_many(const std::vector<std::pair<IncidentId, Decide>>& changes) = 0;
    [[nodiscard]] virtual std::optional<Incident> incident(IncidentId id) = 0;
    [[nodiscard]] virtual std::optional<Incident> incident_by_request(const std::string& request_id) = 0;
    [[nodiscard]] virtual std::vector<Incident> incidents(const IncidentQuery& query) = 0;
    [[nodiscard]] virtual std::int64_t count_incidents(const IncidentQuery& query) = 0;
    /// The ids of the open incidents of a category reported since a time within `radius_m` of a
    /// point (duplicate candidates), nearest first.
    [[nodiscard]] virtual std::vector<IncidentId> open_incidents_near(const std::string& category, spatial::Point p,
                                                                    double radius_m, Timestamp since) = 0;
    [[nodiscard]] virtual std::vector<Event> events(IncidentId id) = 0;
    /// Open incidents whose next scheduled check (warning, deadline, escalation) is due at `now`,
    /// earliest first. Indexed by the check time.
    [[nodiscard]] virtual std::vector<Incident> due_checks(Timestamp now, std::size_t limit) = 0;
    /// Streams every event with at <= t < until in time order (for indicators).
    virtual void scan_events(Timestamp from, Timestamp until, const std::function<void(const Event&)>& fn) = 0;
    /// Streams every incident (for indicators and re-assignment), in id order.
    virtual void scan_incidents(const IncidentQuery& query, const std::function<void(const Incident&)>& fn) = 0;

    // ---- media -------------------------------------------------------------------------------
    /// Saves a file by content hash (deduplicated) and makes it durable; the database row is
    /// written with the incident or event that refers to it.
    virtual MediaInfo save_media(std::span<const std::byte> bytes, const std::string& mime) = 0;
    [[nodiscard]] virtual std::optional<MediaInfo> media(const std::string& hash) = 0;
    [[nodiscard]] virtual std::filesystem::path media_path(const std::string& hash) const = 0;

    // ---- outbox ------------------------------------------------------------------------------
    [[nodiscard]] virtual std::vector<OutboxMessage> outbox_due(Timestamp now, std::size_t limit) = 0;
    virtual void outbox_delivered(std::int64_t id, Timestamp at) = 0;
    virtual void outbox_failed(std::int64_t id, const std::string& error, Timestamp retry_at) = 0;

    // ---- maintenance -------------------------------------------------------------------------
    /// A consistent copy of the database while it is in use (media files are content-addressed
    /// and immutable; copy the media directory alongside).
    virtual void backup(const std::filesystem::path& target) = 0;
    [[nodiscard]] virtual StoreStats stats() = 0;
    /// Increases with every commit; caches compare it to know when data changed.
    [[nodiscard]] virtual std::uint64_t data_version() const = 0;
};

}  // namespace onegrid::core
