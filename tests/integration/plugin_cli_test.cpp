// `tradehost plugin list|inspect|check`, `config validate` and `calendar`
// as a plugin author, operator or trader runs them: exit codes and what
// they print.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"
#include "support/temp_dir.h"

namespace th {
namespace {

std::string plugin(const std::string& name) { return std::string(TH_PLUGIN_DIR) + "/lib" + name + ".so"; }
std::string testPlugin(const std::string& name) { return std::string(TH_TEST_PLUGIN_DIR) + "/lib" + name + ".so"; }

std::pair<int, std::string> tradehost(const test::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), test::tradehostBinary());
  return test::runToEnd(args, dir / "out.log");
}

TEST(CalendarCli, PrintsEachSessionAndEachClosedWeekdayOfTheYears) {
  test::TempDir dir;
  auto [code, out] = tradehost(dir, {"calendar", "--from", "2012", "--to", "2012"});
  ASSERT_EQ(code, 0) << out;
  for (const char* line : {"2012-10-26  09:30  16:00\n", "2012-10-29  closed        Hurricane Sandy\n",
                           "2012-10-30  closed        Hurricane Sandy\n", "2012-10-31  09:30  16:00\n",
                           "2012-11-23  09:30  13:00  early close: Day after Thanksgiving\n",
                           "250 sessions, 3 early closes, 11 weekday closures"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " missing in:\n" << out;
  }
  EXPECT_EQ(out.find("2012-10-27"), std::string::npos) << "weekends are not listed";

  auto [json_code, json] = tradehost(dir, {"calendar", "--from", "2025", "--json"});
  ASSERT_EQ(json_code, 0) << json;
  EXPECT_NE(json.find(R"("name": "National Day of Mourning for President Carter")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("close_utc": "2025-07-03T17:00:00.000Z")"), std::string::npos) << json;

  // An override from a host configuration applies; bad years exit 2 and say why.
  std::ofstream(dir / "calendar.yaml") << "schema: 2\nholidays:\n  - {date: 2030-03-15, name: Storm}\n";
  std::ofstream(dir / "host.yaml") << "data:\n  calendar: calendar.yaml\n";
  auto [override_code, overridden] = tradehost(dir, {"calendar", "--from", "2030", "--config", dir / "host.yaml"});
  EXPECT_EQ(override_code, 0) << overridden;
  EXPECT_NE(overridden.find("2030-03-15  closed        Storm"), std::string::npos) << overridden;
  auto [bad_code, bad] = tradehost(dir, {"calendar", "--from", "1985", "--to", "1990"});
  EXPECT_EQ(bad_code, 2);
  EXPECT_NE(bad.find("1985-1990 is not inside the calendar's years 1990-2100"), std::string::npos) << bad;
}

TEST(PluginCli, PaperBrokerPassesTheConformanceCheck) {
  test::TempDir dir;
  auto config = R"({"state_file": ")" + (dir / "paper.json") + R"("})";
  auto [code, out] = tradehost(dir, {"plugin", "check", plugin("paper"), "--config", config});
  EXPECT_EQ(code, 0) << out;
  for (const char* step : {"PASS  submit", "PASS  duplicate client order id", "PASS  cancel", "PASS  reject",
                           "PASS  partial fill", "PASS  disconnect", "PASS  reconnect"}) {
    EXPECT_NE(out.find(step), std::string::npos) << step << " missing in:\n" << out;
  }
  EXPECT_NE(out.find(" 0 failed"), std::string::npos) << out;
}

TEST(PluginCli, SyntheticMarketPassesTheConformanceCheck) {
  test::TempDir dir;
  auto [code, out] = tradehost(dir, {"plugin", "check", plugin("synthetic"), "--at", "2026-11-17T10:00:00"});
  EXPECT_EQ(code, 0) << out;
  for (const char* step : {"PASS  history", "PASS  subscribe", "PASS  option chain", "PASS  unsubscribe"}) {
    EXPECT_NE(out.find(step), std::string::npos) << step << " missing in:\n" << out;
  }
}

TEST(PluginCli, EachBrokenPluginGetsItsReasonAndANonZeroExit) {
  test::TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {"/nonexistent/libfoo.so", "file not found"},
      {testPlugin("not_elf"), "not a shared object"},
      {testPlugin("broken_no_entry"), "no th_plugin_entry symbol"},
      {testPlugin("broken_abi_major"), "ABI major mismatch: plugin built for ABI 2.0"},
      {testPlugin("broken_small_descriptor"), "descriptor struct too small"},
      {testPlugin("broken_init_error"), "license file /opt/vendor/license.key is missing"},
  };
  for (const auto& [file, reason] : cases) {
    for (const char* command : {"inspect", "check"}) {
      auto [code, out] = tradehost(dir, {"plugin", command, file});
      EXPECT_NE(code, 0) << command << " " << file;
      EXPECT_NE(out.find(file), std::string::npos) << "the message names the file: " << out;
      EXPECT_NE(out.find(reason), std::string::npos) << command << " " << file << ": " << out;
    }
  }
  auto [code, out] = tradehost(dir, {"plugin", "check", testPlugin("broken_create_error")});
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("FAIL  create"), std::string::npos) << out;
  EXPECT_NE(out.find("config key 'endpoint' is required"), std::string::npos) << out;
}

TEST(PluginCli, ListAndInspectDescribeTheShippedPlugins) {
  test::TempDir dir;
  auto [code, out] = tradehost(dir, {"plugin", "list", "--dir", TH_PLUGIN_DIR});
  EXPECT_EQ(code, 0) << out;
  for (const char* id : {"paper", "replay", "synthetic"}) EXPECT_NE(out.find(id), std::string::npos) << out;
  auto [icode, inspect] = tradehost(dir, {"plugin", "inspect", plugin("paper")});
  EXPECT_EQ(icode, 0) << inspect;
  EXPECT_NE(inspect.find("kind:        broker"), std::string::npos) << inspect;
  EXPECT_NE(inspect.find("market_feed"), std::string::npos) << inspect;
}

TEST(ConfigCli, ValidateReportsFileLineAndKey) {
  test::TempDir dir;
  { std::ofstream(dir / "bad.yaml") << "schema: 1\nclock:\n  speed: fast\n"; }
  auto [code, out] = tradehost(dir, {"config", "validate", dir / "bad.yaml"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find(dir / "bad.yaml" + ":3:10: clock.speed: expected a number, got 'fast'"), std::string::npos) << out;
  auto [ok, good] = tradehost(dir, {"config", "validate"});
  EXPECT_EQ(ok, 0) << good;
}

}  // namespace
}  // namespace th
