#include "core/time.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <climits>

namespace th {
namespace {

const date::time_zone* newYork() {
  static const date::time_zone* zone = date::locate_zone("America/New_York");
  return zone;
}

using SysNs = date::sys_time<std::chrono::nanoseconds>;

bool readInt(std::string_view text, size_t pos, size_t len, int& out) {
  if (pos + len > text.size()) return false;
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return ec == std::errc() && ptr == text.data() + pos + len;
}

// New York's UTC offset at `utc_ns`. The time zone database is searched once
// per span of one offset (a DST period) per thread: strategies ask for every
// bar, and every stored order prints two times.
int64_t utcOffsetNs(int64_t utc_ns) {
  constexpr int64_t kSecond = 1'000'000'000;
  thread_local int64_t begin_ns = 1, end_ns = 0, offset_ns = 0;
  if (utc_ns < begin_ns || utc_ns >= end_ns) {
    auto seconds = date::floor<std::chrono::seconds>(SysNs(std::chrono::nanoseconds(utc_ns)));
    auto info = newYork()->get_info(seconds);
    auto to_ns = [](date::sys_seconds t) {
      const int64_t s = t.time_since_epoch().count();
      if (s >= INT64_MAX / kSecond) return INT64_MAX;
      if (s <= INT64_MIN / kSecond) return INT64_MIN;
      return s * kSecond;
    };
    begin_ns = to_ns(info.begin);
    end_ns = to_ns(info.end);
    offset_ns = std::chrono::duration_cast<std::chrono::seconds>(info.offset).count() * kSecond;
  }
  return offset_ns;
}

}  // namespace

ExchangeTime toExchangeTime(int64_t utc_ns) {
  const auto local = date::local_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(utc_ns + utcOffsetNs(utc_ns)));
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd(day);
  auto since_midnight = std::chrono::duration_cast<std::chrono::seconds>(local - day).count();
  ExchangeTime out;
  out.yyyymmdd = static_cast<int>(ymd.year()) * 10000 + static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
                 static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.minute_of_day = static_cast<int32_t>(since_midnight / 60);
  out.second = static_cast<int32_t>(since_midnight % 60);
  return out;
}

int64_t fromExchangeTime(int32_t yyyymmdd, int32_t hour, int32_t minute, int32_t second) {
  date::year_month_day ymd{date::year(yyyymmdd / 10000), date::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
                           date::day(static_cast<unsigned>(yyyymmdd % 100))};
  auto local =
      date::local_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
  // During the autumn repeat hour, take the earlier instant; in the spring
  // gap, the later. Sessions never fall there, but user input might.
  auto sys = newYork()->to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sys.time_since_epoch()).count();
}

std::string isoDate(int32_t yyyymmdd) {
  return fmt::format("{:04}-{:02}-{:02}", yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

int32_t addDays(int32_t yyyymmdd, int32_t days) {
  date::year_month_day ymd{date::year(yyyymmdd / 10000), date::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
                           date::day(static_cast<unsigned>(yyyymmdd % 100))};
  date::year_month_day moved{date::sys_days(ymd) + date::days(days)};
  return static_cast<int>(moved.year()) * 10000 + static_cast<int>(static_cast<unsigned>(moved.month())) * 100 +
         static_cast<int>(static_cast<unsigned>(moved.day()));
}

std::string formatExchangeTime(int64_t utc_ns) {
  const int64_t offset_ns = utcOffsetNs(utc_ns);
  const auto local = date::floor<std::chrono::seconds>(
      date::local_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(utc_ns + offset_ns)));
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss hms(local - day);
  int64_t offset_min = offset_ns / 60'000'000'000;
  const char sign = offset_min < 0 ? '-' : '+';
  if (offset_min < 0) offset_min = -offset_min;
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999 || offset_min >= 100 * 60) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", year, static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                       hms.seconds().count(), sign, offset_min / 60, offset_min % 60);
  }
  // Digit by digit: every stored order carries two of these.
  char text[] = "0000-00-00T00:00:00+00:00";
  auto two = [&text](size_t at, int64_t value) {
    text[at] = static_cast<char>('0' + value / 10);
    text[at + 1] = static_cast<char>('0' + value % 10);
  };
  two(0, year / 100);
  two(2, year % 100);
  two(5, static_cast<unsigned>(ymd.month()));
  two(8, static_cast<unsigned>(ymd.day()));
  two(11, hms.hours().count());
  two(14, hms.minutes().count());
  two(17, hms.seconds().count());
  text[19] = sign;
  two(20, offset_min / 60);
  two(23, offset_min % 60);
  return std::string(text, sizeof text - 1);
}

std::string formatUtc(int64_t utc_ns) {
  auto ms = date::floor<std::chrono::milliseconds>(SysNs(std::chrono::nanoseconds(utc_ns)));
  return date::format("%Y-%m-%dT%H:%M:%SZ", ms);
}

Result<int64_t> parseTime(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 9, mi = 30, s = 0;
  auto bad = [&] {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("bad time '{}': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+hh:mm]", text));
  };
  if (!readInt(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !readInt(text, 5, 2, mo) || text[7] != '-' ||
      !readInt(text, 8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return bad();
  }
  size_t pos = 10;
  if (text.size() > pos) {
    if (text[pos] != 'T' && text[pos] != ' ') return bad();
    if (!readInt(text, pos + 1, 2, h) || text.size() < pos + 6 || text[pos + 3] != ':' ||
        !readInt(text, pos + 4, 2, mi)) {
      return bad();
    }
    pos += 6;
    if (text.size() > pos && text[pos] == ':') {
      if (!readInt(text, pos + 1, 2, s)) return bad();
      pos += 3;
    }
  }
  if (h > 23 || mi > 59 || s > 59) return bad();
  int32_t ymd = y * 10000 + mo * 100 + d;
  if (pos == text.size()) return fromExchangeTime(ymd, h, mi, s);
  // An explicit offset: the wall time is in that offset, not exchange time.
  date::year_month_day civil{date::year(y), date::month(static_cast<unsigned>(mo)),
                             date::day(static_cast<unsigned>(d))};
  auto base = date::sys_days(civil) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s);
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(base.time_since_epoch()).count();
  std::string_view zone = text.substr(pos);
  if (zone == "Z") return ns;
  int oh = 0, om = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !readInt(zone, 1, 2, oh) || zone[3] != ':' ||
      !readInt(zone, 4, 2, om)) {
    return bad();
  }
  int64_t offset = (oh * 3600LL + om * 60LL) * 1'000'000'000LL;
  return zone[0] == '+' ? ns - offset : ns + offset;
}

}  // namespace th
