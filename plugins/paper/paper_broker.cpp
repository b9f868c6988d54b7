#include "paper_broker.h"

#include <cmath>
#include <cstdio>

namespace th::paper {
namespace {

th_order_state toAbi(const Order& o) {
  th_order_state s{};
  s.struct_size = sizeof s;
  s.client_order_id = o.client_order_id.data();
  s.client_order_id_len = static_cast<uint32_t>(o.client_order_id.size());
  s.broker_order_id = o.broker_order_id.data();
  s.broker_order_id_len = static_cast<uint32_t>(o.broker_order_id.size());
  s.symbol = o.symbol.data();
  s.symbol_len = static_cast<uint32_t>(o.symbol.size());
  s.asset_class = o.asset_class;
  s.side = o.side;
  s.type = o.type;
  s.time_in_force = o.time_in_force;
  s.status = o.status;
  s.quantity = o.quantity;
  s.filled_quantity = o.filled_quantity;
  s.average_fill_price = o.average_fill_price;
  s.limit_price = o.limit_price;
  s.stop_price = o.stop_price;
  s.ts_ns = o.updated_ns;
  s.reason = o.reason.data();
  s.reason_len = static_cast<uint32_t>(o.reason.size());
  return s;
}

th_fill toAbi(const Fill& f) {
  th_fill s{};
  s.struct_size = sizeof s;
  s.fill_id = f.fill_id.data();
  s.fill_id_len = static_cast<uint32_t>(f.fill_id.size());
  s.client_order_id = f.client_order_id.data();
  s.client_order_id_len = static_cast<uint32_t>(f.client_order_id.size());
  s.broker_order_id = f.broker_order_id.data();
  s.broker_order_id_len = static_cast<uint32_t>(f.broker_order_id.size());
  s.symbol = f.symbol.data();
  s.symbol_len = static_cast<uint32_t>(f.symbol.size());
  s.asset_class = f.asset_class;
  s.side = f.side;
  s.quantity = f.quantity;
  s.price = f.price;
  s.commission = f.commission;
  s.multiplier = f.multiplier;
  s.ts_ns = f.ts_ns;
  s.activity = f.activity;
  s.contract = f.contract.data();
  s.contract_len = static_cast<uint32_t>(f.contract.size());
  return s;
}

std::string money(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

int64_t addSaturating(int64_t time, int64_t delay) { return time > kNever - delay ? kNever : time + delay; }

bool isWhole(double x) { return std::floor(x) == x; }

bool usesLimit(int32_t type) { return type == TH_ORDER_LIMIT || type == TH_ORDER_STOP_LIMIT; }
bool usesStop(int32_t type) { return type == TH_ORDER_STOP || type == TH_ORDER_STOP_LIMIT; }

// Non-finite numbers cannot be stored in JSON; a rejected order keeps 0 instead.
double storable(double x) { return std::isfinite(x) ? x : 0.0; }

}  // namespace

PaperBroker::PaperBroker(Host host, std::string_view config_json)
    : Broker(host),
      config_(parsePaperConfig(config_json)),
      calendar_(this->host()),
      model_(config_.slippage()),
      file_(config_.state_file) {
  if (auto loaded = file_.load()) {
    if (loaded->account_id != config_.account_id) {
      throw Error(TH_ERR_INVALID_ARGUMENT, "paper: state file '" + file_.path() + "' holds account '" +
                                               loaded->account_id + "' but config account_id is '" +
                                               config_.account_id + "'");
    }
    state_ = std::move(*loaded);
  } else {
    // The account exists from its first save: starting cash and epoch are
    // fixed there, whatever later configs say.
    state_.account_id = config_.account_id;
    state_.account_epoch = StateFile::newEpoch();
    state_.account.cash = config_.starting_cash;
    file_.save(state_);
  }
  for (size_t i = 0; i < state_.orders.size(); ++i) indexOrder(i);
  for (auto& [symbol, feed] : state_.symbols) feeds_.try_emplace(symbol, FeedSlot{&feed, OpenOrders::key(symbol)});
  if (!file_.persistent()) {
    host.log(TH_LOG_WARN, "paper: no state_file configured; account '" + state_.account_id +
                              "' lives in memory only and is lost when the plugin stops");
  }
  host.log(TH_LOG_INFO, "paper: account '" + state_.account_id + "' from '" +
                            (file_.persistent() ? file_.path() : std::string("memory")) + "': cash " +
                            money(state_.account.cash) + ", " + std::to_string(open_.size()) + " open orders, " +
                            std::to_string(state_.fills.size()) + " fills");
}

PaperBroker::~PaperBroker() {
  std::lock_guard lock(mutex_);
  if (connected_) host().connection(TH_CONN_DISCONNECTED, "paper broker instance destroyed");
}

void PaperBroker::connect() {
  std::lock_guard lock(mutex_);
  if (connected_) return;
  connected_ = true;
  host().connection(TH_CONN_CONNECTED, "paper account '" + state_.account_id + "' ready");
}

void PaperBroker::disconnect() {
  std::lock_guard lock(mutex_);
  if (!connected_) return;
  connected_ = false;
  host().connection(TH_CONN_DISCONNECTED, "disconnect requested");
}

void PaperBroker::requireConnected(const char* operation) const {
  if (!connected_) {
    throw Error(TH_ERR_NOT_CONNECTED, std::string("paper: ") + operation + ": not connected (call connect first)");
  }
}

void PaperBroker::indexOrder(size_t index) {
  const Order& order = state_.orders[index];
  by_client_id_[order.client_order_id] = index;
  if (order.isOpen()) open_.insert(index, order.symbol);
  next_expiry_ns_ = INT64_MIN;
  if (order.leg != kNoLeg) legs_[order.parent].push_back(index);
}

size_t PaperBroker::openOrderIndex(std::string_view client_order_id, const char* operation) const {
  auto it = by_client_id_.find(client_order_id);
  if (it == by_client_id_.end()) {
    throw Error(TH_ERR_NOT_FOUND,
                std::string("paper: ") + operation + ": no order '" + std::string(client_order_id) + "'");
  }
  const Order& order = state_.orders[it->second];
  if (!order.isOpen()) {
    throw Error(TH_ERR_NOT_FOUND, std::string("paper: ") + operation + ": order '" + order.client_order_id +
                                      "' is already " + statusName(order.status));
  }
  return it->second;
}

double PaperBroker::commission(int32_t asset_class, double quantity) const {
  return quantity * (asset_class == TH_ASSET_OPTION ? config_.commission_per_contract : config_.commission_per_share);
}

// What buying `quantity` of the order is expected to cost, commission
// included; the commission alone while its price is unknown.
double PaperBroker::estimatedCost(const Order& order, double quantity) const {
  const double price = reservePrice(order).value_or(0);
  return quantity * price * multiplierFor(order.asset_class) + commission(order.asset_class, quantity);
}

// Cash an open buy holds back for its unfilled part.
double PaperBroker::reservation(const Order& order) const {
  // A bracket's buy legs close a short whose proceeds are already in the
  // cash, and only one of them fills: they promise nothing more.
  if (order.side != TH_SIDE_BUY || !order.isOpen() || order.leg != kNoLeg) return 0;
  return estimatedCost(order, order.remaining());
}

// No margin: only cash not already promised to open buys can buy.
double PaperBroker::buyingPower() const {
  double reserved = 0;
  for (size_t index : open_) reserved += reservation(state_.orders[index]);
  return state_.account.cash - reserved;
}

// The price per unit a buy is expected to cost: its limit, its stop plus
// slippage, or for a market order the symbol's current ask (else its mark)
// plus slippage, so that the reservation follows the market until the order
// fills. Nothing while a market order's symbol has no price at all (such a
// buy is refused, see buyingPowerReason).
std::optional<double> PaperBroker::reservePrice(const Order& order) const {
  if (usesLimit(order.type)) return order.limit_price;
  if (order.type == TH_ORDER_STOP) return order.stop_price + config_.slippage();
  auto feed = state_.symbols.find(order.symbol);
  if (feed == state_.symbols.end()) return std::nullopt;
  double price = feed->second.ask > 0 ? feed->second.ask : feed->second.mark;
  if (!(price > 0)) return std::nullopt;
  return price + config_.slippage();
}

std::string PaperBroker::buyingPowerReason(const Order& order, double quantity, const Order* excluding) const {
  if (order.side != TH_SIDE_BUY) return {};
  // A market buy for a symbol with no price yet cannot be checked against
  // buying power, so it is refused rather than let through unchecked.
  const std::optional<double> price = reservePrice(order);
  if (!price) {
    return "no price for " + order.symbol + " yet, so a market buy cannot be checked against buying power (" +
           "wait for a quote or send a limit order)";
  }
  const double cost = estimatedCost(order, quantity);
  const double available = buyingPower() + (excluding ? reservation(*excluding) : 0.0);
  if (cost <= available + 1e-9) return {};
  return "insufficient buying power: buying " + number(quantity) + " " + order.symbol + " needs " + money(cost) +
         " (at " + number(*price) + "), buying power is " + money(available);
}

// With allow_short off, a sell may not take the position below zero, counting
// the sells already working so that two orders cannot do it together.
std::string PaperBroker::shortSaleReason(const Order& order, double quantity, const Order* excluding) const {
  if (order.side != TH_SIDE_SELL || config_.allow_short) return {};
  double offered = 0;
  for (size_t index : open_) {
    const Order& other = state_.orders[index];
    if (&other != excluding && other.side == TH_SIDE_SELL && other.symbol == order.symbol) offered += other.remaining();
  }
  const double held = state_.account.positionQuantity(order.symbol);
  if (held - offered - quantity >= -1e-9) return {};
  return "short selling is disabled (allow_short=false): selling " + number(quantity) + " " + order.symbol + " with " +
         number(held) + " held and " + number(offered) + " already offered would open a short position";
}

std::string PaperBroker::rejectReason(const th_order_request& request, const Order& order) const {
  if (order.symbol.empty()) return "symbol is required";
  if (order.asset_class != TH_ASSET_EQUITY && order.asset_class != TH_ASSET_OPTION) {
    return "unknown asset_class " + std::to_string(order.asset_class);
  }
  if (order.side != TH_SIDE_BUY && order.side != TH_SIDE_SELL) return "unknown side " + std::to_string(order.side);
  if (order.type < TH_ORDER_MARKET || order.type > TH_ORDER_STOP_LIMIT) {
    return "unknown order type " + std::to_string(order.type);
  }
  if (order.time_in_force < TH_TIF_DAY || order.time_in_force > TH_TIF_FOK) {
    return "unknown time_in_force " + std::to_string(order.time_in_force);
  }
  if (request.order_class == TH_CLASS_OCO) return "the paper broker takes no OCO orders; the host emulates them";
  if (request.order_class == TH_CLASS_BRACKET || request.order_class == TH_CLASS_OTO) {
    if (std::string reason = exitsRejectReason(request, order); !reason.empty()) return reason;
  } else if (request.order_class != TH_CLASS_SIMPLE) {
    return "unknown order_class " + std::to_string(request.order_class);
  }
  if (!std::isfinite(request.quantity) || request.quantity <= 0) {
    return "quantity must be greater than 0, got " + number(request.quantity);
  }
  if (order.asset_class == TH_ASSET_OPTION && !isWhole(order.quantity)) {
    return "option quantity must be whole contracts, got " + number(order.quantity);
  }
  if (usesLimit(order.type) && !(std::isfinite(request.limit_price) && request.limit_price > 0)) {
    return "limit_price must be greater than 0 for a " +
           std::string(order.type == TH_ORDER_LIMIT ? "LIMIT" : "STOP_LIMIT") + " order, got " +
           number(request.limit_price);
  }
  if (usesStop(order.type) && !(std::isfinite(request.stop_price) && request.stop_price > 0)) {
    return "stop_price must be greater than 0 for a " +
           std::string(order.type == TH_ORDER_STOP ? "STOP" : "STOP_LIMIT") + " order, got " +
           number(request.stop_price);
  }
  if (usesStop(order.type) && (order.time_in_force == TH_TIF_IOC || order.time_in_force == TH_TIF_FOK)) {
    return "IOC and FOK apply to MARKET and LIMIT orders only";
  }
  if (config_.reject_symbols.contains(order.symbol)) {
    return "orders for " + order.symbol + " are refused by this paper account (reject_symbols)";
  }
  if (std::string reason = shortSaleReason(order, order.quantity, nullptr); !reason.empty()) return reason;
  return buyingPowerReason(order, order.quantity, nullptr);
}

void PaperBroker::submit(const th_order_request& request) {
  std::lock_guard lock(mutex_);
  requireConnected("submit");
  std::string client_order_id(view(request.client_order_id, request.client_order_id_len));
  if (client_order_id.empty()) throw Error(TH_ERR_INVALID_ARGUMENT, "paper: submit: client_order_id is required");
  if (auto seen = by_client_id_.find(client_order_id); seen != by_client_id_.end()) {
    throw Error(TH_ERR_DUPLICATE, "paper: client_order_id '" + client_order_id + "' was used before (that order is " +
                                      statusName(state_.orders[seen->second].status) + ")");
  }

  const int64_t now = host().nowNs();
  Order order;
  order.client_order_id = client_order_id;
  order.symbol = std::string(view(request.symbol, request.symbol_len));
  order.asset_class = request.asset_class;
  order.side = request.side;
  order.type = request.type;
  order.time_in_force = request.time_in_force;
  order.quantity = storable(request.quantity);
  // Prices that do not belong to the order type are ignored, not kept.
  order.limit_price = usesLimit(request.type) ? storable(request.limit_price) : 0;
  order.stop_price = usesStop(request.type) ? storable(request.stop_price) : 0;
  order.submitted_ns = now;
  order.updated_ns = now;
  if (request.order_class == TH_CLASS_BRACKET || request.order_class == TH_CLASS_OTO) order.exits = exitsOf(request);

  if (std::string reason = rejectReason(request, order); !reason.empty()) {
    order.status = TH_STATUS_REJECTED;
    order.reason = reason;
    state_.orders.push_back(order);
    indexOrder(state_.orders.size() - 1);
    // The rejection is reported even if it cannot be saved: the client id is
    // still known to this instance, and the host journals the rejection.
    try {
      file_.save(state_);
    } catch (const std::exception& e) {
      host().log(TH_LOG_ERROR, e.what());
    }
    publish({order});
    throw Error(TH_ERR_REJECTED, reason);
  }

  order.status = TH_STATUS_ACCEPTED;
  order.broker_order_id = "P-" + std::to_string(state_.next_order_number++);
  order.workable_ns = addSaturating(now, config_.latency_ns);
  order.expires_ns = order.time_in_force == TH_TIF_DAY ? calendar_.dayOrderExpiry(now) : kNever;
  state_.orders.push_back(order);
  indexOrder(state_.orders.size() - 1);
  try {
    saveOrRestore(state_.orders.size() - 1, std::nullopt);
  } catch (...) {
    --state_.next_order_number;
    throw;
  }
  publish({order});
}

void PaperBroker::cancel(std::string_view client_order_id) {
  std::lock_guard lock(mutex_);
  requireConnected("cancel");
  const size_t index = openOrderIndex(client_order_id, "cancel");
  const Order before = state_.orders[index];
  std::vector<Report> reports;
  closeOrder(index, TH_STATUS_CANCELED, "canceled on request", host().nowNs(), reports);
  saveOrRestore(index, before);
  publish(reports);
}

// Only quantity, limit_price and stop_price are read from `changes`; 0 keeps
// a field as it is. The order keeps its client id, broker id, fills and DAY
// expiry; it becomes workable again after the latency, as a venue treats a
// replacement as a new order. Reported as REPLACED with the new terms, then
// the state it continues in (ACCEPTED or PARTIALLY_FILLED) with the same terms.
void PaperBroker::replace(std::string_view client_order_id, const th_order_request& changes) {
  std::lock_guard lock(mutex_);
  requireConnected("replace");
  const size_t index = openOrderIndex(client_order_id, "replace");
  const Order before = state_.orders[index];
  Order updated = before;
  auto invalid = [&](const std::string& what) {
    return Error(TH_ERR_INVALID_ARGUMENT, "paper: replace '" + before.client_order_id + "': " + what);
  };

  std::string described;
  if (changes.quantity != 0 && (before.leg != kNoLeg || before.exits.any())) {
    throw invalid("the quantity of a bracket's entry or leg cannot change (cancel it and place a new one)");
  }
  if (changes.quantity != 0) {
    if (!std::isfinite(changes.quantity) || changes.quantity <= before.filled_quantity) {
      throw invalid("quantity must exceed the " + number(before.filled_quantity) + " already filled, got " +
                    number(changes.quantity));
    }
    if (before.asset_class == TH_ASSET_OPTION && !isWhole(changes.quantity)) {
      throw invalid("option quantity must be whole contracts, got " + number(changes.quantity));
    }
    updated.quantity = changes.quantity;
    described += " quantity " + number(before.quantity) + " -> " + number(updated.quantity);
  }
  if (changes.limit_price != 0) {
    if (!usesLimit(before.type)) throw invalid("only LIMIT and STOP_LIMIT orders have a limit_price");
    if (!std::isfinite(changes.limit_price) || changes.limit_price < 0) {
      throw invalid("limit_price must be greater than 0, got " + number(changes.limit_price));
    }
    updated.limit_price = changes.limit_price;
    described += " limit " + number(before.limit_price) + " -> " + number(updated.limit_price);
  }
  if (changes.stop_price != 0) {
    if (!usesStop(before.type)) throw invalid("only STOP and STOP_LIMIT orders have a stop_price");
    if (!std::isfinite(changes.stop_price) || changes.stop_price < 0) {
      throw invalid("stop_price must be greater than 0, got " + number(changes.stop_price));
    }
    if (before.triggered) throw invalid("the stop has already triggered");
    updated.stop_price = changes.stop_price;
    described += " stop " + number(before.stop_price) + " -> " + number(updated.stop_price);
  }
  if (updated.quantity == before.quantity && updated.limit_price == before.limit_price &&
      updated.stop_price == before.stop_price) {
    throw invalid("nothing to change (set quantity, limit_price or stop_price)");
  }

  // The new terms face the checks a new order would; a refusal leaves the
  // order as it was, with no report.
  const Order* current = &state_.orders[index];
  std::string refusal = shortSaleReason(updated, updated.remaining(), current);
  if (refusal.empty()) refusal = buyingPowerReason(updated, updated.remaining(), current);
  if (!refusal.empty()) throw Error(TH_ERR_REJECTED, "replace refused: " + refusal);

  const int64_t now = host().nowNs();
  updated.workable_ns = addSaturating(now, config_.latency_ns);
  updated.updated_ns = now;
  updated.reason.clear();
  Order replaced = updated;
  replaced.status = TH_STATUS_REPLACED;
  replaced.reason = "replaced:" + described;
  state_.orders[index] = updated;
  next_expiry_ns_ = INT64_MIN;
  saveOrRestore(index, before);
  publish({replaced, updated});
}

void PaperBroker::saveOrRestore(size_t index, const std::optional<Order>& before) {
  try {
    file_.save(state_);
  } catch (...) {
    if (before) {
      state_.orders[index] = *before;
      if (before->isOpen()) open_.insert(index, before->symbol);
      next_expiry_ns_ = INT64_MIN;
    } else {
      by_client_id_.erase(state_.orders[index].client_order_id);
      open_.erase(index);
      state_.orders.pop_back();
    }
    throw;
  }
}

void PaperBroker::publish(const std::vector<Report>& reports) const {
  for (const Report& report : reports) {
    if (const Order* order = std::get_if<Order>(&report)) {
      host().order(toAbi(*order));
    } else {
      host().fill(toAbi(std::get<Fill>(report)));
    }
  }
}

void PaperBroker::openOrders(th_order_sink sink, void* sink_ctx) {
  if (!sink) throw Error(TH_ERR_INVALID_ARGUMENT, "paper: open_orders: sink is required");
  std::lock_guard lock(mutex_);
  for (size_t index : open_) {
    const th_order_state state = toAbi(state_.orders[index]);
    sink(sink_ctx, &state);
  }
}

void PaperBroker::positions(th_position_sink sink, void* sink_ctx) {
  if (!sink) throw Error(TH_ERR_INVALID_ARGUMENT, "paper: positions: sink is required");
  std::lock_guard lock(mutex_);
  for (const auto& [symbol, position] : state_.account.positions) {
    if (position.quantity == 0) continue;
    th_position out{};
    out.struct_size = sizeof out;
    out.symbol = position.symbol.data();
    out.symbol_len = static_cast<uint32_t>(position.symbol.size());
    out.asset_class = position.asset_class;
    out.quantity = position.quantity;
    out.average_price = position.average_price;
    out.multiplier = position.multiplier;
    sink(sink_ctx, &out);
  }
}

void PaperBroker::fills(int64_t since_ns, th_fill_sink sink, void* sink_ctx) {
  if (!sink) throw Error(TH_ERR_INVALID_ARGUMENT, "paper: fills: sink is required");
  std::lock_guard lock(mutex_);
  for (const Fill& fill : state_.fills) {
    if (fill.ts_ns < since_ns) continue;
    const th_fill out = toAbi(fill);
    sink(sink_ctx, &out);
  }
}

void PaperBroker::account(th_account& out) {
  std::lock_guard lock(mutex_);
  copyField(out.account_id, state_.account_id);
  copyField(out.currency, "USD");
  out.cash = state_.account.cash;
  out.equity = state_.account.equity(state_.symbols);
  out.buying_power = buyingPower();
  out.commissions = state_.account.commissions;
}

}  // namespace th::paper
