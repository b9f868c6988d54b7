// Reference-counted subscriptions: the provider is asked for a stream once,
// however many consumers want it, and released only when the last one goes.
#include "data/subscriptions.h"

#include <gtest/gtest.h>
#include <th/plugin.h>

namespace th {
namespace {

constexpr uint32_t kTrades = TH_STREAM_TRADES, kQuotes = TH_STREAM_QUOTES, kBars = TH_STREAM_BARS_1M;

TEST(SubscriptionTable, OnlyTheFirstConsumerCausesAProviderSubscription) {
  SubscriptionTable table;
  EXPECT_EQ(table.acquire("synthetic", "SPY", kTrades | kQuotes, "chart"), kTrades | kQuotes);
  EXPECT_EQ(table.acquire("synthetic", "SPY", kTrades | kQuotes, "strategy:orb"), 0u);
  EXPECT_EQ(table.acquire("synthetic", "SPY", kQuotes | kBars, "scanner"), kBars) << "only the new stream";
  EXPECT_EQ(table.streams("synthetic", "SPY"), kTrades | kQuotes | kBars);
  // Another symbol, or the same symbol at another provider, is its own subscription.
  EXPECT_EQ(table.acquire("synthetic", "QQQ", kTrades, "chart"), kTrades);
  EXPECT_EQ(table.acquire("replay", "SPY", kTrades, "chart"), kTrades);
  EXPECT_EQ(table.acquire("synthetic", "SPY", 0, "chart"), 0u);
}

TEST(SubscriptionTable, TheLastReleaseUnsubscribes) {
  SubscriptionTable table;
  table.acquire("synthetic", "SPY", kTrades | kQuotes, "a");
  table.acquire("synthetic", "SPY", kTrades, "b");
  auto first = table.release("synthetic", "SPY", kTrades | kQuotes, "a");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, kQuotes) << "b still wants trades";
  auto last = table.release("synthetic", "SPY", kTrades, "b");
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, kTrades);
  EXPECT_EQ(table.streams("synthetic", "SPY"), 0u);
  EXPECT_TRUE(table.empty());
}

TEST(SubscriptionTable, AConsumerAcquiringTwiceMustReleaseTwice) {
  SubscriptionTable table;
  EXPECT_EQ(table.acquire("p", "SPY", kTrades, "chart"), kTrades);
  EXPECT_EQ(table.acquire("p", "SPY", kTrades, "chart"), 0u);
  EXPECT_EQ(*table.release("p", "SPY", kTrades, "chart"), 0u);
  EXPECT_EQ(*table.release("p", "SPY", kTrades, "chart"), kTrades);
  EXPECT_FALSE(table.release("p", "SPY", kTrades, "chart"));
}

TEST(SubscriptionTable, ReleasingWhatIsNotHeldIsAnErrorThatChangesNothing) {
  SubscriptionTable table;
  table.acquire("synthetic", "SPY", kTrades, "chart");
  auto wrong_stream = table.release("synthetic", "SPY", kTrades | kQuotes, "chart");
  ASSERT_FALSE(wrong_stream);
  EXPECT_EQ(wrong_stream.error().code, ErrorCode::NotFound);
  EXPECT_EQ(wrong_stream.error().message, "consumer 'chart' does not hold quotes of SPY at synthetic");
  EXPECT_EQ(table.streams("synthetic", "SPY"), kTrades) << "the trades hold was not released either";
  auto wrong_consumer = table.release("synthetic", "SPY", kTrades, "strategy:x");
  ASSERT_FALSE(wrong_consumer);
  EXPECT_EQ(wrong_consumer.error().message, "consumer 'strategy:x' does not hold trades of SPY at synthetic");
  EXPECT_FALSE(table.release("synthetic", "AAPL", kTrades, "chart"));
  EXPECT_FALSE(table.release("replay", "SPY", kTrades, "chart"));
  EXPECT_EQ(*table.release("synthetic", "SPY", kTrades, "chart"), kTrades);
}

TEST(SubscriptionTable, ReleasingAConsumerReturnsWhatNobodyElseWants) {
  SubscriptionTable table;
  table.acquire("synthetic", "SPY", kTrades | kQuotes, "chart");
  table.acquire("synthetic", "SPY", kTrades | kQuotes, "chart");  // held twice
  table.acquire("synthetic", "SPY", kTrades, "strategy");
  table.acquire("synthetic", "AAPL", kBars, "chart");
  table.acquire("replay", "IWM", kBars, "chart");
  table.acquire("replay", "QQQ", kBars, "strategy");
  auto gone = table.releaseConsumer("chart");
  std::vector<ProviderStreams> expected = {
      {"replay", "IWM", kBars},
      {"synthetic", "AAPL", kBars},
      {"synthetic", "SPY", kQuotes},
  };
  EXPECT_EQ(gone, expected);
  EXPECT_EQ(table.streams("synthetic", "SPY"), kTrades);
  EXPECT_EQ(table.streams("replay", "QQQ"), kBars);
  EXPECT_TRUE(table.releaseConsumer("chart").empty());
  EXPECT_FALSE(table.release("synthetic", "SPY", kQuotes, "chart"));
}

TEST(SubscriptionTable, SnapshotListsConsumersWithTheirCounts) {
  SubscriptionTable table;
  table.acquire("synthetic", "SPY", kTrades | kQuotes, "chart");
  table.acquire("synthetic", "SPY", kTrades, "chart");
  table.acquire("synthetic", "SPY", kTrades, "alpha");
  auto entries = table.snapshot();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].provider, "synthetic");
  EXPECT_EQ(entries[0].symbol, "SPY");
  EXPECT_EQ(entries[0].streams, kTrades | kQuotes);
  ASSERT_EQ(entries[0].consumers.size(), 2u);
  EXPECT_EQ(entries[0].consumers[0].consumer, "alpha");
  EXPECT_EQ(entries[0].consumers[0].streams, kTrades);
  const auto& chart = entries[0].consumers[1];
  EXPECT_EQ(chart.consumer, "chart");
  EXPECT_EQ(chart.streams, kTrades | kQuotes);
  ASSERT_EQ(chart.counts.size(), 2u);
  EXPECT_EQ(chart.counts[0].stream, kTrades);
  EXPECT_EQ(chart.counts[0].count, 2u);
  EXPECT_EQ(chart.counts[1].stream, kQuotes);
  EXPECT_EQ(chart.counts[1].count, 1u);
}

TEST(SubscriptionTable, StreamNames) {
  EXPECT_EQ(streamNames(kTrades | kQuotes | kBars), (std::vector<std::string>{"trades", "quotes", "bars"}));
  EXPECT_EQ(streamNames(1u << 9), (std::vector<std::string>{"stream9"}));
  EXPECT_TRUE(streamNames(0).empty());
}

}  // namespace
}  // namespace th
