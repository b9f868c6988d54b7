// tradehost calendar: the exchange calendar the host trades by, day by day,
// so a trader can check a holiday or an early close before trusting a
// backtest that spans it.
#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/config.h"
#include "core/json.h"
#include "core/time.h"
#include "data/calendar.h"

namespace th {
namespace {

std::optional<int32_t> parseYear(const std::string& text) {
  int32_t year = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), year);
  if (ec != std::errc() || end != text.data() + text.size() || text.size() != 4) return std::nullopt;
  return year;
}

std::string clock(int64_t ts_ns) {
  int32_t minute = toExchangeTime(ts_ns).minute_of_day;
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

// The calendar `config` names: the built-in rules or the rules with its override.
Result<SessionCalendar> calendarOf(const std::string& config_path) {
  if (config_path.empty()) return SessionCalendar::builtin();
  HostConfig config;
  try {
    config = loadHostConfig(config_path);
  } catch (const ConfigError& e) {
    return fail(ErrorCode::InvalidArgument, e.what());
  }
  if (config.data.calendar == "builtin") return SessionCalendar::builtin();
  return SessionCalendar::load(config.data.calendar);
}

}  // namespace

int calendarCommand(const CalendarOptions& options) {
  auto from = parseYear(options.from), to = parseYear(options.to.empty() ? options.from : options.to);
  if (!from || !to) {
    std::cerr << "tradehost calendar: --from and --to are years, e.g. --from 2012 --to 2013\n";
    return 2;
  }
  auto calendar = calendarOf(options.config);
  if (!calendar) {
    std::cerr << "tradehost calendar: " << calendar.error().message << "\n";
    return 2;
  }
  if (*from > *to || !calendar->covers(*from * 10000 + 101) || !calendar->covers(*to * 10000 + 1231)) {
    std::cerr << fmt::format("tradehost calendar: {}-{} is not inside the calendar's years {}-{}\n", *from, *to,
                             calendar->firstYear(), calendar->lastYear());
    return 2;
  }

  nlohmann::json days = nlohmann::json::array();
  int sessions = 0, early = 0, closed = 0;
  for (int32_t year = *from; year <= *to; ++year) {
    for (int32_t month = 1; month <= 12; ++month) {
      for (int32_t day = 1; day <= 31; ++day) {
        int32_t date = year * 10000 + month * 100 + day;
        auto session = calendar->sessionOn(date);
        std::string_view name = calendar->dayName(date);
        if (session) {
          ++sessions;
          early += session->early_close ? 1 : 0;
          nlohmann::json j = {{"date", isoDate(date)},
                              {"open", clock(session->open_ns)},
                              {"close", clock(session->close_ns)},
                              {"open_utc", formatUtc(session->open_ns)},
                              {"close_utc", formatUtc(session->close_ns)},
                              {"early_close", session->early_close}};
          if (!name.empty()) j["name"] = name;
          days.push_back(std::move(j));
        } else if (!name.empty()) {
          ++closed;
          days.push_back({{"date", isoDate(date)}, {"closed", true}, {"name", name}});
        }
      }
    }
  }
  if (options.json) {
    nlohmann::json out = {{"exchange", calendar->exchange()},
                          {"source", calendar->source()},
                          {"timezone", "America/New_York"},
                          {"from", *from},
                          {"to", *to},
                          {"sessions", sessions},
                          {"early_closes", early},
                          {"holidays", closed},
                          {"days", std::move(days)}};
    std::cout << jsonText(out, 2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{} sessions {}-{} ({}), New York time\n", calendar->exchange(), *from, *to,
                           calendar->source());
  std::cout << "date        open   close\n";
  for (const auto& day : days) {
    if (day.contains("closed")) {
      std::cout << fmt::format("{}  closed        {}\n", day["date"].get<std::string>(), day["name"].get<std::string>());
    } else {
      std::cout << fmt::format("{}  {}  {}{}\n", day["date"].get<std::string>(), day["open"].get<std::string>(),
                               day["close"].get<std::string>(),
                               day["early_close"].get<bool>()
                                   ? "  early close: " + day.value("name", std::string())
                                   : std::string());
    }
  }
  std::cout << fmt::format("{} sessions, {} early closes, {} weekday closures\n", sessions, early, closed);
  return 0;
}

}  // namespace th
