// Which period of a timeframe an instant belongs to.
//
// Periods are aligned to the 09:30 session open, not to the clock hour:
// the first 1h bar is 09:30-10:30 and the last 15:30-16:00, the 4h bars are
// 09:30-13:30 and 13:30-16:00, and 1d is the regular session. A period never
// straddles the open or the close, so on an early-close day (13:00) the last
// 1h bar is 12:30-13:00. Outside regular hours, depending on configuration,
// instants either have no period at all (dropped from charts) or fall into
// periods on the same 09:30-anchored grid, clipped at the open, the close
// and midnight; the daily bar is always the regular session alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "chart/candle.h"
#include "config/config.h"
#include "data/calendar.h"

namespace th {

struct Period {
  int64_t start_ns = 0;
  int64_t end_ns = 0;  // exclusive
  friend bool operator==(const Period&, const Period&) = default;
};

class PeriodMap {
 public:
  PeriodMap(const SessionCalendar& calendar, OutsideSession outside) : calendar_(&calendar), outside_(outside) {}

  // The period of `timeframe` containing `ts_ns`; nullopt when the instant
  // is not charted in that timeframe.
  std::optional<Period> period(int64_t ts_ns, Timeframe timeframe) const;
  // The 1-minute period (`ts` floored to its minute) if the minute is charted.
  std::optional<Period> minute(int64_t ts_ns) const;
  // True when `ts_ns` is inside a regular session.
  bool inSession(int64_t ts_ns) const;
  OutsideSession outside() const { return outside_; }
  const SessionCalendar& calendar() const { return *calendar_; }

 private:
  // The exchange day around an instant, cached: date/tz lookups are far too
  // slow to run for every trade. Almost every call hits the same day, but
  // history for earlier sessions arrives interleaved with today's trades,
  // so the last few days are kept, the latest used first.
  struct Day {
    int64_t start_ns = 0, end_ns = 0;  // local midnight to midnight, UTC
    int64_t anchor_ns = 0;             // 09:30 local: the grid's origin
    bool trading = false;
    int64_t open_ns = 0, close_ns = 0;
  };
  const Day& dayOf(int64_t ts_ns) const;

  const SessionCalendar* calendar_;
  OutsideSession outside_;
  static constexpr size_t kCachedDays = 4;
  mutable std::array<Day, kCachedDays> cached_{};
  mutable size_t cached_count_ = 0;
};

}  // namespace th
