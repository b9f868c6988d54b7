// The market feed side of the paper broker: each quote, trade or bar updates
// what the venue knows of its symbol, expires DAY orders past the close,
// settles option contracts past their expiry, and gives the symbol's open
// orders their chance to fill.
#include <th/occ.hpp>

#include <algorithm>
#include <cmath>

#include "paper_broker.h"

namespace th::paper {
namespace {

void updateFeed(SymbolFeed& feed, const MarketEvent& event) {
  switch (event.kind) {
    case EventKind::kQuote:
      feed.has_quotes = true;
      feed.bid = std::max(event.bid, 0.0);
      feed.ask = std::max(event.ask, 0.0);
      if (feed.bid > 0 && feed.ask > 0) {
        feed.mark = (feed.bid + feed.ask) / 2;
      } else if (feed.bid > 0 || feed.ask > 0) {
        feed.mark = std::max(feed.bid, feed.ask);
      }
      break;
    case EventKind::kTrade:
      feed.has_trades = true;
      if (event.price > 0) feed.mark = event.price;
      break;
    case EventKind::kBar:
      if (event.close > 0) feed.mark = event.close;
      break;
  }
}

}  // namespace

void PaperBroker::onQuote(const th_quote& quote) {
  MarketEvent event;
  event.kind = EventKind::kQuote;
  event.symbol = view(quote.symbol, quote.symbol_len);
  event.ts_ns = quote.ts_ns;
  event.bid = quote.bid;
  event.ask = quote.ask;
  event.bid_size = quote.bid_size;
  event.ask_size = quote.ask_size;
  onMarketEvent(event, true);
}

void PaperBroker::onTrade(const th_trade& trade) {
  MarketEvent event;
  event.kind = EventKind::kTrade;
  event.symbol = view(trade.symbol, trade.symbol_len);
  event.ts_ns = trade.ts_ns;
  event.price = trade.price;
  event.size = trade.size;
  onMarketEvent(event, true);
}

void PaperBroker::onBar(const th_bar& bar) {
  MarketEvent event;
  event.kind = EventKind::kBar;
  event.symbol = view(bar.symbol, bar.symbol_len);
  event.ts_ns = bar.start_ns;
  event.duration_ns = bar.duration_ns > 0 ? bar.duration_ns : 60'000'000'000;
  event.open = bar.open;
  event.high = bar.high;
  event.low = bar.low;
  event.close = bar.close;
  event.volume = bar.volume;
  // A bar still forming is sent again as it grows; filling against each
  // version would use the same volume several times. It only moves the mark.
  onMarketEvent(event, (bar.flags & TH_BAR_FINAL) != 0);
}

void PaperBroker::onMarketEvent(const MarketEvent& event, bool may_fill) {
  if (event.symbol.empty()) return;
  std::lock_guard lock(mutex_);
  // While disconnected the venue cannot report, so nothing trades, expires
  // or settles; that resumes with the first event after connect().
  std::vector<Report> reports;
  bool changed = false;
  if (connected_) {
    changed = expireDayOrders(event.ts_ns, reports);
    // Before this event moves a mark: the underlying's last price of the expiry day decides.
    changed = settleExpiredOptions(event.ts_ns, reports) || changed;
  }
  auto slot = feeds_.find(event.symbol);
  if (slot == feeds_.end()) {
    auto& feed = state_.symbols.try_emplace(std::string(event.symbol)).first->second;
    slot = feeds_.try_emplace(event.symbol, FeedSlot{&feed, OpenOrders::key(event.symbol)}).first;
  }
  SymbolFeed& feed = *slot->second.feed;
  updateFeed(feed, event);
  if (!connected_) return;

  if (may_fill && open_.size() > 0) changed = matchOrders(event, slot->second.key, feed, reports) || changed;
  if (!changed) return;
  // A feed callback has no error channel: a failed save is logged and the
  // next change saves again. The fills happened; the host must hear of them.
  try {
    file_.save(state_);
  } catch (const std::exception& e) {
    host().log(TH_LOG_ERROR, e.what());
  }
  publish(reports);
}

// DAY orders end at the first market event, of any symbol, at or after the
// session close of their day: that event is the first sign the close passed.
bool PaperBroker::expireDayOrders(int64_t ts_ns, std::vector<Report>& reports) {
  if (ts_ns < next_expiry_ns_) return false;
  std::vector<size_t> expired;
  int64_t next = INT64_MAX;
  for (size_t index : open_) {
    const Order& order = state_.orders[index];
    if (order.time_in_force != TH_TIF_DAY) continue;
    if (ts_ns >= order.expires_ns) {
      expired.push_back(index);
    } else {
      next = std::min(next, order.expires_ns);
    }
  }
  next_expiry_ns_ = next;
  for (size_t index : expired) {
    closeOrder(index, TH_STATUS_EXPIRED, "day order expired at session close", ts_ns, reports);
  }
  return !expired.empty();
}

// Option contracts held past the close of their expiry day (16:00 ET) are
// settled at the first market event at or after it, of any symbol, as DAY
// orders expire: in the money by 0.01 or more against the underlying's last
// mark, a long contract is exercised and a short one assigned (the shares
// move at the strike); otherwise it expires worthless. Either way the
// contract closes at price 0 and its open orders end.
bool PaperBroker::settleExpiredOptions(int64_t ts_ns, std::vector<Report>& reports) {
  if (ts_ns < next_settlement_ns_) return false;
  std::vector<std::string> due;
  int64_t next = kNever;
  for (const auto& [symbol, position] : state_.account.positions) {
    if (position.asset_class != TH_ASSET_OPTION || position.quantity == 0) continue;
    const auto occ = parseOccSymbol(symbol);
    if (!occ) continue;  // no expiry to go by
    const int64_t close = calendar_.closeOn(occ->expiry_yyyymmdd);
    if (ts_ns >= close) {
      due.push_back(symbol);
    } else {
      next = std::min(next, close);
    }
  }
  next_settlement_ns_ = next;
  for (const std::string& symbol : due) settleOption(symbol, reports);
  return !due.empty();
}

// The fills are dated at the expiry day's close, when the contract ended,
// whichever later event brought the news.
void PaperBroker::settleOption(const std::string& symbol, std::vector<Report>& reports) {
  const OccSymbol occ = *parseOccSymbol(symbol);
  const int64_t ts_ns = calendar_.closeOn(occ.expiry_yyyymmdd);
  const Position held = state_.account.positions.at(symbol);  // a copy: the fills below change it
  std::vector<size_t> working;
  for (size_t index : open_) {
    if (state_.orders[index].symbol == symbol) working.push_back(index);
  }
  for (size_t index : working) {
    if (open_.contains(index)) closeOrder(index, TH_STATUS_EXPIRED, "the option contract expired", ts_ns, reports);
  }

  const std::string root(occ.root);
  const auto underlying = state_.symbols.find(root);
  const double spot = underlying != state_.symbols.end() ? underlying->second.mark : 0.0;
  if (!(spot > 0)) {
    host().log(TH_LOG_WARN, "paper: " + symbol + " expired with no price of " + root +
                              " seen; settled as out of the money (it expires worthless)");
  }
  const double strike = occ.strike();
  const double in_the_money = !(spot > 0) ? 0.0 : occ.right == TH_OPTION_CALL ? spot - strike : strike - spot;
  const bool delivers = in_the_money >= 0.01 - 1e-9;
  const bool held_long = held.quantity > 0;
  const double contracts = std::abs(held.quantity);
  const int32_t activity = !delivers ? TH_FILL_EXPIRED : held_long ? TH_FILL_EXERCISED : TH_FILL_ASSIGNED;
  auto book = [&](Fill fill) {
    fill.fill_id = nextFillId();
    fill.activity = activity;
    fill.ts_ns = ts_ns;
    state_.account.applyFill(fill);
    state_.fills.push_back(fill);
    reports.push_back(std::move(fill));
  };
  if (delivers) {
    // A call delivers shares to its holder; a put takes them.
    Fill shares;
    shares.symbol = root;
    shares.asset_class = TH_ASSET_EQUITY;
    shares.side = (occ.right == TH_OPTION_CALL) == held_long ? TH_SIDE_BUY : TH_SIDE_SELL;
    shares.quantity = contracts * held.multiplier;
    shares.price = strike;
    shares.multiplier = 1;
    shares.contract = symbol;
    book(std::move(shares));
  }
  Fill closing;
  closing.symbol = symbol;
  closing.asset_class = TH_ASSET_OPTION;
  closing.side = held_long ? TH_SIDE_SELL : TH_SIDE_BUY;
  closing.quantity = contracts;
  closing.price = 0;
  closing.multiplier = held.multiplier;
  book(std::move(closing));
}

std::string PaperBroker::nextFillId() {
  return "F-" + state_.account_epoch + "-" + std::to_string(state_.next_fill_number++);
}

bool PaperBroker::matchOrders(const MarketEvent& event, uint64_t symbol_key, const SymbolFeed& feed,
                              std::vector<Report>& reports) {
  // Liquidity the event offers each side, shared by the orders in submit
  // order (time priority); -1 until first needed.
  double available[2] = {-1, -1};
  auto liquidity = [&](int32_t side) -> double& {
    double& units = available[side == TH_SIDE_BUY ? 0 : 1];
    if (units < 0) {
      const double offered = FillModel::offered(event, side);
      // Whole units: a fraction of a quote's size is not something to trade.
      units = offered > 0 ? std::floor(config_.participation * offered + 1e-9) : 0.0;
    }
    return units;
  };

  bool changed = false;
  // This symbol's open orders, in submit order. Fills and cancels edit open_;
  // legs placed by a fill join the queue and are judged on this same event.
  // (Both lists are members, reused: this runs on every market event.)
  std::vector<size_t>& queue = match_queue_;
  queue.clear();
  open_.withKey(symbol_key, queue);
  std::erase_if(queue, [&](size_t index) { return state_.orders[index].symbol != event.symbol; });
  size_t known = state_.orders.size();
  if (queue.empty()) return false;
  std::vector<size_t>& exits_done = exits_done_;  // a leg of each entry whose legs were judged on this event
  exits_done.clear();
  for (size_t next = 0; next < queue.size(); ++next) {
    const size_t index = queue[next];
    if (open_.contains(index)) {
      Order& order = state_.orders[index];
      if (order.symbol != event.symbol || event.ts_ns < order.workable_ns) {
        // not this symbol's event, or still in flight
      } else if (order.leg != kNoLeg) {
        const bool done = std::any_of(exits_done.begin(), exits_done.end(),
                                      [&](size_t leg) { return state_.orders[leg].parent == order.parent; });
        if (!done) {
          exits_done.push_back(index);
          changed = matchExits(order.parent, event, feed, liquidity(TH_SIDE_BUY), liquidity(TH_SIDE_SELL), reports) ||
                    changed;
        }
      } else {
        changed = matchOne(index, event, feed, liquidity(order.side), reports) || changed;
      }
    }
    for (; known < state_.orders.size(); ++known) {
      if (open_.contains(known)) queue.push_back(known);
    }
  }
  return changed;
}

bool PaperBroker::matchOne(size_t index, const MarketEvent& event, const SymbolFeed& feed, double& units,
                           std::vector<Report>& reports) {
  Order& order = state_.orders[index];
  bool changed = false;
  const Opportunity opportunity = model_.assess(order, event, feed);
  if (opportunity.triggers && !order.triggered) {
    order.triggered = true;
    changed = true;
  }
  if (!opportunity.assessed) return changed;

  double quantity = 0;
  if (opportunity.price) {
    quantity = std::min(order.remaining(), units);
    if (order.time_in_force == TH_TIF_FOK && quantity < order.remaining()) quantity = 0;
    units -= quantity;
  }
  if (quantity > 0) {
    fillOrder(index, quantity, *opportunity.price, event.ts_ns, reports);
    changed = true;
  }
  // A fill may have placed a bracket's legs, which moves the orders: look the order up again.
  const int32_t time_in_force = state_.orders[index].time_in_force;
  if (!state_.orders[index].isOpen()) return changed;
  if (time_in_force == TH_TIF_IOC) {
    closeOrder(index, TH_STATUS_CANCELED,
               "immediate-or-cancel: the unfilled rest was canceled at the first opportunity", event.ts_ns, reports);
    changed = true;
  } else if (time_in_force == TH_TIF_FOK) {
    closeOrder(index, TH_STATUS_CANCELED, "fill-or-kill: could not fill in full at the first opportunity",
               event.ts_ns, reports);
    changed = true;
  }
  return changed;
}

void PaperBroker::fillOrder(size_t index, double quantity, double price, int64_t ts_ns, std::vector<Report>& reports) {
  Order& order = state_.orders[index];
  Fill fill;
  fill.fill_id = nextFillId();
  fill.client_order_id = order.client_order_id;
  fill.broker_order_id = order.broker_order_id;
  fill.symbol = order.symbol;
  fill.asset_class = order.asset_class;
  fill.side = order.side;
  fill.quantity = quantity;
  fill.price = price;
  fill.commission = commission(order.asset_class, quantity);
  fill.multiplier = multiplierFor(order.asset_class);
  fill.ts_ns = ts_ns;
  state_.account.applyFill(fill);
  if (fill.asset_class == TH_ASSET_OPTION) next_settlement_ns_ = INT64_MIN;  // a contract may be new

  const double filled = order.filled_quantity + quantity;
  order.average_fill_price = (order.average_fill_price * order.filled_quantity + price * quantity) / filled;
  order.filled_quantity = filled;
  order.updated_ns = ts_ns;
  order.reason.clear();
  if (filled >= order.quantity - 1e-9) {
    order.status = TH_STATUS_FILLED;
    open_.erase(index);
  } else {
    order.status = TH_STATUS_PARTIALLY_FILLED;
  }
  state_.fills.push_back(fill);
  // The fill first, so the order state that follows accounts for a fill the host already has.
  reports.push_back(std::move(fill));
  reports.push_back(order);
  if (order.status == TH_STATUS_FILLED) placeExits(index, ts_ns, reports);
}

void PaperBroker::closeOrder(size_t index, int32_t status, std::string reason, int64_t ts_ns,
                             std::vector<Report>& reports) {
  Order& order = state_.orders[index];
  order.status = status;
  order.reason = std::move(reason);
  order.updated_ns = ts_ns;
  open_.erase(index);
  reports.push_back(order);
  placeExits(index, ts_ns, reports);  // an entry that ended with a part filled
}

}  // namespace th::paper
