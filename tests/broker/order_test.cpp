// The order model: which intents are accepted, which status reports from a
// broker may change an order, and the JSON an order is stored and served as.
#include "broker/order.h"
#include "broker/instrument.h"

#include <gtest/gtest.h>

#include "broker/order_json.h"
#include "core/json.h"
#include "core/time.h"

namespace th {
namespace {

OrderIntent limitBuy(double quantity = 100, double limit = 590) {
  OrderIntent intent;
  intent.symbol = "SPY";
  intent.side = OrderSide::Buy;
  intent.type = OrderType::Limit;
  intent.quantity = quantity;
  intent.limit_price = limit;
  return intent;
}

std::string errorOf(const OrderIntent& intent) {
  auto ok = validateIntent(intent);
  return ok ? std::string("(accepted)") : ok.error().message;
}

TEST(OrderIntent, WellFormedOrdersPass) {
  EXPECT_TRUE(validateIntent(limitBuy()));
  OrderIntent market;
  market.symbol = "AAPL";
  market.quantity = 0.5;  // fractional shares are an equity matter for the broker
  EXPECT_TRUE(validateIntent(market));
  OrderIntent bracket = limitBuy();
  bracket.order_class = OrderClass::Bracket;
  bracket.take_profit_price = 595;
  bracket.stop_loss_price = 587;
  bracket.stop_loss_limit_price = 586.5;
  EXPECT_TRUE(validateIntent(bracket));
  OrderIntent option = limitBuy(2, 1.25);
  option.symbol = "SPY261120C00590000";
  option.asset_class = AssetClass::Option;
  EXPECT_TRUE(validateIntent(option));
  OrderIntent stop;
  stop.symbol = "QQQ";
  stop.side = OrderSide::Sell;
  stop.type = OrderType::StopLimit;
  stop.quantity = 10;
  stop.stop_price = 500;
  stop.limit_price = 499.5;
  stop.time_in_force = TimeInForce::Gtc;
  EXPECT_TRUE(validateIntent(stop));
}

TEST(OrderIntent, EachMistakeIsNamed) {
  auto intent = limitBuy(0);
  EXPECT_EQ(errorOf(intent), "quantity: must be more than 0, got 0");
  intent = limitBuy(100, 0);
  EXPECT_EQ(errorOf(intent), "limit_price: required for a limit order");
  intent = limitBuy();
  intent.type = OrderType::Market;
  EXPECT_EQ(errorOf(intent), "limit_price: a market order has none");
  intent = limitBuy();
  intent.type = OrderType::StopLimit;
  EXPECT_EQ(errorOf(intent), "stop_price: required for a stop_limit order");
  intent = limitBuy();
  intent.symbol = "";
  EXPECT_EQ(errorOf(intent), "symbol: missing");
  intent = limitBuy(2, 1.25);
  intent.asset_class = AssetClass::Option;
  EXPECT_EQ(errorOf(intent), "symbol: 'SPY' is not an OCC option symbol (e.g. SPY261120C00590000)");
  intent.symbol = "SPY261120C00590000";
  intent.quantity = 1.5;
  EXPECT_EQ(errorOf(intent), "quantity: options trade in whole contracts, got 1.5");
  intent = limitBuy();
  intent.symbol = "SPY261120P00580000";
  EXPECT_EQ(errorOf(intent), "asset_class: 'SPY261120P00580000' is an option symbol; say asset_class option");
  intent = limitBuy();
  intent.take_profit_price = 600;
  EXPECT_EQ(errorOf(intent), "order_class: take_profit/stop_loss/exit_at legs need a bracket, oco or oto order");
  intent.order_class = OrderClass::Bracket;
  EXPECT_EQ(errorOf(intent), "stop_loss_price: a bracket order needs both a take-profit and a stop-loss");
  intent.stop_loss_price = 601;
  EXPECT_EQ(errorOf(intent), "take_profit_price: 600 is not on the profit side of stop_loss_price 601 for a buy");
  intent.take_profit_price = 589;
  intent.stop_loss_price = 580;
  EXPECT_EQ(errorOf(intent),
            "limit_price: the entry 590 must lie between stop_loss_price 580 and take_profit_price 589");
  intent = limitBuy();
  intent.order_class = OrderClass::Oto;
  EXPECT_EQ(errorOf(intent), "order_class: an oto order has one exit: a take-profit, a stop-loss or a time exit (with or without one of the two)");
  intent.take_profit_price = -1;
  EXPECT_EQ(errorOf(intent), "take_profit_price: must be above 0, got -1");
}

// What enters at the edge is a quantity a broker can fill, a symbol by the
// grammar and a strategy id that is a safe name: the rest is refused with
// the field and the reason.
TEST(OrderIntent, QuantitiesSymbolsAndIdsOutsideTheGrammarAreRefused) {
  auto intent = limitBuy(1e-300);
  EXPECT_EQ(errorOf(intent), "quantity: 1e-300 is finer than 1e-09 (fractional quantities go to nine decimal places)");
  intent = limitBuy(1.0000000001);
  EXPECT_NE(errorOf(intent).find("finer than 1e-09"), std::string::npos);
  intent = limitBuy(2e9);
  EXPECT_EQ(errorOf(intent), "quantity: 2000000000 is more than 1000000000");
  EXPECT_TRUE(validateIntent(limitBuy(0.123456789)));
  EXPECT_TRUE(validateIntent(limitBuy(999'999'999)));
  intent = limitBuy(1, 1e300);
  EXPECT_EQ(errorOf(intent), "limit_price: 1e+300 is more than 1000000000");
  for (auto [symbol, reason] : std::initializer_list<std::pair<std::string, std::string>>{
           {"SP\nY", "symbol: 'SP\\x0aY' has a character other than A-Z, 0-9, '.', '-' and '/'"},
           {std::string("SPY\0X", 5), "symbol: 'SPY\\x00X' has a character other than A-Z, 0-9, '.', '-' and '/'"},
           {std::string(10'000, 'A'),
            "symbol: 'AAAAAAAAAAAAAAAAAAAAAAAA...' is 10000 characters: a symbol has at most 16 (or is an OCC option "
            "symbol)"},
           {"1ABC", "symbol: '1ABC' does not start with a letter A-Z"},
           {"", "symbol: missing"}}) {
    intent = limitBuy();
    intent.symbol = symbol;
    EXPECT_EQ(errorOf(intent), reason);
  }
  for (const char* fine : {"BRK.B", "BF-B", "BTC/USD", "SPY"}) {
    intent = limitBuy();
    intent.symbol = fine;
    EXPECT_TRUE(validateIntent(intent)) << fine;
  }
  intent = limitBuy();
  intent.strategy = "../x";
  EXPECT_EQ(errorOf(intent), "strategy: '../x' is not a strategy id (1-64 of a-z, 0-9, _ and -)");
}

TEST(OrderIntent, OccSymbols) {
  EXPECT_TRUE(isOccSymbol("SPY261120C00590000"));
  EXPECT_TRUE(isOccSymbol("SPY   261120C00590000"));
  EXPECT_TRUE(isOccSymbol("A261120P00010500"));
  EXPECT_FALSE(isOccSymbol("SPY"));
  EXPECT_FALSE(isOccSymbol("SPY261320C00590000"));  // month 13
  EXPECT_FALSE(isOccSymbol("SPY261120X00590000"));
  EXPECT_FALSE(isOccSymbol("SPY261120C0059000"));
}

Order working(OrderStatus status, double quantity = 100, double filled = 0) {
  Order order;
  order.client_order_id = "TH-20261117-000001";
  order.intent = limitBuy(quantity);
  order.status = status;
  order.filled_quantity = filled;
  return order;
}

TEST(OrderTransitions, TheUsualLifeOfAnOrder) {
  auto order = working(OrderStatus::PendingNew);
  EXPECT_EQ(checkTransition(order, OrderStatus::Accepted, 0).check, TransitionCheck::Apply);
  order.status = OrderStatus::Accepted;
  EXPECT_EQ(checkTransition(order, OrderStatus::PartiallyFilled, 40).check, TransitionCheck::Apply);
  order.status = OrderStatus::PartiallyFilled;
  order.filled_quantity = 40;
  EXPECT_EQ(checkTransition(order, OrderStatus::PartiallyFilled, 70).check, TransitionCheck::Apply);
  EXPECT_EQ(checkTransition(order, OrderStatus::PartiallyFilled, 40).check, TransitionCheck::Repeat);
  EXPECT_EQ(checkTransition(order, OrderStatus::PendingCancel, 40).check, TransitionCheck::Apply);
  order.status = OrderStatus::PendingCancel;
  // The cancel loses the race to the last fill.
  EXPECT_EQ(checkTransition(order, OrderStatus::Filled, 100).check, TransitionCheck::Apply);
  EXPECT_EQ(checkTransition(order, OrderStatus::Canceled, 40).check, TransitionCheck::Apply);
}

TEST(OrderTransitions, IllegalReportsAreRefusedWithTheReason) {
  auto filled = working(OrderStatus::Filled, 100, 100);
  auto verdict = checkTransition(filled, OrderStatus::Canceled, 100);
  EXPECT_EQ(verdict.check, TransitionCheck::Illegal);
  EXPECT_EQ(verdict.reason, "order TH-20261117-000001: filled -> canceled refused: the order is already filled");
  EXPECT_EQ(checkTransition(filled, OrderStatus::Filled, 100).check, TransitionCheck::Repeat);

  auto partial = working(OrderStatus::PartiallyFilled, 100, 60);
  verdict = checkTransition(partial, OrderStatus::PartiallyFilled, 50);
  EXPECT_EQ(verdict.check, TransitionCheck::Illegal);
  EXPECT_NE(verdict.reason.find("would fall from 60 to 50"), std::string::npos);
  verdict = checkTransition(partial, OrderStatus::PartiallyFilled, 120);
  EXPECT_NE(verdict.reason.find("120 filled is more than the order's 100"), std::string::npos);
  verdict = checkTransition(partial, OrderStatus::Accepted, 60);
  EXPECT_EQ(verdict.check, TransitionCheck::Illegal);
  verdict = checkTransition(partial, OrderStatus::Rejected, 60);
  EXPECT_EQ(verdict.check, TransitionCheck::Illegal);
  verdict = checkTransition(partial, OrderStatus::Filled, 90);
  EXPECT_NE(verdict.reason.find("filled with 90 of 100"), std::string::npos);
  verdict = checkTransition(working(OrderStatus::Accepted), OrderStatus::PartiallyFilled, 0);
  EXPECT_EQ(verdict.check, TransitionCheck::Illegal);
  verdict = checkTransition(working(OrderStatus::PendingNew), OrderStatus::Replaced, 0);
  EXPECT_NE(verdict.reason.find("not a status change a broker can make"), std::string::npos);
  for (auto terminal : {OrderStatus::Canceled, OrderStatus::Rejected, OrderStatus::Expired, OrderStatus::Replaced}) {
    EXPECT_EQ(checkTransition(working(terminal), OrderStatus::Accepted, 0).check, TransitionCheck::Illegal);
    EXPECT_TRUE(isTerminal(terminal));
  }
  EXPECT_FALSE(isTerminal(OrderStatus::PendingCancel));
}

TEST(OrderNames, RoundTrip) {
  for (int i = 1; i <= 10; ++i) {
    auto status = static_cast<OrderStatus>(i);
    EXPECT_EQ(parseOrderStatus(toString(status)), status);
  }
  EXPECT_EQ(parseOrderType("stop_limit"), OrderType::StopLimit);
  EXPECT_EQ(parseTimeInForce("fok"), TimeInForce::Fok);
  EXPECT_EQ(parseOrderClass("oco"), OrderClass::Oco);
  EXPECT_EQ(parseOrderSide("sell"), OrderSide::Sell);
  EXPECT_EQ(parseAssetClass("option"), AssetClass::Option);
  EXPECT_FALSE(parseOrderType("trailing_stop"));
}

// The stored text is exactly what the JSON library prints for the same
// object (what the API and older records hold), and reads back whole.
TEST(OrderJson, IsTheLibrarysCanonicalTextAndReadsBack) {
  Order order;
  order.client_order_id = "thabc-20261120-000042";
  order.broker_order_id = "paper-7";
  order.broker = "paper";
  order.parent_id = "thabc-20261120-000041";
  order.role = OrderRole::StopLoss;
  order.intent = limitBuy(200, 101.6);
  order.intent.strategy = "orb";
  order.intent.take_profit_offset = 8;
  order.intent.stop_loss_offset = 0.1 + 0.2;  // 0.30000000000000004: shortest round trip, not 0.3
  order.intent.take_profit_risk_multiple = 1e-7;
  order.intent.stop_loss_price = 1e20;
  order.intent.exit_at_ns = fromExchangeTime(20261120, 15, 56);
  order.status = OrderStatus::PartiallyFilled;
  order.filled_quantity = 37;
  order.average_fill_price = -0.0;
  order.native_leg = true;
  order.created_ns = fromExchangeTime(20261120, 9, 50, 1) + 123;
  order.updated_ns = fromExchangeTime(20260715, 10, 0);
  for (std::string reason : {std::string("plain words"), std::string("quote \" and \\ back\tslash\n"),
                             std::string("caf\xc3\xa9 \x01 control"), std::string("bad \xff byte")}) {
    order.reason = reason;
    const std::string text = encodeOrder(order);
    EXPECT_EQ(text, jsonText(nlohmann::json::parse(text))) << reason;
    auto back = decodeOrder(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(encodeOrder(*back), text);
    if (reason != "bad \xff byte") {
      EXPECT_EQ(back->reason, reason);
    }
  }
  const std::string text = encodeOrder(order);
  EXPECT_NE(text.find(R"("quantity":200.0,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("stop_loss_offset":0.30000000000000004,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("exit_at":"2026-11-20T15:56:00-05:00",)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("updated":"2026-07-15T10:00:00-04:00",)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("role":"stop_loss",)"), std::string::npos) << text;
}

}  // namespace
}  // namespace th
