// Unit tests of plugins/synthetic/calendar.* and random.h: the holiday rules
// against the published NYSE table, New York time, and the portable math the
// determinism guarantee rests on.
#include "plugins/synthetic/calendar.h"

#include <gtest/gtest.h>

#include <cmath>

#include "plugins/synthetic/random.h"

namespace {

using namespace th::synthetic;

int64_t day(int y, int m, int d) { return daysFromCivil(y, m, d); }

TEST(SyntheticCalendarRules, ReproduceThePublishedTableExceptOneOffClosures) {
  // Years outside the table use the rules, so they must agree where both exist.
  for (int64_t d = day(2024, 1, 1); d <= day(2028, 12, 31); ++d) {
    bool one_off = d == day(2025, 1, 9);  // National Day of Mourning, President Carter
    EXPECT_EQ(nyseRuleHoliday(d), nyseHoliday(d) && !one_off) << formatDate(d);
    EXPECT_EQ(nyseRuleEarlyClose(d), nyseEarlyClose(d)) << formatDate(d);
  }
}

TEST(SyntheticCalendarRules, KnownDatesOutsideTheTable) {
  EXPECT_TRUE(nyseHoliday(day(2023, 4, 7)));     // Good Friday 2023
  EXPECT_TRUE(nyseHoliday(day(2023, 1, 2)));     // New Year observed on Monday
  EXPECT_FALSE(nyseHoliday(day(2021, 12, 31)));  // no Friday closure for a Saturday New Year
  EXPECT_TRUE(nyseHoliday(day(2029, 11, 22)));   // Thanksgiving 2029
  EXPECT_TRUE(nyseEarlyClose(day(2029, 11, 23)));
  EXPECT_TRUE(nyseHoliday(day(2033, 12, 26)));  // Christmas on a Sunday, observed Monday
}

TEST(SyntheticEasternTime, OffsetsAndTheSwitchInstants) {
  constexpr int64_t kHour = 3600 * kNsPerSecond;
  // 2026-03-08 02:00 EST = 07:00 UTC: clocks jump to 03:00 EDT.
  EXPECT_EQ(easternOffsetNs(day(2026, 3, 8) * kNsPerDay + 7 * kHour - 1), -5 * kHour);
  EXPECT_EQ(easternOffsetNs(day(2026, 3, 8) * kNsPerDay + 7 * kHour), -4 * kHour);
  // 2026-11-01 02:00 EDT = 06:00 UTC: clocks fall back to 01:00 EST.
  EXPECT_EQ(easternOffsetNs(day(2026, 11, 1) * kNsPerDay + 6 * kHour - 1), -4 * kHour);
  EXPECT_EQ(easternOffsetNs(day(2026, 11, 1) * kNsPerDay + 6 * kHour), -5 * kHour);
  EXPECT_EQ(easternToUtcNs(day(2026, 7, 15), 9 * 60 + 30),
            day(2026, 7, 15) * kNsPerDay + 13 * kHour + 30 * 60 * kNsPerSecond);
  // 23:30 EST on the 16th is already the 17th in UTC.
  EXPECT_EQ(easternDay(day(2026, 11, 17) * kNsPerDay + 4 * kHour + 30 * 60 * kNsPerSecond), day(2026, 11, 16));
}

TEST(SyntheticDates, ParseOnlyRealDates) {
  EXPECT_EQ(parseDate("2026-11-16"), day(2026, 11, 16));
  EXPECT_FALSE(parseDate("2026-02-29"));
  EXPECT_TRUE(parseDate("2028-02-29"));
  EXPECT_FALSE(parseDate("2026-13-01"));
  EXPECT_FALSE(parseDate("2026-1-01"));
  EXPECT_FALSE(parseDate("1999-01-01"));
  EXPECT_EQ(formatDate(day(2026, 3, 9)), "2026-03-09");
  EXPECT_EQ(weekday(day(2026, 11, 20)), 5);
}

TEST(SyntheticMath, PortableExpAndLogMatchLibmClosely) {
  for (double x = -30.0; x <= 30.0; x += 0.0137) {
    EXPECT_NEAR(portableExp(x), std::exp(x), 4e-15 * std::exp(x)) << x;
  }
  for (double x = 1e-9; x < 1e9; x *= 1.37) {
    EXPECT_NEAR(portableLog(x), std::log(x), 4e-15 * std::max(1.0, std::abs(std::log(x)))) << x;
  }
}

TEST(SyntheticMath, NormalSamplerHasUnitMoments) {
  Rng rng(12345);
  double sum = 0, squares = 0;
  const int n = 200'000;
  for (int i = 0; i < n; ++i) {
    double z = rng.normal();
    sum += z;
    squares += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(squares / n, 1.0, 0.01);
  // Poisson counts have the requested mean on both sides of the method switch.
  for (double mean : {3.0, 60.0}) {
    double total = 0;
    for (int i = 0; i < 50'000; ++i) total += static_cast<double>(rng.poisson(mean));
    EXPECT_NEAR(total / 50'000, mean, 0.02 * mean);
  }
}

}  // namespace
