// Exchange time: America/New_York with DST, through Howard Hinnant's date/tz
// and the system tz database. Inside the host, times are UTC nanoseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace th {

struct ExchangeTime {
  int32_t yyyymmdd = 0;
  int32_t minute_of_day = 0;  // minutes since local midnight
  int32_t second = 0;
};

ExchangeTime toExchangeTime(int64_t utc_ns);
// Local exchange wall time (date yyyymmdd, hh:mm:ss) to UTC nanoseconds.
int64_t fromExchangeTime(int32_t yyyymmdd, int32_t hour, int32_t minute, int32_t second = 0);

// "2026-11-20" for 20261120.
std::string isoDate(int32_t yyyymmdd);

// The exchange date `days` calendar days after (before, when negative) a date.
int32_t addDays(int32_t yyyymmdd, int32_t days);

// ISO 8601 in exchange time with its offset, e.g. 2026-11-20T09:30:00-05:00.
std::string formatExchangeTime(int64_t utc_ns);
// ISO 8601 in UTC with milliseconds, e.g. 2026-11-20T14:30:00.000Z.
std::string formatUtc(int64_t utc_ns);

// Parses "YYYY-MM-DD" (09:30 exchange time that day), "YYYY-MM-DDTHH:MM[:SS]"
// (exchange time) or the same with a "Z" or "+hh:mm" offset.
Result<int64_t> parseTime(std::string_view text);

}  // namespace th
