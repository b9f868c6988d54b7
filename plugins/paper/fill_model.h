// The fill model: given one open order and one market event of its symbol,
// decide whether the order can trade at that event and at what price. Pure
// and deterministic; the broker applies latency, liquidity (participation),
// time in force and the account. The rules are documented in
// docs/plugins/paper.md; the reasons for them are next to the code.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "paper_types.h"

namespace th::paper {

enum class EventKind { kQuote, kTrade, kBar };

struct MarketEvent {
  EventKind kind = EventKind::kQuote;
  std::string_view symbol;
  int64_t ts_ns = 0;                                          // quote and trade time; a bar's start
  int64_t duration_ns = 0;                                    // a bar's length
  double bid = 0, ask = 0, bid_size = 0, ask_size = 0;        // quotes
  double price = 0, size = 0;                                 // trades
  double open = 0, high = 0, low = 0, close = 0, volume = 0;  // bars
};

struct Opportunity {
  // The event is one this order is judged against: the "first opportunity"
  // at which IOC and FOK orders are decided.
  bool assessed = false;
  // An untriggered stop reached its trigger at this event.
  bool triggers = false;
  // Set when the order can trade at this event, at this price.
  std::optional<double> price;
};

class FillModel {
 public:
  explicit FillModel(double slippage) : slippage_(slippage) {}

  // `feed` already includes this event (its source flags and prices).
  Opportunity assess(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;

  // A bracket's take-profit leg (exits.cpp): on bars a touch of the target
  // is enough; otherwise the rules of a limit order.
  Opportunity assessTarget(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;
  // A bracket's time exit leg: a market order from exit_at on; on bars, at
  // the close of the bar that ends at or after exit_at.
  Opportunity assessTimeExit(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;

  // Units the event offers to one side before participation: the ask size to
  // buyers and the bid size to sellers; a trade's size or a bar's volume to both.
  static double offered(const MarketEvent& event, int32_t side);

 private:
  Opportunity asMarket(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;
  Opportunity asLimit(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;
  Opportunity asUntriggeredStop(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const;
  double slipped(double price, int32_t side) const;

  double slippage_;
};

}  // namespace th::paper
