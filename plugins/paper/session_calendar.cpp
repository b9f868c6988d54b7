#include "session_calendar.h"

#include <chrono>

#include "paper_types.h"

namespace th::paper {

SessionCalendar::SessionCalendar(const Host& host) : host_(host) {
  if (!host_.hasCalendar()) {
    throw Error(TH_ERR_NOT_SUPPORTED, "paper: the host has no exchange calendar (host API 1.4 or later is needed)");
  }
}

int64_t SessionCalendar::dayOrderExpiry(int64_t submitted_ns) const {
  const auto session = host_.nextSession(submitted_ns);
  return session ? session->close_ns : kNever;
}

int64_t SessionCalendar::closeOn(int32_t yyyymmdd) const {
  if (const auto session = host_.sessionOn(yyyymmdd)) return session->close_ns;
  using namespace std::chrono;
  const year_month_day ymd{year(yyyymmdd / 10000), month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
                           day(static_cast<unsigned>(yyyymmdd % 100))};
  if (!ymd.ok()) return kNever;
  // 12:00 UTC is early morning in New York, before any open that day, so
  // the last session opened by then is the last one before the date.
  const auto noon = sys_days(ymd) + hours(12);
  const auto session = host_.previousSession(duration_cast<nanoseconds>(noon.time_since_epoch()).count());
  return session ? session->close_ns : kNever;
}

}  // namespace th::paper
