// One running (or warming) version of a strategy: its sandboxed Lua state,
// the callbacks its script defines, and its `ctx`. Internal to host/script.
//
// An instance is Live on the core thread, where ctx reaches the broker, the
// chart hub and the clock through the service; or Warming, while a new
// version replays history off the core thread: then trading is disabled
// (ctx:buy and friends answer nil, "trading is disabled during warm-up"),
// positions, orders and history come from a snapshot taken on the core
// thread, signals and marks are not published, and the timers and
// subscriptions it asks for are kept to be applied when it goes live.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <th/symbol_map.hpp>

#include "broker/order.h"
#include "broker/positions.h"
#include "core/text.h"
#include "script/definition.h"
#include "script/lua_engine.h"
#include "script/strategy_service.h"

namespace th {

enum class Callback : uint8_t { Start, Bar, Quote, Trade, Order, Fill, Timer, Stop, Migrate, Request };
inline constexpr size_t kCallbackCount = 10;
std::string_view callbackName(Callback callback);  // "on_bar", ..., "migrate", "on_request"

struct StrategyTimer {
  uint64_t id = 0;
  int64_t at_ns = 0;
  std::string tag;
};

// What a reload carries from the core thread to the worker and back.
struct WarmupSnapshot {
  std::string action;  // "reload", "rollback", "start"
  StrategySource source;
  StrategyDefinition definition;
  std::vector<BarEvent> bars;  // the bars the running version saw, oldest first
  nlohmann::json state;        // a copy of ctx.state when the snapshot was taken
  std::string from_version;
  std::vector<Order> orders;        // the strategy's open orders
  std::vector<Position> positions;  // the strategy's positions
  int64_t now_ns = 0;    // the instance's clock while warming: the bar being replayed
  int64_t taken_ns = 0;  // the host's clock when the snapshot was taken
  bool has_state = false;  // false on a first start: on_start makes the state
  // Dispatched to the running version after the snapshot. The core thread
  // appends; the worker catches the new version up on them until the swap
  // begins, and the swap replays what is left (a few events), so the core
  // thread pauses only for those.
  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  std::vector<std::variant<BarEvent, TradeEvent, QuoteEvent>> queued;
  bool worker_busy = false;  // the worker is replaying a batch
  bool swapping = false;     // the core thread took over: the worker stops
  size_t caught_up = 0;      // replayed by the worker
  std::optional<Error> catch_up_error;
  std::unique_ptr<StrategyInstance> instance;  // the warmed-up new version
  std::vector<StrategyTimer> timers;             // asked for while warming
  std::vector<std::pair<std::string, uint32_t>> subscriptions;
  int64_t requested_steady_ns = 0;
  int64_t pause_started_ns = 0;  // steady clock, when the core thread began the swap
  uint64_t warmup_us = 0;
};

struct StrategyEntry {
  std::string id;
  StrategyDefinition definition;  // of the active version
  StrategySource source;
  uint64_t version_number = 0;   // its key in strategy_versions
  uint64_t previous_number = 0;  // the version active before it (rollback's default)
  bool pinned = false;           // a rollback chose it: a restart keeps it rather than the files
  std::string fault;             // why it faulted; it stays stopped until enabled
  std::unique_ptr<StrategyInstance> instance;
  StrategyStatus status = StrategyStatus::Failed;
  std::string reason;  // why it is not running
  bool enabled = true;
  std::vector<StrategyTimer> timers;
  std::deque<int64_t> error_times;  // clock time of recent callback errors
  uint32_t consecutive_errors = 0;  // callbacks that failed since the last that did not
  uint64_t errors_total = 0;
  uint64_t handled = 0;        // events the active instance handled
  uint64_t handled_total = 0;  // by every version, since the host started
  uint64_t signals = 0;        // published since the host started
  uint64_t orders = 0;         // submitted since the host started (accepted or not)
  uint64_t fills = 0;          // fills of its orders (legs included) since the host started
  uint64_t last_sequence = 0;  // journal sequence of the last event handled
  bool dirty = false;          // ctx.state may have changed since it was saved
  std::string saved;           // the strategy_state record as last put
  std::string last_error;
  int64_t loaded_ns = 0;
  uint64_t reloads = 0;
  // The bar of the strategy's timeframe being built, per symbol.
  std::map<std::string, BarEvent, std::less<>> building;
  // The bars handed to the instance recently, per symbol (warm-up of the next version).
  std::map<std::string, std::deque<BarEvent>, TextLess> recent;
  std::vector<std::string> extra_symbols;       // ctx:subscribe beyond the definition's
  std::shared_ptr<WarmupSnapshot> reloading;    // set while a reload is in flight
  std::map<std::string, int64_t, std::less<>> watch_stamps;  // dev mode: file → mtime
};

class StrategyInstance {
 public:
  enum class Mode { Warming, Live };

  // Compiles the script in a fresh sandbox, checks its callbacks, builds ctx.
  // Errors carry file:line.
  [[nodiscard]] static Result<std::unique_ptr<StrategyInstance>> create(StrategyService* service,
                                                                        const StrategyDefinition& definition,
                                                                        const StrategySource& source,
                                                                        const SdkModules& sdk, Watchdog* watchdog);
  ~StrategyInstance();

  bool has(Callback callback) const { return refs_[static_cast<size_t>(callback)] >= 0; }
  // Each runs the callback under the watchdog; the error has the traceback.
  [[nodiscard]] Result<void> onStart();
  [[nodiscard]] Result<void> onBar(const BarEvent& bar);
  [[nodiscard]] Result<void> onTrade(const TradeEvent& trade);
  [[nodiscard]] Result<void> onQuote(const QuoteEvent& quote);
  [[nodiscard]] Result<void> onOrder(const Order& order);
  [[nodiscard]] Result<void> onFill(const FillEvent& fill);
  [[nodiscard]] Result<void> onTimer(const StrategyTimer& timer);
  // on_stop runs as the host stops: within its budget and at most
  // kStopBudgetMs, so that no strategy holds a shutdown.
  static constexpr int64_t kStopBudgetMs = 200;
  [[nodiscard]] Result<void> onStop();
  // on_request(ctx, name, args): an on-demand question from the API (a
  // screen, a report); its returned table as JSON. NotFound when the script
  // has no on_request; InvalidArgument with its message when it returns nil
  // and a message (a refusal); Internal (or Unavailable for the time or
  // memory limit) when the script fails or returns something else.
  [[nodiscard]] Result<nlohmann::json> onRequest(const std::string& name, const nlohmann::json& args);
  // ctx.state = migrate(state, from_version) when the script has migrate,
  // else ctx.state = state.
  [[nodiscard]] Result<void> adoptState(const nlohmann::json& state, const std::string& from_version);
  // ctx.state as plain data; an error names what cannot be stored.
  [[nodiscard]] Result<nlohmann::json> state() const;
  // The same as JSON text (jsonText(state()), written directly), appended to `out`.
  [[nodiscard]] Result<void> stateText(std::string& out) const;

  void goLive(StrategyEntry& entry, Watchdog& watchdog);
  void setWarming(WarmupSnapshot& snapshot, Watchdog& watchdog);
  Mode mode() const { return mode_; }
  bool live() const { return mode_ == Mode::Live; }
  // Raises ScriptError (`what: ... (runtime.<key>)`) and counts the refusal
  // when `used` has reached `limit`.
  void checkQuota(const char* what, const char* key, size_t used, uint32_t limit);
  // How many of `times` (clock ns, oldest first) fall within the last
  // minute; older ones are dropped. Then `now` is added.
  static size_t inLastMinute(std::deque<int64_t>& times, int64_t now);
  std::deque<int64_t> signal_times, mark_times;  // for the per-minute quotas

  StrategyEntry* entry() const { return entry_; }
  WarmupSnapshot* snapshot() const { return snapshot_; }
  StrategyService& service() const { return *service_; }
  const StrategyDefinition& definition() const { return definition_; }
  size_t memoryUsed() const { return sandbox_->heap().used; }
  size_t memoryPeak() const { return sandbox_->heap().peak; }
  lua_State* state_handle() const { return sandbox_->state(); }
  // The clock: the service's in Live mode, the snapshot's while warming.
  int64_t nowNs() const;
  // Set by the bindings while a callback runs, for error reports ("on_bar(SPY)").
  uint64_t callbacks() const { return calls_; }
  // ctx:skip_bars: bars of `symbol` starting before `until_ns` are not passed
  // to on_bar (0 ends the skip). The instance's own: a reload starts without.
  void skipBars(std::string_view symbol, int64_t until_ns);
  bool skipsBar(const BarEvent& bar) const {
    if (skip_until_.empty()) return false;
    const auto symbol = bar.symbol.view();
    const uint64_t key = SymbolHash{}(symbol);
    for (const auto& skip : skip_until_) {
      if (skip.key == key && bar.start_ns < skip.until_ns && sameSymbol(skip.symbol, symbol)) return true;
    }
    return false;
  }

 private:
  StrategyInstance() = default;
  [[nodiscard]] Result<void> call(int nargs, const char* what, int64_t budget_cap_ms = INT64_MAX);
  bool pushCallback(Callback callback);

  StrategyService* service_ = nullptr;
  StrategyDefinition definition_;
  std::unique_ptr<class ScriptModules> modules_;
  std::unique_ptr<LuaSandbox> sandbox_;
  int refs_[kCallbackCount] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  int ctx_ref_ = -1;
  int bar_meta_ref_ = -1;
  Mode mode_ = Mode::Warming;
  StrategyEntry* entry_ = nullptr;
  WarmupSnapshot* snapshot_ = nullptr;
  Watchdog* watchdog_ = nullptr;
  uint64_t calls_ = 0;
  struct Skip {
    uint64_t key;  // SymbolHash of the symbol: most bars are told apart without comparing names
    int64_t until_ns;  // no bars starting before
    std::string symbol;
  };
  std::vector<Skip> skip_until_;
};

// The ctx bindings, one file per area; each adds its functions to the
// methods table on top of the stack. The instance is their upvalue 1.
void bindCore(lua_State* L, StrategyInstance* instance);     // bind_ctx.cpp: log, now, at, signal, mark, ...
void bindSession(lua_State* L, StrategyInstance* instance);  // bind_session.cpp: the calendar
void bindOrders(lua_State* L, StrategyInstance* instance);   // bind_orders.cpp: buy, sell, bracket, cancel, ...
void bindData(lua_State* L, StrategyInstance* instance);     // bind_data.cpp: subscribe, history, option_chain, checklist
// Pushes a bar userdata (bind_data.cpp); `meta_ref` is the registry ref of its metatable.
void pushBar(lua_State* L, const BarEvent& bar, int meta_ref);
int makeBarMetatable(lua_State* L);  // returns its registry ref
// The instance behind a ctx function (upvalue 1); raises if it is gone.
StrategyInstance& ctxInstance(lua_State* L);
// Order and fill as Lua tables (bind_orders.cpp).
void pushOrder(lua_State* L, const Order& order);
void pushFill(lua_State* L, const FillEvent& fill);

}  // namespace th
