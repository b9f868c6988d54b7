// Exchange time for the synthetic market: civil dates, America/New_York
// (US daylight-saving rule since 2007), the NYSE holiday and early-close
// calendar, and the configured run of consecutive sessions.
//
// Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
// calendar; instants are int64 nanoseconds UTC, as everywhere in the host.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace th::synthetic {

inline constexpr int64_t kNsPerSecond = 1'000'000'000;
inline constexpr int64_t kNsPerMinute = 60 * kNsPerSecond;
inline constexpr int64_t kNsPerDay = 86'400 * kNsPerSecond;

// The calendar supports these years: the DST rule below took effect in 2007,
// and a bound keeps every lookup finite when the host clock is free-running.
inline constexpr int kFirstYear = 2007;
inline constexpr int kLastYear = 2199;

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

int64_t daysFromCivil(int year, int month, int day);
CivilDate civilFromDays(int64_t days);
int weekday(int64_t days);  // 0 = Sunday ... 6 = Saturday
// The n-th (1-based) `wday` (0 = Sunday) of a month, e.g. (y, m, 5, 3) is the third Friday.
int64_t nthWeekdayOfMonth(int year, int month, int wday, int n);
int32_t toYyyymmdd(int64_t days);
std::string formatDate(int64_t days);  // "YYYY-MM-DD"
// Parses "YYYY-MM-DD" (a real date within kFirstYear..kLastYear).
std::optional<int64_t> parseDate(std::string_view text);

// UTC offset of America/New_York at an instant: -4 h in daylight time
// (second Sunday of March 02:00 to first Sunday of November 02:00), else -5 h.
// Implemented from the rule rather than tzdata so the stream does not change
// with the installed tzdata version.
int64_t easternOffsetNs(int64_t utc_ns);
// The instant of a New York wall-clock time on a date. Defined for daytime
// (after 03:00), which is all the market uses, so the DST-switch hour never
// makes it ambiguous.
int64_t easternToUtcNs(int64_t day, int minute_of_day);
// The New York calendar date of an instant.
int64_t easternDay(int64_t utc_ns);

// Built-in NYSE calendar: the published table for 2024-2028 (it includes
// one-off closures no rule predicts), the holiday rules for other years.
bool nyseHoliday(int64_t day);
bool nyseEarlyClose(int64_t day);
// The rules alone, exposed so tests can check them against the table.
bool nyseRuleHoliday(int64_t day);
bool nyseRuleEarlyClose(int64_t day);

// Which days trade and when. Config lists, when given, replace the built-in
// holidays / early closes entirely.
class TradingCalendar {
 public:
  TradingCalendar(std::optional<std::set<int64_t>> holidays, std::optional<std::set<int64_t>> early_closes);

  bool isHoliday(int64_t day) const;
  bool isEarlyClose(int64_t day) const;
  bool isSessionDay(int64_t day) const;
  int64_t openNs(int64_t day) const;   // 09:30 ET
  int64_t closeNs(int64_t day) const;  // 16:00 ET, or 13:00 ET on early closes
  // First session day on or after `day`, if any before the end of kLastYear.
  std::optional<int64_t> nextSessionDay(int64_t day) const;
  // Last session day on or before `day`, if any from kFirstYear.
  std::optional<int64_t> previousSessionDay(int64_t day) const;

 private:
  std::optional<std::set<int64_t>> holidays_;
  std::optional<std::set<int64_t>> early_closes_;
};

struct Session {
  uint64_t index;  // 0 = the first configured session
  int64_t day;
  int64_t open_ns;
  int64_t close_ns;
  int minutes() const { return static_cast<int>((close_ns - open_ns) / kNsPerMinute); }
};

// The configured run of consecutive sessions: the first on or after the
// start date, `limit` of them (0 = until the calendar ends). Thread-safe; the
// list of session days is extended on demand.
class SessionSchedule {
 public:
  SessionSchedule(const TradingCalendar& calendar, int64_t start_day, uint64_t limit);

  std::optional<Session> session(uint64_t index) const;
  // The first session whose close is after `ns`: the one in progress at
  // `ns`, or else the next one to open.
  std::optional<Session> firstClosingAfter(int64_t ns) const;
  // The last session that closed at or before `ns`.
  std::optional<Session> lastClosedBy(int64_t ns) const;
  uint64_t limit() const { return limit_; }

 private:
  // Makes days_ hold index `index`, if the schedule has it; needs mutex_.
  bool extendTo(uint64_t index) const;
  Session make(uint64_t index) const;

  const TradingCalendar& calendar_;
  int64_t start_day_;
  uint64_t limit_;
  mutable std::mutex mutex_;
  mutable std::vector<int64_t> days_;
  mutable bool exhausted_ = false;
};

}  // namespace th::synthetic
