// The session calendar: DST-correct session instants, holidays and early
// closes from config/calendar.yaml, session navigation, and strict errors
// for malformed calendar files.
#include "data/calendar.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time.h"
#include "plugins/synthetic/calendar.h"

namespace th {
namespace {

int64_t utc(const char* text) {
  auto t = parseTime(text);
  EXPECT_TRUE(t) << text;
  return t ? *t : 0;
}

const SessionCalendar& nyse() { return SessionCalendar::embedded(); }

TEST(SessionCalendar, EmbeddedFileParsesAndCoversTheListedYears) {
  auto parsed = SessionCalendar::parse(SessionCalendar::embeddedText(), "calendar.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(nyse().exchange(), "NYSE");
  EXPECT_EQ(nyse().firstYear(), 2024);
  EXPECT_EQ(nyse().lastYear(), 2028);
  auto from_file = SessionCalendar::load(std::string(TH_SOURCE_DIR) + "/config/calendar.yaml");
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->sessionOn(20261127)->close_ns, nyse().sessionOn(20261127)->close_ns);
}

TEST(SessionCalendar, SessionInstantsFollowDaylightSaving) {
  // The first Mondays after the spring and autumn changes.
  auto spring = nyse().sessionOn(20260309);
  ASSERT_TRUE(spring);
  EXPECT_EQ(spring->open_ns, utc("2026-03-09T13:30:00Z"));
  EXPECT_EQ(spring->close_ns, utc("2026-03-09T20:00:00Z"));
  EXPECT_FALSE(spring->early_close);
  auto autumn = nyse().sessionOn(20261102);
  ASSERT_TRUE(autumn);
  EXPECT_EQ(autumn->open_ns, utc("2026-11-02T14:30:00Z"));
  EXPECT_EQ(autumn->close_ns, utc("2026-11-02T21:00:00Z"));
  // The Friday before the spring change is still standard time.
  EXPECT_EQ(nyse().sessionOn(20260306)->open_ns, utc("2026-03-06T14:30:00Z"));
}

TEST(SessionCalendar, EarlyClosesAtOnePmNewYorkTime) {
  auto friday = nyse().sessionOn(20261127);
  ASSERT_TRUE(friday);
  EXPECT_TRUE(friday->early_close);
  EXPECT_EQ(friday->open_ns, utc("2026-11-27T14:30:00Z"));
  EXPECT_EQ(friday->close_ns, utc("2026-11-27T18:00:00Z"));
  auto eve = nyse().sessionOn(20261224);
  ASSERT_TRUE(eve);
  EXPECT_EQ(eve->close_ns, utc("2026-12-24T18:00:00Z"));
  // Summer early close: 13:00 EDT is 17:00Z.
  EXPECT_EQ(nyse().sessionOn(20280703)->close_ns, utc("2028-07-03T17:00:00Z"));
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-27T12:59:59")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-27T13:00:00")));
}

TEST(SessionCalendar, HolidaysAndWeekendsHaveNoSession) {
  for (int32_t day : {20260101, 20260119, 20260216, 20260403, 20260525, 20260619, 20260703, 20260907, 20261126,
                      20261225, 20250109, 20271224, 20280414}) {
    EXPECT_FALSE(nyse().sessionOn(day)) << day;
  }
  EXPECT_FALSE(nyse().sessionOn(20261121));  // Saturday
  EXPECT_FALSE(nyse().sessionOn(20261122));  // Sunday
  EXPECT_TRUE(nyse().sessionOn(20261120));
  EXPECT_TRUE(nyse().sessionOn(20261231));   // New Year's Eve trades a full day
  EXPECT_FALSE(nyse().sessionOn(20231229));  // before the covered years
  EXPECT_FALSE(nyse().sessionOn(20290102));  // after them
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-26T11:00:00")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-21T11:00:00")));
}

TEST(SessionCalendar, AYearHasItsPublishedNumberOfSessions) {
  // 2026: 261 weekdays less 10 holidays.
  int sessions = 0, early = 0;
  for (int month = 1; month <= 12; ++month) {
    for (int day = 1; day <= 31; ++day) {
      if (auto s = nyse().sessionOn(20260000 + month * 100 + day)) {
        ++sessions;
        early += s->early_close ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(sessions, 251);
  EXPECT_EQ(early, 2);
}

TEST(SessionCalendar, AgreesWithTheSyntheticMarketsTableEveryDayOf2024To2028) {
  // Two independent transcriptions of the NYSE announcements must agree.
  using namespace th::synthetic;
  for (int64_t d = daysFromCivil(2024, 1, 1); d <= daysFromCivil(2028, 12, 31); ++d) {
    int32_t ymd = toYyyymmdd(d);
    int w = weekday(d);
    bool trades = w != 0 && w != 6 && !nyseHoliday(d);
    auto session = nyse().sessionOn(ymd);
    ASSERT_EQ(session.has_value(), trades) << ymd;
    if (session) {
      EXPECT_EQ(session->early_close, nyseEarlyClose(d)) << ymd;
    }
  }
}

TEST(SessionCalendar, IsOpenAtTheEdgesOfTheSession) {
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-20T09:29:59")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-20T09:30:00")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-11-20T15:59:59")));
  EXPECT_FALSE(nyse().isOpen(utc("2026-11-20T16:00:00")));
  EXPECT_TRUE(nyse().isOpen(utc("2026-07-15T09:30:00")));  // summer time too
  EXPECT_FALSE(nyse().isOpen(utc("2026-07-15T09:29:59")));
}

TEST(SessionCalendar, SessionOnDateOfUsesTheNewYorkDate) {
  // 2026-11-21 02:00Z is still Friday evening in New York.
  auto session = nyse().sessionOnDateOf(utc("2026-11-21T02:00:00Z"));
  ASSERT_TRUE(session);
  EXPECT_EQ(session->date, 20261120);
}

TEST(SessionCalendar, NextSessionSkipsWeekendsAndHolidays) {
  // While open, the current session.
  EXPECT_EQ(nyse().nextSession(utc("2026-11-20T15:00:00"))->date, 20261120);
  // At Friday's close, Monday.
  EXPECT_EQ(nyse().nextSession(utc("2026-11-20T16:00:00"))->date, 20261123);
  EXPECT_EQ(nyse().nextSession(utc("2026-11-21T12:00:00"))->date, 20261123);
  // Before the open, the same day.
  EXPECT_EQ(nyse().nextSession(utc("2026-11-23T08:00:00"))->date, 20261123);
  // Over Thanksgiving to the early-close Friday.
  auto next = nyse().nextSession(utc("2026-11-25T17:00:00"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->date, 20261127);
  EXPECT_TRUE(next->early_close);
  // Over a three-day weekend (Good Friday 2026-04-03).
  EXPECT_EQ(nyse().nextSession(utc("2026-04-02T16:30:00"))->date, 20260406);
  EXPECT_FALSE(nyse().nextSession(utc("2028-12-29T16:00:00")));  // the last covered session has closed
}

TEST(SessionCalendar, PreviousSessionSkipsWeekendsAndHolidays) {
  EXPECT_EQ(nyse().previousSession(utc("2026-11-20T09:30:00"))->date, 20261120);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-20T09:29:59"))->date, 20261119);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-22T12:00:00"))->date, 20261120);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-23T09:00:00"))->date, 20261120);
  EXPECT_EQ(nyse().previousSession(utc("2026-11-26T12:00:00"))->date, 20261125);
  EXPECT_EQ(nyse().previousSession(utc("2026-04-06T08:00:00"))->date, 20260402);
  EXPECT_FALSE(nyse().previousSession(utc("2024-01-02T09:00:00")));  // before the first covered session
}

// A valid file; each case below breaks one thing in it.
const std::string kBase =
    "schema: 1\n"                                                                // 1
    "exchange: NYSE\n"                                                           // 2
    "timezone: America/New_York\n"                                               // 3
    "regular: {open: \"09:30\", close: \"16:00\"}\n"                             // 4
    "years: [2026, 2026]\n"                                                      // 5
    "holidays:\n"                                                                // 6
    "  - {date: 2026-11-26, name: Thanksgiving Day}\n"                           // 7
    "early_closes:\n"                                                            // 8
    "  - {date: 2026-11-27, close: \"13:00\", name: Day after Thanksgiving}\n";  // 9

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

TEST(SessionCalendarFile, TheBaseCaseIsValid) {
  auto parsed = SessionCalendar::parse(kBase, "cal.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(parsed->sessionOn(20261126));
  EXPECT_EQ(parsed->sessionOn(20261127)->close_ns, utc("2026-11-27T18:00:00Z"));
  EXPECT_FALSE(parsed->sessionOn(20251127));  // outside its years
}

TEST(SessionCalendarFile, UnknownKeysNameFileLineAndKey) {
  EXPECT_STARTS_WITH(errorOf(kBase + "holiday: []\n"), "cal.yaml:10:1: holiday: unknown key (expected one of:");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "name: Thanksgiving", "title: Thanksgiving")),
                     "cal.yaml:7:24: holidays[0].title: unknown key");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"16:00\"", "shut: \"16:00\"")),
                     "cal.yaml:4:26: regular.shut: unknown key");
}

TEST(SessionCalendarFile, BadDatesAreRefused) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-26", "2026-02-30")),
                     "cal.yaml:7:12: holidays[0].date: '2026-02-30' is not a date");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-26", "26/11/2026")),
                     "cal.yaml:7:12: holidays[0].date: '26/11/2026' is not a date");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-26", "2027-11-25")),
                     "cal.yaml:7:12: holidays[0].date: 2027-11-25 is outside the covered years 2026-2026");
}

TEST(SessionCalendarFile, AHolidayOnAWeekendIsAnError) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-26", "2026-11-28")),
                     "cal.yaml:7:12: holidays[0].date: 2026-11-28 is a Saturday");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-27", "2026-11-29")),
                     "cal.yaml:9:12: early_closes[0].date: 2026-11-29 is a Sunday");
}

TEST(SessionCalendarFile, ADateListedTwiceIsAnError) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "2026-11-27", "2026-11-26")),
                     "cal.yaml:9:12: early_closes[0].date: 2026-11-26 is already listed at line 7");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "early_closes:", "  - {date: 2026-11-26, name: Again}\nearly_closes:")),
                     "cal.yaml:8:12: holidays[1].date: 2026-11-26 is already listed at line 7");
}

TEST(SessionCalendarFile, AnEarlyCloseMustFallInsideTheSession) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:00\"", "close: \"17:00\"")),
                     "cal.yaml:9:31: early_closes[0].close: 17:00 is not inside the regular session 09:30-16:00");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:00\"", "close: \"09:00\"")),
                     "cal.yaml:9:31: early_closes[0].close: 09:00 is not inside");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "close: \"13:00\"", "close: \"1pm\"")),
                     "cal.yaml:9:31: early_closes[0].close: '1pm' is not HH:MM");
}

TEST(SessionCalendarFile, OtherBadValuesNameTheirKey) {
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "America/New_York", "Europe/London")),
                     "cal.yaml:3:11: timezone: only America/New_York is supported");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "\"09:30\"", "\"9:30\"")),
                     "cal.yaml:4:17: regular.open: '9:30' is not HH:MM");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "\"16:00\"", "\"09:00\"")),
                     "cal.yaml:4:33: regular.close: must be after regular.open");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "[2026, 2026]", "[2026]")), "cal.yaml:5:8: years: expected [first, last]");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "[2026, 2026]", "[2026, 2025]")),
                     "cal.yaml:5:8: years: the last year is before the first");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "schema: 1", "schema: 2")), "cal.yaml:1:9: schema: 2 is outside [1, 1]");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, "exchange: NYSE\n", "")),
                     "cal.yaml:1:1: exchange: required key is missing");
  EXPECT_STARTS_WITH(errorOf(replaced(kBase, ", name: Thanksgiving Day", "")),
                     "cal.yaml:7:5: holidays[0].name: required key is missing");
}

TEST(SessionCalendarFile, YamlSyntaxErrorsAndMissingFilesAreReported) {
  auto syntax = errorOf(replaced(kBase, "[2026, 2026]", "[2026, 2026"));
  EXPECT_STARTS_WITH(syntax, "cal.yaml:");
  EXPECT_NE(syntax.find("YAML syntax error"), std::string::npos) << syntax;
  auto missing = SessionCalendar::load("/nonexistent/calendar.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Io);
  EXPECT_NE(missing.error().message.find("/nonexistent/calendar.yaml"), std::string::npos);
}

}  // namespace
}  // namespace th
