// The chart hub: one candle truth for every timeframe.
//
// It builds 1-minute candles from trades (or takes the provider's 1-minute
// aggregates when a symbol has no trade stream) and derives 3m, 5m, 15m,
// 30m, 1h, 4h and 1d from that one series, aligned to the 09:30 open, so
// that aggregating the 1-minute candles of any period gives exactly that
// period's candle, in every timeframe, however series are opened or
// switched. History (backfill) is merged in and never written over: a
// final live candle is never replaced, and a partial one only by a history
// candle at least as complete (by volume). Gaps inside the session and
// minutes the live feed saw only in part are detected and repaired by
// single-flight history requests. Each series reports its health (LIVE,
// BACKFILLING, DEGRADED, STALE), carries markers (fills, strategy levels,
// signals, notes), and numbers its changes so that a WebSocket client
// can tell when it missed one. Everything here runs on the core thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chart/candle.h"
#include "chart/candle_series.h"
#include "chart/periods.h"
#include "core/error.h"
#include "core/event.h"

namespace th {

struct DerivedSeries;

struct ChartOptions {
  size_t capacity = 2000;  // candles kept per (symbol, timeframe)
  OutsideSession outside = OutsideSession::Drop;
  int64_t stale_after_ns = 120'000'000'000;
  int64_t final_grace_ns = 2'000'000'000;
  int32_t backfill_sessions = 1;            // initial history from the open of this many sessions back
  std::string provider;                     // reported as each series' source
  size_t max_markers = 10'000;              // per symbol; the oldest go first
  int64_t retry_after_ns = 30'000'000'000;  // a failed gap backfill is asked again after this long
};

// A provider's 1-minute bar as a candle: live or history by TH_BAR_HISTORY,
// final by TH_BAR_FINAL.
Candle toCandle(const BarEvent& bar);
// And back: `candle` of `symbol` as a bar event lasting `duration_ns`, with `flags` (TH_BAR_*).
BarEvent toBarEvent(std::string_view symbol, const Candle& candle, int64_t duration_ns, uint32_t flags);

enum class SeriesState : uint8_t { Live, Backfilling, Degraded, Stale };
std::string_view seriesStateName(SeriesState state);

struct SeriesHealth {
  SeriesState state = SeriesState::Live;
  int64_t last_update_ns = 0;  // host time of the last change; 0 = never
  int64_t age_ns = -1;         // since then; -1 = never updated
  uint64_t gaps_detected = 0;
  uint64_t gaps_open = 0;  // detected and not yet filled
  uint64_t backfills_in_flight = 0;
  std::string source;  // the data plugin
  std::string reason;  // why DEGRADED or STALE
};

enum class MarkerKind : uint8_t { Fill, Level, Signal, Text };
std::string_view markerKindName(MarkerKind kind);
std::optional<MarkerKind> parseMarkerKind(std::string_view name);

struct Marker {
  uint64_t id = 0;  // assigned by the hub
  int64_t ts_ns = 0;
  MarkerKind kind = MarkerKind::Text;
  double price = 0;    // 0 when the marker has no price (a note)
  std::string text;    // what a reader sees: "BUY 100 @ 590.12", "ORB high"
  std::string origin;  // "broker" for fills, else the strategy id
  std::string side;    // "buy" / "sell" for fills and signals, else empty
};

// What the hub asks of the session. Called on the core thread.
class ChartHost {
 public:
  virtual ~ChartHost() = default;
  virtual int64_t nowNs() const = 0;
  // Fetches 1-minute history for [from, to) and answers later, on the core
  // thread, with ChartHub::historyArrived(id, ...). Exactly one answer.
  virtual void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) = 0;
  // The hub has started charting a symbol nobody subscribed to yet.
  virtual void wantLive(const std::string& symbol) = 0;
};

struct ChartStats {
  uint64_t trades = 0;
  uint64_t live_bars = 0;          // provider aggregates taken from the live feed
  uint64_t late_trades = 0;        // for a minute already closed; ignored
  uint64_t outside_session = 0;    // trades and bars not charted (outside_session: drop)
  uint64_t history_bars = 0;       // candles in history answers
  uint64_t history_merged = 0;     // of those, inserted or replacing a partial candle
  uint64_t history_kept_live = 0;  // refused: the series' own candle was final or more complete
  uint64_t history_too_old = 0;    // older than a full series retains
  uint64_t backfill_requests = 0;  // sent to the provider
  uint64_t backfill_joined = 0;    // asks answered by a request already in flight
  uint64_t backfill_errors = 0;
  uint64_t gaps_detected = 0;
  uint64_t gaps_filled = 0;
  uint64_t repairs = 0;  // live minutes seen in part, asked for again
};

class ChartHub {
 public:
  ChartHub(ChartOptions options, const SessionCalendar& calendar, ChartHost& host);
  ~ChartHub();
  ChartHub(const ChartHub&) = delete;
  ChartHub& operator=(const ChartHub&) = delete;

  // ---- live feed and housekeeping
  // Starts charting a symbol whose live feed has just been subscribed:
  // the feed is complete from now on, and history fills in the sessions before.
  void track(std::string_view symbol);
  void onTrade(const TradeEvent& trade);
  void onBar(const BarEvent& bar);  // a provider aggregate, live or history
  // The chart provider's connection changed; while it is down no minute is
  // seen whole, and series are DEGRADED.
  void providerConnection(bool connected, std::string_view reason);
  // Closes minutes whose time is up, marks stale series, retries failed
  // backfills. Call often (every idle tick).
  void tick();
  // The answer to ChartHost::requestHistory(id, ...): bars oldest first.
  void historyArrived(uint64_t id, Result<std::vector<Candle>> bars);
  void addMarker(std::string_view symbol, Marker marker);

  // ---- reads (core thread)
  bool knows(std::string_view symbol) const;
  std::vector<std::string> symbols() const;  // sorted
  size_t symbolCount() const { return symbols_.size(); }
  // The series of a timeframe, deriving it from the 1-minute series the
  // first time it is asked for. Unknown symbols are tracked first. The
  // reference stays valid, but for a symbol with no derived series watched
  // the derived ones take in new minutes only when read through the hub
  // (series(), snapshot(), watch()): ask again after feeding events rather
  // than keep reading an old reference. The 1-minute series and watched
  // series are always current.
  const CandleSeries& series(std::string_view symbol, Timeframe timeframe);
  SeriesHealth health(std::string_view symbol) const;
  std::vector<Marker> markers(std::string_view symbol, int64_t from_ns, int64_t to_ns) const;
  // The change number of a series: bumped once per published update.
  uint64_t sequence(std::string_view symbol, Timeframe timeframe) const;
  // Makes sure the series holds what history can give from `from_ns` on
  // (clamped to what the 1-minute series can keep), then calls `ready`
  // (maybe at once). Concurrent asks for one range share one request.
  void ensureHistory(std::string_view symbol, int64_t from_ns, std::function<void(Result<void>)> ready);
  const ChartStats& stats() const { return stats_; }
  const PeriodMap& periods() const { return periods_; }

  // ---- WebSocket fan-out
  struct Update {
    std::string topic;  // "SPY:5m"
    std::shared_ptr<const std::string> text;
  };
  // A client starts watching a series: returns its snapshot message (the
  // newest `max_bars` candles, health, markers, and the current sequence).
  // From now on its changes are collected for takeUpdates().
  std::shared_ptr<const std::string> watch(std::string_view symbol, Timeframe timeframe, size_t max_bars);
  // A fresh snapshot for a client that is already watching (resync).
  std::shared_ptr<const std::string> snapshot(std::string_view symbol, Timeframe timeframe, size_t max_bars);
  void unwatch(std::string_view symbol, Timeframe timeframe);
  // One message per changed, watched series since the last call, each
  // numbered with the series' next sequence and serialised once.
  std::vector<Update> takeUpdates();

  struct SymbolState;  // defined in chart_hub_internal.h

 private:
  friend struct ChartHubAccess;
  SymbolState* find(std::string_view symbol) const;
  SymbolState* find(const Symbol& symbol) const;  // the same, for events
  SymbolState& ensure(std::string_view symbol);
  // Live minutes.
  void tradeOffTheHotPath(const TradeEvent& trade, SymbolState* found);
  void openLiveMinute(SymbolState& sym, const Period& minute, const Candle& first, bool complete);
  void closeLiveMinute(SymbolState& sym);
  // Rederives the periods a 1-minute candle just put in place belongs to,
  // now or, for a symbol nobody watches, when its derived series are next
  // read (catchUp).
  void propagate(SymbolState& sym, const Candle& minute);
  void deriveMinute(SymbolState& sym, const Candle& minute);
  void catchUp(SymbolState& sym);
  void watchersChanged(SymbolState& sym);
  // `previous`, when given, is the 1-minute series' current candle for the
  // minute before `minute` (spares looking it up).
  void updateDerived(SymbolState& sym, Timeframe timeframe, const Candle& minute, const Candle* previous = nullptr);
  // Writes the newest derived candle: the running fold and `minute`, the
  // newest minute of its period.
  void writeHead(SymbolState& sym, Timeframe timeframe, DerivedSeries& derived, const Candle& minute);
  // Rederives the newest period, once no minute before its newest changed.
  void finishHead(SymbolState& sym, Timeframe timeframe);
  void recompute(SymbolState& sym, Timeframe timeframe, const Period& period);
  void markDirty(SymbolState& sym, Timeframe timeframe, int64_t start_ns);  // inline: cheap when unwatched
  void noteDirty(SymbolState& sym, Timeframe timeframe, int64_t start_ns);
  bool periodOver(const SymbolState& sym, const Period& period) const;
  // History.
  bool mergeMinute(SymbolState& sym, Candle candidate);
  enum class BackfillKind : uint8_t { Initial, Range, Gap, Repair };
  void backfill(SymbolState& sym, int64_t from_ns, int64_t to_ns, BackfillKind kind,
                std::function<void(Result<void>)> ready);
  void detectGap(SymbolState& sym, int64_t from_ns, int64_t to_ns);
  SeriesState stateOf(const SymbolState& sym, std::string* reason) const;
  std::string healthJson(const SymbolState& sym) const;

  ChartOptions options_;
  PeriodMap periods_;
  ChartHost& host_;
  std::unordered_map<std::string, std::unique_ptr<SymbolState>> symbols_;
  // Every event looks its symbol up, so names that fit a th::Symbol (every
  // ticker and OCC symbol) are also indexed in an open-addressing table of
  // hashes of the Symbol's 32 bytes, taken from the event as they are: no
  // string is built, hashed byte by byte or chased through a bucket list.
  // Longer names are looked up in symbols_.
  struct IndexSlot {
    uint64_t hash = 0;  // of state->key
    SymbolState* state = nullptr;
  };
  std::vector<IndexSlot> index_;
  int index_shift_ = 0;  // slot = hash >> index_shift_
  size_t index_used_ = 0;
  void indexInsert(SymbolState* sym);
  bool provider_connected_ = true;
  std::string provider_reason_;
  struct Backfill {
    SymbolState* sym = nullptr;
    int64_t from_ns = 0, to_ns = 0;
    BackfillKind kind = BackfillKind::Range;
    std::vector<std::function<void(Result<void>)>> waiters;
  };
  std::map<uint64_t, Backfill> in_flight_;
  uint64_t next_request_id_ = 1;
  uint64_t next_marker_id_ = 1;
  std::vector<SymbolState*> dirty_symbols_;
  ChartStats stats_;
};

}  // namespace th
