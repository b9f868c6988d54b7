// Brackets and OTO orders (TH_BROKER_NATIVE_EXITS): an entry with up to three
// exits — a take-profit limit, a stop-loss and a time exit — that the venue
// places itself once the entry has filled, so they can act on the very event
// that filled it. The rules are STRATEGIES.md's "Fills in backtests":
//
//  * The legs are placed when the entry has filled completely, or when it
//    ends (canceled, expired) with a part filled; they cover what filled.
//    Offsets are taken from the entry's average fill price.
//  * From that event on, on each event the stop is judged first, then the
//    target, then the time exit: when one bar reaches both the stop and the
//    target, the stop fills (the conservative reading of a bar whose path
//    inside is unknown).
//  * A target fills when a bar's high reaches it (sell) or its low does
//    (buy) — a touch, unlike a resting limit order which needs the market to
//    trade through it — at its price or at the open when the bar opened
//    beyond it. A stop fills at its price or the gapped open.
//  * The time exit closes at the close of the bar that ends at or after
//    exit_at (at the first quote or trade at or after it for tick data),
//    after that bar's stop and target checks.
//  * A leg's fill reduces the other legs to what is left, and cancels them
//    at zero.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "paper_broker.h"

namespace th::paper {
namespace {

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

bool nonNegative(double x) { return std::isfinite(x) && x >= 0; }

const char* legSuffix(int32_t leg) {
  switch (leg) {
    case kTakeProfit:
      return ".tp";
    case kStopLoss:
      return ".sl";
    default:
      return ".tx";
  }
}

}  // namespace

Exits PaperBroker::exitsOf(const th_order_request& request) {
  Exits exits;
  exits.take_profit_price = request.take_profit_price;
  exits.take_profit_offset = request.take_profit_offset;
  exits.take_profit_risk_multiple = request.take_profit_risk_multiple;
  exits.stop_loss_price = request.stop_loss_price;
  exits.stop_loss_offset = request.stop_loss_offset;
  exits.stop_loss_limit_price = request.stop_loss_limit_price;
  exits.exit_at_ns = request.exit_at_ns;
  return exits;
}

std::string PaperBroker::exitsRejectReason(const th_order_request& request, const Order& order) const {
  for (auto [name, value] : {std::pair{"take_profit_price", request.take_profit_price},
                             std::pair{"take_profit_offset", request.take_profit_offset},
                             std::pair{"take_profit_risk_multiple", request.take_profit_risk_multiple},
                             std::pair{"stop_loss_price", request.stop_loss_price},
                             std::pair{"stop_loss_offset", request.stop_loss_offset},
                             std::pair{"stop_loss_limit_price", request.stop_loss_limit_price}}) {
    if (!nonNegative(value)) return std::string(name) + " must be 0 or greater, got " + number(value);
  }
  if (request.exit_at_ns < 0) return "exit_at_ns must be 0 or a time";
  const Exits& exits = order.exits;
  if ((exits.take_profit_price > 0) + (exits.take_profit_offset > 0) + (exits.take_profit_risk_multiple > 0) > 1) {
    return "take_profit_price, take_profit_offset and take_profit_risk_multiple: give one";
  }
  if (exits.take_profit_risk_multiple > 0 && !exits.hasStopLoss()) {
    return "take_profit_risk_multiple: the target is a multiple of the risk to the stop-loss, and there is none";
  }
  if (exits.stop_loss_price > 0 && exits.stop_loss_offset > 0) {
    return "stop_loss_price and stop_loss_offset: give one, not both";
  }
  if (exits.stop_loss_limit_price > 0 && !exits.hasStopLoss()) return "stop_loss_limit_price: there is no stop-loss leg";
  if (!exits.any()) return "a bracket or OTO order needs a take-profit, a stop-loss or a time exit";
  if (request.order_class == TH_CLASS_BRACKET && !(exits.hasTakeProfit() && exits.hasStopLoss())) {
    return "a bracket order needs both a take-profit and a stop-loss";
  }
  if (order.time_in_force == TH_TIF_IOC || order.time_in_force == TH_TIF_FOK) {
    return "a bracket's entry is DAY or GTC, not IOC or FOK";
  }
  return {};
}

void PaperBroker::placeExits(size_t entry_index, int64_t ts_ns, std::vector<Report>& reports) {
  Order& entry = state_.orders[entry_index];
  if (entry.leg != kNoLeg || entry.exits_placed || !entry.exits.any() || entry.filled_quantity <= 0) return;
  entry.exits_placed = true;
  const Exits exits = entry.exits;
  const bool long_entry = entry.side == TH_SIDE_BUY;
  const double fill = entry.average_fill_price;
  const double sign = long_entry ? 1.0 : -1.0;
  const std::string entry_id = entry.client_order_id;

  auto leg = [&](int32_t kind) {
    const Order& parent = state_.orders[entry_index];
    Order out;
    out.client_order_id = entry_id + legSuffix(kind);
    out.broker_order_id = "P-" + std::to_string(state_.next_order_number++);
    out.symbol = parent.symbol;
    out.asset_class = parent.asset_class;
    out.side = long_entry ? TH_SIDE_SELL : TH_SIDE_BUY;
    out.time_in_force = parent.time_in_force == TH_TIF_GTC ? TH_TIF_GTC : TH_TIF_DAY;
    out.status = TH_STATUS_ACCEPTED;
    out.quantity = parent.filled_quantity;
    out.submitted_ns = out.updated_ns = out.workable_ns = ts_ns;
    out.expires_ns = out.time_in_force == TH_TIF_DAY ? calendar_.dayOrderExpiry(ts_ns) : kNever;
    out.leg = kind;
    out.parent = entry_id;
    return out;
  };
  std::vector<Order> legs;
  if (exits.hasStopLoss()) {
    Order sl = leg(kStopLoss);
    sl.type = exits.stop_loss_limit_price > 0 ? TH_ORDER_STOP_LIMIT : TH_ORDER_STOP;
    sl.stop_price = exits.stop_loss_price > 0 ? exits.stop_loss_price : fill - sign * exits.stop_loss_offset;
    sl.limit_price = exits.stop_loss_limit_price;
    legs.push_back(std::move(sl));
  }
  if (exits.hasTakeProfit()) {
    Order tp = leg(kTakeProfit);
    tp.type = TH_ORDER_LIMIT;
    if (exits.take_profit_price > 0) {
      tp.limit_price = exits.take_profit_price;
    } else if (exits.take_profit_offset > 0) {
      tp.limit_price = fill + sign * exits.take_profit_offset;
    } else {
      // A multiple of the risk from the fill to the stop (legs[0] is the stop-loss).
      tp.limit_price = fill + sign * exits.take_profit_risk_multiple * std::abs(fill - legs[0].stop_price);
    }
    legs.push_back(std::move(tp));
  }
  if (exits.exit_at_ns > 0) {
    Order tx = leg(kTimeExit);
    tx.type = TH_ORDER_MARKET;
    tx.exits.exit_at_ns = exits.exit_at_ns;
    legs.push_back(std::move(tx));
  }
  for (Order& out : legs) {
    if (!(out.limit_price >= 0 && out.stop_price >= 0) || (out.type != TH_ORDER_MARKET && out.limit_price <= 0 &&
                                                           out.stop_price <= 0)) {
      // An offset larger than the fill price: the leg cannot exist.
      out.status = TH_STATUS_REJECTED;
      out.reason = "the leg's price from fill " + number(fill) + " is not positive";
    }
    state_.orders.push_back(std::move(out));
    indexOrder(state_.orders.size() - 1);
    reports.push_back(state_.orders.back());
  }
}

void PaperBroker::openLegs(const std::string& entry_id, std::vector<size_t>& out) const {
  out.clear();
  auto it = legs_.find(entry_id);
  if (it == legs_.end()) return;
  for (size_t index : it->second) {
    if (open_.contains(index)) out.push_back(index);
  }
}

bool PaperBroker::matchExits(const std::string& entry_id, const MarketEvent& event, const SymbolFeed& feed,
                             double& buy_units, double& sell_units, std::vector<Report>& reports) {
  std::vector<size_t>& legs = open_legs_;  // reused: judged on every market event
  openLegs(entry_id, legs);
  if (legs.empty()) return false;
  bool changed = false;
  std::optional<size_t> winner;
  std::optional<double> price;
  bool stop_reached = false;
  // Stop first: the legs are judged in this order whatever order they were placed in.
  for (int32_t kind : {kStopLoss, kTakeProfit, kTimeExit}) {
    for (size_t index : legs) {
      Order& leg = state_.orders[index];
      if (leg.leg != kind || event.ts_ns < leg.workable_ns) continue;
      Opportunity opportunity;
      if (kind == kStopLoss) {
        opportunity = model_.assess(leg, event, feed);
        if (opportunity.triggers && !leg.triggered) {
          leg.triggered = true;
          changed = true;
        }
        stop_reached = opportunity.triggers || opportunity.price.has_value();
      } else if (kind == kTakeProfit) {
        if (stop_reached) continue;  // the bar reached the stop: the stop counts
        opportunity = model_.assessTarget(leg, event, feed);
      } else {
        opportunity = model_.assessTimeExit(leg, event, feed);
      }
      if (opportunity.price && !winner) {
        winner = index;
        price = opportunity.price;
      }
    }
    if (winner) break;
  }
  if (!winner) return changed;

  double& units = state_.orders[*winner].side == TH_SIDE_BUY ? buy_units : sell_units;
  const double quantity = std::min(state_.orders[*winner].remaining(), units);
  if (quantity <= 0) return changed;
  units -= quantity;
  fillOrder(*winner, quantity, *price, event.ts_ns, reports);
  const double left = state_.orders[*winner].remaining();
  const std::string winner_id = state_.orders[*winner].client_order_id;
  for (size_t index : legs) {
    if (index == *winner) continue;
    Order& other = state_.orders[index];
    if (left <= 1e-9) {
      closeOrder(index, TH_STATUS_CANCELED, "one-cancels-other: " + winner_id + " filled", event.ts_ns, reports);
    } else {
      other.quantity = other.filled_quantity + left;
      other.updated_ns = event.ts_ns;
      reports.push_back(other);
    }
  }
  return true;
}

}  // namespace th::paper
