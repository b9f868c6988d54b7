// The exchange calendar: NYSE regular sessions in America/New_York (DST
// through date/tz), computed by rule for every year from 1990 to 2100 —
// the holidays with their observed-day shifts, the special closures since
// 1990 and the 13:00 early closes since 2010 — with an optional YAML file
// that adds to the rules (a closure or early close they cannot know, a
// rule holiday the exchange traded after all). Every question the host and
// its plugins ask about "is the market open" and "where does this session
// start and end" is answered here and nowhere else: plugins reach it
// through the host API table (calendar_abi.h).
#pragma once

#include <th/plugin.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace th {

// One regular session. Times are UTC nanoseconds.
struct TradingSession {
  int32_t date = 0;  // exchange date, yyyymmdd
  int64_t open_ns = 0;
  int64_t close_ns = 0;
  int64_t regular_close_ns = 0;  // when a full day would close: close_ns but on an early close
  bool early_close = false;
};

class SessionCalendar {
 public:
  // The years the rules are written for: before 1990 the special closures
  // are not listed, after 2100 nobody has checked them.
  static constexpr int32_t kFirstRuleYear = 1990;
  static constexpr int32_t kLastRuleYear = 2100;

  // The rules alone, for kFirstRuleYear..kLastRuleYear.
  SessionCalendar();
  // The rules alone, built once; what `data.calendar: builtin` means.
  static const SessionCalendar& builtin();
  // The rules with a YAML override applied; errors read
  // "source:line:col: key: reason".
  static Result<SessionCalendar> parse(const std::string& text, const std::string& source);
  static Result<SessionCalendar> load(const std::string& path);

  // The session on an exchange date, if the market trades that day.
  std::optional<TradingSession> sessionOn(int32_t yyyymmdd) const;
  // The session on the exchange date of `ts_ns` (whether or not ts is inside it).
  std::optional<TradingSession> sessionOnDateOf(int64_t ts_ns) const;
  // True when ts is inside [open, close) of its date's session.
  bool isOpen(int64_t ts_ns) const;
  // The first session whose close is after ts (the current one while open).
  std::optional<TradingSession> nextSession(int64_t ts_ns) const;
  // The last session whose open is at or before ts (the current one while open).
  std::optional<TradingSession> previousSession(int64_t ts_ns) const;

  // True for a date inside the covered years (whether or not it trades).
  bool covers(int32_t yyyymmdd) const;
  // Why a weekday does not trade ("Good Friday") or closes early ("Day
  // after Thanksgiving"); empty for an ordinary day or a weekend.
  std::string_view dayName(int32_t yyyymmdd) const;

  int32_t firstYear() const { return first_year_; }
  int32_t lastYear() const { return last_year_; }
  const std::string& source() const { return source_; }
  const std::string& exchange() const { return exchange_; }

 private:
  // Throws ConfigError or YAML::Exception; parse() turns both into an Error.
  static SessionCalendar parseUnchecked(const std::string& text, const std::string& source);
  void applyRules();
  // Index of a covered date in close_minute_, or -1.
  int64_t indexOf(int32_t yyyymmdd) const;
  void close(int32_t yyyymmdd, std::string name);
  void closeEarly(int32_t yyyymmdd, int32_t minute, std::string name);

  std::string source_ = "<built-in NYSE rules>";
  std::string exchange_ = "NYSE";
  int32_t first_year_ = kFirstRuleYear, last_year_ = kLastRuleYear;
  int32_t open_minute_ = 9 * 60 + 30, close_minute_ = 16 * 60;
  int64_t first_day_ = 0;                   // days since 1970-01-01 of first_year_'s January 1
  std::vector<uint16_t> day_close_;         // per day from first_day_: the close, 0 = no session
  std::map<int32_t, std::string> names_;    // yyyymmdd -> why it is closed or closes early
};

// Writes the answer to one of the host API's calendar calls
// (th_host_api.session_on, next_session, previous_session) into `out`, by
// the size the plugin declared: TH_OK, or TH_ERR_NOT_FOUND without a session.
th_status toAbiSession(const std::optional<TradingSession>& session, th_session* out);

}  // namespace th
