// Period alignment: 09:30-anchored, clipped at the open and the close,
// right on daylight-saving days and early closes.
#include "chart/periods.h"

#include <gtest/gtest.h>

#include "core/time.h"

namespace th {
namespace {

int64_t at(int32_t date, int h, int m, int s = 0) { return fromExchangeTime(date, h, m, s); }

Period expectPeriod(const PeriodMap& map, int64_t ts, Timeframe tf) {
  auto period = map.period(ts, tf);
  EXPECT_TRUE(period) << formatExchangeTime(ts) << " " << timeframeName(tf);
  return period.value_or(Period{});
}

TEST(Periods, AlignToTheOpenNotTheClockHour) {
  PeriodMap map(SessionCalendar::builtin(), OutsideSession::Drop);
  constexpr int32_t d = 20261117;
  EXPECT_EQ(expectPeriod(map, at(d, 9, 30), Timeframe::H1), (Period{at(d, 9, 30), at(d, 10, 30)}));
  EXPECT_EQ(expectPeriod(map, at(d, 10, 29, 59), Timeframe::H1), (Period{at(d, 9, 30), at(d, 10, 30)}));
  EXPECT_EQ(expectPeriod(map, at(d, 15, 45), Timeframe::H1), (Period{at(d, 15, 30), at(d, 16, 0)}));
  EXPECT_EQ(expectPeriod(map, at(d, 12, 0), Timeframe::H4), (Period{at(d, 9, 30), at(d, 13, 30)}));
  EXPECT_EQ(expectPeriod(map, at(d, 13, 30), Timeframe::H4), (Period{at(d, 13, 30), at(d, 16, 0)}));
  EXPECT_EQ(expectPeriod(map, at(d, 9, 44, 59), Timeframe::M15), (Period{at(d, 9, 30), at(d, 9, 45)}));
  EXPECT_EQ(expectPeriod(map, at(d, 9, 33), Timeframe::M3), (Period{at(d, 9, 33), at(d, 9, 36)}));
  EXPECT_EQ(expectPeriod(map, at(d, 11, 0), Timeframe::M30), (Period{at(d, 11, 0), at(d, 11, 30)}));
  EXPECT_EQ(expectPeriod(map, at(d, 14, 0), Timeframe::D1), (Period{at(d, 9, 30), at(d, 16, 0)}));
  EXPECT_EQ(expectPeriod(map, at(d, 9, 30, 59), Timeframe::M1), (Period{at(d, 9, 30), at(d, 9, 31)}));
}

TEST(Periods, DaylightSavingDaysKeepTheLocalOpen) {
  PeriodMap map(SessionCalendar::builtin(), OutsideSession::Drop);
  // The Monday after the spring change opens at 13:30 UTC, after the
  // autumn change at 14:30 UTC; the bars follow the local clock.
  auto spring = expectPeriod(map, at(20260309, 10, 0), Timeframe::H1);
  EXPECT_EQ(formatUtc(spring.start_ns), "2026-03-09T13:30:00.000Z");
  auto autumn = expectPeriod(map, at(20261102, 10, 0), Timeframe::H1);
  EXPECT_EQ(formatUtc(autumn.start_ns), "2026-11-02T14:30:00.000Z");
  EXPECT_EQ(expectPeriod(map, at(20261102, 15, 59), Timeframe::D1).end_ns, at(20261102, 16, 0));
  EXPECT_EQ(formatUtc(expectPeriod(map, at(20260306, 10, 0), Timeframe::D1).start_ns), "2026-03-06T14:30:00.000Z");
}

TEST(Periods, EarlyCloseClipsTheLastPeriods) {
  PeriodMap map(SessionCalendar::builtin(), OutsideSession::Drop);
  constexpr int32_t d = 20261127;
  EXPECT_EQ(expectPeriod(map, at(d, 12, 45), Timeframe::H1), (Period{at(d, 12, 30), at(d, 13, 0)}));
  EXPECT_EQ(expectPeriod(map, at(d, 12, 45), Timeframe::H4), (Period{at(d, 9, 30), at(d, 13, 0)}));
  EXPECT_EQ(expectPeriod(map, at(d, 10, 0), Timeframe::D1), (Period{at(d, 9, 30), at(d, 13, 0)}));
  EXPECT_FALSE(map.period(at(d, 13, 0), Timeframe::M1));
  EXPECT_FALSE(map.period(at(d, 14, 30), Timeframe::H1));
}

TEST(Periods, OutsideTheSessionDropOrKeep) {
  PeriodMap drop(SessionCalendar::builtin(), OutsideSession::Drop);
  PeriodMap keep(SessionCalendar::builtin(), OutsideSession::Keep);
  constexpr int32_t d = 20261117;
  EXPECT_FALSE(drop.period(at(d, 9, 29, 59), Timeframe::M1));
  EXPECT_FALSE(drop.period(at(d, 16, 0), Timeframe::M5));
  EXPECT_FALSE(drop.period(at(20261126, 11, 0), Timeframe::M1));  // Thanksgiving
  EXPECT_FALSE(drop.period(at(20261121, 11, 0), Timeframe::M1));  // Saturday
  // Kept: the 09:30 grid runs on, but no period straddles the open or close.
  EXPECT_EQ(expectPeriod(keep, at(d, 9, 0), Timeframe::H1), (Period{at(d, 8, 30), at(d, 9, 30)}));
  EXPECT_EQ(expectPeriod(keep, at(d, 9, 0), Timeframe::H4), (Period{at(d, 5, 30), at(d, 9, 30)}));
  EXPECT_EQ(expectPeriod(keep, at(d, 16, 10), Timeframe::H1), (Period{at(d, 16, 0), at(d, 16, 30)}));
  EXPECT_EQ(expectPeriod(keep, at(d, 23, 50), Timeframe::H1), (Period{at(d, 23, 30), at(d + 1, 0, 0)}));
  EXPECT_EQ(expectPeriod(keep, at(d, 0, 10), Timeframe::H4), (Period{at(d, 0, 0), at(d, 1, 30)}));
  EXPECT_FALSE(keep.period(at(d, 9, 0), Timeframe::D1));  // the daily candle is the session alone
  EXPECT_EQ(expectPeriod(keep, at(d, 9, 29), Timeframe::M5), (Period{at(d, 9, 25), at(d, 9, 30)}));
}

TEST(Periods, DaysAskedForInTurnGetTheirOwnPeriods) {
  // History for earlier sessions arrives between today's trades: the map
  // keeps a few days at hand, and must never answer with the wrong one.
  PeriodMap map(SessionCalendar::builtin(), OutsideSession::Keep);
  const int32_t dates[] = {20261117, 20261116, 20261127, 20261102, 20261030, 20261126, 20261117};
  for (int round = 0; round < 3; ++round) {
    for (int32_t date : dates) {
      for (int64_t ts :
           {at(date, 9, 30), at(date, 12, 59, 59), at(date, 15, 59, 59), at(date, 16, 0), at(date, 20, 0)}) {
        for (auto tf : kAllTimeframes) {
          PeriodMap fresh(SessionCalendar::builtin(), OutsideSession::Keep);
          EXPECT_EQ(map.period(ts, tf), fresh.period(ts, tf)) << formatExchangeTime(ts) << " " << timeframeName(tf);
        }
        PeriodMap fresh(SessionCalendar::builtin(), OutsideSession::Keep);
        EXPECT_EQ(map.minute(ts), fresh.period(ts, Timeframe::M1)) << formatExchangeTime(ts);
      }
    }
  }
}

TEST(Timeframes, NamesRoundTrip) {
  for (auto tf : kAllTimeframes) EXPECT_EQ(parseTimeframe(timeframeName(tf)), tf);
  EXPECT_FALSE(parseTimeframe("2m"));
  EXPECT_FALSE(parseTimeframe("1H"));
}

}  // namespace
}  // namespace th
