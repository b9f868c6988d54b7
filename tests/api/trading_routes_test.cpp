// The order, position, account and risk routes over a real server on
// 127.0.0.1: what reaches the service, how its answers and errors become
// HTTP statuses, and that malformed requests are refused by name before
// the service sees them.
#include "api/trading_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/trading_support.h"
#include "support/http_client.h"

namespace th::test {
namespace {

std::string parseError(const std::string& body) {
  auto intent = parseOrderIntent(body, nullptr);
  EXPECT_FALSE(intent) << body;
  if (intent) return "";
  EXPECT_EQ(intent.error().code, ErrorCode::InvalidArgument);
  return intent.error().message;
}

TEST(ParseOrderIntent, ErrorsNameTheKey) {
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":1,"foo":1})"), "unknown key 'foo'");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":"10"})"), "quantity: expected a number");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":true})"), "quantity: expected a number");
  EXPECT_EQ(parseError(R"({"symbol":7,"side":"buy","quantity":1})"), "symbol: expected a string");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"long","quantity":1})"), "side: unknown 'long' (buy or sell)");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":1,"type":"stoplimit"})"),
            "type: unknown 'stoplimit' (market, limit, stop or stop_limit)");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":1,"time_in_force":"week"})"),
            "time_in_force: unknown 'week' (day, gtc, ioc or fok)");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":1,"limit_price":"500"})"),
            "limit_price: expected a number");
  EXPECT_EQ(parseError(R"({"side":"buy","quantity":1})"), "symbol: missing");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","quantity":1})"), "side: missing (buy or sell)");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"sell"})"), "quantity: missing");
  EXPECT_EQ(parseError("[1,2]"), "body: expected a JSON object");
  EXPECT_EQ(parseError("{\"symbol\":"), "body: not valid JSON");
  // The intent is then checked as a whole.
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":1,"type":"limit"})"),
            "limit_price: required for a limit order");
  EXPECT_EQ(parseError(R"({"symbol":"SPY","side":"buy","quantity":-5})"), "quantity: must be more than 0, got -5");
}

TEST(ParseOrderIntent, DefaultsAndSpellings) {
  std::string broker = "unchanged";
  auto market = parseOrderIntent(R"({"symbol":"spy","side":"BUY","quantity":2.5,"limit_price":null})", &broker);
  ASSERT_TRUE(market) << market.error().message;
  EXPECT_EQ(market->symbol, "SPY");
  EXPECT_EQ(market->side, OrderSide::Buy);
  EXPECT_EQ(market->quantity, 2.5);
  EXPECT_EQ(market->type, OrderType::Market);
  EXPECT_EQ(market->time_in_force, TimeInForce::Day);
  EXPECT_EQ(market->order_class, OrderClass::Simple);
  EXPECT_EQ(market->asset_class, AssetClass::Equity);
  EXPECT_EQ(market->strategy, "");
  EXPECT_EQ(broker, "unchanged");

  auto bracket = parseOrderIntent(
      R"({"symbol":"SPY","side":"sell","quantity":3,"type":"stop_limit","stop_price":499,"limit_price":498.5,)"
      R"("time_in_force":"gtc","order_class":"bracket","take_profit_price":480,"stop_loss_price":510,)"
      R"("stop_loss_limit_price":511,"strategy":"sma_cross","broker":"paper"})",
      &broker);
  ASSERT_TRUE(bracket) << bracket.error().message;
  EXPECT_EQ(bracket->side, OrderSide::Sell);
  EXPECT_EQ(bracket->type, OrderType::StopLimit);
  EXPECT_EQ(bracket->stop_price, 499);
  EXPECT_EQ(bracket->limit_price, 498.5);
  EXPECT_EQ(bracket->time_in_force, TimeInForce::Gtc);
  EXPECT_EQ(bracket->order_class, OrderClass::Bracket);
  EXPECT_EQ(bracket->take_profit_price, 480);
  EXPECT_EQ(bracket->stop_loss_price, 510);
  EXPECT_EQ(bracket->stop_loss_limit_price, 511);
  EXPECT_EQ(bracket->strategy, "sma_cross");
  EXPECT_EQ(broker, "paper");

  auto option = parseOrderIntent(R"({"symbol":"SPY261120C00590000","side":"buy","quantity":1})", nullptr);
  ASSERT_TRUE(option) << option.error().message;
  EXPECT_EQ(option->asset_class, AssetClass::Option);
  EXPECT_EQ(parseError(R"({"symbol":"SPY261120C00590000","side":"buy","quantity":1,"asset_class":"equity"})"),
            "asset_class: 'SPY261120C00590000' is an option symbol; say asset_class option");
}

class TradingRoutes : public ::testing::Test {
 protected:
  HttpResult get(const std::string& target) { return http(api_.port, "GET", target); }
  HttpResult send(const std::string& method, const std::string& target, const std::string& body = "") {
    return http(api_.port, method, target, body, {{"Authorization", fmt::format("Bearer {}", kToken)}});
  }
  static std::string reason(const HttpResult& r) {
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : r.body;
  }
  std::vector<std::string> calls() const { return api_.service.calls().names; }

  TradingServer api_;
};

TEST_F(TradingRoutes, AGoodOrderIs201WithTheServicesOrder) {
  auto r = send("POST", "/api/v1/orders",
                R"({"symbol":"SPY","side":"buy","quantity":10,"type":"limit","limit_price":500.5,"broker":"paper"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body, orderJson("TH-1", "pending_new"));
  EXPECT_NE(r.head.find("Location: /api/v1/orders/TH-1"), std::string::npos) << r.head;
  auto seen = api_.service.calls();
  ASSERT_EQ(seen.names, std::vector<std::string>{"submit"});
  EXPECT_EQ(seen.intent.symbol, "SPY");
  EXPECT_EQ(seen.intent.quantity, 10);
  EXPECT_EQ(seen.intent.type, OrderType::Limit);
  EXPECT_EQ(seen.intent.limit_price, 500.5);
  EXPECT_EQ(seen.broker, "paper");
}

TEST_F(TradingRoutes, ARiskRejectionIs422WithTheRejectedOrder) {
  api_.service.answer("submit", rejectedOrderJson());
  auto r = send("POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":500})");
  EXPECT_EQ(r.status, 422) << r.body;
  auto order = nlohmann::json::parse(r.body);
  EXPECT_EQ(order["reason_code"], "MAX_ORDER_QUANTITY");
  EXPECT_EQ(order["reason"], "quantity 500 exceeds max_order_quantity 100 (global)");
}

TEST_F(TradingRoutes, AMalformedOrderIs400NamingTheKeyAndNeverReachesTheService) {
  auto r = send("POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":"ten"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "quantity: expected a number");
  r = send("POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":1,"qty":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "unknown key 'qty'");
  r = send("POST", "/api/v1/orders", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "body: missing (an order as a JSON object)");
  EXPECT_TRUE(calls().empty());
}

TEST_F(TradingRoutes, MutatingRoutesNeedTheToken) {
  for (auto [method, target] : {std::pair{"POST", "/api/v1/orders"}, std::pair{"DELETE", "/api/v1/orders/TH-1"},
                                std::pair{"POST", "/api/v1/risk/kill"}, std::pair{"POST", "/api/v1/risk/resume"}}) {
    auto r = http(api_.port, method, target, R"({"symbol":"SPY","side":"buy","quantity":1})");
    EXPECT_EQ(r.status, 401) << method << " " << target;
    r = http(api_.port, method, target, "{}", {{"Authorization", "Bearer wrong"}});
    EXPECT_EQ(r.status, 401) << method << " " << target;
  }
  EXPECT_TRUE(calls().empty());
}

TEST_F(TradingRoutes, TheOrderQueryReachesTheService) {
  auto r = get("/api/v1/orders?status=all&strategy=sma_cross&symbol=spy&limit=20");
  EXPECT_EQ(r.status, 200) << r.body;
  auto query = api_.service.calls().query;
  EXPECT_FALSE(query.open_only);
  EXPECT_EQ(query.strategy, "sma_cross");
  EXPECT_EQ(query.symbol, "SPY");
  EXPECT_EQ(query.limit, 20u);
  r = get("/api/v1/orders");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["orders"].size(), 2u);
  query = api_.service.calls().query;
  EXPECT_TRUE(query.open_only);
  EXPECT_EQ(query.limit, 500u);
  EXPECT_EQ(query.strategy, "");
}

TEST_F(TradingRoutes, BadQueryParametersAre400NamingTheParameter) {
  const std::pair<std::string, std::string> cases[] = {
      {"/api/v1/orders?status=closed", "status: 'closed' must be open or all"},
      {"/api/v1/orders?limit=0", "limit: '0' must be 1..10000"},
      {"/api/v1/orders?limit=10001", "limit: '10001' must be 1..10000"},
      {"/api/v1/orders?limit=ten", "limit: 'ten' must be 1..10000"},
      {"/api/v1/orders?limit=-1", "limit: '-1' must be 1..10000"},
      {"/api/v1/orders?symbols=SPY", "unknown query parameter 'symbols' (status, strategy, symbol, limit)"},
      {"/api/v1/positions?strat=x", "unknown query parameter 'strat' (strategy)"},
      {"/api/v1/account?x=1", "unknown query parameter 'x'"},
  };
  for (const auto& [target, expected] : cases) {
    auto r = get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(reason(r), expected) << target;
  }
  EXPECT_TRUE(calls().empty());
}

TEST_F(TradingRoutes, ServiceErrorsBecomeTheirStatuses) {
  api_.service.answer("order", fail(ErrorCode::NotFound, "no order 'TH-404'"));
  auto r = get("/api/v1/orders/TH-404");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(reason(r), "no order 'TH-404'");
  EXPECT_EQ(api_.service.calls().id, "TH-404");

  api_.service.answer("cancel", fail(ErrorCode::NotFound, "no order 'TH-404'"));
  EXPECT_EQ(send("DELETE", "/api/v1/orders/TH-404").status, 404);
  api_.service.answer("cancel", fail(ErrorCode::InvalidArgument, "order TH-1 is filled"));
  r = send("DELETE", "/api/v1/orders/TH-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "order TH-1 is filled");

  api_.service.answer("submit", fail(ErrorCode::AlreadyExists, "duplicate"));
  EXPECT_EQ(send("POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":1})").status, 409);
  api_.service.answer("submit", fail(ErrorCode::NotFound, "no broker 'ibkr'"));
  EXPECT_EQ(send("POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":1,"broker":"ibkr"})").status,
            404);
  api_.service.answer("account", fail(ErrorCode::Unavailable, "broker disconnected"));
  EXPECT_EQ(get("/api/v1/account").status, 503);
  api_.service.answer("risk", fail(ErrorCode::Internal, "bug"));
  EXPECT_EQ(get("/api/v1/risk").status, 500);
}

TEST_F(TradingRoutes, ReadsPassTheServicesJsonThrough) {
  auto r = get("/api/v1/positions?strategy=sma_cross");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["summary"]["net"], 6.5);
  EXPECT_EQ(api_.service.calls().strategy, "sma_cross");
  r = get("/api/v1/account");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["account_id"], "PAPER-1");
  r = get("/api/v1/risk");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["state"], "ACTIVE");
  r = send("DELETE", "/api/v1/orders/TH-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "pending_cancel");
  EXPECT_EQ(calls(), (std::vector<std::string>{"positions", "account", "risk", "cancel"}));
}

TEST_F(TradingRoutes, KillAndResumeBodiesAreOptionalAndStrict) {
  auto r = send("POST", "/api/v1/risk/kill");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["state"], "HALTED");
  EXPECT_FALSE(api_.service.calls().flatten);
  EXPECT_EQ(api_.service.calls().reason, "");

  r = send("POST", "/api/v1/risk/kill", R"({"flatten":true,"reason":"feed looks wrong"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(api_.service.calls().flatten);
  EXPECT_EQ(api_.service.calls().reason, "feed looks wrong");

  r = send("POST", "/api/v1/risk/resume");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(api_.service.calls().state, "active");
  r = send("POST", "/api/v1/risk/resume", R"({"state":"REDUCING","reason":"checked"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(api_.service.calls().state, "reducing");
  EXPECT_EQ(api_.service.calls().reason, "checked");
  auto before = calls().size();

  const std::tuple<std::string, std::string, std::string> bad[] = {
      {"/api/v1/risk/kill", R"({"flaten":true})", "unknown key 'flaten' (flatten, reason)"},
      {"/api/v1/risk/kill", R"({"flatten":"yes"})", "flatten: expected true or false"},
      {"/api/v1/risk/kill", R"({"reason":5})", "reason: expected a string"},
      {"/api/v1/risk/kill", "[]", "body: expected a JSON object"},
      {"/api/v1/risk/kill", "flatten", "body: not valid JSON"},
      {"/api/v1/risk/resume", R"({"state":"halted"})", "state: unknown 'halted' (active or reducing)"},
      {"/api/v1/risk/resume", R"({"mode":"active"})", "unknown key 'mode' (state, reason)"},
  };
  for (const auto& [target, body, expected] : bad) {
    r = send("POST", target, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(reason(r), expected) << body;
  }
  EXPECT_EQ(calls().size(), before);
}

}  // namespace
}  // namespace th::test
