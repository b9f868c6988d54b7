// Exchange time for the synthetic market: civil dates, the host's exchange
// calendar, and the configured run of consecutive sessions.
//
// Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
// calendar; instants are int64 nanoseconds UTC, as everywhere in the host.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <th/plugin.hpp>

namespace th::synthetic {

inline constexpr int64_t kNsPerSecond = 1'000'000'000;
inline constexpr int64_t kNsPerMinute = 60 * kNsPerSecond;
inline constexpr int64_t kNsPerDay = 86'400 * kNsPerSecond;

// The years the host's calendar covers; a bound keeps every lookup finite
// when the host clock is free-running.
inline constexpr int kFirstYear = 1990;
inline constexpr int kLastYear = 2100;

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
int64_t dayOf(int32_t yyyymmdd);  // the inverse of toYyyymmdd
std::string formatDate(int64_t days);  // "YYYY-MM-DD"
// Parses "YYYY-MM-DD" (a real date within kFirstYear..kLastYear).
std::optional<int64_t> parseDate(std::string_view text);
// The day of a real date within kFirstYear..kLastYear.
std::optional<int64_t> realDay(int year, int month, int day);

// Which days trade and when: the host's exchange calendar (host API 1.4),
// so the simulated market never disagrees with the host about a holiday or
// an early close. Days are counted from 1970-01-01 as above.
class TradingCalendar {
 public:
  // Throws Error(TH_ERR_NOT_SUPPORTED) when the host has no calendar.
  explicit TradingCalendar(const Host& host);

  bool isSessionDay(int64_t day) const;
  // The session's open and close (13:00 ET on an early close); a day
  // without a session has neither (std::nullopt).
  std::optional<std::pair<int64_t, int64_t>> hours(int64_t day) const;
  int64_t openNs(int64_t day) const { return hours(day).value().first; }
  int64_t closeNs(int64_t day) const { return hours(day).value().second; }
  // First session day on or after `day`, if the calendar has one.
  std::optional<int64_t> nextSessionDay(int64_t day) const;
  // Last session day on or before `day`, if the calendar has one.
  std::optional<int64_t> previousSessionDay(int64_t day) const;
  // The exchange date of an instant during a session day (from midnight to
  // midnight New York); for an instant on a day without a session, a day
  // without one between the sessions around it.
  int64_t exchangeDay(int64_t ts_ns) const;

 private:
  Host host_;
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
  // Makes sessions_ hold index `index`, if the schedule has it; needs mutex_.
  bool extendTo(uint64_t index) const;

  const TradingCalendar& calendar_;
  int64_t start_day_;
  uint64_t limit_;
  mutable std::mutex mutex_;
  mutable std::vector<Session> sessions_;
  mutable bool exhausted_ = false;
};

}  // namespace th::synthetic
