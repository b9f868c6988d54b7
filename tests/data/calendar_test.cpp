// The exchange calendar: every session 1990-2100 against the NYSE rules,
// the special closures and early closes, DST-correct session instants,
// session navigation, and the override file's strict errors.
#include "data/calendar.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/time.h"

namespace th {
namespace {

int64_t utc(const char* text) {
  auto t = parseTime(text);
  EXPECT_TRUE(t) << text;
  return t ? *t : 0;
}

const SessionCalendar& nyse() { return SessionCalendar::builtin(); }

// The rules restated as tests on (month, day, weekday): a different shape
// from the calendar's "list each year's holidays", so a slip in either shows.
struct Day {
  int year, month, day;
  unsigned weekday;  // 0 = Sunday
};

// Easter Sunday by Oudin's algorithm (Explanatory Supplement to the
// Astronomical Almanac), not the Meeus/Jones/Butcher one the calendar uses.
std::pair<int, int> easter(int y) {
  int c = y / 100, n = y - 19 * (y / 19), k = (c - 17) / 25;
  int i = c - c / 4 - (c - k) / 3 + 19 * n + 15;
  i = i - 30 * (i / 30);
  i = i - (i / 28) * (1 - (i / 28) * (29 / (i + 1)) * ((21 - n) / 11));
  int j = y + y / 4 + i + 2 - c + c / 4;
  j = j - 7 * (j / 7);
  int l = i - j, month = 3 + (l + 40) / 44, day = l + 28 - 31 * (month / 4);
  return {month, day};
}

const std::set<int32_t> kSpecialClosures = {19940427, 20010911, 20010912, 20010913, 20010914, 20040611,
                                            20070102, 20121029, 20121030, 20181205, 20250109};

bool ruleClosed(const Day& d) {
  const unsigned w = d.weekday;
  if (w == 0 || w == 6) return true;
  if (kSpecialClosures.contains(d.year * 10000 + d.month * 100 + d.day)) return true;
  const bool monday = w == 1, friday = w == 5;
  // A fixed-date holiday: the day itself, the Friday before a Saturday, the Monday after a Sunday.
  auto fixed = [&](int month, int day) {
    return d.month == month && (d.day == day || (friday && d.day == day - 1) || (monday && d.day == day + 1));
  };
  switch (d.month) {
    case 1:  // New Year's Day (never the Friday before: that is December) and MLK from 1998
      return d.day == 1 || (monday && d.day == 2) || (d.year >= 1998 && monday && d.day >= 15 && d.day <= 21);
    case 2:
      return monday && d.day >= 15 && d.day <= 21;
    case 3:
    case 4: {
      auto [em, ed] = easter(d.year);
      auto good_friday = date::sys_days(date::year(d.year) / em / ed) - date::days(2);
      return date::sys_days(date::year(d.year) / d.month / d.day) == good_friday;
    }
    case 5:
      return monday && d.day >= 25;
    case 6:
      return d.year >= 2022 && fixed(6, 19);
    case 7:
      return fixed(7, 4);
    case 9:
      return monday && d.day <= 7;
    case 11:
      return w == 4 && d.day >= 22 && d.day <= 28;
    case 12:
      return fixed(12, 25);
    default:
      return false;
  }
}

bool ruleEarly(const Day& d) {
  if (d.year < 2010 || ruleClosed(d)) return false;
  const bool mon_to_thu = d.weekday >= 1 && d.weekday <= 4;
  return (d.month == 7 && d.day == 3 && mon_to_thu) || (d.month == 12 && d.day == 24 && mon_to_thu) ||
         (d.month == 11 && d.weekday == 5 && d.day >= 23 && d.day <= 29);
}

TEST(SessionCalendar, EverySessionFrom1990To2100FollowsTheRules) {
  EXPECT_EQ(nyse().firstYear(), 1990);
  EXPECT_EQ(nyse().lastYear(), 2100);
  int sessions = 0;
  for (auto day = date::sys_days(date::year(1990) / 1 / 1); day <= date::sys_days(date::year(2100) / 12 / 31);
       day += date::days(1)) {
    date::year_month_day ymd(day);
    Day d{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), date::weekday(day).c_encoding()};
    int32_t key = d.year * 10000 + d.month * 100 + d.day;
    auto session = nyse().sessionOn(key);
    ASSERT_EQ(session.has_value(), !ruleClosed(d)) << key << " " << nyse().dayName(key);
    if (!session) continue;
    ++sessions;
    ASSERT_EQ(session->early_close, ruleEarly(d)) << key;
    ASSERT_EQ(toExchangeTime(session->open_ns).minute_of_day, 9 * 60 + 30) << key;
    ASSERT_EQ(toExchangeTime(session->close_ns).minute_of_day, ruleEarly(d) ? 13 * 60 : 16 * 60) << key;
    ASSERT_EQ(toExchangeTime(session->open_ns).yyyymmdd, key);
  }
  EXPECT_GT(sessions, 111 * 248);
}

TEST(SessionCalendar, MatchesThePublishedCalendarFor2024To2028) {
  // The exchange's own announcements, as published for these years.
  const std::set<int32_t> holidays = {
      20240101, 20240115, 20240219, 20240329, 20240527, 20240619, 20240704, 20240902, 20241128, 20241225,
      20250101, 20250109, 20250120, 20250217, 20250418, 20250526, 20250619, 20250704, 20250901, 20251127,
      20251225, 20260101, 20260119, 20260216, 20260403, 20260525, 20260619, 20260703, 20260907, 20261126,
      20261225, 20270101, 20270118, 20270215, 20270326, 20270531, 20270618, 20270705, 20270906, 20271125,
      20271224, 20280117, 20280221, 20280414, 20280529, 20280619, 20280704, 20280904, 20281123, 20281225};
  const std::set<int32_t> early = {20240703, 20241129, 20241224, 20250703, 20251128, 20251224,
                                   20261127, 20261224, 20271126, 20280703, 20281124};
  for (auto day = date::sys_days(date::year(2024) / 1 / 1); day <= date::sys_days(date::year(2028) / 12 / 31);
       day += date::days(1)) {
    date::year_month_day ymd(day);
    int32_t key = static_cast<int>(ymd.year()) * 10000 + static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
                  static_cast<int>(static_cast<unsigned>(ymd.day()));
    date::weekday w(day);
    bool trades = w != date::Saturday && w != date::Sunday && !holidays.contains(key);
    auto session = nyse().sessionOn(key);
    ASSERT_EQ(session.has_value(), trades) << key;
    if (session) {
      EXPECT_EQ(session->early_close, early.contains(key)) << key;
    }
  }
}

TEST(SessionCalendar, SpecialClosuresSince1990AreClosedAndNamed) {
  for (int32_t day : {19940427, 20010911, 20010912, 20010913, 20010914, 20040611, 20070102, 20121029, 20121030,
                      20181205, 20250109}) {
    EXPECT_FALSE(nyse().sessionOn(day)) << day;
    EXPECT_FALSE(nyse().dayName(day).empty()) << day;
  }
  EXPECT_EQ(nyse().dayName(20121029), "Hurricane Sandy");
  EXPECT_TRUE(nyse().sessionOn(20010910));
  EXPECT_TRUE(nyse().sessionOn(20010917));
  EXPECT_EQ(nyse().nextSession(utc("2012-10-26T16:00:00"))->date, 20121031);
}

TEST(SessionCalendar, ObservedDaysShiftFromWeekends) {
  EXPECT_TRUE(nyse().sessionOn(20101231));   // New Year's Day 2011 on a Saturday: not observed
  EXPECT_TRUE(nyse().sessionOn(20211231));   // likewise 2022
  EXPECT_FALSE(nyse().sessionOn(20120102));  // 2012-01-01 a Sunday: Monday closed
  EXPECT_FALSE(nyse().sessionOn(20150703));  // July 4 on a Saturday: Friday closed
  EXPECT_FALSE(nyse().sessionOn(20210705));  // July 4 on a Sunday: Monday closed
  EXPECT_FALSE(nyse().sessionOn(20211224));  // Christmas on a Saturday: Friday closed
  EXPECT_FALSE(nyse().sessionOn(20221226));  // Christmas on a Sunday: Monday closed
  EXPECT_FALSE(nyse().sessionOn(20220620));  // the first Juneteenth, from a Sunday
  EXPECT_TRUE(nyse().sessionOn(20210618));   // no Juneteenth before 2022
  EXPECT_TRUE(nyse().sessionOn(19970120));   // no MLK Day before 1998
  EXPECT_FALSE(nyse().sessionOn(19980119));
  EXPECT_FALSE(nyse().sessionOn(20250418));  // Good Friday
  EXPECT_EQ(nyse().dayName(20250418), "Good Friday");
}

TEST(SessionCalendar, EarlyClosesAtOnePmFrom2010) {
  auto sandy_friday = nyse().sessionOn(20121123);
  ASSERT_TRUE(sandy_friday);
  EXPECT_TRUE(sandy_friday->early_close);
  EXPECT_EQ(sandy_friday->close_ns, utc("2012-11-23T13:00:00"));
  EXPECT_EQ(nyse().dayName(20121123), "Day after Thanksgiving");
  EXPECT_EQ(nyse().sessionOn(20130703)->close_ns, utc("2013-07-03T17:00:00Z"));  // 13:00 EDT
  EXPECT_EQ(nyse().sessionOn(20181224)->close_ns, utc("2018-12-24T18:00:00Z"));  // 13:00 EST
  EXPECT_FALSE(nyse().sessionOn(20150702)->early_close);  // July 3 is the observed holiday that year
  EXPECT_FALSE(nyse().sessionOn(20091127)->early_close);  // before 2010: not modelled
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-27T12:59:59")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-27T13:00:00")));
}

TEST(SessionCalendar, SessionInstantsFollowDaylightSavingUnderEachRule) {
  // Since 2007: second Sunday of March to first Sunday of November.
  EXPECT_EQ(nyse().sessionOn(20260306)->open_ns, utc("2026-03-06T14:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20260309)->open_ns, utc("2026-03-09T13:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20261030)->close_ns, utc("2026-10-30T20:00:00Z"));
  EXPECT_EQ(nyse().sessionOn(20261102)->close_ns, utc("2026-11-02T21:00:00Z"));
  EXPECT_EQ(nyse().sessionOn(20070312)->open_ns, utc("2007-03-12T13:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20071102)->open_ns, utc("2007-11-02T13:30:00Z"));
  // 1987-2006: first Sunday of April to last Sunday of October.
  EXPECT_EQ(nyse().sessionOn(20060331)->open_ns, utc("2006-03-31T14:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20060403)->open_ns, utc("2006-04-03T13:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20061027)->open_ns, utc("2006-10-27T13:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(20061030)->open_ns, utc("2006-10-30T14:30:00Z"));
  EXPECT_EQ(nyse().sessionOn(19950405)->open_ns, utc("1995-04-05T13:30:00Z"));
}

TEST(SessionCalendar, OutsideTheCoveredYearsThereAreNoSessions) {
  EXPECT_FALSE(nyse().sessionOn(19891229));
  EXPECT_FALSE(nyse().sessionOn(21010103));
  EXPECT_FALSE(nyse().covers(19891229));
  EXPECT_TRUE(nyse().covers(19900102));
  EXPECT_TRUE(nyse().covers(21001231));
  EXPECT_FALSE(nyse().nextSession(utc("2100-12-31T16:00:00")));
  EXPECT_FALSE(nyse().previousSession(utc("1990-01-02T09:00:00")));
  EXPECT_EQ(nyse().nextSession(utc("1985-06-01T12:00:00"))->date, 19900102);
}

TEST(SessionCalendar, IsOpenAtTheEdgesOfTheSession) {
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-20T09:29:59")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-20T09:30:00")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-20T15:59:59")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-20T16:00:00")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-07-15T09:30:00")));  // summer time too
  EXPECT_FALSE(nyse().isOpen(utc("2026-07-15T09:29:59")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-26T11:00:00")));
}

TEST(SessionCalendar, SessionOnDateOfUsesTheNewYorkDate) {
  // 2026-11-21 02:00Z is still Friday evening in New York.
  auto session = nyse().sessionOnDateOf(utc("2026-11-21T02:00:00Z"));
  ASSERT_TRUE(session);
  EXPECT_EQ(session->date, 20261120);
}

TEST(SessionCalendar, NextSessionSkipsWeekendsAndHolidays) {
  EXPECT_EQ(nyse().nextSession(utc("2026-11-20T15:00:00"))->date, 20261120);
  EXPECT_EQ(nyse().nextSession(utc("2026-11-20T16:00:00"))->date, 20261123);
  EXPECT_EQ(nyse().nextSession(utc("2026-11-21T12:00:00"))->date, 20261123);
  EXPECT_EQ(nyse().nextSession(utc("2026-11-23T08:00:00"))->date, 20261123);
  auto next = nyse().nextSession(utc("2026-11-25T17:00:00"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->date, 20261127);
  EXPECT_TRUE(next->early_close);
  EXPECT_EQ(nyse().nextSession(utc("2026-04-02T16:30:00"))->date, 20260406);
}

TEST(SessionCalendar, PreviousSessionSkipsWeekendsAndHolidays) {
  EXPECT_EQ(nyse().previousSession(utc("2026-11-20T09:30:00"))->date, 20261120);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-20T09:29:59"))->date, 20261119);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-22T12:00:00"))->date, 20261120);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-26T12:00:00"))->date, 20261125);
  EXPECT_EQ(nyse().previousSession(utc("2026-04-06T08:00:00"))->date, 20260402);
}

TEST(SessionCalendar, TheAbiAnswerIsWrittenByThePluginsDeclaredSize) {
  th_session out{};
  out.struct_size = sizeof out;
  ASSERT_EQ(toAbiSession(nyse().sessionOn(20261127), &out), TH_OK);
  EXPECT_EQ(out.date, 20261127);
  EXPECT_EQ(out.close_ns, utc("2026-11-27T13:00:00"));
  EXPECT_EQ(out.flags, static_cast<uint32_t>(TH_SESSION_EARLY_CLOSE));
  EXPECT_EQ(toAbiSession(nyse().sessionOn(20261126), &out), TH_ERR_NOT_FOUND);
  EXPECT_EQ(toAbiSession(nyse().sessionOn(20261127), nullptr), TH_ERR_INVALID_ARGUMENT);
  // A plugin that knew only date and open gets those and nothing past them.
  th_session small{};
  small.struct_size = offsetof(th_session, close_ns);
  small.close_ns = 42;
  ASSERT_EQ(toAbiSession(nyse().sessionOn(20261127), &small), TH_OK);
  EXPECT_EQ(small.open_ns, utc("2026-11-27T09:30:00"));
  EXPECT_EQ(small.close_ns, 42);
}

// A valid override; each case below breaks one thing in it.
const std::string kBase =
    "schema: 2\n"                                                    // 1
    "exchange: NYSE\n"                                               // 2
    "timezone: America/New_York\n"                                   // 3
    "regular: {open: \"09:30\", close: \"16:00\"}\n"                 // 4
    "years: [2026, 2027]\n"                                          // 5
    "holidays:\n"                                                    // 6
    "  - {date: 2026-11-24, name: Storm closure}\n"                  // 7
    "early_closes:\n"                                                // 8
    "  - {date: 2026-11-25, close: \"13:30\", name: Storm eve}\n"    // 9
    "open_days:\n"                                                   // 10
    "  - {date: 2027-03-26, name: Good Friday traded}\n";            // 11

std::string errorOf(const std::string& text) {
  auto parsed = SessionCalendar::parse(text, "cal.yaml");
  if (parsed) {
    ADD_FAILURE() << "no error for:\n" << text;
    return {};
  }
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  return parsed.error().message;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

#define EXPECT_STARTS_WITH(text, prefix) EXPECT_EQ((text).rfind(prefix, 0), 0u) << (text)

TEST(SessionCalendarFile, AnOverrideAddsToTheRules) {
  auto parsed = SessionCalendar::parse(kBase, "cal.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(parsed->sessionOn(20261124));
  EXPECT_EQ(parsed->dayName(20261124), "Storm closure");
  EXPECT_EQ(parsed->sessionOn(20261125)->close_ns, utc("2026-11-25T13:30:00"));
  EXPECT_TRUE(parsed->sessionOn(20261125)->early_close);
  EXPECT_TRUE(parsed->sessionOn(20270326));   // Good Friday, opened by the file
  EXPECT_FALSE(parsed->sessionOn(20261126));  // the rules still apply
  EXPECT_EQ(parsed->sessionOn(20261127)->close_ns, utc("2026-11-27T13:00:00"));
  EXPECT_FALSE(parsed->sessionOn(20251127 + 1));  // outside its years
  EXPECT_EQ(parsed->firstYear(), 2026);
  // The shipped example is a valid override that changes nothing.
  auto example = SessionCalendar::load(std::string(TH_SOURCE_DIR) + "/config/calendar.example.yaml");
  ASSERT_TRUE(example) << example.error().message;
  for (int32_t day : {19900102, 20121029, 20121123, 20261127, 21001231}) {
    EXPECT_EQ(example->sessionOn(day).has_value(), nyse().sessionOn(day).has_value()) << day;
  }
  // Every key is optional.
  auto minimal = SessionCalendar::parse("schema: 2\n", "min.yaml");
  ASSERT_TRUE(minimal) << minimal.error().message;
  EXPECT_EQ(minimal->lastYear(), 2100);
}

TEST(SessionCalendarFile, UnknownKeysNameFileLineAndKey) {
  EXPECT_STARTS_WITH(errorOf(kBase + "holiday: []\n"), "cal.yaml:12:1: holiday: unknown key (expected one of:");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "name: Storm closure", "title: Storm closure")),
                     "cal.yaml:7:24: holidays[0].title: unknown key");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"16:00\"", "shut: \"16:00\"")),
                     "cal.yaml:4:26: regular.shut: unknown key");
}

TEST(SessionCalendarFile, BadDatesAreRefused) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-24", "2026-02-30")),
                     "cal.yaml:7:12: holidays[0].date: '2026-02-30' is not a date");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-24", "24/11/2026")),
                     "cal.yaml:7:12: holidays[0].date: '24/11/2026' is not a date");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-24", "2028-11-21")),
                     "cal.yaml:7:12: holidays[0].date: 2028-11-21 is outside the covered years 2026-2027");
}

TEST(SessionCalendarFile, AWeekendDayIsAnError) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-24", "2026-11-28")),
                     "cal.yaml:7:12: holidays[0].date: 2026-11-28 is a Saturday");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-25", "2026-11-29")),
                     "cal.yaml:9:12: early_closes[0].date: 2026-11-29 is a Sunday");
}

TEST(SessionCalendarFile, ADateListedTwiceIsAnError) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-25", "2026-11-24")),
                     "cal.yaml:9:12: early_closes[0].date: 2026-11-24 is already listed at line 7");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "early_closes:", "  - {date: 2026-11-24, name: Again}\nearly_closes:")),
                     "cal.yaml:8:12: holidays[1].date: 2026-11-24 is already listed at line 7");
}

TEST(SessionCalendarFile, AnEarlyCloseMustFallInsideATradingSession) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:30\"", "close: \"17:00\"")),
                     "cal.yaml:9:31: early_closes[0].close: 17:00 is not inside the regular session 09:30-16:00");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:30\"", "close: \"09:00\"")),
                     "cal.yaml:9:31: early_closes[0].close: 09:00 is not inside");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:30\"", "close: \"1pm\"")),
                     "cal.yaml:9:31: early_closes[0].close: '1pm' is not HH:MM");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-25", "2026-11-26")),
                     "cal.yaml:9:12: early_closes[0].date: 2026-11-26 does not trade (Thanksgiving Day)");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2027-03-26", "2027-03-25")),
                     "cal.yaml:11:12: open_days[0].date: 2027-03-25 already trades by the rules");
}

TEST(SessionCalendarFile, OtherBadValuesNameTheirKey) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "America/New_York", "Europe/London")),
                     "cal.yaml:3:11: timezone: only America/New_York is supported");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "\"09:30\"", "\"9:30\"")),
                     "cal.yaml:4:17: regular.open: '9:30' is not HH:MM");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "\"16:00\"", "\"09:00\"")),
                     "cal.yaml:4:33: regular.close: must be after regular.open");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "[2026, 2027]", "[2026]")), "cal.yaml:5:8: years: expected [first, last]");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "[2026, 2027]", "[2026, 2025]")),
                     "cal.yaml:5:8: years: the last year is before the first");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "[2026, 2027]", "[1985, 2027]")),
                     "cal.yaml:5:9: years: 1985 is outside the years the rules cover, 1990-2100");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "schema: 2", "schema: 3")), "cal.yaml:1:9: schema: 3 is outside [2, 2]");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "schema: 2", "schema: 1")),
                     "cal.yaml:1:9: schema: schema 1 listed every holiday");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, ", name: Storm closure", "")),
                     "cal.yaml:7:5: holidays[0].name: required key is missing");
}

TEST(SessionCalendarFile, YamlSyntaxErrorsAndMissingFilesAreReported) {
  auto syntax = errorOf(replaced(kBase, "[2026, 2027]", "[2026, 2027"));
  EXPECT_STARTS_WITH(syntax, "cal.yaml:");
  EXPECT_NE(syntax.find("YAML syntax error"), std::string::npos) << syntax;
  auto missing = SessionCalendar::load("/nonexistent/calendar.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Io);
  EXPECT_NE(missing.error().message.find("/nonexistent/calendar.yaml"), std::string::npos);
  // data.calendar: /dev/zero would read forever: refused before a byte is read.
  auto device = SessionCalendar::load("/dev/zero");
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message, "cannot read the calendar file: /dev/zero: not a regular file");
}

}  // namespace
}  // namespace th
