// The chart endpoints over a real server on 127.0.0.1: REST, the exact
// UDF formats, and WebSocket series with numbered updates and resync.
// The hub runs on its own thread, as it does on the host's core thread.
#include "api/chart_routes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "chart/chart_support.h"
#include "core/worker.h"
#include "support/http_client.h"
#include "support/ws_client.h"

namespace th::test {
namespace {

constexpr int32_t kDay = 20261117;

int64_t seconds(int64_t ns) { return ns / 1'000'000'000; }

// Answers SPY's history from the tape, as a provider would, a moment later
// on the hub's thread; other symbols wait for the test to answer.
class TapeHost : public FakeChartHost {
 public:
  TapeHost(Worker& core, const std::vector<TradeEvent>& tape, std::unique_ptr<ChartHub>& hub)
      : core_(core), tape_(tape), hub_(hub) {}
  void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) override {
    FakeChartHost::requestHistory(id, symbol, from_ns, to_ns);
    if (symbol != "SPY") return;
    Request request = pending.back();
    pending.pop_back();
    core_.post([this, request] { hub_->historyArrived(request.id, answerFrom(tape_, request, hub_->periods())); });
  }

 private:
  Worker& core_;
  const std::vector<TradeEvent>& tape_;
  std::unique_ptr<ChartHub>& hub_;
};

class ChartApi : public ::testing::Test, public ChartService {
 protected:
  void SetUp() override {
    ChartOptions options;
    options.provider = "test";
    options.stale_after_ns = 3600 * kSecond;  // the test's market is quiet, not stale
    hub_ = std::make_unique<ChartHub>(options, SessionCalendar::builtin(), host_);
    ApiOptions api;
    api.port = 0;
    server_ = std::make_unique<ApiServer>(api);
    registerChartRoutes(*server_, *this);
    ASSERT_TRUE(server_->start());
    port_ = server_->port();
    setClock(at(kDay, 9, 29));
    onHub([&] { hub_->track("SPY"); });
    // A morning anyone can check by hand.
    feed({trade("SPY", at(kDay, 9, 30, 10), 100, 10), trade("SPY", at(kDay, 9, 31, 20), 101.5, 5),
          trade("SPY", at(kDay, 9, 33), 99.25, 7.5), trade("SPY", at(kDay, 9, 36), 100.75, 2)});
    setClock(at(kDay, 9, 40));
    onHub([&] { hub_->tick(); });
  }
  void TearDown() override {
    server_->stop();
    core_.stop();
  }

  bool onCore(std::function<void(ChartHub&)> task) override {
    return core_.post([this, task = std::move(task)] { task(*hub_); });
  }
  void lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done) override {
    // IWM the provider knows but has no history for.
    if (symbol != "SPY" && symbol != "IWM") return done(fail(ErrorCode::NotFound, "no such symbol '" + symbol + "'"));
    done(InstrumentInfo{"SPY", "SPDR S&P 500 ETF", "ARCA", "stock", 0.01});
  }
  int64_t nowNs() const override { return now_.load(); }

  // Runs `f` on the hub's thread and waits for it.
  template <typename F>
  void onHub(F f) {
    std::promise<void> done;
    core_.post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  void setClock(int64_t ns) {
    now_ = ns;
    onHub([&] { host_.now = ns; });
  }
  // Trades in, then the changes out to WebSocket clients, as the host does.
  void feed(const std::vector<TradeEvent>& trades) {
    onHub([&] {
      for (const auto& t : trades) {
        host_.now = t.ts_ns;
        hub_->onTrade(t);
        tape_.push_back(t);
      }
      publish();
    });
  }
  void publish() {
    for (auto& update : hub_->takeUpdates()) server_->publish(update.topic, update.text);
  }
  HttpResult get(const std::string& target) { return http(port_, "GET", target); }

  Worker core_;
  std::vector<TradeEvent> tape_;
  std::unique_ptr<ChartHub> hub_;
  TapeHost host_{core_, tape_, hub_};
  std::unique_ptr<ApiServer> server_;
  std::atomic<int64_t> now_{0};
  uint16_t port_ = 0;
};

TEST_F(ChartApi, UdfHistoryIsExactlyTheProtocolFormat) {
  auto from = seconds(at(kDay, 9, 30)), to = seconds(at(kDay, 9, 40));
  auto r = get(fmt::format("/udf/history?symbol=SPY&resolution=5&from={}&to={}", from, to));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, fmt::format(R"({{"s":"ok","t":[{},{}],"o":[100,100.75],"h":[101.5,100.75],"l":[99.25,100.75],)"
                                R"("c":[99.25,100.75],"v":[22.5,2]}})",
                                from, from + 300));
  // countback: the N bars before `to`, whatever `from` says.
  r = get(fmt::format("/udf/history?symbol=SPY&resolution=1&from={}&to={}&countback=2", to, to));
  EXPECT_EQ(r.body, fmt::format(R"({{"s":"ok","t":[{},{}],"o":[99.25,100.75],"h":[99.25,100.75],"l":[99.25,100.75],)"
                                R"("c":[99.25,100.75],"v":[7.5,2]}})",
                                from + 180, from + 360));
  // Nothing in range: no_data, and where the newest earlier bar is.
  r = get(fmt::format("/udf/history?symbol=SPY&resolution=5&from={}&to={}", to + 3600, to + 7200));
  EXPECT_EQ(r.body, fmt::format(R"({{"s":"no_data","nextTime":{}}})", from + 300));
  r = get(fmt::format("/udf/history?symbol=SPY&resolution=1D&from={}&to={}", from - 86400 * 5, from - 86400 * 4));
  EXPECT_EQ(r.body, R"({"s":"no_data"})");
  r = get(fmt::format("/udf/history?symbol=NYSE:SPY&resolution=1D&from={}&to={}", from - 3600, to + 86400));
  EXPECT_EQ(r.body,
            fmt::format(R"({{"s":"ok","t":[{}],"o":[100],"h":[101.5],"l":[99.25],"c":[100.75],"v":[24.5]}})", from));
}

TEST_F(ChartApi, UdfErrorsSayWhatIsWrong) {
  EXPECT_EQ(get("/udf/history?symbol=SPY&resolution=2&from=1&to=2").body,
            R"({"s":"error","errmsg":"unsupported resolution '2'"})");
  EXPECT_EQ(get("/udf/history?symbol=SPY&resolution=5&to=2").body,
            R"({"s":"error","errmsg":"from and to must be Unix times in seconds"})");
  EXPECT_EQ(get("/udf/history?symbol=S%20PY&resolution=5&from=1&to=2").body,
            R"({"s":"error","errmsg":"symbol: 'S PY' has a character other than A-Z, 0-9, '.', '-' and '/'"})");
  EXPECT_EQ(get("/udf/symbols?symbol=XXX").body, R"({"s":"error","errmsg":"unknown_symbol: no such symbol 'XXX'"})");
  // A symbol neither the hub nor the provider knows creates no series: it
  // is refused before history is asked for.
  EXPECT_EQ(get(fmt::format("/udf/history?symbol=ZZZ&resolution=5&from={}&to={}", seconds(at(kDay, 9, 30)),
                            seconds(at(kDay, 9, 40))))
                .body,
            R"x({"s":"error","errmsg":"symbol: 'ZZZ' is not one the host has data for (no such symbol 'ZZZ')"})x");
  EXPECT_EQ(get("/api/v1/chart/ZZY/5m").status, 404);
  onHub([&] {
    EXPECT_FALSE(hub_->knows("ZZZ"));
    EXPECT_FALSE(hub_->knows("ZZY"));
  });
  // History the provider cannot give: the error comes back in UDF form.
  std::promise<HttpResult> answer;
  std::thread client([&] {
    answer.set_value(get(fmt::format("/udf/history?symbol=IWM&resolution=5&from={}&to={}", seconds(at(kDay, 9, 30)),
                                     seconds(at(kDay, 9, 40)))));
  });
  for (int i = 0; i < 500; ++i) {
    bool asked = false;
    onHub([&] {
      std::vector<FakeChartHost::Request> iwm;
      for (auto& request : host_.pending) {
        if (request.symbol == "IWM") iwm.push_back(request);
      }
      std::erase_if(host_.pending, [](auto& r) { return r.symbol == "IWM"; });
      for (auto& request : iwm) {
        hub_->historyArrived(request.id, fail(ErrorCode::NotFound, "provider: no history for IWM"));
        asked = true;
      }
    });
    if (asked) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  client.join();
  EXPECT_EQ(answer.get_future().get().body, R"({"s":"error","errmsg":"provider: no history for IWM"})");
}

TEST_F(ChartApi, UdfConfigSymbolsSearchTimeAndMarks) {
  auto config = nlohmann::json::parse(get("/udf/config").body);
  EXPECT_EQ(config["supported_resolutions"], nlohmann::json::parse(R"(["1","3","5","15","30","60","240","1D"])"));
  EXPECT_EQ(config["supports_marks"], true);
  EXPECT_EQ(config["supports_search"], true);
  EXPECT_EQ(config["supports_group_request"], false);
  EXPECT_EQ(config["supports_time"], true);

  auto time = get("/udf/time");
  EXPECT_EQ(time.body, std::to_string(seconds(at(kDay, 9, 40))));
  EXPECT_NE(time.head.find("Content-Type: text/plain"), std::string::npos);

  auto symbol = nlohmann::json::parse(get("/udf/symbols?symbol=spy").body);
  EXPECT_EQ(symbol["name"], "SPY");
  EXPECT_EQ(symbol["description"], "SPDR S&P 500 ETF");
  EXPECT_EQ(symbol["timezone"], "America/New_York");
  EXPECT_EQ(symbol["session"], "0930-1600");
  EXPECT_EQ(symbol["pricescale"], 100);
  EXPECT_EQ(symbol["minmov"], 1);
  EXPECT_EQ(symbol["has_intraday"], true);

  EXPECT_EQ(get("/udf/search?query=sp&limit=5").body,
            R"([{"symbol":"SPY","full_name":"SPY","description":"SPY","exchange":"","ticker":"SPY","type":"stock"}])");
  EXPECT_EQ(get("/udf/search?query=QQQ").body, "[]");

  onHub([&] {
    Marker fill;
    fill.ts_ns = at(kDay, 9, 31, 20);
    fill.kind = MarkerKind::Fill;
    fill.price = 101.5;
    fill.text = "BUY 5 @ 101.5";
    fill.side = "buy";
    hub_->addMarker("SPY", fill);
    Marker level;
    level.ts_ns = at(kDay, 9, 30);
    level.kind = MarkerKind::Level;
    level.price = 101.5;
    level.text = "ORB \"high\"";
    hub_->addMarker("SPY", level);
  });
  auto from = seconds(at(kDay, 9, 30));
  EXPECT_EQ(
      get(fmt::format("/udf/marks?symbol=SPY&from={}&to={}&resolution=5", from, from + 600)).body,
      fmt::format(R"({{"id":[2,1],"time":[{},{}],"color":["blue","green"],"text":["ORB \"high\"","BUY 5 @ 101.5"],)"
                  R"("label":["L","B"],"labelFontColor":["white","white"],"minSize":[14,14]}})",
                  from, from + 80));
}

TEST_F(ChartApi, RestSeriesWithSourceFinalHealthAndMarkers) {
  auto r = get("/api/v1/chart/SPY/5m?from=2026-11-17T09:30&to=2026-11-17T16:00");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body["bars"].size(), 2u);
  EXPECT_EQ(body["bars"][0]["time"], at(kDay, 9, 30) / 1'000'000);
  EXPECT_EQ(body["bars"][0]["volume"], 22.5);
  EXPECT_EQ(body["bars"][0]["source"], "live");
  EXPECT_EQ(body["bars"][0]["final"], true);
  EXPECT_EQ(body["health"]["state"], "LIVE");
  EXPECT_EQ(body["health"]["source"], "test");
  EXPECT_EQ(body["truncated"], false);
  r = get("/api/v1/chart/SPY/1m?limit=2");
  body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body["bars"].size(), 2u);
  EXPECT_EQ(body["truncated"], true);
  EXPECT_EQ(body["bars"][1]["close"], 100.75);

  EXPECT_EQ(get("/api/v1/chart/SPY/2m").status, 400);
  EXPECT_EQ(get("/api/v1/chart/SPY/5m?from=yesterday").status, 400);
  EXPECT_EQ(get("/api/v1/chart/SPY/5m?from=2026-11-17T10:00&to=2026-11-17T09:00").status, 400);
  EXPECT_EQ(get("/api/v1/chart/SPY/5m?limit=0").status, 400);
  EXPECT_EQ(get("/api/v1/chart/SPY%3B/5m").status, 400);
}

// A chart client as a browser would write one: apply the snapshot, apply
// updates in number order, and on a missing number ask for a resync.
struct SeriesClient {
  uint64_t seq = 0;
  std::map<int64_t, nlohmann::json> bars;
  int resyncs = 0;

  // Returns false when an update was out of order and a resync was asked for.
  bool apply(WsClient& ws, const nlohmann::json& message) {
    if (message["type"] == "snapshot") {
      bars.clear();
      for (const auto& bar : message["bars"]) bars[bar["time"].get<int64_t>()] = bar;
      seq = message["seq"];
      return true;
    }
    if (message["type"] != "update") return true;
    if (message["seq"].get<uint64_t>() != seq + 1) {
      ++resyncs;
      ws.write(R"({"op":"resync","symbol":"SPY","timeframe":"1m"})");
      return false;
    }
    seq = message["seq"];
    for (const auto& bar : message["bars"]) bars[bar["time"].get<int64_t>()] = bar;
    return true;
  }
};

// The next message about charts (the server greets each client first).
nlohmann::json readJson(WsClient& ws) {
  for (;;) {
    auto text = ws.readWithin(std::chrono::seconds(10));
    EXPECT_TRUE(text) << "no message within 10 s";
    if (!text) return nlohmann::json();
    auto message = nlohmann::json::parse(*text);
    if (message["type"] != "hello") return message;
  }
}

TEST_F(ChartApi, WebSocketClientThatMissesAnUpdateDetectsItAndResyncs) {
  WsClient ws(port_);
  ws.write(R"({"op":"subscribe","symbol":"spy","timeframe":"1m","bars":100})");
  SeriesClient client;
  auto snapshot = readJson(ws);
  ASSERT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["series"], "SPY:1m");
  EXPECT_EQ(snapshot["bars"].size(), 4u);
  EXPECT_EQ(snapshot["health"]["state"], "LIVE");
  client.apply(ws, snapshot);

  setClock(at(kDay, 9, 41));
  feed({trade("SPY", at(kDay, 9, 41, 5), 102, 3)});
  auto update = readJson(ws);
  EXPECT_EQ(update["seq"], client.seq + 1);
  ASSERT_TRUE(client.apply(ws, update));
  EXPECT_EQ(client.bars.size(), 5u);

  // The next update is lost on the way (the client drops it unread)...
  feed({trade("SPY", at(kDay, 9, 41, 30), 103, 1)});
  auto lost = readJson(ws);
  EXPECT_EQ(lost["seq"], client.seq + 1);
  feed({trade("SPY", at(kDay, 9, 42, 1), 101, 4)});
  // ...so the one after does not follow on, and the client asks again.
  EXPECT_FALSE(client.apply(ws, readJson(ws)));
  auto fresh = readJson(ws);
  ASSERT_EQ(fresh["type"], "snapshot");
  client.apply(ws, fresh);
  EXPECT_EQ(client.resyncs, 1);

  // After the resync the client holds exactly what the server does.
  auto rest = nlohmann::json::parse(get("/api/v1/chart/SPY/1m?limit=100").body);
  ASSERT_EQ(client.bars.size(), rest["bars"].size());
  for (const auto& bar : rest["bars"]) EXPECT_EQ(client.bars[bar["time"].get<int64_t>()], bar);
  EXPECT_EQ(client.bars.rbegin()->second["close"], 101);
}

TEST_F(ChartApi, WebSocketRejectsBadRequestsAndStopsAfterUnsubscribe) {
  WsClient ws(port_);
  ws.write("not json");
  EXPECT_EQ(readJson(ws)["type"], "error");
  ws.write(R"({"op":"subscribe","symbol":"SPY","timeframe":"2m"})");
  auto error = readJson(ws);
  EXPECT_EQ(error["error"], "subscribe: timeframe: unknown '2m' (one of 1m, 3m, 5m, 15m, 30m, 1h, 4h, 1d)");
  ws.write(R"({"op":"resync","symbol":"SPY","timeframe":"5m"})");
  EXPECT_EQ(readJson(ws)["error"], "resync: not subscribed to SPY:5m");

  ws.write(R"({"op":"subscribe","symbol":"SPY","timeframe":"5m"})");
  EXPECT_EQ(readJson(ws)["type"], "snapshot");
  ws.write(R"({"op":"unsubscribe","symbol":"SPY","timeframe":"5m"})");
  EXPECT_EQ(readJson(ws)["type"], "unsubscribed");
  feed({trade("SPY", at(kDay, 9, 41, 5), 102, 3)});
  // Nothing more arrives for the series: the next message is the answer to this.
  ws.write(R"({"op":"subscribe","symbol":"SPY","timeframe":"15m","bars":1})");
  auto next = readJson(ws);
  EXPECT_EQ(next["type"], "snapshot");
  EXPECT_EQ(next["series"], "SPY:15m");
  EXPECT_EQ(next["bars"].size(), 1u);
}

}  // namespace
}  // namespace th::test
