#include <gtest/gtest.h>

#include "onegrid/core/time.hpp"

using namespace onegrid::core;

TEST(Time, FormatsAndParsesIso8601) {
    EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
    const Timestamp t = 1'772'352'000'123;  // 2026-03-01T08:00:00.123Z
    EXPECT_EQ(format_iso8601(t), "2026-03-01T08:00:00.123Z");
    EXPECT_EQ(parse_iso8601("2026-03-01T08:00:00.123Z"), t);
    EXPECT_EQ(parse_iso8601("2026-03-01T16:00:00.123+08:00"), t);
    EXPECT_EQ(parse_iso8601("2026-03-01T08:00:00.123456Z"), t);
    EXPECT_EQ(parse_iso8601("2026-03-01"), t - 8 * ms_per_hour - 123);
    EXPECT_FALSE(parse_iso8601("2026-02-30"));
    EXPECT_FALSE(parse_iso8601("2026-03-01T08:00:00"));  // no zone
    EXPECT_FALSE(parse_iso8601("yesterday"));
    EXPECT_FALSE(parse_iso8601("2026-13-01"));
    EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, CivilDatesInChinaStandardTime) {
    // 2026-03-01T17:00Z is already 2 March in Beijing.
    const Timestamp t = *parse_iso8601("2026-03-01T17:00:00Z");
    EXPECT_EQ(civil_date(t), (CivilDate{2026, 3, 2}));
    EXPECT_EQ(start_of_day({2026, 3, 2}), *parse_iso8601("2026-03-01T16:00:00Z"));
    EXPECT_EQ(weekday({2026, 11, 29}), 6);  // a Sunday
    EXPECT_EQ(weekday({2026, 11, 30}), 0);  // a Monday
    EXPECT_EQ(add_days({2026, 12, 31}, 1), (CivilDate{2027, 1, 1}));
    EXPECT_EQ(add_days({2028, 3, 1}, -1), (CivilDate{2028, 2, 29}));
    EXPECT_EQ(format_date({2026, 1, 5}), "2026-01-05");
    EXPECT_EQ(parse_date("2026-01-05"), (CivilDate{2026, 1, 5}));
    EXPECT_FALSE(parse_date("2026-1-5"));
}
