// Data quality: every market event is checked on the core thread before
// anything acts on it. Out-of-order and duplicate events, crossed and stale
// quotes, and bad ticks (a price that jumps too far from the recent range)
// are counted per symbol and, as configured for each kind, either flagged
// (kept) or dropped. The checks run once per event, so they do not allocate
// except the first time a symbol is seen; the counters are atomics that any
// thread may read through snapshot().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/event.h"

namespace th {

enum class QualityIssue : uint8_t { OutOfOrder, Duplicate, CrossedQuote, StaleQuote, BadTick };
inline constexpr size_t kQualityIssueCount = 5;

// "out_of_order", "duplicate", "crossed_quote", "stale_quote", "bad_tick":
// the names the configuration, the API and the metrics use.
std::string_view qualityIssueName(QualityIssue issue);
std::string_view qualityActionName(QualityAction action);
constexpr uint32_t qualityIssueBit(QualityIssue issue) { return 1u << static_cast<uint32_t>(issue); }

struct QualityVerdict {
  bool drop = false;    // at least one issue found is configured to drop
  uint32_t issues = 0;  // qualityIssueBit() of every issue found
  bool has(QualityIssue issue) const { return (issues & qualityIssueBit(issue)) != 0; }
};

struct SymbolQuality {
  std::string symbol;
  uint64_t events = 0;                                // market events checked
  uint64_t flagged = 0;                               // events kept with at least one issue
  uint64_t dropped = 0;                               // events discarded
  std::array<uint64_t, kQualityIssueCount> issues{};  // by QualityIssue
};

struct QualitySnapshot {
  std::array<QualityAction, kQualityIssueCount> actions{};  // by QualityIssue
  uint64_t events = 0, flagged = 0, dropped = 0;
  std::vector<SymbolQuality> symbols;  // sorted by symbol
};

class DataQuality {
 public:
  // A trade this far out of range five times in a row is the market moving
  // (a halt reopening, a gap), not five bad prints: the range restarts from it.
  static constexpr uint32_t kOutliersToReanchor = 5;
  // The range needs this many trades before it can call anything a jump.
  static constexpr uint32_t kMinTradesForRange = 5;

  explicit DataQuality(QualityConfig config = {});
  ~DataQuality();
  DataQuality(const DataQuality&) = delete;
  DataQuality& operator=(const DataQuality&) = delete;

  // Core thread only. A trade is out of order when its timestamp is before
  // the last accepted trade's or its non-zero provider sequence is lower; a
  // duplicate when it repeats the last non-zero sequence; a bad tick when the
  // price is not positive or lies farther than bad_tick_jump × max(range,
  // mid × bad_tick_min_move_pct / 100) from the middle of the range of the
  // last bad_tick_window accepted trades.
  QualityVerdict checkTrade(const TradeEvent& trade);
  // Crossed: bid > ask with both sides present (bid == ask is a locked market
  // and allowed). Stale: older than now_ns by more than stale_quote_ms.
  QualityVerdict checkQuote(const QuoteEvent& quote, int64_t now_ns);
  // Live bars only: a start before the last live bar's is out of order, the
  // same start again after that bar was final is a duplicate. History bars
  // (TH_BAR_HISTORY) are counted but not checked: backfill arrives in any order.
  QualityVerdict checkBar(const BarEvent& bar);

  // Any thread.
  QualitySnapshot snapshot() const;
  QualityAction action(QualityIssue issue) const { return actions_[static_cast<size_t>(issue)]; }
  const QualityConfig& config() const { return config_; }

 private:
  struct SymbolNode;
  SymbolNode& node(const Symbol& symbol);
  bool isOutlier(const SymbolNode& node, double price) const;
  QualityVerdict finish(SymbolNode& node, uint32_t issues) const;

  QualityConfig config_;
  std::array<QualityAction, kQualityIssueCount> actions_{};
  // Keys view the name inside their own node, which never moves, so a lookup
  // by the event's inline symbol needs no allocation.
  std::unordered_map<std::string_view, std::unique_ptr<SymbolNode>> nodes_;
  // Taken by the core thread only to add a symbol, and by snapshot(): finds
  // on the core thread are reads and may overlap a snapshot safely.
  mutable std::mutex mutex_;
};

}  // namespace th
