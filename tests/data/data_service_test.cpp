// The data service as the rest of the host sees it: built from its
// configuration, reporting channels, quality and subscriptions as JSON,
// Prometheus metrics, and the /api/v1/data routes on a real socket.
#include "data/data_service.h"

#include <gtest/gtest.h>
#include <th/plugin.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "api/data_routes.h"
#include "core/time.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using nlohmann::json;

std::unique_ptr<DataService> makeService(const DataConfig& config = {}) {
  auto service = DataService::create(config);
  EXPECT_TRUE(service) << service.error().message;
  return service ? std::move(*service) : nullptr;
}

TradeEvent trade(std::string_view symbol, int64_t ts, double price) {
  TradeEvent t;
  t.symbol = Symbol(symbol);
  t.ts_ns = fromExchangeTime(20261117, 10, 0) + ts;  // during a session
  t.price = price;
  t.size = 1;
  return t;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(DataService, UsesTheBuiltInCalendarByDefault) {
  auto service = makeService();
  ASSERT_TRUE(service);
  EXPECT_EQ(service->calendar().exchange(), "NYSE");
  EXPECT_FALSE(service->calendar().sessionOn(20261126));
}

TEST(DataService, ACalendarFileIsLoadedAndItsErrorsNameTheFile) {
  test::TempDir dir;
  std::ofstream(dir / "calendar.yaml") << "schema: 2\nholidays:\n  - {date: 2026-11-28, name: Saturday}\n";
  DataConfig config;
  config.calendar = dir / "calendar.yaml";
  auto bad = DataService::create(config);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(contains(bad.error().message, dir / "calendar.yaml:")) << bad.error().message;
  EXPECT_TRUE(contains(bad.error().message, "date: 2026-11-28 is a Saturday")) << bad.error().message;

  config.calendar = dir / "missing.yaml";
  auto missing = DataService::create(config);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Io);

  std::ofstream(dir / "calendar.yaml") << "schema: 2\nholidays:\n  - {date: 2026-11-27, name: Closed}\n";
  config.calendar = dir / "calendar.yaml";
  auto good = DataService::create(config);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ((*good)->calendar().source(), dir / "calendar.yaml");
  EXPECT_FALSE((*good)->calendar().sessionOn(20261127));
}

TEST(DataService, ChannelsJsonListsTheConfiguredLanes) {
  DataConfig config;
  config.channels[0].max_queued = 7;  // orders
  auto service = makeService(config);
  ASSERT_TRUE(service);
  std::promise<void> done;
  ASSERT_TRUE(service->channels().submit("charts", {[&]() -> Result<void> {
                                                      done.set_value();
                                                      return fail(ErrorCode::Unavailable, "no");
                                                    },
                                                    {}}));
  done.get_future().wait();
  service->stop();  // the task has finished and been counted
  auto j = json::parse(service->channelsJson());
  std::vector<std::string> names;
  for (auto& c : j["channels"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"orders", "charts", "scanner", "strategies", "realtime"}));
  EXPECT_EQ(j["channels"][0]["max_queued"], 7);
  EXPECT_EQ(j["channels"][0]["concurrency"], 2);
  EXPECT_EQ(j["channels"][2]["rate_per_s"], 5.0);
  EXPECT_EQ(j["channels"][1]["requests"], 1);
  EXPECT_EQ(j["channels"][1]["errors"], 1);
  EXPECT_TRUE(j["channels"][1]["latency_ms"].contains("p99"));
}

TEST(DataService, QualityJsonAndMetricsCountIssuesPerSymbol) {
  auto service = makeService();
  ASSERT_TRUE(service);
  auto& quality = service->quality();
  quality.checkTrade(trade("SPY", 100, 590));
  quality.checkTrade(trade("SPY", 50, 590));  // out of order: dropped
  QuoteEvent crossed;
  crossed.symbol = Symbol("QQQ");
  crossed.ts_ns = 1000;
  crossed.bid = 510.2;
  crossed.ask = 510.1;
  quality.checkQuote(crossed, 1000);  // flagged

  auto j = json::parse(service->qualityJson());
  EXPECT_EQ(j["actions"]["out_of_order"], "drop");
  EXPECT_EQ(j["actions"]["crossed_quote"], "flag");
  EXPECT_EQ(j["events"], 3);
  EXPECT_EQ(j["dropped"], 1);
  EXPECT_EQ(j["flagged"], 1);
  ASSERT_EQ(j["symbols"].size(), 2u);
  EXPECT_EQ(j["symbols"][0]["symbol"], "QQQ");
  EXPECT_EQ(j["symbols"][0]["issues"]["crossed_quote"], 1);
  EXPECT_EQ(j["symbols"][1]["issues"]["out_of_order"], 1);

  auto metrics = service->metricsText();
  EXPECT_TRUE(contains(metrics,
                       "tradehost_data_quality_events_total{symbol=\"SPY\",issue=\"out_of_order\","
                       "action=\"drop\"} 1\n"))
      << metrics;
  EXPECT_TRUE(contains(metrics,
                       "tradehost_data_quality_events_total{symbol=\"QQQ\",issue=\"crossed_quote\","
                       "action=\"flag\"} 1\n"));
  EXPECT_FALSE(contains(metrics, "issue=\"bad_tick\"")) << "issues that never happened are not listed";
}

TEST(DataService, MetricsHaveEveryChannel) {
  auto service = makeService();
  ASSERT_TRUE(service);
  ASSERT_FALSE(service->channels().submit("nope", {[]() -> Result<void> { return {}; }, {}}));
  auto metrics = service->metricsText();
  for (const char* channel : {"orders", "charts", "scanner", "strategies", "realtime"}) {
    std::string label = std::string("{channel=\"") + channel + "\"}";
    EXPECT_TRUE(contains(metrics, "tradehost_data_channel_requests_total" + label + " 0\n")) << channel;
    EXPECT_TRUE(contains(metrics, "tradehost_data_channel_errors_total" + label + " 0\n")) << channel;
    EXPECT_TRUE(contains(metrics, "tradehost_data_channel_rejected_total" + label + " 0\n")) << channel;
    EXPECT_TRUE(contains(
        metrics, std::string("tradehost_data_channel_latency_ms{channel=\"") + channel + "\",quantile=\"0.99\"} 0\n"))
        << channel;
  }
  EXPECT_TRUE(contains(metrics, "# TYPE tradehost_data_channel_requests_total counter\n"));
  EXPECT_TRUE(contains(metrics, "tradehost_data_channel_unknown_total 1\n")) << metrics;
}

TEST(DataService, SubscriptionsJsonFollowsChanges) {
  auto service = makeService();
  ASSERT_TRUE(service);
  EXPECT_EQ(json::parse(service->subscriptionsJson())["subscriptions"].size(), 0u);
  EXPECT_EQ(service->acquire("synthetic", "SPY", TH_STREAM_TRADES | TH_STREAM_QUOTES, "chart"),
            uint32_t(TH_STREAM_TRADES | TH_STREAM_QUOTES));
  EXPECT_EQ(service->acquire("synthetic", "SPY", TH_STREAM_TRADES, "strategy:orb"), 0u);
  auto j = json::parse(service->subscriptionsJson())["subscriptions"];
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["provider"], "synthetic");
  EXPECT_EQ(j[0]["symbol"], "SPY");
  EXPECT_EQ(j[0]["streams"], json({"trades", "quotes"}));
  EXPECT_EQ(j[0]["consumers"][0]["consumer"], "chart");
  EXPECT_EQ(j[0]["consumers"][0]["streams"], json({{"trades", 1}, {"quotes", 1}}));
  EXPECT_EQ(j[0]["consumers"][1]["streams"], json({{"trades", 1}}));

  auto refused = service->release("synthetic", "SPY", TH_STREAM_QUOTES, "strategy:orb");
  ASSERT_FALSE(refused);
  EXPECT_EQ(service->releaseConsumer("chart"), (std::vector<ProviderStreams>{{"synthetic", "SPY", TH_STREAM_QUOTES}}));
  j = json::parse(service->subscriptionsJson())["subscriptions"];
  EXPECT_EQ(j[0]["streams"], json({"trades"}));
  EXPECT_EQ(*service->release("synthetic", "SPY", TH_STREAM_TRADES, "strategy:orb"), uint32_t(TH_STREAM_TRADES));
  EXPECT_EQ(json::parse(service->subscriptionsJson())["subscriptions"].size(), 0u);
}

TEST(DataRoutes, ServeTheServiceJson) {
  auto service = makeService();
  ASSERT_TRUE(service);
  service->acquire("synthetic", "AAPL", TH_STREAM_BARS_1M, "chart");
  service->quality().checkTrade(trade("AAPL", 1, 228));
  ApiOptions options;
  options.port = 0;
  ApiServer server(options);
  registerDataRoutes(server, *service);
  ASSERT_TRUE(server.start());

  auto channels = test::http(server.port(), "GET", "/api/v1/data/channels");
  ASSERT_EQ(channels.status, 200) << channels.body;
  EXPECT_EQ(json::parse(channels.body)["channels"].size(), 5u);
  auto quality = test::http(server.port(), "GET", "/api/v1/data/quality");
  ASSERT_EQ(quality.status, 200);
  EXPECT_EQ(json::parse(quality.body)["symbols"][0]["symbol"], "AAPL");
  auto subscriptions = test::http(server.port(), "GET", "/api/v1/data/subscriptions");
  ASSERT_EQ(subscriptions.status, 200);
  EXPECT_EQ(json::parse(subscriptions.body)["subscriptions"][0]["streams"], json({"bars"}));
  EXPECT_EQ(test::http(server.port(), "POST", "/api/v1/data/quality").status / 100, 4);
  server.stop();
}

}  // namespace
}  // namespace th
