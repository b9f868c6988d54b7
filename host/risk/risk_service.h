// The risk service: every order passes here before a broker sees it.
//
// It decides, for one intent, whether it may go on — and if not, returns a
// reason code (MAX_ORDER_QUANTITY, PRICE_COLLAR, ...) and a sentence that
// names the limit, its value and where it was set. It owns the trading state
// (ACTIVE, REDUCING, HALTED), the daily loss and drawdown limits that move it
// by themselves, the per-strategy order-rate windows, the duplicate-order
// guard and the cool-down after consecutive losing trades.
//
// It reads the world through RiskView (positions, prices, open orders,
// buying power, the session calendar), which the broker service implements;
// it never calls a broker and never writes to the store. Its state is encoded
// for the store's risk_state family by the caller, which journals every
// change; a state forced by a loss limit is kept across a restart the same
// exchange day and cleared on the next.
//
// Core thread only. No I/O; deterministic for a given sequence of calls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/instrument.h"
#include "broker/order.h"
#include "config/config.h"
#include "core/error.h"

namespace th {

enum class TradingState : int32_t { Active = 0, Reducing = 1, Halted = 2 };
std::string_view toString(TradingState state);                         // "ACTIVE", "REDUCING", "HALTED"
std::optional<TradingState> parseTradingState(std::string_view text);  // case-insensitive

enum class RiskReason : int32_t {
  None = 0,
  Halted,               // HALTED: only cancels (and flatten/correction orders)
  ReducingOnly,         // REDUCING and the order would not reduce a position
  CoolDown,             // the strategy is cooling down after consecutive losses
  MaxOrderQuantity,     // max_order_quantity
  MaxOrderNotional,     // max_order_notional
  MaxPositionNotional,  // max_position_notional (per symbol, after the order fills)
  MaxGrossExposure,     // max_gross_exposure (after the order fills)
  MaxOpenOrders,        // max_open_orders
  OrderRate,            // max_orders_per_minute
  PriceCollar,          // price_collar_pct against the last price
  NoPrice,              // no last price and no order price: notional cannot be checked
  OutsideRegularHours,  // regular_hours_only and the market is closed
  DuplicateOrder,       // same order from the same strategy within duplicate_window_s
  BuyingPower,          // the order costs more than the broker's buying power
  UncoveredCall,        // selling calls without 100 shares per contract
};
// "HALTED", "REDUCING_ONLY", "COOL_DOWN", "MAX_ORDER_QUANTITY", ... "UNCOVERED_CALL"; "" for None.
std::string_view reasonCode(RiskReason reason);

// Why an order is being placed. Flatten (kill switch with flatten),
// Correction (the host undoing an over-fill) and Protective (the bracket,
// OCO and OTO legs the host activates on an entry's fills) only ever reduce
// a position: they pass in every state, limits not applied, so a position
// is never left without its stop because trading stopped after its entry
// filled (the kill switch cancels entries and legs alike).
enum class OrderPurpose : int32_t { Normal = 0, Protective, Flatten, Correction };

// What the risk service reads about the world. All quantities are signed
// positions (long > 0) in shares or contracts; money in account currency.
class RiskView {
 public:
  virtual ~RiskView() = default;
  // Last trade (or mark) price; 0 when none is known.
  virtual double lastPrice(std::string_view symbol) const = 0;
  // The strategy's own position (kManualStrategy "" for hand-placed orders).
  virtual double strategyQuantity(std::string_view strategy, std::string_view symbol) const = 0;
  virtual double accountQuantity(std::string_view symbol) const = 0;
  // Sum over positions of |quantity| × price × multiplier, for the account or one strategy.
  virtual double accountGrossExposure() const = 0;
  virtual double strategyGrossExposure(std::string_view strategy) const = 0;
  // Open orders (not in a terminal state), for the account or one strategy.
  virtual size_t accountOpenOrders() const = 0;
  virtual size_t strategyOpenOrders(std::string_view strategy) const = 0;
  // Remaining quantity of the strategy's open orders in `symbol` on `side`,
  // counting each OCO pair once (its legs exit the same shares).
  virtual double pendingQuantity(std::string_view strategy, std::string_view symbol, OrderSide side) const = 0;
  // The same over every strategy of the account.
  virtual double accountPendingQuantity(std::string_view symbol, OrderSide side) const = 0;
  // The broker account's buying power; nullopt when unknown (the check is skipped).
  virtual std::optional<double> buyingPower() const = 0;
  // True inside the regular session of the exchange calendar.
  virtual bool regularHours(int64_t ts_ns) const = 0;
  // The account's short call contracts on `underlying` ("SPY"), summed over
  // every OCC call symbol with that root, as a positive number (3 when the
  // account is short 1 of one strike and 2 of another); long calls do not
  // offset it. The covered-call check needs 100 shares for each.
  virtual double shortCallContracts(std::string_view underlying) const = 0;
};

struct RiskDecision {
  bool accepted = true;
  RiskReason reason = RiskReason::None;
  // For a rejection: the limit, its value and scope, e.g.
  // "quantity 500 exceeds max_order_quantity 100 (strategy 'orb')".
  std::string detail;
};

// A change of trading state, for the caller to journal and persist.
struct StateChange {
  TradingState from = TradingState::Active;
  TradingState to = TradingState::Active;
  std::string reason;  // "daily loss 5,120.00 reached daily_loss_limit 5,000.00", "operator: kill switch"
  int64_t ts_ns = 0;
  std::string strategy;  // empty: the account's state; else that strategy's own
};

class RiskService {
 public:
  explicit RiskService(RiskConfig config);

  // Checks an intent that has passed validateIntent. Does not record
  // anything: call recordAccepted() once the order is on its way.
  RiskDecision check(const OrderIntent& intent, OrderPurpose purpose, const RiskView& view, int64_t now_ns) const;
  // Counts the order in its strategy's rate window and the duplicate guard.
  void recordAccepted(const OrderIntent& intent, int64_t now_ns);

  // True when `intent` would only reduce its strategy's position (opposite
  // side, quantity plus pending same-side orders within the position).
  static bool reduces(const OrderIntent& intent, const RiskView& view);

  TradingState state() const { return state_; }
  const std::string& stateReason() const { return state_reason_; }
  int64_t stateSince() const { return state_since_ns_; }
  // Operator or host change (kill switch, resume, failed reconciliation);
  // nullopt when already in that state by the operator's hand. A state set
  // this way stays until the operator changes it, whatever the day — so
  // setting the state a loss limit already forced takes it over (a change
  // with from == to), and it is no longer lifted on the next day.
  std::optional<StateChange> setState(TradingState to, std::string reason, int64_t now_ns);

  // Called with the account's net P&L (realised + unrealised − commissions)
  // whenever it may have changed. Starts a new exchange day's baseline when
  // the date of now_ns differs from the stored one (which also lifts a state
  // the loss limits forced on an earlier day, back to ACTIVE). Returns the
  // change when the daily loss (baseline − net) reaches daily_loss_limit or
  // the drawdown (the day's high of net − net) reaches max_drawdown; the new
  // state is the configured loss_action / drawdown_action.
  std::optional<StateChange> onPnl(double account_net_pnl, int64_t now_ns);

  // The same for one strategy whose own limits set daily_loss_limit or
  // max_drawdown, with its net P&L: reaching one stops that strategy alone
  // (loss_action / drawdown_action) for the rest of the exchange day, or
  // until its limits change (a reload with new limits).
  std::optional<StateChange> onStrategyPnl(const std::string& strategy, double net_pnl, int64_t now_ns);
  // A strategy's own trading state (Active unless its loss limits fired).
  TradingState strategyState(std::string_view strategy) const;

  // Called for each fill that closes (part of) a strategy's position, with
  // the net realised P&L of that fill. cool_down_after_losses consecutive
  // losses start a cool-down of cool_down_minutes for that strategy; a
  // winning fill resets the streak.
  void onClosingFill(std::string_view strategy, double realised_net, int64_t now_ns);
  // When the strategy's cool-down ends (0 when none).
  int64_t coolDownUntil(std::string_view strategy) const;

  // Tighter limits for one strategy (from its YAML). The error names the
  // key that would loosen a global limit.
  [[nodiscard]] Result<void> setStrategyLimits(const std::string& strategy, const RiskLimits& limits);
  // The limits in force for a strategy: its own where set, else the global ones.
  RiskLimits effectiveLimits(std::string_view strategy) const;
  const RiskConfig& config() const { return config_; }

  // GET /api/v1/risk: state, reason, since, the day's P&L baseline, high,
  // loss and drawdown, global limits, per-strategy limits, cool-downs.
  std::string json(int64_t now_ns) const;
  // For the risk_state family; decode() refuses text that is not ours.
  // Encoded: state, reason, since, whether the loss limits forced it, the
  // exchange date, baseline, day high, loss streaks, cool-downs.
  std::string encode() const;
  [[nodiscard]] Result<void> restore(std::string_view encoded, int64_t now_ns);

 private:
  struct StrategyTrack {
    std::deque<int64_t> recent_orders;  // submit times within the last minute
    uint32_t loss_streak = 0;
    int64_t cool_down_until_ns = 0;
    // Its own loss limits: the exchange day, its net P&L then, the day's
    // high, the latest, and the state they forced.
    int32_t day = 0;
    double baseline = 0, high = 0, net = 0;
    TradingState state = TradingState::Active;
    std::string reason;
  };
  struct RecentOrder {
    OrderIntent intent;
    int64_t ts_ns = 0;
  };

  // The state the daily loss or drawdown limit calls for (the stricter when
  // both are reached) and why; `whose` and `suffix` shape the reason.
  struct LimitReached {
    TradingState to;
    std::string why;
  };
  std::optional<LimitReached> limitReached(const RiskLimits& limits, double loss, double drawdown,
                                           double loss_allowance, double drawdown_allowance, std::string_view whose,
                                           std::string_view suffix) const;
  // Everything after the state and cool-down checks, strategy scope first.
  RiskDecision checkLimits(const OrderIntent& intent, const RiskView& view, int64_t now_ns) const;
  // The strategy's own limits; nullptr when its YAML set none.
  const RiskLimits* ownLimits(std::string_view strategy) const;

  RiskConfig config_;
  TradingState state_ = TradingState::Active;
  std::string state_reason_;
  int64_t state_since_ns_ = 0;
  bool forced_by_limit_ = false;  // set by onPnl: lifted on the next exchange day
  int32_t day_ = 0;               // yyyymmdd of the baseline
  double day_baseline_ = 0;
  double day_high_ = 0;
  double last_net_ = 0;
  // An operator's resume on a day a limit fired: the loss and drawdown then,
  // which the limits count from for the rest of that day.
  int32_t override_day_ = 0;
  double override_loss_ = 0, override_drawdown_ = 0;
  std::map<std::string, StrategyTrack, std::less<>> strategies_;
  std::deque<RecentOrder> recent_;  // for the duplicate guard
};

}  // namespace th
