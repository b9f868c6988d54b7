// The broker service's records: each order's, written at once or, on a host
// that commits in groups (a backtest), once per group with its last state;
// the open-order index; the order feed; the journal's order actions.
#include "broker/broker_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <nlohmann/json.hpp>
#include <utility>

#include "broker/order_json.h"
#include "core/json.h"
#include "store/journal_codec.h"

namespace th {

void BrokerService::persist(const Order& order, std::string* encoded) {
  if (!encoded && host_.deferredCommits()) {
    assert(&orders_.at(order.client_order_id) == &order);
    unwritten_.push_back(&order);
    return;
  }
  std::string text = encodeOrder(order);
  host_.batch().put(Family::Orders, order.client_order_id, text);
  if (encoded) *encoded = std::move(text);
}

void BrokerService::persistRisk() {
  if (host_.deferredCommits()) {
    risk_unwritten_ = true;
    return;
  }
  putRisk();
}

void BrokerService::writeRecords() {
  std::sort(unwritten_.begin(), unwritten_.end());
  unwritten_.erase(std::unique(unwritten_.begin(), unwritten_.end()), unwritten_.end());
  for (const Order* order : unwritten_) host_.batch().put(Family::Orders, order->client_order_id, encodeOrder(*order));
  unwritten_.clear();
  if (std::exchange(risk_unwritten_, false)) putRisk();
}

Order& BrokerService::store(Order order, std::string* encoded) {
  auto id = order.client_order_id;
  auto [it, inserted] = orders_.insert_or_assign(id, std::move(order));
  if (inserted && !it->second.parent_id.empty()) children_[it->second.parent_id].push_back(id);
  persist(it->second, encoded);
  updateOpenIndex(it->second);
  return it->second;
}

void BrokerService::updateOpenIndex(const Order& order) {
  if (isOpen(order.status)) {
    open_[order.client_order_id] = &order;
  } else {
    open_.erase(order.client_order_id);
  }
}

void BrokerService::notifyOrder(const Order& order) {
  if (!host_.listening()) return;
  host_.notify(fmt::format(R"({{"type":"order","order":{}}})", encodeOrder(order)));
}

void BrokerService::journalAction(std::string_view action, const Order& order, const std::string& detail) {
  nlohmann::json j = {{"action", action}, {"client_order_id", order.client_order_id}, {"detail", detail}};
  host_.batch().journal(static_cast<uint16_t>(JournalKind::OrderAction), host_.nowNs(), jsonText(j));
}

}  // namespace th
