#include "broker/broker_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "broker/order_json.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "plugin/plugin.h"
#include "store/journal_codec.h"

namespace th {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kEpochKey = "order_id_epoch";
constexpr std::string_view kNextIdKey = "order_id_next";
constexpr std::string_view kRiskKey = "risk";

std::string bigEndian(uint64_t value) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return key;
}

uint64_t fromBigEndian(std::string_view key) {
  uint64_t value = 0;
  for (char c : key.substr(0, 8)) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string base36(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value % 36]);
    value /= 36;
  } while (value);
  return out;
}

const char* purposeName(OrderPurpose purpose) {
  switch (purpose) {
    case OrderPurpose::Protective:
      return "protective";
    case OrderPurpose::Flatten:
      return "flatten";
    case OrderPurpose::Correction:
      return "correction";
    default:
      return "normal";
  }
}

std::string fillJson(const std::string& broker, const FillInput& f) {
  // Field by field in key order (every fill is stored): jsonText's text. A
  // trade has no activity.
  JsonObjectWriter out;
  if (f.activity != TH_FILL_TRADE) out.integer("activity", f.activity);
  return out
      .integer("asset_class", f.asset_class)
      .text("broker", broker)
      .number("commission", f.commission)
      .text("fill_id", f.fill_id)
      .number("multiplier", f.multiplier)
      .number("price", f.price)
      .number("quantity", f.quantity)
      .integer("side", f.side)
      .text("strategy", f.strategy)
      .text("symbol", f.symbol)
      .integer("ts_ns", f.ts_ns)
      .finish();
}

class PluginBrokerPort final : public BrokerPort {
 public:
  explicit PluginBrokerPort(PluginInstance& instance) : instance_(instance) {}
  const std::string& id() const override { return instance_.id(); }
  uint32_t capabilities() const override { return instance_.capabilities(); }
  bool connected() const override { return instance_.state() == PluginState::Connected; }
  Result<void> submit(const th_order_request& request, th_status* status) override {
    return instance_.submit(request, status);
  }
  Result<void> cancel(std::string_view client_order_id, th_status* status) override {
    return instance_.cancel(client_order_id, status);
  }
  Result<void> openOrders(const std::function<void(const th_order_state&)>& sink) override {
    return instance_.openOrders(sink);
  }
  Result<void> positions(const std::function<void(const th_position&)>& sink) override {
    return instance_.positions(sink);
  }
  Result<void> fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink) override {
    return instance_.fills(since_ns, sink);
  }
  Result<th_account> account() override { return instance_.account(); }

 private:
  PluginInstance& instance_;
};

}  // namespace

std::unique_ptr<BrokerPort> makePluginBrokerPort(PluginInstance& instance) {
  return std::make_unique<PluginBrokerPort>(instance);
}

BrokerService::BrokerService(RiskConfig risk, Store& store, BrokerServiceHost& host)
    : store_(store), host_(host), risk_(std::move(risk)) {}

BrokerService::~BrokerService() = default;

void BrokerService::addBroker(std::unique_ptr<BrokerPort> port) {
  if (default_broker_.empty()) default_broker_ = port->id();
  books_.try_emplace(port->id());
  ports_.push_back(std::move(port));
}

BrokerPort* BrokerService::broker(std::string_view id) const {
  for (const auto& port : ports_) {
    if (port->id() == id) return port.get();
  }
  return nullptr;
}

PositionBook& BrokerService::bookFor(const std::string& broker) { return books_[broker]; }

const PositionBook& BrokerService::book(std::string_view broker) const {
  static const PositionBook kEmpty;
  auto it = books_.find(broker.empty() ? std::string_view(default_broker_) : broker);
  return it == books_.end() ? kEmpty : it->second;
}

// ---------------------------------------------------------------- start-up --

std::string BrokerServiceHost::newOrderIdEpoch() const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return "th" + base36(static_cast<uint64_t>(seconds.count()));
}

Result<void> BrokerService::load() {
  auto epoch = store_.get(Family::Meta, kEpochKey);
  if (!epoch) return std::unexpected(epoch.error());
  if (*epoch) {
    id_epoch_ = **epoch;
  } else {
    // Fixed when the store is created.
    id_epoch_ = host_.newOrderIdEpoch();
    host_.batch().put(Family::Meta, kEpochKey, id_epoch_);
  }
  auto next = store_.get(Family::Meta, kNextIdKey);
  if (!next) return std::unexpected(next.error());
  if (*next) next_order_number_ = std::stoull(**next);

  std::optional<Error> failure;
  auto orders = store_.scan(Family::Orders, "", [&](std::string_view key, std::string_view value) {
    auto order = decodeOrder(value);
    if (!order) {
      failure = Error{ErrorCode::Corruption, fmt::format("store: orders: {}: {}", key, order.error().message)};
      return false;
    }
    orders_.insert_or_assign(order->client_order_id, std::move(*order));
    return true;
  });
  if (!orders) return std::unexpected(orders.error());
  if (failure) return std::unexpected(*failure);
  std::vector<const Order*> by_creation;
  for (auto& [id, order] : orders_) {
    if (isOpen(order.status)) open_.emplace(id, &order);
    if (!order.parent_id.empty()) by_creation.push_back(&order);
    // Checked at the first tick: one already carried out finds nothing left to close.
    if (order.role == OrderRole::Entry && order.intent.exit_at_ns > 0) timed_entries_.insert(id);
  }
  std::sort(by_creation.begin(), by_creation.end(), [](const Order* a, const Order* b) {
    return a->created_ns != b->created_ns ? a->created_ns < b->created_ns : a->client_order_id < b->client_order_id;
  });
  for (const Order* child : by_creation) children_[child->parent_id].push_back(child->client_order_id);

  // Positions: the stored fills booked again, in booking order.
  auto fills = store_.scan(Family::Fills, "", [&](std::string_view key, std::string_view value) {
    try {
      Json j = Json::parse(value);
      FillInput f;
      f.fill_id = j.at("fill_id").get<std::string>();
      f.strategy = j.at("strategy").get<std::string>();
      f.symbol = j.at("symbol").get<std::string>();
      f.asset_class = j.at("asset_class").get<int32_t>();
      f.side = j.at("side").get<int32_t>();
      f.quantity = j.at("quantity").get<double>();
      f.price = j.at("price").get<double>();
      f.commission = j.at("commission").get<double>();
      f.multiplier = j.at("multiplier").get<double>();
      f.ts_ns = j.at("ts_ns").get<int64_t>();
      f.activity = j.value("activity", 0);
      auto broker = j.at("broker").get<std::string>();
      if (auto booked = bookFor(broker).apply(f); !booked) {
        failure = Error{ErrorCode::Corruption, fmt::format("store: fills: {}: {}", f.fill_id, booked.error().message)};
        return false;
      }
      if (f.price > 0 && f.activity == TH_FILL_TRADE) prices_[f.symbol].price = f.price;
    } catch (const std::exception& e) {
      failure = Error{ErrorCode::Corruption, fmt::format("store: fills: record {}: {}", fromBigEndian(key), e.what())};
      return false;
    }
    next_fill_key_ = fromBigEndian(key) + 1;
    return true;
  });
  if (!fills) return std::unexpected(fills.error());
  if (failure) return std::unexpected(*failure);

  auto risk = store_.get(Family::RiskState, kRiskKey);
  if (!risk) return std::unexpected(risk.error());
  if (*risk) {
    if (auto restored = risk_.restore(**risk, host_.nowNs()); !restored) {
      return fail(ErrorCode::Corruption, fmt::format("store: risk_state: {}", restored.error().message));
    }
  }
  spdlog::info("broker service: {} order(s) ({} open), {} fill(s) restored; trading {}{}{}", orders_.size(),
               open_.size(), next_fill_key_ - 1, toString(risk_.state()), risk_.stateReason().empty() ? "" : ": ",
               risk_.stateReason());
  return {};
}

// ------------------------------------------------------------------ orders --

std::string BrokerService::nextClientOrderId() {
  auto id = makeClientOrderId(id_epoch_, exchangeDate(host_.nowNs()), next_order_number_++);
  host_.batch().put(Family::Meta, kNextIdKey, std::to_string(next_order_number_));
  return id;
}

void BrokerService::putRisk() {
  auto encoded = risk_.encode();
  if (encoded == stored_risk_) return;
  host_.batch().put(Family::RiskState, kRiskKey, encoded);
  stored_risk_ = std::move(encoded);
}

void BrokerService::journalDecision(const Order& order, OrderPurpose purpose, const RiskDecision& decision) {
  // Field by field in key order (one per order): jsonText's text.
  const auto text = JsonObjectWriter()
                        .boolean("accepted", decision.accepted)
                        .text("client_order_id", order.client_order_id)
                        .text("detail", decision.detail)
                        .text("purpose", purposeName(purpose))
                        .number("quantity", order.intent.quantity)
                        .text("reason_code", reasonCode(decision.reason))
                        .text("side", toString(order.intent.side))
                        .text("strategy", order.intent.strategy)
                        .text("symbol", order.intent.symbol)
                        .finish();
  host_.batch().journal(static_cast<uint16_t>(JournalKind::RiskDecision), host_.nowNs(), text);
}

void BrokerService::applyStateChange(const std::optional<StateChange>& change) {
  if (!change) return;
  Json j = {{"from", toString(change->from)}, {"to", toString(change->to)}, {"reason", change->reason}};
  if (!change->strategy.empty()) j["strategy"] = change->strategy;
  host_.batch().journal(static_cast<uint16_t>(JournalKind::RiskState), change->ts_ns, jsonText(j));
  persistRisk();
  host_.batch().requireSync();
  spdlog::warn("{}trading {} -> {}: {}",
               change->strategy.empty() ? std::string() : fmt::format("strategy {}: ", change->strategy),
               toString(change->from), toString(change->to), change->reason);
  j["type"] = "risk";
  host_.notify(jsonText(j));
}

bool BrokerService::emulates(const BrokerPort& port, const OrderIntent& intent) const {
  const uint32_t caps = port.capabilities();
  switch (intent.order_class) {
    case OrderClass::Bracket:
    case OrderClass::Oto:
      if (caps & TH_BROKER_NATIVE_EXITS) return false;
      // Offsets and time exits need a broker that knows the 1.1 fields.
      if (intent.hasExitFields()) return true;
      return !(caps & (intent.order_class == OrderClass::Bracket ? TH_BROKER_NATIVE_BRACKET : TH_BROKER_NATIVE_OCO));
    case OrderClass::Oco:
      return !(caps & TH_BROKER_NATIVE_OCO);
    default:
      return false;
  }
}

Result<Order> BrokerService::submit(OrderIntent intent, std::string broker_id, OrderPurpose purpose) {
  return submitAs(std::move(intent), std::move(broker_id), purpose, {});
}

Result<Order> BrokerService::submitAs(OrderIntent intent, std::string broker_id, OrderPurpose purpose,
                                      std::string parent_id) {
  // The padded OCC form names the same contract: it is kept compact, the form
  // chains, quotes and the broker's settlement of it use.
  if (intent.symbol.find(' ') != std::string::npos && isOccSymbol(intent.symbol)) intent.symbol = compactOcc(intent.symbol);
  if (auto valid = validateIntent(intent); !valid) return std::unexpected(valid.error());
  if (broker_id.empty()) broker_id = default_broker_;
  BrokerPort* port = broker(broker_id);
  if (!port) {
    return fail(ErrorCode::NotFound, broker_id.empty() ? std::string("no broker plugin is configured")
                                                       : fmt::format("broker: no broker plugin '{}'", broker_id));
  }
  if (intent.asset_class == AssetClass::Option && !(port->capabilities() & TH_BROKER_OPTIONS)) {
    return fail(ErrorCode::InvalidArgument, fmt::format("asset_class: broker '{}' does not trade options", port->id()));
  }
  const int64_t now = host_.nowNs();
  Order order;
  order.client_order_id = nextClientOrderId();
  order.broker = port->id();
  order.parent_id = std::move(parent_id);
  order.intent = std::move(intent);
  order.created_ns = order.updated_ns = now;
  switch (purpose) {
    case OrderPurpose::Flatten:
      order.role = OrderRole::Flatten;
      break;
    case OrderPurpose::Correction:
      order.role = OrderRole::Correction;
      break;
    default:
      if (emulates(*port, order.intent)) {
        order.role = order.intent.order_class == OrderClass::Oco ? OrderRole::Group : OrderRole::Entry;
      }
  }
  checking_broker_ = port->id();
  RiskDecision decision = risk_.check(order.intent, purpose, *this, now);
  journalDecision(order, purpose, decision);
  if (!decision.accepted) {
    order.status = OrderStatus::Rejected;
    order.reason_code = std::string(reasonCode(decision.reason));
    order.reason = decision.detail;
    ++stats_.risk_rejected;
    spdlog::info("order {} {} {} {} refused by risk: {}: {}", order.client_order_id, toString(order.intent.side),
                 order.intent.quantity, order.intent.symbol, order.reason_code, order.reason);
    const Order& stored = store(std::move(order));
    notifyOrder(stored);
    return stored;
  }
  risk_.recordAccepted(order.intent, now);
  order.status = OrderStatus::PendingNew;
  const std::string id = order.client_order_id;
  {
    std::string encoded;
    store(std::move(order), &encoded);
    host_.batch().journal(static_cast<uint16_t>(JournalKind::OrderRequest), now,
                          fmt::format(R"({{"order":{}}})", encoded));
  }
  if (placesExits(*port, orders_.at(id))) recordNativeLegs(orders_.at(id));
  if (orders_.at(id).role == OrderRole::Entry && orders_.at(id).intent.exit_at_ns > 0) timed_entries_.insert(id);
  Order& stored = orders_.at(id);
  if (stored.role == OrderRole::Group) {
    // An emulated OCO: the pair goes out now; the group itself never does.
    ensureLegs(stored);
    return orders_.at(id);
  }
  // The order is on disk before the broker hears of it.
  if (!host_.commitNow(true)) {
    stored.status = OrderStatus::Rejected;
    stored.reason = "not sent: the store could not save the order";
    persist(stored);
    updateOpenIndex(stored);
    notifyOrder(stored);
    closeUnplacedLegs(stored, "the entry was not sent");
    return orders_.at(id);
  }
  send(stored);
  return orders_.at(id);
}

th_order_request BrokerService::request(const Order& order, bool native) const {
  const auto& in = order.intent;
  th_order_request r{};
  r.struct_size = sizeof(th_order_request);
  r.client_order_id = order.client_order_id.data();
  r.client_order_id_len = static_cast<uint32_t>(order.client_order_id.size());
  r.symbol = in.symbol.data();
  r.symbol_len = static_cast<uint32_t>(in.symbol.size());
  r.asset_class = static_cast<int32_t>(in.asset_class);
  r.side = static_cast<int32_t>(in.side);
  r.type = static_cast<int32_t>(in.type);
  r.time_in_force = static_cast<int32_t>(in.time_in_force);
  r.order_class = native ? static_cast<int32_t>(in.order_class) : TH_CLASS_SIMPLE;
  r.quantity = in.quantity;
  r.limit_price = in.limit_price;
  r.stop_price = in.stop_price;
  if (native) {
    r.take_profit_price = in.take_profit_price;
    r.stop_loss_price = in.stop_loss_price;
    r.stop_loss_limit_price = in.stop_loss_limit_price;
    r.take_profit_offset = in.take_profit_offset;
    r.stop_loss_offset = in.stop_loss_offset;
    r.take_profit_risk_multiple = in.take_profit_risk_multiple;
    r.exit_at_ns = in.exit_at_ns;
  }
  return r;
}

void BrokerService::send(Order& order) {
  BrokerPort* port = broker(order.broker);
  th_status status = TH_OK;
  Result<void> sent = port ? port->submit(request(order, !emulates(*port, order.intent) &&
                                                             order.role == OrderRole::Single),
                                          &status)
                           : fail(ErrorCode::NotFound, fmt::format("broker '{}' is gone", order.broker));
  if (sent) {
    ++stats_.submitted;
    return;
  }
  if (status == TH_ERR_DUPLICATE) {
    // The broker has an order with this id: it is not ours to reject.
    // Reconciliation settles it; nothing is sent twice.
    spdlog::error("broker '{}' already knows client order id {}: {}", order.broker, order.client_order_id,
                  sent.error().message);
    journalAction("send_duplicate", order, sent.error().message);
    return;
  }
  ++stats_.broker_rejected;
  if (order.role == OrderRole::TakeProfit || order.role == OrderRole::StopLoss) {
    spdlog::error("{} leg {} of {} refused by '{}': {} {} of {} is not protected by it: {}", toString(order.role),
                  order.client_order_id, order.parent_id, order.broker, order.intent.quantity, order.intent.symbol,
                  order.intent.strategy.empty() ? "manual" : order.intent.strategy, sent.error().message);
  } else {
    spdlog::warn("order {} not taken by '{}': {}", order.client_order_id, order.broker, sent.error().message);
  }
  auto verdict = checkTransition(order, OrderStatus::Rejected, order.filled_quantity);
  if (verdict.check != TransitionCheck::Apply) return;  // its report already arrived
  order.status = OrderStatus::Rejected;
  order.reason = sent.error().message;
  order.updated_ns = host_.nowNs();
  persist(order);
  updateOpenIndex(order);
  journalAction("send_failed", order, sent.error().message);
  notifyOrder(order);
  closeUnplacedLegs(order, "the entry was rejected");
  if (!order.parent_id.empty()) updateGroup(order.parent_id);
}

Result<Order> BrokerService::cancel(const std::string& client_order_id, const std::string& why) {
  auto it = orders_.find(client_order_id);
  if (it == orders_.end()) return fail(ErrorCode::NotFound, fmt::format("no order '{}'", client_order_id));
  Order& order = it->second;
  if (!isOpen(order.status)) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("order {} is already {}", client_order_id, toString(order.status)));
  }
  if (order.role == OrderRole::Group) {
    std::vector<std::string> errors;
    for (Order* leg : children(client_order_id)) {
      if (!isOpen(leg->status)) continue;
      if (auto ok = cancel(leg->client_order_id, why); !ok) errors.push_back(ok.error().message);
    }
    if (!errors.empty()) return fail(ErrorCode::Unavailable, fmt::format("{}", fmt::join(errors, "; ")));
    return orders_.at(client_order_id);
  }
  BrokerPort* port = broker(order.broker);
  if (!port) return fail(ErrorCode::Unavailable, fmt::format("broker '{}' is not loaded", order.broker));
  journalAction("cancel_requested", order, why);
  th_status status = TH_OK;
  if (auto ok = port->cancel(client_order_id, &status); !ok) {
    journalAction("cancel_failed", order, ok.error().message);
    return fail(status == TH_ERR_NOT_FOUND ? ErrorCode::InvalidArgument : ErrorCode::Unavailable,
                ok.error().message);
  }
  return orders_.at(client_order_id);
}

// ---------------------------------------------------------------- reports --

void BrokerService::onOrder(const std::string& broker_id, const OrderEvent& event) {
  auto status = static_cast<OrderStatus>(event.status);
  auto it = orders_.find(event.client_order_id);
  if (it == orders_.end()) {
    // Not placed through this host (or its record was lost): taken in as a
    // manual order so its fills and position are accounted for.
    Order order;
    order.client_order_id = event.client_order_id;
    order.broker_order_id = event.broker_order_id;
    order.broker = broker_id;
    order.intent.symbol = event.symbol;
    order.intent.asset_class = event.asset_class == TH_ASSET_OPTION ? AssetClass::Option : AssetClass::Equity;
    order.intent.side = event.side == TH_SIDE_SELL ? OrderSide::Sell : OrderSide::Buy;
    order.intent.type = parseOrderType(toString(static_cast<OrderType>(event.type))).value_or(OrderType::Market);
    order.intent.time_in_force =
        parseTimeInForce(toString(static_cast<TimeInForce>(event.time_in_force))).value_or(TimeInForce::Day);
    order.intent.quantity = event.quantity;
    order.intent.limit_price = event.limit_price;
    order.intent.stop_price = event.stop_price;
    order.status = parseOrderStatus(toString(status)).value_or(OrderStatus::Accepted);
    order.filled_quantity = event.filled_quantity;
    order.average_fill_price = event.average_fill_price;
    order.reason = fmt::format("adopted: broker '{}' reported an order this host did not place", broker_id);
    order.created_ns = order.updated_ns = event.ts_ns ? event.ts_ns : host_.nowNs();
    ++stats_.adopted;
    spdlog::warn("order {} at '{}' was not placed by this host; adopted as a manual order", event.client_order_id,
                 broker_id);
    const Order& stored = store(std::move(order));
    journalAction("adopted", stored, stored.reason);
    notifyOrder(stored);
    return;
  }
  Order& order = it->second;
  if (order.native_leg && !isTerminal(order.status)) {
    // The broker set the leg's size and price when it placed it (from the
    // entry's fill) and shrinks it when another leg fills.
    if (event.quantity > 0 && event.quantity + 1e-9 >= event.filled_quantity) order.intent.quantity = event.quantity;
    if (order.status == OrderStatus::PendingNew) order.reason.clear();  // "held by the broker ..." no longer holds
    if (order.intent.type == OrderType::Limit || order.intent.type == OrderType::StopLimit) {
      if (event.limit_price > 0) order.intent.limit_price = event.limit_price;
    }
    if (order.intent.type == OrderType::Stop || order.intent.type == OrderType::StopLimit) {
      if (event.stop_price > 0) order.intent.stop_price = event.stop_price;
    }
  }
  auto verdict = checkTransition(order, status, event.filled_quantity);
  if (verdict.check == TransitionCheck::Illegal) {
    ++stats_.illegal_reports;
    spdlog::warn("broker '{}': {}", broker_id, verdict.reason);
    journalAction("illegal_report", order, verdict.reason);
    return;
  }
  if (verdict.check == TransitionCheck::Repeat) {
    if (order.broker_order_id.empty() && !event.broker_order_id.empty()) {
      order.broker_order_id = event.broker_order_id;
      persist(order);
    }
    return;
  }
  order.status = status;
  order.filled_quantity = event.filled_quantity;
  if (event.average_fill_price > 0) order.average_fill_price = event.average_fill_price;
  if (!event.broker_order_id.empty()) order.broker_order_id = event.broker_order_id;
  if (!event.reason.empty() && order.reason.find("over-fill") == std::string::npos) order.reason = event.reason;
  order.updated_ns = event.ts_ns ? event.ts_ns : host_.nowNs();
  persist(order);
  updateOpenIndex(order);
  notifyOrder(order);
  if (order.native_leg && isOpen(order.status) && killed_entries_.contains(order.parent_id)) {
    if (auto ok = cancel(order.client_order_id, "kill switch: placed after its entry was canceled"); !ok) {
      spdlog::warn("kill switch: canceling leg {}: {}", order.client_order_id, ok.error().message);
    }
    return;
  }
  if (isTerminal(order.status)) {
    if (auto* port = broker(broker_id)) refreshAccount(*port);
    if (!order.parent_id.empty()) updateGroup(order.parent_id);
    closeUnplacedLegs(orders_.at(event.client_order_id),
                      fmt::format("the entry ended {} without a fill", toString(status)));
  }
}

FillInput BrokerService::fillInput(const FillEvent& event, std::string strategy) {
  FillInput fill;
  fill.fill_id = event.fill_id;
  fill.strategy = std::move(strategy);
  fill.symbol = event.symbol;
  fill.asset_class = event.asset_class;
  fill.side = event.side;
  fill.quantity = event.quantity;
  fill.price = event.price;
  fill.commission = event.commission;
  fill.multiplier = event.multiplier > 0 ? event.multiplier
                                         : contractMultiplier(event.symbol, event.asset_class == TH_ASSET_OPTION
                                                                                ? AssetClass::Option
                                                                                : AssetClass::Equity);
  fill.ts_ns = event.ts_ns;
  fill.activity = event.activity;
  return fill;
}

void BrokerService::onFill(const std::string& broker_id, const FillEvent& event) {
  auto it = event.client_order_id.empty() ? orders_.end() : orders_.find(event.client_order_id);
  Order* order = it == orders_.end() ? nullptr : &it->second;
  FillInput fill = fillInput(event, order ? order->intent.strategy : std::string(kManualStrategy));
  if (order) fill.activity = TH_FILL_TRADE;
  if (fill.activity != TH_FILL_TRADE) {
    bookSettlement(broker_id, event, fill);
  } else {
    if (!bookFill(broker_id, fill, order, event.client_order_id)) return;
    if (!order) {
      spdlog::warn("fill {} from '{}' is for order {}, unknown to this host; booked as manual", event.fill_id,
                   broker_id, event.client_order_id);
    }
  }
  if (order) {
    if (order->filled_quantity < order->booked_quantity + fill.quantity) {
      // The fill came before the order's state: the average so far is the
      // booked one (emulated legs at an offset are placed from it).
      order->average_fill_price =
          (order->average_fill_price * std::min(order->filled_quantity, order->booked_quantity) +
           fill.price * fill.quantity) /
          (std::min(order->filled_quantity, order->booked_quantity) + fill.quantity);
    }
    order->booked_quantity += fill.quantity;
    order->updated_ns = std::max(order->updated_ns, fill.ts_ns);
    persist(*order);
    if (order->role == OrderRole::Entry) {
      ensureLegs(*order);
    } else if (order->role == OrderRole::TakeProfit || order->role == OrderRole::StopLoss) {
      onLegFill(*order);
    }
  }
  checkPnl();
  if (auto* port = broker(broker_id)) refreshAccount(*port);
}

bool BrokerService::bookFill(const std::string& broker_id, const FillInput& fill, const Order* order,
                             std::string_view client_order_id) {
  PositionBook& positions = bookFor(broker_id);
  double realised_before = 0;
  if (const Position* p = positions.strategyPosition(fill.strategy, fill.symbol)) realised_before = p->realised;
  auto booked = positions.apply(fill);
  if (!booked) {
    spdlog::error("fill {} from '{}' refused: {}", fill.fill_id, broker_id, booked.error().message);
    if (order) journalAction("fill_refused", *order, booked.error().message);
    return false;
  }
  if (*booked == FillResult::Duplicate) {
    ++stats_.duplicate_fills;
    return false;
  }
  ++stats_.fills;
  host_.batch().put(Family::Fills, bigEndian(next_fill_key_++), fillJson(broker_id, fill));
  // A settlement's price (the strike, or 0) is not the market's.
  if (fill.price > 0 && fill.activity == TH_FILL_TRADE) prices_[fill.symbol].price = fill.price;
  const Position* after = positions.strategyPosition(fill.strategy, fill.symbol);
  if (after && after->realised != realised_before) {
    risk_.onClosingFill(fill.strategy, after->realised - realised_before - fill.commission, host_.nowNs());
    persistRisk();
  }
  if (host_.listening()) {
    const std::string activity =
      fill.activity != TH_FILL_TRADE ? fmt::format(R"(,"activity":"{}")", fillActivityName(fill.activity)) : "";
    host_.notify(fmt::format(
      R"({{"type":"fill","fill_id":{},"client_order_id":{},"strategy":{},"symbol":{},"side":"{}","quantity":{},"price":{}{}}})",
      jsonString(fill.fill_id), jsonString(client_order_id), jsonString(fill.strategy), jsonString(fill.symbol),
      fill.side == TH_SIDE_SELL ? "sell" : "buy", fill.quantity, fill.price, activity));
  }
  return true;
}

void BrokerService::mark(std::string_view symbol, double price) {
  if (!(price > 0) || !std::isfinite(price)) return;
  if (!all_marked_) marked_.try_emplace(symbol, true);
  auto it = prices_.find(symbol);
  if (it == prices_.end()) {
    it = prices_.try_emplace(symbol).first;
  } else if (it->second.price == price) {
    return;
  }
  LastPrice& last = it->second;
  last.price = price;
  // The same as marking each book, without looking the symbol up in each.
  if (const uint64_t shape = booksShape(); last.shape != shape) {
    last.positions.clear();
    for (auto& [id, book] : books_) book.positionsIn(symbol, last.positions);
    last.shape = shape;
  }
  for (Position* position : last.positions) position->last_price = price;
}

uint64_t BrokerService::booksShape() const {
  // Shapes only grow and are never shared, so the sum changes whenever one does.
  uint64_t sum = books_.size();
  for (const auto& [id, book] : books_) sum += book.shape();
  return sum;
}

void BrokerService::tick() {
  emulateTimeExits();
  offsetExpiredContracts();
  checkPnl();
}

void BrokerService::checkPnl() {
  // After a start positions carry their last fill price: a loss limit must
  // not fire on a price from before the restart. Wait for a fresh mark of
  // every open position.
  if (!all_marked_) {
    for (const auto& [id, positions] : books_) {
      for (const auto& p : positions.accountPositions()) {
        if (std::abs(p.quantity) > 1e-9 && !marked_.contains(p.symbol)) return;
      }
    }
    all_marked_ = true;
    marked_.clear();
  }
  double net = 0;
  for (const auto& [id, positions] : books_) net += positions.accountSummary().net;
  applyStateChange(risk_.onPnl(net, host_.nowNs()));
  // A strategy with its own loss limits is watched on its own P&L.
  for (const auto& [strategy, limits] : risk_.config().strategies) {
    if (!limits.daily_loss_limit && !limits.max_drawdown) continue;
    double strategy_net = 0;
    for (const auto& [id, positions] : books_) strategy_net += positions.strategySummary(strategy).net;
    applyStateChange(risk_.onStrategyPnl(strategy, strategy_net, host_.nowNs()));
  }
  // The day's baseline and high are kept, so a restart the same day counts
  // the loss from the same place.
  persistRisk();
}

void BrokerService::refreshAccount(BrokerPort& port) {
  if (!port.connected()) return;
  if (auto account = port.account()) accounts_[port.id()] = *account;
}

KillResult BrokerService::kill(bool flatten, const std::string& reason) {
  KillResult result;
  applyStateChange(risk_.setState(TradingState::Halted,
                                  fmt::format("operator: kill switch{}{}", reason.empty() ? "" : ": ", reason),
                                  host_.nowNs()));
  std::vector<std::string> open;
  for (const auto& [id, order] : open_) open.push_back(id);
  for (const auto& id : open) {
    const Order& order = orders_.at(id);
    if (order.role == OrderRole::Group || !isOpen(order.status)) continue;
    // Held legs go with their entry.
    if (order.native_leg && order.status == OrderStatus::PendingNew) continue;
    // An entry canceled with a part filled gets its legs placed by the broker:
    // with the kill switch they are canceled as they appear (see onOrder).
    if (order.role == OrderRole::Single &&
        (order.intent.order_class == OrderClass::Bracket || order.intent.order_class == OrderClass::Oto)) {
      killed_entries_.insert(id);
    }
    if (auto ok = cancel(id, "kill switch"); ok) {
      result.canceled.push_back(id);
    } else {
      result.errors.push_back(fmt::format("{}: {}", id, ok.error().message));
    }
  }
  if (flatten) {
    for (const auto& [broker_id, positions] : books_) {
      for (const auto& strategy : positions.strategies()) {
        for (const auto& p : positions.strategyPositions(strategy)) {
          if (std::abs(p.quantity) < 1e-9) continue;
          OrderIntent intent;
          intent.strategy = strategy;
          intent.symbol = p.symbol;
          intent.asset_class = p.asset_class == TH_ASSET_OPTION ? AssetClass::Option : AssetClass::Equity;
          intent.side = p.quantity > 0 ? OrderSide::Sell : OrderSide::Buy;
          intent.type = OrderType::Market;
          intent.quantity = std::abs(p.quantity);
          auto sent = submitAs(intent, broker_id, OrderPurpose::Flatten, {});
          if (sent && sent->status != OrderStatus::Rejected) {
            result.flatten.push_back(sent->client_order_id);
          } else {
            result.errors.push_back(fmt::format("flatten {} {}: {}", strategy.empty() ? "manual" : strategy, p.symbol,
                                                sent ? sent->reason : sent.error().message));
          }
        }
      }
    }
  }
  host_.commitNow(true);
  return result;
}

void BrokerService::halt(const std::string& reason) {
  applyStateChange(risk_.setState(TradingState::Halted, reason, host_.nowNs()));
}

Result<void> BrokerService::resume(TradingState to, const std::string& reason) {
  if (to == TradingState::Halted) return fail(ErrorCode::InvalidArgument, "state: resume to ACTIVE or REDUCING");
  applyStateChange(
      risk_.setState(to, fmt::format("operator: resume{}{}", reason.empty() ? "" : ": ", reason), host_.nowNs()));
  host_.commitNow(true);
  return {};
}

}  // namespace th
