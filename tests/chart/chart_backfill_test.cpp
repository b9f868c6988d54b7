// History against the live series: the race that broke the old charts,
// the merge rules one by one, gaps and single-flight backfill, health.
#include <gtest/gtest.h>

#include <random>

#include "chart/chart_support.h"
#include "th/plugin.h"

namespace th::test {
namespace {

constexpr int32_t kDay = 20261117;

// One symbol trading every ~2 seconds all session.
std::vector<TradeEvent> busyTape(uint64_t seed, int32_t date = kDay) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<TradeEvent> tape;
  auto session = SessionCalendar::builtin().sessionOn(date);
  double price = 590;
  for (int64_t ts = session->open_ns + 300'000'000; ts < session->close_ns;
       ts += static_cast<int64_t>((0.5 + 3 * unit(rng)) * kSecond)) {
    price = std::round((price + (unit(rng) - 0.5) * 0.2) * 100) / 100;
    tape.push_back(trade("SPY", ts, price, std::round((1 + unit(rng) * 500) * 10) / 10));
  }
  return tape;
}

ChartOptions options() {
  ChartOptions o;
  o.capacity = 2000;
  o.provider = "test";
  return o;
}

// Feeds the tape's trades in [from, to) with the clock following them and
// ticking every second of tape time.
void feed(ChartHub& hub, FakeChartHost& host, const std::vector<TradeEvent>& tape, int64_t from, int64_t to) {
  for (const auto& t : tape) {
    if (t.ts_ns < from || t.ts_ns >= to) continue;
    if (t.ts_ns - host.now >= kSecond) {
      host.now = t.ts_ns;
      hub.tick();
    }
    host.now = t.ts_ns;
    hub.onTrade(t);
  }
  host.now = std::max(host.now, to);
  hub.tick();
}

TEST(ChartBackfill, SlowOverlappingHistoryNeitherLosesNorReplacesLiveCandles) {
  auto tape = busyTape(11);
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  // The chart opens at 10:00:20: live trades from then on, and a history
  // request for the session so far that the provider is slow to answer.
  host.now = at(kDay, 10, 0, 20);
  hub.track("SPY");
  for (auto timeframe : kAllTimeframes) hub.watch("SPY", timeframe, 500);
  ASSERT_EQ(host.pending.size(), 1u);
  EXPECT_EQ(host.pending[0].from_ns, at(kDay, 9, 30));
  EXPECT_EQ(host.pending[0].to_ns, at(kDay, 10, 0));
  feed(hub, host, tape, at(kDay, 10, 0, 20), at(kDay, 10, 3, 30));

  // A second, overlapping request from a chart scrolled back: it joins.
  int answered = 0;
  hub.ensureHistory("SPY", at(kDay, 9, 45), [&](Result<void> ok) { answered += ok ? 1 : 0; });
  EXPECT_EQ(hub.stats().backfill_joined, 1u);
  // The 10:00 minute was seen in part: it is asked for again, whole.
  ASSERT_EQ(host.pending.size(), 2u);
  EXPECT_EQ(host.pending[1].from_ns, at(kDay, 10, 0));
  EXPECT_EQ(host.pending[1].to_ns, at(kDay, 10, 1));
  std::optional<Candle> partial = hub.series("SPY", Timeframe::M1).find(at(kDay, 10, 0));
  ASSERT_TRUE(partial.has_value());
  EXPECT_FALSE(partial->final());

  // A provider that also serves the minute in progress answers an extra
  // request at 10:03:30 with partial candles for 10:00-10:03.
  FakeChartHost::Request stale{999'999, "SPY", at(kDay, 9, 30), at(kDay, 10, 4), at(kDay, 10, 3, 30)};
  std::vector<Candle> in_progress;
  for (auto& [start, candle] : referenceMinutes(tape, "SPY", hub.periods(), stale.asked_at_ns)) {
    Candle c = candle;
    // The last minute has not ended: the provider says so.
    if (start + kMinute > stale.asked_at_ns) c.flags = 0;
    if (start >= at(kDay, 10, 1)) in_progress.push_back(c);
  }
  feed(hub, host, tape, at(kDay, 10, 3, 30), at(kDay, 10, 7));

  // Now, at 10:07, the slow answers arrive, the oldest last.
  auto slow = host.pending;
  host.pending.clear();
  hub.historyArrived(slow[1].id, FakeChartHost::answerFrom(tape, slow[1], hub.periods()));
  hub.historyArrived(slow[0].id, FakeChartHost::answerFrom(tape, slow[0], hub.periods()));
  EXPECT_EQ(answered, 1);
  // A late, partial copy of minutes the live feed saw whole changes nothing.
  auto before = hub.stats().history_kept_live;
  for (const Candle& c : in_progress) {
    Candle history = c;
    history.flags |= kCandleHistory;
    BarEvent bar;
    bar.symbol = Symbol("SPY");
    bar.flags = TH_BAR_HISTORY | ((c.flags & kCandleFinal) ? TH_BAR_FINAL : 0);
    bar.start_ns = c.start_ns;
    bar.duration_ns = kMinute;
    bar.open = c.open;
    bar.high = c.high;
    bar.low = c.low;
    bar.close = c.close;
    bar.volume = c.volume * 0.5;  // and smaller, as an in-progress copy would be
    bar.trade_count = c.trades;
    hub.onBar(bar);
  }
  EXPECT_EQ(hub.stats().history_kept_live, before + in_progress.size());

  feed(hub, host, tape, at(kDay, 10, 7), at(kDay, 11, 0));
  host.answerAll(hub, tape);
  hub.tick();

  auto reference = referenceMinutes(tape, "SPY", hub.periods());
  expectMinutesEqual(hub, "SPY", reference, at(kDay, 9, 30), at(kDay, 10, 59));
  expectInvariant(hub, "SPY");
  // The minutes before the chart opened are history; the rest are live.
  const CandleSeries& minutes = hub.series("SPY", Timeframe::M1);
  EXPECT_TRUE(minutes.find(at(kDay, 9, 59))->history());
  EXPECT_TRUE(minutes.find(at(kDay, 10, 0))->history());  // repaired
  EXPECT_TRUE(minutes.find(at(kDay, 10, 1))->live());
  EXPECT_EQ(hub.series("SPY", Timeframe::M30).find(at(kDay, 10, 0))->flags & (kCandleLive | kCandleHistory),
            kCandleLive | kCandleHistory);
  EXPECT_EQ(hub.health("SPY").state, SeriesState::Live);
}

TEST(ChartBackfill, MergeRules) {
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kDay, 9, 35, 30);
  hub.track("SPY");
  host.pending.clear();
  auto bar = [](int64_t start, double close, double volume, uint32_t flags) {
    BarEvent b;
    b.symbol = Symbol("SPY");
    b.flags = flags;
    b.start_ns = start;
    b.duration_ns = kMinute;
    b.open = b.high = b.low = b.close = close;
    b.volume = volume;
    return b;
  };
  // Live trades: 09:35 seen whole? No: the chart opened at 09:35:30.
  hub.onTrade(trade("SPY", at(kDay, 9, 35, 40), 100, 10));
  host.now = at(kDay, 9, 36, 5);
  hub.onTrade(trade("SPY", at(kDay, 9, 36, 5), 101, 10));
  host.now = at(kDay, 9, 37, 1);
  hub.onTrade(trade("SPY", at(kDay, 9, 37, 1), 102, 10));
  const CandleSeries& minutes = hub.series("SPY", Timeframe::M1);

  // Final live candle (09:36): history never replaces it, even a bigger one.
  hub.onBar(bar(at(kDay, 9, 36), 50, 1000, TH_BAR_HISTORY | TH_BAR_FINAL));
  EXPECT_EQ(minutes.find(at(kDay, 9, 36))->close, 101);
  // Partial live candle (09:35): a smaller history candle does not replace it...
  hub.onBar(bar(at(kDay, 9, 35), 60, 5, TH_BAR_HISTORY | TH_BAR_FINAL));
  EXPECT_EQ(minutes.find(at(kDay, 9, 35))->close, 100);
  // ...one at least as complete does.
  hub.onBar(bar(at(kDay, 9, 35), 99.5, 10, TH_BAR_HISTORY | TH_BAR_FINAL));
  EXPECT_EQ(minutes.find(at(kDay, 9, 35))->close, 99.5);
  EXPECT_TRUE(minutes.find(at(kDay, 9, 35))->final());
  // The open minute (09:37) is replaced only by a final candle.
  hub.onBar(bar(at(kDay, 9, 37), 70, 100, TH_BAR_HISTORY));
  EXPECT_EQ(minutes.find(at(kDay, 9, 37))->close, 102);
  // A missing minute is simply inserted.
  hub.onBar(bar(at(kDay, 9, 31), 98, 7, TH_BAR_HISTORY | TH_BAR_FINAL));
  EXPECT_EQ(minutes.find(at(kDay, 9, 31))->close, 98);
  EXPECT_EQ(hub.stats().history_kept_live, 3u);
  expectInvariant(hub, "SPY");
}

TEST(ChartBackfill, GapsAreDetectedAndFilledBySingleFlightRequests) {
  auto tape = busyTape(5);
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kDay, 9, 29);
  hub.track("SPY");
  host.answerAll(hub, tape);
  feed(hub, host, tape, at(kDay, 9, 29), at(kDay, 10, 10, 30));

  // The provider drops at 10:10:30 and is back at 10:14:10.
  hub.providerConnection(false, "socket closed");
  EXPECT_EQ(hub.health("SPY").state, SeriesState::Degraded);
  EXPECT_NE(hub.health("SPY").reason.find("socket closed"), std::string::npos);
  host.now = at(kDay, 10, 14, 10);
  hub.providerConnection(true, "");
  feed(hub, host, tape, at(kDay, 10, 14, 10), at(kDay, 10, 20));

  // One gap (10:11-10:14) and two minutes seen in part (10:10, 10:14).
  EXPECT_EQ(hub.health("SPY").gaps_detected, 1u);
  EXPECT_EQ(hub.stats().repairs, 2u);
  ASSERT_EQ(host.pending.size(), 3u);
  EXPECT_EQ(host.pending[1].from_ns, at(kDay, 10, 11));
  EXPECT_EQ(host.pending[1].to_ns, at(kDay, 10, 14));
  EXPECT_EQ(hub.health("SPY").state, SeriesState::Backfilling);
  EXPECT_FALSE(hub.series("SPY", Timeframe::M1).find(at(kDay, 10, 12)).has_value());

  // Three charts ask for the morning at once: one request.
  auto requests = hub.stats().backfill_requests;
  int ready = 0;
  for (int i = 0; i < 3; ++i) hub.ensureHistory("SPY", at(kDay, 9, 30), [&](Result<void>) { ++ready; });
  EXPECT_EQ(hub.stats().backfill_requests, requests);  // covered by the initial backfill already
  EXPECT_EQ(ready, 3);
  hub.ensureHistory("SPY", at(kDay, 9, 0), [&](Result<void>) { ++ready; });
  hub.ensureHistory("SPY", at(kDay, 9, 0), [&](Result<void>) { ++ready; });
  EXPECT_EQ(ready, 5);  // the initial backfill reached back to yesterday's open

  // The gap request fails first: DEGRADED, and asked again later.
  auto gap = host.pending[1];
  host.pending.erase(host.pending.begin() + 1);
  hub.historyArrived(gap.id, fail(ErrorCode::Io, "provider timeout"));
  auto health = hub.health("SPY");
  EXPECT_EQ(health.state, SeriesState::Degraded);
  EXPECT_NE(health.reason.find("provider timeout"), std::string::npos);
  host.answerAll(hub, tape);
  host.now += 31 * kSecond;
  hub.tick();
  ASSERT_EQ(host.pending.size(), 1u);
  EXPECT_EQ(host.pending[0].from_ns, at(kDay, 10, 11));
  host.answerAll(hub, tape);
  hub.tick();

  EXPECT_EQ(hub.health("SPY").state, SeriesState::Live);
  EXPECT_EQ(hub.health("SPY").gaps_open, 0u);
  EXPECT_EQ(hub.stats().gaps_filled, 1u);
  auto reference = referenceMinutes(tape, "SPY", hub.periods());
  expectMinutesEqual(hub, "SPY", reference, at(kDay, 9, 30), at(kDay, 10, 19));
  expectInvariant(hub, "SPY");
}

TEST(ChartBackfill, StaleWhenTheFeedStopsDuringTheSession) {
  auto tape = busyTape(7);
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kDay, 9, 29);
  hub.track("SPY");
  host.answerAll(hub, tape);
  feed(hub, host, tape, at(kDay, 9, 29), at(kDay, 9, 40));
  EXPECT_EQ(hub.health("SPY").state, SeriesState::Live);
  host.now = at(kDay, 9, 43);
  hub.tick();
  auto health = hub.health("SPY");
  EXPECT_EQ(health.state, SeriesState::Stale);
  EXPECT_GE(health.age_ns, 180 * kSecond);
  // After the close, silence is normal.
  host.now = at(kDay, 16, 5);
  hub.tick();
  EXPECT_EQ(hub.health("SPY").state, SeriesState::Live);
}

TEST(ChartBackfill, EarlyCloseEndsTheDayAtOne) {
  constexpr int32_t kFriday = 20261127;
  std::mt19937_64 rng(3);
  auto tape = randomTape(rng, SessionCalendar::builtin(), {kFriday}, {"SPY"});
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kFriday, 9, 0);
  hub.track("SPY");
  feed(hub, host, tape, at(kFriday, 9, 0), at(kFriday, 14, 0));
  host.answerAll(hub, tape);
  hub.tick();
  const CandleSeries& hours = hub.series("SPY", Timeframe::H1);
  ASSERT_FALSE(hours.empty());
  EXPECT_EQ(hours.back().start_ns, at(kFriday, 12, 30));
  EXPECT_TRUE(hours.back().final());
  const CandleSeries& four = hub.series("SPY", Timeframe::H4);
  ASSERT_EQ(four.size(), 1u);
  EXPECT_EQ(four.back().start_ns, at(kFriday, 9, 30));
  const CandleSeries& daily = hub.series("SPY", Timeframe::D1);
  ASSERT_EQ(daily.size(), 1u);
  EXPECT_TRUE(daily.back().final());
  EXPECT_LT(hub.series("SPY", Timeframe::M1).back().start_ns, at(kFriday, 13, 0));
  EXPECT_GT(hub.stats().outside_session, 0u);  // the afternoon's trades
  expectInvariant(hub, "SPY");
}

TEST(ChartBackfill, MarkersComeBackWithTheSeriesAndInUpdates) {
  auto tape = busyTape(9);
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kDay, 9, 29);
  hub.track("SPY");
  host.answerAll(hub, tape);
  auto snapshot = hub.watch("SPY", Timeframe::M5, 100);
  EXPECT_NE(snapshot->find(R"("seq":0)"), std::string::npos);
  feed(hub, host, tape, at(kDay, 9, 29), at(kDay, 9, 45));
  auto updates = hub.takeUpdates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].topic, "SPY:5m");
  EXPECT_NE(updates[0].text->find(R"("seq":1)"), std::string::npos);

  Marker fill;
  fill.ts_ns = at(kDay, 9, 41, 12);
  fill.kind = MarkerKind::Fill;
  fill.price = 590.25;
  fill.text = "BUY 100 @ 590.25";
  fill.origin = "broker";
  fill.side = "buy";
  hub.addMarker("SPY", fill);
  Marker level;
  level.ts_ns = at(kDay, 9, 35);
  level.kind = MarkerKind::Level;
  level.price = 591;
  level.text = "ORB high";
  level.origin = "orb";
  hub.addMarker("SPY", level);
  auto marks = hub.markers("SPY", at(kDay, 9, 30), at(kDay, 10, 0));
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks[0].text, "ORB high");  // in time order
  EXPECT_EQ(marks[1].kind, MarkerKind::Fill);
  EXPECT_TRUE(hub.markers("SPY", at(kDay, 9, 42), at(kDay, 10, 0)).empty());
  updates = hub.takeUpdates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_NE(updates[0].text->find(R"("seq":2)"), std::string::npos);
  EXPECT_NE(updates[0].text->find("BUY 100 @ 590.25"), std::string::npos);
  EXPECT_NE(hub.snapshot("SPY", Timeframe::M5, 100)->find("ORB high"), std::string::npos);
  // Nothing changed: no update, and no number used up.
  EXPECT_TRUE(hub.takeUpdates().empty());
  EXPECT_EQ(hub.sequence("SPY", Timeframe::M5), 2u);
}

TEST(ChartBackfill, HistoryThatFailsAtFirstIsAskedAgainUntilItArrives) {
  auto tape = busyTape(13);
  FakeChartHost host;
  ChartHub hub(options(), SessionCalendar::builtin(), host);
  host.now = at(kDay, 10, 30);
  hub.track("SPY");
  ASSERT_EQ(host.pending.size(), 1u);
  auto first = host.pending[0];
  host.pending.clear();
  hub.historyArrived(first.id, fail(ErrorCode::Io, "provider: connection reset"));
  auto health = hub.health("SPY");
  EXPECT_EQ(health.state, SeriesState::Degraded);
  EXPECT_NE(health.reason.find("connection reset"), std::string::npos);
  // Asked again after the retry interval, for the same range.
  host.now = at(kDay, 10, 30, 31);
  hub.tick();
  ASSERT_EQ(host.pending.size(), 1u);
  EXPECT_EQ(host.pending[0].from_ns, first.from_ns);
  EXPECT_EQ(host.pending[0].to_ns, first.to_ns);
  host.answerAll(hub, tape);
  hub.tick();
  EXPECT_EQ(hub.health("SPY").gaps_open, 0u);
  EXPECT_NE(hub.health("SPY").state, SeriesState::Degraded);
  auto reference = referenceMinutes(tape, "SPY", hub.periods());
  expectMinutesEqual(hub, "SPY", reference, at(kDay, 9, 30), at(kDay, 10, 30));
  // The morning is now known: a chart asking for it needs no new request.
  auto requests = hub.stats().backfill_requests;
  bool ready = false;
  hub.ensureHistory("SPY", at(kDay, 9, 30), [&](Result<void> ok) { ready = ok.has_value(); });
  EXPECT_TRUE(ready);
  EXPECT_EQ(hub.stats().backfill_requests, requests);
}

}  // namespace
}  // namespace th::test
