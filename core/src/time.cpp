#include "onegrid/core/time.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace onegrid::core {
namespace {

// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    for (std::size_t i = pos; i < pos + len; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return true;
}

int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

}  // namespace

Timestamp SystemClock::now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::size_t format_iso8601(Timestamp t, char* out) noexcept {
    const std::int64_t days = floor_div(t, ms_per_day);
    const std::int64_t rem = t - days * ms_per_day;
    const CivilDate d = civil_from_days(days);
    const int hour = static_cast<int>(rem / ms_per_hour);
    const int minute = static_cast<int>(rem / ms_per_minute % 60);
    const int second = static_cast<int>(rem / ms_per_second % 60);
    const int milli = static_cast<int>(rem % 1000);
    if (d.year < 0 || d.year > 9999) {
        const int n = std::snprintf(out, iso8601_max, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.year, d.month, d.day, hour,
                                    minute, second, milli);
        return n < 0 ? 0 : std::min(static_cast<std::size_t>(n), iso8601_max - 1);
    }
    // The same text as the snprintf above, without the format parsing: servers write this for
    // every feature of a response.
    constexpr char pattern[] = "0000-00-00T00:00:00.000Z";
    std::memcpy(out, pattern, sizeof pattern - 1);
    auto put = [&](std::size_t at, int v, int width) {
        for (int k = width - 1; k >= 0; --k, v /= 10) out[at + static_cast<std::size_t>(k)] = static_cast<char>('0' + v % 10);
    };
    put(0, d.year, 4);
    put(5, d.month, 2);
    put(8, d.day, 2);
    put(11, hour, 2);
    put(14, minute, 2);
    put(17, second, 2);
    put(20, milli, 3);
    return sizeof pattern - 1;
}

std::string format_iso8601(Timestamp t) {
    char buf[iso8601_max];
    return std::string(buf, format_iso8601(t, buf));
}

std::optional<Timestamp> parse_iso8601(std::string_view s) {
    int y = 0, mo = 0, d = 0;
    if (!read_int(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !read_int(s, 5, 2, mo) || s[7] != '-' ||
        !read_int(s, 8, 2, d)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return std::nullopt;
    Timestamp t = days_from_civil(y, mo, d) * ms_per_day;
    if (s.size() == 10) return t;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
    int hh = 0, mm = 0, ss = 0;
    if (!read_int(s, 11, 2, hh) || s.size() < 19 || s[13] != ':' || !read_int(s, 14, 2, mm) || s[16] != ':' ||
        !read_int(s, 17, 2, ss)) {
        return std::nullopt;
    }
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    t += hh * ms_per_hour + mm * ms_per_minute + std::min(ss, 59) * ms_per_second;
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        int ms = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) ms = ms * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int k = digits; k < 3; ++k) ms *= 10;
        t += ms;
    }
    if (pos == s.size()) return std::nullopt;  // RFC 3339 requires a zone
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return t;
    if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
    int oh = 0, om = 0;
    if (!read_int(s, pos + 1, 2, oh) || pos + 6 != s.size() || s[pos + 3] != ':' || !read_int(s, pos + 4, 2, om)) {
        return std::nullopt;
    }
    const Timestamp offset = oh * ms_per_hour + om * ms_per_minute;
    return s[pos] == '+' ? t - offset : t + offset;
}

CivilDate civil_date(Timestamp t, Timestamp utc_offset) { return civil_from_days(floor_div(t + utc_offset, ms_per_day)); }

Timestamp start_of_day(CivilDate d, Timestamp utc_offset) {
    return days_from_civil(d.year, d.month, d.day) * ms_per_day - utc_offset;
}

int weekday(CivilDate d) {
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    const std::int64_t days = days_from_civil(d.year, d.month, d.day);
    return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

CivilDate add_days(CivilDate d, int days) { return civil_from_days(days_from_civil(d.year, d.month, d.day) + days); }

std::string format_date(CivilDate d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buf;
}

std::optional<CivilDate> parse_date(std::string_view text) {
    if (text.size() != 10) return std::nullopt;
    int y = 0, m = 0, d = 0;
    if (!read_int(text, 0, 4, y) || text[4] != '-' || !read_int(text, 5, 2, m) || text[7] != '-' ||
        !read_int(text, 8, 2, d)) {
        return std::nullopt;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
    return CivilDate{y, m, d};
}

}  // namespace onegrid::core
