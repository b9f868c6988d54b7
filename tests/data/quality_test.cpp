// Data quality checks: each kind of issue is found and counted, the
// configured action decides whether the event is kept, and a normal market
// produces no false alarms.
#include "data/quality.h"

#include "core/time.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <th/plugin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

namespace th {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kMinute = 60'000 * kMs;
// Trades and bars are timed from 00:00 New York of a trading day (Tuesday
// 2026-11-17): a day without a session would drop them all.
const int64_t kDay = fromExchangeTime(20261117, 0, 0);

TradeEvent trade(std::string_view symbol, int64_t ts, double price, uint64_t sequence = 0) {
  TradeEvent t;
  t.symbol = Symbol(symbol);
  t.ts_ns = kDay + ts;
  t.price = price;
  t.size = 100;
  t.sequence = sequence;
  return t;
}

QuoteEvent quote(std::string_view symbol, int64_t ts, double bid, double ask) {
  QuoteEvent q;
  q.symbol = Symbol(symbol);
  q.ts_ns = ts;
  q.bid = bid;
  q.ask = ask;
  q.bid_size = q.ask_size = 100;
  return q;
}

BarEvent bar(std::string_view symbol, int64_t start, uint32_t flags) {
  BarEvent b;
  b.symbol = Symbol(symbol);
  b.start_ns = kDay + start;
  b.duration_ns = kMinute;
  b.flags = flags;
  b.open = b.high = b.low = b.close = 100;
  b.volume = 1000;
  return b;
}

SymbolQuality countsOf(const DataQuality& quality, std::string_view symbol) {
  for (auto& s : quality.snapshot().symbols) {
    if (s.symbol == symbol) return s;
  }
  ADD_FAILURE() << "no counts for " << symbol;
  return {};
}

uint64_t issueCount(const DataQuality& quality, std::string_view symbol, QualityIssue issue) {
  return countsOf(quality, symbol).issues[static_cast<size_t>(issue)];
}

TEST(DataQuality, IssueNamesAreTheConfigurationNames) {
  EXPECT_EQ(qualityIssueName(QualityIssue::OutOfOrder), "out_of_order");
  EXPECT_EQ(qualityIssueName(QualityIssue::Duplicate), "duplicate");
  EXPECT_EQ(qualityIssueName(QualityIssue::CrossedQuote), "crossed_quote");
  EXPECT_EQ(qualityIssueName(QualityIssue::StaleQuote), "stale_quote");
  EXPECT_EQ(qualityIssueName(QualityIssue::BadTick), "bad_tick");
}

TEST(DataQuality, OutOfOrderTradesAreDroppedByDefault) {
  DataQuality quality;
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1000, 100)).issues);
  auto late = quality.checkTrade(trade("SPY", 999, 100));
  EXPECT_TRUE(late.drop);
  EXPECT_TRUE(late.has(QualityIssue::OutOfOrder));
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1000, 100)).issues) << "an equal timestamp is in order";
  // Another symbol has its own clock.
  EXPECT_FALSE(quality.checkTrade(trade("QQQ", 500, 400)).issues);
  auto counts = countsOf(quality, "SPY");
  EXPECT_EQ(counts.events, 3u);
  EXPECT_EQ(counts.dropped, 1u);
  EXPECT_EQ(counts.flagged, 0u);
  EXPECT_EQ(counts.issues[static_cast<size_t>(QualityIssue::OutOfOrder)], 1u);
}

TEST(DataQuality, ProviderSequenceFindsDuplicatesAndReordering) {
  DataQuality quality;
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1000, 100, 7)).issues);
  auto again = quality.checkTrade(trade("SPY", 1000, 100, 7));
  EXPECT_TRUE(again.drop);
  EXPECT_EQ(again.issues, qualityIssueBit(QualityIssue::Duplicate));
  auto lower = quality.checkTrade(trade("SPY", 1001, 100, 6));
  EXPECT_TRUE(lower.drop);
  EXPECT_EQ(lower.issues, qualityIssueBit(QualityIssue::OutOfOrder));
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1001, 100, 8)).issues);
  // Sequence 0 means the provider does not number its trades.
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1002, 100, 0)).issues);
  EXPECT_FALSE(quality.checkTrade(trade("SPY", 1002, 100, 0)).issues);
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::Duplicate), 1u);
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::OutOfOrder), 1u);
}

TEST(DataQuality, FlagKeepsTheEventAndCountsIt) {
  QualityConfig config;
  config.out_of_order = QualityAction::Flag;
  DataQuality quality(config);
  quality.checkTrade(trade("SPY", 1000, 100));
  auto late = quality.checkTrade(trade("SPY", 900, 100));
  EXPECT_FALSE(late.drop);
  EXPECT_TRUE(late.has(QualityIssue::OutOfOrder));
  // The kept late trade does not move the clock back: 950 is still late.
  EXPECT_TRUE(quality.checkTrade(trade("SPY", 950, 100)).has(QualityIssue::OutOfOrder));
  auto counts = countsOf(quality, "SPY");
  EXPECT_EQ(counts.flagged, 2u);
  EXPECT_EQ(counts.dropped, 0u);
  auto snapshot = quality.snapshot();
  EXPECT_EQ(snapshot.actions[static_cast<size_t>(QualityIssue::OutOfOrder)], QualityAction::Flag);
  EXPECT_EQ(snapshot.flagged, 2u);
  EXPECT_EQ(snapshot.events, 3u);
}

TEST(DataQuality, CrossedQuotesAreFlaggedButLockedOnesAreNot) {
  DataQuality quality;
  int64_t now = 10'000 * kMs;
  auto crossed = quality.checkQuote(quote("SPY", now, 100.02, 100.00), now);
  EXPECT_FALSE(crossed.drop) << "crossed quotes are flagged by default";
  EXPECT_EQ(crossed.issues, qualityIssueBit(QualityIssue::CrossedQuote));
  EXPECT_FALSE(quality.checkQuote(quote("SPY", now, 100.00, 100.00), now).issues);
  EXPECT_FALSE(quality.checkQuote(quote("SPY", now, 0, 100.00), now).issues) << "a one-sided quote is not crossed";
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::CrossedQuote), 1u);
  EXPECT_EQ(countsOf(quality, "SPY").flagged, 1u);

  QualityConfig config;
  config.crossed_quote = QualityAction::Drop;
  DataQuality strict(config);
  EXPECT_TRUE(strict.checkQuote(quote("SPY", now, 100.02, 100.00), now).drop);
  EXPECT_EQ(countsOf(strict, "SPY").dropped, 1u);
}

TEST(DataQuality, StaleQuotesAreOlderThanTheLimit) {
  DataQuality quality;  // stale_quote_ms 5000
  int64_t now = 100'000 * kMs;
  EXPECT_FALSE(quality.checkQuote(quote("SPY", now - 5000 * kMs, 99, 100), now).issues) << "exactly at the limit";
  auto stale = quality.checkQuote(quote("SPY", now - 5001 * kMs, 99, 100), now);
  EXPECT_TRUE(stale.has(QualityIssue::StaleQuote));
  EXPECT_TRUE(stale.has(QualityIssue::OutOfOrder)) << "it is also older than the last accepted quote";
  EXPECT_TRUE(stale.drop) << "out of order drops by default";
  auto fresh_but_late = quality.checkQuote(quote("IWM", now - 6000 * kMs, 99, 100), now);
  EXPECT_FALSE(fresh_but_late.drop) << "stale alone is flagged by default";
  EXPECT_EQ(fresh_but_late.issues, qualityIssueBit(QualityIssue::StaleQuote));
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::StaleQuote), 1u);
  EXPECT_EQ(issueCount(quality, "IWM", QualityIssue::StaleQuote), 1u);
}

TEST(DataQuality, LiveBarsAreCheckedForOrderAndRepeatsHistoryIsNot) {
  DataQuality quality;
  EXPECT_FALSE(quality.checkBar(bar("SPY", 10 * kMinute, 0)).issues);
  EXPECT_FALSE(quality.checkBar(bar("SPY", 10 * kMinute, 0)).issues) << "a partial bar may be updated";
  EXPECT_FALSE(quality.checkBar(bar("SPY", 10 * kMinute, TH_BAR_FINAL)).issues) << "and then finalised";
  auto repeat = quality.checkBar(bar("SPY", 10 * kMinute, TH_BAR_FINAL));
  EXPECT_TRUE(repeat.drop);
  EXPECT_EQ(repeat.issues, qualityIssueBit(QualityIssue::Duplicate));
  auto earlier = quality.checkBar(bar("SPY", 9 * kMinute, TH_BAR_FINAL));
  EXPECT_EQ(earlier.issues, qualityIssueBit(QualityIssue::OutOfOrder));
  EXPECT_TRUE(earlier.drop);
  EXPECT_FALSE(quality.checkBar(bar("SPY", 11 * kMinute, 0)).issues);
  // Backfill arrives in any order and may overlap the live bars.
  EXPECT_FALSE(quality.checkBar(bar("SPY", 5 * kMinute, TH_BAR_FINAL | TH_BAR_HISTORY)).issues);
  EXPECT_FALSE(quality.checkBar(bar("SPY", 10 * kMinute, TH_BAR_FINAL | TH_BAR_HISTORY)).issues);
  auto counts = countsOf(quality, "SPY");
  EXPECT_EQ(counts.events, 8u);
  EXPECT_EQ(counts.dropped, 2u);
}

// 60 trades wandering between 99.9 and 100.1.
void feedNormalRange(DataQuality& quality, std::string_view symbol, int64_t& ts) {
  for (int i = 0; i < 60; ++i) {
    auto verdict = quality.checkTrade(trade(symbol, ts++, 100 + 0.1 * ((i % 5) - 2) / 2));
    ASSERT_FALSE(verdict.issues) << i;
  }
}

TEST(DataQuality, ABadTickIsAJumpAgainstTheRecentRange) {
  DataQuality quality;  // jump 10, window 50, min move 0.5%
  int64_t ts = 1;
  feedNormalRange(quality, "SPY", ts);
  // The range 99.9-100.1 is narrower than its floor, 0.5% of 100 = 0.5, so a
  // bad tick is more than 10 x 0.5 away from 100.
  EXPECT_FALSE(quality.checkTrade(trade("SPY", ts++, 104.9)).issues);
  auto spike = quality.checkTrade(trade("SPY", ts++, 160));
  EXPECT_TRUE(spike.drop);
  EXPECT_EQ(spike.issues, qualityIssueBit(QualityIssue::BadTick));
  EXPECT_TRUE(quality.checkTrade(trade("SPY", ts++, 0)).has(QualityIssue::BadTick)) << "a zero price";
  EXPECT_TRUE(quality.checkTrade(trade("SPY", ts++, -1)).has(QualityIssue::BadTick));
  EXPECT_FALSE(quality.checkTrade(trade("SPY", ts++, 100.05)).issues);
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::BadTick), 3u);
  EXPECT_EQ(countsOf(quality, "SPY").dropped, 3u);
}

TEST(DataQuality, NoBadTickUntilTheWindowHasAFewTrades) {
  DataQuality quality;
  int64_t ts = 1;
  for (double price : {100.0, 150.0, 90.0, 200.0}) {
    EXPECT_FALSE(quality.checkTrade(trade("NEW", ts++, price)).issues) << price;
  }
  EXPECT_FALSE(quality.checkTrade(trade("NEW", ts++, 120)).issues);
  EXPECT_TRUE(quality.checkTrade(trade("NEW", ts++, 10'000)).has(QualityIssue::BadTick));
}

TEST(DataQuality, AFlaggedBadTickIsKeptButDoesNotWidenTheRange) {
  QualityConfig config;
  config.bad_tick = QualityAction::Flag;
  DataQuality quality(config);
  int64_t ts = 1;
  feedNormalRange(quality, "SPY", ts);
  auto first = quality.checkTrade(trade("SPY", ts++, 160));
  EXPECT_FALSE(first.drop);
  EXPECT_TRUE(first.has(QualityIssue::BadTick));
  // Had 160 joined the range, 155 would be inside it.
  EXPECT_TRUE(quality.checkTrade(trade("SPY", ts++, 155)).has(QualityIssue::BadTick));
  EXPECT_FALSE(quality.checkTrade(trade("SPY", ts++, 100)).issues);
  EXPECT_EQ(countsOf(quality, "SPY").flagged, 2u);
}

TEST(DataQuality, APersistentNewLevelIsAcceptedAfterAFewOutliers) {
  DataQuality quality;
  int64_t ts = 1;
  feedNormalRange(quality, "SPY", ts);
  // A gap on reopening: the same new level again and again.
  for (uint32_t i = 1; i < DataQuality::kOutliersToReanchor; ++i) {
    EXPECT_TRUE(quality.checkTrade(trade("SPY", ts++, 130)).has(QualityIssue::BadTick)) << i;
  }
  EXPECT_FALSE(quality.checkTrade(trade("SPY", ts++, 130)).issues);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(quality.checkTrade(trade("SPY", ts++, 130 + 0.01 * i)).issues) << i;
  // The old level is now the jump.
  EXPECT_TRUE(quality.checkTrade(trade("SPY", ts++, 100)).has(QualityIssue::BadTick));
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::BadTick), DataQuality::kOutliersToReanchor);
}

TEST(DataQuality, NoFalseBadTicksOnARandomWalk) {
  DataQuality quality;
  std::mt19937_64 random(12345);
  // Steps of about 2 basis points, with the occasional run of equal prices
  // and the occasional 10-sigma step: a busy but normal market.
  std::normal_distribution<double> step(0, 0.0002);
  std::uniform_int_distribution<int> dice(0, 999);
  double price = 100;
  int64_t ts = 1;
  for (int i = 0; i < 200'000; ++i) {
    int roll = dice(random);
    if (roll >= 100) price *= 1 + step(random) * (roll == 999 ? 10 : 1);
    auto verdict = quality.checkTrade(trade("WALK", ts++, std::round(price * 100) / 100));
    ASSERT_FALSE(verdict.issues) << "trade " << i << " at " << price;
  }
  EXPECT_EQ(countsOf(quality, "WALK").events, 200'000u);
}

TEST(DataQuality, SnapshotIsSortedAndSafeWhileSymbolsAreAdded) {
  DataQuality quality;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      auto snapshot = quality.snapshot();
      uint64_t sum = 0;
      for (auto& s : snapshot.symbols) sum += s.events;
      EXPECT_EQ(sum, snapshot.events);
    }
  });
  for (int i = 0; i < 2000; ++i) quality.checkTrade(trade(fmt::format("S{}", i % 500), i + 1, 10));
  done = true;
  reader.join();
  auto snapshot = quality.snapshot();
  ASSERT_EQ(snapshot.symbols.size(), 500u);
  EXPECT_TRUE(std::is_sorted(snapshot.symbols.begin(), snapshot.symbols.end(),
                             [](auto& a, auto& b) { return a.symbol < b.symbol; }));
  EXPECT_EQ(snapshot.events, 2000u);
}

TEST(DataQuality, TradesAndBarsOnADayTheExchangeWasClosedAreAlwaysDropped) {
  QualityConfig config;
  config.out_of_order = config.duplicate = config.bad_tick = QualityAction::Flag;  // even when nothing else drops
  DataQuality quality(config);
  const int64_t good_friday = fromExchangeTime(20250418, 10, 0), monday = fromExchangeTime(20250421, 10, 0);
  TradeEvent t = trade("SPY", 0, 500);
  t.ts_ns = good_friday;
  auto verdict = quality.checkTrade(t);
  EXPECT_TRUE(verdict.drop);
  EXPECT_TRUE(verdict.has(QualityIssue::ClosedDay));
  BarEvent b = bar("SPY", 0, TH_BAR_FINAL);
  b.start_ns = good_friday;
  EXPECT_TRUE(quality.checkBar(b).drop);
  b.flags = TH_BAR_FINAL | TH_BAR_HISTORY;  // history too: a chart must not show it
  EXPECT_TRUE(quality.checkBar(b).has(QualityIssue::ClosedDay));
  b.start_ns = fromExchangeTime(20250419, 10, 0);  // a Saturday
  EXPECT_TRUE(quality.checkBar(b).drop);
  b.flags = TH_BAR_FINAL;
  b.start_ns = monday;
  EXPECT_FALSE(quality.checkBar(b).issues) << "the next session trades";
  t.ts_ns = monday;
  EXPECT_FALSE(quality.checkTrade(t).issues);
  EXPECT_EQ(issueCount(quality, "SPY", QualityIssue::ClosedDay), 4u);
  EXPECT_EQ(qualityIssueName(QualityIssue::ClosedDay), "closed_day");
  EXPECT_EQ(quality.action(QualityIssue::ClosedDay), QualityAction::Drop);
}

}  // namespace
}  // namespace th
