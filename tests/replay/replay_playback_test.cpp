// Playback: order, end of data, subscriptions during playback, pacing at a
// multiple of real time, disconnect and reconnect. Pacing tests assert order
// and partial delivery only, never durations.
#include "replay/replay_support.h"

#include <thread>

namespace th::test::replay {
namespace {

json filesConfig(std::vector<std::string> files, double speed = 0) {
  json config{{"files", files}};
  if (speed > 0) config["speed"] = speed;
  return config;
}

TEST(ReplayPlayback, FullSpeedPlaysEveryBarInOrderThenReportsEndOfData) {
  Replay replay(filesConfig({fixture("native_basic.csv")}));
  ASSERT_EQ(replay.subscribe("SPY"), TH_OK) << replay.error();
  ASSERT_EQ(replay.subscribe("QQQ"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData());
  ASSERT_EQ(replay.disconnect(), TH_OK) << replay.error();

  std::vector<BarRecord> bars = replay.bars();
  EXPECT_EQ(keys(bars), (std::vector<std::string>{"QQQ@0", "SPY@0", "QQQ@1", "SPY@1", "QQQ@2", "SPY@2"}));
  for (const BarRecord& bar : bars) {
    EXPECT_EQ(bar.flags, static_cast<uint32_t>(TH_BAR_FINAL));
    EXPECT_EQ(bar.duration_ns, kMinuteNs);
    EXPECT_EQ(bar.vwap, 0);
  }
  EXPECT_EQ(bars[1].close, 475.30);
  EXPECT_EQ(bars[1].volume, 120000);

  auto connections = replay.connections();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections.front().first, TH_CONN_CONNECTED);
  EXPECT_EQ(connections.back(),
            (std::pair<int32_t, std::string>{TH_CONN_DISCONNECTED, "replay: end of data (6 bars)"}));
}

TEST(ReplayPlayback, BarsOfSeveralFilesMergeByTimeThenSymbol) {
  const std::vector<std::string> expected = {"QQQ@0", "SPY@0", "AAPL@1", "SPY@1", "AAPL@2", "SPY@2"};
  const std::vector<json> configs = {filesConfig({fixture("merge/merge_a.csv"), fixture("merge/merge_b.csv")}),
                                     filesConfig({fixture("merge/merge_b.csv"), fixture("merge/merge_a.csv")}),
                                     filesConfig({fixture("merge")})};
  for (const json& config : configs) {
    SCOPED_TRACE(config.dump());
    Replay replay(config);
    for (const char* symbol : {"AAPL", "QQQ", "SPY"}) ASSERT_EQ(replay.subscribe(symbol), TH_OK) << replay.error();
    ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
    ASSERT_TRUE(replay.waitForEndOfData());
    EXPECT_EQ(keys(replay.bars()), expected);
  }
}

TEST(ReplayPlayback, OnlySubscribedSymbolsAreDelivered) {
  Replay replay(filesConfig({fixture("native_basic.csv")}));
  ASSERT_EQ(replay.subscribe("SPY"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData());
  EXPECT_EQ(keys(replay.bars()), (std::vector<std::string>{"SPY@0", "SPY@1", "SPY@2"}));
  EXPECT_EQ(replay.connections().back().second, "replay: end of data (3 bars)");
}

TEST(ReplayPlayback, FilteredConfigPlaysOnlyItsSymbols) {
  Replay replay(json{{"files", {fixture("merge")}}, {"symbols", {"AAPL"}}});
  ASSERT_EQ(replay.subscribe("AAPL"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData());
  EXPECT_EQ(keys(replay.bars()), (std::vector<std::string>{"AAPL@1", "AAPL@2"}));
}

TEST(ReplayPlayback, TradeAndQuoteSubscriptionsAreAcceptedButCarryNoData) {
  Replay replay(filesConfig({fixture("native_basic.csv")}));
  ASSERT_EQ(replay.subscribe("SPY", TH_STREAM_TRADES | TH_STREAM_QUOTES), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData());
  replay.host.locked([&] {
    EXPECT_TRUE(replay.host.bars.empty());
    EXPECT_TRUE(replay.host.trades.empty());
    EXPECT_TRUE(replay.host.quotes.empty());
    return 0;
  });
  EXPECT_EQ(replay.connections().back().second, "replay: end of data (0 bars)");
}

TEST(ReplayPlayback, BadSubscriptionsAreRefused) {
  Replay replay(filesConfig({fixture("native_basic.csv")}));
  EXPECT_EQ(replay.subscribe("IWM"), TH_ERR_NOT_FOUND);
  EXPECT_NE(replay.error().find("unknown symbol 'IWM'"), std::string::npos) << replay.error();
  EXPECT_EQ(replay.subscribe("SPY", 0), TH_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(replay.subscribe("SPY", 1u << 20), TH_ERR_INVALID_ARGUMENT);
}

TEST(ReplayPlayback, ConnectAfterEndOfDataPlaysAgainFromTheStart) {
  Replay replay(filesConfig({fixture("native_basic.csv")}));
  // Keep the plugin inside its end-of-data report while the test reconnects:
  // a reconnect arriving before the report returns must not be ignored.
  replay.host.after_connection = [](int32_t state, const std::string&) {
    if (state == TH_CONN_DISCONNECTED) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  };
  ASSERT_EQ(replay.subscribe("QQQ"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData(1));
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData(2));
  EXPECT_EQ(keys(replay.bars()), (std::vector<std::string>{"QQQ@0", "QQQ@1", "QQQ@2", "QQQ@0", "QQQ@1", "QQQ@2"}));
}

// pacing.csv has bars at minutes 0, 1 and 2 and then at minute 600. At 1200x
// the first three minutes are released within a fraction of a second and
// minute 600 only after 30 s, so the test sees a partial delivery and then
// stops playback with a disconnect.
TEST(ReplayPlayback, SpeedReleasesBarsOverTimeAndDisconnectStopsIt) {
  Replay replay(filesConfig({fixture("pacing.csv")}, 1200));
  ASSERT_EQ(replay.subscribe("SPY"), TH_OK) << replay.error();
  ASSERT_EQ(replay.subscribe("QQQ"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.host.waitFor([&] { return replay.host.bars.size() >= 6; }));
  ASSERT_EQ(replay.disconnect(), TH_OK) << replay.error();

  std::vector<BarRecord> bars = replay.bars();
  EXPECT_EQ(keys(bars), (std::vector<std::string>{"QQQ@0", "SPY@0", "QQQ@1", "SPY@1", "QQQ@2", "SPY@2"}));
  // Nothing arrives after disconnect() returned, and the end was not reached.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(replay.bars().size(), bars.size());
  for (const auto& [state, reason] : replay.connections()) EXPECT_FALSE(reason.starts_with("replay: end of data"));
}

// At 18030x minute 600 is released about 2 s after the start, which leaves
// the test ample time to change its subscriptions after the first bar.
TEST(ReplayPlayback, SubscriptionChangesDuringPlaybackApplyFromThenOn) {
  Replay replay(filesConfig({fixture("pacing.csv")}, 18030));
  ASSERT_EQ(replay.subscribe("SPY"), TH_OK) << replay.error();
  ASSERT_EQ(replay.connect(), TH_OK) << replay.error();
  ASSERT_TRUE(replay.host.waitFor([&] { return !replay.host.bars.empty(); }));
  ASSERT_EQ(replay.subscribe("QQQ"), TH_OK) << replay.error();
  ASSERT_EQ(replay.unsubscribe("SPY"), TH_OK) << replay.error();
  ASSERT_TRUE(replay.waitForEndOfData());

  std::vector<std::string> played = keys(replay.bars());
  ASSERT_GE(played.size(), 2u);
  // QQQ@0 comes before SPY@0 but was not subscribed yet; SPY@600 comes after
  // SPY was unsubscribed.
  EXPECT_EQ(played.front(), "SPY@0");
  EXPECT_EQ(played.back(), "QQQ@600");
  EXPECT_EQ(std::count(played.begin(), played.end(), "QQQ@0"), 0);
  EXPECT_EQ(std::count(played.begin(), played.end(), "SPY@600"), 0);
}

TEST(ReplayPlayback, DestroyWhilePlayingStopsTheThread) {
  auto replay = std::make_unique<Replay>(filesConfig({fixture("pacing.csv")}, 1200));
  ASSERT_EQ(replay->subscribe("SPY"), TH_OK) << replay->error();
  ASSERT_EQ(replay->connect(), TH_OK) << replay->error();
  ASSERT_TRUE(replay->host.waitFor([&] { return !replay->host.bars.empty(); }));
  // Destruction must join the thread rather than wait 30 s for minute 600 or
  // leave it calling into a host that is gone.
  replay.reset();
}

}  // namespace
}  // namespace th::test::replay
