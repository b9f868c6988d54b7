#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "core/json.h"
#include "core/time.h"
#include "risk/risk_service.h"

// Limits are written as designated initializers ({.max_order_quantity = 100}),
// which name exactly the limits a test sets; GCC 12 flags every member left
// unset (later GCCs do not), and unset is the point.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace th {
namespace {

// Monday 2026-11-16, 10:00 in New York: inside the regular session.
const int64_t kMonday10 = fromExchangeTime(20261116, 10, 0);
const int64_t kTuesday10 = fromExchangeTime(20261117, 10, 0);
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;

// The world as the risk service sees it, set field by field.
struct FakeView : RiskView {
  std::map<std::string, double, std::less<>> last;
  std::map<std::string, double, std::less<>> account;
  std::map<std::pair<std::string, std::string>, double> strategy;  // (strategy, symbol)
  double account_exposure = 0;
  std::map<std::string, double, std::less<>> strategy_exposure;
  size_t account_open = 0;
  std::map<std::string, size_t, std::less<>> strategy_open;
  std::map<std::tuple<std::string, std::string, OrderSide>, double> pending;
  std::map<std::pair<std::string, OrderSide>, double> account_pending;  // (symbol, side)
  std::optional<double> buying_power;
  bool regular = true;
  std::map<std::string, double, std::less<>> short_calls;

  template <typename Map>
  static auto find(const Map& map, std::string_view key) -> typename Map::mapped_type {
    auto it = map.find(key);
    return it == map.end() ? typename Map::mapped_type{} : it->second;
  }

  double lastPrice(std::string_view symbol) const override { return find(last, symbol); }
  double strategyQuantity(std::string_view s, std::string_view symbol) const override {
    auto it = strategy.find({std::string(s), std::string(symbol)});
    return it == strategy.end() ? 0 : it->second;
  }
  double accountQuantity(std::string_view symbol) const override { return find(account, symbol); }
  double accountGrossExposure() const override { return account_exposure; }
  double strategyGrossExposure(std::string_view s) const override { return find(strategy_exposure, s); }
  size_t accountOpenOrders() const override { return account_open; }
  size_t strategyOpenOrders(std::string_view s) const override { return find(strategy_open, s); }
  double pendingQuantity(std::string_view s, std::string_view symbol, OrderSide side) const override {
    auto it = pending.find({std::string(s), std::string(symbol), side});
    return it == pending.end() ? 0 : it->second;
  }
  double accountPendingQuantity(std::string_view symbol, OrderSide side) const override {
    auto it = account_pending.find({std::string(symbol), side});
    return it == account_pending.end() ? 0 : it->second;
  }
  std::optional<double> buyingPower() const override { return buying_power; }
  bool regularHours(int64_t) const override { return regular; }
  double shortCallContracts(std::string_view underlying) const override { return find(short_calls, underlying); }

  // A strategy's position, booked on the account too.
  void hold(const std::string& s, const std::string& symbol, double quantity) {
    strategy[{s, symbol}] += quantity;
    account[symbol] += quantity;
  }
};

OrderIntent market(OrderSide side, const std::string& symbol, double quantity, const std::string& strategy = "orb") {
  OrderIntent intent;
  intent.strategy = strategy;
  intent.symbol = symbol;
  intent.side = side;
  intent.quantity = quantity;
  return intent;
}
OrderIntent buy(const std::string& symbol, double quantity, const std::string& strategy = "orb") {
  return market(OrderSide::Buy, symbol, quantity, strategy);
}
OrderIntent sell(const std::string& symbol, double quantity, const std::string& strategy = "orb") {
  return market(OrderSide::Sell, symbol, quantity, strategy);
}
OrderIntent limit(OrderIntent intent, double price) {
  intent.type = OrderType::Limit;
  intent.limit_price = price;
  return intent;
}
OrderIntent stop(OrderIntent intent, double price) {
  intent.type = OrderType::Stop;
  intent.stop_price = price;
  return intent;
}
OrderIntent option(OrderIntent intent) {
  intent.asset_class = AssetClass::Option;
  return intent;
}

RiskConfig withLimits(RiskLimits limits) {
  RiskConfig config;
  config.limits = limits;
  config.check_buying_power = false;
  config.require_covered_calls = false;
  return config;
}

// A test fixture that checks at 10:00 on Monday unless told otherwise.
class RiskTest : public ::testing::Test {
 protected:
  void SetUp() override { view.last = {{"SPY", 100}, {"AAPL", 200}}; }

  RiskDecision check(const RiskService& risk, const OrderIntent& intent, int64_t now = kMonday10,
                     OrderPurpose purpose = OrderPurpose::Normal) {
    EXPECT_TRUE(validateIntent(intent)) << "tests send only valid intents";
    return risk.check(intent, purpose, view, now);
  }
  void expectAccepted(const RiskService& risk, const OrderIntent& intent, int64_t now = kMonday10,
                      OrderPurpose purpose = OrderPurpose::Normal) {
    auto decision = check(risk, intent, now, purpose);
    EXPECT_TRUE(decision.accepted) << reasonCode(decision.reason) << ": " << decision.detail;
    EXPECT_EQ(decision.reason, RiskReason::None);
  }
  // Rejected with `reason`, and the detail contains `detail`.
  void expectRejected(const RiskService& risk, const OrderIntent& intent, RiskReason reason, const std::string& detail,
                      int64_t now = kMonday10, OrderPurpose purpose = OrderPurpose::Normal) {
    auto decision = check(risk, intent, now, purpose);
    EXPECT_FALSE(decision.accepted);
    EXPECT_EQ(reasonCode(decision.reason), reasonCode(reason)) << decision.detail;
    EXPECT_NE(decision.detail.find(detail), std::string::npos) << decision.detail << "\n  lacks: " << detail;
  }

  FakeView view;
};

TEST(RiskNames, ReasonCodesAndStatesHaveTheirApiNames) {
  EXPECT_EQ(reasonCode(RiskReason::None), "");
  EXPECT_EQ(reasonCode(RiskReason::ReducingOnly), "REDUCING_ONLY");
  EXPECT_EQ(reasonCode(RiskReason::MaxPositionNotional), "MAX_POSITION_NOTIONAL");
  EXPECT_EQ(reasonCode(RiskReason::UncoveredCall), "UNCOVERED_CALL");
  EXPECT_EQ(toString(TradingState::Reducing), "REDUCING");
  EXPECT_EQ(parseTradingState("halted"), TradingState::Halted);
  EXPECT_EQ(parseTradingState("Active"), TradingState::Active);
  EXPECT_EQ(parseTradingState("paused"), std::nullopt);
}

TEST(RiskNames, OccSymbolsGiveTheirUnderlyingAndRight) {
  auto call = parseOcc("SPY261120C00590000");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->underlying, "SPY");
  EXPECT_TRUE(call->call);
  EXPECT_EQ(call->expiry, 20261120);
  auto padded_put = parseOcc("SPY   261120P00590000");
  ASSERT_TRUE(padded_put);
  EXPECT_EQ(padded_put->underlying, "SPY");
  EXPECT_FALSE(padded_put->call);
  EXPECT_FALSE(parseOcc("AAPL"));
  EXPECT_EQ(contractMultiplier("SPY261120C00590000", AssetClass::Option), 100);
  EXPECT_EQ(contractMultiplier("SPY", AssetClass::Equity), 1);
}

TEST_F(RiskTest, NoLimitsAcceptsAnything) {
  RiskService risk(withLimits({}));
  expectAccepted(risk, buy("SPY", 1'000'000));
}

TEST_F(RiskTest, OrderQuantityAtTheLimitPassesAndAboveIsRefused) {
  RiskService risk(withLimits({.max_order_quantity = 100}));
  expectAccepted(risk, buy("SPY", 100));
  expectRejected(risk, buy("SPY", 101), RiskReason::MaxOrderQuantity,
                 "quantity 101 exceeds max_order_quantity 100 (global)");
}

TEST_F(RiskTest, StrategyLimitsAreCheckedFirstAndOnlyForThatStrategy) {
  RiskService risk(withLimits({.max_order_quantity = 100}));
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_order_quantity = 50}));
  expectAccepted(risk, buy("SPY", 50, "orb"));
  expectRejected(risk, buy("SPY", 60, "orb"), RiskReason::MaxOrderQuantity,
                 "quantity 60 exceeds max_order_quantity 50 (strategy 'orb')");
  expectAccepted(risk, buy("SPY", 60, "gap"));
  expectRejected(risk, buy("SPY", 101, "gap"), RiskReason::MaxOrderQuantity, "max_order_quantity 100 (global)");
  EXPECT_EQ(risk.effectiveLimits("orb").max_order_quantity, 50);
  EXPECT_EQ(risk.effectiveLimits("gap").max_order_quantity, 100);
}

TEST_F(RiskTest, OrderNotionalUsesTheOrderPriceAndTheOptionsMultiplier) {
  RiskService risk(withLimits({.max_order_notional = 10'000}));
  expectAccepted(risk, buy("SPY", 100));  // at the last price, 100
  expectRejected(risk, buy("SPY", 101), RiskReason::MaxOrderNotional,
                 "order notional 10,100.00 exceeds max_order_notional 10,000.00 (global)");
  expectAccepted(risk, limit(buy("SPY", 125), 80));
  expectRejected(risk, stop(sell("SPY", 100), 101), RiskReason::MaxOrderNotional, "10,100.00");
  view.last["SPY261120C00590000"] = 5;
  expectAccepted(risk, option(limit(buy("SPY261120C00590000", 20), 5)));  // 20 × 5 × 100
  expectRejected(risk, option(limit(buy("SPY261120C00590000", 21), 5)), RiskReason::MaxOrderNotional,
                 "order notional 10,500.00");
}

TEST_F(RiskTest, PositionNotionalCountsTheAccountForGlobalLimits) {
  RiskService risk(withLimits({.max_position_notional = 50'000}));
  view.hold("other", "SPY", 400);
  expectAccepted(risk, buy("SPY", 100));  // account 500 × 100
  expectRejected(risk, buy("SPY", 101), RiskReason::MaxPositionNotional,
                 "the SPY position after the fill (501, with working orders) is worth 50,100.00, above "
                 "max_position_notional 50,000.00 (global)");
  expectAccepted(risk, sell("SPY", 900));  // to short 500: 50,000
  expectRejected(risk, sell("SPY", 901), RiskReason::MaxPositionNotional, "(-501, with working orders)");
}

TEST_F(RiskTest, PositionNotionalCountsOrdersAlreadyWorkingOnTheSameSide) {
  RiskService risk(withLimits({.max_position_notional = 10'000}));
  view.pending[{"orb", "SPY", OrderSide::Buy}] = 90;  // a flat position, buys of 90 working
  view.account_pending[{"SPY", OrderSide::Buy}] = 90;
  expectAccepted(risk, buy("SPY", 10));
  expectRejected(risk, buy("SPY", 11), RiskReason::MaxPositionNotional, "(101, with working orders)");
  // Working sells do not make room for more buys.
  view.pending[{"orb", "SPY", OrderSide::Sell}] = 500;
  expectRejected(risk, buy("SPY", 11), RiskReason::MaxPositionNotional, "(global)");
}

TEST_F(RiskTest, PositionNotionalNeverStopsAnOrderThatShrinksThePosition) {
  RiskService risk(withLimits({.max_position_notional = 50'000, .max_gross_exposure = 50'000}));
  view.hold("orb", "SPY", 1000);  // 100,000: over both limits already
  view.account_exposure = 100'000;
  view.strategy_exposure["orb"] = 100'000;
  expectAccepted(risk, sell("SPY", 100));
  expectAccepted(risk, sell("SPY", 1500));  // to short 500
  expectRejected(risk, buy("SPY", 1), RiskReason::MaxPositionNotional, "(global)");
}

TEST_F(RiskTest, PositionNotionalCountsTheStrategyForItsOwnLimits) {
  RiskService risk(withLimits({.max_position_notional = 200'000}));
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_position_notional = 20'000}));
  view.hold("orb", "SPY", 150);
  view.hold("other", "SPY", 1000);
  expectAccepted(risk, buy("SPY", 50, "orb"));  // strategy 200 × 100
  expectRejected(risk, buy("SPY", 51, "orb"), RiskReason::MaxPositionNotional,
                 "(201, with working orders) is worth 20,100.00, above max_position_notional 20,000.00 "
                 "(strategy 'orb')");
  // The account holds 1,150: 85,000 more reaches the global limit.
  expectAccepted(risk, buy("SPY", 850, "gap"));
  expectRejected(risk, buy("SPY", 851, "gap"), RiskReason::MaxPositionNotional, "200,000.00 (global)");
}

TEST_F(RiskTest, GrossExposureAddsTheOrderForEachScope) {
  RiskService risk(withLimits({.max_gross_exposure = 1'000'000}));
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_gross_exposure = 50'000}));
  view.account_exposure = 990'000;
  view.strategy_exposure["orb"] = 45'000;
  view.strategy_exposure["gap"] = 0;
  expectAccepted(risk, buy("SPY", 50, "orb"));
  expectRejected(risk, buy("SPY", 51, "orb"), RiskReason::MaxGrossExposure,
                 "gross exposure after the fill would be 50,100.00, above max_gross_exposure 50,000.00 (strategy "
                 "'orb')");
  expectAccepted(risk, buy("SPY", 100, "gap"));
  expectRejected(risk, buy("SPY", 101, "gap"), RiskReason::MaxGrossExposure,
                 "1,000,100.00, above max_gross_exposure 1,000,000.00 (global)");
}

TEST_F(RiskTest, OpenOrdersCountTheAccountOrTheStrategy) {
  RiskService risk(withLimits({.max_open_orders = 200}));
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_open_orders = 5}));
  view.account_open = 199;
  view.strategy_open["orb"] = 4;
  expectAccepted(risk, buy("SPY", 1, "orb"));
  view.strategy_open["orb"] = 5;
  expectRejected(risk, buy("SPY", 1, "orb"), RiskReason::MaxOpenOrders,
                 "5 open orders and this one exceed max_open_orders 5 (strategy 'orb')");
  expectAccepted(risk, buy("SPY", 1, "gap"));
  view.account_open = 200;
  expectRejected(risk, buy("SPY", 1, "gap"), RiskReason::MaxOpenOrders,
                 "200 open orders and this one exceed max_open_orders 200 (global)");
}

TEST_F(RiskTest, OrderRateWindowSlidesAndIsKeptPerStrategy) {
  RiskService risk(withLimits({.max_orders_per_minute = 3}));
  for (int64_t at : {0, 20, 40}) risk.recordAccepted(buy("SPY", 1), kMonday10 + at * kSecond);
  expectRejected(risk, buy("SPY", 1), RiskReason::OrderRate,
                 "3 orders in the last minute and this one exceed max_orders_per_minute 3 (global)",
                 kMonday10 + 50 * kSecond);
  expectAccepted(risk, buy("SPY", 1, "gap"), kMonday10 + 50 * kSecond);
  // A minute after the first order it has left the window.
  expectAccepted(risk, buy("SPY", 1), kMonday10 + 60 * kSecond);
  risk.recordAccepted(buy("SPY", 1), kMonday10 + 60 * kSecond);
  expectRejected(risk, buy("SPY", 1), RiskReason::OrderRate, "max_orders_per_minute 3", kMonday10 + 70 * kSecond);
}

TEST_F(RiskTest, OrderRateAppliesToManualOrdersAndToStrategyLimits) {
  RiskService risk(withLimits({.max_orders_per_minute = 120}));
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_orders_per_minute = 1}));
  risk.recordAccepted(buy("SPY", 1, "orb"), kMonday10);
  expectRejected(risk, buy("SPY", 1, "orb"), RiskReason::OrderRate, "max_orders_per_minute 1 (strategy 'orb')");
  for (int64_t i = 0; i < 120; ++i) risk.recordAccepted(buy("SPY", 1, ""), kMonday10 + i * 100'000'000);
  expectRejected(risk, buy("SPY", 1, ""), RiskReason::OrderRate, "120 orders in the last minute",
                 kMonday10 + 20 * kSecond);
}

TEST_F(RiskTest, PriceCollarAgainstTheLastPrice) {
  RiskService risk(withLimits({.price_collar_pct = 5}));
  expectAccepted(risk, limit(buy("SPY", 10), 105));
  expectRejected(risk, limit(buy("SPY", 10), 105.5), RiskReason::PriceCollar,
                 "limit price 105.5 is 5.50% from the last price 100, beyond price_collar_pct 5 (global)");
  expectAccepted(risk, stop(sell("SPY", 10), 95));
  expectRejected(risk, stop(sell("SPY", 10), 94), RiskReason::PriceCollar, "stop price 94 is 6.00%");
  view.last.erase("SPY");
  expectAccepted(risk, limit(buy("SPY", 10), 150));  // nothing to collar against
}

TEST_F(RiskTest, AMarketOrderWithoutALastPriceIsRefused) {
  RiskService risk(withLimits({}));
  expectRejected(risk, buy("XYZ", 10), RiskReason::NoPrice, "no last price for XYZ");
  expectAccepted(risk, limit(buy("XYZ", 10), 12));
  view.last["XYZ"] = 12;
  expectAccepted(risk, buy("XYZ", 10));
}

TEST_F(RiskTest, RegularHoursOnlyWhenSet) {
  view.regular = false;
  expectAccepted(RiskService(withLimits({})), buy("SPY", 1));
  expectRejected(RiskService(withLimits({.regular_hours_only = true})), buy("SPY", 1), RiskReason::OutsideRegularHours,
                 "regular_hours_only is true (global)");
  RiskService strategy_only(withLimits({}));
  ASSERT_TRUE(strategy_only.setStrategyLimits("orb", {.regular_hours_only = true}));
  expectRejected(strategy_only, buy("SPY", 1, "orb"), RiskReason::OutsideRegularHours,
                 "regular_hours_only is true (strategy 'orb')");
  expectAccepted(strategy_only, buy("SPY", 1, "gap"));
  view.regular = true;
  expectAccepted(strategy_only, buy("SPY", 1, "orb"));
}

TEST_F(RiskTest, DuplicateGuardInsideAndOutsideTheWindow) {
  RiskService risk(withLimits({.duplicate_window_s = 2}));
  auto order = limit(buy("SPY", 10), 100);
  risk.recordAccepted(order, kMonday10);
  expectRejected(risk, order, RiskReason::DuplicateOrder,
                 "the same order was accepted 1.9 s ago, within duplicate_window_s 2 (global)",
                 kMonday10 + 1900 * 1'000'000);
  expectAccepted(risk, order, kMonday10 + 2 * kSecond);
  expectAccepted(risk, limit(buy("SPY", 11), 100), kMonday10 + kSecond);
  expectAccepted(risk, limit(buy("SPY", 10), 100.01), kMonday10 + kSecond);
  expectAccepted(risk, limit(sell("SPY", 10), 100), kMonday10 + kSecond);
  expectAccepted(risk, limit(buy("SPY", 10, "gap"), 100), kMonday10 + kSecond);
}

TEST_F(RiskTest, BuyingPowerLimitsWhatOpensAPosition) {
  RiskConfig config = withLimits({});
  config.check_buying_power = true;
  RiskService risk(config);
  expectAccepted(risk, buy("SPY", 1'000'000));  // unknown: skipped
  view.buying_power = 10'000;
  expectAccepted(risk, buy("SPY", 100));
  expectRejected(risk, buy("SPY", 101), RiskReason::BuyingPower,
                 "the order needs 10,100.00 of buying power and the broker reports 10,000.00 (check_buying_power)");
  expectRejected(risk, sell("SPY", 101), RiskReason::BuyingPower, "10,100.00");  // opens a short
  view.hold("orb", "SPY", 500);
  expectAccepted(risk, sell("SPY", 600));  // 500 held, 100 opens a short
  expectRejected(risk, sell("SPY", 601), RiskReason::BuyingPower, "needs 10,100.00");
  view.buying_power = 0;
  expectAccepted(risk, sell("SPY", 500));
  config.check_buying_power = false;
  expectAccepted(RiskService(config), buy("SPY", 101));
}

TEST_F(RiskTest, ABuyThatCoversAShortNeedsNoBuyingPower) {
  RiskConfig config = withLimits({});
  config.check_buying_power = true;
  RiskService risk(config);
  view.buying_power = 0;
  view.hold("orb", "SPY", -300);
  expectAccepted(risk, buy("SPY", 300));
  expectRejected(risk, buy("SPY", 301), RiskReason::BuyingPower, "needs 100.00");
}

class CoveredCallTest : public RiskTest {
 protected:
  void SetUp() override {
    RiskTest::SetUp();
    view.last[kCall] = 4;
    view.last[kPut] = 3;
  }
  RiskService service() {
    RiskConfig config = withLimits({});
    config.require_covered_calls = true;
    return RiskService(config);
  }
  static constexpr const char* kCall = "SPY261120C00590000";
  static constexpr const char* kPut = "SPY261120P00580000";
};

TEST_F(CoveredCallTest, SellingCallsNeedsOneHundredSharesEach) {
  auto risk = service();
  view.account["SPY"] = 200;
  expectAccepted(risk, option(sell(kCall, 2)));
  view.account["SPY"] = 100;
  auto decision = check(risk, option(sell(kCall, 2)));
  EXPECT_EQ(decision.reason, RiskReason::UncoveredCall);
  EXPECT_EQ(decision.detail,
            "selling 2 SPY calls needs 200 shares of SPY; the account holds 100 and 0 are already covering calls "
            "(require_covered_calls)");
}

TEST_F(CoveredCallTest, CallsAlreadySoldUseUpShares) {
  auto risk = service();
  view.short_calls["SPY"] = 1;
  view.account[kCall] = -1;
  view.account["SPY"] = 300;
  expectAccepted(risk, option(sell(kCall, 2)));
  view.account["SPY"] = 299;
  expectRejected(risk, option(sell(kCall, 2)), RiskReason::UncoveredCall,
                 "selling 2 SPY calls needs 200 shares of SPY; the account holds 299 and 100 are already covering");
}

TEST_F(CoveredCallTest, ClosingLongCallsAndSellingPutsNeedNoShares) {
  auto risk = service();
  view.hold("orb", kCall, 2);
  expectAccepted(risk, option(sell(kCall, 2)));
  expectRejected(risk, option(sell(kCall, 3)), RiskReason::UncoveredCall, "selling 1 SPY calls needs 100 shares");
  expectAccepted(risk, option(sell(kPut, 5)));
  RiskConfig off = withLimits({});
  expectAccepted(RiskService(off), option(sell(kCall, 5)));
}

TEST_F(RiskTest, ReducesCountsPendingExitsOnTheSameSide) {
  view.hold("orb", "SPY", 100);
  EXPECT_TRUE(RiskService::reduces(sell("SPY", 100), view));
  EXPECT_FALSE(RiskService::reduces(sell("SPY", 101), view));
  EXPECT_FALSE(RiskService::reduces(buy("SPY", 1), view));
  EXPECT_FALSE(RiskService::reduces(sell("SPY", 1, "gap"), view)) << "the account's shares are not gap's";
  view.pending[{"orb", "SPY", OrderSide::Sell}] = 60;
  EXPECT_TRUE(RiskService::reduces(sell("SPY", 40), view));
  EXPECT_FALSE(RiskService::reduces(sell("SPY", 41), view));
  view.hold("orb", "QQQ", -50);
  EXPECT_TRUE(RiskService::reduces(buy("QQQ", 50), view));
  EXPECT_FALSE(RiskService::reduces(sell("QQQ", 1), view));
}

TEST_F(RiskTest, ReducingLetsOnlyReducingOrdersThrough) {
  RiskService risk(withLimits({}));
  auto change = risk.setState(TradingState::Reducing, "operator: reduce only", kMonday10);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, TradingState::Active);
  EXPECT_EQ(change->to, TradingState::Reducing);
  EXPECT_FALSE(risk.setState(TradingState::Reducing, "again", kMonday10)) << "already there";
  view.hold("orb", "SPY", 100);
  view.pending[{"orb", "SPY", OrderSide::Sell}] = 60;
  expectAccepted(risk, sell("SPY", 40));
  expectRejected(risk, sell("SPY", 50), RiskReason::ReducingOnly,
                 "trading is REDUCING (operator: reduce only): this sell of 50 SPY would not reduce the position of "
                 "strategy 'orb'");
  expectRejected(risk, sell("SPY", 1, ""), RiskReason::ReducingOnly, "would not reduce the manual position");
  expectRejected(risk, buy("SPY", 1), RiskReason::ReducingOnly, "REDUCING");
  expectRejected(risk, sell("AAPL", 1), RiskReason::ReducingOnly, "REDUCING");
  expectAccepted(risk, buy("SPY", 1), kMonday10, OrderPurpose::Protective);
  expectAccepted(risk, sell("AAPL", 1), kMonday10, OrderPurpose::Flatten);
}

TEST_F(RiskTest, ReducingOrdersStillMeetThePerOrderLimits) {
  RiskService risk(withLimits({.max_order_quantity = 50}));
  ASSERT_TRUE(risk.setState(TradingState::Reducing, "operator", kMonday10));
  view.hold("orb", "SPY", 100);
  expectRejected(risk, sell("SPY", 100), RiskReason::MaxOrderQuantity, "max_order_quantity 50");
  expectAccepted(risk, sell("SPY", 100), kMonday10, OrderPurpose::Correction);
}

TEST_F(RiskTest, HaltedRefusesEverythingButTheHostsOwnExits) {
  RiskService risk(withLimits({.max_order_quantity = 10}));
  ASSERT_TRUE(risk.setState(TradingState::Halted, "operator: kill switch", kMonday10));
  view.hold("orb", "SPY", 100);
  expectRejected(risk, sell("SPY", 100), RiskReason::Halted, "trading is HALTED (operator: kill switch)");
  expectRejected(risk, buy("SPY", 1), RiskReason::Halted, "HALTED");
  expectAccepted(risk, sell("SPY", 10), kMonday10, OrderPurpose::Protective);
  expectAccepted(risk, sell("SPY", 100), kMonday10, OrderPurpose::Flatten);
  expectAccepted(risk, buy("SPY", 100), kMonday10, OrderPurpose::Correction);
  EXPECT_EQ(risk.state(), TradingState::Halted);
  EXPECT_EQ(risk.stateReason(), "operator: kill switch");
  EXPECT_EQ(risk.stateSince(), kMonday10);
}

TEST_F(RiskTest, ProtectiveOrdersSkipTheLimits) {
  RiskService risk(withLimits({.max_order_quantity = 10, .regular_hours_only = true}));
  view.regular = false;
  expectAccepted(risk, stop(sell("SPY", 100), 50), kMonday10, OrderPurpose::Protective);
}

RiskConfig lossConfig() {
  RiskConfig config = withLimits({.daily_loss_limit = 5000, .max_drawdown = 8000});
  config.loss_action = LossAction::Halted;
  config.drawdown_action = LossAction::Reducing;
  return config;
}

TEST(RiskPnl, DailyLossFromTheFirstNetOfTheDayHalts) {
  RiskService risk(lossConfig());
  EXPECT_FALSE(risk.onPnl(1000, kMonday10));  // the baseline
  EXPECT_FALSE(risk.onPnl(-3999, kMonday10 + kMinute));
  auto change = risk.onPnl(-4000, kMonday10 + 2 * kMinute);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, TradingState::Active);
  EXPECT_EQ(change->to, TradingState::Halted);
  EXPECT_EQ(change->reason, "daily loss 5,000.00 reached daily_loss_limit 5,000.00");
  EXPECT_EQ(change->ts_ns, kMonday10 + 2 * kMinute);
  EXPECT_EQ(risk.state(), TradingState::Halted);
  EXPECT_FALSE(risk.onPnl(2000, kMonday10 + 3 * kMinute)) << "a recovery does not lift the halt";
  EXPECT_EQ(risk.state(), TradingState::Halted);
}

TEST(RiskPnl, AnOperatorResumeAfterALimitCountsTheLimitAgainFromThere) {
  RiskService risk(lossConfig());
  EXPECT_FALSE(risk.onPnl(0, kMonday10));
  ASSERT_TRUE(risk.onPnl(-5'000, kMonday10 + kMinute));
  ASSERT_EQ(risk.state(), TradingState::Halted);
  // The operator takes over at a 5,000 loss; the same loss does not halt again.
  ASSERT_TRUE(risk.setState(TradingState::Reducing, "operator: resume", kMonday10 + 2 * kMinute));
  EXPECT_FALSE(risk.onPnl(-5'000, kMonday10 + 3 * kMinute));
  // The allowance is the day's: it survives a restart the same day.
  RiskService restored(lossConfig());
  ASSERT_TRUE(restored.restore(risk.encode(), kMonday10 + 3 * kMinute));
  EXPECT_FALSE(restored.onPnl(-9'999, kMonday10 + 4 * kMinute));
  EXPECT_EQ(restored.state(), TradingState::Reducing);
  EXPECT_FALSE(risk.onPnl(-9'999, kMonday10 + 4 * kMinute));
  EXPECT_EQ(risk.state(), TradingState::Reducing);
  // A further full limit does, and the reason says so.
  auto again = risk.onPnl(-10'000, kMonday10 + 5 * kMinute);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->to, TradingState::Halted);
  EXPECT_EQ(again->reason, "daily loss 10,000.00 reached daily_loss_limit 5,000.00 more since the operator resumed");
}

TEST(RiskPnl, DrawdownFromTheDaysHighReducesAndALossThenHalts) {
  RiskService risk(lossConfig());
  EXPECT_FALSE(risk.onPnl(0, kMonday10));
  EXPECT_FALSE(risk.onPnl(10'000, kMonday10 + kMinute));
  EXPECT_FALSE(risk.onPnl(2'001, kMonday10 + 2 * kMinute));
  auto reduce = risk.onPnl(2'000, kMonday10 + 3 * kMinute);
  ASSERT_TRUE(reduce);
  EXPECT_EQ(reduce->to, TradingState::Reducing);
  EXPECT_EQ(reduce->reason, "drawdown 8,000.00 from the day's high reached max_drawdown 8,000.00");
  EXPECT_FALSE(risk.onPnl(1'000, kMonday10 + 4 * kMinute)) << "already REDUCING";
  auto halt = risk.onPnl(-5'000, kMonday10 + 5 * kMinute);
  ASSERT_TRUE(halt);
  EXPECT_EQ(halt->from, TradingState::Reducing);
  EXPECT_EQ(halt->to, TradingState::Halted);
  EXPECT_NE(halt->reason.find("daily_loss_limit"), std::string::npos) << "the stricter of the two wins";
}

TEST(RiskPnl, LimitsNeverLoosenAnOperatorState) {
  RiskService risk(lossConfig());
  ASSERT_TRUE(risk.setState(TradingState::Halted, "operator: kill switch", kMonday10));
  EXPECT_FALSE(risk.onPnl(0, kMonday10));
  EXPECT_FALSE(risk.onPnl(10'000, kMonday10 + kMinute));
  EXPECT_FALSE(risk.onPnl(1'000, kMonday10 + 2 * kMinute)) << "the drawdown wants REDUCING, which is looser";
  EXPECT_EQ(risk.state(), TradingState::Halted);
  EXPECT_FALSE(risk.onPnl(-9'000, kMonday10 + 3 * kMinute)) << "both limits are reached; neither is stricter";
  EXPECT_EQ(risk.state(), TradingState::Halted);
  EXPECT_EQ(risk.stateReason(), "operator: kill switch");
  // The next day the operator's halt stays.
  EXPECT_FALSE(risk.onPnl(-9'000, kTuesday10));
  EXPECT_EQ(risk.state(), TradingState::Halted);
}

TEST(RiskPnl, ANewExchangeDayLiftsALimitState) {
  RiskService risk(lossConfig());
  EXPECT_FALSE(risk.onPnl(0, kMonday10));
  ASSERT_TRUE(risk.onPnl(-6'000, kMonday10 + kMinute));
  // 23:59 is still Monday in New York although it is Tuesday in UTC.
  EXPECT_FALSE(risk.onPnl(-6'500, fromExchangeTime(20261116, 23, 59)));
  auto reset = risk.onPnl(-6'500, fromExchangeTime(20261117, 0, 1));
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->from, TradingState::Halted);
  EXPECT_EQ(reset->to, TradingState::Active);
  EXPECT_EQ(reset->reason, "new exchange day 2026-11-17: loss limits reset");
  EXPECT_FALSE(risk.onPnl(-11'499, kTuesday10)) << "the new baseline is -6,500";
  EXPECT_TRUE(risk.onPnl(-11'500, kTuesday10 + kMinute));
}

TEST(RiskPnl, TheOperatorTakingOverALimitStateKeepsItNextDay) {
  RiskService risk(lossConfig());
  EXPECT_FALSE(risk.onPnl(0, kMonday10));
  ASSERT_TRUE(risk.onPnl(-6'000, kMonday10 + kMinute));
  auto change = risk.setState(TradingState::Halted, "operator: kill switch", kMonday10 + 2 * kMinute);
  ASSERT_TRUE(change) << "the same state, now the operator's";
  EXPECT_EQ(change->from, TradingState::Halted);
  EXPECT_EQ(change->to, TradingState::Halted);
  EXPECT_FALSE(risk.onPnl(0, kTuesday10));
  EXPECT_EQ(risk.state(), TradingState::Halted);
}

TEST(RiskPersistence, RestoreTheSameDayKeepsALimitHaltTheBaselineAndTheStreaks) {
  RiskConfig config = lossConfig();
  config.limits.cool_down_after_losses = 3;
  config.limits.cool_down_minutes = 15;
  RiskService before(config);
  EXPECT_FALSE(before.onPnl(500, kMonday10));
  ASSERT_TRUE(before.onPnl(-4'500, kMonday10 + kMinute));
  for (int i = 0; i < 4; ++i) before.onClosingFill("orb", -10, kMonday10 + kMinute);  // a cool-down, then 1 more

  // The record is the JSON library's own text for it (older records read alike).
  const std::string record = before.encode();
  EXPECT_EQ(record, jsonText(nlohmann::json::parse(record)));
  EXPECT_TRUE(nlohmann::json::parse(record)["strategies"].contains("orb")) << record;

  RiskService after(config);
  ASSERT_TRUE(after.restore(record, kMonday10 + 30 * kMinute));
  EXPECT_EQ(after.state(), TradingState::Halted);
  EXPECT_EQ(after.stateReason(), "daily loss 5,000.00 reached daily_loss_limit 5,000.00");
  EXPECT_EQ(after.stateSince(), kMonday10 + kMinute);
  EXPECT_FALSE(after.onPnl(1'000, kMonday10 + 31 * kMinute));
  EXPECT_EQ(after.state(), TradingState::Halted);
  EXPECT_EQ(nlohmann::json::parse(after.json(kMonday10 + 31 * kMinute))["daily_pnl"], 500)
      << "the baseline of 500 was kept";
  EXPECT_EQ(after.coolDownUntil("orb"), kMonday10 + 16 * kMinute);
  after.onClosingFill("orb", -10, kMonday10 + 40 * kMinute);
  EXPECT_EQ(after.coolDownUntil("orb"), kMonday10 + 16 * kMinute) << "the streak was 1, now 2";
  after.onClosingFill("orb", -10, kMonday10 + 41 * kMinute);
  EXPECT_EQ(after.coolDownUntil("orb"), kMonday10 + 56 * kMinute);
}

TEST(RiskPersistence, RestoreNextDayLiftsALimitStateButKeepsAnOperatorKill) {
  RiskService limit_halted(lossConfig());
  EXPECT_FALSE(limit_halted.onPnl(0, kMonday10));
  ASSERT_TRUE(limit_halted.onPnl(-5'000, kMonday10 + kMinute));
  RiskService restored(lossConfig());
  ASSERT_TRUE(restored.restore(limit_halted.encode(), kTuesday10));
  EXPECT_EQ(restored.state(), TradingState::Active);
  EXPECT_EQ(restored.stateReason(), "new exchange day 2026-11-17: loss limits reset");
  EXPECT_FALSE(restored.onPnl(-5'000, kTuesday10 + kMinute)) << "Tuesday's baseline starts here";

  RiskService killed(lossConfig());
  ASSERT_TRUE(killed.setState(TradingState::Halted, "operator: kill switch", kMonday10));
  RiskService restored_kill(lossConfig());
  ASSERT_TRUE(restored_kill.restore(killed.encode(), kTuesday10));
  EXPECT_EQ(restored_kill.state(), TradingState::Halted);
  EXPECT_EQ(restored_kill.stateReason(), "operator: kill switch");
}

// A strategy's own loss limits stop that strategy alone: its opening orders
// are refused, its exits and the other strategies' orders pass.
TEST_F(RiskTest, AStrategysOwnDailyLossLimitStopsOnlyThatStrategy) {
  RiskService risk(lossConfig());  // loss_action halted, drawdown_action reducing
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.daily_loss_limit = 500}));
  EXPECT_FALSE(risk.onStrategyPnl("orb", 200, kMonday10));  // the baseline
  EXPECT_FALSE(risk.onStrategyPnl("orb", -299, kMonday10 + kMinute));
  auto change = risk.onStrategyPnl("orb", -300, kMonday10 + 2 * kMinute);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->strategy, "orb");
  EXPECT_EQ(change->to, TradingState::Halted);
  EXPECT_EQ(change->reason, "its daily loss 500.00 reached its daily_loss_limit 500.00");
  EXPECT_EQ(risk.state(), TradingState::Active) << "the account trades on";
  EXPECT_EQ(risk.strategyState("orb"), TradingState::Halted);
  expectRejected(risk, buy("SPY", 1), RiskReason::Halted, "strategy 'orb' is HALTED (its daily loss 500.00",
                 kMonday10 + 3 * kMinute);
  expectAccepted(risk, buy("SPY", 1, "gap"), kMonday10 + 3 * kMinute);
  expectAccepted(risk, buy("SPY", 1, ""), kMonday10 + 3 * kMinute);
  EXPECT_FALSE(risk.onStrategyPnl("orb", 1000, kMonday10 + 4 * kMinute)) << "a recovery does not lift it";
  auto json = nlohmann::json::parse(risk.json(kMonday10 + 4 * kMinute));
  EXPECT_EQ(json["strategy_states"]["orb"]["state"], "HALTED") << json.dump();
  EXPECT_EQ(json["strategy_states"]["orb"]["daily_pnl"], 800);

  // A restart the same day keeps it; the next day lifts it.
  RiskService same_day(lossConfig());
  ASSERT_TRUE(same_day.setStrategyLimits("orb", {.daily_loss_limit = 500}));
  ASSERT_TRUE(same_day.restore(risk.encode(), kMonday10 + 5 * kMinute));
  EXPECT_EQ(same_day.strategyState("orb"), TradingState::Halted);
  expectRejected(same_day, buy("SPY", 1), RiskReason::Halted, "strategy 'orb' is HALTED", kMonday10 + 5 * kMinute);
  RiskService next_day(lossConfig());
  ASSERT_TRUE(next_day.restore(risk.encode(), kTuesday10));
  EXPECT_EQ(next_day.strategyState("orb"), TradingState::Active);
  expectAccepted(next_day, buy("SPY", 1), kTuesday10);

  // New limits (an edited YAML, reloaded) lift it until they are reached.
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.daily_loss_limit = 2000}));
  expectAccepted(risk, buy("SPY", 1), kMonday10 + 6 * kMinute);
  EXPECT_FALSE(risk.onStrategyPnl("orb", -1799, kMonday10 + 7 * kMinute));
  EXPECT_TRUE(risk.onStrategyPnl("orb", -1800, kMonday10 + 8 * kMinute));
}

TEST_F(RiskTest, AStrategysOwnDrawdownLimitLetsItOnlyReduce) {
  RiskService risk(lossConfig());
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_drawdown = 300}));
  EXPECT_FALSE(risk.onStrategyPnl("orb", 0, kMonday10));
  EXPECT_FALSE(risk.onStrategyPnl("orb", 400, kMonday10 + kMinute));
  auto change = risk.onStrategyPnl("orb", 100, kMonday10 + 2 * kMinute);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, TradingState::Reducing);
  view.hold("orb", "SPY", 10);
  expectRejected(risk, buy("SPY", 1), RiskReason::ReducingOnly, "strategy 'orb' is REDUCING (its drawdown 300.00",
                 kMonday10 + 3 * kMinute);
  expectAccepted(risk, sell("SPY", 10), kMonday10 + 3 * kMinute);
  // Without limits of its own a strategy is never stopped by its P&L.
  EXPECT_FALSE(risk.onStrategyPnl("gap", -1e6, kMonday10 + 4 * kMinute));
  expectAccepted(risk, buy("SPY", 1, "gap"), kMonday10 + 4 * kMinute);
}

TEST(RiskPersistence, RestoreRefusesTextThatIsNotOurs) {
  RiskService risk(lossConfig());
  ASSERT_TRUE(risk.setState(TradingState::Reducing, "operator", kMonday10));
  auto garbage = risk.restore("not json", kMonday10);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::Corruption);
  auto other = risk.restore(R"({"version":1,"state":"ACTIVE"})", kMonday10);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("unknown format"), std::string::npos) << other.error().message;
  auto json = nlohmann::json::parse(risk.encode());
  json["state"] = "PAUSED";
  auto bad_state = risk.restore(json.dump(), kMonday10);
  ASSERT_FALSE(bad_state);
  EXPECT_NE(bad_state.error().message.find("PAUSED"), std::string::npos);
  json = nlohmann::json::parse(risk.encode());
  json["state"] = "ACTIVE";
  json.erase("last_net");
  EXPECT_FALSE(risk.restore(json.dump(), kMonday10));
  EXPECT_EQ(risk.state(), TradingState::Reducing) << "a refused record changes nothing";
}

RiskConfig coolDownConfig() { return withLimits({.cool_down_after_losses = 3, .cool_down_minutes = 15}); }

TEST_F(RiskTest, ConsecutiveLossesStartACoolDownThatExpires) {
  RiskService risk(coolDownConfig());
  risk.onClosingFill("orb", -10, kMonday10);
  risk.onClosingFill("orb", -10, kMonday10 + kMinute);
  EXPECT_EQ(risk.coolDownUntil("orb"), 0);
  risk.onClosingFill("orb", -10, kMonday10 + 2 * kMinute);
  const int64_t until = kMonday10 + 17 * kMinute;
  EXPECT_EQ(risk.coolDownUntil("orb"), until);
  expectRejected(risk, buy("SPY", 1), RiskReason::CoolDown,
                 "strategy 'orb' is cooling down until 2026-11-16T10:17:00-05:00 after 3 losing trades in a row "
                 "(cool_down_after_losses 3, cool_down_minutes 15)",
                 kMonday10 + 3 * kMinute);
  expectAccepted(risk, buy("SPY", 1, "gap"), kMonday10 + 3 * kMinute);
  view.hold("orb", "SPY", 10);
  expectAccepted(risk, sell("SPY", 10), kMonday10 + 3 * kMinute);  // getting out is allowed
  expectAccepted(risk, buy("SPY", 1), until);
  auto json = nlohmann::json::parse(risk.json(kMonday10 + 3 * kMinute));
  EXPECT_EQ(json["cool_downs"]["orb"], "2026-11-16T10:17:00-05:00");
  EXPECT_TRUE(nlohmann::json::parse(risk.json(until))["cool_downs"].empty());
}

TEST_F(RiskTest, AWinResetsTheLosingStreak) {
  RiskService risk(coolDownConfig());
  risk.onClosingFill("orb", -10, kMonday10);
  risk.onClosingFill("orb", -10, kMonday10);
  risk.onClosingFill("orb", 5, kMonday10);
  risk.onClosingFill("orb", -10, kMonday10);
  risk.onClosingFill("orb", -10, kMonday10);
  EXPECT_EQ(risk.coolDownUntil("orb"), 0);
  risk.onClosingFill("gap", -10, kMonday10);
  EXPECT_EQ(risk.coolDownUntil("orb"), 0) << "streaks are per strategy";
  for (int i = 0; i < 5; ++i) risk.onClosingFill("", -10, kMonday10);
  EXPECT_EQ(risk.coolDownUntil(""), 0) << "manual orders never cool down";
  risk.onClosingFill("orb", -10, kMonday10);
  EXPECT_EQ(risk.coolDownUntil("orb"), kMonday10 + 15 * kMinute);
}

TEST_F(RiskTest, AStrategyCanHaveAStricterCoolDown) {
  RiskService risk(coolDownConfig());
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.cool_down_after_losses = 1, .cool_down_minutes = 30}));
  risk.onClosingFill("orb", -1, kMonday10);
  EXPECT_EQ(risk.coolDownUntil("orb"), kMonday10 + 30 * kMinute);
}

TEST(RiskStrategyLimits, LooserLimitsAreRefusedByName) {
  RiskService risk(withLimits({.max_order_quantity = 100, .regular_hours_only = true, .duplicate_window_s = 2}));
  auto quantity = risk.setStrategyLimits("orb", {.max_order_quantity = 500});
  ASSERT_FALSE(quantity);
  EXPECT_EQ(quantity.error().message, "risk.strategies.orb.max_order_quantity: 500 is looser than the global 100");
  auto hours = risk.setStrategyLimits("orb", {.regular_hours_only = false});
  ASSERT_FALSE(hours);
  EXPECT_EQ(hours.error().message, "risk.strategies.orb.regular_hours_only: false is looser than the global true");
  auto window = risk.setStrategyLimits("orb", {.duplicate_window_s = 1});
  ASSERT_FALSE(window);
  EXPECT_EQ(window.error().message, "risk.strategies.orb.duplicate_window_s: 1 is looser than the global 2");
  EXPECT_EQ(risk.effectiveLimits("orb").max_order_quantity, 100) << "a refused set changes nothing";
  EXPECT_TRUE(risk.setStrategyLimits(
      "orb",
      {.max_order_quantity = 100, .max_gross_exposure = 5, .regular_hours_only = true, .duplicate_window_s = 5}));
}

TEST(RiskJson, ShowsStateDayAndOnlyTheLimitsThatAreSet) {
  RiskService risk(lossConfig());
  ASSERT_TRUE(risk.setStrategyLimits("orb", {.max_order_quantity = 10}));
  EXPECT_FALSE(risk.onPnl(100, kMonday10));
  EXPECT_FALSE(risk.onPnl(600, kMonday10 + kMinute));
  EXPECT_FALSE(risk.onPnl(-400, kMonday10 + 2 * kMinute));
  auto json = nlohmann::json::parse(risk.json(kMonday10 + 3 * kMinute));
  EXPECT_EQ(json["state"], "ACTIVE");
  EXPECT_EQ(json["day"], "2026-11-16");
  EXPECT_EQ(json["daily_pnl"], -500);
  EXPECT_EQ(json["day_high"], 500);
  EXPECT_EQ(json["drawdown"], 1000);
  EXPECT_EQ(json["limits"], nlohmann::json({{"daily_loss_limit", 5000}, {"max_drawdown", 8000}}));
  EXPECT_EQ(json["strategies"]["orb"], nlohmann::json({{"max_order_quantity", 10}}));
  EXPECT_EQ(json["loss_action"], "halted");
  EXPECT_EQ(json["drawdown_action"], "reducing");
  EXPECT_EQ(json["check_buying_power"], false);
  ASSERT_TRUE(risk.setState(TradingState::Halted, "operator: kill switch", kMonday10 + 4 * kMinute));
  json = nlohmann::json::parse(risk.json(kMonday10 + 5 * kMinute));
  EXPECT_EQ(json["state"], "HALTED");
  EXPECT_EQ(json["reason"], "operator: kill switch");
  EXPECT_EQ(json["since"], "2026-11-16T10:04:00-05:00");
}

}  // namespace
}  // namespace th
