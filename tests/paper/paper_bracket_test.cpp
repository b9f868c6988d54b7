// Brackets and OTO orders placed natively at the paper broker: the fill
// rules of STRATEGIES.md ("Fills in backtests") on 1-minute bars — legs act
// from the entry bar on, the stop counts when one bar reaches both legs,
// targets fill on a touch, gaps fill at the open, the time exit at the close
// of its bar after that bar's stop and target checks — and the legs' life
// cycle: held until the entry fills, sized to the fill, one cancels the others.
#include "paper_fixture.h"

namespace th::test {
namespace {

class PaperBracketTest : public PaperTest {
 protected:
  // A long bracket entered at market on the SPY bar after `t`.
  OrderSpec longBracket(const std::string& id, double quantity) {
    OrderSpec o = marketOrder(id, TH_SIDE_BUY, quantity, "SPY");
    o.order_class = TH_CLASS_BRACKET;
    o.time_in_force = TH_TIF_DAY;
    return o;
  }
  const int64_t t = kTuesday1000;
};

TEST_F(PaperBracketTest, LegsActOnTheEntryBarAndTheStopCountsWhenOneBarReachesBoth) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("b1", 10);
  o.take_profit = 101;
  o.stop_loss = 99;
  ASSERT_EQ(submit(o).status, TH_OK);
  EXPECT_TRUE(reportsFor("b1.sl").empty()) << "legs are held until the entry fills";

  // The entry fills at this bar's open; the bar then reaches both 101 and 99.
  bar("SPY", t, 100.2, 101.5, 98.5, 100);
  ASSERT_EQ(fillsFor("b1").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("b1")[0].price, 100.2);
  ASSERT_EQ(fillsFor("b1.sl").size(), 1u) << "the stop is judged on the entry bar";
  EXPECT_DOUBLE_EQ(fillsFor("b1.sl")[0].price, 99);
  EXPECT_EQ(fillsFor("b1.sl")[0].ts_ns, t);
  EXPECT_TRUE(fillsFor("b1.tp").empty()) << "stop first: the target does not fill on the same bar";
  EXPECT_EQ(lastReport("b1.tp").status, TH_STATUS_CANCELED);
  EXPECT_EQ(lastReport("b1.tp").reason, "one-cancels-other: b1.sl filled");
  EXPECT_TRUE(positions().empty());
}

TEST_F(PaperBracketTest, TargetFillsOnATouchAndAtAGappedOpen) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec touch = longBracket("touch", 10);
  touch.take_profit = 101;
  touch.stop_loss = 99;
  ASSERT_EQ(submit(touch).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.8, 100.2);
  EXPECT_EQ(lastReport("touch.tp").status, TH_STATUS_ACCEPTED);
  EXPECT_DOUBLE_EQ(lastReport("touch.tp").limit_price, 101);
  EXPECT_DOUBLE_EQ(lastReport("touch.sl").stop_price, 99);
  bar("SPY", t + kMinute, 100.4, 101.00, 100.1, 100.9);  // high exactly at the target
  ASSERT_EQ(fillsFor("touch.tp").size(), 1u) << "a target is hit when the high reaches it";
  EXPECT_DOUBLE_EQ(fillsFor("touch.tp")[0].price, 101);
  EXPECT_EQ(lastReport("touch.sl").status, TH_STATUS_CANCELED);

  OrderSpec gap = longBracket("gap", 10);
  gap.take_profit = 101.5;
  gap.stop_loss = 100;
  ASSERT_EQ(submit(gap).status, TH_OK);
  bar("SPY", t + 2 * kMinute, 101, 101.2, 100.8, 101);
  bar("SPY", t + 3 * kMinute, 102.3, 102.5, 102, 102.2);  // opens beyond the target
  ASSERT_EQ(fillsFor("gap.tp").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("gap.tp")[0].price, 102.3) << "a bar that opened beyond the target fills at its open";
}

TEST_F(PaperBracketTest, StopFillsAtAGappedOpen) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("b", 10);
  o.take_profit = 102;
  o.stop_loss = 99;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.5, 100);
  bar("SPY", t + kMinute, 98.2, 98.9, 97.5, 98);
  ASSERT_EQ(fillsFor("b.sl").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("b.sl")[0].price, 98.2);
}

TEST_F(PaperBracketTest, OffsetsAreMeasuredFromTheEntrysFill) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = marketOrder("s", TH_SIDE_SELL, 10, "SPY");
  o.order_class = TH_CLASS_BRACKET;
  o.take_profit_offset = 2.5;  // short: target below the fill
  o.stop_loss = 101.25;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100.4, 100.6, 99.9, 100.1);
  EXPECT_EQ(lastReport("s.tp").side, TH_SIDE_BUY);
  EXPECT_DOUBLE_EQ(lastReport("s.tp").limit_price, 97.9);
  EXPECT_DOUBLE_EQ(lastReport("s.sl").stop_price, 101.25);
  EXPECT_NEAR(account().buying_power, account().cash, 1e-6) << "the three buy legs reserve no buying power";
  bar("SPY", t + kMinute, 99, 99.2, 97.9, 98);
  ASSERT_EQ(fillsFor("s.tp").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("s.tp")[0].price, 97.9);
  EXPECT_TRUE(positions().empty());
}

TEST_F(PaperBracketTest, TargetAtAMultipleOfTheRiskFromTheFill) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("r", 10);
  o.stop_loss = 99;
  o.take_profit_r = 2;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100.2, 100.5, 99.5, 100.4);
  // Fill 100.20, risk 1.20 to the stop: target 100.20 + 2 x 1.20 = 102.60.
  EXPECT_NEAR(lastReport("r.tp").limit_price, 102.6, 1e-9);

  OrderSpec no_stop = longBracket("r-no-stop", 10);
  no_stop.order_class = TH_CLASS_OTO;
  no_stop.take_profit_r = 2;
  Result refused = submit(no_stop);
  EXPECT_NE(refused.error.find("take_profit_risk_multiple"), std::string::npos) << refused.error;
}

TEST_F(PaperBracketTest, TimeExitClosesAtItsBarsCloseUnlessAStopOrTargetCameFirst) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("tx", 10);
  o.take_profit = 103;
  o.stop_loss = 98;
  o.exit_at_ns = t + 3 * kMinute;  // the close of the bar that starts at t + 2 minutes
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.5, 100.2);
  bar("SPY", t + kMinute, 100.2, 100.8, 99.9, 100.6);
  EXPECT_TRUE(fillsFor("tx.tx").empty()) << "that bar ends before the exit time";
  bar("SPY", t + 2 * kMinute, 100.6, 101.2, 100.3, 101.1);
  ASSERT_EQ(fillsFor("tx.tx").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("tx.tx")[0].price, 101.1);
  EXPECT_EQ(lastReport("tx.sl").status, TH_STATUS_CANCELED);
  EXPECT_EQ(lastReport("tx.tp").status, TH_STATUS_CANCELED);

  OrderSpec hit = longBracket("hit", 10);
  hit.take_profit = 104;
  hit.stop_loss = 100.5;
  hit.exit_at_ns = t + 5 * kMinute;
  ASSERT_EQ(submit(hit).status, TH_OK);
  bar("SPY", t + 3 * kMinute, 101, 101.5, 100.9, 101.2);
  bar("SPY", t + 4 * kMinute, 101.2, 101.3, 100.2, 100.4);  // the exit bar reaches the stop first
  ASSERT_EQ(fillsFor("hit.sl").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("hit.sl")[0].price, 100.5);
  EXPECT_TRUE(fillsFor("hit.tx").empty());
  EXPECT_EQ(lastReport("hit.tx").status, TH_STATUS_CANCELED);
}

TEST_F(PaperBracketTest, OtoWithATargetAndATimeExitOnly) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("oto", 10);
  o.order_class = TH_CLASS_OTO;
  o.take_profit_offset = 0.10;
  o.exit_at_ns = t + 2 * kMinute;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.09, 99, 99.5);  // no stop-loss leg: nothing at the low
  EXPECT_TRUE(reportsFor("oto.sl").empty());
  EXPECT_TRUE(fillsFor("oto.tp").empty());
  bar("SPY", t + kMinute, 99.5, 99.8, 99.2, 99.6);
  ASSERT_EQ(fillsFor("oto.tx").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("oto.tx")[0].price, 99.6);
}

TEST_F(PaperBracketTest, LegsCoverWhatFilledWhenTheEntryEndsPartFilled) {
  start({{"participation", 0.5}});
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100, 100);
  OrderSpec o = longBracket("part", 80);
  o.take_profit = 105;
  o.stop_loss = 95;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.5, 100, 100);  // 50 of 80 fill
  EXPECT_DOUBLE_EQ(lastReport("part").filled_quantity, 50);
  EXPECT_TRUE(reportsFor("part.sl").empty());
  ASSERT_EQ(cancel("part").status, TH_OK);
  EXPECT_DOUBLE_EQ(lastReport("part.sl").quantity, 50);
  EXPECT_DOUBLE_EQ(lastReport("part.tp").quantity, 50);

  bar("SPY", t + kMinute, 100, 100.2, 94, 94.5, 60);  // 30 of the 50 stop out
  EXPECT_DOUBLE_EQ(lastReport("part.sl").filled_quantity, 30);
  EXPECT_DOUBLE_EQ(lastReport("part.tp").quantity, 20) << "the other leg shrinks to what is left";
  EXPECT_EQ(lastReport("part.tp").status, TH_STATUS_ACCEPTED);
}

TEST_F(PaperBracketTest, EntryCanceledUnfilledPlacesNoLegs) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("never", 10);
  o.type = TH_ORDER_LIMIT;
  o.limit = 90;
  o.take_profit = 101;
  o.stop_loss = 85;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.5, 100);
  ASSERT_EQ(cancel("never").status, TH_OK);
  EXPECT_TRUE(reportsFor("never.sl").empty());
  EXPECT_TRUE(reportsFor("never.tp").empty());
  EXPECT_TRUE(openOrders().empty());
}

TEST_F(PaperBracketTest, BadExitsAreRefusedNamingTheField) {
  start();
  OrderSpec both = longBracket("both", 10);
  both.take_profit = 101;
  both.take_profit_offset = 1;
  both.stop_loss = 99;
  Result r = submit(both);
  EXPECT_EQ(r.status, TH_ERR_REJECTED);
  EXPECT_NE(r.error.find("take_profit_price, take_profit_offset and take_profit_risk_multiple: give one"), std::string::npos) << r.error;

  OrderSpec one = longBracket("one", 10);
  one.take_profit = 101;
  r = submit(one);
  EXPECT_EQ(r.status, TH_ERR_REJECTED);
  EXPECT_NE(r.error.find("both a take-profit and a stop-loss"), std::string::npos) << r.error;

  OrderSpec oco = longBracket("oco", 10);
  oco.order_class = TH_CLASS_OCO;
  oco.take_profit = 101;
  oco.stop_loss = 99;
  r = submit(oco);
  EXPECT_NE(r.error.find("OCO"), std::string::npos) << r.error;
}

TEST_F(PaperBracketTest, LegsSurviveARestartFromTheStateFile) {
  start();
  bar("SPY", t - kMinute, 100, 100.5, 99.5, 100);
  OrderSpec o = longBracket("keep", 10);
  o.take_profit = 103;
  o.stop_loss = 98;
  o.exit_at_ns = t + 10 * kMinute;
  ASSERT_EQ(submit(o).status, TH_OK);
  bar("SPY", t, 100, 100.5, 99.5, 100.2);
  destroy();
  start();
  EXPECT_EQ(openOrders().size(), 3u);
  bar("SPY", t + kMinute, 100.2, 100.4, 97, 97.5);
  ASSERT_EQ(fillsFor("keep.sl").size(), 1u);
  EXPECT_EQ(lastReport("keep.tx").status, TH_STATUS_CANCELED);
  EXPECT_TRUE(openOrders().empty());
}

}  // namespace
}  // namespace th::test
