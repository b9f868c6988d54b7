// An order as JSON: the one form the store keeps and the API serves.
//
// {"client_order_id", "broker_order_id", "broker", "strategy", "parent_id",
//  "sibling_id", "role", "symbol", "asset_class", "side", "type",
//  "time_in_force", "order_class", "quantity", "limit_price", "stop_price",
//  "take_profit_price", "stop_loss_price", "stop_loss_limit_price", "status",
//  "filled_quantity", "average_fill_price", "booked_quantity", "reason",
//  "reason_code", "created", "updated", "created_ns", "updated_ns"}
//
// Enums are the lowercase names of order.h; times are ISO 8601 exchange time
// (for people) and nanoseconds (for the store, exact).
#pragma once

#include <string>
#include <string_view>

#include "broker/order.h"
#include "core/error.h"

namespace th {

std::string encodeOrder(const Order& order);
// Refuses text that is not an order this code wrote; the error names the field.
[[nodiscard]] Result<Order> decodeOrder(std::string_view text);

}  // namespace th
