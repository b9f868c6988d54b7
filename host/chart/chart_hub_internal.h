// The chart hub's per-symbol state, shared by its implementation files.
#pragma once

#include <limits>

#include "chart/chart_hub.h"

namespace th {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

inline int64_t floorMinute(int64_t ts_ns) {
  int64_t r = ts_ns % kNsPerMinute;
  return ts_ns - (r < 0 ? r + kNsPerMinute : r);
}

// A derived timeframe and the running fold of its newest period: the
// period's minutes before the newest one, combined in order, so a trade
// that changes the newest minute costs one `combine`, and the result is
// bit-identical to folding every minute of the period from scratch.
struct DerivedSeries {
  explicit DerivedSeries(size_t capacity) : bars(capacity) {}
  // What taking in a minute reads, together; bars.back() follows.
  int64_t newest_minute = kNever;
  bool has_closed = false;
  Period period{};  // of bars.back()
  Candle closed{};  // fold of the period's minutes before `newest_minute`
  CandleSeries bars;
};

// The most minutes a symbol's derived series may lag behind by: enough
// that taking them in is a batch, few enough to gather on the stack.
inline constexpr size_t kMaxPendingMinutes = 32;

struct OpenGap {
  int64_t from_ns = 0, to_ns = 0;
  bool in_flight = false;
  int64_t retry_at_ns = 0;
  // A failed initial or range backfill waiting to be asked again: when it
  // succeeds it also moves the start of the known history back.
  bool extends_history = false;
};

struct alignas(64) ChartHub::SymbolState {
  explicit SymbolState(std::string symbol, size_t capacity) : minutes(capacity), name(std::move(symbol)) {}

  // A trade reads the first two cache lines and, almost always, nothing
  // else: the name it is looked up by, the live minute's state, and the
  // live minute itself (the first thing in `minutes`).
  std::array<uint64_t, 4> key{};  // the name as a th::Symbol's bytes; zero when too long to index
  int64_t live_start = kNever;    // start of the newest live minute
  int64_t last_update_ns = 0;
  int64_t quiet_minute = kNever;  // trades in it need not call propagate(), which sets it
  bool live_open = false;         // still taking live data
  bool trade_based = false;       // trades seen: provider aggregates are then only merge candidates
  bool derived_any = false;       // some derived series exists
  bool derived_eager = false;     // some derived series is watched: no deferring (ChartHub::propagate)
  bool minute_watched = false;    // watchers[M1] > 0
  uint8_t pending_count = 0;
  CandleSeries minutes;

  int64_t frontier = kNever;      // periods ending at or before this are over
  int64_t pending_last = kNever;  // the newest minute the derived series have yet to take in
  std::array<uint32_t, kTimeframeCount> watchers{};
  std::array<std::unique_ptr<DerivedSeries>, kTimeframeCount> derived;  // [0] unused: 1m is `minutes`
  std::array<int64_t, kMaxPendingMinutes> pending{};                    // starts, oldest first

  std::string name;
  bool live_complete = false;       // the feed was up for the whole minute so far
  int64_t stream_since = kForever;  // host time from which the live feed is known complete

  // History and health.
  int64_t known_from = kForever;  // earliest instant the series holds all history for
  uint64_t gaps_detected = 0;
  std::vector<OpenGap> gaps;
  uint64_t in_flight = 0;
  std::string backfill_error;  // the last failed backfill, until one succeeds
  SeriesState published_state = SeriesState::Live;

  // Markers, oldest first.
  std::deque<Marker> markers;
  std::vector<Marker> new_markers;  // since the last takeUpdates(), for watchers

  // Fan-out.
  std::array<uint64_t, kTimeframeCount> sequence{};
  std::array<std::vector<int64_t>, kTimeframeCount> dirty;  // changed candle starts, watched series only
  bool health_dirty = false;
  bool queued = false;  // in dirty_symbols_

  bool watched() const {
    for (auto w : watchers) {
      if (w) return true;
    }
    return false;
  }
};

inline bool ChartHub::periodOver(const SymbolState& sym, const Period& period) const {
  return period.end_ns <= sym.frontier;
}

inline void ChartHub::markDirty(SymbolState& sym, Timeframe timeframe, int64_t start_ns) {
  size_t index = static_cast<size_t>(timeframe);
  if (!sym.watchers[index]) return;
  // A watched series changes with every trade, almost always in the candle
  // it changed last.
  const auto& dirty = sym.dirty[index];
  if (sym.queued && !dirty.empty() && dirty.back() == start_ns) return;
  noteDirty(sym, timeframe, start_ns);
}

// Candle and message JSON, shared by the hub's messages and the REST routes.
std::string candleJson(const Candle& candle);
std::string markerJson(const Marker& marker);

}  // namespace th
