// The paper account's money and holdings: cash, commissions paid, and a
// position per symbol with its average price and realised P&L. Fills are the
// only thing that changes it. Open orders and their reservations live with
// the broker, which owns both.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "paper_types.h"

namespace th::paper {

using SymbolFeeds = std::map<std::string, SymbolFeed, std::less<>>;

struct Account {
  double cash = 0;
  double commissions = 0;                                  // paid since the account began
  std::map<std::string, Position, std::less<>> positions;  // zero positions stay for their realised P&L

  // Cash moves by price × quantity × multiplier plus commission; the position
  // averages in on adds, realises P&L on reductions and reopens at the fill
  // price when the fill flips it through zero.
  void applyFill(const Fill& fill);

  double positionQuantity(std::string_view symbol) const;

  // cash + Σ quantity × mark × multiplier; a position without a mark yet is
  // valued at its average price.
  double equity(const SymbolFeeds& feeds) const;
};

}  // namespace th::paper
