#pragma once
/// @file
/// Indicators of the comprehensive assessment (综合评价): a compact in-memory history of every case
/// (CaseLog), kept current event by event, and the counts and rates of every unit of a kind (grid,
/// community, town, department, grid worker, district) over periods in Beijing time.
///
/// Every count and rate is defined once, in docs/indicators.md: which events it counts, in which
/// period, and how reopened, reworked, returned, voided and self-handled cases are treated.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "onegrid/core/calendar.hpp"
#include "onegrid/core/model.hpp"
#include "onegrid/core/store.hpp"
#include "onegrid/core/time.hpp"

namespace onegrid::core {

/// A request the indicators cannot answer: overlapping periods, duplicate units, a missing event.
struct indicator_error : public std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// The kinds of unit that are counted and assessed.
enum class UnitKind : std::uint8_t {
    grid,         ///< 网格: the base grid of the incident's location
    community,    ///< 社区
    town,         ///< 街镇 (town or street)
    department,   ///< 部门: the department responsible at each step (see docs/indicators.md)
    grid_worker,  ///< 网格员: the grid worker who reported the case
    district,     ///< 区: every case, one unit
};
inline constexpr std::array<UnitKind, 6> all_unit_kinds = {UnitKind::grid,       UnitKind::community,
                                                           UnitKind::town,       UnitKind::department,
                                                           UnitKind::grid_worker, UnitKind::district};
[[nodiscard]] std::string_view to_string(UnitKind k) noexcept;
/// 网格, 社区, 街镇, 部门, 网格员, 区.
[[nodiscard]] std::string_view label_zh(UnitKind k) noexcept;
[[nodiscard]] std::optional<UnitKind> parse_unit_kind(std::string_view s) noexcept;

/// A half-open time range [from, until) with a label for reports (`2026-03`, `2026-W10`, `2026-03-02`).
struct Period {
    Timestamp from = 0;
    Timestamp until = 0;
    std::string label;
};

enum class PeriodKind : std::uint8_t { day, week, month };

/// The calendar day, ISO week (Monday to Sunday) or month containing `d`, in Beijing time.
[[nodiscard]] Period calendar_period(PeriodKind kind, CivilDate d);
/// Consecutive calendar periods (Beijing time) covering [from, until): the first contains `from`,
/// the last contains `until - 1`. @throws indicator_error when until <= from.
[[nodiscard]] std::vector<Period> calendar_periods(PeriodKind kind, Timestamp from, Timestamp until);
/// A custom period [from, until). @throws indicator_error when until <= from.
[[nodiscard]] Period custom_period(Timestamp from, Timestamp until);

/// Restricts the cases that are counted; empty members match everything.
struct CaseFilter {
    std::string town;             ///< town/street code
    std::string category_prefix;  ///< "01" (a major class) or "0101" (one category)
};

/// A unit: its code (grid code, department code, user id…) and its name for reports.
struct UnitInfo {
    std::string code;
    std::string name;
};

/// The counts of one unit in one period. Which events each counts, and in which period, is
/// defined in docs/indicators.md.
struct Counts {
    std::int64_t reported = 0;             ///< 上报数
    std::int64_t registered = 0;           ///< 立案数
    std::int64_t voided = 0;               ///< 作废数
    std::int64_t dispatched = 0;           ///< 派遣数
    std::int64_t handled = 0;              ///< 处置数
    std::int64_t handled_in_time = 0;      ///< 按期处置数
    std::int64_t reworked = 0;             ///< 返工数
    std::int64_t due = 0;                  ///< 应结案数
    std::int64_t closed = 0;               ///< 结案数
    std::int64_t closed_in_time = 0;       ///< 按期结案数
    std::int64_t overdue = 0;              ///< 超期数
    std::int64_t self_handled = 0;         ///< 自行处置数
    std::int64_t rated = 0;                ///< 评价数
    std::int64_t satisfied = 0;            ///< 满意数
    std::int64_t basically_satisfied = 0;  ///< 基本满意数
    std::int64_t unsatisfied = 0;          ///< 不满意数
    std::int64_t handling_ms = 0;          ///< sum of the handling times of the `handled` handlings
    Counts& operator+=(const Counts& o) noexcept;
    friend bool operator==(const Counts&, const Counts&) = default;
};

/// A rate with its numerator and denominator.
struct Rate {
    std::int64_t numerator = 0;
    std::int64_t denominator = 0;
    /// numerator / denominator, or nullopt ("no data") when the denominator is 0.
    [[nodiscard]] std::optional<double> value() const noexcept;
};

enum class RateId : std::uint8_t {
    closing,           ///< 结案率 = 结案数 / 应结案数
    closing_in_time,   ///< 按期结案率 = 按期结案数 / 应结案数
    handling_in_time,  ///< 按期处置率 = 按期处置数 / 处置数
    rework,            ///< 返工率 = 返工数 / 处置数 (lower is better)
    satisfaction,      ///< 满意率 = (满意数 + 基本满意数) / 评价数
};
inline constexpr std::array<RateId, 5> all_rates = {RateId::closing, RateId::closing_in_time, RateId::handling_in_time,
                                                    RateId::rework, RateId::satisfaction};
/// `closing_rate`, `closing_in_time_rate`, `handling_in_time_rate`, `rework_rate`, `satisfaction_rate`.
[[nodiscard]] std::string_view to_string(RateId r) noexcept;
[[nodiscard]] std::string_view label_zh(RateId r) noexcept;
[[nodiscard]] std::optional<RateId> parse_rate_id(std::string_view s) noexcept;
[[nodiscard]] Rate rate(const Counts& c, RateId r) noexcept;
/// 平均处置时长 in hours: the mean handling time of the handlings counted in `handled`, or nullopt
/// when there were none.
[[nodiscard]] std::optional<double> mean_handling_hours(const Counts& c) noexcept;

/// What to count.
struct IndicatorQuery {
    UnitKind unit = UnitKind::grid;
    /// Sorted by start, not overlapping (gaps are allowed). At least one.
    std::vector<Period> periods;
    CaseFilter filter;
    /// The moment the figures are taken: events after it are ignored, and a deadline counts as
    /// passed when it is not after it. Default: the latest event in the log. Live figures pass
    /// now; a report for a past period passes its end (or a fixed cut-off after it) to freeze it.
    std::optional<Timestamp> as_of;
    /// The units to report, in this order, with their names (e.g. every grid of the layer from
    /// load_units(), so that grids without cases appear with zeros); cases of other units are not
    /// counted. Empty: every unit that occurs among the filtered cases, by code. Ignored for the
    /// district, which is one unit (the first entry names it, if given).
    std::vector<UnitInfo> units;
};

/// Counts of every unit in every period.
struct IndicatorTable {
    UnitKind kind = UnitKind::grid;
    std::vector<UnitInfo> units;
    std::vector<Period> periods;
    std::optional<Timestamp> as_of;  ///< the moment the figures were taken (nullopt: empty log)
    std::vector<Counts> counts;  ///< units.size() × periods.size(), unit-major

    [[nodiscard]] const Counts& at(std::size_t unit, std::size_t period) const { return counts[unit * periods.size() + period]; }
    /// Index of a unit by code.
    [[nodiscard]] std::optional<std::size_t> find(std::string_view code) const;
};

/// A case as the log keeps it (for hotspots and lists).
struct CaseView {
    IncidentId id = 0;
    std::string_view grid;
    std::string_view community;
    std::string_view town;
    std::string_view department;  ///< responsible now; empty: the command centre
    std::string_view grid_worker;  ///< who reported it, when a grid worker did
    std::string_view category;
    Timestamp reported_at = 0;
    spatial::Point location;  ///< EPSG:4490
    Status status = Status::reported;
};

/// The history of every case, reduced to what the indicators need: about 150 bytes per case and 32
/// per counted step (some 300 MB for a million cases). All members are thread-safe: queries share
/// a lock, updates take it alone.
class CaseLog {
public:
    CaseLog();
    ~CaseLog();
    CaseLog(CaseLog&&) noexcept;
    CaseLog& operator=(CaseLog&&) noexcept;
    CaseLog(const CaseLog&) = delete;
    CaseLog& operator=(const CaseLog&) = delete;

    /// Every incident and event of the store. Dispatches whose event does not carry its deadline
    /// (`due_at`, as imported histories may lack) get it from the category's time limit and the
    /// working calendar, as the workflow computes it. Events committed while this runs may be
    /// missed: apply() them afterwards (events already seen are ignored).
    /// @throws store_error when the store fails.
    [[nodiscard]] static CaseLog load(Store& store);

    /// The deadline rule for dispatches and reopenings whose event has no `due_at`.
    void set_deadline_rule(const std::vector<Category>& categories, WorkCalendar calendar);

    /// Takes one new event of a case, with the incident as it is after the event (what
    /// Workflow::act returns). A case not yet in the log is added when the event is its first (seq 1).
    /// @returns false when the event (by seq) was applied before: repeats are harmless.
    /// @throws indicator_error when an earlier event of the case is missing: call put() with the
    /// case's whole history instead.
    bool apply(const Incident& incident, const Event& event);

    /// Adds or replaces a case with its whole history (events in seq order).
    /// @throws indicator_error when the events are not in seq order.
    void put(const Incident& incident, std::span<const Event> events);

    /// Number of cases.
    [[nodiscard]] std::size_t size() const;
    /// Number of events taken.
    [[nodiscard]] std::size_t event_count() const;
    /// Time of the latest event taken.
    [[nodiscard]] std::optional<Timestamp> latest() const;

    /// Counts per unit and period. @throws indicator_error for empty, unsorted or overlapping
    /// periods and duplicate units.
    [[nodiscard]] IndicatorTable indicators(const IndicatorQuery& query) const;

    /// Calls `fn` for every case, in the order they were added. `fn` must not call the log.
    void for_each_case(const std::function<void(const CaseView&)>& fn) const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

/// The units of a kind in force at `at`, by code: grids, communities and towns from the versions of
/// their layers in force (codes and names), departments, grid workers (users with that role) and the
/// district (the district layer's feature; `district` when there is none).
/// @throws store_error when the store fails.
[[nodiscard]] std::vector<UnitInfo> load_units(Store& store, UnitKind kind, Timestamp at);

}  // namespace onegrid::core
