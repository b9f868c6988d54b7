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
  CandleSeries bars;
  Period period{};          // of bars.back()
  Candle closed{};          // fold of the period's minutes before `newest_minute`
  bool has_closed = false;
  int64_t newest_minute = kNever;
};

struct OpenGap {
  int64_t from_ns = 0, to_ns = 0;
  bool in_flight = false;
  int64_t retry_at_ns = 0;
};

struct ChartHub::SymbolState {
  explicit SymbolState(std::string symbol, size_t capacity) : name(std::move(symbol)), minutes(capacity) {}

  std::string name;
  CandleSeries minutes;
  std::array<std::unique_ptr<DerivedSeries>, kTimeframeCount> derived;  // [0] unused: 1m is `minutes`

  // The live minute: the only candle live data may still change.
  bool trade_based = false;         // trades seen: provider aggregates are then only merge candidates
  int64_t live_start = kNever;      // start of the newest live minute
  bool live_open = false;           // still taking live data
  bool live_complete = false;       // the feed was up for the whole minute so far
  int64_t stream_since = kForever;  // host time from which the live feed is known complete
  int64_t frontier = kNever;        // periods ending at or before this are over

  // History and health.
  int64_t known_from = kForever;  // earliest instant the series holds all history for
  int64_t last_update_ns = 0;
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
  std::array<uint32_t, kTimeframeCount> watchers{};
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

// Candle and message JSON, shared by the hub's messages and the REST routes.
std::string candleJson(const Candle& candle);
std::string markerJson(const Marker& marker);

}  // namespace th
