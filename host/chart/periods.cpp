#include "chart/periods.h"

#include <algorithm>
#include <string>

#include "core/time.h"

namespace th {
namespace {

// Floor division that is right for negative offsets (instants before 09:30).
int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// `offset` floored to a whole number of the timeframe's periods. Each
// length a constant: a division by a variable costs more than the rest of
// a period lookup.
template <int64_t kMinutes>
int64_t floorTo(int64_t offset) {
  constexpr int64_t kLength = kMinutes * kNsPerMinute;
  return floorDiv(offset, kLength) * kLength;
}

int64_t floorToPeriod(int64_t offset, Timeframe timeframe) {
  switch (timeframe) {
    case Timeframe::M1:
      return floorTo<1>(offset);
    case Timeframe::M3:
      return floorTo<3>(offset);
    case Timeframe::M5:
      return floorTo<5>(offset);
    case Timeframe::M15:
      return floorTo<15>(offset);
    case Timeframe::M30:
      return floorTo<30>(offset);
    case Timeframe::H1:
      return floorTo<60>(offset);
    case Timeframe::H4:
      return floorTo<240>(offset);
    case Timeframe::D1:
      break;  // the session: handled by the caller
  }
  return floorTo<390>(offset);
}


}  // namespace

std::string_view timeframeName(Timeframe timeframe) {
  static constexpr std::string_view kNames[] = {"1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d"};
  return kNames[static_cast<size_t>(timeframe)];
}

std::optional<Timeframe> parseTimeframe(std::string_view name) {
  for (auto timeframe : kAllTimeframes) {
    if (timeframeName(timeframe) == name) return timeframe;
  }
  return std::nullopt;
}

int32_t timeframeMinutes(Timeframe timeframe) {
  static constexpr int32_t kMinutes[] = {1, 3, 5, 15, 30, 60, 240, 390};
  return kMinutes[static_cast<size_t>(timeframe)];
}

std::string_view candleSource(const Candle& candle) {
  if (candle.live() && candle.history()) return "mixed";
  return candle.history() ? "history" : "live";
}

const PeriodMap::Day& PeriodMap::dayOf(int64_t ts_ns) const {
  for (size_t i = 0; i < cached_count_; ++i) {
    if (ts_ns >= cached_[i].start_ns && ts_ns < cached_[i].end_ns) {
      std::rotate(cached_.begin(), cached_.begin() + static_cast<ptrdiff_t>(i),
                  cached_.begin() + static_cast<ptrdiff_t>(i) + 1);
      return cached_[0];
    }
  }
  int32_t date = toExchangeTime(ts_ns).yyyymmdd;
  Day day;
  day.start_ns = fromExchangeTime(date, 0, 0);
  day.end_ns = fromExchangeTime(addDays(date, 1), 0, 0);
  day.anchor_ns = fromExchangeTime(date, 9, 30);
  if (auto session = calendar_->sessionOn(date)) {
    day.trading = true;
    day.open_ns = session->open_ns;
    day.close_ns = session->close_ns;
    day.anchor_ns = session->open_ns;
  }
  cached_count_ = std::min(cached_count_ + 1, kCachedDays);
  std::rotate(cached_.begin(), cached_.begin() + static_cast<ptrdiff_t>(cached_count_) - 1,
              cached_.begin() + static_cast<ptrdiff_t>(cached_count_));
  cached_[0] = day;
  return cached_[0];
}

bool PeriodMap::inSession(int64_t ts_ns) const {
  const Day& day = dayOf(ts_ns);
  return day.trading && ts_ns >= day.open_ns && ts_ns < day.close_ns;
}

std::optional<Period> PeriodMap::minute(int64_t ts_ns) const {
  // Asked for every live minute of every symbol: the session's minutes,
  // almost all of them, take the short way. Sessions open and close on
  // whole minutes, so nothing is clipped.
  const Day& day = dayOf(ts_ns);
  if (day.trading && ts_ns >= day.open_ns && ts_ns < day.close_ns) {
    int64_t start = day.anchor_ns + floorTo<1>(ts_ns - day.anchor_ns);
    return Period{start, start + kNsPerMinute};
  }
  return period(ts_ns, Timeframe::M1);
}

std::optional<Period> PeriodMap::period(int64_t ts_ns, Timeframe timeframe) const {
  const Day& day = dayOf(ts_ns);
  bool in_session = day.trading && ts_ns >= day.open_ns && ts_ns < day.close_ns;
  if (!in_session && outside_ == OutsideSession::Drop) return std::nullopt;
  if (timeframe == Timeframe::D1) {
    if (!in_session) return std::nullopt;
    return Period{day.open_ns, day.close_ns};
  }
  // The clip window: the session itself, or the stretch of the day before
  // the open or after the close (the whole day when the market is shut).
  int64_t lo = day.start_ns, hi = day.end_ns;
  if (day.trading) {
    if (in_session) {
      lo = day.open_ns;
      hi = day.close_ns;
    } else if (ts_ns < day.open_ns) {
      hi = day.open_ns;
    } else {
      lo = day.close_ns;
    }
  }
  int64_t length = timeframeMinutes(timeframe) * kNsPerMinute;
  int64_t start = day.anchor_ns + floorToPeriod(ts_ns - day.anchor_ns, timeframe);
  return Period{std::max(start, lo), std::min(start + length, hi)};
}

}  // namespace th
