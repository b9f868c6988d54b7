// Inside the backtest: the data helpers and the host the services run on.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backtest/backtest.h"
#include "broker/broker_service.h"
#include "chart/candle.h"
#include "chart/periods.h"
#include "data/quality.h"
#include "plugin/plugin.h"
#include "runtime/router.h"
#include "script/strategy_service.h"
#include "store/store.h"

namespace th::backtest {

// 1-minute bars of `symbol` starting in [from_ns, to_ns), oldest first;
// `expected` (a guess, 0 for none) saves growing the list bar by bar.
[[nodiscard]] Result<std::vector<Candle>> loadBars(PluginInstance& provider, const std::string& symbol,
                                                   int64_t from_ns, int64_t to_ns, size_t expected = 0);
// The bars of each of `symbols`, loaded on up to `threads` threads at once
// (a provider's history calls may run concurrently); the first failure.
[[nodiscard]] Result<std::map<std::string, std::vector<Candle>>> loadAllBars(PluginInstance& provider,
                                                                             const std::vector<std::string>& symbols,
                                                                             int64_t from_ns, int64_t to_ns,
                                                                             size_t threads);

// Every bar of `bars` (one time-ordered list per symbol, symbols in name
// order) from each symbol's `first_played` on, as (start, symbol index) in
// (start, symbol) order: the order a backtest plays them.
[[nodiscard]] std::vector<std::pair<int64_t, uint32_t>> playOrder(const std::vector<std::vector<Candle>>& bars,
                                                                  const std::vector<size_t>& first_played);

// The host of one backtest: the store, the plugins, the broker and strategy
// services, and the clock, all driven by play() on the calling thread. Every
// event takes the session's path, through the same router; what differs is
// the clock (each bar's end), the record (numbered, not journalled) and the
// commits (in large groups).
class Host final : public BrokerServiceHost, public StrategyHost, public PluginEventSink, public RouterHost {
 public:
  explicit Host(std::string dir) : dir_(std::move(dir)) {}
  ~Host() override;

  // Store, plugins (paper and the data plugin), broker service.
  [[nodiscard]] Result<void> open(const HostConfig& config, const BacktestOptions& options,
                                  const std::string& data_config, const std::string& data_library);
  PluginInstance& data() { return *data_; }
  BrokerService& brokerService() { return *broker_; }
  StrategyService& strategies() { return *strategies_; }
  void setNow(int64_t ns) { now_ = ns; }
  // The bars of every symbol: those before `play_from` are history only.
  // Bars on a day the exchange was closed are left out (closedDays() lists
  // those days).
  void setBars(std::map<std::string, std::vector<Candle>> bars, int64_t play_from);
  // Each exchange date that had bars but no session, with how many bars.
  const std::map<int32_t, uint64_t>& closedDays() const { return closed_days_; }
  [[nodiscard]] Result<void> startStrategies(StrategyOptions options);
  // Plays every bar from play_from in (start, symbol) order.
  // False when `progress` asked to stop.
  bool play(const BacktestProgress& progress);
  void finish();

  // What play() saw.
  const std::vector<BacktestFill>& fills() const { return fills_; }
  const std::vector<EquityPoint>& daily() const { return daily_; }
  const std::vector<EquityPoint>& curve() const { return curve_; }
  const std::vector<EquityPoint>& minutes() const { return minutes_; }
  uint64_t played() const { return played_; }
  uint64_t playedMinutes() const { return played_minutes_; }
  uint64_t exposedMinutes() const { return exposed_minutes_; }
  uint64_t sessions() const { return sessions_; }
  double startingEquity() const { return starting_equity_; }
  double equity() const;
  std::map<std::string, double> lastPrices() const;
  // The played bars of each symbol, moved out: history() has nothing after.
  std::map<std::string, PriceSeries> takePlayedBars();

  // BrokerServiceHost and StrategyHost
  int64_t nowNs() const override { return now_; }
  Batch& batch() override { return *batch_; }
  bool commitNow(bool sync) override;
  bool deferredCommits() const override { return true; }
  void notify(std::string) override {}
  bool listening() const override { return false; }
  bool regularHours(int64_t ts_ns) const override { return calendar().isOpen(ts_ns); }
  void serviceFill(FillEvent fill) override;
  // The same client order ids on every run, so the report's log is too.
  std::string newOrderIdEpoch() const override { return "bt"; }
  BrokerService* broker() override { return broker_.get(); }
  const SessionCalendar& calendar() const override { return *calendar_; }
  std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count) override;
  void subscribe(const std::string&, uint32_t, const std::string&) override {}
  Result<std::vector<OptionQuote>> optionChain(const std::string& underlying) override;
  void addMarker(const std::string&, Marker) override {}
  bool postToCore(std::function<void()> task) override;
  bool postOffCore(std::function<void()>) override { return false; }

  // PluginEventSink
  void post(uint16_t source, EventPayload&& payload) override;
  void log(const std::string& plugin, int32_t level, std::string_view message) override;

  // RouterHost
  uint64_t record(const Event&) override { return ++sequence_; }
  void holdReports() override {}
  void takeReports(std::vector<Event>& out) override;
  void routed(const Event& event) override;

 private:
  void pump();
  void sample(int64_t minute_end);
  void quoteOptions(int64_t ts_ns);

 public:
  // --hold: a hand-placed market buy of each at the first played minute,
  // which fills at that minute's open. Call after setBars, before play.
  Result<void> buyHoldings(const std::map<std::string, double>& holdings);

 private:
  void commitGroup();

  std::string dir_;
  int64_t now_ = 0;
  std::optional<SessionCalendar> own_calendar_;  // data.calendar's override, when the config names one
  const SessionCalendar* calendar_ = &SessionCalendar::builtin();
  std::optional<DataQuality> quality_;
  EventRouter router_{*this};
  std::unique_ptr<Store> store_;
  std::optional<Batch> batch_;
  std::unique_ptr<PluginRegistry> registry_;
  PluginInstance* paper_ = nullptr;
  PluginInstance* data_ = nullptr;
  std::unique_ptr<BrokerService> broker_;
  std::unique_ptr<StrategyService> strategies_;
  std::optional<PeriodMap> periods_;
  double starting_equity_ = 0;

  std::vector<std::string> symbols_;                  // sorted
  std::vector<std::vector<Candle>> bars_;             // per symbol index
  std::vector<size_t> cursor_;                        // bars of each symbol up to now
  std::vector<size_t> first_played_;                  // per symbol: the first bar played
  std::vector<std::pair<int64_t, uint32_t>> order_;   // (start, symbol index) of the bars to play
  std::map<int32_t, uint64_t> closed_days_;           // dates without a session that had bars

  std::mutex events_mutex_;
  std::vector<Event> events_;
  std::atomic<bool> pending_{false};  // events_ is not empty
  std::deque<std::function<void()>> tasks_;
  uint64_t sequence_ = 0;
  size_t since_commit_ = 0;

  std::vector<BacktestFill> fills_;
  std::set<std::string, std::less<>> unquoted_;  // underlyings whose chain could not be had (said once)
  std::map<std::string, double, std::less<>> option_marks_;  // each quoted contract's last mid
  std::vector<EquityPoint> daily_, curve_, minutes_;  // at closes, every 30 minutes, every minute
  uint64_t played_ = 0, played_minutes_ = 0, exposed_minutes_ = 0, sessions_ = 0;
  int64_t day_end_ns_ = 0, close_ns_ = 0;  // of the exchange day being played
};

}  // namespace th::backtest
