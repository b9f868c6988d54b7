// The chart invariant, tested the way the old charts broke: many random
// days and symbols, timeframes opened and switched in random order while
// the feed runs, history answered at random moments. Whatever happens, the
// 1-minute series equals the one built from the whole tape, and every
// candle of every timeframe is exactly the fold of its minutes.
#include <gtest/gtest.h>

#include <random>

#include "chart/chart_support.h"

namespace th::test {
namespace {

const std::vector<int32_t> kDates = {
    20260102, 20260309, 20260310, 20260406, 20260630, 20260703, 20260918,
    20261102, 20261120, 20261124, 20261127, 20261224, 20261231,
};

struct TapeRun {
  std::vector<TradeEvent> tape;
  std::vector<std::string> symbols;
};

// Replays a tape through a hub, doing random chart-client things between
// trades. `eager` opens every timeframe before the first trade instead.
void replay(ChartHub& hub, FakeChartHost& host, const TapeRun& run, std::mt19937_64& rng, bool eager) {
  std::uniform_real_distribution<double> unit(0, 1);
  host.now = run.tape.front().ts_ns - 10 * kMinute;
  for (const auto& s : run.symbols) {
    hub.track(s);
    if (eager) {
      for (auto timeframe : kAllTimeframes) hub.series(s, timeframe);
    }
  }
  int64_t last_tick = host.now;
  std::vector<std::pair<std::string, Timeframe>> watching;
  for (const auto& t : run.tape) {
    host.now = t.ts_ns;
    if (host.now - last_tick >= 5 * kSecond) {
      hub.tick();
      last_tick = host.now;
    }
    if (!eager) {
      double roll = unit(rng);
      const auto& s = run.symbols[rng() % run.symbols.size()];
      auto timeframe = kAllTimeframes[rng() % kTimeframeCount];
      if (roll < 0.002) {
        hub.series(s, timeframe);  // a chart switched to this timeframe
      } else if (roll < 0.003) {
        hub.watch(s, timeframe, 300);
        watching.emplace_back(s, timeframe);
      } else if (roll < 0.004 && !watching.empty()) {
        size_t i = rng() % watching.size();
        hub.unwatch(watching[i].first, watching[i].second);
        watching.erase(watching.begin() + static_cast<long>(i));
      }
    }
    if (unit(rng) < 0.01) hub.takeUpdates();
    if (unit(rng) < 0.002) host.answerAll(hub, run.tape);
    hub.onTrade(t);
  }
  host.now = run.tape.back().ts_ns + 2 * 3600 * kSecond;
  hub.tick();
  host.answerAll(hub, run.tape);
  hub.tick();
  hub.takeUpdates();
}

class ChartInvariant : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ChartInvariant, EveryTimeframeIsTheFoldOfItsMinutesWhateverTheOrder) {
  std::mt19937_64 rng(GetParam());
  TapeRun run;
  run.symbols = {"AAA", "BBB", "CCC"};
  run.tape = randomTape(rng, SessionCalendar::builtin(), kDates, run.symbols);
  ASSERT_GT(run.tape.size(), 10'000u);

  ChartOptions options;
  options.capacity = 8000;  // every minute of the run stays in the series
  options.provider = "tape";
  FakeChartHost lazy_host, eager_host;
  ChartHub lazy(options, SessionCalendar::builtin(), lazy_host);
  ChartHub eager(options, SessionCalendar::builtin(), eager_host);
  replay(lazy, lazy_host, run, rng, false);
  replay(eager, eager_host, run, rng, true);

  for (const auto& s : run.symbols) {
    auto reference = referenceMinutes(run.tape, s, lazy.periods());
    expectMinutesEqual(lazy, s, reference, INT64_MIN, INT64_MAX);
    EXPECT_GT(expectInvariant(lazy, s), 1000u);
    expectInvariant(eager, s);
    // Opening timeframes late or early makes no difference, candle for candle.
    for (auto timeframe : kAllTimeframes) {
      const CandleSeries& a = lazy.series(s, timeframe);
      const CandleSeries& b = eager.series(s, timeframe);
      ASSERT_EQ(a.size(), b.size()) << s << " " << timeframeName(timeframe);
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(a.at(i).sameValues(b.at(i)))
            << s << " " << timeframeName(timeframe) << " " << formatExchangeTime(a.at(i).start_ns);
        // Long after the end, with the feed whole from the start, nothing is partial.
        EXPECT_TRUE(a.at(i).final()) << s << " " << timeframeName(timeframe) << " "
                                     << formatExchangeTime(a.at(i).start_ns) << " is not final";
      }
    }
    EXPECT_EQ(lazy.health(s).state, SeriesState::Live);
  }
  // Trades outside regular hours are not charted by default.
  EXPECT_GT(lazy.stats().outside_session, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ChartInvariant, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

TEST(ChartInvariant, HoldsWithExtendedHoursKept) {
  std::mt19937_64 rng(99);
  TapeRun run;
  run.symbols = {"EXT"};
  run.tape = randomTape(rng, SessionCalendar::builtin(), {20261127, 20261130, 20260309}, run.symbols);
  ChartOptions options;
  options.capacity = 8000;
  options.outside = OutsideSession::Keep;
  FakeChartHost host;
  ChartHub hub(options, SessionCalendar::builtin(), host);
  replay(hub, host, run, rng, false);
  auto reference = referenceMinutes(run.tape, "EXT", hub.periods());
  expectMinutesEqual(hub, "EXT", reference, INT64_MIN, INT64_MAX);
  expectInvariant(hub, "EXT");
  EXPECT_EQ(hub.stats().outside_session, 0u);
  // Pre-market minutes are charted in 5m, but never in the daily candle.
  const CandleSeries& five = hub.series("EXT", Timeframe::M5);
  EXPECT_TRUE(five.find(at(20261130, 9, 15)).has_value());
  const CandleSeries& daily = hub.series("EXT", Timeframe::D1);
  ASSERT_EQ(daily.size(), 3u);
  for (size_t i = 0; i < daily.size(); ++i) {
    auto session = SessionCalendar::builtin().sessionOnDateOf(daily.at(i).start_ns);
    ASSERT_TRUE(session);
    EXPECT_EQ(daily.at(i).start_ns, session->open_ns);
    Candle fold{};
    bool any = false;
    for (auto& [start, candle] : reference) {
      if (start < session->open_ns || start >= session->close_ns) continue;
      if (any) {
        combine(fold, candle);
      } else {
        fold = candle;
        any = true;
      }
    }
    fold.start_ns = session->open_ns;
    EXPECT_TRUE(daily.at(i).sameValues(fold)) << formatExchangeTime(session->open_ns);
  }
}

// A watched symbol's derived series follow every trade; an unwatched one's
// catch up when read. Fed the same tape, with history and ticks, read at
// random moments or not at all, they hold the same candles and flags.
class WatchedOrNot : public ::testing::TestWithParam<size_t> {};

TEST_P(WatchedOrNot, DerivedSeriesAreTheSameCandleForCandle) {
  std::mt19937_64 rng(GetParam());
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::string> symbols = {"AAA", "BBB"};
  auto tape = randomTape(rng, SessionCalendar::builtin(), {20261116, 20261117, 20261127}, symbols);
  ChartOptions options;
  options.capacity = GetParam();  // small ones drop minutes while catching up is due
  FakeChartHost watched_host, read_host;
  ChartHub watched(options, SessionCalendar::builtin(), watched_host);
  ChartHub read(options, SessionCalendar::builtin(), read_host);
  watched_host.now = read_host.now = tape.front().ts_ns - 10 * kMinute;
  for (const auto& s : symbols) {
    watched.track(s);
    read.track(s);
    for (auto timeframe : kAllTimeframes) {
      watched.watch(s, timeframe, 10);
      read.series(s, timeframe);
    }
  }
  int64_t last_tick = watched_host.now;
  for (const auto& t : tape) {
    watched_host.now = read_host.now = t.ts_ns;
    if (t.ts_ns - last_tick >= 5 * kSecond) {
      watched.tick();
      read.tick();
      last_tick = t.ts_ns;
    }
    if (unit(rng) < 0.003) {
      watched_host.answerAll(watched, tape);
      read_host.answerAll(read, tape);
    }
    if (unit(rng) < 0.0005) read.series(symbols[rng() % symbols.size()], kAllTimeframes[rng() % kTimeframeCount]);
    if (unit(rng) < 0.01) watched.takeUpdates();
    watched.onTrade(t);
    read.onTrade(t);
  }
  watched_host.now = read_host.now = tape.back().ts_ns + 3600 * kSecond;
  watched.tick();
  read.tick();
  for (const auto& s : symbols) {
    for (auto timeframe : kAllTimeframes) {
      const CandleSeries& a = watched.series(s, timeframe);
      const CandleSeries& b = read.series(s, timeframe);
      ASSERT_EQ(a.size(), b.size()) << s << " " << timeframeName(timeframe);
      for (size_t i = 0; i < a.size(); ++i) {
        Candle x = a.at(i), y = b.at(i);
        EXPECT_TRUE(x.sameValues(y) && x.flags == y.flags)
            << s << " " << timeframeName(timeframe) << " " << formatExchangeTime(x.start_ns);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Capacities, WatchedOrNot, ::testing::Values(60, 400, 4000));

TEST(ChartHub, NamesLongerThanASymbolAreKeptApart) {
  FakeChartHost host;
  ChartHub hub(ChartOptions{}, SessionCalendar::builtin(), host);
  host.now = at(20261117, 9, 40);
  std::string common(31, 'X');
  hub.track(common + "1");
  hub.track(common + "2");
  hub.track(common);
  EXPECT_EQ(hub.symbols().size(), 3u);
  EXPECT_TRUE(hub.knows(common + "2"));
  EXPECT_FALSE(hub.knows(common + "3"));
  // An event carries at most 31 characters: it is about the short name.
  hub.onTrade(trade(common + "1", host.now, 10, 1));
  EXPECT_EQ(hub.series(common, Timeframe::M1).size(), 1u);
  EXPECT_TRUE(hub.series(common + "1", Timeframe::M1).empty());
}

}  // namespace
}  // namespace th::test
