// A TradingService for tests of the trading routes and the CLI commands
// over them: it records each call and answers with canned JSON or an Error,
// from its own thread, as the host's core thread does.
#pragma once

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "api/trading_routes.h"
#include "core/worker.h"

namespace th::test {

inline constexpr const char* kToken = "test-token";

inline std::string orderJson(const std::string& id, const std::string& status, const std::string& extra = "") {
  return fmt::format(
      R"({{"client_order_id":"{}","broker_order_id":"B-1","broker":"paper","strategy":"sma_cross","parent_id":"",)"
      R"("role":"single","symbol":"SPY","asset_class":"equity","side":"buy","type":"limit","time_in_force":"day",)"
      R"("order_class":"simple","quantity":10,"limit_price":500.5,"stop_price":0,"take_profit_price":0,)"
      R"("stop_loss_price":0,"status":"{}","filled_quantity":4,"average_fill_price":500.25,"reason":"",)"
      R"("reason_code":"","created":"2026-11-17T10:00:00","updated":"2026-11-17T10:00:01"{}}})",
      id, status, extra);
}

inline std::string rejectedOrderJson() {
  return R"({"client_order_id":"TH-9","broker":"paper","strategy":"","symbol":"SPY","asset_class":"equity",)"
         R"("side":"buy","type":"market","time_in_force":"day","order_class":"simple","quantity":500,)"
         R"("status":"rejected","filled_quantity":0,"average_fill_price":0,)"
         R"json("reason":"quantity 500 exceeds max_order_quantity 100 (global)","reason_code":"MAX_ORDER_QUANTITY"})json";
}

class FakeTradingService : public TradingService {
 public:
  // What the routes asked for, in order: "submit", "cancel TH-1", "kill", ...
  struct Calls {
    std::vector<std::string> names;
    OrderIntent intent;
    std::string broker;
    OrderQuery query;
    std::string id, strategy, reason, state;
    bool flatten = false;
  };

  FakeTradingService() {
    answers_["submit"] = orderJson("TH-1", "pending_new");
    answers_["cancel"] = orderJson("TH-1", "pending_cancel");
    answers_["order"] = orderJson("TH-1", "partially_filled");
    answers_["list"] =
        fmt::format(R"({{"orders":[{},{}]}})", orderJson("TH-2", "accepted"), orderJson("TH-1000", "partially_filled"));
    answers_["positions"] =
        R"({"account":[{"symbol":"SPY","asset_class":"equity","quantity":10,"average_cost":500.25,"last_price":501,)"
        R"("realised":0,"unrealised":7.5,"commissions":1,"multiplier":1}],)"
        R"("strategies":{"sma_cross":[{"symbol":"SPY","asset_class":"equity","quantity":10,"average_cost":500.25,)"
        R"("last_price":501,"realised":0,"unrealised":7.5,"commissions":1,"multiplier":1}]},)"
        R"("summary":{"realised":0,"unrealised":7.5,"commissions":1,"net":6.5,"gross_exposure":5010}})";
    answers_["account"] =
        R"({"broker":"paper","account_id":"PAPER-1","currency":"USD","cash":94997.5,"equity":100007.5,)"
        R"("buying_power":94997.5,"commissions":1,)"
        R"("pnl":{"realised":0,"unrealised":7.5,"commissions":1,"net":6.5,"gross_exposure":5010}})";
    answers_["risk"] = R"({"state":"ACTIVE","reason":"","since":"2026-11-17T09:30:00","daily_pnl":6.5,"drawdown":0,)"
                       R"("limits":{"max_order_quantity":100,"max_open_orders":null}})";
    answers_["kill"] = R"({"state":"HALTED","canceled":["TH-2","TH-3"],"flatten":["TH-4"]})";
    answers_["resume"] = R"({"state":"ACTIVE"})";
  }

  // The next calls of `name` answer with `answer` (JSON text or an Error).
  void answer(const std::string& name, Result<std::string> answer) {
    std::lock_guard lock(mutex_);
    answers_[name] = std::move(answer);
  }
  Calls calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // Sends what is still queued, then stops answering; before the server goes.
  void stop() { core_.stop(); }

  void submitOrder(OrderIntent intent, std::string broker, JsonDone done) override {
    record("submit", [&](Calls& c) {
      c.intent = std::move(intent);
      c.broker = std::move(broker);
    });
    reply("submit", std::move(done));
  }
  void cancelOrder(std::string client_order_id, JsonDone done) override {
    record("cancel", [&](Calls& c) { c.id = std::move(client_order_id); });
    reply("cancel", std::move(done));
  }
  void order(std::string client_order_id, JsonDone done) override {
    record("order", [&](Calls& c) { c.id = std::move(client_order_id); });
    reply("order", std::move(done));
  }
  void listOrders(OrderQuery query, JsonDone done) override {
    record("list", [&](Calls& c) { c.query = std::move(query); });
    reply("list", std::move(done));
  }
  void positions(std::string strategy, JsonDone done) override {
    record("positions", [&](Calls& c) { c.strategy = std::move(strategy); });
    reply("positions", std::move(done));
  }
  void account(JsonDone done) override {
    record("account", [](Calls&) {});
    reply("account", std::move(done));
  }
  void risk(JsonDone done) override {
    record("risk", [](Calls&) {});
    reply("risk", std::move(done));
  }
  void kill(bool flatten, std::string reason, JsonDone done) override {
    record("kill", [&](Calls& c) {
      c.flatten = flatten;
      c.reason = std::move(reason);
    });
    reply("kill", std::move(done));
  }
  void resume(std::string state, std::string reason, JsonDone done) override {
    record("resume", [&](Calls& c) {
      c.state = std::move(state);
      c.reason = std::move(reason);
    });
    reply("resume", std::move(done));
  }

 private:
  template <typename F>
  void record(const std::string& name, F&& update) {
    std::lock_guard lock(mutex_);
    calls_.names.push_back(name);
    update(calls_);
  }
  // Answers later, from the "core" thread, never from the caller's.
  void reply(const std::string& name, JsonDone done) {
    Result<std::string> answer;
    {
      std::lock_guard lock(mutex_);
      answer = answers_.at(name);
    }
    core_.post([done = std::move(done), answer = std::move(answer)] { done(answer); });
  }

  mutable std::mutex mutex_;
  std::map<std::string, Result<std::string>> answers_;
  Calls calls_;
  Worker core_;
};

// A real server on 127.0.0.1 with the trading routes over a fake service.
struct TradingServer {
  TradingServer() {
    ApiOptions options;
    options.port = 0;
    options.token = kToken;
    server = std::make_unique<ApiServer>(options);
    registerTradingRoutes(*server, service);
    if (!server->start()) throw std::runtime_error("cannot start the API server");
    port = server->port();
  }
  ~TradingServer() {
    service.stop();
    server->stop();
  }

  FakeTradingService service;
  std::unique_ptr<ApiServer> server;
  uint16_t port = 0;
};

}  // namespace th::test
