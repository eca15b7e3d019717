#pragma once
/// @file
/// Comprehensive assessment (综合评价): composite scores per unit from the rates of the indicators,
/// weighted by a configuration file (data/assessment/weights.json), grades A–E, rankings, and the
/// report as CSV and XLSX. The rules are written down in docs/indicators.md.

#include <array>
#include <filesystem>
#include <optional>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "onegrid/core/indicators.hpp"

namespace onegrid::core {

/// The weights file is unusable: unreadable, not JSON, a unit kind or rate missing or unknown, a
/// negative weight, weights not summing to 1. The message names the file, the entry and the rule.
struct assessment_config_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The report cannot be written (I/O error, libxlsxwriter error).
struct report_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Weights of the five rates, indexed by RateId.
using RateWeights = std::array<double, all_rates.size()>;

/// One weight set per unit kind. Rules: the file is a JSON object with `weights` (and optionally
/// `about`); `weights` has an object for each of the six unit kinds; each lists rates by name
/// (`closing_rate`, …); every weight is a finite number ≥ 0; each set sums to 1 (±1e-6). A rate
/// left out weighs 0.
class AssessmentConfig {
public:
    /// @throws assessment_config_error naming the file and the problem.
    [[nodiscard]] static AssessmentConfig load(const std::filesystem::path& file);
    /// `source` names the text in messages. @throws assessment_config_error.
    [[nodiscard]] static AssessmentConfig parse(std::string_view json, std::string_view source = "assessment weights");
    [[nodiscard]] const RateWeights& weights(UnitKind kind) const { return m_weights[static_cast<std::size_t>(kind)]; }

private:
    std::array<RateWeights, all_unit_kinds.size()> m_weights{};
};

/// The score of a rate: rate × 100, and (1 − rate) × 100 for the rework rate (lower is better).
[[nodiscard]] double rate_score(RateId r, double value) noexcept;
/// A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below.
[[nodiscard]] char grade_of(double score) noexcept;

/// One unit's assessment.
struct AssessedUnit {
    UnitInfo unit;
    Counts counts;
    std::array<std::optional<double>, all_rates.size()> rate_scores;  ///< nullopt: no data
    /// Weighted mean of the rate scores with data (their weights rescaled to sum to 1), rounded to
    /// 0.01; nullopt when no weighted rate has data.
    std::optional<double> score;
    char grade = 0;  ///< 'A'…'E'; 0 without a score
    int rank = 0;    ///< 1 = best; equal scores share a rank (1, 2, 2, 4); 0 without a score
};

/// The assessment of every unit of a table in one period, best first (equal scores by code; units
/// without a score last, by code).
struct Assessment {
    UnitKind kind = UnitKind::grid;
    Period period;
    std::optional<Timestamp> as_of;
    RateWeights weights{};
    std::vector<AssessedUnit> units;
};

/// Scores, grades and ranks the units of `table` in its period `period` (an index).
/// @throws indicator_error when the period index is out of range.
[[nodiscard]] Assessment assess(const IndicatorTable& table, std::size_t period, const AssessmentConfig& config);

/// The report as CSV: UTF-8 with a byte-order mark (so that Excel reads the Chinese headers), one
/// header row, then one row per unit of each assessment in order: kind, period, code, name, every
/// count, every rate (percent, empty without data), the mean handling time, every rate score, the
/// score, the grade and the rank. Fields are quoted as RFC 4180 requires.
void write_report_csv(std::span<const Assessment> assessments, std::ostream& out);
[[nodiscard]] std::string report_csv(std::span<const Assessment> assessments);

/// The report as an XLSX workbook: one sheet per assessment with the same columns as the CSV
/// (numbers as numbers, rates in percent format), then a sheet 说明 with the weights and the grades.
/// @throws report_error when the file cannot be written.
void write_report_xlsx(std::span<const Assessment> assessments, const std::filesystem::path& file);
[[nodiscard]] std::string report_xlsx(std::span<const Assessment> assessments);

}  // namespace onegrid::core
