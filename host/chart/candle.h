// Candles and timeframes: the value types of the chart hub.
//
// Every timeframe above one minute is a fold of 1-minute candles, and the
// fold is defined once, here (`combine`), so that the chart hub's
// incremental updates and a from-scratch aggregation perform the very same
// floating-point operations in the same order and agree bit for bit.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace th {

enum class Timeframe : uint8_t { M1, M3, M5, M15, M30, H1, H4, D1 };
inline constexpr size_t kTimeframeCount = 8;
inline constexpr std::array<Timeframe, kTimeframeCount> kAllTimeframes = {Timeframe::M1,  Timeframe::M3,  Timeframe::M5,
                                                                          Timeframe::M15, Timeframe::M30, Timeframe::H1,
                                                                          Timeframe::H4,  Timeframe::D1};

// "1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d".
std::string_view timeframeName(Timeframe timeframe);
std::optional<Timeframe> parseTimeframe(std::string_view name);
// Length of a full period in minutes; 1d is the whole session (390 on a
// regular day) and is handled by the period map, not by this number.
int32_t timeframeMinutes(Timeframe timeframe);

inline constexpr int64_t kNsPerMinute = 60'000'000'000;

enum CandleFlag : uint8_t {
  // The candle will not change with live data: its period is over and it
  // was seen whole (a live minute the host joined halfway is not final,
  // so a complete history bar may still replace it).
  kCandleFinal = 1u << 0,
  kCandleLive = 1u << 1,     // built from the live feed (trades or provider aggregates)
  kCandleHistory = 1u << 2,  // came from a history (backfill) response
};

struct Candle {
  int64_t start_ns = 0;
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  uint32_t trades = 0;  // trade count; 0 when the source does not say
  uint8_t flags = 0;

  bool final() const { return flags & kCandleFinal; }
  bool live() const { return flags & kCandleLive; }
  bool history() const { return flags & kCandleHistory; }
  // The OHLCV values and count, without the bookkeeping flags.
  bool sameValues(const Candle& other) const {
    return start_ns == other.start_ns && open == other.open && high == other.high && low == other.low &&
           close == other.close && volume == other.volume && trades == other.trades;
  }
};

// `acc` with `next` (a later candle of the same period) appended, written
// to `out`, which may be `acc` itself: each field is read before it is
// written. Final only if both are; the source bits accumulate, so a period
// built from live and history minutes says so.
inline void combineInto(Candle& out, const Candle& acc, const Candle& next) {
  out.start_ns = acc.start_ns;
  out.open = acc.open;
  out.high = std::max(acc.high, next.high);
  out.low = std::min(acc.low, next.low);
  out.close = next.close;
  out.volume = acc.volume + next.volume;
  out.trades = acc.trades + next.trades;
  out.flags = static_cast<uint8_t>(((acc.flags & next.flags) & kCandleFinal) |
                                   ((acc.flags | next.flags) & (kCandleLive | kCandleHistory)));
}

// Appends `next` (a later candle of the same period) to `acc`.
inline void combine(Candle& acc, const Candle& next) { combineInto(acc, acc, next); }

// "live", "history" or "mixed".
std::string_view candleSource(const Candle& candle);

}  // namespace th
