// Strategy definitions: every error names the file, the line and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "script/definition.h"
#include "support/temp_dir.h"

namespace th {
namespace {

constexpr const char* kSource = "strategies/orb/orb.yaml";

std::string base(const std::string& extra = "") {
  return "schema: 1\nid: orb\nname: Opening range\nversion: 1.2.0\nsymbols: [SPY, QQQ]\ntimeframe: 5m\n" + extra;
}

std::string errorOf(const std::string& text) {
  auto parsed = parseDefinition(text, kSource);
  EXPECT_FALSE(parsed) << "accepted:\n" << text;
  return parsed ? "" : parsed.error().message;
}

TEST(Definition, ReadsEveryKeyWithTypedParameters) {
  auto parsed = parseDefinition(base(R"(description: breakout of the first bars
script: orb.lua
enabled: false
params:
  range_minutes: {type: integer, default: 5, min: 1, max: 60, description: opening range}
  risk_pct: {type: number, default: 0.5, min: 0.1, max: 2}
  mode: {type: choice, values: [stock, options], default: options}
  volume_filter: {type: boolean, default: true}
risk:
  max_order_quantity: 50
schedule: {start: "09:35", end: "15:55"}
runtime: {memory_mb: 16, callback_budget_ms: 20, max_errors: 3, error_window_s: 30, on_fault: keep, warmup_bars: 50}
)"),
                                kSource);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->id, "orb");
  EXPECT_EQ(parsed->version, "1.2.0");
  EXPECT_EQ(parsed->timeframe, Timeframe::M5);
  EXPECT_FALSE(parsed->enabled);
  ASSERT_EQ(parsed->params.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(parsed->param("range_minutes")->value), 5);
  EXPECT_DOUBLE_EQ(std::get<double>(parsed->param("risk_pct")->value), 0.5);
  EXPECT_EQ(std::get<std::string>(parsed->param("mode")->value), "options");
  EXPECT_TRUE(std::get<bool>(parsed->param("volume_filter")->value));
  EXPECT_EQ(parsed->risk.max_order_quantity, 50);
  EXPECT_EQ(parsed->schedule.start_minute, 9 * 60 + 35);
  EXPECT_EQ(parsed->schedule.end_minute, 15 * 60 + 55);
  EXPECT_EQ(parsed->runtime.memory_bytes, 16u << 20);
  EXPECT_EQ(parsed->runtime.on_fault, FaultPolicy::Keep);
  EXPECT_EQ(parsed->runtime.warmup_bars, 50u);
}

TEST(Definition, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf(base("entry_time: 09:35\n")).substr(0, 41), "strategies/orb/orb.yaml:7:1: entry_time: ");
  EXPECT_NE(errorOf(base("entry_time: 09:35\n")).find("unknown key"), std::string::npos);
  EXPECT_EQ(errorOf("schema: 1\nid: orb\nversion: 1.2\nsymbols: [SPY]\n"),
            "strategies/orb/orb.yaml:3:10: version: '1.2' is not a semantic version (1.2.3)");
  EXPECT_EQ(errorOf(base("params:\n  n: {type: integer, default: 70, max: 60}\n")),
            "strategies/orb/orb.yaml:8:31: params.n.default: 70 is outside [-inf, 60]");
  EXPECT_EQ(errorOf(base("params:\n  n: {type: integer, default: 2.5}\n")),
            "strategies/orb/orb.yaml:8:31: params.n.default: expected a whole number, got '2.5'");
  EXPECT_NE(errorOf(base("params:\n  m: {type: choice, values: [a, b], default: c}\n")).find("'c' is not one of: a, b"),
            std::string::npos);
  EXPECT_EQ(errorOf(base("timeframe: 2m\n")),
            "strategies/orb/orb.yaml:7:1: timeframe: the key appears twice in this mapping");
  // Two specs under one name: neither silently wins.
  EXPECT_EQ(errorOf(base("params:\n  n: {type: integer, default: 1}\n  n: {type: integer, default: 2}\n")),
            "strategies/orb/orb.yaml:9:3: params.n: the key appears twice in this mapping");
  EXPECT_NE(errorOf("schema: 1\nid: orb\nversion: 1.0.0\nsymbols: [SPY]\ntimeframe: 2m\n").find("'2m' is not one of"),
            std::string::npos);
  EXPECT_EQ(errorOf(base("schedule: {start: \"9:35\"}\n")),
            "strategies/orb/orb.yaml:7:19: schedule.start: '9:35' is not an exchange time HH:MM");
  EXPECT_NE(errorOf(base("runtime: {on_fault: flatten}\n")).find("runtime.on_fault"), std::string::npos);
  EXPECT_NE(errorOf(base("risk: {max_order_quantity: -5}\n")).find("risk.max_order_quantity"), std::string::npos);
  EXPECT_NE(errorOf("schema: 1\nid: other\nversion: 1.0.0\nsymbols: [SPY]\n").find("does not match the file name"),
            std::string::npos);
  EXPECT_NE(errorOf("schema: 1\nid: orb\nversion: 1.0.0\nsymbols: [SPY, SPY]\n").find("listed twice"),
            std::string::npos);
  EXPECT_NE(errorOf("schema: 1\nid: orb\nversion: 1.0.0\n").find("symbols: required key is missing"),
            std::string::npos);
  EXPECT_NE(errorOf("schema: 1\nid: orb\nversion: [1\n").find("YAML syntax error"), std::string::npos);
  EXPECT_NE(errorOf(base("script: ../../etc/passwd.lua\n")).find("inside the strategy's folder"), std::string::npos);
}

TEST(Definition, ParameterOverridesAreCheckedAgainstTheSpec) {
  auto parsed = parseDefinition(base("params:\n  n: {type: integer, default: 5, min: 1, max: 60}\n"), kSource);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(setParam(*parsed, "n", "15"));
  EXPECT_EQ(std::get<int64_t>(parsed->param("n")->value), 15);
  EXPECT_EQ(setParam(*parsed, "n", "61").error().message, "params.n: 61 is outside [1, 60]");
  EXPECT_EQ(setParam(*parsed, "x", "1").error().message, "params.x: orb has no such parameter");
}

TEST(Definition, SemverPrecedence) {
  EXPECT_TRUE(isSemver("1.2.3"));
  EXPECT_TRUE(isSemver("1.2.3-rc.1"));
  EXPECT_FALSE(isSemver("1.2"));
  EXPECT_FALSE(isSemver("01.2.3"));
  EXPECT_LT(compareSemver("1.2.3", "1.10.0"), 0);
  EXPECT_LT(compareSemver("1.2.3-rc.1", "1.2.3"), 0);
  EXPECT_EQ(compareSemver("2.0.0", "2.0.0"), 0);
}

TEST(Definition, AVersionIsTheDigestOfEveryFile) {
  test::TempDir dir;
  auto folder = dir.path() / "orb";
  std::filesystem::create_directories(folder / "lib");
  std::ofstream(folder / "orb.yaml") << base();
  std::ofstream(folder / "orb.lua") << "function on_bar(ctx, bar) end\n";
  std::ofstream(folder / "lib" / "levels.lua") << "return {}\n";
  std::ofstream(folder / "notes.txt") << "not part of the version\n";
  auto first = readStrategyFolder(folder.string());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->files.size(), 3u);
  EXPECT_TRUE(first->files.contains("lib/levels.lua"));
  EXPECT_EQ(first->sha256.size(), 64u);
  std::ofstream(folder / "lib" / "levels.lua") << "return {level = 1}\n";
  auto second = readStrategyFolder((folder / "orb.yaml").string());
  ASSERT_TRUE(second);
  EXPECT_NE(first->sha256, second->sha256);
  std::ofstream(folder / "notes.txt") << "edited\n";
  EXPECT_EQ(readStrategyFolder(folder.string())->sha256, second->sha256);
  EXPECT_EQ(readStrategyFolder((dir.path() / "none").string()).error().code, ErrorCode::NotFound);
}

}  // namespace
}  // namespace th
