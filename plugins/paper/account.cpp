#include "account.h"

#include <algorithm>
#include <cmath>

namespace th::paper {
namespace {

// Quantities are whole units or simple fractions; this only absorbs the
// rounding of repeated additions so a closed position reads exactly zero.
constexpr double kQuantityEpsilon = 1e-9;

}  // namespace

void Account::applyFill(const Fill& fill) {
  const double signed_quantity = sideSign(fill.side) * fill.quantity;
  cash -= signed_quantity * fill.price * fill.multiplier + fill.commission;
  commissions += fill.commission;

  auto [it, inserted] = positions.try_emplace(fill.symbol);
  Position& position = it->second;
  if (inserted) {
    position.symbol = fill.symbol;
    position.asset_class = fill.asset_class;
    position.multiplier = fill.multiplier;
  }

  const double held = position.quantity;
  if (held == 0 || (held > 0) == (signed_quantity > 0)) {
    const double size = std::abs(held) + fill.quantity;
    position.average_price = (std::abs(held) * position.average_price + fill.quantity * fill.price) / size;
    position.quantity = held + signed_quantity;
    return;
  }

  const double closing = std::min(std::abs(held), fill.quantity);
  const double direction = held > 0 ? 1.0 : -1.0;
  position.realized_pnl += closing * (fill.price - position.average_price) * direction * position.multiplier;
  position.quantity = held + signed_quantity;
  if (std::abs(position.quantity) < kQuantityEpsilon) {
    position.quantity = 0;
    position.average_price = 0;
  } else if ((position.quantity > 0) != (held > 0)) {
    position.average_price = fill.price;
  }
}

double Account::positionQuantity(std::string_view symbol) const {
  auto it = positions.find(symbol);
  return it == positions.end() ? 0.0 : it->second.quantity;
}

double Account::equity(const SymbolFeeds& feeds) const {
  double value = cash;
  for (const auto& [symbol, position] : positions) {
    if (position.quantity == 0) continue;
    auto feed = feeds.find(symbol);
    double mark = feed != feeds.end() && feed->second.mark > 0 ? feed->second.mark : position.average_price;
    value += position.quantity * mark * position.multiplier;
  }
  return value;
}

}  // namespace th::paper
