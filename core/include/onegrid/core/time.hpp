#pragma once
/// @file
/// Time in OneGrid: UTC milliseconds since the Unix epoch, and an injectable clock.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onegrid::core {

/// Milliseconds since 1970-01-01T00:00:00Z.
using Timestamp = std::int64_t;

inline constexpr Timestamp ms_per_second = 1000;
inline constexpr Timestamp ms_per_minute = 60 * ms_per_second;
inline constexpr Timestamp ms_per_hour = 60 * ms_per_minute;
inline constexpr Timestamp ms_per_day = 24 * ms_per_hour;

/// RFC 3339 / ISO 8601 in UTC with milliseconds: `2026-03-01T08:30:00.000Z`.
[[nodiscard]] std::string format_iso8601(Timestamp t);
/// The same text written to `out` (room for iso8601_max characters), for writers of many of them;
/// returns its length.
inline constexpr std::size_t iso8601_max = 48;
std::size_t format_iso8601(Timestamp t, char* out) noexcept;
/// Parses RFC 3339 date-times (`Z` or `±hh:mm` offsets, optional fraction) and plain dates
/// (`2026-03-01`, midnight UTC). Returns nullopt for anything else.
[[nodiscard]] std::optional<Timestamp> parse_iso8601(std::string_view text);

/// Where "now" comes from. The system clock in production; tests set the time.
class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] Timestamp now() const override;
};

/// A clock that only moves when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(Timestamp start) : m_now(start) {}
    [[nodiscard]] Timestamp now() const override { return m_now.load(); }
    void set(Timestamp t) { m_now.store(t); }
    void advance(Timestamp by) { m_now.fetch_add(by); }

private:
    std::atomic<Timestamp> m_now;
};

/// Civil date of a timestamp in a fixed UTC offset (China Standard Time is +8 h).
struct CivilDate {
    int year;
    int month;  ///< 1..12
    int day;    ///< 1..31
    friend bool operator==(const CivilDate&, const CivilDate&) = default;
    friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};
inline constexpr Timestamp china_utc_offset = 8 * ms_per_hour;
[[nodiscard]] CivilDate civil_date(Timestamp t, Timestamp utc_offset = china_utc_offset);
/// Midnight starting `d` in the given offset, as a UTC timestamp.
[[nodiscard]] Timestamp start_of_day(CivilDate d, Timestamp utc_offset = china_utc_offset);
/// 0 = Monday … 6 = Sunday.
[[nodiscard]] int weekday(CivilDate d);
[[nodiscard]] CivilDate add_days(CivilDate d, int days);
[[nodiscard]] std::string format_date(CivilDate d);
[[nodiscard]] std::optional<CivilDate> parse_date(std::string_view text);

}  // namespace onegrid::core
