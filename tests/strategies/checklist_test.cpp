// The 8-point entry checklist (strategies/entry_checklist/checklist.lua):
// against an independent implementation (checklist_reference.py), each
// criterion just passing and just failing at its threshold, and each grade.
#include <gtest/gtest.h>
#include <lua.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "script/lua_engine.h"
#include "support/lua_runner.h"

namespace th {
namespace {

using Json = nlohmann::json;

class Checklist : public ::testing::Test {
 protected:
  // The record checklist.score gives for the reference input with `changes`
  // to its params (and `input` fields replaced), or {"error": why}.
  Json score(const std::string& direction, const Json& changes = Json::object(), const Json& input = Json::object()) {
    Json params = reference_["params"];
    if (changes.is_object()) params.update(changes);  // {} reads as null
    Json in = reference_["input"];
    if (input.is_object()) in.update(input);
    return lua_.run("args", Json{{"params", params}, {"input", in}, {"direction", direction}}, R"(
local checklist = require("checklist")
local record, why = checklist.score(args.input, args.direction, args.params)
result = record or {error = why}
)");
  }
  static const Json& criterion(const Json& record, const std::string& name) {
    for (const auto& c : record["criteria"]) {
      if (c["name"] == name) return c;
    }
    static const Json none;
    ADD_FAILURE() << "no criterion " << name << " in " << record.dump();
    return none;
  }
  bool passes(const std::string& name, const Json& changes, const Json& input = Json::object(),
              const std::string& direction = "long") {
    return criterion(score(direction, changes, input), name)["pass"].get<bool>();
  }

  test::LuaRunner lua_{std::string(TH_SOURCE_DIR) + "/strategies/entry_checklist",
                      "tests/strategies/checklist_reference.json"};
  const Json& reference_ = lua_.reference();
};

TEST_F(Checklist, MatchesTheIndependentImplementation) {
  for (const char* direction : {"long", "short"}) {
    SCOPED_TRACE(direction);
    auto ours = score(direction);
    const auto& theirs = reference_[direction];
    EXPECT_EQ(ours["score"], theirs["score"]);
    EXPECT_EQ(ours["grade"], theirs["grade"]);
    EXPECT_EQ(ours["direction"], direction);
    EXPECT_EQ(ours["bars"], 60);
    EXPECT_EQ(ours["inputs_time"], reference_["input"]["bars"][59]["time"]);
    ASSERT_EQ(ours["criteria"].size(), 8u);
    for (const auto& [name, pass] : theirs["pass"].items()) {
      EXPECT_EQ(criterion(ours, name)["pass"], pass) << name << ": " << criterion(ours, name).dump();
    }
    const auto& v = theirs["values"];
    auto near = [](const Json& a, const Json& b, const char* what) {
      EXPECT_NEAR(a.get<double>(), b.get<double>(), 1e-9 * std::max(1.0, std::abs(b.get<double>()))) << what;
    };
    near(criterion(ours, "trend")["threshold"], v["ema21"], "EMA21");
    near(criterion(ours, "slope")["threshold"], v["slope_then"], "EMA21 five sessions ago");
    near(criterion(ours, "momentum")["value"], v["momentum"], "RSI14");
    near(criterion(ours, "participation")["value"], v["participation"], "relative volume");
    near(criterion(ours, "stock_liquidity")["value"], v["stock_liquidity"], "dollar volume");
    near(criterion(ours, "option_liquidity")["value"]["spread_pct"], v["spread_pct"], "option spread");
    near(criterion(ours, "volatility")["value"], v["volatility"], "ATR %");
    near(criterion(ours, "room")["value"], v["room"], "room");
    EXPECT_NE(criterion(ours, "option_liquidity")["detail"].get<std::string>().find(v["option"].get<std::string>()),
              std::string::npos)
        << "the nearest live expiry, the strike closest to the price";
  }
}

TEST_F(Checklist, EachCriterionJustPassesAndJustFailsAtItsThreshold) {
  auto base = score("long");
  const double ema21 = criterion(base, "trend")["threshold"].get<double>();
  const double rsi = criterion(base, "momentum")["value"].get<double>();
  const double rvol = criterion(base, "participation")["value"].get<double>();
  const double dollar = criterion(base, "stock_liquidity")["value"].get<double>();
  const double spread = criterion(base, "option_liquidity")["value"]["spread_pct"].get<double>();
  const double atr_pct = criterion(base, "volatility")["value"].get<double>();
  const double room = criterion(base, "room")["value"].get<double>();
  const double room_needed = criterion(base, "room")["threshold"].get<double>();
  const double atr = room_needed / reference_["params"]["room_atr"].get<double>();

  // 1. close above EMA21, strictly.
  EXPECT_TRUE(passes("trend", {}, {{"price", ema21 + 1e-9}}));
  EXPECT_FALSE(passes("trend", {}, {{"price", ema21}}));
  // 3. RSI inside [rsi_lo, rsi_hi], ends included; short mirrors it.
  EXPECT_TRUE(passes("momentum", {{"rsi_hi", rsi}}));
  EXPECT_FALSE(passes("momentum", {{"rsi_hi", rsi - 1e-9}}));
  EXPECT_TRUE(passes("momentum", {{"rsi_lo", rsi}, {"rsi_hi", 100}}));
  EXPECT_FALSE(passes("momentum", {{"rsi_lo", rsi + 1e-9}, {"rsi_hi", 100}}));
  EXPECT_TRUE(passes("momentum", {{"rsi_lo", 0}, {"rsi_hi", 100 - rsi}}, {}, "short")) << "short: [100-hi, 100-lo]";
  EXPECT_FALSE(passes("momentum", {{"rsi_lo", 0}, {"rsi_hi", 100 - rsi - 1e-6}}, {}, "short"));
  // 4. relative volume at least rvol_min.
  EXPECT_TRUE(passes("participation", {{"rvol_min", rvol}}));
  EXPECT_FALSE(passes("participation", {{"rvol_min", rvol + 1e-9}}));
  // 5. dollar volume at least min_dollar_volume.
  EXPECT_TRUE(passes("stock_liquidity", {{"min_dollar_volume", dollar}}));
  EXPECT_FALSE(passes("stock_liquidity", {{"min_dollar_volume", dollar + 1e-3}}));
  // 6. open interest at least min_option_oi, spread at most max_option_spread.
  EXPECT_TRUE(passes("option_liquidity", {{"min_option_oi", 2400}}));
  EXPECT_FALSE(passes("option_liquidity", {{"min_option_oi", 2401}}));
  EXPECT_TRUE(passes("option_liquidity", {{"max_option_spread", spread}}));
  EXPECT_FALSE(passes("option_liquidity", {{"max_option_spread", spread - 1e-9}}));
  // 7. ATR % inside [atr_lo, atr_hi], ends included.
  EXPECT_TRUE(passes("volatility", {{"atr_lo", atr_pct}}));
  EXPECT_FALSE(passes("volatility", {{"atr_lo", atr_pct + 1e-9}}));
  EXPECT_TRUE(passes("volatility", {{"atr_lo", 0}, {"atr_hi", atr_pct}}));
  EXPECT_FALSE(passes("volatility", {{"atr_lo", 0}, {"atr_hi", atr_pct - 1e-9}}));
  // 8. room at least room_atr x ATR14.
  EXPECT_TRUE(passes("room", {{"room_atr", room / atr * (1 - 1e-12)}}));
  EXPECT_FALSE(passes("room", {{"room_atr", room / atr * (1 + 1e-9)}}));
  // 2. EMA21 rising, strictly: flat closes neither rise nor fall.
  Json flat = reference_["input"]["bars"];
  for (auto& bar : flat) bar["open"] = bar["high"] = bar["low"] = bar["close"] = 100.0;
  auto level = score("long", {}, {{"bars", flat}, {"price", 100.0}});
  EXPECT_FALSE(criterion(level, "slope")["pass"].get<bool>());
  EXPECT_FALSE(criterion(level, "trend")["pass"].get<bool>()) << "close equal to EMA21 is not above it";
  EXPECT_FALSE(criterion(score("short", {}, {{"bars", flat}, {"price", 100.0}}), "slope")["pass"].get<bool>());
  EXPECT_EQ(criterion(level, "momentum")["value"], 100) << "no losses: RSI 100";
}

TEST_F(Checklist, GradesTooFewBarsAndAMissingChain) {
  // Passing every criterion but the two the fixture fails gives 8 → A+; then one fewer each time.
  Json all = {{"rsi_hi", 100}, {"room_atr", 0}};
  auto top = score("long", all);
  EXPECT_EQ(top["score"], 8) << top.dump();
  EXPECT_EQ(top["grade"], "A+");
  std::vector<std::pair<Json, std::string>> worse = {{{{"min_option_oi", 1e9}}, "A"},
                                                     {{{"min_option_oi", 1e9}, {"rvol_min", 1e9}}, "B"},
                                                     {{{"min_option_oi", 1e9}, {"rvol_min", 1e9}, {"atr_lo", 99}}, "C"},
                                                     {{{"min_option_oi", 1e9},
                                                       {"rvol_min", 1e9},
                                                       {"atr_lo", 99},
                                                       {"min_dollar_volume", 1e15}},
                                                      "D"},
                                                     {{{"min_option_oi", 1e9},
                                                       {"rvol_min", 1e9},
                                                       {"atr_lo", 99},
                                                       {"min_dollar_volume", 1e15},
                                                       {"rsi_lo", 99}},
                                                      "F"}};
  int expected = 7;
  for (const auto& [changes, grade] : worse) {
    Json params = all;
    params.update(changes);
    auto record = score("long", params);
    EXPECT_EQ(record["score"], expected) << params.dump();
    EXPECT_EQ(record["grade"], grade) << params.dump();
    --expected;
  }

  Json short_history = reference_["input"]["bars"];
  short_history.erase(short_history.begin(), short_history.begin() + 11);
  auto too_few = score("long", {}, {{"bars", short_history}});
  EXPECT_EQ(too_few["error"], "XYZ: 49 daily bar(s), min_days is 50");

  auto no_chain = score("long", {}, {{"chain", Json::array()}});
  EXPECT_FALSE(criterion(no_chain, "option_liquidity")["pass"].get<bool>());
  EXPECT_EQ(criterion(no_chain, "option_liquidity")["detail"], "no option chain");
}

}  // namespace
}  // namespace th
