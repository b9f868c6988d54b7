#include "data/quality.h"

#include <th/plugin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/time.h"

namespace th {

struct DataQuality::SymbolNode {
  SymbolNode(std::string_view symbol, size_t window) : name(symbol), prices(window) {}

  const std::string name;

  // Core thread only.
  int64_t last_trade_ns = std::numeric_limits<int64_t>::min();
  uint64_t last_sequence = 0;
  int64_t last_quote_ns = std::numeric_limits<int64_t>::min();
  int64_t last_bar_start_ns = std::numeric_limits<int64_t>::min();
  bool last_bar_final = false;
  std::vector<double> prices;  // ring of the last accepted trade prices
  size_t next = 0, count = 0;
  double low = 0, high = 0;
  uint32_t outliers_in_a_row = 0;

  // Any thread.
  std::atomic<uint64_t> events{0}, flagged{0}, dropped{0};
  std::array<std::atomic<uint64_t>, kQualityIssueCount> issues{};

  void restartRange() { count = next = 0; }

  void pushPrice(double price) {
    if (count == 0) {
      low = high = price;
    }
    double evicted = prices[next];
    bool full = count == prices.size();
    prices[next] = price;
    next = (next + 1) % prices.size();
    if (!full) ++count;
    // Rescanning only when the evicted price was an extreme keeps this O(1)
    // on average for a market that wanders, and exact always.
    if (full && (evicted <= low || evicted >= high)) {
      auto [lo, hi] = std::minmax_element(prices.begin(), prices.end());
      low = *lo;
      high = *hi;
    } else {
      low = std::min(low, price);
      high = std::max(high, price);
    }
  }
};

std::string_view qualityIssueName(QualityIssue issue) {
  switch (issue) {
    case QualityIssue::OutOfOrder:
      return "out_of_order";
    case QualityIssue::Duplicate:
      return "duplicate";
    case QualityIssue::CrossedQuote:
      return "crossed_quote";
    case QualityIssue::StaleQuote:
      return "stale_quote";
    case QualityIssue::BadTick:
      return "bad_tick";
    case QualityIssue::ClosedDay:
      return "closed_day";
  }
  return "unknown";
}

std::string_view qualityActionName(QualityAction action) { return action == QualityAction::Drop ? "drop" : "flag"; }

DataQuality::DataQuality(QualityConfig config, const SessionCalendar& calendar)
    : config_(config), calendar_(calendar) {
  actions_[static_cast<size_t>(QualityIssue::OutOfOrder)] = config.out_of_order;
  actions_[static_cast<size_t>(QualityIssue::Duplicate)] = config.duplicate;
  actions_[static_cast<size_t>(QualityIssue::CrossedQuote)] = config.crossed_quote;
  actions_[static_cast<size_t>(QualityIssue::StaleQuote)] = config.stale_quote;
  actions_[static_cast<size_t>(QualityIssue::BadTick)] = config.bad_tick;
  actions_[static_cast<size_t>(QualityIssue::ClosedDay)] = QualityAction::Drop;
  config_.bad_tick_window = std::max<uint32_t>(config_.bad_tick_window, 1);
}

DataQuality::~DataQuality() = default;

DataQuality::SymbolNode& DataQuality::node(const Symbol& symbol) {
  if (auto it = nodes_.find(symbol.view()); it != nodes_.end()) return *it->second;
  auto created = std::make_unique<SymbolNode>(symbol.view(), config_.bad_tick_window);
  auto& ref = *created;
  std::lock_guard lock(mutex_);
  nodes_.emplace(std::string_view(ref.name), std::move(created));
  return ref;
}

bool DataQuality::isOutlier(const SymbolNode& node, double price) const {
  if (!std::isfinite(price) || price <= 0) return true;
  if (node.count < std::min<size_t>(kMinTradesForRange, node.prices.size())) return false;
  double middle = (node.low + node.high) / 2;
  double range = std::max(node.high - node.low, middle * config_.bad_tick_min_move_pct / 100);
  return std::abs(price - middle) > config_.bad_tick_jump * range;
}

QualityVerdict DataQuality::finish(SymbolNode& node, uint32_t issues) const {
  node.events.fetch_add(1, std::memory_order_relaxed);
  if (issues == 0) return {};
  QualityVerdict verdict{false, issues};
  for (size_t i = 0; i < kQualityIssueCount; ++i) {
    if ((issues & (1u << i)) == 0) continue;
    node.issues[i].fetch_add(1, std::memory_order_relaxed);
    if (actions_[i] == QualityAction::Drop) verdict.drop = true;
  }
  (verdict.drop ? node.dropped : node.flagged).fetch_add(1, std::memory_order_relaxed);
  return verdict;
}

uint32_t DataQuality::closedDay(int64_t ts_ns) {
  if (ts_ns < day_from_ns_ || ts_ns >= day_to_ns_) {
    const int32_t date = toExchangeTime(ts_ns).yyyymmdd;
    day_from_ns_ = fromExchangeTime(date, 0, 0);
    day_to_ns_ = fromExchangeTime(addDays(date, 1), 0, 0);
    day_closed_ = !calendar_.sessionOn(date);
  }
  return day_closed_ ? qualityIssueBit(QualityIssue::ClosedDay) : 0;
}

QualityVerdict DataQuality::checkTrade(const TradeEvent& trade) {
  SymbolNode& n = node(trade.symbol);
  uint32_t issues = closedDay(trade.ts_ns);
  bool duplicate = trade.sequence != 0 && trade.sequence == n.last_sequence;
  if (duplicate) {
    // The same print again: its order and price were judged the first time.
    issues |= qualityIssueBit(QualityIssue::Duplicate);
  } else {
    if (trade.ts_ns < n.last_trade_ns || (trade.sequence != 0 && trade.sequence < n.last_sequence)) {
      issues |= qualityIssueBit(QualityIssue::OutOfOrder);
    }
    if (!isOutlier(n, trade.price)) {
      n.outliers_in_a_row = 0;
    } else if (std::isfinite(trade.price) && trade.price > 0 && ++n.outliers_in_a_row >= kOutliersToReanchor) {
      n.outliers_in_a_row = 0;
      n.restartRange();
    } else {
      issues |= qualityIssueBit(QualityIssue::BadTick);
    }
  }
  auto verdict = finish(n, issues);
  if (!verdict.drop) {
    n.last_trade_ns = std::max(n.last_trade_ns, trade.ts_ns);
    if (trade.sequence != 0) n.last_sequence = std::max(n.last_sequence, trade.sequence);
    // A flagged bad tick is kept for whoever wants it but must not widen the
    // range that the next prints are judged against.
    if (!duplicate && !verdict.has(QualityIssue::BadTick)) n.pushPrice(trade.price);
  }
  return verdict;
}

QualityVerdict DataQuality::checkQuote(const QuoteEvent& quote, int64_t now_ns) {
  SymbolNode& n = node(quote.symbol);
  uint32_t issues = 0;
  if (quote.ts_ns < n.last_quote_ns) issues |= qualityIssueBit(QualityIssue::OutOfOrder);
  if (quote.bid > 0 && quote.ask > 0 && quote.bid > quote.ask) issues |= qualityIssueBit(QualityIssue::CrossedQuote);
  if (now_ns - quote.ts_ns > config_.stale_quote_ms * 1'000'000) issues |= qualityIssueBit(QualityIssue::StaleQuote);
  auto verdict = finish(n, issues);
  if (!verdict.drop) n.last_quote_ns = std::max(n.last_quote_ns, quote.ts_ns);
  return verdict;
}

QualityVerdict DataQuality::checkBar(const BarEvent& bar) {
  SymbolNode& n = node(bar.symbol);
  uint32_t issues = closedDay(bar.start_ns);
  if (bar.flags & TH_BAR_HISTORY) return finish(n, issues);
  if (bar.start_ns < n.last_bar_start_ns) {
    issues |= qualityIssueBit(QualityIssue::OutOfOrder);
  } else if (bar.start_ns == n.last_bar_start_ns && n.last_bar_final) {
    issues |= qualityIssueBit(QualityIssue::Duplicate);
  }
  auto verdict = finish(n, issues);
  if (!verdict.drop) {
    bool final = (bar.flags & TH_BAR_FINAL) != 0;
    if (bar.start_ns > n.last_bar_start_ns) {
      n.last_bar_start_ns = bar.start_ns;
      n.last_bar_final = final;
    } else if (bar.start_ns == n.last_bar_start_ns) {
      n.last_bar_final = n.last_bar_final || final;
    }
  }
  return verdict;
}

QualitySnapshot DataQuality::snapshot() const {
  QualitySnapshot out;
  out.actions = actions_;
  std::lock_guard lock(mutex_);
  out.symbols.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) {
    SymbolQuality s;
    s.symbol = node->name;
    s.events = node->events.load(std::memory_order_relaxed);
    s.flagged = node->flagged.load(std::memory_order_relaxed);
    s.dropped = node->dropped.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kQualityIssueCount; ++i) s.issues[i] = node->issues[i].load(std::memory_order_relaxed);
    out.events += s.events;
    out.flagged += s.flagged;
    out.dropped += s.dropped;
    out.symbols.push_back(std::move(s));
  }
  std::sort(out.symbols.begin(), out.symbols.end(),
            [](const SymbolQuality& a, const SymbolQuality& b) { return a.symbol < b.symbol; });
  return out;
}

}  // namespace th
