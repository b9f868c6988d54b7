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
  // The chart holds several sessions (the backfill): each minute's session
  // runs from its first minute to its last, and a gap of more than an hour
  // starts the next one.
  std::map<int64_t, nlohmann::json> by_time;
  std::map<int64_t, int64_t> sessions;  // open → close (ms)
  int64_t previous = 0;
  for (const auto& bar : minutes["bars"]) {
    int64_t t = bar["time"];
    by_time[t] = bar;
    if (sessions.empty() || t - previous > 60 * 60'000) sessions[t] = t;
    sessions.rbegin()->second = t + 60'000;
    previous = t;
  }
  // Minutes keep closing while the other timeframes are read: only periods the minutes read cover are checked.
  int64_t read_until = 0;
  for (const auto& bar : minutes["bars"]) {
    if (bar["final"].get<bool>()) read_until = bar["time"].get<int64_t>() + 60'000;
  }
  // The oldest session read may start partway (the read is limited): the checks start at the next.
  if (sessions.size() > 1 && minutes["bars"].size() >= 10000) sessions.erase(sessions.begin());
  const int64_t open_ms = sessions.begin()->first;  // 09:30 of the first whole session read

  for (const auto& [timeframe, length] : kMinutes) {
    auto series = host.get("/api/v1/chart/SPY/" + timeframe + "?limit=10000");
    size_t checked = 0;
    for (const auto& bar : series["bars"]) {
      if (!bar["final"].get<bool>()) continue;  // still moving while we read
      int64_t start = bar["time"];
      if (start < open_ms) continue;  // older than the minutes read
      auto session = std::prev(sessions.upper_bound(start));
      EXPECT_EQ((start - session->first) % (int64_t{length} * 60'000), 0) << timeframe << " is not aligned to 09:30";
      int64_t end = std::min(start + int64_t{length} * 60'000, session->second);
      // In the session still trading, the session's end is not known yet: the period's own end counts.
      if (session->first == sessions.rbegin()->first && start + int64_t{length} * 60'000 > read_until) continue;
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
  size_t first = 0;  // the 5m bar at open_ms
  while (first < five["bars"].size() && five["bars"][first]["time"].get<int64_t>() < open_ms) ++first;
  ASSERT_LT(first + 12, five["bars"].size());
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(udf["t"][i].get<int64_t>() * 1000, five["bars"][first + i]["time"].get<int64_t>());
    EXPECT_EQ(udf["o"][i], five["bars"][first + i]["open"]);
    EXPECT_EQ(udf["v"][i], five["bars"][first + i]["volume"]);
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
