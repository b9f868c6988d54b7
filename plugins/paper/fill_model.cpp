#include "fill_model.h"

#include <algorithm>

namespace th::paper {
namespace {

bool isBuy(const Order& order) { return order.side == TH_SIDE_BUY; }

// Bars drive fills only for symbols without tick data (see SymbolFeed).
bool barDriven(const SymbolFeed& feed) { return !feed.has_quotes && !feed.has_trades; }

}  // namespace

double FillModel::slipped(double price, int32_t side) const {
  return side == TH_SIDE_BUY ? price + slippage_ : price - slippage_;
}

double FillModel::offered(const MarketEvent& event, int32_t side) {
  switch (event.kind) {
    case EventKind::kQuote:
      return side == TH_SIDE_BUY ? event.ask_size : event.bid_size;
    case EventKind::kTrade:
      return event.size;
    case EventKind::kBar:
      return event.volume;
  }
  return 0;
}

Opportunity FillModel::assess(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  switch (order.type) {
    case TH_ORDER_MARKET:
      return asMarket(order, event, feed);
    case TH_ORDER_LIMIT:
      return asLimit(order, event, feed);
    case TH_ORDER_STOP:
      return order.triggered ? asMarket(order, event, feed) : asUntriggeredStop(order, event, feed);
    case TH_ORDER_STOP_LIMIT:
      return order.triggered ? asLimit(order, event, feed) : asUntriggeredStop(order, event, feed);
    default:
      return {};
  }
}

// A market order takes the far side of the quote: buyers pay the ask, sellers
// get the bid, never the mid. A symbol without quotes fills at the trade
// price, and one with only bars at the next bar's open.
Opportunity FillModel::asMarket(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  Opportunity result;
  switch (event.kind) {
    case EventKind::kQuote: {
      result.assessed = true;
      double far = isBuy(order) ? event.ask : event.bid;
      if (far > 0) result.price = slipped(far, order.side);
      break;
    }
    case EventKind::kTrade:
      if (feed.has_quotes) break;  // a trade prints someone else's price; quotes say what we could get
      result.assessed = true;
      if (event.price > 0) result.price = slipped(event.price, order.side);
      break;
    case EventKind::kBar:
      if (!barDriven(feed)) break;
      result.assessed = true;
      if (event.open > 0) result.price = slipped(event.open, order.side);
      break;
  }
  return result;
}

// A limit order rests at the back of the queue at its price, so a print at
// exactly the limit proves nothing: only a trade or bar that goes through the
// limit fills it, at the limit (or at a better open when a bar gaps through).
// A quote is a firm price anyone can take, so a quote at or better than the
// limit fills it at the quote.
Opportunity FillModel::asLimit(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  Opportunity result;
  const double limit = order.limit_price;
  const bool buy = isBuy(order);
  switch (event.kind) {
    case EventKind::kQuote:
      result.assessed = true;
      if (buy && event.ask > 0 && event.ask <= limit) result.price = event.ask;
      if (!buy && event.bid > 0 && event.bid >= limit) result.price = event.bid;
      break;
    case EventKind::kTrade:
      result.assessed = true;
      if (event.price > 0 && (buy ? event.price < limit : event.price > limit)) result.price = limit;
      break;
    case EventKind::kBar:
      if (!barDriven(feed)) break;
      result.assessed = true;
      if (buy && event.low > 0 && event.low < limit) result.price = std::min(limit, event.open);
      if (!buy && event.high > limit) result.price = std::max(limit, event.open);
      break;
  }
  return result;
}

// A buy stop triggers when the market reaches the stop from below (trade or
// ask at or above it, or a bar's high); a sell stop mirrors that. Once
// triggered it is a market order (STOP) or a limit order (STOP_LIMIT).
Opportunity FillModel::asUntriggeredStop(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  Opportunity result;
  const double stop = order.stop_price;
  const bool buy = isBuy(order);
  const bool is_stop_limit = order.type == TH_ORDER_STOP_LIMIT;
  auto reached = [&](double price) { return price > 0 && (buy ? price >= stop : price <= stop); };

  switch (event.kind) {
    case EventKind::kQuote: {
      result.assessed = true;
      if (!reached(buy ? event.ask : event.bid)) break;
      result.triggers = true;
      // The quote that triggers the stop is the market it then meets.
      result.price = is_stop_limit ? asLimit(order, event, feed).price : asMarket(order, event, feed).price;
      break;
    }
    case EventKind::kTrade:
      result.assessed = true;
      if (!reached(event.price)) break;
      result.triggers = true;
      // Without quotes the triggering trade is the best price known. A
      // stop-limit starts working as a limit from the next event, since a
      // resting limit needs the market to go through it after it exists.
      if (!is_stop_limit && !feed.has_quotes) result.price = slipped(event.price, order.side);
      break;
    case EventKind::kBar: {
      if (!barDriven(feed)) break;
      result.assessed = true;
      if (!reached(buy ? event.high : event.low)) break;
      result.triggers = true;
      // STRATEGIES.md: a stop fills at its price, or at the bar's open when
      // the bar opened beyond it.
      const bool gapped = buy ? event.open >= stop : event.open <= stop;
      const double base = gapped ? event.open : stop;
      if (!is_stop_limit) {
        result.price = slipped(base, order.side);
      } else if (buy ? base <= order.limit_price : base >= order.limit_price) {
        // The stop-limit became marketable where it triggered. Otherwise the
        // order in which the bar reached the stop and the limit is unknown,
        // so it works as a limit from the next bar on.
        result.price = base;
      }
      break;
    }
  }
  return result;
}

Opportunity FillModel::assessTarget(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  if (event.kind != EventKind::kBar) return asLimit(order, event, feed);
  Opportunity result;
  if (!barDriven(feed)) return result;
  result.assessed = true;
  const double target = order.limit_price;
  if (isBuy(order) && event.low > 0 && event.low <= target) result.price = std::min(target, event.open);
  if (!isBuy(order) && event.high >= target) result.price = std::max(target, event.open);
  return result;
}

Opportunity FillModel::assessTimeExit(const Order& order, const MarketEvent& event, const SymbolFeed& feed) const {
  const int64_t exit_at = order.exits.exit_at_ns;
  if (event.kind != EventKind::kBar) {
    if (event.ts_ns < exit_at) return {};
    return asMarket(order, event, feed);
  }
  Opportunity result;
  if (!barDriven(feed) || event.ts_ns + event.duration_ns < exit_at) return result;
  result.assessed = true;
  if (event.close > 0) result.price = slipped(event.close, order.side);
  return result;
}

}  // namespace th::paper
