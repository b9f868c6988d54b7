#include "broker/order.h"

#include "broker/instrument.h"
#include "core/text.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

namespace th {
namespace {

template <typename Enum, size_t N>
std::string_view nameOf(Enum value, const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

template <typename Enum, size_t N>
std::optional<Enum> parseName(std::string_view text, const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<OrderStatus, std::string_view>, 10> kStatuses = {{
    {OrderStatus::PendingNew, "pending_new"},
    {OrderStatus::Accepted, "accepted"},
    {OrderStatus::PartiallyFilled, "partially_filled"},
    {OrderStatus::Filled, "filled"},
    {OrderStatus::Canceled, "canceled"},
    {OrderStatus::Rejected, "rejected"},
    {OrderStatus::Expired, "expired"},
    {OrderStatus::PendingCancel, "pending_cancel"},
    {OrderStatus::PendingReplace, "pending_replace"},
    {OrderStatus::Replaced, "replaced"},
}};
constexpr std::array<std::pair<OrderSide, std::string_view>, 2> kSides = {
    {{OrderSide::Buy, "buy"}, {OrderSide::Sell, "sell"}}};
constexpr std::array<std::pair<OrderType, std::string_view>, 4> kTypes = {{{OrderType::Market, "market"},
                                                                           {OrderType::Limit, "limit"},
                                                                           {OrderType::Stop, "stop"},
                                                                           {OrderType::StopLimit, "stop_limit"}}};
constexpr std::array<std::pair<TimeInForce, std::string_view>, 4> kTifs = {
    {{TimeInForce::Day, "day"}, {TimeInForce::Gtc, "gtc"}, {TimeInForce::Ioc, "ioc"}, {TimeInForce::Fok, "fok"}}};
constexpr std::array<std::pair<OrderClass, std::string_view>, 4> kClasses = {{{OrderClass::Simple, "simple"},
                                                                              {OrderClass::Bracket, "bracket"},
                                                                              {OrderClass::Oco, "oco"},
                                                                              {OrderClass::Oto, "oto"}}};
constexpr std::array<std::pair<AssetClass, std::string_view>, 2> kAssets = {
    {{AssetClass::Equity, "equity"}, {AssetClass::Option, "option"}}};

constexpr std::array<std::pair<OrderRole, std::string_view>, 8> kRoles = {{{OrderRole::Single, "single"},
                                                                           {OrderRole::Entry, "entry"},
                                                                           {OrderRole::Group, "group"},
                                                                           {OrderRole::TakeProfit, "take_profit"},
                                                                           {OrderRole::StopLoss, "stop_loss"},
                                                                           {OrderRole::Correction, "correction"},
                                                                           {OrderRole::Flatten, "flatten"},
                                                                           {OrderRole::TimeExit, "time_exit"}}};

// The status changes a broker may report. Anything else is refused: it
// would mean the host's picture of the order is wrong, or the report is.
bool edgeAllowed(OrderStatus from, OrderStatus to) {
  using S = OrderStatus;
  switch (from) {
    case S::PendingNew:
      return to == S::Accepted || to == S::PartiallyFilled || to == S::Filled || to == S::Canceled ||
             to == S::Rejected || to == S::Expired || to == S::PendingCancel;
    case S::Accepted:
      // A venue may still reject an order it first acknowledged.
      return to == S::PartiallyFilled || to == S::Filled || to == S::Canceled || to == S::Expired ||
             to == S::PendingCancel || to == S::PendingReplace || to == S::Replaced || to == S::Rejected;
    case S::PartiallyFilled:
      return to == S::PartiallyFilled || to == S::Filled || to == S::Canceled || to == S::Expired ||
             to == S::PendingCancel || to == S::PendingReplace || to == S::Replaced;
    case S::PendingCancel:
      // The cancel may lose the race to a fill, or be refused (back to working).
      return to == S::Canceled || to == S::Filled || to == S::PartiallyFilled || to == S::Accepted || to == S::Expired;
    case S::PendingReplace:
      return to == S::Replaced || to == S::Accepted || to == S::PartiallyFilled || to == S::Filled ||
             to == S::Canceled || to == S::Expired;
    default:
      return false;  // terminal
  }
}

bool sameQuantity(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

bool positive(double value) { return std::isfinite(value) && value > 0; }

}  // namespace

std::string_view toString(OrderStatus status) { return nameOf(status, kStatuses); }
std::string_view toString(OrderSide side) { return nameOf(side, kSides); }
std::string_view toString(OrderType type) { return nameOf(type, kTypes); }
std::string_view toString(TimeInForce tif) { return nameOf(tif, kTifs); }
std::string_view toString(OrderClass order_class) { return nameOf(order_class, kClasses); }
std::string_view toString(AssetClass asset_class) { return nameOf(asset_class, kAssets); }
std::string_view toString(OrderRole role) { return nameOf(role, kRoles); }
std::optional<OrderStatus> parseOrderStatus(std::string_view text) { return parseName(text, kStatuses); }
std::optional<OrderSide> parseOrderSide(std::string_view text) { return parseName(text, kSides); }
std::optional<OrderType> parseOrderType(std::string_view text) { return parseName(text, kTypes); }
std::optional<TimeInForce> parseTimeInForce(std::string_view text) { return parseName(text, kTifs); }
std::optional<OrderClass> parseOrderClass(std::string_view text) { return parseName(text, kClasses); }
std::optional<AssetClass> parseAssetClass(std::string_view text) { return parseName(text, kAssets); }
std::optional<OrderRole> parseOrderRole(std::string_view text) { return parseName(text, kRoles); }

bool isTerminal(OrderStatus status) {
  return status == OrderStatus::Filled || status == OrderStatus::Canceled || status == OrderStatus::Rejected ||
         status == OrderStatus::Expired || status == OrderStatus::Replaced;
}

bool isOpen(OrderStatus status) { return !isTerminal(status); }

Result<void> validateIntent(const OrderIntent& intent) {
  auto bad = [](std::string message) { return fail(ErrorCode::InvalidArgument, std::move(message)); };
  if (auto problem = symbolProblem(intent.symbol)) return bad("symbol: " + *problem);
  if (!intent.strategy.empty() && !isSafeId(intent.strategy)) {
    return bad(fmt::format("strategy: '{}' is not a strategy id (1-64 of a-z, 0-9, _ and -)", intent.strategy));
  }
  if (intent.asset_class == AssetClass::Option && !isOccSymbol(intent.symbol)) {
    return bad(fmt::format("symbol: '{}' is not an OCC option symbol (e.g. SPY261120C00590000)", intent.symbol));
  }
  if (intent.asset_class == AssetClass::Equity && isOccSymbol(intent.symbol)) {
    return bad(fmt::format("asset_class: '{}' is an option symbol; say asset_class option", intent.symbol));
  }
  if (!positive(intent.quantity)) return bad(fmt::format("quantity: must be more than 0, got {}", intent.quantity));
  if (intent.quantity > kMaxOrderQuantity) {
    return bad(fmt::format("quantity: {} is more than {:.0f}", intent.quantity, kMaxOrderQuantity));
  }
  if (const double steps = intent.quantity / kQuantityStep;
      steps < 1 || std::fabs(steps - std::round(steps)) > 1e-3) {
    return bad(fmt::format("quantity: {} is finer than {} (fractional quantities go to nine decimal places)",
                           intent.quantity, kQuantityStep));
  }
  if (intent.asset_class == AssetClass::Option && intent.quantity != std::floor(intent.quantity)) {
    return bad(fmt::format("quantity: options trade in whole contracts, got {}", intent.quantity));
  }
  bool needs_limit = intent.type == OrderType::Limit || intent.type == OrderType::StopLimit;
  bool needs_stop = intent.type == OrderType::Stop || intent.type == OrderType::StopLimit;
  for (auto [name, value] : {std::pair{"limit_price", intent.limit_price}, std::pair{"stop_price", intent.stop_price},
                             std::pair{"take_profit_price", intent.take_profit_price},
                             std::pair{"stop_loss_price", intent.stop_loss_price},
                             std::pair{"stop_loss_limit_price", intent.stop_loss_limit_price}}) {
    if (value > kMaxPrice) return bad(fmt::format("{}: {} is more than {:.0f}", name, value, kMaxPrice));
  }
  if (needs_limit && !positive(intent.limit_price)) {
    return bad(fmt::format("limit_price: required for a {} order", toString(intent.type)));
  }
  if (!needs_limit && intent.limit_price != 0) {
    return bad(fmt::format("limit_price: a {} order has none", toString(intent.type)));
  }
  if (needs_stop && !positive(intent.stop_price)) {
    return bad(fmt::format("stop_price: required for a {} order", toString(intent.type)));
  }
  if (!needs_stop && intent.stop_price != 0) {
    return bad(fmt::format("stop_price: a {} order has none", toString(intent.type)));
  }
  for (auto [name, value] :
       {std::pair{"take_profit_price", intent.take_profit_price}, std::pair{"stop_loss_price", intent.stop_loss_price},
        std::pair{"stop_loss_limit_price", intent.stop_loss_limit_price},
        std::pair{"take_profit_offset", intent.take_profit_offset},
        std::pair{"stop_loss_offset", intent.stop_loss_offset},
        std::pair{"take_profit_risk_multiple", intent.take_profit_risk_multiple}}) {
    if (value != 0 && !positive(value)) return bad(fmt::format("{}: must be above 0, got {}", name, value));
  }
  if ((intent.take_profit_price > 0) + (intent.take_profit_offset > 0) + (intent.take_profit_risk_multiple > 0) > 1) {
    return bad("take_profit_offset: give one of take_profit_price, take_profit_offset and take_profit_risk_multiple");
  }
  if (intent.take_profit_risk_multiple > 0 && !intent.hasStopLoss()) {
    return bad("take_profit_risk_multiple: a multiple of the risk needs a stop-loss");
  }
  if (intent.stop_loss_price > 0 && intent.stop_loss_offset > 0) {
    return bad("stop_loss_offset: give stop_loss_price or stop_loss_offset, not both");
  }
  if (intent.exit_at_ns < 0) return bad("exit_at: must be a time");
  const bool tp = intent.hasTakeProfit(), sl = intent.hasStopLoss(), timed = intent.exit_at_ns > 0;
  const bool offsets =
      intent.take_profit_offset > 0 || intent.stop_loss_offset > 0 || intent.take_profit_risk_multiple > 0;
  switch (intent.order_class) {
    case OrderClass::Simple:
      if (tp || sl || timed) return bad("order_class: take_profit/stop_loss/exit_at legs need a bracket, oco or oto order");
      break;
    case OrderClass::Bracket:
    case OrderClass::Oco: {
      if (intent.order_class == OrderClass::Oco && (offsets || timed)) {
        return bad("order_class: an oco order has no entry to measure offsets from or exit at a time; use prices");
      }
      const bool long_position = (intent.order_class == OrderClass::Oco) == (intent.side == OrderSide::Sell);
      if (!tp || !sl) {
        return bad(fmt::format("{}: a {} order needs both a take-profit and a stop-loss",
                               tp ? "stop_loss_price" : "take_profit_price", toString(intent.order_class)));
      }
      // The profit leg is on the far side of the loss leg, as seen from the
      // entry. A bracket's side is the entry's; an OCO's is its legs', which
      // exit a position held the other way (sell legs close a long).
      if (intent.take_profit_price > 0 && intent.stop_loss_price > 0 &&
          (long_position ? intent.take_profit_price <= intent.stop_loss_price
                         : intent.take_profit_price >= intent.stop_loss_price)) {
        return bad(fmt::format("take_profit_price: {} is not on the profit side of stop_loss_price {} for a {}",
                               intent.take_profit_price, intent.stop_loss_price, toString(intent.side)));
      }
      break;
    }
    case OrderClass::Oto:
      if ((tp && sl) || !(tp || sl || timed)) {
        return bad("order_class: an oto order has one exit: a take-profit, a stop-loss or a time exit (with or "
                   "without one of the two)");
      }
      break;
  }
  if (intent.stop_loss_limit_price > 0 && !sl) return bad("stop_loss_limit_price: there is no stop-loss leg");
  if (intent.order_class == OrderClass::Bracket && intent.limit_price > 0 && intent.take_profit_price > 0 &&
      intent.stop_loss_price > 0) {
    double entry = intent.limit_price;
    bool buy = intent.side == OrderSide::Buy;
    if (buy ? !(intent.stop_loss_price < entry && entry < intent.take_profit_price)
            : !(intent.take_profit_price < entry && entry < intent.stop_loss_price)) {
      return bad(fmt::format("limit_price: the entry {} must lie between stop_loss_price {} and take_profit_price {}",
                             entry, intent.stop_loss_price, intent.take_profit_price));
    }
  }
  return {};
}

TransitionVerdict checkTransition(const Order& order, OrderStatus to, double filled_after) {
  auto illegal = [&](std::string why) {
    return TransitionVerdict{TransitionCheck::Illegal,
                             fmt::format("order {}: {} -> {} refused: {}", order.client_order_id,
                                         toString(order.status), toString(to), why)};
  };
  const double quantity = order.intent.quantity;
  if (!std::isfinite(filled_after) || filled_after < 0) {
    return illegal(fmt::format("filled quantity {} is not a quantity", filled_after));
  }
  if (filled_after + 1e-9 * std::max(1.0, quantity) < order.filled_quantity) {
    return illegal(fmt::format("the filled quantity would fall from {} to {}", order.filled_quantity, filled_after));
  }
  if (filled_after > quantity && !sameQuantity(filled_after, quantity)) {
    return illegal(fmt::format("{} filled is more than the order's {}", filled_after, quantity));
  }
  if (to == order.status && sameQuantity(filled_after, order.filled_quantity)) return {TransitionCheck::Repeat, {}};
  if (isTerminal(order.status)) return illegal(fmt::format("the order is already {}", toString(order.status)));
  if (!edgeAllowed(order.status, to)) return illegal("not a status change a broker can make");
  switch (to) {
    case OrderStatus::Filled:
      if (!sameQuantity(filled_after, quantity)) {
        return illegal(fmt::format("filled with {} of {}", filled_after, quantity));
      }
      break;
    case OrderStatus::PartiallyFilled:
      if (filled_after <= 0 || sameQuantity(filled_after, quantity)) {
        return illegal(fmt::format("partially filled with {} of {}", filled_after, quantity));
      }
      break;
    case OrderStatus::Accepted:
    case OrderStatus::PendingNew:
      if (filled_after > 0) return illegal(fmt::format("an order with {} filled is partially filled", filled_after));
      break;
    case OrderStatus::Rejected:
      if (filled_after > 0) return illegal(fmt::format("an order with {} filled cannot be rejected", filled_after));
      break;
    default:
      break;
  }
  return {TransitionCheck::Apply, {}};
}

}  // namespace th
