// The strategy service: Lua strategies, their versions, and hot reload.
//
// Each strategy is a folder strategies/<id>/ with <id>.yaml (definition.h)
// and its Lua files. The service runs one sandboxed Lua instance per
// strategy on the core thread and hands it the market data of its symbols
// (bars of its timeframe built from 1-minute bars, trades, quotes), the
// reports of its own orders, and its timers. Everything a script may do
// goes through `ctx` (the bind_*.cpp files); orders take the broker
// service's path like any other.
//
// What is kept (one RocksDB WriteBatch with the events that caused it):
//   strategy_versions  "<id>\0<big-endian n>" → every version loaded: semver,
//                      sha256, files, time — so history and rollback work after
//                      the files on disk changed
//   strategy_state     "<id>" → the active version, ctx.state, timers, enabled,
//                      fault; saved at the end of each group of events and
//                      before each order the strategy sends
//   journal            strategy records: start, swap, fault, enable, errors
//
// Reload (reload.cpp) follows four steps: the new version is compiled and
// validated in a fresh state off the core thread, warmed up there with the
// bars the running version saw (trading disabled), then swapped in on the
// core thread between two events — it catches up on what arrived meanwhile,
// takes ctx.state (through migrate() when the version changed), the timers,
// the open orders and positions — and the swap is journalled. Any failure
// leaves the running version untouched and returns the error.
#pragma once

#include <array>
#include <atomic>
#include <climits>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <th/symbol_map.hpp>

#include "broker/broker_service.h"
#include "core/text.h"
#include "chart/candle.h"
#include "chart/chart_hub.h"
#include "core/error.h"
#include "core/event.h"
#include "data/calendar.h"
#include "script/definition.h"
#include "store/store.h"

namespace th {

struct OptionQuote {
  std::string symbol, underlying;
  bool call = true;
  int32_t expiry = 0;  // yyyymmdd
  double strike = 0, bid = 0, ask = 0, last = 0, volume = 0, open_interest = 0, implied_vol = 0;
  double delta = 0, gamma = 0, theta = 0, vega = 0, underlying_price = 0;
  bool has_greeks = false;
};

// What the service needs from whoever runs it (the session, a backtest, a test).
class StrategyHost {
 public:
  virtual ~StrategyHost() = default;
  virtual int64_t nowNs() const = 0;
  virtual Batch& batch() = 0;
  // True when orders are not committed as they are sent (a backtest's host:
  // see BrokerServiceHost::deferredCommits). The state is then not stored
  // before each order: the group's end stores it, and nothing commits between.
  virtual bool deferredCommits() const { return false; }
  virtual BrokerService* broker() = 0;  // null: no broker (orders refused)
  virtual const SessionCalendar& calendar() const = 0;
  // Up to `count` final bars of a timeframe, oldest first. Core thread.
  virtual std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count) = 0;
  // Market data of a symbol must flow (TH_STREAM_* mask). Core thread.
  virtual void subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer) = 0;
  [[nodiscard]] virtual Result<std::vector<OptionQuote>> optionChain(const std::string& underlying) = 0;
  virtual void addMarker(const std::string& symbol, Marker marker) = 0;
  // A message for WebSocket clients, sent once the group is committed.
  virtual void notify(std::string message) = 0;
  // Runs `task` on the core thread between two events; false when stopping.
  virtual bool postToCore(std::function<void()> task) = 0;
  // Runs `task` on a worker thread (compiling and warming up a new version).
  virtual bool postOffCore(std::function<void()> task) = 0;
};

struct StrategyOptions {
  std::string dir = "strategies";  // one folder per strategy
  std::string sdk_dir;             // sdk/lua
  RiskLimits global_limits;        // a strategy's risk: block may only tighten these
  std::map<std::string, RiskLimits> configured_limits;  // risk.strategies.<id> of the host config
  bool watch = false;              // dev mode: reload when a strategy's files change
  // Backtests: only these strategy folders run (empty: all of them), with
  // these parameters ("name" → YAML text, checked like the YAML's) and
  // symbols in place of the definition's, per strategy id.
  std::vector<std::string> only;
  std::map<std::string, std::map<std::string, std::string>> params;
  std::map<std::string, std::vector<std::string>> symbols;
  // Backtests: every callback's time budget (runtime.callback_budget_ms is
  // wall-clock time, which would make a run depend on the machine); 0 keeps
  // the definitions' own.
  int64_t budget_ms = 0;
};

class StrategyInstance;
class SdkModules;
class Watchdog;
class PeriodMap;
struct StrategyEntry;
struct WarmupSnapshot;

enum class StrategyStatus { Running, Disabled, Faulted, Failed };
inline constexpr size_t kStrategyStatusCount = 4;
std::string_view toString(StrategyStatus status);

class StrategyService {
 public:
  StrategyService(StrategyOptions options, Store& store, StrategyHost& host);
  ~StrategyService();
  StrategyService(const StrategyService&) = delete;
  StrategyService& operator=(const StrategyService&) = delete;

  // Core thread, before market data: every folder under the strategies
  // directory, with the active version and state from the store. A strategy
  // that cannot start is listed as failed with its error; the others run.
  void start();
  // Core thread: on_stop, then everything saved to the batch.
  void stop();

  // Core thread, after the session journalled the event as `sequence` and
  // the broker service processed it.
  void onEvent(const Event& event, uint64_t sequence);
  // Core thread, periodically: timers due by the clock, the dev file watch.
  void tick();
  // Core thread, before the group's batch is committed: state saved.
  void endGroup();

  using Done = std::function<void(Result<std::string>)>;
  // From any thread; `done` is called once, from the core or a worker thread.
  // reload: the files on disk. rollback: a recorded version ("" = the one
  // before the active one; else a semver or a sha256 prefix).
  void reload(const std::string& id, Done done);
  void rollback(const std::string& id, const std::string& version, Done done);
  // Core thread: the running strategy's on_request(ctx, name, args) answer
  // as JSON text. NotFound for an unknown id or a script without
  // on_request, Unavailable when it is not running; a Lua error counts
  // toward runtime.max_errors like any callback's.
  [[nodiscard]] Result<std::string> request(const std::string& id, const std::string& name, const nlohmann::json& args);
  // Core thread.
  [[nodiscard]] Result<std::string> setEnabled(const std::string& id, bool enabled, const std::string& reason);
  std::string listJson() const;
  // Any thread: stops the callback running now, for an operator's command
  // that must not wait behind a strategy (`reason`, a literal: "the kill
  // switch"); with `strategy`, only a callback of that strategy. The
  // callback ends with an error saying so.
  void preempt(const char* reason, std::string_view strategy = {});
  // Any thread: the callback running now ("orb 1.2.0 on_bar") and for how
  // many ms, or nullopt between callbacks.
  struct RunningCallback {
    std::string label;
    int64_t ms = 0;
  };
  std::optional<RunningCallback> runningCallback() const;
  // One line per strategy for the session's log: status, and signals,
  // orders and fills since the host started, P&L; then the latest checklist grades.
  std::vector<std::string> summaryLines() const;
  // The latest signals, newest first (at most the last 1,000 are kept).
  std::string signalsJson(const std::string& strategy, const std::string& symbol, size_t limit) const;
  [[nodiscard]] Result<std::string> historyJson(const std::string& id) const;
  [[nodiscard]] Result<std::string> strategyJson(const std::string& id) const;
  // The latest checklist record a strategy published for symbol/direction.
  const nlohmann::json* checklist(const std::string& symbol, const std::string& direction) const;
  // The same as JSON text, or NotFound saying how one comes to be.
  Result<std::string> checklistJson(const std::string& symbol, const std::string& direction) const;

  struct Stats {
    uint64_t callbacks = 0, errors = 0, faults = 0, reloads = 0, failed_reloads = 0, orders = 0, signals = 0;
    uint64_t quota_refusals = 0;
  };
  const Stats& stats() const { return stats_; }
  // How many strategies are in each status, indexed by StrategyStatus.
  std::array<size_t, kStrategyStatusCount> statusCounts() const;
  // How long the core thread was held by the last swap (catch-up, state, swap).
  uint64_t lastSwapPauseUs() const { return last_swap_pause_us_; }
  size_t strategyCount() const { return entries_.size(); }
  // Core thread: the instance of a strategy (tests and benchmarks).
  StrategyInstance* instance(const std::string& id) const;

  // For the ctx bindings (core thread, on behalf of a live instance).
  StrategyHost& host() { return host_; }
  [[nodiscard]] Result<Order> submitFor(StrategyEntry& entry, OrderIntent intent);
  [[nodiscard]] Result<Order> cancelFor(StrategyEntry& entry, const std::string& client_order_id);
  bool cancelTimer(StrategyEntry& entry, uint64_t id);
  uint64_t nextTimerId() { return next_timer_.fetch_add(1); }  // any thread
  void publishSignal(StrategyEntry& entry, nlohmann::json signal);
  void publishMark(StrategyEntry& entry, const std::string& symbol, Marker marker);
  void subscribeFor(StrategyEntry& entry, const std::string& symbol, uint32_t streams);
  void quotaRefused() { ++stats_.quota_refusals; }
  uint64_t addTimer(StrategyEntry& entry, int64_t at_ns, std::string tag) { return addTimer(entry, at_ns, std::move(tag), 0); }

 private:
  friend class StrategyInstance;

  StrategyEntry* find(std::string_view id) const;
  // Start-up of one strategy: its stored record, the version to run (the
  // files, or the pinned version after a rollback), warm-up and go-live.
  void startEntry(StrategyEntry& entry);
  [[nodiscard]] Result<void> loadStoredState(StrategyEntry& entry);
  BarEvent toBar(const std::string& symbol, const Candle& candle, Timeframe timeframe) const;
  // The steps every start, reload and rollback takes (see the top of this file).
  [[nodiscard]] Result<void> prepare(const StrategyEntry& entry, WarmupSnapshot& snapshot);
  [[nodiscard]] Result<void> fillSnapshot(const StrategyEntry& entry, WarmupSnapshot& snapshot);
  [[nodiscard]] Result<void> warmUp(WarmupSnapshot& snapshot, Watchdog& watchdog);
  [[nodiscard]] Result<void> swapIn(StrategyEntry& entry, WarmupSnapshot& snapshot);
  // Replays events that reached the running version into the new one (trading disabled).
  [[nodiscard]] static Result<void> catchUp(StrategyInstance& instance, WarmupSnapshot& snapshot,
                                            const std::vector<std::variant<BarEvent, TradeEvent, QuoteEvent>>& items);
  void queueForReload(StrategyEntry& entry, std::variant<BarEvent, TradeEvent, QuoteEvent> item);
  static void overlayLimits(RiskLimits& base, const RiskLimits& overlay);
  // Rebuilds by_symbol_; while onEvent walks one of its lists (a strategy
  // subscribing or faulting in a callback), after onEvent returns.
  void reindex();
  void loadChecklists();  // at start, from the store (ctx_services.cpp)
  void handled(StrategyEntry& entry, const Result<void>& result);
  void dispatchBar(StrategyEntry& entry, const BarEvent& minute);
  void deliver(StrategyEntry& entry, const BarEvent& bar);
  bool inSchedule(StrategyEntry& entry, int64_t ts_ns);
  void onOrderEvent(const OrderEvent& event, uint64_t sequence);
  void onFillEvent(const FillEvent& event, uint64_t sequence);
  void onSettlement(const FillEvent& event, uint64_t sequence);
  uint64_t addTimer(StrategyEntry& entry, int64_t at_ns, std::string tag, uint64_t id);
  void fireTimers(int64_t now_ns);
  // next_timer_due_ from the running strategies' timers.
  void rescheduleTimers();
  // A callback failed: logged with its traceback, counted and journalled;
  // max_errors within the window fault the strategy.
  void callbackFailed(StrategyEntry& entry, const Error& error);
  void fault(StrategyEntry& entry, const std::string& reason);
  void saveState(StrategyEntry& entry);
  void journal(std::string_view what, const StrategyEntry& entry, nlohmann::json detail);
  nlohmann::json entryJson(const StrategyEntry& entry) const;
  // Versions and reload (reload.cpp).
  [[nodiscard]] Result<uint64_t> recordVersion(const StrategySource& source, const StrategyDefinition& definition);
  [[nodiscard]] Result<StrategySource> storedVersion(const std::string& id, uint64_t number) const;
  [[nodiscard]] Result<std::vector<std::pair<uint64_t, nlohmann::json>>> versions(const std::string& id) const;
  void beginSwap(const std::string& id, Result<StrategySource> source, std::string action, Done done);
  void finishSwap(const std::string& id, std::shared_ptr<WarmupSnapshot> snapshot, Result<void> warmed, Done done);
  void checkWatch();

  StrategyOptions options_;
  Store& store_;
  StrategyHost& host_;
  std::unique_ptr<SdkModules> sdk_;
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<PeriodMap> periods_;
  std::map<std::string, std::unique_ptr<StrategyEntry>, std::less<>> entries_;
  // symbol → the strategies that receive its data, so dispatch is one lookup.
  SymbolMap<std::vector<StrategyEntry*>> by_symbol_;
  std::map<std::string, nlohmann::json, std::less<>> checklists_;  // "SYMBOL/long" → record
  std::deque<nlohmann::json> recent_signals_;
  std::atomic<uint64_t> next_timer_{1};
  int64_t next_timer_due_ = INT64_MAX;
  Stats stats_;
  int64_t last_watch_ns_ = 0;
  // The exchange day last asked about by inSchedule.
  struct Day {
    int64_t base_ns = INT64_MIN / 2;  // local midnight, UTC
    int32_t date = 0, open_minute = 0, close_minute = 0;
    bool trading = false;
  } day_;
  bool started_ = false;
  int dispatching_ = 0;           // onEvent calls under way
  bool reindex_pending_ = false;  // reindex() asked for meanwhile
  uint64_t last_swap_pause_us_ = 0;
  // Versions put in the batch of the current group, not yet committed.
  std::vector<std::pair<uint64_t, nlohmann::json>> unsaved_versions_;
  // Dev mode: the inotify descriptor, watch → strategy id, id → last change (steady ns).
  int watch_fd_ = -1;
  std::map<int, std::string> watched_;
  std::map<std::string, int64_t> changed_;
};

// `tradehost strategy validate`: everything a start or reload checks before
// running anything — the definition, its risk limits against `global_limits`,
// the script compiled in a sandbox with its callbacks — offline, without a
// host. Errors read "file:line: message".
struct StrategyValidation {
  StrategyDefinition definition;
  std::string sha256;
  std::vector<std::string> callbacks, files;
  size_t memory_bytes = 0;
};
[[nodiscard]] Result<StrategyValidation> validateStrategy(const std::string& path, const std::string& sdk_dir,
                                                          const RiskLimits& global_limits);
// sdk/lua beside the binary (build/bin → the source tree), else ./sdk/lua.
std::string defaultSdkLuaDir();

// The option chain of `underlying` as `provider` (a data plugin) gives it
// at `as_of_ns`.
[[nodiscard]] Result<std::vector<OptionQuote>> pluginOptionChain(PluginInstance& provider, std::string_view underlying,
                                                                 int64_t as_of_ns);

// Quotes of option contracts (OCC symbols) from their underlyings' chains as
// `host` gives them now, at `ts_ns`: what a simulated broker fills option
// orders and the broker service marks option positions by, when the data
// feed streams no option quotes (the synthetic market's does not). Each
// quote's sizes are the contract's open interest, at least 1. A contract its
// chain lacks gets no quote; an underlying whose chain cannot be had is
// logged once (its name is kept in `warned`).
std::vector<QuoteEvent> contractQuotes(StrategyHost& host, const std::vector<std::string>& contracts, int64_t ts_ns,
                                       std::set<std::string, std::less<>>& warned);
// What an option contract is marked at from a quote: its middle, also when
// nobody bids (a worthless contract is marked at half its ask); nothing for
// a crossed or empty quote.
std::optional<double> optionMark(const QuoteEvent& quote);

}  // namespace th
