#include "calendar.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace th::synthetic {

// Howard Hinnant's days_from_civil / civil_from_days algorithms: exact for
// every Gregorian date, no tables, no time zone database.
int64_t daysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civilFromDays(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day};
}

int weekday(int64_t days) {
  // 1970-01-01 was a Thursday.
  int64_t w = (days + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int64_t nthWeekdayOfMonth(int year, int month, int wday, int n) {
  int64_t first = daysFromCivil(year, month, 1);
  int offset = (wday - weekday(first) + 7) % 7;
  return first + offset + 7 * (n - 1);
}

int64_t dayOf(int32_t yyyymmdd) { return daysFromCivil(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100); }

int32_t toYyyymmdd(int64_t days) {
  CivilDate c = civilFromDays(days);
  return c.year * 10000 + c.month * 100 + c.day;
}

std::string formatDate(int64_t days) {
  CivilDate c = civilFromDays(days);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", c.year, c.month, c.day);
  return text;
}

std::optional<int64_t> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t count) -> std::optional<int> {
    int value = 0;
    for (size_t i = from; i < from + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  if (!year || !month || !day) return std::nullopt;
  return realDay(*year, *month, *day);
}

std::optional<int64_t> realDay(int year, int month, int day) {
  if (year < kFirstYear || year > kLastYear || month < 1 || month > 12 || day < 1) return std::nullopt;
  int64_t days = daysFromCivil(year, month, day);
  // Rejects 2026-02-30 and the like: the round trip would land elsewhere.
  CivilDate back = civilFromDays(days);
  if (back.month != month || back.day != day) return std::nullopt;
  return days;
}

namespace {

// How far the day-by-day searches look: longer than any closure since 1990
// (four days in 2001), so only the calendar's end stops them.
constexpr int kSearchDays = 14;
constexpr int64_t kNsPerHour = 3600 * kNsPerSecond;

}  // namespace

TradingCalendar::TradingCalendar(const Host& host) : host_(host) {
  if (!host_.hasCalendar()) {
    throw Error(TH_ERR_NOT_SUPPORTED, "synthetic: the host has no exchange calendar (host API 1.4 or later is needed)");
  }
}

std::optional<std::pair<int64_t, int64_t>> TradingCalendar::hours(int64_t day) const {
  std::optional<th_session> session = host_.sessionOn(toYyyymmdd(day));
  if (!session) return std::nullopt;
  return std::pair{session->open_ns, session->close_ns};
}

bool TradingCalendar::isSessionDay(int64_t day) const { return hours(day).has_value(); }

std::optional<int64_t> TradingCalendar::nextSessionDay(int64_t day) const {
  for (int i = 0; i < kSearchDays; ++i, ++day) {
    if (isSessionDay(day)) return day;
  }
  return std::nullopt;
}

std::optional<int64_t> TradingCalendar::previousSessionDay(int64_t day) const {
  for (int i = 0; i < kSearchDays; ++i, --day) {
    if (isSessionDay(day)) return day;
  }
  return std::nullopt;
}

int64_t TradingCalendar::exchangeDay(int64_t ts_ns) const {
  // Sessions open at 09:30 on weekdays, and New York changes its clocks
  // only early on Sundays, so a session day's midnights are 9.5 h before
  // its open and 14.5 h after it.
  if (std::optional<th_session> last = host_.previousSession(ts_ns)) {
    if (ts_ns < last->open_ns + 14 * kNsPerHour + 30 * kNsPerMinute) return dayOf(last->date);
  }
  if (std::optional<th_session> next = host_.nextSession(ts_ns)) {
    if (next->open_ns - ts_ns <= 9 * kNsPerHour + 30 * kNsPerMinute) return dayOf(next->date);
    // Past the last session's day and before the next one's: the day
    // before the next session has none.
    return dayOf(next->date) - 1;
  }
  return ts_ns / kNsPerDay;
}

SessionSchedule::SessionSchedule(const TradingCalendar& calendar, int64_t start_day, uint64_t limit)
    : calendar_(calendar), start_day_(start_day), limit_(limit) {}

bool SessionSchedule::extendTo(uint64_t index) const {
  if (limit_ != 0 && index >= limit_) return false;
  while (sessions_.size() <= index) {
    if (exhausted_) return false;
    std::optional<int64_t> next = calendar_.nextSessionDay(sessions_.empty() ? start_day_ : sessions_.back().day + 1);
    if (!next) {
      exhausted_ = true;
      return false;
    }
    auto [open, close] = calendar_.hours(*next).value();
    sessions_.push_back({sessions_.size(), *next, open, close});
  }
  return true;
}

std::optional<Session> SessionSchedule::session(uint64_t index) const {
  std::lock_guard lock(mutex_);
  if (!extendTo(index)) return std::nullopt;
  return sessions_[index];
}

std::optional<Session> SessionSchedule::firstClosingAfter(int64_t ns) const {
  std::lock_guard lock(mutex_);
  // Extend until the last known session closes after ns (or the run ends).
  while (sessions_.empty() || sessions_.back().close_ns <= ns) {
    if (!extendTo(sessions_.size())) return std::nullopt;
  }
  auto it = std::partition_point(sessions_.begin(), sessions_.end(),
                                 [&](const Session& session) { return session.close_ns <= ns; });
  return *it;
}

std::optional<Session> SessionSchedule::lastClosedBy(int64_t ns) const {
  std::optional<Session> next = firstClosingAfter(ns);
  std::lock_guard lock(mutex_);
  uint64_t count = next ? next->index : sessions_.size();
  if (count == 0) return std::nullopt;
  return sessions_[count - 1];
}

}  // namespace th::synthetic
