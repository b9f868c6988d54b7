#include "data/calendar.h"

#include <date/date.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/yaml_reader.h"
#include "core/files.h"
#include "core/time.h"

namespace th {
namespace {

constexpr std::string_view kTimeZone = "America/New_York";
constexpr int32_t kEarlyCloseMinute = 13 * 60;
// The first year the rules give the 13:00 closes (the exchange closed early
// before too, at other hours; those years are not modelled).
constexpr int32_t kFirstEarlyCloseYear = 2010;

using date::days;
using date::sys_days;
using date::year_month_day;

int32_t toInt(const year_month_day& ymd) {
  return static_cast<int32_t>(static_cast<int>(ymd.year()) * 10000 + static_cast<unsigned>(ymd.month()) * 100 +
                              static_cast<unsigned>(ymd.day()));
}

year_month_day fromInt(int32_t yyyymmdd) {
  return {date::year(yyyymmdd / 10000), date::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
          date::day(static_cast<unsigned>(yyyymmdd % 100))};
}

int32_t toInt(sys_days day) { return toInt(year_month_day(day)); }

sys_days civil(int year, unsigned month, unsigned day) {
  return sys_days(date::year(year) / date::month(month) / date::day(day));
}

// The n-th (1-based) weekday of a month; n = -1 is the last.
sys_days nthWeekday(int year, unsigned month, date::weekday w, int n) {
  if (n < 0) return sys_days(date::year(year) / date::month(month) / date::weekday_last(w));
  return sys_days(date::year(year) / date::month(month) / date::weekday_indexed(w, static_cast<unsigned>(n)));
}

// Gregorian Easter Sunday (the anonymous Meeus/Jones/Butcher algorithm).
sys_days easterSunday(int year) {
  int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = (h + l - 7 * m + 114) % 31 + 1;
  return civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

bool isWeekend(sys_days day) {
  date::weekday w{day};
  return w == date::Saturday || w == date::Sunday;
}

// A fixed-date holiday on a Saturday is observed the Friday before, on a
// Sunday the Monday after (NYSE Rule 7.2).
sys_days observed(sys_days day) {
  date::weekday w{day};
  return w == date::Saturday ? day - days(1) : w == date::Sunday ? day + days(1) : day;
}

// Closures no rule predicts: national days of mourning, the attacks of
// 2001-09-11 and Hurricane Sandy.
struct SpecialClosure {
  int32_t date;
  const char* name;
};
constexpr SpecialClosure kSpecialClosures[] = {
    {19940427, "National Day of Mourning for President Nixon"},
    {20010911, "September 11 attacks"},
    {20010912, "September 11 attacks"},
    {20010913, "September 11 attacks"},
    {20010914, "September 11 attacks"},
    {20040611, "National Day of Mourning for President Reagan"},
    {20070102, "National Day of Mourning for President Ford"},
    {20121029, "Hurricane Sandy"},
    {20121030, "Hurricane Sandy"},
    {20181205, "National Day of Mourning for President George H. W. Bush"},
    {20250109, "National Day of Mourning for President Carter"},
};

// Strictly YYYY-MM-DD and a real day: 2026-02-30 is refused, not rolled over.
std::optional<year_month_day> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int value[3] = {};
  size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (size_t c = starts[i]; c < starts[i] + lengths[i]; ++c) {
      if (text[c] < '0' || text[c] > '9') return std::nullopt;
      value[i] = value[i] * 10 + (text[c] - '0');
    }
  }
  year_month_day ymd{date::year(value[0]), date::month(static_cast<unsigned>(value[1])),
                     date::day(static_cast<unsigned>(value[2]))};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

// "HH:MM" to minutes since midnight.
std::optional<int32_t> parseClock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  int hour = (text[0] - '0') * 10 + (text[1] - '0'), minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (hour > 23 || minute > 59) return std::nullopt;
  return hour * 60 + minute;
}

std::string formatClock(int32_t minute_of_day) {
  return fmt::format("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60);
}

int32_t clockOf(const MapReader& reader, const std::string& key) {
  auto text = reader.requiredString(key);
  auto minute = parseClock(text);
  if (!minute) throw reader.error(reader.node(key), reader.qualified(key), fmt::format("'{}' is not HH:MM", text));
  return *minute;
}

// Reads the `date` of a listed day and checks what every list shares: a real
// weekday inside the covered years, listed only once.
int32_t listedDate(const MapReader& entry, int32_t first_year, int32_t last_year, std::map<int32_t, int>& lines) {
  auto text = entry.requiredString("date");
  auto node = entry.node("date");
  auto ymd = parseDate(text);
  if (!ymd) throw entry.error(node, entry.qualified("date"), fmt::format("'{}' is not a date (YYYY-MM-DD)", text));
  int year = static_cast<int>(ymd->year());
  if (year < first_year || year > last_year) {
    throw entry.error(node, entry.qualified("date"),
                      fmt::format("{} is outside the covered years {}-{}", text, first_year, last_year));
  }
  if (isWeekend(sys_days(*ymd))) {
    throw entry.error(node, entry.qualified("date"),
                      fmt::format("{} is a {}; the market is closed on weekends anyway", text,
                                  date::weekday{sys_days(*ymd)} == date::Saturday ? "Saturday" : "Sunday"));
  }
  int32_t day = toInt(*ymd);
  auto [it, inserted] = lines.emplace(day, node.Mark().line + 1);
  if (!inserted) {
    throw entry.error(node, entry.qualified("date"), fmt::format("{} is already listed at line {}", text, it->second));
  }
  entry.requiredString("name");
  return day;
}

}  // namespace

SessionCalendar::SessionCalendar() { applyRules(); }

const SessionCalendar& SessionCalendar::builtin() {
  static const SessionCalendar calendar;
  return calendar;
}

int64_t SessionCalendar::indexOf(int32_t yyyymmdd) const {
  int32_t year = yyyymmdd / 10000;
  if (year < first_year_ || year > last_year_) return -1;
  auto ymd = fromInt(yyyymmdd);
  if (!ymd.ok()) return -1;
  return sys_days(ymd).time_since_epoch().count() - first_day_;
}

void SessionCalendar::close(int32_t yyyymmdd, std::string name) {
  int64_t index = indexOf(yyyymmdd);
  if (index < 0) return;
  day_close_[static_cast<size_t>(index)] = 0;
  names_[yyyymmdd] = std::move(name);
}

void SessionCalendar::closeEarly(int32_t yyyymmdd, int32_t minute, std::string name) {
  int64_t index = indexOf(yyyymmdd);
  if (index < 0 || day_close_[static_cast<size_t>(index)] == 0) return;
  day_close_[static_cast<size_t>(index)] = static_cast<uint16_t>(minute);
  names_[yyyymmdd] = std::move(name);
}

// Fills the table for first_year_..last_year_ from the NYSE rules: every
// weekday trades the regular session except the holidays below.
void SessionCalendar::applyRules() {
  sys_days first = civil(first_year_, 1, 1), last = civil(last_year_, 12, 31);
  first_day_ = first.time_since_epoch().count();
  day_close_.assign(static_cast<size_t>((last - first).count() + 1), 0);
  names_.clear();
  for (sys_days day = first; day <= last; day += days(1)) {
    if (!isWeekend(day)) day_close_[static_cast<size_t>((day - first).count())] = static_cast<uint16_t>(close_minute_);
  }
  for (int year = first_year_; year <= last_year_; ++year) {
    // New Year's Day moves to Monday from a Sunday; on a Saturday it is not
    // observed at all (the Friday before is the last session of the year).
    sys_days new_year = civil(year, 1, 1);
    if (date::weekday{new_year} != date::Saturday) close(toInt(observed(new_year)), "New Year's Day");
    if (year >= 1998) close(toInt(nthWeekday(year, 1, date::Monday, 3)), "Martin Luther King, Jr. Day");
    close(toInt(nthWeekday(year, 2, date::Monday, 3)), "Washington's Birthday");
    close(toInt(easterSunday(year) - days(2)), "Good Friday");
    close(toInt(nthWeekday(year, 5, date::Monday, -1)), "Memorial Day");
    if (year >= 2022) close(toInt(observed(civil(year, 6, 19))), "Juneteenth National Independence Day");
    close(toInt(observed(civil(year, 7, 4))), "Independence Day");
    close(toInt(nthWeekday(year, 9, date::Monday, 1)), "Labor Day");
    sys_days thanksgiving = nthWeekday(year, 11, date::Thursday, 4);
    close(toInt(thanksgiving), "Thanksgiving Day");
    close(toInt(observed(civil(year, 12, 25))), "Christmas Day");
    if (year < kFirstEarlyCloseYear) continue;
    // July 3 and December 24 close early when they fall Monday to Thursday
    // (on a Friday they are the observed holiday itself); closeEarly leaves
    // a day the rules above closed as it is.
    for (sys_days eve : {civil(year, 7, 3), civil(year, 12, 24)}) {
      date::weekday w{eve};
      if (w != date::Friday && !isWeekend(eve)) {
        closeEarly(toInt(eve), kEarlyCloseMinute, eve == civil(year, 7, 3) ? "Day before Independence Day"
                                                                          : "Christmas Eve");
      }
    }
    closeEarly(toInt(thanksgiving + days(1)), kEarlyCloseMinute, "Day after Thanksgiving");
  }
  for (const auto& closure : kSpecialClosures) close(closure.date, closure.name);
}

SessionCalendar SessionCalendar::parseUnchecked(const std::string& text, const std::string& source) {
  YAML::Node root = loadYaml(text, source);
  SessionCalendar calendar;
  calendar.source_ = source;
  MapReader top(root, "", source,
                {"schema", "exchange", "timezone", "regular", "years", "holidays", "early_closes", "open_days"});
  if (top.has("schema") && top.node("schema").IsScalar() && top.node("schema").Scalar() == "1") {
    throw top.error(top.node("schema"), "schema",
                    fmt::format("schema 1 listed every holiday; the calendar is now computed by rule for {}-{} and "
                                "this file only adds to the rules (schema: 2, see docs/configuration.md)",
                                kFirstRuleYear, kLastRuleYear));
  }
  top.integer("schema", 2, 2, 2);
  calendar.exchange_ = top.string("exchange", calendar.exchange_);
  // Sessions are converted with the host's exchange-time helpers, which know
  // one zone; accepting another name here would silently mean New York.
  if (top.string("timezone", std::string(kTimeZone)) != kTimeZone) {
    throw top.error(top.node("timezone"), "timezone", fmt::format("only {} is supported", kTimeZone));
  }

  if (top.has("regular")) {
    MapReader regular(top.node("regular"), "regular", source, {"open", "close"});
    calendar.open_minute_ = clockOf(regular, "open");
    calendar.close_minute_ = clockOf(regular, "close");
    if (calendar.close_minute_ <= calendar.open_minute_) {
      throw regular.error(regular.node("close"), "regular.close", "must be after regular.open");
    }
  }

  if (top.has("years")) {
    auto years = top.node("years");
    if (!years.IsSequence() || years.size() != 2) throw top.error(years, "years", "expected [first, last], e.g. [2010, 2030]");
    int32_t range[2] = {};
    for (size_t i = 0; i < 2; ++i) {
      auto n = years[i];
      auto value = parseDate(fmt::format("{}-01-01", n.IsScalar() ? n.Scalar() : std::string()));
      if (!value) {
        throw top.error(n, "years", fmt::format("'{}' is not a four-digit year", n.IsScalar() ? n.Scalar() : ""));
      }
      range[i] = static_cast<int>(value->year());
      if (range[i] < kFirstRuleYear || range[i] > kLastRuleYear) {
        throw top.error(n, "years", fmt::format("{} is outside the years the rules cover, {}-{}", range[i],
                                                kFirstRuleYear, kLastRuleYear));
      }
    }
    if (range[1] < range[0]) throw top.error(years, "years", "the last year is before the first");
    calendar.first_year_ = range[0];
    calendar.last_year_ = range[1];
  }
  calendar.applyRules();

  std::map<int32_t, int> lines;  // every listed date, to refuse one listed twice
  auto each = [&](const char* key, std::initializer_list<std::string_view> fields, auto&& apply) {
    if (!top.has(key)) return;
    auto list = top.node(key);
    if (!list.IsSequence()) throw top.error(list, key, "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], fmt::format("{}[{}]", key, i), source, fields);
      apply(entry, listedDate(entry, calendar.first_year_, calendar.last_year_, lines));
    }
  };
  each("holidays", {"date", "name"}, [&](const MapReader& entry, int32_t day) {
    calendar.close(day, entry.requiredString("name"));
  });
  each("open_days", {"date", "name"}, [&](const MapReader& entry, int32_t day) {
    if (calendar.sessionOn(day)) {
      throw entry.error(entry.node("date"), entry.qualified("date"),
                        fmt::format("{} already trades by the rules", entry.requiredString("date")));
    }
    calendar.day_close_[static_cast<size_t>(calendar.indexOf(day))] = static_cast<uint16_t>(calendar.close_minute_);
    calendar.names_.erase(day);
  });
  each("early_closes", {"date", "close", "name"}, [&](const MapReader& entry, int32_t day) {
    int32_t close = clockOf(entry, "close");
    if (close <= calendar.open_minute_ || close >= calendar.close_minute_) {
      throw entry.error(entry.node("close"), entry.qualified("close"),
                        fmt::format("{} is not inside the regular session {}-{}", formatClock(close),
                                    formatClock(calendar.open_minute_), formatClock(calendar.close_minute_)));
    }
    if (!calendar.sessionOn(day)) {
      throw entry.error(entry.node("date"), entry.qualified("date"),
                        fmt::format("{} does not trade ({}); list it under open_days to open it", entry.requiredString("date"),
                                    calendar.dayName(day)));
    }
    calendar.closeEarly(day, close, entry.requiredString("name"));
  });
  return calendar;
}

Result<SessionCalendar> SessionCalendar::parse(const std::string& text, const std::string& source) {
  try {
    return parseUnchecked(text, source);
  } catch (const ConfigError& e) {
    return fail(ErrorCode::InvalidArgument, e.what());
  } catch (const YAML::Exception& e) {
    // Conversions the checks above did not anticipate still carry a position.
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

Result<SessionCalendar> SessionCalendar::load(const std::string& path) {
  auto text = readWholeFile(path, kMaxYamlBytes);
  if (!text) return fail(text.error().code, fmt::format("cannot read the calendar file: {}", text.error().message));
  return parse(*text, path);
}

bool SessionCalendar::covers(int32_t yyyymmdd) const { return indexOf(yyyymmdd) >= 0; }

std::string_view SessionCalendar::dayName(int32_t yyyymmdd) const {
  auto it = names_.find(yyyymmdd);
  return it == names_.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<TradingSession> SessionCalendar::sessionOn(int32_t yyyymmdd) const {
  int64_t index = indexOf(yyyymmdd);
  if (index < 0) return std::nullopt;
  int32_t close = day_close_[static_cast<size_t>(index)];
  if (close == 0) return std::nullopt;
  TradingSession session;
  session.date = yyyymmdd;
  session.open_ns = fromExchangeTime(yyyymmdd, open_minute_ / 60, open_minute_ % 60);
  session.close_ns = fromExchangeTime(yyyymmdd, close / 60, close % 60);
  session.early_close = close != close_minute_;
  session.regular_close_ns =
      session.early_close ? fromExchangeTime(yyyymmdd, close_minute_ / 60, close_minute_ % 60) : session.close_ns;
  return session;
}

std::optional<TradingSession> SessionCalendar::sessionOnDateOf(int64_t ts_ns) const {
  return sessionOn(toExchangeTime(ts_ns).yyyymmdd);
}

bool SessionCalendar::isOpen(int64_t ts_ns) const {
  auto session = sessionOnDateOf(ts_ns);
  return session && ts_ns >= session->open_ns && ts_ns < session->close_ns;
}

std::optional<TradingSession> SessionCalendar::nextSession(int64_t ts_ns) const {
  sys_days first{days(first_day_)};
  sys_days last = first + days(static_cast<int64_t>(day_close_.size()) - 1);
  sys_days day = std::max(first, sys_days(fromInt(toExchangeTime(ts_ns).yyyymmdd)));
  for (; day <= last; day += days(1)) {
    if (day_close_[static_cast<size_t>((day - first).count())] == 0) continue;
    auto session = sessionOn(toInt(day));
    if (session && session->close_ns > ts_ns) return session;
  }
  return std::nullopt;
}

std::optional<TradingSession> SessionCalendar::previousSession(int64_t ts_ns) const {
  sys_days first{days(first_day_)};
  sys_days last = first + days(static_cast<int64_t>(day_close_.size()) - 1);
  sys_days day = std::min(last, sys_days(fromInt(toExchangeTime(ts_ns).yyyymmdd)));
  for (; day >= first; day -= days(1)) {
    if (day_close_[static_cast<size_t>((day - first).count())] == 0) continue;
    auto session = sessionOn(toInt(day));
    if (session && session->open_ns <= ts_ns) return session;
  }
  return std::nullopt;
}

th_status toAbiSession(const std::optional<TradingSession>& session, th_session* out) {
  if (!out) return TH_ERR_INVALID_ARGUMENT;
  if (!session) return TH_ERR_NOT_FOUND;
  th_session value{};
  value.struct_size = sizeof value;
  value.date = session->date;
  value.open_ns = session->open_ns;
  value.close_ns = session->close_ns;
  value.flags = session->early_close ? static_cast<uint32_t>(TH_SESSION_EARLY_CLOSE) : 0u;
  // An older plugin's struct is smaller: write only what it declared.
  size_t size = std::min<size_t>(out->struct_size, sizeof value);
  std::memcpy(out, &value, size);
  out->struct_size = static_cast<uint32_t>(size);
  return TH_OK;
}

}  // namespace th
