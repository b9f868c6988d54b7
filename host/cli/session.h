// A running host: the `tradehost run` job. It opens the store, loads and
// connects the configured plugins, runs the core thread, serves the API, and
// stops cleanly. The session is the core thread's event processor: every
// event is journalled (one store commit per group of whole events, synced
// when it holds an order or fill), bars are kept, simulated brokers get the
// market feed, and committed events are pushed to WebSocket clients.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/chart_routes.h"
#include "api/host_routes.h"
#include "api/strategy_routes.h"
#include "api/trading_routes.h"
#include "broker/broker_service.h"
#include "chart/chart_hub.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/core_loop.h"
#include "core/worker.h"
#include "data/data_service.h"
#include "plugin/plugin.h"
#include "runtime/router.h"
#include "script/strategy_service.h"
#include "store/store.h"

namespace th {

class ApiServer;

class Session final : public EventProcessor,
                      public RouterHost,
                      public PluginEventSink,
                      public HostView,
                      public ChartHost,
                      public ChartService,
                      public BrokerServiceHost,
                      public TradingService,
                      public StrategyHost,
                      public StrategyControl {
 public:
  Session(HostConfig config, std::string plugin_dir, std::string token);
  ~Session() override;

  // Brings everything up; the error says which part failed and why.
  [[nodiscard]] Result<void> start();
  // Stops plugins, drains the core, journals the stop and closes the store.
  void stop(const std::string& reason);
  uint16_t apiPort() const;

  // EventProcessor (core thread): every event goes through the router.
  void process(const Event& event) override;

  // RouterHost (core thread): the journal, and the reports a simulated
  // broker makes while the router feeds it.
  uint64_t record(const Event& event) override;
  void holdReports() override;
  void takeReports(std::vector<Event>& out) override;
  void routed(const Event& event) override;
  void endGroup() override;
  void idle() override;

  // PluginEventSink (any thread)
  void post(uint16_t source, EventPayload&& payload) override;
  int64_t nowNs() const override { return clock_->nowNs(); }
  void log(const std::string& plugin, int32_t level, std::string_view message) override;

  // HostView (API threads)
  std::string healthJson() const override;
  std::string metricsText() const override;
  std::string pluginsJson() const override;
  void setPluginConnected(const std::string& id, bool connected,
                          std::function<void(Result<std::string>)> done) override;
  Result<std::string> journalJson(uint64_t from_seq, size_t limit, const std::string& kind) const override;

  // ChartHost (core thread): history and live data for the chart hub.
  void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) override;
  void wantLive(const std::string& symbol) override;

  // ChartService (API threads)
  bool onCore(std::function<void(ChartHub&)> task) override;
  void lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done) override;

  // BrokerServiceHost (core thread)
  Batch& batch() override { return *batch_; }
  bool commitNow(bool sync) override;
  void notify(std::string message) override;
  bool listening() const override;
  bool regularHours(int64_t ts_ns) const override;
  // Queued as the host's own event (source 0): journalled, charted and
  // handed to the strategies, and booked by no broker.
  void serviceFill(FillEvent fill) override { post(0, std::move(fill)); }

  // TradingService (API threads): each runs on the core thread.
  void submitOrder(OrderIntent intent, std::string broker, JsonDone done) override;
  void cancelOrder(std::string client_order_id, JsonDone done) override;
  void order(std::string client_order_id, JsonDone done) override;
  void listOrders(OrderQuery query, JsonDone done) override;
  void positions(std::string strategy, JsonDone done) override;
  void account(JsonDone done) override;
  void risk(JsonDone done) override;
  void kill(bool flatten, std::string reason, JsonDone done) override;
  void resume(std::string state, std::string reason, JsonDone done) override;

  // StrategyHost (core thread, except postOffCore)
  BrokerService* broker() override { return broker_.get(); }
  const SessionCalendar& calendar() const override;
  std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count) override;
  void subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer) override;
  Result<std::vector<OptionQuote>> optionChain(const std::string& underlying) override;
  void addMarker(const std::string& symbol, Marker marker) override;
  bool postToCore(std::function<void()> task) override;
  bool postOffCore(std::function<void()> task) override;

  // StrategyControl (API threads)
  void listStrategies(JsonDone done) override;
  void strategy(std::string id, JsonDone done) override;
  void strategyHistory(std::string id, JsonDone done) override;
  void reloadStrategy(std::string id, JsonDone done) override;
  void rollbackStrategy(std::string id, std::string version, JsonDone done) override;
  void enableStrategy(std::string id, bool enabled, std::string reason, JsonDone done) override;
  void signals(std::string strategy, std::string symbol, size_t limit, JsonDone done) override;
  void checklist(std::string symbol, std::string direction, JsonDone done) override;
  void requestStrategy(std::string id, std::string name, std::string args_json, JsonDone done) override;

 private:
  void journalHostRecord(uint16_t kind, const std::string& json);
  // A simulated clock moves past what an earlier run in the same store saw.
  [[nodiscard]] Result<void> resumeSimulatedClock();
  // Commits the pending batch; on success pushes the group's messages to
  // WebSocket clients. Core thread only.
  bool commitPending();
  std::string_view sourceName(uint16_t source) const;
  void trackPrice(std::string_view symbol, double price);
  void logStatus();
  void logSummary();  // core thread: each strategy's signals, orders, fills and P&L, and the account
  // Subscribes through the data service (one provider subscription per
  // symbol however many consumers); the provider call runs on the realtime lane.
  void acquireFeed(PluginInstance& provider, const std::string& symbol, uint32_t streams, const std::string& consumer);
  void publishChartUpdates();
  std::string chartMetrics() const;
  // Runs `work` on the core thread and answers with its result.
  void onTradingCore(std::function<Result<std::string>()> work, JsonDone done);
  // Rebuilds orders, positions and risk from the store, then reconciles
  // with the brokers, on the core thread; start() waits for it.
  [[nodiscard]] Result<void> recover();
  // Runs `work` on the core thread and waits for it (start-up and stop).
  [[nodiscard]] Result<void> runOnCoreAndWait(std::function<void()> work, std::string_view what);
  void refreshTradingSnapshot();
  // session_strategies.cpp: the strategy service starts once brokers and
  // data are connected, before the configured subscriptions.
  [[nodiscard]] Result<void> startStrategies();
  void onStrategyCore(std::function<Result<std::string>()> work, JsonDone done);
  StrategyService::Done committedAnswer(JsonDone done);
  std::vector<Candle> storedHistory(const std::string& symbol, Timeframe timeframe, size_t count);
  std::string tradingMetrics() const;
  std::string strategyMetrics() const;  // session_strategies.cpp
  void quoteOptionsInPlay();            // session_strategies.cpp

  HostConfig config_;
  std::string plugin_dir_;
  std::string token_;
  std::unique_ptr<Clock> clock_;
  EventQueue queue_;
  std::unique_ptr<Store> store_;
  PluginRegistry registry_;
  std::unique_ptr<CoreLoop> core_;
  std::unique_ptr<ApiServer> api_;
  Worker control_;  // plugin connect/disconnect requested through the API
  std::unique_ptr<DataService> data_;
  std::unique_ptr<ChartHub> chart_;  // core thread only
  std::unique_ptr<BrokerService> broker_;  // core thread only (after start)
  std::unique_ptr<StrategyService> strategies_;  // core thread only (after start)
  EventRouter router_{*this};                    // core thread only
  Worker strategy_worker_;  // compiles and warms up new strategy versions
  PluginInstance* chart_provider_ = nullptr;
  std::chrono::steady_clock::time_point started_;

  // Core thread only.
  std::optional<Batch> batch_;
  bool holding_ = false;       // holdReports() .. takeReports()
  std::vector<Event> held_;    // what plugins posted on the core thread meanwhile
  std::vector<std::string> outbox_;  // WebSocket messages of the group, sent after commit
  std::chrono::steady_clock::time_point last_heartbeat_;
  std::chrono::steady_clock::time_point last_status_;
  uint64_t status_logs_ = 0;  // every sixth status line comes with the strategies' summary
  struct PriceTrack {
    double first = 0, last = 0;
  };
  std::map<std::string, PriceTrack, std::less<>> prices_;  // for the status line
  std::chrono::steady_clock::time_point last_chart_tick_;
  // Options in play are quoted from their chains (quoteOptionsInPlay).
  int64_t next_option_quotes_ns_ = 0;
  std::set<std::string, std::less<>> unquoted_;  // underlyings without a chain (said once)

  // A copy of the chart hub's counters for /metrics, refreshed on the core thread.
  mutable std::mutex chart_stats_mutex_;
  ChartStats chart_stats_;
  size_t chart_symbols_ = 0;

  std::atomic<uint64_t> counts_[kEventKindCount] = {};  // events processed, by EventPayload index
  std::atomic<uint64_t> store_errors_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> store_failing_{false};  // the last commit failed; a retry is pending
  std::atomic<uint64_t> bars_stored_{0};
  mutable std::mutex store_error_mutex_;
  std::string last_store_error_;
  // The strategy service's counters for /metrics, refreshed on the core thread.
  mutable std::mutex strategy_stats_mutex_;
  StrategyService::Stats strategy_stats_;
  std::array<size_t, kStrategyStatusCount> strategy_statuses_{};
  // The broker service's health and counters, refreshed on the core thread.
  mutable std::mutex trading_mutex_;
  std::string trading_health_ = "null";
  bool trading_degraded_ = false;
  BrokerService::Stats trading_stats_;
  TradingState trading_state_ = TradingState::Active;
  bool stopped_ = false;
};

}  // namespace th
