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
  // Written directly, keys in jsonText's (sorted) order: an order is stored
  // on every report, and building a JSON object for it cost more than the
  // rest of the report's path. order_test holds the two to the same bytes.
  const auto& in = order.intent;
  return JsonObjectWriter()
      .text("asset_class", toString(in.asset_class))
      .number("average_fill_price", order.average_fill_price)
      .number("booked_quantity", order.booked_quantity)
      .text("broker", order.broker)
      .text("broker_order_id", order.broker_order_id)
      .text("client_order_id", order.client_order_id)
      .text("created", formatExchangeTime(order.created_ns))
      .integer("created_ns", order.created_ns)
      .text("exit_at", in.exit_at_ns ? formatExchangeTime(in.exit_at_ns) : std::string())
      .integer("exit_at_ns", in.exit_at_ns)
      .number("filled_quantity", order.filled_quantity)
      .number("limit_price", in.limit_price)
      .boolean("native_leg", order.native_leg)
      .text("order_class", toString(in.order_class))
      .text("parent_id", order.parent_id)
      .number("quantity", in.quantity)
      .text("reason", order.reason)
      .text("reason_code", order.reason_code)
      .text("role", toString(order.role))
      .text("sibling_id", order.sibling_id)
      .text("side", toString(in.side))
      .text("status", toString(order.status))
      .number("stop_loss_limit_price", in.stop_loss_limit_price)
      .number("stop_loss_offset", in.stop_loss_offset)
      .number("stop_loss_price", in.stop_loss_price)
      .number("stop_price", in.stop_price)
      .text("strategy", in.strategy)
      .text("symbol", in.symbol)
      .number("take_profit_offset", in.take_profit_offset)
      .number("take_profit_price", in.take_profit_price)
      .number("take_profit_risk_multiple", in.take_profit_risk_multiple)
      .text("time_in_force", toString(in.time_in_force))
      .text("type", toString(in.type))
      .text("updated", formatExchangeTime(order.updated_ns))
      .integer("updated_ns", order.updated_ns)
      .finish();
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
