// Charts from a running host, as a trader's tools would read them: the real
// binary on the embedded configuration (synthetic market), every timeframe
// over REST, UDF and the WebSocket.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/ws_client.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using test::http;

class RunningHost {
 public:
  explicit RunningHost(const test::TempDir& dir)
      : process_({test::tradehostBinary(), "run", "--var", dir.str(), "--api", "127.0.0.1:0", "--speed", "600"},
                 dir / "run.log", {"TRADEHOST_TOKEN=chart-secret"}) {
    auto port = process_.waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
    if (!port) throw std::runtime_error("host did not start:\n" + process_.output());
    port_ = static_cast<uint16_t>(std::stoi(*port));
  }
  uint16_t port() const { return port_; }
  nlohmann::json get(const std::string& target) {
    auto r = http(port_, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return nlohmann::json::parse(r.body);
  }

 private:
  test::Process process_;
  uint16_t port_ = 0;
};

const std::map<std::string, int> kMinutes = {{"3m", 3},  {"5m", 5},   {"15m", 15}, {"30m", 30},
                                             {"1h", 60}, {"4h", 240}, {"1d", 390}};

TEST(ChartRun, EveryTimeframeIsTheFoldOfTheOneMinuteCandlesOverRest) {
  test::TempDir dir;
  RunningHost host(dir);
  // At 600x the synthetic session runs ten minutes a second: wait for an hour and a half.
  nlohmann::json minutes;
  for (int i = 0; i < 600; ++i) {
    minutes = host.get("/api/v1/chart/SPY/1m?limit=10000");
    if (minutes["bars"].size() >= 100) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(minutes["bars"].size(), 100u);
  EXPECT_EQ(minutes["health"]["source"], "synthetic");
  int64_t open_ms = minutes["bars"][0]["time"];  // 09:30 of the first session
  std::map<int64_t, nlohmann::json> by_time;
  for (const auto& bar : minutes["bars"]) by_time[bar["time"]] = bar;

  for (const auto& [timeframe, length] : kMinutes) {
    auto series = host.get("/api/v1/chart/SPY/" + timeframe + "?limit=10000");
    size_t checked = 0;
    for (const auto& bar : series["bars"]) {
      if (!bar["final"].get<bool>()) continue;  // still moving while we read
      int64_t start = bar["time"];
      EXPECT_EQ((start - open_ms) % (int64_t{length} * 60'000), 0) << timeframe << " is not aligned to 09:30";
      int64_t end = std::min(start + int64_t{length} * 60'000, open_ms + 390 * 60'000);
      nlohmann::json fold;
      for (auto it = by_time.lower_bound(start); it != by_time.end() && it->first < end; ++it) {
        const auto& m = it->second;
        if (fold.is_null()) {
          fold = m;
          continue;
        }
        fold["high"] = std::max(fold["high"].get<double>(), m["high"].get<double>());
        fold["low"] = std::min(fold["low"].get<double>(), m["low"].get<double>());
        fold["close"] = m["close"];
        fold["volume"] = fold["volume"].get<double>() + m["volume"].get<double>();
      }
      ASSERT_FALSE(fold.is_null()) << timeframe << " candle with no minutes";
      for (const char* field : {"open", "high", "low", "close", "volume"}) {
        EXPECT_EQ(bar[field], fold[field]) << "SPY " << timeframe << " at " << start << ": " << field;
      }
      ++checked;
    }
    if (timeframe != "1d" && timeframe != "4h") {
      EXPECT_GT(checked, 0u) << timeframe;
    }
  }

  // The same candles through UDF.
  auto five = host.get("/api/v1/chart/SPY/5m?limit=10000");
  auto udf = host.get("/udf/history?symbol=SPY&resolution=5&from=" + std::to_string(open_ms / 1000) +
                      "&to=" + std::to_string(open_ms / 1000 + 3600));
  ASSERT_EQ(udf["s"], "ok");
  ASSERT_EQ(udf["t"].size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(udf["t"][i].get<int64_t>() * 1000, five["bars"][i]["time"].get<int64_t>());
    EXPECT_EQ(udf["o"][i], five["bars"][i]["open"]);
    EXPECT_EQ(udf["v"][i], five["bars"][i]["volume"]);
  }

  auto channels = host.get("/api/v1/data/channels");
  std::map<std::string, nlohmann::json> lanes;
  for (const auto& lane : channels["channels"]) lanes[lane["name"]] = lane;
  for (const char* name : {"orders", "charts", "scanner", "strategies", "realtime"}) EXPECT_TRUE(lanes.contains(name));
  EXPECT_GE(lanes["charts"]["requests"].get<uint64_t>(), 4u);  // one backfill per configured symbol
  auto metrics = http(host.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("tradehost_chart_trades_total"), std::string::npos);
  EXPECT_NE(metrics.find("tradehost_data_channel_requests_total{channel=\"charts\"}"), std::string::npos);
}

TEST(ChartRun, WebSocketSeriesGivesASnapshotThenConsecutiveUpdates) {
  test::TempDir dir;
  RunningHost host(dir);
  test::WsClient client(host.port());
  client.write(R"({"op":"subscribe","symbol":"QQQ","timeframe":"1m","bars":50})");
  uint64_t seq = 0;
  bool snapshot = false;
  int updates = 0;
  for (int i = 0; i < 20000 && updates < 20; ++i) {
    auto message = nlohmann::json::parse(client.read());
    if (message["type"] == "snapshot") {
      ASSERT_FALSE(snapshot) << "one snapshot";
      snapshot = true;
      EXPECT_EQ(message["series"], "QQQ:1m");
      seq = message["seq"];
    } else if (message["type"] == "update") {
      ASSERT_TRUE(snapshot) << "no update before the snapshot";
      EXPECT_EQ(message["series"], "QQQ:1m");
      EXPECT_EQ(message["seq"].get<uint64_t>(), seq + 1) << "updates are numbered one after another";
      seq = message["seq"];
      for (const auto& bar : message["bars"]) {
        EXPECT_GE(bar["high"].get<double>(), bar["low"].get<double>());
      }
      ++updates;
    }
  }
  EXPECT_EQ(updates, 20);
}

}  // namespace
}  // namespace th
