// Bracket, OTO and OCO emulation for brokers without them, and the records of
// legs that brokers with native exits place (see broker_service.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "broker/broker_service.h"
#include "core/json.h"

namespace th {
namespace {

bool same(double a, double b, double scale) { return std::abs(a - b) <= 1e-9 * std::max(1.0, scale); }

OrderSide opposite(OrderSide side) { return side == OrderSide::Buy ? OrderSide::Sell : OrderSide::Buy; }

// A market order for `quantity` of the same strategy and instrument, on the other side of `opened`.
OrderIntent closingIntent(const OrderIntent& opened, double quantity) {
  OrderIntent intent;
  intent.strategy = opened.strategy;
  intent.symbol = opened.symbol;
  intent.asset_class = opened.asset_class;
  intent.side = opposite(opened.side);
  intent.type = OrderType::Market;
  intent.quantity = quantity;
  return intent;
}

}  // namespace

std::vector<Order*> BrokerService::children(std::string_view parent_id) {
  std::vector<Order*> out;
  auto it = children_.find(parent_id);
  if (it == children_.end()) return out;
  for (const auto& id : it->second) {
    if (auto found = orders_.find(id); found != orders_.end()) out.push_back(&found->second);
  }
  return out;
}

double BrokerService::coveredQuantity(const Order& parent) const {
  // Each pair (or single OTO leg) covers its quantity unless every leg of it
  // was refused: a refused pair is tried again with the next fill.
  double covered = 0;
  auto it = children_.find(parent.client_order_id);
  if (it == children_.end()) return 0;
  for (const auto& id : it->second) {
    const Order& leg = orders_.at(id);
    if (leg.role != OrderRole::TakeProfit && leg.role != OrderRole::StopLoss) continue;
    // Count a pair once, by its take-profit leg (or its only leg).
    if (leg.role == OrderRole::StopLoss && !leg.sibling_id.empty()) continue;
    bool alive = leg.status != OrderStatus::Rejected;
    if (!alive && !leg.sibling_id.empty()) {
      if (const Order* sibling = find(leg.sibling_id)) alive = sibling->status != OrderStatus::Rejected;
    }
    if (alive) covered += leg.intent.quantity;
  }
  return covered;
}

Order BrokerService::makeLeg(const Order& parent, OrderRole role, double quantity) const {
  const auto& in = parent.intent;
  Order leg;
  leg.broker = parent.broker;
  leg.parent_id = parent.client_order_id;
  leg.role = role;
  leg.intent.strategy = in.strategy;
  leg.intent.symbol = in.symbol;
  leg.intent.asset_class = in.asset_class;
  // An OCO's legs are the group's side; a bracket's exit the entry.
  leg.intent.side = parent.role == OrderRole::Group ? in.side : opposite(in.side);
  leg.intent.time_in_force = in.time_in_force == TimeInForce::Gtc ? TimeInForce::Gtc : TimeInForce::Day;
  leg.intent.quantity = quantity;
  // An offset is measured from what the entry filled at so far.
  const double sign = in.side == OrderSide::Buy ? 1.0 : -1.0;
  const double stop = in.stop_loss_price > 0 ? in.stop_loss_price
                                             : parent.average_fill_price - sign * in.stop_loss_offset;
  if (role == OrderRole::TakeProfit) {
    leg.intent.type = OrderType::Limit;
    const double fill = parent.average_fill_price;
    leg.intent.limit_price = in.take_profit_price > 0    ? in.take_profit_price
                             : in.take_profit_offset > 0 ? fill + sign * in.take_profit_offset
                                                         : fill + sign * in.take_profit_risk_multiple * std::abs(fill - stop);
  } else if (in.stop_loss_limit_price > 0) {
    leg.intent.type = OrderType::StopLimit;
    leg.intent.stop_price = stop;
    leg.intent.limit_price = in.stop_loss_limit_price;
  } else {
    leg.intent.type = OrderType::Stop;
    leg.intent.stop_price = stop;
  }
  leg.created_ns = leg.updated_ns = host_.nowNs();
  return leg;
}

void BrokerService::ensureLegs(Order& parent_ref) {
  const std::string parent_id = parent_ref.client_order_id;
  const double coverable =
      parent_ref.role == OrderRole::Group ? parent_ref.intent.quantity : parent_ref.booked_quantity;
  const double missing = coverable - coveredQuantity(parent_ref);
  if (missing <= 0 || same(missing, 0, parent_ref.intent.quantity)) return;

  // Past a time exit the position is being closed: no new legs.
  if (parent_ref.intent.exit_at_ns > 0 && host_.nowNs() >= parent_ref.intent.exit_at_ns) return;
  std::vector<Order> legs;
  if (parent_ref.intent.hasTakeProfit()) legs.push_back(makeLeg(parent_ref, OrderRole::TakeProfit, missing));
  if (parent_ref.intent.hasStopLoss()) legs.push_back(makeLeg(parent_ref, OrderRole::StopLoss, missing));
  for (auto& leg : legs) leg.client_order_id = nextClientOrderId();
  if (legs.size() == 2) {
    legs[0].sibling_id = legs[1].client_order_id;
    legs[1].sibling_id = legs[0].client_order_id;
  }
  std::vector<std::string> to_send;
  for (auto& leg : legs) {
    checking_broker_ = leg.broker;
    RiskDecision decision = risk_.check(leg.intent, OrderPurpose::Protective, *this, host_.nowNs());
    journalDecision(leg, OrderPurpose::Protective, decision);
    if (decision.accepted) {
      leg.status = OrderStatus::PendingNew;
      to_send.push_back(leg.client_order_id);
    } else {
      leg.status = OrderStatus::Rejected;
      leg.reason_code = std::string(reasonCode(decision.reason));
      leg.reason = decision.detail;
      ++stats_.risk_rejected;
    }
    const Order& stored = store(std::move(leg));
    notifyOrder(stored);
  }
  Order& parent = orders_.at(parent_id);
  if (parent.role == OrderRole::Group && parent.status == OrderStatus::PendingNew) {
    parent.status = to_send.empty() ? OrderStatus::Rejected : OrderStatus::Accepted;
    if (to_send.empty()) parent.reason = "both legs were refused";
    persist(parent);
    updateOpenIndex(parent);
    notifyOrder(parent);
  }
  if (to_send.empty()) return;
  // The legs are on disk before the broker hears of them.
  if (!host_.commitNow(true)) {
    for (const auto& id : to_send) {
      Order& leg = orders_.at(id);
      leg.status = OrderStatus::Rejected;
      leg.reason = "not sent: the store could not save the order";
      persist(leg);
      updateOpenIndex(leg);
    }
    updateGroup(parent_id);
    return;
  }
  for (const auto& id : to_send) send(orders_.at(id));
}

void BrokerService::onLegFill(Order& leg) {
  const std::string leg_id = leg.client_order_id;
  checkOverfill(leg);
  Order& current = orders_.at(leg_id);
  if (current.sibling_id.empty()) return;
  if (current.booked_quantity + 1e-9 * std::max(1.0, current.intent.quantity) < current.intent.quantity) return;
  // One cancels the other.
  const Order* sibling = find(current.sibling_id);
  if (!sibling || !isOpen(sibling->status)) return;
  auto canceled = cancel(sibling->client_order_id, fmt::format("one-cancels-other: {} filled", leg_id));
  if (!canceled) {
    spdlog::warn("one-cancels-other: canceling {} after {} filled failed: {}", current.sibling_id, leg_id,
                 canceled.error().message);
  }
}

void BrokerService::checkOverfill(Order& leg) {
  if (leg.sibling_id.empty()) return;
  Order* sibling = orders_.contains(leg.sibling_id) ? &orders_.at(leg.sibling_id) : nullptr;
  if (!sibling) return;
  const double pair = leg.intent.quantity;
  const std::string pair_key = std::min(leg.client_order_id, sibling->client_order_id);
  double corrected = 0;
  for (Order* child : children(pair_key)) {
    // What a correction did, or may still do: one canceled unfilled did nothing.
    if (child->role == OrderRole::Correction) {
      corrected += isOpen(child->status) ? child->intent.quantity : child->booked_quantity;
    }
  }
  const double exits = leg.booked_quantity + sibling->booked_quantity;
  const double excess = exits - pair - corrected;
  if (excess <= 0 || same(excess, 0, pair)) return;

  ++stats_.overfills;
  const OrderIntent intent = closingIntent(leg.intent, excess);
  const std::string leg_id = leg.client_order_id, sibling_id = sibling->client_order_id, broker_id = leg.broker;
  auto correction = submitAs(intent, broker_id, OrderPurpose::Correction, pair_key);
  std::string taken_back = correction ? fmt::format("{} {} by correction order {} ({})", toString(intent.side),
                                                    excess, correction->client_order_id, toString(correction->status))
                                      : fmt::format("correction order failed: {}", correction.error().message);
  auto detail = fmt::format("over-fill: legs {} and {} filled {} together on a pair of {}; {}", leg_id, sibling_id,
                            exits, pair, taken_back);
  spdlog::error("{} {}: {}", intent.strategy.empty() ? "manual" : intent.strategy, intent.symbol, detail);
  for (const auto& id : {leg_id, sibling_id}) {
    Order& flagged = orders_.at(id);
    flagged.reason = detail;
    persist(flagged);
    notifyOrder(flagged);
  }
  journalAction("overfill", orders_.at(leg_id), detail);
}

void BrokerService::updateGroup(const std::string& group_id) {
  auto it = orders_.find(group_id);
  if (it == orders_.end() || it->second.role != OrderRole::Group || !isOpen(it->second.status)) return;
  Order& group = it->second;
  double booked = 0;
  bool all_done = true;
  for (Order* leg : children(group_id)) {
    if (leg->role != OrderRole::TakeProfit && leg->role != OrderRole::StopLoss) continue;
    booked += leg->booked_quantity;
    all_done = all_done && !isOpen(leg->status);
  }
  group.booked_quantity = booked;
  if (!all_done) {
    persist(group);
    return;
  }
  group.filled_quantity = std::min(booked, group.intent.quantity);
  group.status = same(group.filled_quantity, group.intent.quantity, group.intent.quantity) ? OrderStatus::Filled
                                                                                            : OrderStatus::Canceled;
  group.updated_ns = host_.nowNs();
  persist(group);
  updateOpenIndex(group);
  notifyOrder(group);
}

// ------------------------------------------------ brackets the broker places --

bool BrokerService::placesExits(const BrokerPort& port, const Order& order) const {
  return order.role == OrderRole::Single && (port.capabilities() & TH_BROKER_NATIVE_EXITS) &&
         (order.intent.order_class == OrderClass::Bracket || order.intent.order_class == OrderClass::Oto);
}

void BrokerService::recordNativeLegs(const Order& entry) {
  const auto& in = entry.intent;
  auto leg = [&](OrderRole role, const char* suffix) {
    Order out;
    out.client_order_id = entry.client_order_id + suffix;
    out.broker = entry.broker;
    out.parent_id = entry.client_order_id;
    out.role = role;
    out.native_leg = true;
    out.intent.strategy = in.strategy;
    out.intent.symbol = in.symbol;
    out.intent.asset_class = in.asset_class;
    out.intent.side = in.side == OrderSide::Buy ? OrderSide::Sell : OrderSide::Buy;
    out.intent.time_in_force = in.time_in_force == TimeInForce::Gtc ? TimeInForce::Gtc : TimeInForce::Day;
    out.intent.quantity = in.quantity;
    out.status = OrderStatus::PendingNew;
    out.reason = "held by the broker until the entry fills";
    out.created_ns = out.updated_ns = entry.created_ns;
    return out;
  };
  std::vector<Order> legs;
  if (in.hasStopLoss()) {
    Order sl = leg(OrderRole::StopLoss, ".sl");
    sl.intent.type = in.stop_loss_limit_price > 0 ? OrderType::StopLimit : OrderType::Stop;
    sl.intent.stop_price = in.stop_loss_price;  // 0 until the broker reports it (an offset)
    sl.intent.limit_price = in.stop_loss_limit_price;
    legs.push_back(std::move(sl));
  }
  if (in.hasTakeProfit()) {
    Order tp = leg(OrderRole::TakeProfit, ".tp");
    tp.intent.type = OrderType::Limit;
    tp.intent.limit_price = in.take_profit_price;
    legs.push_back(std::move(tp));
  }
  if (in.exit_at_ns > 0) {
    Order tx = leg(OrderRole::TimeExit, ".tx");
    tx.intent.type = OrderType::Market;
    tx.intent.exit_at_ns = in.exit_at_ns;
    legs.push_back(std::move(tx));
  }
  for (auto& out : legs) notifyOrder(store(std::move(out)));
}

void BrokerService::closeUnplacedLegs(const Order& entry, const std::string& why) {
  if (entry.role != OrderRole::Single || entry.booked_quantity > 0 || entry.filled_quantity > 0) return;
  if (entry.intent.order_class != OrderClass::Bracket && entry.intent.order_class != OrderClass::Oto) return;
  for (Order* leg : children(entry.client_order_id)) {
    if (!leg->native_leg || leg->status != OrderStatus::PendingNew) continue;
    leg->status = OrderStatus::Canceled;
    leg->reason = why;
    leg->updated_ns = host_.nowNs();
    persist(*leg);
    updateOpenIndex(*leg);
    notifyOrder(*leg);
  }
}

// ----------------------------------------------------- emulated time exits --

void BrokerService::emulateTimeExits() {
  const int64_t now = host_.nowNs();
  std::vector<std::string> due;
  for (const auto& id : timed_entries_) {
    if (orders_.at(id).intent.exit_at_ns <= now) due.push_back(id);
  }
  for (const auto& id : due) {
    // Cancel the entry and the legs first; the exit goes out once none of
    // them can fill any more, so it never races a leg.
    bool waiting = false;
    std::vector<std::string> working{id};
    double exited = 0;
    for (Order* child : children(id)) {
      working.push_back(child->client_order_id);
      exited += child->booked_quantity;
    }
    for (const auto& working_id : working) {
      const Order& order = orders_.at(working_id);
      if (!isOpen(order.status)) continue;
      waiting = true;
      if (order.status != OrderStatus::PendingCancel && !exit_cancels_.contains(working_id)) {
        exit_cancels_.insert(working_id);
        if (auto ok = cancel(working_id, "time exit"); !ok) {
          spdlog::warn("time exit of {}: canceling {} failed: {}", id, working_id, ok.error().message);
        }
      }
    }
    if (waiting) continue;  // looked at again at the next tick
    timed_entries_.erase(id);
    const Order& entry = orders_.at(id);
    const double rest = entry.booked_quantity - exited;
    if (rest <= 1e-9 * std::max(1.0, entry.intent.quantity)) continue;
    auto sent = submitAs(closingIntent(entry.intent, rest), entry.broker, OrderPurpose::Protective, id);
    if (!sent) {
      spdlog::error("time exit of {}: {}", id, sent.error().message);
      continue;
    }
    Order& stored = orders_.at(sent->client_order_id);
    stored.role = OrderRole::TimeExit;
    persist(stored);
  }
}

}  // namespace th
