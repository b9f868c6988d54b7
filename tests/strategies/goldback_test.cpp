// The goldback strategy as it ships, on hand-built 1-minute bars through the
// real strategy service and paper broker: both setups in both directions,
// the reclaim and retest windows expiring, the trade limit, explicit
// markers, and bad markers refused by name. Windows are 10 minutes; the
// 09:30 window (high 101, low 99) gives the 09:40 window its levels.
#include "day_fixture.h"

namespace th::test {
namespace {

class GoldbackTest : public StrategyDayTest {
 protected:
  // Two setups in one morning: a short, then a long.
  void twoSetups() {
    firstWindow();
    bar(100.5, 101.30, 100.4, 100.80);  // 09:40 sweep short
    bar(100.70, 100.8, 98.9, 99.2);     // entry, target hit
    quietUntil(9, 50, 99.5);            // 09:40 window: high 101.30, low 98.90
    bar(99.4, 99.5, 98.7, 99.0);        // 09:50: a sweep long of 98.90, closes back above
    bar(99.0, 99.2, 98.9, 99.1);
  }
  void startDay(const std::map<std::string, std::string>& changes = {}) {
    StrategyDayTest::startDay("goldback", 100.0, changes);
  }
  // 09:30-09:39: high 101.00, low 99.00, closes near 100.
  void firstWindow() {
    bar(100.0, 101.0, 99.6, 100.4);
    bar(100.4, 100.6, 99.0, 99.8);
    quietUntil(9, 40, 100.0);
  }
};

TEST_F(GoldbackTest, SweepAboveTheHighThatClosesBackBelowIsAShortToTheLow) {
  startDay({{"max_position_pct", "100"}});
  firstWindow();
  bar(100.5, 101.30, 100.4, 100.80);  // 09:40: trades above 101, closes back below
  bar(100.70, 100.8, 98.9, 99.2);     // 09:41: entry at 100.70; reaches the target 99.00
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].side, "sell");
  // Stop 101.30 + 0.02 = 101.32; size floor(500 / (101.32 - 100.80)) = floor(961.5) = 961.
  EXPECT_DOUBLE_EQ(t[0].qty, 961);
  EXPECT_DOUBLE_EQ(t[0].entry, 100.70);
  EXPECT_EQ(t[0].exit_role, "take_profit");
  EXPECT_DOUBLE_EQ(t[0].exit, 99.0) << "the target is the previous window's low";
  const auto texts = markerTexts();
  for (const char* expected : {"window 09:40", "prev high 101.00", "prev low 99.00", "sweep short", "entry 100.70",
                               "target 99.00"}) {
    EXPECT_NE(std::find(texts.begin(), texts.end(), expected), texts.end()) << expected;
  }
}

TEST_F(GoldbackTest, ASignalOnTheBarWhereThePositionClosedIsTaken) {
  startDay({{"max_position_pct", "100"}});
  firstWindow();
  bar(100.5, 101.30, 100.4, 100.80);  // 09:40: the high swept and reclaimed: short
  bar(100.70, 100.8, 98.9, 99.2);     // 09:41: entry 100.70, target 99.00 hit; the low swept and reclaimed
  bar(99.25, 99.5, 99.1, 99.4);       // 09:42: the long's entry at its open
  auto t = trades();
  ASSERT_EQ(t.size(), 2u) << "the exit inside 09:41 happens before the bar is judged at its close";
  EXPECT_EQ(t[0].exit_role, "take_profit");
  EXPECT_DOUBLE_EQ(t[0].exit, 99.0);
  EXPECT_EQ(t[1].side, "buy");
  EXPECT_DOUBLE_EQ(t[1].entry, 99.25);
  const Order* stop = openLeg(OrderRole::StopLoss);
  ASSERT_TRUE(stop);
  EXPECT_DOUBLE_EQ(stop->intent.stop_price, 98.88) << "the sweep's low 98.90 - 0.02";
}

TEST_F(GoldbackTest, AWindowWhosePreviousWindowHadNoBarsHasNoLevels) {
  startDay();
  firstWindow();
  quietUntil(9, 50, 100.0);  // the 09:40 window: high 100.20, low 99.80
  // No bar from 09:50 to 09:59: the 10:00 window has no previous window's
  // levels (not the 09:40 window's).
  h.advance(fromExchangeTime(20261117, 10, 0) - h.nowNs());
  bar(100.0, 100.4, 99.5, 99.9);  // would sweep 100.20 and close back below
  bar(99.9, 100.0, 99.7, 99.8);
  EXPECT_TRUE(trades().empty());
  const auto texts = markerTexts();
  EXPECT_NE(std::find(texts.begin(), texts.end(), "window 10:00"), texts.end());
  EXPECT_EQ(std::count(texts.begin(), texts.end(), "prev high 100.20"), 0) << "the 09:40 window's levels are not used";
}

TEST_F(GoldbackTest, SweepBelowTheLowReclaimedOnTheSecondBarAfterIsALong) {
  startDay();
  firstWindow();
  bar(99.2, 99.3, 98.80, 98.90);  // 09:40: below 99
  bar(98.9, 98.94, 98.85, 98.93);  // 09:41 (not near enough to 99 for a retest)
  bar(98.93, 99.2, 98.9, 99.10);   // 09:42: closes back above: long
  bar(99.10, 99.3, 99.0, 99.2);   // 09:43: entry at 99.10
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].side, "buy");
  EXPECT_DOUBLE_EQ(t[0].entry, 99.10);
  const Order* stop = openLeg(OrderRole::StopLoss);
  const Order* target = openLeg(OrderRole::TakeProfit);
  ASSERT_TRUE(stop && target);
  EXPECT_DOUBLE_EQ(stop->intent.stop_price, 98.78) << "the sweep's low 98.80 - 0.02";
  EXPECT_DOUBLE_EQ(target->intent.limit_price, 101.0) << "the previous window's high";
}

TEST_F(GoldbackTest, ASweepThatStaysOutLongerThanReclaimBarsIsNoSignal) {
  startDay();
  firstWindow();
  bar(99.2, 99.3, 98.80, 98.90);  // 09:40
  bar(98.9, 98.94, 98.85, 98.93);  // 09:41
  bar(98.93, 98.94, 98.9, 98.92);  // 09:42
  bar(98.92, 99.3, 98.9, 99.20);   // 09:43: back above, three bars after the sweep bar
  bar(99.2, 99.4, 99.1, 99.3);
  EXPECT_TRUE(trades().empty());
}

TEST_F(GoldbackTest, BreakAboveAndRetestOfTheHighIsALongWithTargetAtTwiceTheRisk) {
  startDay();
  firstWindow();
  bar(100.8, 101.4, 100.7, 101.30);   // 09:40: closes above 101: the break
  bar(101.3, 101.5, 101.2, 101.40);   // 09:41
  bar(101.4, 101.45, 101.04, 101.20); // 09:42: low within 0.05 % of 101 (101.0505), closes above: long
  bar(101.25, 101.5, 101.1, 101.4);   // 09:43: entry at 101.25
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].side, "buy");
  EXPECT_DOUBLE_EQ(t[0].entry, 101.25);
  // Stop 101 - 0.02 = 100.98; risk 0.27 from the fill; target 101.25 + 2 x 0.27 = 101.79.
  EXPECT_NEAR(openLeg(OrderRole::StopLoss)->intent.stop_price, 100.98, 1e-9);
  EXPECT_NEAR(openLeg(OrderRole::TakeProfit)->intent.limit_price, 101.79, 1e-9);
  // Size on the retest close: floor(500 / (101.20 - 100.98)) = 2272 shares would cost 229,926; no
  // position may be worth more than max_position_pct 25 % of equity: floor(25000 / 101.20) = 247.
  EXPECT_DOUBLE_EQ(t[0].qty, 247);
}

TEST_F(GoldbackTest, WithoutThePositionCapTheSizeIsStillWhatBuyingPowerPaysFor) {
  startDay({{"max_position_pct", "100"}});
  firstWindow();
  bar(100.8, 101.4, 100.7, 101.30);   // the break
  bar(101.3, 101.5, 101.2, 101.40);
  bar(101.4, 101.45, 101.04, 101.20); // the retest: long
  bar(101.25, 101.5, 101.1, 101.4);   // entry at 101.25
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  // 2272 shares by risk; the 100,000 of buying power pays for floor(100000 / 101.20) = 988.
  EXPECT_DOUBLE_EQ(t[0].qty, 988);
}

TEST_F(GoldbackTest, BreakBelowAndRetestOfTheLowIsAShort) {
  startDay();
  firstWindow();
  bar(99.2, 99.3, 98.7, 98.80);     // 09:40: closes below 99
  bar(98.8, 98.97, 98.6, 98.90);    // 09:41: high within 0.05 % of 99 (98.9505), closes below: short
  bar(98.85, 98.9, 98.6, 98.7);     // 09:42: entry at 98.85
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].side, "sell");
  EXPECT_DOUBLE_EQ(t[0].entry, 98.85);
  const Order* stop = openLeg(OrderRole::StopLoss);
  const Order* target = openLeg(OrderRole::TakeProfit);
  ASSERT_TRUE(stop && target);
  EXPECT_NEAR(stop->intent.stop_price, 99.02, 1e-9);
  EXPECT_NEAR(target->intent.limit_price, 98.51, 1e-9) << "98.85 - 2 x (99.02 - 98.85)";
}

TEST_F(GoldbackTest, ARetestAfterRetestBarsIsNoSignal) {
  startDay();
  firstWindow();
  // 09:40-09:43 close above 101 (each a break; out too long for a sweep),
  // then five bars back below that come nowhere near 101.
  for (int i = 0; i < 4; ++i) bar(101.3, 101.5, 101.3, 101.4);
  for (int i = 0; i < 5; ++i) bar(100.9, 100.95, 100.5, 100.8);  // 09:44-09:48
  bar(100.9, 101.3, 101.02, 101.20);  // 09:49: a retest six bars after the last break
  bar(101.2, 101.3, 101.1, 101.2);
  EXPECT_TRUE(trades().empty());
}

TEST_F(GoldbackTest, AtMostMaxTradesPerDay) {
  startDay({{"max_trades_per_day", "1"}});
  twoSetups();
  EXPECT_EQ(trades().size(), 1u);
}

// The control: the same bars with a cap of two take the second setup too,
// so the test above fails if the cap stops counting.
TEST_F(GoldbackTest, TheSecondSetupIsTakenWhenTheCapAllowsIt) {
  startDay({{"max_trades_per_day", "2"}});
  twoSetups();
  auto t = trades();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].side, "buy");
}

TEST_F(GoldbackTest, ExplicitMarkersSetTheWindows) {
  startDay({{"markers", "\"09:45 10:15\""}, {"start_time", "\"09:45\""}});
  bar(100.0, 101.0, 99.6, 100.4);
  bar(100.4, 100.6, 99.0, 99.8);
  quietUntil(9, 40, 100.0);
  bar(100.5, 101.30, 100.4, 100.80);  // 09:40 is still the first window
  quietUntil(9, 45, 100.0);           // the 09:30-09:44 window: high 101.30, low 99.00
  bar(100.5, 101.40, 100.4, 100.90);  // 09:45: sweeps 101.30, closes back below: short
  bar(100.9, 101.0, 100.5, 100.6);
  auto t = trades();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].side, "sell");
  EXPECT_DOUBLE_EQ(t[0].entry, 100.9);
}

TEST_F(GoldbackTest, BadMarkersAreRefusedNamingTheParameter) {
  h.write("goldback", strategyYaml("goldback", "SPY", {{"markers", "\"09:45 9:50\""}}),
          readSource("strategies/goldback/goldback.lua"));
  h.start();
  EXPECT_EQ(h.status("goldback"), "failed");
  EXPECT_NE(h.info("goldback").dump().find("params.markers: '9:50'"), std::string::npos) << h.info("goldback").dump();
}

}  // namespace
}  // namespace th::test
