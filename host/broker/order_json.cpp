#include "broker/order_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/time.h"

namespace th {
namespace {

using Json = nlohmann::json;

template <typename Enum>
Enum enumField(const Json& j, const char* key, std::optional<Enum> (*parse)(std::string_view)) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw std::invalid_argument(fmt::format("{}: missing or not a string", key));
  auto value = parse(it->get<std::string>());
  if (!value) throw std::invalid_argument(fmt::format("{}: unknown value '{}'", key, it->get<std::string>()));
  return *value;
}

double number(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) throw std::invalid_argument(fmt::format("{}: missing or not a number", key));
  return it->get<double>();
}

int64_t integer(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    throw std::invalid_argument(fmt::format("{}: missing or not an integer", key));
  }
  return it->get<int64_t>();
}

std::string text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw std::invalid_argument(fmt::format("{}: missing or not a string", key));
  return it->get<std::string>();
}

}  // namespace

std::string encodeOrder(const Order& order) {
  const auto& in = order.intent;
  Json j = {{"client_order_id", order.client_order_id},
            {"broker_order_id", order.broker_order_id},
            {"broker", order.broker},
            {"strategy", in.strategy},
            {"parent_id", order.parent_id},
            {"sibling_id", order.sibling_id},
            {"role", toString(order.role)},
            {"symbol", in.symbol},
            {"asset_class", toString(in.asset_class)},
            {"side", toString(in.side)},
            {"type", toString(in.type)},
            {"time_in_force", toString(in.time_in_force)},
            {"order_class", toString(in.order_class)},
            {"quantity", in.quantity},
            {"limit_price", in.limit_price},
            {"stop_price", in.stop_price},
            {"take_profit_price", in.take_profit_price},
            {"stop_loss_price", in.stop_loss_price},
            {"stop_loss_limit_price", in.stop_loss_limit_price},
            {"take_profit_offset", in.take_profit_offset},
            {"stop_loss_offset", in.stop_loss_offset},
            {"take_profit_risk_multiple", in.take_profit_risk_multiple},
            {"exit_at_ns", in.exit_at_ns},
            {"exit_at", in.exit_at_ns ? formatExchangeTime(in.exit_at_ns) : std::string()},
            {"native_leg", order.native_leg},
            {"status", toString(order.status)},
            {"filled_quantity", order.filled_quantity},
            {"average_fill_price", order.average_fill_price},
            {"booked_quantity", order.booked_quantity},
            {"reason", order.reason},
            {"reason_code", order.reason_code},
            {"created", formatExchangeTime(order.created_ns)},
            {"updated", formatExchangeTime(order.updated_ns)},
            {"created_ns", order.created_ns},
            {"updated_ns", order.updated_ns}};
  return jsonText(j);
}

Result<Order> decodeOrder(std::string_view encoded) {
  try {
    Json j = Json::parse(encoded);
    if (!j.is_object()) return fail(ErrorCode::Corruption, "order: not a JSON object");
    Order order;
    order.client_order_id = text(j, "client_order_id");
    order.broker_order_id = text(j, "broker_order_id");
    order.broker = text(j, "broker");
    order.parent_id = text(j, "parent_id");
    order.sibling_id = text(j, "sibling_id");
    order.role = enumField(j, "role", parseOrderRole);
    auto& in = order.intent;
    in.strategy = text(j, "strategy");
    in.symbol = text(j, "symbol");
    in.asset_class = enumField(j, "asset_class", parseAssetClass);
    in.side = enumField(j, "side", parseOrderSide);
    in.type = enumField(j, "type", parseOrderType);
    in.time_in_force = enumField(j, "time_in_force", parseTimeInForce);
    in.order_class = enumField(j, "order_class", parseOrderClass);
    in.quantity = number(j, "quantity");
    in.limit_price = number(j, "limit_price");
    in.stop_price = number(j, "stop_price");
    in.take_profit_price = number(j, "take_profit_price");
    in.stop_loss_price = number(j, "stop_loss_price");
    in.stop_loss_limit_price = number(j, "stop_loss_limit_price");
    // Added with brackets placed by the broker; absent from older records.
    if (j.contains("take_profit_offset")) {
      in.take_profit_offset = number(j, "take_profit_offset");
      in.stop_loss_offset = number(j, "stop_loss_offset");
      if (j.contains("take_profit_risk_multiple")) in.take_profit_risk_multiple = number(j, "take_profit_risk_multiple");
      in.exit_at_ns = integer(j, "exit_at_ns");
      auto native = j.find("native_leg");
      order.native_leg = native != j.end() && native->is_boolean() && native->get<bool>();
    }
    order.status = enumField(j, "status", parseOrderStatus);
    order.filled_quantity = number(j, "filled_quantity");
    order.average_fill_price = number(j, "average_fill_price");
    order.booked_quantity = number(j, "booked_quantity");
    order.reason = text(j, "reason");
    order.reason_code = text(j, "reason_code");
    order.created_ns = integer(j, "created_ns");
    order.updated_ns = integer(j, "updated_ns");
    return order;
  } catch (const std::exception& e) {
    return fail(ErrorCode::Corruption, fmt::format("order: {}", e.what()));
  }
}

}  // namespace th
