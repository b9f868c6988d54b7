// The broker service's read side: order lists, positions, account, risk and
// health as JSON for the API, and the RiskView the risk service reads.
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "broker/broker_service.h"
#include "broker/order_json.h"
#include "core/json.h"
#include "core/time.h"

namespace th {
namespace {

using Json = nlohmann::json;

Json positionJson(const Position& p, std::string_view broker) {
  return {{"broker", broker},
          {"symbol", p.symbol},
          {"asset_class", p.asset_class == TH_ASSET_OPTION ? "option" : "equity"},
          {"quantity", p.quantity},
          {"average_cost", p.average_cost},
          {"last_price", p.last_price},
          {"multiplier", p.multiplier},
          {"realised", p.realised},
          {"unrealised", p.unrealised()},
          {"commissions", p.commissions},
          {"net", p.realisedNet() + p.unrealised()}};
}

Json summaryJson(const PnlSummary& s) {
  return {{"realised", s.realised},
          {"unrealised", s.unrealised},
          {"commissions", s.commissions},
          {"net", s.net},
          {"gross_exposure", s.gross_exposure}};
}

void addSummary(PnlSummary& total, const PnlSummary& s) {
  total.realised += s.realised;
  total.unrealised += s.unrealised;
  total.commissions += s.commissions;
  total.net += s.net;
  total.gross_exposure += s.gross_exposure;
}

}  // namespace

// ------------------------------------------------------------------ views --

const Order* BrokerService::find(std::string_view client_order_id) const {
  auto it = orders_.find(client_order_id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const Order*> BrokerService::orders(const OrderFilter& filter) const {
  std::vector<const Order*> out;
  auto consider = [&](const Order& order) {
    if (!filter.strategy.empty() && order.intent.strategy != filter.strategy) return;
    if (!filter.symbol.empty() && order.intent.symbol != filter.symbol) return;
    out.push_back(&order);
  };
  if (filter.open_only) {
    for (const auto& [id, order] : open_) consider(*order);
  } else {
    for (const auto& [id, order] : orders_) consider(order);
  }
  std::sort(out.begin(), out.end(), [](const Order* a, const Order* b) {
    return a->created_ns != b->created_ns ? a->created_ns > b->created_ns : a->client_order_id > b->client_order_id;
  });
  if (out.size() > filter.limit) out.resize(filter.limit);
  return out;
}

double BrokerService::lastPrice(std::string_view symbol) const {
  auto it = prices_.find(symbol);
  return it == prices_.end() ? 0 : it->second.price;
}

std::string BrokerService::ordersJson(const OrderFilter& filter) const {
  std::string out = R"({"orders":[)";
  bool first = true;
  for (const Order* order : orders(filter)) {
    if (!first) out += ',';
    first = false;
    out += encodeOrder(*order);
  }
  out += "]}";
  return out;
}

std::string BrokerService::positionsJson(std::string_view strategy) const {
  Json account = Json::array();
  Json strategies = Json::object();
  PnlSummary total;
  for (const auto& [broker_id, positions] : books_) {
    for (const auto& p : positions.accountPositions()) account.push_back(positionJson(p, broker_id));
    for (const auto& id : positions.strategies()) {
      if (!strategy.empty() && id != strategy) continue;
      auto& list = strategies[id];
      if (list.is_null()) list = Json::array();
      for (const auto& p : positions.strategyPositions(id)) list.push_back(positionJson(p, broker_id));
    }
    addSummary(total, strategy.empty() ? positions.accountSummary() : positions.strategySummary(strategy));
  }
  return jsonText(Json{{"account", account}, {"strategies", strategies}, {"summary", summaryJson(total)}});
}

std::string BrokerService::accountJson() {
  BrokerPort* port = broker(default_broker_);
  if (!port) return jsonText(Json{{"error", "no broker plugin is configured"}});
  refreshAccount(*port);
  Json j = {{"broker", port->id()}, {"connected", port->connected()}};
  if (auto it = accounts_.find(port->id()); it != accounts_.end()) {
    const th_account& a = it->second;
    j["account_id"] = std::string(a.account_id, strnlen(a.account_id, sizeof a.account_id));
    j["currency"] = std::string(a.currency, strnlen(a.currency, sizeof a.currency));
    j["cash"] = a.cash;
    j["equity"] = a.equity;
    j["buying_power"] = a.buying_power;
    j["commissions"] = a.commissions;
  }
  j["pnl"] = summaryJson(book(port->id()).accountSummary());
  j["open_orders"] = accountOpenOrders();
  return jsonText(j);
}

std::optional<th_account> BrokerService::currentAccount() {
  BrokerPort* port = broker(default_broker_);
  if (!port) return std::nullopt;
  auto it = accounts_.find(port->id());
  if (it == accounts_.end()) {
    refreshAccount(*port);
    it = accounts_.find(port->id());
  }
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::string BrokerService::riskJson() const { return risk_.json(host_.nowNs()); }

std::string BrokerService::healthJson() const {
  Json reconcile = Json::array();
  for (const auto& r : reconciled_) {
    reconcile.push_back({{"broker", r.broker},
                         {"ok", r.ok},
                         {"detail", r.detail},
                         {"open_orders", r.open_orders},
                         {"fills_added", r.fills_added},
                         {"orders_updated", r.orders_updated},
                         {"orders_closed", r.orders_closed},
                         {"orphans_adopted", r.orphans_adopted},
                         {"position_mismatches", r.position_mismatches}});
  }
  return jsonText(Json{{"state", toString(risk_.state())},
                       {"reason", risk_.stateReason()},
                       {"open_orders", accountOpenOrders()},
                       {"reconcile", reconcile}});
}

// --------------------------------------------------------------- RiskView --

double BrokerService::strategyQuantity(std::string_view strategy, std::string_view symbol) const {
  const Position* p = book(checking_broker_).strategyPosition(strategy, symbol);
  return p ? p->quantity : 0;
}

double BrokerService::accountQuantity(std::string_view symbol) const {
  const Position* p = book(checking_broker_).accountPosition(symbol);
  return p ? p->quantity : 0;
}

double BrokerService::accountGrossExposure() const { return book(checking_broker_).accountSummary().gross_exposure; }

double BrokerService::strategyGrossExposure(std::string_view strategy) const {
  return book(checking_broker_).strategySummary(strategy).gross_exposure;
}

size_t BrokerService::accountOpenOrders() const {
  size_t n = 0;
  for (const auto& [id, order] : open_) n += order->role != OrderRole::Group;
  return n;
}

size_t BrokerService::strategyOpenOrders(std::string_view strategy) const {
  size_t n = 0;
  for (const auto& [id, open] : open_) {
    const Order& order = *open;
    n += order.role != OrderRole::Group && order.intent.strategy == strategy;
  }
  return n;
}

double BrokerService::pendingQuantity(std::string_view strategy, std::string_view symbol, OrderSide side) const {
  return pending(&strategy, symbol, side);
}

double BrokerService::accountPendingQuantity(std::string_view symbol, OrderSide side) const {
  return pending(nullptr, symbol, side);
}

double BrokerService::pending(const std::string_view* strategy, std::string_view symbol, OrderSide side) const {
  double pending = 0;
  for (const auto& [id, open] : open_) {
    const Order& order = *open;
    if (order.role == OrderRole::Group || (strategy && order.intent.strategy != *strategy) ||
        order.intent.symbol != symbol || order.intent.side != side || order.broker != checking_broker_) {
      continue;
    }
    // The two legs of a pair exit the same shares: count the pair once.
    if (!order.sibling_id.empty() && order.role == OrderRole::StopLoss && open_.contains(order.sibling_id)) continue;
    if (order.native_leg) {
      // Held legs do not exist yet; placed ones exit the same shares: count the stop-loss, else the target.
      if (order.status == OrderStatus::PendingNew) continue;
      if (order.role != OrderRole::StopLoss && open_.contains(order.parent_id + ".sl")) continue;
      if (order.role == OrderRole::TimeExit && open_.contains(order.parent_id + ".tp")) continue;
    }
    pending += std::max(0.0, order.intent.quantity - std::max(order.filled_quantity, order.booked_quantity));
  }
  return pending;
}

double BrokerService::shortCallContracts(std::string_view underlying) const {
  // Calls that expired before today cover nothing any more, even while the
  // broker still lists them.
  const int32_t today = toExchangeTime(host_.nowNs()).yyyymmdd;
  double contracts = 0;
  for (const auto& p : book(checking_broker_).accountPositions()) {
    if (p.quantity >= 0) continue;
    auto occ = parseOcc(p.symbol);
    if (occ && occ->call && occ->underlying == underlying && occ->expiry >= today) contracts += -p.quantity;
  }
  return contracts;
}

std::optional<double> BrokerService::buyingPower() const {
  auto it = accounts_.find(checking_broker_);
  if (it == accounts_.end()) return std::nullopt;
  return it->second.buying_power;
}

bool BrokerService::regularHours(int64_t ts_ns) const { return host_.regularHours(ts_ns); }

}  // namespace th
