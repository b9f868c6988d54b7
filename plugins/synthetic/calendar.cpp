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
  if (*year < kFirstYear || *year > kLastYear || *month < 1 || *month > 12 || *day < 1) return std::nullopt;
  int64_t days = daysFromCivil(*year, *month, *day);
  // Rejects 2026-02-30 and the like: the round trip would land elsewhere.
  CivilDate back = civilFromDays(days);
  if (back.month != *month || back.day != *day) return std::nullopt;
  return days;
}

namespace {

int64_t lastWeekday(int year, int month, int wday) {
  int64_t next_month = month == 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
  int64_t last = next_month - 1;
  return last - (weekday(last) - wday + 7) % 7;
}

// Gregorian Easter Sunday (the anonymous "Meeus/Jones/Butcher" algorithm).
int64_t easterSunday(int year) {
  int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = (h + l - 7 * m + 114) % 31 + 1;
  return daysFromCivil(year, month, day);
}

// A fixed-date holiday observed on Friday when it falls on Saturday and on
// Monday when it falls on Sunday.
int64_t observed(int64_t day) {
  int w = weekday(day);
  return w == 6 ? day - 1 : w == 0 ? day + 1 : day;
}

// Published NYSE calendar, 2024-2028 (NYSE Group holiday announcements).
// 2025-01-09 is the National Day of Mourning for President Carter, a closure
// no rule produces; 2028 observes no New Year's Day (it falls on a Saturday).
constexpr int32_t kNyseHolidays[] = {
    20240101, 20240115, 20240219, 20240329, 20240527, 20240619, 20240704, 20240902, 20241128, 20241225,
    20250101, 20250109, 20250120, 20250217, 20250418, 20250526, 20250619, 20250704, 20250901, 20251127,
    20251225, 20260101, 20260119, 20260216, 20260403, 20260525, 20260619, 20260703, 20260907, 20261126,
    20261225, 20270101, 20270118, 20270215, 20270326, 20270531, 20270618, 20270705, 20270906, 20271125,
    20271224, 20280117, 20280221, 20280414, 20280529, 20280619, 20280704, 20280904, 20281123, 20281225};

// Early closes (13:00 ET) for the same years.
constexpr int32_t kNyseEarlyCloses[] = {20240703, 20241129, 20241224, 20250703, 20251128, 20251224,
                                        20261127, 20261224, 20271126, 20280703, 20281124};

bool inTable(int64_t day) {
  int year = civilFromDays(day).year;
  return year >= 2024 && year <= 2028;
}

template <size_t N>
bool tableHas(const int32_t (&table)[N], int64_t day) {
  return std::binary_search(std::begin(table), std::end(table), toYyyymmdd(day));
}

}  // namespace

bool nyseRuleHoliday(int64_t day) {
  int w = weekday(day);
  if (w == 0 || w == 6) return false;
  int year = civilFromDays(day).year;
  // New Year's Day moves to Monday from a Sunday, but NYSE does not close on
  // the Friday before a Saturday New Year (that Friday is still December).
  int64_t new_year = daysFromCivil(year, 1, 1);
  if (weekday(new_year) != 6 && day == observed(new_year)) return true;
  if (day == nthWeekdayOfMonth(year, 1, 1, 3)) return true;                      // Martin Luther King Jr. Day
  if (day == nthWeekdayOfMonth(year, 2, 1, 3)) return true;                      // Washington's Birthday
  if (day == easterSunday(year) - 2) return true;                                // Good Friday
  if (day == lastWeekday(year, 5, 1)) return true;                               // Memorial Day
  if (year >= 2022 && day == observed(daysFromCivil(year, 6, 19))) return true;  // Juneteenth
  if (day == observed(daysFromCivil(year, 7, 4))) return true;                   // Independence Day
  if (day == nthWeekdayOfMonth(year, 9, 1, 1)) return true;                      // Labor Day
  if (day == nthWeekdayOfMonth(year, 11, 4, 4)) return true;                     // Thanksgiving
  if (day == observed(daysFromCivil(year, 12, 25))) return true;                 // Christmas
  return false;
}

bool nyseRuleEarlyClose(int64_t day) {
  if (nyseRuleHoliday(day)) return false;
  int w = weekday(day);
  if (w == 0 || w == 6) return false;
  int year = civilFromDays(day).year;
  // July 3 and December 24 close early when they fall Monday to Thursday
  // (on a Friday they are the observed holiday itself).
  if ((day == daysFromCivil(year, 7, 3) || day == daysFromCivil(year, 12, 24)) && w >= 1 && w <= 4) return true;
  return day == nthWeekdayOfMonth(year, 11, 4, 4) + 1;  // the day after Thanksgiving
}

bool nyseHoliday(int64_t day) { return inTable(day) ? tableHas(kNyseHolidays, day) : nyseRuleHoliday(day); }

bool nyseEarlyClose(int64_t day) { return inTable(day) ? tableHas(kNyseEarlyCloses, day) : nyseRuleEarlyClose(day); }

int64_t easternOffsetNs(int64_t utc_ns) {
  int64_t utc_day = utc_ns >= 0 ? utc_ns / kNsPerDay : (utc_ns - kNsPerDay + 1) / kNsPerDay;
  int year = civilFromDays(utc_day).year;
  // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
  int64_t dst_start = nthWeekdayOfMonth(year, 3, 0, 2) * kNsPerDay + 7 * 3600 * kNsPerSecond;
  int64_t dst_end = nthWeekdayOfMonth(year, 11, 0, 1) * kNsPerDay + 6 * 3600 * kNsPerSecond;
  bool daylight = utc_ns >= dst_start && utc_ns < dst_end;
  return (daylight ? -4 : -5) * 3600 * kNsPerSecond;
}

int64_t easternToUtcNs(int64_t day, int minute_of_day) {
  int year = civilFromDays(day).year;
  bool daylight = day >= nthWeekdayOfMonth(year, 3, 0, 2) && day < nthWeekdayOfMonth(year, 11, 0, 1);
  int64_t local = day * kNsPerDay + minute_of_day * kNsPerMinute;
  return local + (daylight ? 4 : 5) * 3600 * kNsPerSecond;
}

int64_t easternDay(int64_t utc_ns) {
  int64_t local = utc_ns + easternOffsetNs(utc_ns);
  return local >= 0 ? local / kNsPerDay : (local - kNsPerDay + 1) / kNsPerDay;
}

TradingCalendar::TradingCalendar(std::optional<std::set<int64_t>> holidays,
                                 std::optional<std::set<int64_t>> early_closes)
    : holidays_(std::move(holidays)), early_closes_(std::move(early_closes)) {}

bool TradingCalendar::isHoliday(int64_t day) const { return holidays_ ? holidays_->count(day) > 0 : nyseHoliday(day); }

bool TradingCalendar::isEarlyClose(int64_t day) const {
  return early_closes_ ? early_closes_->count(day) > 0 : nyseEarlyClose(day);
}

bool TradingCalendar::isSessionDay(int64_t day) const {
  int w = weekday(day);
  return w != 0 && w != 6 && !isHoliday(day);
}

int64_t TradingCalendar::openNs(int64_t day) const { return easternToUtcNs(day, 9 * 60 + 30); }

int64_t TradingCalendar::closeNs(int64_t day) const {
  return easternToUtcNs(day, isEarlyClose(day) ? 13 * 60 : 16 * 60);
}

std::optional<int64_t> TradingCalendar::nextSessionDay(int64_t day) const {
  static const int64_t last = daysFromCivil(kLastYear, 12, 31);
  for (; day <= last; ++day) {
    if (isSessionDay(day)) return day;
  }
  return std::nullopt;
}

std::optional<int64_t> TradingCalendar::previousSessionDay(int64_t day) const {
  static const int64_t first = daysFromCivil(kFirstYear, 1, 1);
  for (; day >= first; --day) {
    if (isSessionDay(day)) return day;
  }
  return std::nullopt;
}

SessionSchedule::SessionSchedule(const TradingCalendar& calendar, int64_t start_day, uint64_t limit)
    : calendar_(calendar), start_day_(start_day), limit_(limit) {}

bool SessionSchedule::extendTo(uint64_t index) const {
  if (limit_ != 0 && index >= limit_) return false;
  while (days_.size() <= index) {
    if (exhausted_) return false;
    std::optional<int64_t> next = calendar_.nextSessionDay(days_.empty() ? start_day_ : days_.back() + 1);
    if (!next) {
      exhausted_ = true;
      return false;
    }
    days_.push_back(*next);
  }
  return true;
}

Session SessionSchedule::make(uint64_t index) const {
  int64_t day = days_[index];
  return {index, day, calendar_.openNs(day), calendar_.closeNs(day)};
}

std::optional<Session> SessionSchedule::session(uint64_t index) const {
  std::lock_guard lock(mutex_);
  if (!extendTo(index)) return std::nullopt;
  return make(index);
}

std::optional<Session> SessionSchedule::firstClosingAfter(int64_t ns) const {
  std::lock_guard lock(mutex_);
  // Extend until the last known session closes after ns (or the run ends).
  while (days_.empty() || calendar_.closeNs(days_.back()) <= ns) {
    if (!extendTo(days_.size())) return std::nullopt;
  }
  auto it = std::partition_point(days_.begin(), days_.end(), [&](int64_t day) { return calendar_.closeNs(day) <= ns; });
  return make(static_cast<uint64_t>(it - days_.begin()));
}

std::optional<Session> SessionSchedule::lastClosedBy(int64_t ns) const {
  std::optional<Session> next = firstClosingAfter(ns);
  std::lock_guard lock(mutex_);
  uint64_t count = next ? next->index : days_.size();
  if (count == 0) return std::nullopt;
  return make(count - 1);
}

}  // namespace th::synthetic
