// The operator stays in control of `tradehost run` whatever a strategy does:
// a strategy that spins with a budget of a minute is named by health as what
// holds the core thread, the kill switch (with flatten) answers at once and
// halts trading, and SIGTERM stops the host; a strategy stuck in a
// pathological pattern under the default budget is faulted while another
// strategy trades on.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using test::http;

constexpr const char* kOperatorToken = "TRADEHOST_TOKEN=operator-secret";
const std::map<std::string, std::string> kOperatorAuth = {{"Authorization", "Bearer operator-secret"}};

// Rests one buy 4% under the market and counts its bars.
constexpr const char* kHold = R"(function on_bar(ctx, bar)
  ctx.state.bars = (ctx.state.bars or 0) + 1
  if not ctx.state.order_id then
    local order = ctx:buy{qty = 1, limit = math.floor(bar.close * 96) / 100}
    if order then ctx.state.order_id = order.id end
  end
end
)";

class OperatorControl : public ::testing::Test {
 protected:
  void strategy(const std::string& id, const std::string& runtime, const std::string& script) {
    auto folder = dir_.path() / "strategies" / id;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / (id + ".yaml")) << fmt::format(R"(schema: 1
id: {0}
name: {0}
version: 1.0.0
script: {0}.lua
symbols: [SPY]
timeframe: 1m
risk:
  max_order_quantity: 10
runtime: {1}
)",
                                                          id, runtime);
    std::ofstream(folder / (id + ".lua")) << script;
  }

  void start() {
    std::vector<std::string> args = {test::tradehostBinary(), "run",     "--var",        dir_.str(),
                                     "--api",                 "127.0.0.1:0", "--speed", "300",
                                     "--strategies",          (dir_.path() / "strategies").string()};
    host_ = std::make_unique<test::Process>(args, dir_ / "run.log", std::vector<std::string>{kOperatorToken});
    auto port = host_->waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
    ASSERT_TRUE(port) << "host did not start:\n" << host_->output();
    port_ = static_cast<uint16_t>(std::stoi(*port));
  }

  Json get(const std::string& target) {
    auto reply = http(port_, "GET", target);
    if (reply.status != 200) throw std::runtime_error(fmt::format("GET {}: {} {}", target, reply.status, reply.body));
    return Json::parse(reply.body);
  }

  // Polls `check` every 100 ms for up to `within`.
  template <class Check>
  bool eventually(Check check, std::chrono::milliseconds within) {
    for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
      if (check()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return check();
  }

  test::TempDir dir_;
  std::unique_ptr<test::Process> host_;
  uint16_t port_ = 0;
};

// Spins from its 20th bar on, within a budget of a minute.
constexpr const char* kSpin = R"(function on_bar(ctx, bar)
  ctx.state.bars = (ctx.state.bars or 0) + 1
  if ctx.state.bars >= 20 then while true do end end
end
)";

TEST_F(OperatorControl, ASpinningStrategyNeitherHidesFromHealthNorHoldsTheKillSwitchOrAShutdown) {
  strategy("hold", "{}", kHold);
  strategy("spin", "{callback_budget_ms: 60000}", kSpin);
  start();
  Json open;
  ASSERT_TRUE(eventually(
      [&] {
        open = get("/api/v1/orders?strategy=hold&status=open")["orders"];
        return open.size() == 1;
      },
      30s))
      << "hold rests its order before spin begins to spin";
  const std::string order_id = open[0]["client_order_id"];
  Json health;
  ASSERT_TRUE(eventually(
      [&] {
        health = get("/api/v1/health");
        return health["status"] == "stalled";
      },
      60s))
      << health.dump();
  EXPECT_EQ(health["stalled"]["in"], "strategy spin 1.0.0 on_bar") << health.dump();
  EXPECT_GE(health["stalled"]["for_ms"].get<int64_t>(), 1000);

  // The kill switch, through the CLI as an operator types it.
  auto started = std::chrono::steady_clock::now();
  test::Process kill({test::tradehostBinary(), "kill", "--flatten", "--api", fmt::format("127.0.0.1:{}", port_)},
                     dir_ / "kill.log", {kOperatorToken});
  auto code = kill.wait(30s);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(code) << "the kill switch did not answer";
  EXPECT_EQ(*code, 0) << kill.output();
  EXPECT_LT(took, 10s) << "the spinning callback's budget is 60 s; the kill switch must not wait for it";
  EXPECT_NE(kill.output().find("HALTED"), std::string::npos) << kill.output();
  EXPECT_NE(kill.output().find(order_id), std::string::npos) << "the resting order was canceled:\n" << kill.output();
  EXPECT_TRUE(eventually(
      [&] {
        return host_->output().find("spin 1.0.0] on_bar: interrupted: the kill switch took the core thread") !=
               std::string::npos;
      },
      5s))
      << host_->output();

  // SIGTERM while spin spins again on the next bar.
  ASSERT_TRUE(eventually([&] { return get("/api/v1/health")["status"] == "stalled"; }, 60s));
  started = std::chrono::steady_clock::now();
  host_->signal(SIGTERM);
  code = host_->wait(30s);
  ASSERT_TRUE(code) << "host did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << host_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_NE(host_->output().find("interrupted: the shutdown took the core thread"), std::string::npos);
}

// Disabling the spinning strategy is how the operator gets the host back:
// it answers at once, and the host is no longer stalled.
TEST_F(OperatorControl, DisablingASpinningStrategyGivesTheHostBack) {
  strategy("hold", "{}", kHold);
  strategy("spin", "{callback_budget_ms: 60000}", kSpin);
  start();
  ASSERT_TRUE(eventually([&] { return get("/api/v1/health")["status"] == "stalled"; }, 60s));
  auto started = std::chrono::steady_clock::now();
  test::Process disable({test::tradehostBinary(), "strategy", "disable", "spin", "--api",
                         fmt::format("127.0.0.1:{}", port_)},
                        dir_ / "disable.log", {kOperatorToken});
  auto code = disable.wait(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << disable.output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(get("/api/v1/strategies/spin")["status"], "disabled");
  auto bars = get("/api/v1/strategies/hold")["state"]["bars"].get<int>();
  EXPECT_TRUE(eventually([&] { return get("/api/v1/strategies/hold")["state"]["bars"].get<int>() > bars + 2; }, 30s))
      << "hold trades on";
  EXPECT_NE(get("/api/v1/health")["status"], "stalled");
  host_->signal(SIGTERM);
  ASSERT_TRUE(host_->wait(30s));
}

TEST_F(OperatorControl, AStrategyStuckInAPatternIsFaultedWhileAnotherTrades) {
  strategy("hold", "{}", kHold);
  strategy("pattern", "{max_consecutive_errors: 3}", R"(function on_bar(ctx, bar)
  local s = ('a'):rep(1e5)
  return s:find('.-.-.-.-.-.-b')
end
)");
  start();
  Json pattern;
  ASSERT_TRUE(eventually(
      [&] {
        pattern = get("/api/v1/strategies/pattern");
        return pattern["status"] == "faulted";
      },
      60s))
      << pattern.dump();
  auto fault = pattern.dump();
  EXPECT_NE(fault.find("3 callbacks failed in a row"), std::string::npos) << fault;
  EXPECT_NE(fault.find("budget of 100 ms"), std::string::npos) << fault;
  auto bars = get("/api/v1/strategies/hold")["state"]["bars"].get<int>();
  ASSERT_TRUE(eventually([&] { return get("/api/v1/strategies/hold")["state"]["bars"].get<int>() > bars + 2; }, 30s))
      << "hold kept trading";
  EXPECT_NE(get("/api/v1/health")["status"], "stalled");
  host_->signal(SIGTERM);
  ASSERT_TRUE(host_->wait(30s));
}

}  // namespace
}  // namespace th
