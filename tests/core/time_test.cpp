#include <gtest/gtest.h>

#include "core/ids.h"
#include "core/time.h"

namespace th {
namespace {

constexpr int64_t kSecond = 1'000'000'000LL;

TEST(ExchangeTime, OpenIsFourteenThirtyUtcInWinterAndThirteenThirtyInSummer) {
  // 2026-11-20 09:30 EST = 14:30 UTC; 2026-07-15 09:30 EDT = 13:30 UTC.
  EXPECT_EQ(formatUtc(fromExchangeTime(20261120, 9, 30)), "2026-11-20T14:30:00.000Z");
  EXPECT_EQ(formatUtc(fromExchangeTime(20260715, 9, 30)), "2026-07-15T13:30:00.000Z");
}

TEST(ExchangeTime, DstTransitionDays) {
  // The first sessions after the switches: 2026-03-09 (EDT) and 2026-11-02 (EST).
  EXPECT_EQ(formatUtc(fromExchangeTime(20260306, 9, 30)), "2026-03-06T14:30:00.000Z");
  EXPECT_EQ(formatUtc(fromExchangeTime(20260309, 9, 30)), "2026-03-09T13:30:00.000Z");
  EXPECT_EQ(formatUtc(fromExchangeTime(20261030, 9, 30)), "2026-10-30T13:30:00.000Z");
  EXPECT_EQ(formatUtc(fromExchangeTime(20261102, 9, 30)), "2026-11-02T14:30:00.000Z");
}

TEST(ExchangeTime, RoundTripsAndFormatsWithOffset) {
  int64_t t = fromExchangeTime(20261120, 15, 59, 30);
  auto local = toExchangeTime(t);
  EXPECT_EQ(local.yyyymmdd, 20261120);
  EXPECT_EQ(local.minute_of_day, 15 * 60 + 59);
  EXPECT_EQ(local.second, 30);
  EXPECT_EQ(formatExchangeTime(t), "2026-11-20T15:59:30-05:00");
  EXPECT_EQ(formatExchangeTime(fromExchangeTime(20260715, 9, 30)), "2026-07-15T09:30:00-04:00");
  // 20:30 EST is already the next day in UTC, but still the 20th in New York.
  EXPECT_EQ(exchangeDate(fromExchangeTime(20261120, 20, 30)), 20261120);
}

TEST(ExchangeTime, LocalTimeIsRightAcrossTheSwitchesWhateverTheOrderOfCalls) {
  // 2026-11-01: 01:30 EDT is 05:30 UTC, and an hour later the clocks read 01:30 EST again (06:30 UTC).
  const int64_t utc_0530 = fromExchangeTime(20261101, 0, 0) + (5 * 3600 + 30 * 60 - 4 * 3600) * kSecond;
  for (int round = 0; round < 2; ++round) {  // back and forth: the per-thread span must not stick
    auto first = toExchangeTime(utc_0530);
    auto second = toExchangeTime(utc_0530 + 3600 * kSecond);
    EXPECT_EQ(first.yyyymmdd, 20261101);
    EXPECT_EQ(first.minute_of_day, 90);
    EXPECT_EQ(second.yyyymmdd, 20261101);
    EXPECT_EQ(second.minute_of_day, 90) << "01:30 again, in standard time";
    auto summer = toExchangeTime(fromExchangeTime(20260715, 9, 30));
    EXPECT_EQ(summer.minute_of_day, 9 * 60 + 30);
    auto winter = toExchangeTime(fromExchangeTime(20261120, 16, 0));
    EXPECT_EQ(winter.yyyymmdd, 20261120);
    EXPECT_EQ(winter.minute_of_day, 16 * 60);
  }
  // 2026-03-08: 01:59:59 EST is followed by 03:00:00 EDT.
  const int64_t before = fromExchangeTime(20260308, 1, 59, 59);
  EXPECT_EQ(toExchangeTime(before + kSecond).minute_of_day, 3 * 60);
  EXPECT_EQ(toExchangeTime(before).minute_of_day, 119);
  // The printed time carries the offset of its own side of each switch.
  EXPECT_EQ(formatExchangeTime(before), "2026-03-08T01:59:59-05:00");
  EXPECT_EQ(formatExchangeTime(before + kSecond), "2026-03-08T03:00:00-04:00");
  EXPECT_EQ(formatExchangeTime(utc_0530), "2026-11-01T01:30:00-04:00");
  EXPECT_EQ(formatExchangeTime(utc_0530 + 3600 * kSecond), "2026-11-01T01:30:00-05:00");
  EXPECT_EQ(formatExchangeTime(utc_0530 + 999'999'999), "2026-11-01T01:30:00-04:00") << "seconds are floored";
}

TEST(ParseTime, AcceptsDatesExchangeTimesAndOffsets) {
  EXPECT_EQ(*parseTime("2026-11-20"), fromExchangeTime(20261120, 9, 30));
  EXPECT_EQ(*parseTime("2026-11-20T10:15"), fromExchangeTime(20261120, 10, 15));
  EXPECT_EQ(*parseTime("2026-11-20T10:15:07"), fromExchangeTime(20261120, 10, 15, 7));
  EXPECT_EQ(*parseTime("2026-11-20T15:15:00Z"), fromExchangeTime(20261120, 10, 15));
  EXPECT_EQ(*parseTime("2026-11-20T10:15:00-05:00"), fromExchangeTime(20261120, 10, 15));
  EXPECT_EQ(*parseTime("2026-11-20T16:15:00+01:00"), fromExchangeTime(20261120, 10, 15));
  EXPECT_EQ(*parseTime("2026-11-20T10:15:01-05:00") - *parseTime("2026-11-20T10:15:00-05:00"), kSecond);
}

TEST(ParseTime, RejectsMalformedText) {
  for (const char* bad : {"", "2026-13-01", "2026-11-20T25:00", "20261120", "2026-11-20T10:15+5", "tomorrow"}) {
    auto r = parseTime(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("bad time"), std::string::npos);
  }
}

TEST(Ids, ClientOrderIdsAreReadableAndOrdered) {
  EXPECT_EQ(makeClientOrderId("TH", 20261120, 42), "TH-20261120-000042");
  EXPECT_LT(makeClientOrderId("TH", 20261120, 9), makeClientOrderId("TH", 20261120, 10));
}

}  // namespace
}  // namespace th
