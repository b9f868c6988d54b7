// The operator stays in control of `tradehost run` whatever a strategy does:
// a strategy that spins with a budget of a minute is named by health as what
// holds the core thread, the kill switch (with flatten) answers at once and
// halts trading, and SIGTERM stops the host; a strategy stuck in a
// pathological pattern under the default budget is faulted while another
// strategy trades on.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>

#include "support/strategy_host.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;


class OperatorControl : public test::StrategyHost {};

// Spins from its 20th bar on, within a budget of a minute.
constexpr const char* kSpin = R"(function on_bar(ctx, bar)
  ctx.state.bars = (ctx.state.bars or 0) + 1
  if ctx.state.bars >= 20 then while true do end end
end
)";

TEST_F(OperatorControl, ASpinningStrategyNeitherHidesFromHealthNorHoldsTheKillSwitchOrAShutdown) {
  strategy("hold", "{}", test::kRestingBuy);
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
  ASSERT_TRUE(awaitField("/api/v1/health", "status", "stalled", 60s, health)) << health.dump();
  EXPECT_EQ(health["stalled"]["in"], "strategy spin 1.0.0 on_bar") << health.dump();
  EXPECT_GE(health["stalled"]["for_ms"].get<int64_t>(), 1000);

  // The kill switch, through the CLI as an operator types it.
  auto started = std::chrono::steady_clock::now();
  auto [kill_code, kill_output] = cli({"kill", "--flatten"}, "kill.log");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(kill_code, 0) << kill_output;
  EXPECT_LT(took, 10s) << "the spinning callback's budget is 60 s; the kill switch must not wait for it";
  EXPECT_NE(kill_output.find("HALTED"), std::string::npos) << kill_output;
  EXPECT_NE(kill_output.find(order_id), std::string::npos) << "the resting order was canceled:\n" << kill_output;
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
  auto code = host_->wait(30s);
  ASSERT_TRUE(code) << "host did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << host_->output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_NE(host_->output().find("interrupted: the shutdown took the core thread"), std::string::npos);
}

// Disabling the spinning strategy is how the operator gets the host back:
// it answers at once, and the host is no longer stalled.
TEST_F(OperatorControl, DisablingASpinningStrategyGivesTheHostBack) {
  strategy("hold", "{}", test::kRestingBuy);
  strategy("spin", "{callback_budget_ms: 60000}", kSpin);
  start();
  ASSERT_TRUE(eventually([&] { return get("/api/v1/health")["status"] == "stalled"; }, 60s));
  auto started = std::chrono::steady_clock::now();
  auto [code, output] = cli({"strategy", "disable", "spin"}, "disable.log");
  EXPECT_EQ(code, 0) << output;
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
  strategy("hold", "{}", test::kRestingBuy);
  strategy("pattern", "{max_consecutive_errors: 3}", R"(function on_bar(ctx, bar)
  local s = ('a'):rep(1e5)
  return s:find('.-.-.-.-.-.-b')
end
)");
  start();
  Json pattern;
  ASSERT_TRUE(awaitField("/api/v1/strategies/pattern", "status", "faulted", 60s, pattern)) << pattern.dump();
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
