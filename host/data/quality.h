// Data quality: every market event is checked on the core thread before
// anything acts on it. Out-of-order and duplicate events, crossed and stale
// quotes, and bad ticks (a price that jumps too far from the recent range)
// are counted per symbol and, as configured for each kind, either flagged
// (kept) or dropped. Trades and bars on a day the exchange calendar says
// was closed are always dropped: no session, chart or strategy takes them. The checks run once per event, so they do not allocate
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
#include "data/calendar.h"

namespace th {

enum class QualityIssue : uint8_t { OutOfOrder, Duplicate, CrossedQuote, StaleQuote, BadTick, ClosedDay };
inline constexpr size_t kQualityIssueCount = 6;

// "out_of_order", "duplicate", "crossed_quote", "stale_quote", "bad_tick",
// "closed_day": the names the configuration, the API and the metrics use.
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

  // `calendar` tells closed days; it must outlive this object.
  explicit DataQuality(QualityConfig config = {}, const SessionCalendar& calendar = SessionCalendar::builtin());
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
  // (TH_BAR_HISTORY) are counted but not checked: backfill arrives in any
  // order. A trade or a bar of any kind on a day without a session is
  // closed_day, always dropped.
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
  // qualityIssueBit(ClosedDay) when ts_ns falls on an exchange date without
  // a session; the last date asked about is remembered (a time zone lookup
  // per event would cost more than the checks).
  uint32_t closedDay(int64_t ts_ns);

  QualityConfig config_;
  const SessionCalendar& calendar_;
  int64_t day_from_ns_ = 0, day_to_ns_ = 0;  // the exchange date last asked about
  bool day_closed_ = false;
  std::array<QualityAction, kQualityIssueCount> actions_{};
  // Keys view the name inside their own node, which never moves, so a lookup
  // by the event's inline symbol needs no allocation.
  std::unordered_map<std::string_view, std::unique_ptr<SymbolNode>> nodes_;
  // Taken by the core thread only to add a symbol, and by snapshot(): finds
  // on the core thread are reads and may overlap a snapshot safely.
  mutable std::mutex mutex_;
};

}  // namespace th
