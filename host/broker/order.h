// Orders: what an order is, which intents are well-formed, and the one
// place that decides which status changes are legal.
//
// Brokers report order states in their own order and sometimes twice; the
// broker service runs every report through `checkTransition` so that a
// filled order never turns back into an open one, a cumulative fill never
// shrinks or exceeds the order, and a repeated report is recognised as a
// repeat rather than applied again. The values of the enums are the ABI's
// (TH_STATUS_*, TH_ORDER_*, ...), so states cross the plugin boundary as is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace th {

enum class OrderStatus : int32_t {
  PendingNew = 1,
  Accepted = 2,
  PartiallyFilled = 3,
  Filled = 4,
  Canceled = 5,
  Rejected = 6,
  Expired = 7,
  PendingCancel = 8,
  PendingReplace = 9,
  Replaced = 10,
};
enum class OrderSide : int32_t { Buy = 1, Sell = 2 };
enum class OrderType : int32_t { Market = 1, Limit = 2, Stop = 3, StopLimit = 4 };
enum class TimeInForce : int32_t { Day = 1, Gtc = 2, Ioc = 3, Fok = 4 };
enum class OrderClass : int32_t { Simple = 1, Bracket = 2, Oco = 3, Oto = 4 };
enum class AssetClass : int32_t { Equity = 1, Option = 2 };
// What an order is to the host. Entry: the first order of a bracket or OTO
// the host emulates (its legs are activated by its fills). Group: an OCO the
// host emulates (never sent; its two legs are). TakeProfit and StopLoss: the
// legs. Correction: takes back an over-fill of two legs. Flatten: closes a
// position for the kill switch.
// TimeExit: closes a bracket's position at its exit time. A bracket placed
// at a broker with native exits is a Single order whose legs the broker
// places: the host records them in advance (`native_leg`).
enum class OrderRole : int32_t { Single = 0, Entry, Group, TakeProfit, StopLoss, Correction, Flatten, TimeExit };

// "pending_new", "accepted", "partially_filled", ...; "buy"; "stop_limit"; "gtc"; "bracket"; "option".
std::string_view toString(OrderStatus status);
std::string_view toString(OrderSide side);
std::string_view toString(OrderType type);
std::string_view toString(TimeInForce tif);
std::string_view toString(OrderClass order_class);
std::string_view toString(AssetClass asset_class);
std::string_view toString(OrderRole role);  // "single", "entry", "group", "take_profit", ...
std::optional<OrderStatus> parseOrderStatus(std::string_view text);
std::optional<OrderSide> parseOrderSide(std::string_view text);
std::optional<OrderType> parseOrderType(std::string_view text);
std::optional<TimeInForce> parseTimeInForce(std::string_view text);
std::optional<OrderClass> parseOrderClass(std::string_view text);
std::optional<AssetClass> parseAssetClass(std::string_view text);
std::optional<OrderRole> parseOrderRole(std::string_view text);

// Filled, canceled, rejected, expired and replaced orders never change again.
bool isTerminal(OrderStatus status);
// Still working at the broker: can fill, can be canceled.
bool isOpen(OrderStatus status);

// What a strategy, the API or the CLI asks for, before it has an id.
struct OrderIntent {
  std::string strategy;  // empty: placed by hand (API, CLI)
  std::string symbol;    // ticker, or OCC symbol for options
  AssetClass asset_class = AssetClass::Equity;
  OrderSide side = OrderSide::Buy;
  OrderType type = OrderType::Market;
  TimeInForce time_in_force = TimeInForce::Day;
  OrderClass order_class = OrderClass::Simple;
  double quantity = 0;  // shares or contracts
  double limit_price = 0;
  double stop_price = 0;
  double take_profit_price = 0;  // bracket, OCO, OTO legs; 0 = none
  double stop_loss_price = 0;
  double stop_loss_limit_price = 0;  // 0: the stop-loss leg is a stop-market order
  // Legs placed at a distance from the entry's average fill price instead of
  // at a price (0 = none; a leg has one or the other).
  double take_profit_offset = 0;
  double stop_loss_offset = 0;
  double take_profit_risk_multiple = 0;  // target = fill ± this × |fill − stop|
  int64_t exit_at_ns = 0;  // bracket/OTO: closed at the market at this time (0 = none)

  bool hasTakeProfit() const {
    return take_profit_price > 0 || take_profit_offset > 0 || take_profit_risk_multiple > 0;
  }
  bool hasStopLoss() const { return stop_loss_price > 0 || stop_loss_offset > 0; }
  bool hasExitFields() const {
    return take_profit_offset > 0 || stop_loss_offset > 0 || take_profit_risk_multiple > 0 || exit_at_ns > 0;
  }
};

// Checks that an intent is complete and self-consistent; the error names
// the field ("limit_price: required for a limit order").
[[nodiscard]] Result<void> validateIntent(const OrderIntent& intent);


// An order the host knows, as it stands now.
struct Order {
  std::string client_order_id;  // assigned and stored before the broker sees the order
  std::string broker_order_id;  // the venue's, once known
  std::string broker;           // plugin id
  std::string parent_id;        // a leg's entry or OCO group; a correction's leg; else empty
  std::string sibling_id;       // the other leg of an OCO pair, else empty
  OrderRole role = OrderRole::Single;
  // A leg the broker places itself when its entry fills ("<entry id>.tp",
  // ".sl", ".tx"): recorded ahead, never sent by the host.
  bool native_leg = false;
  OrderIntent intent;
  OrderStatus status = OrderStatus::PendingNew;
  double filled_quantity = 0;  // cumulative
  double average_fill_price = 0;
  double booked_quantity = 0;  // sum of the fills booked against it (fills may precede the status)
  std::string reason;       // why it was rejected, canceled or expired; flags such as an over-fill
  std::string reason_code;  // a risk rejection's code (MAX_ORDER_QUANTITY, ...), else empty
  int64_t created_ns = 0;
  int64_t updated_ns = 0;

  double remaining() const { return intent.quantity - filled_quantity; }
};

enum class TransitionCheck {
  Apply,   // a real change: apply it
  Repeat,  // the same state reported again: nothing to do
  Illegal  // refused; the error says why
};

struct TransitionVerdict {
  TransitionCheck check = TransitionCheck::Apply;
  std::string reason;  // for Illegal
};

// Whether an order may go from its current state to (`to`, `filled_after`)
// — the status and cumulative filled quantity a broker reports.
TransitionVerdict checkTransition(const Order& order, OrderStatus to, double filled_after);

}  // namespace th
