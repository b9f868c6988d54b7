// A running host: the `tradehost run` job, the composition root of the live
// services. It opens the store, loads and connects the configured plugins,
// runs the core thread, serves the API, and stops cleanly. Every event takes
// the runtime's one path (host/runtime/router.h); what is the session's own
// is the wall or paced clock and the journal: every event is journalled (one
// store commit per group of whole events, synced when it holds an order or
// fill), bars are kept, and committed events are pushed to WebSocket
// clients. Each part of the host reaches the session through a small adapter
// for the one interface it needs.
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

class Session final {
 public:
  Session(HostConfig config, std::string plugin_dir, std::string token);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Brings everything up; the error says which part failed and why.
  [[nodiscard]] Result<void> start();
  // Stops plugins, drains the core, journals the stop and closes the store.
  void stop(const std::string& reason);
  uint16_t apiPort() const;

 private:
  // The core loop's side (core thread): every event goes through the router.
  void process(const Event& event);
  void endGroup();
  void idle();

  // The router's host (core thread): the journal, and the reports a
  // simulated broker makes while the router feeds it.
  uint64_t record(const Event& event);
  void holdReports();
  void takeReports(std::vector<Event>& out);
  void routed(const Event& event);

  // Plugins' callbacks (any thread).
  void post(uint16_t source, EventPayload&& payload);
  int64_t nowNs() const { return clock_->nowNs(); }
  void log(const std::string& plugin, int32_t level, std::string_view message);

  // The host API's view (API threads).
  // status "stalled" (with what holds it) once the core thread has been on
  // one event for kStallMs.
  static constexpr int64_t kStallMs = 1000;
  std::string healthJson() const;
  std::string metricsText() const;
  std::string pluginsJson() const;
  void setPluginConnected(const std::string& id, bool connected, std::function<void(Result<std::string>)> done);
  Result<std::string> journalJson(uint64_t from_seq, size_t limit, const std::string& kind) const;

  // The chart hub's host (core thread): history and live data.
  void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns);
  void wantLive(const std::string& symbol);

  // The chart routes (API threads).
  bool onCore(std::function<void(ChartHub&)> task);
  void lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done);

  // The broker service's host (core thread).
  bool commitNow(bool sync);
  void notify(std::string message);
  bool listening() const;
  bool regularHours(int64_t ts_ns) const;

  // The trading routes (API threads): each runs on the core thread.
  void submitOrder(OrderIntent intent, std::string broker, JsonDone done);
  void cancelOrder(std::string client_order_id, JsonDone done);
  void order(std::string client_order_id, JsonDone done);
  void listOrders(OrderQuery query, JsonDone done);
  void positions(std::string strategy, JsonDone done);
  void account(JsonDone done);
  void risk(JsonDone done);
  void kill(bool flatten, std::string reason, JsonDone done);
  void resume(std::string state, std::string reason, JsonDone done);

  // The strategy service's host (core thread, except postOffCore).
  const SessionCalendar& calendar() const;
  std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count);
  void subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer);
  Result<std::vector<OptionQuote>> optionChain(const std::string& underlying);
  void addMarker(const std::string& symbol, Marker marker);
  bool postToCore(std::function<void()> task);
  bool postOffCore(std::function<void()> task);

  // The strategy routes (API threads).
  void listStrategies(JsonDone done);
  void strategy(std::string id, JsonDone done);
  void strategyHistory(std::string id, JsonDone done);
  void reloadStrategy(std::string id, JsonDone done);
  void rollbackStrategy(std::string id, std::string version, JsonDone done);
  void enableStrategy(std::string id, bool enabled, std::string reason, JsonDone done);
  void signals(std::string strategy, std::string symbol, size_t limit, JsonDone done);
  void checklist(std::string symbol, std::string direction, JsonDone done);
  void requestStrategy(std::string id, std::string name, std::string args_json, JsonDone done);

  // One small adapter per interface the parts of the host call the session
  // through, so each part sees only the interface it needs.
  struct Core final : EventProcessor {
    explicit Core(Session& s) : s(s) {}
    void process(const Event& event) override { s.process(event); }
    void endGroup() override { s.endGroup(); }
    void idle() override { s.idle(); }
    Session& s;
  };
  struct Router final : RouterHost {
    explicit Router(Session& s) : s(s) {}
    int64_t nowNs() const override { return s.nowNs(); }
    uint64_t record(const Event& event) override { return s.record(event); }
    void holdReports() override { s.holdReports(); }
    void takeReports(std::vector<Event>& out) override { s.takeReports(out); }
    void routed(const Event& event) override { s.routed(event); }
    Session& s;
  };
  struct Plugins final : PluginEventSink {
    explicit Plugins(Session& s) : s(s) {}
    void post(uint16_t source, EventPayload&& payload) override { s.post(source, std::move(payload)); }
    int64_t nowNs() const override { return s.nowNs(); }
    void log(const std::string& plugin, int32_t level, std::string_view message) override {
      s.log(plugin, level, message);
    }
    const SessionCalendar& calendar() const override { return s.calendar(); }
    Session& s;
  };
  struct Host final : HostView {
    explicit Host(Session& s) : s(s) {}
    std::string healthJson() const override { return s.healthJson(); }
    std::string metricsText() const override { return s.metricsText(); }
    std::string pluginsJson() const override { return s.pluginsJson(); }
    void setPluginConnected(const std::string& id, bool connected,
                            std::function<void(Result<std::string>)> done) override {
      s.setPluginConnected(id, connected, std::move(done));
    }
    Result<std::string> journalJson(uint64_t from_seq, size_t limit, const std::string& kind) const override {
      return s.journalJson(from_seq, limit, kind);
    }
    Session& s;
  };
  struct Charts final : ChartHost, ChartService {
    explicit Charts(Session& s) : s(s) {}
    int64_t nowNs() const override { return s.nowNs(); }
    void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) override {
      s.requestHistory(id, symbol, from_ns, to_ns);
    }
    void wantLive(const std::string& symbol) override { s.wantLive(symbol); }
    bool onCore(std::function<void(ChartHub&)> task) override { return s.onCore(std::move(task)); }
    void lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done) override {
      s.lookup(symbol, std::move(done));
    }
    size_t maxSymbols() const override { return s.config_.chart.max_symbols; }
    Session& s;
  };
  struct Brokers final : BrokerServiceHost {
    explicit Brokers(Session& s) : s(s) {}
    int64_t nowNs() const override { return s.nowNs(); }
    Batch& batch() override { return *s.batch_; }
    bool commitNow(bool sync) override { return s.commitNow(sync); }
    void notify(std::string message) override { s.notify(std::move(message)); }
    bool listening() const override { return s.listening(); }
    bool regularHours(int64_t ts_ns) const override { return s.regularHours(ts_ns); }
    // Queued as the host's own event (source 0): journalled, charted and
    // handed to the strategies, and booked by no broker.
    void serviceFill(FillEvent fill) override { s.post(0, std::move(fill)); }
    Session& s;
  };
  struct Trading final : TradingService {
    explicit Trading(Session& s) : s(s) {}
    void submitOrder(OrderIntent intent, std::string broker, JsonDone done) override {
      s.submitOrder(std::move(intent), std::move(broker), std::move(done));
    }
    void cancelOrder(std::string id, JsonDone done) override { s.cancelOrder(std::move(id), std::move(done)); }
    void order(std::string id, JsonDone done) override { s.order(std::move(id), std::move(done)); }
    void listOrders(OrderQuery query, JsonDone done) override { s.listOrders(std::move(query), std::move(done)); }
    void positions(std::string strategy, JsonDone done) override {
      s.positions(std::move(strategy), std::move(done));
    }
    void account(JsonDone done) override { s.account(std::move(done)); }
    void risk(JsonDone done) override { s.risk(std::move(done)); }
    void kill(bool flatten, std::string reason, JsonDone done) override {
      s.kill(flatten, std::move(reason), std::move(done));
    }
    void resume(std::string state, std::string reason, JsonDone done) override {
      s.resume(std::move(state), std::move(reason), std::move(done));
    }
    Session& s;
  };
  struct Strategies final : StrategyHost, StrategyControl {
    explicit Strategies(Session& s) : s(s) {}
    int64_t nowNs() const override { return s.nowNs(); }
    Batch& batch() override { return *s.batch_; }
    BrokerService* broker() override { return s.broker_.get(); }
    const SessionCalendar& calendar() const override { return s.calendar(); }
    std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count) override {
      return s.history(symbol, timeframe, count);
    }
    void subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer) override {
      s.subscribe(symbol, streams, consumer);
    }
    Result<std::vector<OptionQuote>> optionChain(const std::string& underlying) override {
      return s.optionChain(underlying);
    }
    void addMarker(const std::string& symbol, Marker marker) override { s.addMarker(symbol, std::move(marker)); }
    void notify(std::string message) override { s.notify(std::move(message)); }
    bool postToCore(std::function<void()> task) override { return s.postToCore(std::move(task)); }
    bool postOffCore(std::function<void()> task) override { return s.postOffCore(std::move(task)); }

    void listStrategies(JsonDone done) override { s.listStrategies(std::move(done)); }
    void strategy(std::string id, JsonDone done) override { s.strategy(std::move(id), std::move(done)); }
    void strategyHistory(std::string id, JsonDone done) override {
      s.strategyHistory(std::move(id), std::move(done));
    }
    void reloadStrategy(std::string id, JsonDone done) override { s.reloadStrategy(std::move(id), std::move(done)); }
    void rollbackStrategy(std::string id, std::string version, JsonDone done) override {
      s.rollbackStrategy(std::move(id), std::move(version), std::move(done));
    }
    void enableStrategy(std::string id, bool enabled, std::string reason, JsonDone done) override {
      s.enableStrategy(std::move(id), enabled, std::move(reason), std::move(done));
    }
    void signals(std::string strategy, std::string symbol, size_t limit, JsonDone done) override {
      s.signals(std::move(strategy), std::move(symbol), limit, std::move(done));
    }
    void checklist(std::string symbol, std::string direction, JsonDone done) override {
      s.checklist(std::move(symbol), std::move(direction), std::move(done));
    }
    void requestStrategy(std::string id, std::string name, std::string args_json, JsonDone done) override {
      s.requestStrategy(std::move(id), std::move(name), std::move(args_json), std::move(done));
    }
    Session& s;
  };

  Core core_adapter_{*this};
  Router router_host_{*this};
  Plugins plugins_{*this};
  Host host_view_{*this};
  Charts charts_{*this};
  Brokers brokers_{*this};
  Trading trading_{*this};
  Strategies strategy_host_{*this};

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
  // `urgent`: the operator's command goes before everything queued (see
  // EventQueue::pushUrgent).
  void onTradingCore(std::function<Result<std::string>()> work, JsonDone done, bool urgent = false);
  // Rebuilds orders, positions and risk from the store, then reconciles
  // with the brokers, on the core thread; start() waits for it.
  [[nodiscard]] Result<void> recover();
  // Runs `work` on the core thread and waits for it (start-up and stop).
  // `posted`, when given, runs on this thread once the work is queued.
  [[nodiscard]] Result<void> runOnCoreAndWait(std::function<void()> work, std::string_view what, bool urgent = false,
                                              const std::function<void()>& posted = {});
  void refreshTradingSnapshot();
  // session_strategies.cpp: the strategy service starts once brokers and
  // data are connected, before the configured subscriptions.
  [[nodiscard]] Result<void> startStrategies();
  void onStrategyCore(std::function<Result<std::string>()> work, JsonDone done, bool urgent = false);
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
  // The same, for what any thread may ask of it (preempt, the running callback).
  std::atomic<StrategyService*> strategies_any_thread_{nullptr};
  EventRouter router_{router_host_};             // core thread only
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
