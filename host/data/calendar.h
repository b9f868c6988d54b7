// The exchange session calendar: NYSE regular hours in America/New_York
// (DST through date/tz), with holidays and early closes read from a YAML
// file (config/calendar.yaml, compiled in as the default). Every question
// the chart hub and the strategies ask about "is the market open" and
// "where does this session start" is answered here and nowhere else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/error.h"

namespace th {

// One regular session. Times are UTC nanoseconds.
struct TradingSession {
  int32_t date = 0;  // exchange date, yyyymmdd
  int64_t open_ns = 0;
  int64_t close_ns = 0;
  bool early_close = false;
};

class SessionCalendar {
 public:
  // Parses the calendar YAML; errors read "source:line:col: key: reason".
  static Result<SessionCalendar> parse(const std::string& text, const std::string& source);
  static Result<SessionCalendar> load(const std::string& path);
  // config/calendar.yaml as compiled into the binary. Throws std::logic_error
  // if that file does not parse (a build defect: calendar_test catches it).
  static const SessionCalendar& embedded();
  static const std::string& embeddedText();

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

  // First and last year the file covers; dates outside have no sessions.
  int32_t firstYear() const { return first_year_; }
  int32_t lastYear() const { return last_year_; }
  const std::string& source() const { return source_; }
  const std::string& exchange() const { return exchange_; }

 private:
  // Throws ConfigError or YAML::Exception; parse() turns both into an Error.
  static SessionCalendar parseUnchecked(const std::string& text, const std::string& source);

  std::string source_;
  std::string exchange_;
  int32_t first_year_ = 0, last_year_ = 0;
  int32_t open_minute_ = 9 * 60 + 30, close_minute_ = 16 * 60;
  std::set<int32_t> holidays_;               // yyyymmdd
  std::map<int32_t, int32_t> early_closes_;  // yyyymmdd -> close minute of day
};

}  // namespace th
