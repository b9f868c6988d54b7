// The records the paper broker keeps: orders from submit to their final
// state, fills, positions, and what it has seen of each symbol's market data.
// They are plain data so that the fill model, the account and the state file
// can share them without depending on each other.
#pragma once

#include <th/plugin.h>

#include <cstdint>
#include <limits>
#include <string>

namespace th::paper {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// The exits of a bracket or OTO entry (TH_BROKER_NATIVE_EXITS), held until
// the entry has filled. A leg has a fixed price or an offset from the fill.
struct Exits {
  double take_profit_price = 0, take_profit_offset = 0, take_profit_risk_multiple = 0;
  double stop_loss_price = 0, stop_loss_offset = 0, stop_loss_limit_price = 0;
  int64_t exit_at_ns = 0;

  bool hasTakeProfit() const {
    return take_profit_price > 0 || take_profit_offset > 0 || take_profit_risk_multiple > 0;
  }
  bool hasStopLoss() const { return stop_loss_price > 0 || stop_loss_offset > 0; }
  bool any() const { return hasTakeProfit() || hasStopLoss() || exit_at_ns > 0; }
};

// What an order is within a bracket: the legs are reported as their own
// orders, "<entry id>.tp", ".sl" and ".tx".
enum Leg : int32_t { kNoLeg = 0, kTakeProfit = 1, kStopLoss = 2, kTimeExit = 3 };

// Orders are kept in submit order, which is also the order in which open
// orders share the liquidity of one market event.
struct Order {
  std::string client_order_id;
  std::string broker_order_id;  // "P-<n>"; empty for a rejected submit
  std::string symbol;
  int32_t asset_class = TH_ASSET_EQUITY;
  int32_t side = TH_SIDE_BUY;
  int32_t type = TH_ORDER_MARKET;
  int32_t time_in_force = TH_TIF_DAY;
  int32_t status = TH_STATUS_ACCEPTED;
  double quantity = 0;
  double filled_quantity = 0;
  double average_fill_price = 0;
  double limit_price = 0;  // LIMIT and STOP_LIMIT only
  double stop_price = 0;   // STOP and STOP_LIMIT only
  bool triggered = false;  // a stop whose trigger was hit now works as a market or limit order
  int64_t submitted_ns = 0;
  int64_t workable_ns = 0;      // market events before this time cannot fill it (latency)
  int64_t expires_ns = kNever;  // DAY orders: the session close they expire at
  int64_t updated_ns = 0;       // time of the current status
  std::string reason;           // why it was rejected, canceled, expired or replaced
  Exits exits;                  // an entry's exits; a time exit leg's exit_at_ns
  bool exits_placed = false;    // an entry's legs exist
  int32_t leg = kNoLeg;
  std::string parent;  // a leg's entry (client order id)

  double remaining() const { return quantity - filled_quantity; }
  bool isOpen() const { return status == TH_STATUS_ACCEPTED || status == TH_STATUS_PARTIALLY_FILLED; }
};

struct Fill {
  std::string fill_id;
  std::string client_order_id;
  std::string broker_order_id;
  std::string symbol;
  int32_t asset_class = TH_ASSET_EQUITY;
  int32_t side = TH_SIDE_BUY;
  double quantity = 0;
  double price = 0;
  double commission = 0;
  double multiplier = 1;
  int64_t ts_ns = 0;
  int32_t activity = TH_FILL_TRADE;  // an option's expiry, exercise or assignment: no order
  std::string contract;              // the contract that delivered an exercise's or assignment's shares
};

struct Position {
  std::string symbol;
  int32_t asset_class = TH_ASSET_EQUITY;
  double multiplier = 1;
  double quantity = 0;  // signed: negative is short
  double average_price = 0;
  double realized_pnl = 0;  // before commissions, which the account counts separately
};

// What the venue has seen of one symbol. The source flags decide which events
// may fill orders: bars only drive fills for a symbol that has no tick data,
// because tick data describes the same trading more finely and counting a
// bar's volume on top of it would fill the same liquidity twice.
struct SymbolFeed {
  bool has_quotes = false;
  bool has_trades = false;
  double bid = 0;
  double ask = 0;
  double mark = 0;  // last quote mid, trade price or bar close
};

inline double multiplierFor(int32_t asset_class) { return asset_class == TH_ASSET_OPTION ? 100.0 : 1.0; }

inline double sideSign(int32_t side) { return side == TH_SIDE_BUY ? 1.0 : -1.0; }

inline const char* statusName(int32_t status) {
  switch (status) {
    case TH_STATUS_PENDING_NEW:
      return "PENDING_NEW";
    case TH_STATUS_ACCEPTED:
      return "ACCEPTED";
    case TH_STATUS_PARTIALLY_FILLED:
      return "PARTIALLY_FILLED";
    case TH_STATUS_FILLED:
      return "FILLED";
    case TH_STATUS_CANCELED:
      return "CANCELED";
    case TH_STATUS_REJECTED:
      return "REJECTED";
    case TH_STATUS_EXPIRED:
      return "EXPIRED";
    case TH_STATUS_PENDING_CANCEL:
      return "PENDING_CANCEL";
    case TH_STATUS_PENDING_REPLACE:
      return "PENDING_REPLACE";
    case TH_STATUS_REPLACED:
      return "REPLACED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace th::paper
