#include "onegrid/core/calendar.hpp"

#include <cmath>

namespace onegrid::core {

bool WorkCalendar::is_workday(CivilDate d) const {
    if (auto it = m_overrides.find(d); it != m_overrides.end()) return it->second;
    return weekday(d) < 5;
}

Timestamp WorkCalendar::add(Timestamp start, double amount, LimitUnit unit) const {
    if (unit == LimitUnit::hours) return start + static_cast<Timestamp>(std::llround(amount * ms_per_hour));
    auto remaining = static_cast<Timestamp>(std::llround(amount * ms_per_day));
    Timestamp t = start;
    CivilDate day = civil_date(t, m_offset);
    // Walk day by day; a holiday season is at most a few weeks, so this stays short.
    for (int guard = 0; guard < 3660; ++guard) {
        const Timestamp day_end = start_of_day(add_days(day, 1), m_offset);
        if (is_workday(day)) {
            const Timestamp available = day_end - t;
            if (remaining <= available) return t + remaining;
            remaining -= available;
        }
        t = day_end;
        day = add_days(day, 1);
    }
    return t + remaining;
}

}  // namespace onegrid::core
