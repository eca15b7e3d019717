#pragma once
/// @file
/// Planning: planners redraw a layer (the base grid or a department's business grid) in a named
/// draft, validate the draft as a whole coverage, and publish it as a new version; the open cases
/// the change affects are re-assigned, each move recorded in the case's event log. Every version
/// stays queryable; two versions can be compared.

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "onegrid/core/geography.hpp"
#include "onegrid/core/store.hpp"
#include "onegrid/core/time.hpp"
#include "onegrid/spatial/editing.hpp"
#include "onegrid/spatial/validation.hpp"

namespace onegrid::core {

/// A planning request that cannot be carried out as asked (→ HTTP 400 / CLI error); conflicts
/// are conflict_error, unknown drafts and units not_found_error.
struct planning_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// An edit that must name the revisions it was based on did not (→ HTTP 428).
struct precondition_required : public planning_error {
    using planning_error::planning_error;
};

/// Publishing refused because the draft has error-level findings.
struct validation_failed : public planning_error {
    validation_failed(const std::string& what, std::vector<spatial::Finding> f) : planning_error(what), findings(std::move(f)) {}
    std::vector<spatial::Finding> findings;
};

/// The revision of each unit the caller last saw (from If-Match); edits of units whose revision
/// moved on are refused.
using Revisions = std::map<std::string, std::int64_t>;

struct DraftChange {
    std::vector<DraftFeature> changed;  ///< written units with their new revisions
    std::vector<std::string> removed;
};

struct Validation {
    std::vector<spatial::Finding> findings;
    std::size_t errors = 0;
    std::size_t warnings = 0;
    double seconds = 0;
};

/// Cases moved from one unit to another by a new version.
struct Move {
    std::string from;
    std::string to;
    std::size_t count = 0;
};

struct PublishPreview {
    std::vector<std::string> changed;  ///< units added, removed or reshaped
    std::size_t incidents_to_move = 0;
    std::vector<Move> moves;
};

struct PublishReport {
    LayerVersion version;
    std::size_t moved = 0;
    std::vector<Move> moves;
    double validation_seconds = 0;
    double publish_seconds = 0;
};

struct VersionDiff {
    struct Changed {
        std::string code;
        double area_before_m2 = 0;
        double area_after_m2 = 0;
        bool geometry = false;
        bool attributes = false;
    };
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<Changed> changed;
};

class Planner {
public:
    Planner(Store& store, const Clock& clock, GeographyHolder& geography);

    Draft create_draft(const std::string& layer, const std::string& name, const std::string& who);

    DraftChange split(std::int64_t draft, const std::string& code, const spatial::Line& line, const Revisions& seen);
    DraftChange merge(std::int64_t draft, const std::string& a, const std::string& b, const Revisions& seen);
    DraftChange move_boundary(std::int64_t draft, const std::string& a, const std::string& b, const spatial::Line& line,
                              const Revisions& seen);
    DraftChange recode(std::int64_t draft, const std::string& from, const std::string& to, const Revisions& seen);
    /// Creates (`seen` nullopt: the code must be new) or replaces a unit.
    DraftChange put_unit(std::int64_t draft, const LayerFeature& unit, std::optional<std::int64_t> seen);
    DraftChange remove_unit(std::int64_t draft, const std::string& code, std::int64_t seen);
    /// Replaces every unit of the draft (bulk replacement from a file).
    DraftChange replace_all(std::int64_t draft, const std::vector<LayerFeature>& units);

    [[nodiscard]] Validation validate(std::int64_t draft);
    [[nodiscard]] PublishPreview preview(std::int64_t draft);
    /// Validates, publishes a new version effective from `effective_from` (default now), and when
    /// it is in force re-assigns the open cases. @throws validation_failed with the findings.
    PublishReport publish(std::int64_t draft, std::optional<Timestamp> effective_from, const std::string& note, const std::string& who);

    /// Re-assigns open cases to versions that came into force since the geography was loaded
    /// (a version published with a future effective-from). Returns the cases moved.
    std::size_t apply_due_versions(std::vector<Incident>* moved = nullptr);

    [[nodiscard]] VersionDiff diff(const std::string& layer, int from_version, int to_version);

    /// The validation rules for a layer (codes and parents for the base grid).
    [[nodiscard]] spatial::CoverageRules rules_for(const LayerInfo& layer) const;

private:
    struct Loaded;
    Loaded load(std::int64_t draft);
    std::size_t apply_due_locked(std::vector<Incident>* moved);
    std::vector<Move> reassign(const Geography& before, const Geography& after, const std::vector<spatial::Box>& areas,
                               const std::string& layer, int version, bool write, std::size_t& moved, std::vector<Incident>* changed);

    Store& m_store;
    const Clock& m_clock;
    GeographyHolder& m_geography;
    std::mutex m_publish;  ///< one publish or version change at a time
};

/// Units of a draft or version that differ between two lists (by code, geometry or attributes).
[[nodiscard]] std::vector<std::string> changed_codes(const std::vector<LayerFeature>& before, const std::vector<LayerFeature>& after);

}  // namespace onegrid::core
