// `tradehost run` against what someone who wants to break a trading host
// would try: strategies that hog the core thread, the heap and the host's
// tables; requests that are deep, ambiguous, out of grammar or made up;
// files that are not what they claim. Through all of it the host stays up,
// health tells the truth, its memory stays bounded (RSS measured), a
// well-behaved strategy keeps trading and the kill switch works.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "support/strategy_host.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using test::http;


// Each bar: a pattern that backtracks for hours, inside one C call.
constexpr const char* kPattern = R"(function on_bar(ctx, bar)
  return ('a'):rep(1e5):find('.-.-.-.-.-.-b')
end
)";

// Each bar, every kind of hoarding, each attempt caught so the strategy
// keeps trying: made-up subscriptions, timers, big and many signals, a
// 1.5 GB string, a table nested a hundred thousand deep.
constexpr const char* kHoarder = R"(function on_bar(ctx, bar)
  if bar.symbol ~= 'SPY' then return end  -- the symbols it subscribed to bring bars too
  ctx.state.round = (ctx.state.round or 0) + 1
  local r = ctx.state.round
  for i = 1, 200 do pcall(ctx.subscribe, ctx, 'ZQ' .. r .. 'X' .. i) end
  for i = 1, 1000 do pcall(ctx.after, ctx, 3600000 + i, 'tag' .. i) end
  local big = string.rep('x', 100000)
  for i = 1, 100 do pcall(ctx.signal, ctx, {symbol = 'SPY', pad = big}) end
  pcall(string.rep, 'x', 1.5e9)
  local t = {}
  for i = 1, 100000 do t = {t} end
  pcall(ctx.signal, ctx, {symbol = 'SPY', nested = t})
end
)";

class Adversarial : public test::StrategyHost {};

TEST_F(Adversarial, TheHostStaysUpBoundedAndTruthfulAndTheKillSwitchWorks) {
  strategy("hold", "{}", test::kRestingBuy);
  strategy("pattern", "{max_consecutive_errors: 3}", kPattern);
  strategy("hoarder", "{callback_budget_ms: 500}", kHoarder);
  // A strategy folder that is a symlink to itself: that strategy fails, the host starts.
  std::filesystem::create_directory_symlink(strategiesDir() / "loop", strategiesDir() / "loop");
  // A bar a second: the hoarder's work per bar (within its budget) must
  // leave the core thread time for the others, as a minute would live.
  start(60);
  ASSERT_TRUE(eventually([&] { return get("/api/v1/strategies/hold")["state"].contains("order_id"); }, 30s));
  const size_t baseline_kib = host_->residentKiB();

  // Requests: deep, ambiguous, out of grammar, made up.
  std::string deep = std::string(30'000, '[') + std::string(30'000, ']');
  auto reply = http(port_, "POST", "/api/v1/orders", deep, kAuth);
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("nested deeper than 64 levels"), std::string::npos) << reply.body;
  reply = test::rawHttp(port_,
                        "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer strategy-host-secret\r\n"
                        "Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(reply.status, 400) << reply.body;
  for (const auto& [body, reason] : std::initializer_list<std::pair<std::string, std::string>>{
           {R"({"symbol":"SPY","side":"buy","quantity":1e-300})", "finer than"},
           {R"({"symbol":"SP\nY","side":"buy","quantity":1})", "has a character other than"},
           {R"({"symbol":"SPY","side":"buy","quantity":1,"strategy":"../x"})", "is not a strategy id"},
           {fmt::format(R"({{"symbol":"{}","side":"buy","quantity":1}})", std::string(10'000, 'A')), "characters"}}) {
    reply = http(port_, "POST", "/api/v1/orders", body, kAuth);
    EXPECT_EQ(reply.status, 400) << body.substr(0, 80);
    EXPECT_NE(reply.body.find(reason), std::string::npos) << reply.body;
  }
  // Charts need no token. The synthetic market simulates any symbol it is
  // asked for, so each is a real series: past chart.max_symbols (100) the
  // host refuses new ones instead of holding a series for each.
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    auto chart = http(port_, "GET", fmt::format("/api/v1/chart/ZZ{}Q/1m?limit=1", i));
    if (chart.status == 503) {
      ++refused;
      EXPECT_NE(chart.body.find("chart.max_symbols"), std::string::npos) << chart.body;
    }
  }
  EXPECT_GE(refused, 300);

  // While the hoarder hoards and the pattern strategy is faulted, the
  // control trades on, and the host never reports a stall it does not have.
  Json pattern;
  ASSERT_TRUE(awaitField("/api/v1/strategies/pattern", "status", "faulted", 60s, pattern)) << pattern.dump();
  const int bars = get("/api/v1/strategies/hold")["state"]["bars"].get<int>();
  ASSERT_TRUE(eventually([&] { return get("/api/v1/strategies/hoarder")["state"]["round"].get<int>() >= 5; }, 120s))
      << get("/api/v1/strategies/hoarder").dump();
  EXPECT_TRUE(eventually([&] { return get("/api/v1/strategies/hold")["state"]["bars"].get<int>() > bars + 2; }, 30s))
      << "the control kept trading";
  EXPECT_EQ(get("/api/v1/strategies/loop")["status"], "failed");
  auto health = get("/api/v1/health");
  EXPECT_NE(health["status"], "stalled") << health.dump();
  auto metrics = http(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("tradehost_strategy_quota_refusals_total"), std::string::npos);

  // Memory: five rounds of hoarding and 400 made-up charts later the host
  // holds no more than a bounded amount beyond where it started.
  const size_t after_kib = host_->residentKiB();
  EXPECT_LT(after_kib, baseline_kib + 512 * 1024) << "RSS grew from " << baseline_kib << " KiB to " << after_kib
                                                   << " KiB";
  RecordProperty("rss_baseline_kib", std::to_string(baseline_kib));
  RecordProperty("rss_after_kib", std::to_string(after_kib));

  // The kill switch, as the operator types it.
  auto [kill_code, kill_output] = cli({"kill", "--flatten"}, "kill.log");
  EXPECT_EQ(kill_code, 0) << kill_output;
  EXPECT_NE(kill_output.find("HALTED"), std::string::npos) << kill_output;
  EXPECT_TRUE(get("/api/v1/orders?strategy=hold&status=open")["orders"].empty());

  host_->signal(SIGTERM);
  auto code = host_->wait(30s);
  ASSERT_TRUE(code) << "host did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << host_->output();
}

}  // namespace
}  // namespace th
