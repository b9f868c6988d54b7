#include "session_calendar.h"

#include <th/plugin.hpp>

#include <date/tz.h>
#include <chrono>

#include "paper_types.h"

namespace th::paper {

SessionCalendar::SessionCalendar() {
  try {
    zone_ = date::locate_zone("America/New_York");
  } catch (const std::exception& e) {
    throw Error(TH_ERR_INTERNAL, std::string("paper: cannot load time zone America/New_York: ") + e.what());
  }
}

int64_t SessionCalendar::dayOrderExpiry(int64_t submitted_ns) const {
  using namespace std::chrono;
  // Near the end of int64 time (a host clock left at its maximum) no close
  // is representable; such an order never expires.
  constexpr int64_t kLastSeconds = kNever / 1'000'000'000 - int64_t{8} * 86'400;
  const int64_t submitted_s = submitted_ns / 1'000'000'000;
  if (submitted_s >= kLastSeconds || submitted_ns < 0) return kNever;

  const date::sys_seconds submitted{seconds(submitted_s)};
  date::local_days day = floor<date::days>(zone_->to_local(submitted));
  for (int i = 0; i < 8; ++i, day += date::days(1)) {
    const date::weekday weekday{day};
    if (weekday == date::Saturday || weekday == date::Sunday) continue;
    // 16:00 is never skipped or repeated by a New York DST change.
    const date::sys_seconds close = zone_->to_sys(day + hours(16), date::choose::earliest);
    const int64_t close_ns = close.time_since_epoch().count() * 1'000'000'000;
    if (close_ns > submitted_ns) return close_ns;
  }
  return kNever;
}

int64_t SessionCalendar::closeOn(int32_t yyyymmdd) const {
  using namespace std::chrono;
  const date::year_month_day ymd{date::year(yyyymmdd / 10000), date::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
                                 date::day(static_cast<unsigned>(yyyymmdd % 100))};
  if (!ymd.ok()) return kNever;
  const date::sys_seconds close = zone_->to_sys(date::local_days(ymd) + hours(16), date::choose::earliest);
  return close.time_since_epoch().count() * 1'000'000'000;
}

}  // namespace th::paper
