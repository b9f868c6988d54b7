// Strategies in a running host, driven the way an operator drives them: the
// real binary on the embedded configuration (synthetic market, paper broker),
// a strategy folder on disk, the `tradehost strategy` commands and the HTTP
// API. An edit is reloaded mid-session and keeps the state and the open order;
// a broken edit is refused with its file and line while the old version keeps
// trading; rollback works after the files changed; disable keeps the orders.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/process.h"
#include "support/strategy_host.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using test::http;

constexpr const char* kStrategyToken = "TRADEHOST_TOKEN=strategy-secret";
const std::map<std::string, std::string> kStrategyAuth = {{"Authorization", "Bearer strategy-secret"}};

std::string yaml(const std::string& version) {
  return fmt::format(R"(schema: 1
id: hold
name: Holds one resting order
version: {}
script: hold.lua
symbols: [SPY]
timeframe: 1m
enabled: true
risk:
  max_order_quantity: 10
runtime:
  warmup_bars: 5
)",
                     version);
}

// 1.0.0 counts bars and rests one buy 4% under the market (inside the price
// collar, far from a fill).
const std::string kFirst = std::string("function on_start(ctx)\n  ctx.state.bars = ctx.state.bars or 0\nend\n\n") +
                           test::kRestingBuy;

// 1.1.0 keeps counting, counts its own bars, and looks the order up.
constexpr const char* kSecond = R"(function on_start(ctx)
  ctx.state.bars = ctx.state.bars or 0
end

function on_bar(ctx, bar)
  ctx.state.bars = ctx.state.bars + 1
  ctx.state.second_bars = (ctx.state.second_bars or 0) + 1
  local order = ctx.state.order_id and ctx:order(ctx.state.order_id)
  ctx.state.order_open = order ~= nil and order.open
end

function migrate(state, from_version)
  state.migrated_from = from_version
  return state
end
)";

// A syntax error on line 6.
constexpr const char* kBroken = R"(function on_start(ctx)
  ctx.state.bars = ctx.state.bars or 0
end

function on_bar(ctx, bar)
  ctx.state.bars = = ctx.state.bars + 1
end
)";

class StrategyRun : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(folder());
    write(yaml("1.0.0"), kFirst);
  }

  std::filesystem::path strategies() const { return dir_.path() / "strategies"; }
  std::filesystem::path folder() const { return strategies() / "hold"; }
  void write(const std::string& definition, const std::string& script) const {
    std::ofstream(folder() / "hold.yaml") << definition;
    std::ofstream(folder() / "hold.lua") << script;
  }

  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {test::tradehostBinary(), "run",         "--var",  dir_.str(),
                                     "--api",                 "127.0.0.1:0", "--speed", "300",
                                     "--strategies",          strategies().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    host_ = std::make_unique<test::Process>(args, dir_ / fmt::format("run-{}.log", ++runs_), std::vector<std::string>{kStrategyToken});
    auto port = host_->waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
    ASSERT_TRUE(port) << "host did not start:\n" << host_->output();
    port_ = static_cast<uint16_t>(std::stoi(*port));
  }
  void stop() {
    host_->signal(SIGTERM);
    auto code = host_->wait(30s);
    ASSERT_TRUE(code) << "host did not stop on SIGTERM";
    EXPECT_EQ(*code, 0) << host_->output();
  }

  // `tradehost strategy ARGS...` (or `tradehost checklist|screen ...`) against the running host, with the token.
  std::pair<int, std::string> cli(std::vector<std::string> args) {
    std::vector<std::string> command = {test::tradehostBinary()};
    if (args.front() != "checklist" && args.front() != "screen") command.push_back("strategy");
    command.insert(command.end(), args.begin(), args.end());
    if (args.front() != "validate") {
      command.push_back("--api");
      command.push_back(fmt::format("127.0.0.1:{}", port_));
    }
    test::Process process(command, dir_ / fmt::format("cli-{}.log", ++calls_), {kStrategyToken});
    auto code = process.wait(150s);
    return {code.value_or(-1), process.output()};
  }
  Json show() {
    auto reply = http(port_, "GET", "/api/v1/strategies/hold");
    if (reply.status != 200) throw std::runtime_error(fmt::format("show: {} {}", reply.status, reply.body));
    return Json::parse(reply.body);
  }
  Json openOrders() {
    return Json::parse(http(port_, "GET", "/api/v1/orders?strategy=hold&status=open").body)["orders"];
  }
  // Waits until the strategy handled `more` further bars.
  void barsPass(int more) {
    auto from = show()["handled_total"].get<uint64_t>();
    ASSERT_TRUE(test::eventually([&] { return show()["handled_total"].get<uint64_t>() >= from + more; }, 30s))
        << show().dump() << "\n"
        << host_->output();
  }

  test::TempDir dir_;
  std::unique_ptr<test::Process> host_;
  uint16_t port_ = 0;
  int runs_ = 0, calls_ = 0;
};

TEST_F(StrategyRun, OperatorReloadsRefusesABrokenEditRollsBackAndDisables) {
  auto [valid, validated] = cli({"validate", (folder() / "hold.yaml").string()});
  EXPECT_EQ(valid, 0) << validated;
  start();

  // The strategy runs and rests its order.
  ASSERT_TRUE(test::eventually([&] { return show()["state"].contains("order_id"); }, 30s)) << show().dump();
  auto first = show();
  EXPECT_EQ(first["status"], "running");
  EXPECT_EQ(first["version"], "1.0.0");
  const std::string order_id = first["state"]["order_id"].get<std::string>();
  auto orders = openOrders();
  ASSERT_EQ(orders.size(), 1u) << orders.dump();
  EXPECT_EQ(orders[0]["client_order_id"], order_id);

  auto [listed, list] = cli({"list"});
  EXPECT_EQ(listed, 0) << list;
  EXPECT_NE(list.find("hold"), std::string::npos) << list;
  EXPECT_NE(list.find("1.0.0"), std::string::npos) << list;
  EXPECT_NE(list.find("running"), std::string::npos) << list;

  // Mutations need the token; an unknown strategy is a 404.
  EXPECT_EQ(http(port_, "POST", "/api/v1/strategies/hold/reload").status, 401);
  EXPECT_EQ(http(port_, "POST", "/api/v1/strategies/nope/reload", "", kStrategyAuth).status, 404);

  // The edit: reloaded between two bars, with the state and the order.
  write(yaml("1.1.0"), kSecond);
  auto bars_before = show()["state"]["bars"].get<uint64_t>();
  auto [reloaded, reload] = cli({"reload", "hold"});
  ASSERT_EQ(reloaded, 0) << reload;
  EXPECT_NE(reload.find("1.1.0"), std::string::npos) << reload;
  EXPECT_NE(reload.find("core thread paused"), std::string::npos) << reload;
  barsPass(2);
  auto second = show();
  EXPECT_EQ(second["version"], "1.1.0");
  EXPECT_EQ(second["state"]["migrated_from"], "1.0.0");
  EXPECT_EQ(second["state"]["order_id"], order_id);
  EXPECT_EQ(second["state"]["order_open"], true) << "the new version sees the order the old one placed";
  auto bars = second["state"]["bars"].get<uint64_t>();
  auto second_bars = second["state"]["second_bars"].get<uint64_t>();
  EXPECT_GE(bars, bars_before + second_bars) << "the counter continued across the swap";
  EXPECT_EQ(openOrders().size(), 1u);
  // The operator's dashboard sees the reload and the running strategy.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto metrics = http(port_, "GET", "/metrics").body;
        return metrics.find("tradehost_strategy_reloads_total 1\n") != std::string::npos &&
               metrics.find("tradehost_strategies{status=\"running\"} 1\n") != std::string::npos;
      },
      5s))
      << http(port_, "GET", "/metrics").body;

  // A broken edit: refused with file and line, offline and live; 1.1.0 trades on.
  write(yaml("1.2.0"), kBroken);
  auto [invalid, why] = cli({"validate", folder().string()});
  EXPECT_EQ(invalid, 2) << why;
  EXPECT_NE(why.find("hold.lua:6:"), std::string::npos) << why;
  auto [refused, refusal] = cli({"reload", "hold"});
  EXPECT_EQ(refused, 2) << refusal;
  EXPECT_NE(refusal.find("hold.lua:6:"), std::string::npos) << refusal;
  barsPass(2);
  auto still = show();
  EXPECT_EQ(still["version"], "1.1.0");
  EXPECT_EQ(still["status"], "running");
  EXPECT_GT(still["state"]["second_bars"].get<uint64_t>(), second_bars);

  // Two versions recorded; the broken one never was.
  auto [history_code, history] = cli({"history", "hold", "--json"});
  ASSERT_EQ(history_code, 0) << history;
  auto versions = Json::parse(history)["versions"];
  ASSERT_EQ(versions.size(), 2u) << versions.dump();
  EXPECT_EQ(versions[0]["version"], "1.0.0");
  EXPECT_EQ(versions[1]["version"], "1.1.0");
  EXPECT_EQ(versions[1]["active"], true);

  // Rollback from the store while the files on disk are broken, and forward again.
  auto [back, rollback] = cli({"rollback", "hold"});
  ASSERT_EQ(back, 0) << rollback;
  EXPECT_EQ(show()["version"], "1.0.0");
  auto [forward, rollforward] = cli({"rollback", "hold", "--to", "1.1.0"});
  ASSERT_EQ(forward, 0) << rollforward;
  barsPass(1);
  auto again = show();
  EXPECT_EQ(again["version"], "1.1.0");
  EXPECT_EQ(again["pinned"], true);
  EXPECT_EQ(again["state"]["order_id"], order_id);
  EXPECT_GE(again["state"]["bars"].get<uint64_t>(), still["state"]["bars"].get<uint64_t>());

  // Disable stops the callbacks and keeps the order; enable resumes.
  auto [disabled, disable] = cli({"disable", "hold", "--reason", "operator check"});
  ASSERT_EQ(disabled, 0) << disable;
  auto off = show();
  EXPECT_EQ(off["status"], "disabled");
  EXPECT_EQ(openOrders().size(), 1u) << "a disabled strategy's orders stay";
  auto handled_off = off["handled_total"].get<uint64_t>();
  std::this_thread::sleep_for(1s);  // five simulated minutes
  EXPECT_EQ(show()["handled_total"].get<uint64_t>(), handled_off);
  auto [enabled, enable] = cli({"enable", "hold"});
  ASSERT_EQ(enabled, 0) << enable;
  EXPECT_EQ(show()["status"], "running");
  barsPass(1);

  // After a restart the pinned version runs again with its state.
  auto bars_at_stop = show()["state"]["bars"].get<uint64_t>();
  stop();
  start();
  auto restarted = show();
  EXPECT_EQ(restarted["version"], "1.1.0");
  EXPECT_GE(restarted["state"]["bars"].get<uint64_t>(), bars_at_stop);
  EXPECT_EQ(restarted["state"]["order_id"], order_id);
  stop();
}

TEST_F(StrategyRun, DevModeWatchReloadsAnEditOnceTheFilesAreQuiet) {
  start({"--watch-strategies"});
  ASSERT_TRUE(host_->waitForOutput(R"(watching 1 folder\(s\))", 30s)) << host_->output();
  ASSERT_TRUE(test::eventually([&] { return show()["state"].contains("order_id"); }, 30s)) << show().dump();

  write(yaml("1.1.0"), kSecond);
  ASSERT_TRUE(test::eventually([&] { return show()["version"] == "1.1.0"; }, 30s)) << host_->output();
  barsPass(1);
  auto second = show();
  EXPECT_EQ(second["state"]["migrated_from"], "1.0.0");
  EXPECT_EQ(second["state"]["order_open"], true);

  // A broken save is refused in the log, and 1.1.0 keeps running.
  write(yaml("1.2.0"), kBroken);
  ASSERT_TRUE(host_->waitForOutput(R"(dev-mode reload of hold refused: .*hold\.lua:6:)", 30s)) << host_->output();
  barsPass(1);
  EXPECT_EQ(show()["version"], "1.1.0");
  stop();
}

// A checklist record a strategy publishes is served by the API and the CLI,
// and survives a restart.
TEST_F(StrategyRun, ChecklistRecordsAreServedByTheApiAndTheCli) {
  std::filesystem::create_directories(strategies() / "scorer");
  std::ofstream(strategies() / "scorer" / "scorer.yaml") << "schema: 1\nid: scorer\nversion: 1.0.0\nscript: scorer.lua\n"
                                                            "symbols: [SPY]\ntimeframe: 1m\n";
  std::ofstream(strategies() / "scorer" / "scorer.lua") << R"(function on_bar(ctx, bar)
  if ctx.state.done then return end
  ctx.state.done = true
  ctx:signal{kind = "checklist", symbol = "SPY", direction = "long", score = 7, grade = "A", price = bar.close,
             bars = 60, criteria = {{name = "trend", pass = true, value = bar.close, threshold = 580,
                                     detail = "close above EMA21"},
                                    {name = "momentum", pass = false, value = 74.2, threshold = {50, 70},
                                     detail = "RSI14 74.20 in [50, 70]"}}}
end
)";
  start();
  ASSERT_TRUE(test::eventually([&] { return http(port_, "GET", "/api/v1/checklist/SPY").status == 200; }, 30s))
      << http(port_, "GET", "/api/v1/checklist/SPY").body;
  auto record = Json::parse(http(port_, "GET", "/api/v1/checklist/spy?dir=long").body);
  EXPECT_EQ(record["grade"], "A");
  EXPECT_EQ(record["strategy"], "scorer");
  auto missing = http(port_, "GET", "/api/v1/checklist/SPY?dir=short");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no checklist for SPY short yet"), std::string::npos) << missing.body;
  EXPECT_EQ(http(port_, "GET", "/api/v1/checklist/SPY?dir=sideways").status, 400);

  auto [code, table] = cli({"checklist", "SPY"});
  EXPECT_EQ(code, 0) << table;
  EXPECT_NE(table.find("A (7 of 8)"), std::string::npos) << table;
  EXPECT_NE(table.find("FAIL  momentum"), std::string::npos) << table;
  EXPECT_NE(table.find("50..70"), std::string::npos) << table;
  auto [short_code, short_out] = cli({"checklist", "SPY", "--dir", "short"});
  EXPECT_EQ(short_code, 2) << short_out;

  stop();
  start();
  auto again = http(port_, "GET", "/api/v1/checklist/SPY");
  EXPECT_EQ(again.status, 200) << "stored: " << again.body;
  stop();
}

// The shipped covered-call screen answers on demand through the API and
// `tradehost screen covered-call`, on the synthetic market's chains.
TEST_F(StrategyRun, CoveredCallScreenRunsOnDemand) {
  std::filesystem::copy(std::filesystem::path(TH_SOURCE_DIR) / "strategies" / "covered_call",
                        strategies() / "covered_call");
  start();
  const std::string target = "/api/v1/strategies/covered_call/request/screen";
  ASSERT_TRUE(test::eventually([&] { return http(port_, "POST", target, "{}", kStrategyAuth).status == 200; }, 30s))
      << http(port_, "POST", target, "{}", kStrategyAuth).body;
  auto screen = Json::parse(http(port_, "POST", target, R"({"symbols": ["SPY", "QQQ"]})", kStrategyAuth).body);
  ASSERT_EQ(screen["underlyings"].size(), 2u) << screen.dump(1);
  EXPECT_EQ(screen["underlyings"][0]["symbol"], "SPY");
  EXPECT_GT(screen["underlyings"][0]["contracts"].get<int>(), 0) << "the synthetic market's chain";
  for (const auto& r : screen["results"]) {
    EXPECT_LE(r["otm_pct"].get<double>(), 3.0);
    EXPECT_GE(r["delta"].get<double>(), 0.15);
    EXPECT_LE(r["delta"].get<double>(), 0.35);
  }
  EXPECT_EQ(http(port_, "POST", target, "{}").status, 401) << "strategy code runs: the token is required";
  auto unknown = http(port_, "POST", "/api/v1/strategies/covered_call/request/scan", "{}", kStrategyAuth);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("no request 'scan'"), std::string::npos) << unknown.body;
  auto silent = http(port_, "POST", "/api/v1/strategies/hold/request/screen", "{}", kStrategyAuth);
  EXPECT_EQ(silent.status, 404);
  EXPECT_NE(silent.body.find("has no on_request"), std::string::npos) << silent.body;

  auto [code, table] = cli({"screen", "covered-call", "--symbols", "spy,iwm"});
  EXPECT_EQ(code, 0) << table;
  EXPECT_NE(table.find("underlying:      SPY"), std::string::npos) << table;
  EXPECT_NE(table.find("underlying:      IWM"), std::string::npos) << table;
  EXPECT_NE(table.find("contract(s)"), std::string::npos) << table;
  auto [json_code, json_out] = cli({"screen", "covered-call", "--json"});
  EXPECT_EQ(json_code, 0) << json_out;
  EXPECT_EQ(Json::parse(json_out)["underlyings"].size(), 3u) << "SPY, QQQ and IWM by default";
  stop();
}

}  // namespace
}  // namespace th
