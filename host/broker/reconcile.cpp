// Reconciliation with the brokers after a start (see broker_service.h).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/broker_service.h"
#include "core/json.h"
#include "plugin/plugin.h"
#include "store/journal_codec.h"

namespace th {
namespace {

// Fills are asked for from a minute before the last one booked, and never
// after the host's clock: a simulated clock may start earlier than it ended.
constexpr int64_t kFillLookbackNs = 60'000'000'000;

std::string text(const char* data, uint32_t size) { return data ? std::string(data, size) : std::string(); }

OrderEvent stateOf(const Order& order, OrderStatus status, double filled, std::string reason, int64_t ts) {
  OrderEvent e;
  e.client_order_id = order.client_order_id;
  e.broker_order_id = order.broker_order_id;
  e.symbol = order.intent.symbol;
  e.reason = std::move(reason);
  e.asset_class = static_cast<int32_t>(order.intent.asset_class);
  e.side = static_cast<int32_t>(order.intent.side);
  e.type = static_cast<int32_t>(order.intent.type);
  e.time_in_force = static_cast<int32_t>(order.intent.time_in_force);
  e.status = static_cast<int32_t>(status);
  e.quantity = order.intent.quantity;
  e.filled_quantity = filled;
  e.average_fill_price = order.average_fill_price;
  e.limit_price = order.intent.limit_price;
  e.stop_price = order.intent.stop_price;
  e.ts_ns = ts;
  return e;
}

}  // namespace

void BrokerService::journalEvent(const std::string& broker_id, EventPayload payload) {
  Event event{0, std::move(payload)};
  if (auto encoded = encodeEvent(event, broker_id)) {
    host_.batch().journal(static_cast<uint16_t>(encoded->kind), event.timestamp(), encoded->payload);
  }
}

std::vector<ReconcileReport> BrokerService::reconcile() {
  reconciled_.clear();
  for (const auto& port : ports_) {
    ReconcileReport report = reconcileWith(*port);
    nlohmann::json j = {{"broker", report.broker},
                        {"ok", report.ok},
                        {"detail", report.detail},
                        {"open_orders", report.open_orders},
                        {"fills_added", report.fills_added},
                        {"orders_updated", report.orders_updated},
                        {"orders_closed", report.orders_closed},
                        {"orphans_adopted", report.orphans_adopted},
                        {"position_mismatches", report.position_mismatches}};
    host_.batch().journal(static_cast<uint16_t>(JournalKind::Reconcile), host_.nowNs(), jsonText(j));
    if (report.ok) {
      spdlog::info("reconciled with '{}': {}", report.broker, report.detail);
    } else {
      spdlog::error("reconciliation with '{}' failed: {}", report.broker, report.detail);
      applyStateChange(risk_.setState(
          TradingState::Halted, fmt::format("reconciliation with '{}' failed: {}", report.broker, report.detail),
          host_.nowNs()));
    }
    reconciled_.push_back(std::move(report));
  }
  // Legs a crash kept from being sent: the entry's fills are stored, so the
  // rule "legs cover what the entry filled" says what is missing.
  std::vector<std::string> parents;
  for (const auto& [id, order] : orders_) {
    if ((order.role == OrderRole::Entry && order.booked_quantity > 0) ||
        (order.role == OrderRole::Group && isOpen(order.status))) {
      parents.push_back(id);
    }
  }
  for (const auto& id : parents) ensureLegs(orders_.at(id));
  // An over-fill whose correction failed, or was canceled, is taken back now.
  std::vector<std::string> legs;
  for (const auto& [id, order] : orders_) {
    if (order.role == OrderRole::TakeProfit && !order.sibling_id.empty() && order.booked_quantity > 0) legs.push_back(id);
  }
  for (const auto& id : legs) checkOverfill(orders_.at(id));
  host_.commitNow(true);
  return reconciled_;
}

ReconcileReport BrokerService::reconcileWith(BrokerPort& port) {
  ReconcileReport report;
  report.broker = port.id();
  auto failed = [&](std::string why) {
    report.ok = false;
    report.detail = std::move(why);
    return report;
  };
  if (!port.connected()) return failed("the broker is not connected");

  // 1. Fills the host has not booked.
  const PositionBook& positions = bookFor(port.id());
  int64_t since = host_.nowNs(), last_booked = 0;
  for (const auto& p : positions.accountPositions()) last_booked = std::max(last_booked, p.last_fill_ts_ns);
  if (last_booked) since = std::min(since, last_booked);
  for (const auto& [id, order] : orders_) {
    if (order.broker == port.id() && isOpen(order.status)) since = std::min(since, order.created_ns);
  }
  since = std::max<int64_t>(0, since - kFillLookbackNs);
  std::vector<FillEvent> fills;
  if (auto ok = port.fills(since, [&](const th_fill& f) { fills.push_back(toFillEvent(f)); }); !ok) {
    return failed(fmt::format("fills: {}", ok.error().message));
  }
  std::stable_sort(fills.begin(), fills.end(), [](const FillEvent& a, const FillEvent& b) { return a.ts_ns < b.ts_ns; });
  for (auto& fill : fills) {
    if (bookFor(port.id()).seenFill(fill.fill_id)) continue;
    ++report.fills_added;
    journalEvent(port.id(), fill);
    onFill(port.id(), fill);
  }

  // 2. The broker's open orders.
  std::vector<OrderEvent> open;
  if (auto ok = port.openOrders([&](const th_order_state& s) { open.push_back(toOrderEvent(s)); }); !ok) {
    return failed(fmt::format("open orders: {}", ok.error().message));
  }
  report.open_orders = open.size();
  std::set<std::string> open_at_broker;
  for (auto& state : open) {
    open_at_broker.insert(state.client_order_id);
    const Order* known = find(state.client_order_id);
    if (known && static_cast<int32_t>(known->status) == state.status &&
        std::abs(known->filled_quantity - state.filled_quantity) < 1e-9) {
      continue;
    }
    if (known && isTerminal(known->status)) {
      // The host closed it (a send it took for refused, say) but the broker
      // is working it: the broker is the truth, and the kill switch must
      // reach it.
      Order& order = orders_.at(state.client_order_id);
      auto detail = fmt::format("the host had it {}, but '{}' reports it {}: reopened", toString(order.status),
                                port.id(), toString(static_cast<OrderStatus>(state.status)));
      spdlog::error("order {}: {}", order.client_order_id, detail);
      order.status = static_cast<OrderStatus>(state.status);
      order.filled_quantity = state.filled_quantity;
      if (!state.broker_order_id.empty()) order.broker_order_id = state.broker_order_id;
      order.reason = detail;
      order.updated_ns = host_.nowNs();
      persist(order);
      updateOpenIndex(order);
      journalAction("reopened", order, detail);
      journalEvent(port.id(), state);
      ++report.orders_updated;
      continue;
    }
    if (known) {
      ++report.orders_updated;
    } else {
      ++report.orphans_adopted;
    }
    if (state.reason.empty()) state.reason = "reconciled after a restart";
    journalEvent(port.id(), state);
    onOrder(port.id(), state);
  }

  // 3. Orders the host thinks open that the broker no longer has open.
  std::vector<std::string> closed;
  for (const auto& [id, open] : open_) {
    const Order& order = *open;
    // A native leg whose entry is still working is held by the broker, not lost.
    const bool held = order.native_leg && order.status == OrderStatus::PendingNew && find(order.parent_id) &&
                      isOpen(find(order.parent_id)->status);
    if (order.broker == port.id() && order.role != OrderRole::Group && !held && !open_at_broker.contains(id)) {
      closed.push_back(id);
    }
  }
  for (const auto& id : closed) {
    const Order& order = orders_.at(id);
    const double q = order.intent.quantity;
    const double booked = std::min(order.booked_quantity, q);
    OrderEvent state;
    if (booked + 1e-9 * std::max(1.0, q) >= q) {
      state = stateOf(order, OrderStatus::Filled, q, "reconciled: filled while the host was down", host_.nowNs());
    } else if (order.status == OrderStatus::PendingNew && booked <= 0) {
      // Stored, then the host stopped before the broker acknowledged it:
      // the broker has no trace of it, so it was never taken.
      state = stateOf(order, OrderStatus::Rejected, 0,
                      fmt::format("reconciled: never acknowledged by '{}' and not open there: not sent", port.id()),
                      host_.nowNs());
    } else {
      state = stateOf(order, OrderStatus::Canceled, std::max(booked, order.filled_quantity),
                      fmt::format("reconciled: no longer open at '{}'; closed while the host was down", port.id()),
                      host_.nowNs());
    }
    ++report.orders_closed;
    journalEvent(port.id(), state);
    onOrder(port.id(), state);
  }

  // 4. Positions must agree exactly.
  std::map<std::string, double> broker_positions;
  if (auto ok = port.positions([&](const th_position& p) {
        broker_positions[text(p.symbol, p.symbol_len)] += p.quantity;
      });
      !ok) {
    return failed(fmt::format("positions: {}", ok.error().message));
  }
  std::map<std::string, double> host_positions;
  for (const auto& p : bookFor(port.id()).accountPositions()) {
    if (std::abs(p.quantity) > 1e-9) host_positions[p.symbol] = p.quantity;
  }
  std::vector<std::string> mismatches;
  std::set<std::string> symbols;
  for (const auto& [s, q] : broker_positions) symbols.insert(s);
  for (const auto& [s, q] : host_positions) symbols.insert(s);
  for (const auto& s : symbols) {
    double theirs = broker_positions.contains(s) ? broker_positions[s] : 0;
    double ours = host_positions.contains(s) ? host_positions[s] : 0;
    if (std::abs(theirs - ours) > 1e-6 * std::max(1.0, std::abs(theirs))) {
      mismatches.push_back(fmt::format("{}: broker {}, host {}", s, theirs, ours));
    }
  }
  report.position_mismatches = mismatches.size();
  refreshAccount(port);
  if (!mismatches.empty()) {
    return failed(fmt::format("positions differ: {}", fmt::join(mismatches, "; ")));
  }
  report.ok = true;
  report.detail = fmt::format("{} open order(s), {} fill(s) added, {} order(s) updated, {} closed, {} adopted, {} "
                              "position(s) agree",
                              report.open_orders, report.fills_added, report.orders_updated, report.orders_closed,
                              report.orphans_adopted, host_positions.size());
  return report;
}

}  // namespace th
