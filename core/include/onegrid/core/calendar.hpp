#pragma once
/// @file
/// Working time: deadlines in hours run around the clock; deadlines in working days count only the
/// time of working days. Weekends are rest days unless the calendar marks a make-up working day
/// (调休); public holidays are rest days even on weekdays.

#include <map>

#include "onegrid/core/model.hpp"
#include "onegrid/core/time.hpp"

namespace onegrid::core {

class WorkCalendar {
public:
    WorkCalendar() = default;
    /// `overrides`: date → true (a working day, e.g. a make-up Saturday) or false (a holiday).
    explicit WorkCalendar(std::map<CivilDate, bool> overrides, Timestamp utc_offset = china_utc_offset)
        : m_overrides(std::move(overrides)), m_offset(utc_offset) {}

    [[nodiscard]] bool is_workday(CivilDate d) const;

    /// The moment when `amount` of working time has passed since `start`. For hours that is
    /// plain clock time; for working days, one working day is the 24 hours of a working date and
    /// time on rest days does not count (a case dispatched on Friday 15:00 with 1 working day is
    /// due on Monday 15:00; dispatched on a Saturday, it is due at the end of Monday).
    [[nodiscard]] Timestamp add(Timestamp start, double amount, LimitUnit unit) const;

    [[nodiscard]] const std::map<CivilDate, bool>& overrides() const noexcept { return m_overrides; }

private:
    std::map<CivilDate, bool> m_overrides;
    Timestamp m_offset = china_utc_offset;
};

}  // namespace onegrid::core
