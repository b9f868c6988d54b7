// `tradehost plugin list|inspect|check` and `config validate` as a plugin
// author or operator runs them: exit codes and what they print.
#include <gtest/gtest.h>

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
