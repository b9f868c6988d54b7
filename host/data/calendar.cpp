#include "data/calendar.h"

#include <date/date.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/yaml_reader.h"
#include "core/time.h"

namespace th {
namespace {

constexpr std::string_view kTimeZone = "America/New_York";

int32_t toInt(const date::year_month_day& ymd) {
  return static_cast<int32_t>(static_cast<int>(ymd.year()) * 10000 + static_cast<unsigned>(ymd.month()) * 100 +
                              static_cast<unsigned>(ymd.day()));
}

date::year_month_day fromInt(int32_t yyyymmdd) {
  return {date::year(yyyymmdd / 10000), date::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
          date::day(static_cast<unsigned>(yyyymmdd % 100))};
}

// Strictly YYYY-MM-DD and a real day: 2026-02-30 is refused, not rolled over.
std::optional<date::year_month_day> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int value[3] = {};
  size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (size_t c = starts[i]; c < starts[i] + lengths[i]; ++c) {
      if (text[c] < '0' || text[c] > '9') return std::nullopt;
      value[i] = value[i] * 10 + (text[c] - '0');
    }
  }
  date::year_month_day ymd{date::year(value[0]), date::month(static_cast<unsigned>(value[1])),
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

bool isWeekend(const date::year_month_day& ymd) {
  date::weekday w{date::sys_days(ymd)};
  return w == date::Saturday || w == date::Sunday;
}

int32_t clockOf(const MapReader& reader, const std::string& key) {
  auto text = reader.requiredString(key);
  auto minute = parseClock(text);
  if (!minute) throw reader.error(reader.node(key), reader.qualified(key), fmt::format("'{}' is not HH:MM", text));
  return *minute;
}

// Reads the `date` of a holiday or early close and checks what both lists
// share: a real weekday inside the covered years, listed only once.
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
  if (isWeekend(*ymd)) {
    throw entry.error(node, entry.qualified("date"),
                      fmt::format("{} is a {}; the market is closed on weekends anyway", text,
                                  date::weekday{date::sys_days(*ymd)} == date::Saturday ? "Saturday" : "Sunday"));
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

SessionCalendar SessionCalendar::parseUnchecked(const std::string& text, const std::string& source) {
  YAML::Node root = loadYaml(text, source);
  SessionCalendar calendar;
  calendar.source_ = source;
  MapReader top(root, "", source, {"schema", "exchange", "timezone", "regular", "years", "holidays", "early_closes"});
  top.integer("schema", 1, 1, 1);
  calendar.exchange_ = top.requiredString("exchange");
  // Sessions are converted with the host's exchange-time helpers, which know
  // one zone; accepting another name here would silently mean New York.
  if (top.requiredString("timezone") != kTimeZone) {
    throw top.error(top.node("timezone"), "timezone", fmt::format("only {} is supported", kTimeZone));
  }

  if (!top.has("regular")) throw top.error(root, "regular", "required key is missing");
  MapReader regular(top.node("regular"), "regular", source, {"open", "close"});
  calendar.open_minute_ = clockOf(regular, "open");
  calendar.close_minute_ = clockOf(regular, "close");
  if (calendar.close_minute_ <= calendar.open_minute_) {
    throw regular.error(regular.node("close"), "regular.close", "must be after regular.open");
  }

  auto years = top.node("years");
  if (!years.IsDefined() || !years.IsSequence() || years.size() != 2) {
    throw top.error(years.IsDefined() ? years : root, "years", "expected [first, last], e.g. [2024, 2028]");
  }
  int32_t range[2] = {};
  for (size_t i = 0; i < 2; ++i) {
    auto n = years[i];
    auto value = parseDate(fmt::format("{}-01-01", n.IsScalar() ? n.Scalar() : std::string()));
    if (!value)
      throw top.error(n, "years", fmt::format("'{}' is not a four-digit year", n.IsScalar() ? n.Scalar() : ""));
    range[i] = static_cast<int>(value->year());
  }
  if (range[1] < range[0]) throw top.error(years, "years", "the last year is before the first");
  calendar.first_year_ = range[0];
  calendar.last_year_ = range[1];

  std::map<int32_t, int> lines;  // every listed date, to refuse one listed twice
  if (top.has("holidays")) {
    auto list = top.node("holidays");
    if (!list.IsSequence()) throw top.error(list, "holidays", "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], fmt::format("holidays[{}]", i), source, {"date", "name"});
      calendar.holidays_.insert(listedDate(entry, calendar.first_year_, calendar.last_year_, lines));
    }
  }
  if (top.has("early_closes")) {
    auto list = top.node("early_closes");
    if (!list.IsSequence()) throw top.error(list, "early_closes", "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], fmt::format("early_closes[{}]", i), source, {"date", "close", "name"});
      int32_t day = listedDate(entry, calendar.first_year_, calendar.last_year_, lines);
      int32_t close = clockOf(entry, "close");
      if (close <= calendar.open_minute_ || close >= calendar.close_minute_) {
        throw entry.error(entry.node("close"), entry.qualified("close"),
                          fmt::format("{} is not inside the regular session {}-{}", formatClock(close),
                                      formatClock(calendar.open_minute_), formatClock(calendar.close_minute_)));
      }
      calendar.early_closes_[day] = close;
    }
  }
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
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::Io, fmt::format("{}: cannot open the calendar file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

const SessionCalendar& SessionCalendar::embedded() {
  static const SessionCalendar calendar = [] {
    auto parsed = parse(embeddedText(), "<embedded config/calendar.yaml>");
    if (!parsed) throw std::logic_error(parsed.error().message);
    return std::move(*parsed);
  }();
  return calendar;
}

std::optional<TradingSession> SessionCalendar::sessionOn(int32_t yyyymmdd) const {
  int32_t year = yyyymmdd / 10000;
  if (year < first_year_ || year > last_year_) return std::nullopt;
  auto ymd = fromInt(yyyymmdd);
  if (!ymd.ok() || isWeekend(ymd) || holidays_.contains(yyyymmdd)) return std::nullopt;
  TradingSession session;
  session.date = yyyymmdd;
  session.open_ns = fromExchangeTime(yyyymmdd, open_minute_ / 60, open_minute_ % 60);
  int32_t close = close_minute_;
  if (auto it = early_closes_.find(yyyymmdd); it != early_closes_.end()) {
    close = it->second;
    session.early_close = true;
  }
  session.close_ns = fromExchangeTime(yyyymmdd, close / 60, close % 60);
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
  if (first_year_ == 0) return std::nullopt;
  date::sys_days first{date::year(first_year_) / date::January / 1};
  date::sys_days last{date::year(last_year_) / date::December / 31};
  date::sys_days day = std::max(first, date::sys_days(fromInt(toExchangeTime(ts_ns).yyyymmdd)));
  for (; day <= last; day += date::days(1)) {
    auto session = sessionOn(toInt(date::year_month_day(day)));
    if (session && session->close_ns > ts_ns) return session;
  }
  return std::nullopt;
}

std::optional<TradingSession> SessionCalendar::previousSession(int64_t ts_ns) const {
  if (first_year_ == 0) return std::nullopt;
  date::sys_days first{date::year(first_year_) / date::January / 1};
  date::sys_days last{date::year(last_year_) / date::December / 31};
  date::sys_days day = std::min(last, date::sys_days(fromInt(toExchangeTime(ts_ns).yyyymmdd)));
  for (; day >= first; day -= date::days(1)) {
    auto session = sessionOn(toInt(date::year_month_day(day)));
    if (session && session->open_ns <= ts_ns) return session;
  }
  return std::nullopt;
}

}  // namespace th
