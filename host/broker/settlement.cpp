// Options at expiry: what a broker books without an order (a contract that
// expired, was exercised or assigned, and the shares that moved) belongs to
// the strategies that held the contract. The broker reports the shares
// first, then the fill that closes the contract (plugin.h, ABI 1.3). And
// what no broker settles: a contract held both ways across books.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <th/occ.hpp>

#include <algorithm>
#include <cmath>

#include "broker/broker_service.h"
#include "core/time.h"

namespace th {
namespace {

// What is left of a quantity after whole units are taken from it: rounding.
constexpr double kQuantityEpsilon = 1e-9;
constexpr int64_t kMinuteNs = 60'000'000'000;

std::string bookName(const std::string& strategy) { return strategy.empty() ? "manual" : strategy; }

}  // namespace

void BrokerService::bookSettlement(const std::string& broker_id, const FillEvent& event, const FillInput& fill) {
  PositionBook& positions = bookFor(broker_id);
  if (positions.seenFill(event.fill_id)) {
    ++stats_.duplicate_fills;
    return;
  }
  const bool delivery = !event.contract.empty();
  const std::string& contract = delivery ? event.contract : event.symbol;
  const Position* account = positions.accountPosition(contract);
  // What the ABI allows a settlement to be; anything else is refused, as an invalid fill is.
  std::string wrong;
  if (fill.activity < TH_FILL_EXPIRED || fill.activity > TH_FILL_ASSIGNED) {
    wrong = fmt::format("unknown activity {}", fill.activity);
  } else if (!account || std::abs(account->quantity) <= kQuantityEpsilon) {
    wrong = fmt::format("the account holds no {}", contract);
  } else if (delivery ? fill.asset_class != TH_ASSET_EQUITY || !(fill.price > 0)
                      : fill.asset_class != TH_ASSET_OPTION || fill.price != 0 ||
                            (account->quantity > 0) == (fill.side == TH_SIDE_BUY) ||
                            fill.quantity > std::abs(account->quantity) + kQuantityEpsilon) {
    wrong = delivery ? "the shares of an exercise or assignment come at the strike"
                     : "a contract's settlement closes what the account holds, at price 0";
  }
  if (!wrong.empty()) {
    spdlog::error("fill {} from '{}' ({} {}) refused: {}", event.fill_id, broker_id, fillActivityName(fill.activity),
                  event.symbol, wrong);
    return;
  }

  // The holders of the contract, in the strategies' name order, each up to
  // what it holds (for the shares: its contracts times their multiplier);
  // what none of them holds is the hand-placed book's.
  const double direction = account->quantity < 0 ? -1.0 : 1.0;
  std::vector<SettlementShare> holders;
  double left = fill.quantity;
  for (const std::string& strategy : positions.strategies()) {
    if (strategy == kManualStrategy || left <= kQuantityEpsilon) continue;
    const Position* held = positions.strategyPosition(strategy, contract);
    if (!held || held->quantity * direction <= kQuantityEpsilon) continue;
    const double take = std::min(left, std::abs(held->quantity) * (delivery ? held->multiplier : 1.0));
    holders.push_back({strategy, take});
    left -= take;
  }
  if (left > kQuantityEpsilon) holders.push_back({std::string(kManualStrategy), left});
  std::vector<SettlementShare> shares = delivery ? deliveredFrom(positions, fill, holders) : std::move(holders);

  const std::string_view what = fillActivityName(fill.activity);
  for (size_t i = 0; i < shares.size(); ++i) {
    FillInput part = fill;
    part.strategy = shares[i].strategy;
    part.quantity = shares[i].quantity;
    // One fill id a book: the first part keeps the broker's, which is what a repeated report is known by.
    if (i > 0) part.fill_id = fmt::format("{}/{}", event.fill_id, bookName(part.strategy));
    if (!bookFill(broker_id, part, nullptr, {})) continue;
    spdlog::info("{} {}: {} {} {} at {} for {}", contract, what, part.side == TH_SIDE_SELL ? "sold" : "bought",
                 part.quantity, part.symbol, part.price, bookName(part.strategy));
  }
  // The shares moved at the strike, but they are worth what the market says.
  if (delivery) {
    if (auto price = prices_.find(fill.symbol); price != prices_.end() && price->second.price > 0) {
      positions.mark(fill.symbol, price->second.price);
    }
  }
  rememberSettlement(event.fill_id, std::move(shares));
}

void BrokerService::rememberSettlement(const std::string& fill_id, std::vector<SettlementShare> shares) {
  settlements_[fill_id] = std::move(shares);
  settlement_order_.push_back(fill_id);
  // Strategies hear of a settlement straight after it is booked: a few are enough.
  constexpr size_t kSettlementsKept = 256;
  if (settlement_order_.size() > kSettlementsKept) {
    settlements_.erase(settlement_order_.front());
    settlement_order_.pop_front();
  }
}

// A contract two books hold both ways (a strategy short the calls the trader
// bought back by hand) is flat in the account, so the broker settles nothing
// at its expiry, yet each book still holds its side. Once the contract has
// expired the two sides are closed against each other at what it was worth
// at the end: its intrinsic value at the underlying's last price, to the
// cent (0 out of the money). Each book's P&L is then what the contract made
// it, and no shares move in a book that did not move in the account. What
// the account still holds is the broker's to settle (bookSettlement gives it
// to the strategies first), so the side the account is on is offset from the
// hand-placed book first, then the strategies in name order; either way
// round the books end as the account does.
void BrokerService::offsetExpiredContracts() {
  const int64_t now = host_.nowNs();
  if (now < next_offset_check_ns_) return;
  next_offset_check_ns_ = now + kMinuteNs;  // a contract expires at 16:00: a minute late is soon enough
  for (auto& [broker_id, positions] : books_) {
    std::vector<std::string> contracts;
    positions.contractsInBooks(contracts);
    if (contracts.empty()) continue;
    std::sort(contracts.begin(), contracts.end());
    contracts.erase(std::unique(contracts.begin(), contracts.end()), contracts.end());
    for (const std::string& contract : contracts) offsetContract(broker_id, contract, now);
  }
}

void BrokerService::offsetContract(const std::string& broker_id, const std::string& contract, int64_t now_ns) {
  const auto occ = parseOccSymbol(contract);
  if (!occ) return;
  // 16:00 New York on the expiry day (after an early close as well).
  const int64_t expired_at = fromExchangeTime(occ->expiry_yyyymmdd, 16, 0);
  if (now_ns < expired_at) return;
  PositionBook& positions = bookFor(broker_id);
  struct Held {
    std::string book;
    double quantity;  // contracts, > 0
    double multiplier;
  };
  std::vector<Held> longs, shorts;
  double long_total = 0, short_total = 0;
  for (const std::string& book : positions.strategies()) {  // sorted: the hand-placed book ("") first
    const Position* p = positions.strategyPosition(book, contract);
    if (!p || std::abs(p->quantity) <= kQuantityEpsilon) continue;
    (p->quantity > 0 ? longs : shorts).push_back({book, std::abs(p->quantity), p->multiplier});
    (p->quantity > 0 ? long_total : short_total) += std::abs(p->quantity);
  }
  const double both = std::min(long_total, short_total);
  if (both <= kQuantityEpsilon) return;

  const std::string root(occ->root);
  const double spot = lastPrice(root);
  const double strike = occ->strike();
  const double in_the_money = !(spot > 0) ? 0.0 : occ->right == TH_OPTION_CALL ? spot - strike : strike - spot;
  const double value = std::max(0.0, std::round(in_the_money * 100) / 100);
  if (!(spot > 0)) {
    spdlog::warn("{} expired held both ways with no price of {} seen; its sides are closed against each other at 0",
                 contract, root);
  }
  std::vector<std::string> parts;
  auto close = [&](const std::vector<Held>& side, int32_t fill_side) {
    double left = both;
    for (const Held& held : side) {
      if (left <= kQuantityEpsilon) break;
      const double take = std::min(left, held.quantity);
      left -= take;
      FillEvent event;
      // Unique, should the same book ever be offset in the contract again (a late report of an older trade).
      event.fill_id = fmt::format("{}/offset/{}/{}", contract, bookName(held.book), now_ns);
      event.symbol = contract;
      event.asset_class = TH_ASSET_OPTION;
      event.side = fill_side;
      event.quantity = take;
      event.price = value;
      event.multiplier = held.multiplier;
      event.ts_ns = expired_at;
      event.activity = kFillOffset;
      if (!bookFill(broker_id, fillInput(event, held.book), nullptr, {})) continue;
      rememberSettlement(event.fill_id, {{held.book, take}});
      parts.push_back(fmt::format("{} {} {}", bookName(held.book), fill_side == TH_SIDE_SELL ? "sold" : "bought", take));
      host_.serviceFill(std::move(event));
    }
  };
  close(longs, TH_SIDE_SELL);
  close(shorts, TH_SIDE_BUY);
  spdlog::info("{} expired held both ways across books: {} closed against each other at {} ({} at {}): {}", contract,
               both, value, root, spot, fmt::join(parts, ", "));
}

// An exercise's or assignment's shares come first out of (or into) each
// holder's own position in them, then out of the hand-placed book's (shares
// bought by hand are what calls sold against them deliver); what is left
// opens a position in the holder's book. Another strategy's shares are never
// touched: its own orders still work on them. The parts come in name order,
// the hand-placed book ("") first.
std::vector<BrokerService::SettlementShare> BrokerService::deliveredFrom(const PositionBook& positions,
                                                                        const FillInput& fill,
                                                                        const std::vector<SettlementShare>& holders) {
  const double closes = fill.side == TH_SIDE_SELL ? 1.0 : -1.0;  // the sign of a position the fill reduces
  std::map<std::string, double, std::less<>> spare;             // per book: what the fill can still reduce
  auto spareOf = [&](const std::string& book) -> double& {
    auto [it, added] = spare.try_emplace(book, 0.0);
    if (added) {
      if (const Position* p = positions.strategyPosition(book, fill.symbol)) {
        it->second = std::max(0.0, p->quantity * closes);
      }
    }
    return it->second;
  };
  std::map<std::string, double, std::less<>> parts;
  std::vector<SettlementShare> rest;
  for (const SettlementShare& holder : holders) {
    double& own = spareOf(holder.strategy);
    const double take = std::min(own, holder.quantity);
    own -= take;
    if (take > kQuantityEpsilon) parts[holder.strategy] += take;
    if (holder.quantity - take > kQuantityEpsilon) rest.push_back({holder.strategy, holder.quantity - take});
  }
  const std::string manual(kManualStrategy);
  for (SettlementShare& holder : rest) {
    double& by_hand = spareOf(manual);
    const double take = std::min(by_hand, holder.quantity);
    by_hand -= take;
    if (take > kQuantityEpsilon) parts[manual] += take;
    if (holder.quantity - take > kQuantityEpsilon) parts[holder.strategy] += holder.quantity - take;
  }
  std::vector<SettlementShare> out;
  for (auto& [book, quantity] : parts) out.push_back({book, quantity});
  return out;
}

const std::vector<BrokerService::SettlementShare>* BrokerService::settlementShares(std::string_view fill_id) const {
  auto it = settlements_.find(fill_id);
  return it == settlements_.end() ? nullptr : &it->second;
}

std::vector<std::string> BrokerService::optionContractsInPlay() const {
  std::vector<std::string> out;
  for (const auto& [id, order] : open_) {
    if (order->intent.asset_class == AssetClass::Option) out.push_back(order->intent.symbol);
  }
  for (const auto& [broker, book] : books_) book.heldContracts(out);
  if (out.empty()) return out;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace th
