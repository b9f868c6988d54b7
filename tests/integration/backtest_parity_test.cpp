// Parity: the same strategy on the same bars gives the same trades whether
// `tradehost run` plays them through the replay plugin (a session with the
// API, the journal, the chart hub) or `tradehost backtest` does. Both route
// every event through the one router (host/runtime/router.h); what differs
// is the clock and the journal. Both runs are the real binary on one host
// configuration; the bars are two sessions of a seeded random walk on SPY
// and QQQ, written as a replay CSV.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/time.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// Two sessions (Monday and Tuesday) of 1-minute bars; mt19937_64's raw
// output, so the same bars on every platform.
std::string randomWalk() {
  std::string csv = "ts_ms,symbol,open,high,low,close,volume\n";
  std::mt19937_64 rng(20261116);
  auto unit = [&rng] { return static_cast<double>(rng() >> 11) / 9007199254740992.0; };
  std::map<std::string, double> price = {{"QQQ", 510.0}, {"SPY", 590.0}};
  for (int32_t day : {20261116, 20261117}) {
    for (int minute = 0; minute < 390; ++minute) {
      const int64_t start = fromExchangeTime(day, 9, 30) + minute * 60'000'000'000LL;
      for (auto& [symbol, p] : price) {
        const double open = std::round(p * 100) / 100;
        const double close = std::round((p + (unit() - 0.5) * 0.9) * 100) / 100;
        const double high = std::round((std::max(open, close) + unit() * 0.3) * 100) / 100;
        const double low = std::round((std::min(open, close) - unit() * 0.3) * 100) / 100;
        csv += fmt::format("{},{},{:.2f},{:.2f},{:.2f},{:.2f},{}\n", start / 1'000'000, symbol, open, high, low, close,
                           50000 + static_cast<int>(unit() * 50000));
        p = close;
      }
    }
  }
  return csv;
}

// One host configuration for both: replay (as fast as it can) and the paper broker.
std::string config(const std::filesystem::path& csv) {
  return fmt::format(R"(schema: 1
clock:
  mode: simulated
  start: 2026-11-16T09:29:00
  speed: 0
api:
  listen: 127.0.0.1:0
plugins:
  - id: replay
    library: replay
    config:
      files: [{}]
  - id: paper
    library: paper
    config:
      state_file: ${{var}}/paper/account.json
      starting_cash: 100000
      latency_ms: 0
      commission_per_share: 0.005
subscriptions:
  - provider: replay
    symbols: [QQQ, SPY]
    streams: [bars]
)",
                     csv.string());
}

struct Trade {
  std::string symbol, side, reason;
  double qty = 0, entry = 0, exit = 0;
  bool operator==(const Trade&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Trade& t) {
  return out << fmt::format("{} {} {} @ {} -> {} ({})", t.symbol, t.side, t.qty, t.entry, t.exit, t.reason);
}

// Trades from the orders of a session: each filled entry and the leg that closed it.
std::vector<Trade> tradesFromOrders(const Json& orders) {
  std::vector<Json> list(orders.begin(), orders.end());
  std::sort(list.begin(), list.end(), [](const Json& a, const Json& b) {
    return a["client_order_id"].get<std::string>() < b["client_order_id"].get<std::string>();
  });
  std::vector<Trade> out;
  for (const auto& entry : list) {
    // ORB's entries are its only top-level orders; their legs name them as parent.
    if (!entry["parent_id"].get<std::string>().empty() || entry["filled_quantity"].get<double>() <= 0) continue;
    Trade t{entry["symbol"], entry["side"] == "buy" ? "long" : "short", "", entry["filled_quantity"],
            entry["average_fill_price"], 0};
    for (const auto& leg : list) {
      if (leg["parent_id"] != entry["client_order_id"] || leg["filled_quantity"].get<double>() <= 0) continue;
      t.exit = leg["average_fill_price"];
      const std::string role = leg["role"];
      t.reason = role == "stop_loss" ? "stop" : role == "take_profit" ? "target" : "time";
    }
    out.push_back(t);
  }
  return out;
}

TEST(BacktestParity, RunWithTheReplayPluginAndBacktestMakeTheSameTrades) {
  test::TempDir temp;
  const std::filesystem::path dir = temp.path();
  std::ofstream(dir / "bars.csv") << randomWalk();
  std::ofstream(dir / "host.yaml") << config(dir / "bars.csv");
  const auto strategies = dir / "strategies";
  std::filesystem::create_directories(strategies);
  std::filesystem::copy(std::filesystem::path(TH_SOURCE_DIR) / "strategies" / "orb", strategies / "orb");

  test::Process backtest({test::tradehostBinary(), "backtest", "--strategy", "orb", "--strategies", strategies.string(),
                          "--config", (dir / "host.yaml").string(), "--data", (dir / "bars.csv").string(), "--from",
                          "2026-11-16", "--to", "2026-11-17", "--out", (dir / "report.json").string()},
                         dir / "backtest.log");
  ASSERT_EQ(backtest.wait(120s).value_or(-1), 0) << backtest.output();
  std::ifstream in(dir / "report.json");
  auto report = Json::parse(in);
  std::vector<Trade> expected;
  for (const auto& t : report["trades"]) {
    expected.push_back({t["symbol"], t["side"], t["exit_reason"], t["qty"], t["entry_price"], t["exit_price"]});
  }
  ASSERT_GE(expected.size(), 2u) << "the walk should break out of some opening ranges\n" << report.dump(1);

  test::Process run({test::tradehostBinary(), "run", "--config", (dir / "host.yaml").string(), "--var",
                     (dir / "var").string(), "--strategies", strategies.string()},
                    dir / "run.log", {"TRADEHOST_TOKEN=parity"});
  auto port = run.waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
  ASSERT_TRUE(port) << run.output();
  ASSERT_TRUE(run.waitForOutput(R"(replay: end of data \((\d+) bars\))", 120s)) << run.output();
  const auto api = static_cast<uint16_t>(std::stoi(*port));
  // The last reports settle after the last bar.
  std::vector<Trade> actual;
  EXPECT_TRUE(test::eventually(
      [&] {
        auto reply = test::http(api, "GET", "/api/v1/orders?status=all&strategy=orb&limit=10000");
        if (reply.status != 200) return false;
        actual = tradesFromOrders(Json::parse(reply.body)["orders"]);
        return actual.size() == expected.size() && std::all_of(actual.begin(), actual.end(), [](const Trade& t) {
                 return !t.reason.empty();
               });
      },
      30s))
      << run.output();
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(30s).value_or(-1), 0) << run.output();

  std::stable_sort(actual.begin(), actual.end(), [](const Trade& a, const Trade& b) { return a.symbol < b.symbol; });
  std::stable_sort(expected.begin(), expected.end(), [](const Trade& a, const Trade& b) { return a.symbol < b.symbol; });
  EXPECT_EQ(actual, expected);
}

}  // namespace
}  // namespace th
