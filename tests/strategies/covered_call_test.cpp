// The covered_call strategy as it ships (its Lua files, its YAML with the
// first screen moved into the test's morning) through the real strategy
// service and paper broker: ranked signals at run_at, the on-demand screen,
// and auto_execute selling only what the account's shares cover.
#include <fmt/format.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "day_fixture.h"

namespace th::test {
namespace {

using Json = nlohmann::json;

// Monday 2026-11-16, the harness's day: 0-DTE calls on SPY at 200.
constexpr int32_t kExpiry = 20261116;

std::string contract(double strike, int32_t expiry = kExpiry) {
  return fmt::format("SPY{}C{:08d}", expiry % 1000000, std::lround(strike * 1000));
}

class CoveredCallTest : public ::testing::Test {
 protected:
  CoveredCallTest() : h(0) {}

  void start(const std::map<std::string, std::string>& changes = {}) {
    auto params = changes;
    params.emplace("run_at", "\"10:05\"");
    params.emplace("every_minutes", "5");
    h.write("covered_call", strategyYaml("covered_call", "SPY", params),
            readSource("strategies/covered_call/covered_call.lua"),
            {{"screen.lua", readSource("strategies/covered_call/screen.lua")}});
    // Three calls that pass, one too far out of the money (4 %) and a put. The 200.80 ranks first:
    // the yield part is 40 (capped) for it and the 201.20, and its larger bid is the larger cushion,
    // so the higher probability of profit.
    add(200.8, 0.48, 0.50, 0.34);
    add(201.2, 0.40, 0.42, 0.29);
    add(201.6, 0.25, 0.27, 0.22);
    add(208, 0.05, 0.07, 0.02);
    OptionQuote put;
    put.symbol = "SPY261116P00200000";
    put.underlying = "SPY";
    put.call = false;
    put.expiry = kExpiry;
    put.strike = 200;
    put.bid = 2.0;
    put.ask = 2.1;
    put.open_interest = 5000;
    h.chains["SPY"].push_back(put);
    h.start();
  }
  void add(double strike, double bid, double ask, double delta, int32_t expiry = kExpiry) {
    OptionQuote q;
    q.symbol = contract(strike, expiry);
    q.underlying = "SPY";
    q.call = true;
    q.expiry = expiry;
    q.strike = strike;
    q.bid = bid;
    q.ask = ask;
    q.volume = 1500;
    q.open_interest = 8000;
    q.implied_vol = 0.40;
    q.has_greeks = true;
    q.delta = delta;
    h.chains["SPY"].push_back(q);
  }
  // SPY bars at 200 until the clock reads `minutes` after 10:00 (of `day`), timers fired.
  void until(int minutes, int32_t day = 20261116) {
    while (h.nowNs() < fromExchangeTime(day, 10, minutes)) {
      h.minute("SPY", 200, 200.1, 199.9, 200);
      h.strategies().tick();
      h.flush();
    }
  }
  Json signals() { return Json::parse(h.strategies().signalsJson("covered_call", "", 1000))["signals"]; }
  std::vector<const Order*> sells() {
    std::vector<const Order*> out;
    OrderFilter all;
    all.open_only = false;
    all.strategy = "covered_call";
    for (const Order* o : h.oms().orders(all)) {
      if (o->status != OrderStatus::Rejected) out.push_back(o);
    }
    return out;
  }
  // Shares bought for the account by the operator, filled on the next bar.
  void holdShares(double qty) {
    h.minute("SPY", 200, 200.1, 199.9, 200);  // a price for the paper broker to check it against
    auto order = h.oms().submit(intent("SPY", OrderSide::Buy, qty, "operator"));
    ASSERT_TRUE(order) << order.error().message;
    h.minute("SPY", 200, 200.1, 199.9, 200);
  }

  StrategyHarness h;
};

TEST_F(CoveredCallTest, PublishesTheRankedScreenAtRunAtAndSellsNothingByDefault) {
  start();
  until(4);
  EXPECT_TRUE(signals().empty()) << "not before run_at";
  until(6);
  auto list = signals();
  ASSERT_EQ(list.size(), 3u) << list.dump(1);
  // Newest first: the list holds rank 3, 2, 1.
  EXPECT_EQ(list[2]["rank"], 1);
  EXPECT_EQ(list[2]["contract"], contract(200.8));
  EXPECT_EQ(list[2]["kind"], "covered_call");
  EXPECT_EQ(list[2]["symbol"], "SPY");
  EXPECT_EQ(list[2]["strategy"], "covered_call");
  EXPECT_DOUBLE_EQ(list[2]["price"].get<double>(), 200) << "the last 1-minute close: no trades in this test";
  EXPECT_DOUBLE_EQ(list[2]["premium_yield"].get<double>(), 0.48 / 200);
  EXPECT_DOUBLE_EQ(list[2]["breakeven"].get<double>(), 200 - 0.48);
  EXPECT_EQ(list[1]["rank"], 2);
  EXPECT_EQ(list[0]["rank"], 3);
  EXPECT_GE(list[2]["confidence"].get<double>(), list[1]["confidence"].get<double>());
  EXPECT_GE(list[1]["confidence"].get<double>(), list[0]["confidence"].get<double>());
  // Each went out to WebSocket clients.
  size_t pushed = 0;
  for (const auto& m : h.messages) pushed += m.find(R"("kind":"covered_call")") != std::string::npos;
  EXPECT_EQ(pushed, 3u);
  EXPECT_TRUE(sells().empty()) << "auto_execute is off by default";
  until(11);
  EXPECT_EQ(signals().size(), 6u) << "again every_minutes";
}

TEST_F(CoveredCallTest, AnswersTheScreenOnDemandWithoutPublishing) {
  start();
  until(2);
  auto text = h.strategies().request("covered_call", "screen", Json{{"symbols", Json::array({"spy"})}});
  ASSERT_TRUE(text) << text.error().message;
  auto out = Json::parse(*text);
  ASSERT_EQ(out["results"].size(), 3u) << out.dump(1);
  EXPECT_EQ(out["results"][0]["contract"], contract(200.8));
  EXPECT_EQ(out["underlyings"][0]["symbol"], "SPY");
  EXPECT_EQ(out["underlyings"][0]["contracts"], 5);
  EXPECT_EQ(out["underlyings"][0]["rejected"]["put"], 1);
  EXPECT_EQ(out["underlyings"][0]["rejected"]["otm"], 1);
  EXPECT_EQ(out["underlyings"][0]["price_source"], "bar");
  EXPECT_EQ(out["sort_by"], "confidence");
  EXPECT_TRUE(signals().empty()) << "an on-demand screen publishes nothing";

  // An underlying without a chain is reported, not fatal.
  auto qqq = h.strategies().request("covered_call", "screen", Json{{"symbols", "SPY,QQQ"}});
  ASSERT_TRUE(qqq) << qqq.error().message;
  auto both = Json::parse(*qqq);
  EXPECT_EQ(both["results"].size(), 3u);
  EXPECT_NE(both["underlyings"][1]["error"].get<std::string>().find("no option chain"), std::string::npos);

  auto unknown = h.strategies().request("covered_call", "scan", Json::object());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "covered_call: no request 'scan' (it answers: screen)");
  auto bad = h.strategies().request("covered_call", "screen", Json{{"symbol", "SPY"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "symbol: unknown argument (the screen takes symbols)");
  auto nobody = h.strategies().request("nobody", "screen", Json::object());
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, ErrorCode::NotFound);
  EXPECT_EQ(h.status("covered_call"), "running") << "a refused request is not a script error";
}

TEST_F(CoveredCallTest, AutoExecuteSellsOneContractPerHundredSharesNotYetCovered) {
  start({{"auto_execute", "true"}});
  holdShares(250);
  until(6);
  auto orders = sells();
  ASSERT_EQ(orders.size(), 1u);
  const Order* sell = orders[0];
  EXPECT_EQ(sell->intent.symbol, contract(200.8));
  EXPECT_EQ(sell->intent.side, OrderSide::Sell);
  EXPECT_DOUBLE_EQ(sell->intent.quantity, 2) << "250 shares cover two contracts";
  EXPECT_EQ(sell->intent.type, OrderType::Limit);
  EXPECT_DOUBLE_EQ(sell->intent.limit_price, 0.48) << "at the bid";

  until(11);
  EXPECT_EQ(sells().size(), 1u) << "the working sale already covers the shares";
  // The option trades at the limit: the account is short two calls against 250 shares.
  h.minute(contract(200.8), 0.48, 0.52, 0.47, 0.50);
  const Position* short_calls = h.oms().book().accountPosition(contract(200.8));
  ASSERT_NE(short_calls, nullptr);
  EXPECT_DOUBLE_EQ(short_calls->quantity, -2);
  until(16);
  EXPECT_EQ(sells().size(), 1u) << "two calls cover 200 of the 250 shares; 50 do not make a lot";

  holdShares(100);  // 350 shares: one more lot
  until(21);
  orders = sells();
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_DOUBLE_EQ(orders[0]->intent.quantity + orders[1]->intent.quantity, 3) << "then one more contract";

  // Tuesday: Monday's two short calls expired (the broker still lists them) and the one-lot sale expired
  // unfilled at the close. Expired calls cover nothing, so the 350 shares are sold against again: three
  // contracts of Tuesday's expiry in all, and risk lets them through.
  h.chains["SPY"].clear();
  add(200.8, 0.48, 0.50, 0.34, 20261117);
  h.advance(fromExchangeTime(20261117, 10, 0) - h.nowNs());
  until(6, 20261117);
  orders = sells();
  double tuesday = 0;
  std::string listed;
  for (const Order* o : orders) {
    listed += fmt::format("{} {} {} {}; ", o->intent.symbol, o->intent.quantity, toString(o->status), o->reason);
    if (o->intent.symbol == contract(200.8, 20261117)) tuesday += o->intent.quantity;
  }
  EXPECT_DOUBLE_EQ(tuesday, 3) << listed;
}

TEST_F(CoveredCallTest, AutoExecuteWithoutSharesSellsNothingAndRiskRefusesAnUncoveredCall) {
  start({{"auto_execute", "true"}});
  until(6);
  EXPECT_EQ(signals().size(), 3u);
  EXPECT_TRUE(sells().empty()) << "no shares, no covered call";
  // Were a script to try, the risk service refuses it.
  auto sale = intent(contract(200.8), OrderSide::Sell, 1, "covered_call");
  sale.asset_class = AssetClass::Option;
  sale.type = OrderType::Limit;
  sale.limit_price = 0.48;
  auto naked = h.oms().submit(sale);
  ASSERT_TRUE(naked) << naked.error().message;
  EXPECT_EQ(naked->status, OrderStatus::Rejected);
  EXPECT_EQ(naked->reason_code, "UNCOVERED_CALL") << naked->reason;
}

}  // namespace
}  // namespace th::test
