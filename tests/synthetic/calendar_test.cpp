// Unit tests of plugins/synthetic/calendar.* and random.h: civil dates and
// the portable math the determinism guarantee rests on. Sessions come from
// the host's calendar, tested through the plugin (synthetic_test.cpp).
#include "plugins/synthetic/calendar.h"

#include <gtest/gtest.h>

#include <cmath>

#include "plugins/synthetic/random.h"

namespace {

using namespace th::synthetic;

int64_t day(int y, int m, int d) { return daysFromCivil(y, m, d); }

TEST(SyntheticDates, ParseOnlyRealDates) {
  EXPECT_EQ(parseDate("2026-11-16"), day(2026, 11, 16));
  EXPECT_FALSE(parseDate("2026-02-29"));
  EXPECT_TRUE(parseDate("2028-02-29"));
  EXPECT_FALSE(parseDate("2026-13-01"));
  EXPECT_FALSE(parseDate("2026-1-01"));
  EXPECT_FALSE(parseDate("1989-12-29"));
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
