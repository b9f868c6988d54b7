// sdk/lua/th: the indicators and the options math against reference.json,
// which tests/sdk/reference.py computed independently from the definitions
// in STRATEGIES.md (Python, math.erf; Hull's example 15.6 for Black-Scholes).
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

class Sdk : public ::testing::Test {
 protected:
  // Runs `code` with the reference as the global `ref`; returns the global `result`.
  Json run(const std::string& code) { return lua_.run("ref", lua_.reference(), code); }
  std::string error(const std::string& code) { return lua_.error(code); }

  test::LuaRunner lua_{"", "tests/sdk/reference.json"};
  const Json& reference_ = lua_.reference();
};

// Lua writes false where the indicator is undefined (nil cannot sit in a list).
void expectSeries(const Json& ours, const Json& theirs, const char* name, double tolerance) {
  ASSERT_EQ(ours.size(), theirs.size()) << name;
  for (size_t i = 0; i < theirs.size(); ++i) {
    if (theirs[i].is_null()) {
      EXPECT_EQ(ours[i], false) << name << "[" << i << "] is defined too early: " << ours[i];
    } else {
      ASSERT_TRUE(ours[i].is_number()) << name << "[" << i << "] is undefined, reference " << theirs[i];
      EXPECT_NEAR(ours[i].get<double>(), theirs[i].get<double>(), tolerance) << name << "[" << i << "]";
    }
  }
}

constexpr const char* kIndicators = R"(
local ind = require("th.indicators")
local function run(indicator, inputs)
  local out = {}
  for i, x in ipairs(inputs) do
    local v = indicator:update(x)
    if v == nil then out[i] = false else out[i] = v end
  end
  return out
end
local closes = {}
for i, b in ipairs(ref.bars) do closes[i] = b.close end
result = {
  sma5 = run(ind.sma(5), closes),
  ema10 = run(ind.ema(10), closes),
  rsi14 = run(ind.rsi(14), closes),
  atr14 = run(ind.atr(14), ref.bars),
  vwap = run(ind.vwap(), ref.bars),
  highest20 = run(ind.highest(20), ref.bars),
  lowest20 = run(ind.lowest(20), ref.bars),
}
)";

TEST_F(Sdk, IndicatorsMatchTheIndependentReference) {
  auto ours = run(kIndicators);
  for (const char* name : {"sma5", "ema10", "rsi14", "atr14", "vwap", "highest20", "lowest20"}) {
    expectSeries(ours[name], reference_[name], name, 1e-9);
  }
  // The first defined values sit where the definitions put them.
  EXPECT_EQ(ours["ema10"][8], false);
  EXPECT_TRUE(ours["ema10"][9].is_number()) << "EMA(10) is defined from the 10th value";
  EXPECT_EQ(ours["rsi14"][13], false);
  EXPECT_TRUE(ours["rsi14"][14].is_number()) << "RSI(14) needs 14 changes, 15 closes";
  EXPECT_TRUE(ours["atr14"][13].is_number()) << "ATR(14) is defined from the 14th bar";
}

TEST_F(Sdk, IndicatorEdgeCasesAndErrors) {
  auto ours = run(R"(
local ind = require("th.indicators")
local e = ind.series(ind.ema(3), {1, 2, 3, 4})
local rising, flat = ind.rsi(3), ind.rsi(3)
for _, x in ipairs({1, 2, 3, 4, 5}) do rising:update(x); flat:update(7) end
local falling = ind.rsi(2)
for _, x in ipairs({5, 4, 3}) do falling:update(x) end
local v = ind.vwap()
v:update({high = 11, low = 9, close = 10, volume = 100}, 20261116)
v:update({high = 13, low = 11, close = 12, volume = 300, vwap = 12.5}, 20261116)
local same_day = v.value
v:update({high = 21, low = 19, close = 20, volume = 50}, 20261117)
local s = ind.sma(2)
for i = 1, 1000001 do s:update(i * 0.1) end
result = {ema = {e[1] == nil, e[2] == nil, e[3], e[4], e.n}, rising = rising.value, flat = flat.value,
          falling = falling.value, same_day = same_day, next_day = v.value, sma = s.value}
)");
  EXPECT_EQ(ours["ema"], Json::parse("[true, true, 2.0, 3.0, 4]")) << "seeded with the mean of 1, 2, 3; then 2/(3+1)";
  EXPECT_EQ(ours["rising"], 100) << "no losses: 100";
  EXPECT_EQ(ours["flat"], 100) << "no change at all: the loss is 0, so 100";
  EXPECT_EQ(ours["falling"], 0);
  EXPECT_DOUBLE_EQ(ours["same_day"].get<double>(), (10.0 * 100 + 12.5 * 300) / 400) << "the bar's own vwap when given";
  EXPECT_DOUBLE_EQ(ours["next_day"].get<double>(), 20) << "a new day starts afresh";
  EXPECT_NEAR(ours["sma"].get<double>(), (1000000.5) * 0.1, 1e-9) << "a million updates do not drift";

  EXPECT_NE(error("require('th.indicators').ema(0)").find("th.indicators.ema: the period must be a positive integer"),
            std::string::npos);
  EXPECT_NE(error("require('th.indicators').sma(2.5)").find("positive integer (got 2.5)"), std::string::npos);
  EXPECT_NE(error("require('th.indicators').rsi(3):update('x')").find("th.indicators.rsi: update needs a number"),
            std::string::npos);
}

TEST_F(Sdk, NormalDistributionMatchesErfToTheLastDigits) {
  auto ours = run(R"(
local opt = require("th.options")
result = {}
for i, p in ipairs(ref.norm_cdf) do result[i] = opt.norm_cdf(p[1]) end
)");
  const auto& points = reference_["norm_cdf"];
  ASSERT_EQ(ours.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    double x = points[i][0].get<double>(), expected = points[i][1].get<double>();
    EXPECT_NEAR(ours[i].get<double>(), expected, 1e-15 + 1e-13 * expected) << "N(" << x << ")";
  }
}

TEST_F(Sdk, BlackScholesPricesGreeksAndImpliedVolatility) {
  auto ours = run(R"(
local opt = require("th.options")
result = {}
for i, c in ipairs(ref.options) do
  local call = opt.greeks("call", c.S, c.K, c.T, c.sigma, c.r)
  local put = opt.greeks("put", c.S, c.K, c.T, c.sigma, c.r)
  result[i] = {call = call.price, put = put.price, call_delta = call.delta, put_delta = put.delta,
               gamma = call.gamma, vega = call.vega, call_theta = call.theta, put_theta = put.theta,
               d1 = call.d1, d2 = call.d2,
               iv_call = opt.implied_vol("call", call.price, c.S, c.K, c.T, c.r),
               iv_put = opt.implied_vol("put", put.price, c.S, c.K, c.T, c.r)}
end
)");
  const auto& cases = reference_["options"];
  ASSERT_EQ(ours.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    for (const char* key : {"call", "put", "call_delta", "put_delta", "gamma", "vega", "call_theta", "put_theta",
                            "d1", "d2"}) {
      double expected = cases[i][key].get<double>();
      EXPECT_NEAR(ours[i][key].get<double>(), expected, 1e-10 * std::max(1.0, std::abs(expected)))
          << "case " << i << " " << key;
    }
    EXPECT_NEAR(ours[i]["iv_call"].get<double>(), cases[i]["sigma"].get<double>(), 1e-8) << "case " << i;
    EXPECT_NEAR(ours[i]["iv_put"].get<double>(), cases[i]["sigma"].get<double>(), 1e-8) << "case " << i;
  }
  // Hull's example 15.6, to the cent as printed: call 4.76, put 0.81.
  EXPECT_NEAR(ours[0]["call"].get<double>(), 4.76, 0.005);
  EXPECT_NEAR(ours[0]["put"].get<double>(), 0.81, 0.005);
}

TEST_F(Sdk, OptionEdgeCasesAndTimeToExpiry) {
  auto ours = run(R"(
local opt = require("th.options")
local ctx = {}
local close = 1795208400000  -- 2026-11-20T16:00 New York, epoch ms
local early = 1795802400000  -- 2026-11-27T13:00 New York, an early close
local times = {["2026-11-20T16:00"] = close, ["2026-11-20T12:00"] = close - 4 * 3600000,
               ["2026-11-27T16:00"] = early + 3 * 3600000, ["2026-11-27T12:00"] = early - 3600000,
               ["2026-11-26T16:00"] = close + 6 * 86400000, ["2026-11-26T12:00"] = close + 6 * 86400000 - 4 * 3600000}
function ctx:time(text) return assert(times[text], text) end
-- The host's calendar: the 20th a full day, the 27th closing at 13:00, Thanksgiving closed.
function ctx:session(t)
  if t == close - 4 * 3600000 then return {close = close, early_close = false} end
  if t == early - 3600000 then return {close = early, early_close = true} end
  return nil
end
function ctx:now() return close - 390 * 60000 end
local below, why_below = opt.implied_vol("call", 5, 100, 90, 0.1)
local above, why_above = opt.implied_vol("call", 101, 100, 90, 0.1)
result = {
  expired_call = opt.call(100, 90, 0, 0.2),
  expired_put = opt.put(100, 90, 0, 0.2),
  zero_vol_greeks = opt.greeks("call", 100, 90, 0, 0.2).delta,
  t_open = opt.years_to_expiry(ctx, "2026-11-20"),
  t_int = opt.years_to_expiry(ctx, 20261120, close - 60000),
  t_after = opt.years_to_expiry(ctx, "2026-11-20", close + 3600000),
  t_floor = opt.years_to_expiry(ctx, "2026-11-20", close, 5),
  t_early = opt.years_to_expiry(ctx, "2026-11-27", early - 60 * 60000),
  t_holiday = opt.years_to_expiry(ctx, "2026-11-26", close + 6 * 86400000 - 60 * 60000),
  below = below == nil, why_below = why_below, above = above == nil, why_above = why_above,
}
)");
  EXPECT_EQ(ours["expired_call"], 10);
  EXPECT_EQ(ours["expired_put"], 0);
  EXPECT_EQ(ours["zero_vol_greeks"], 1);
  constexpr double kMinutesPerYear = 365.0 * 24 * 60;
  EXPECT_DOUBLE_EQ(ours["t_open"].get<double>(), 390 / kMinutesPerYear) << "09:30 to 16:00 is 390 minutes";
  EXPECT_DOUBLE_EQ(ours["t_int"].get<double>(), 1 / kMinutesPerYear);
  EXPECT_DOUBLE_EQ(ours["t_after"].get<double>(), 1 / kMinutesPerYear) << "at least min_t_minutes = 1";
  EXPECT_DOUBLE_EQ(ours["t_floor"].get<double>(), 5 / kMinutesPerYear);
  EXPECT_DOUBLE_EQ(ours["t_early"].get<double>(), 60 / kMinutesPerYear) << "to the 13:00 close, not 16:00";
  EXPECT_DOUBLE_EQ(ours["t_holiday"].get<double>(), 60 / kMinutesPerYear) << "a date without a session: 16:00";
  EXPECT_EQ(ours["below"], true);
  EXPECT_NE(ours["why_below"].get<std::string>().find("below the intrinsic value 10.0000"), std::string::npos);
  EXPECT_EQ(ours["above"], true);
  EXPECT_NE(ours["why_above"].get<std::string>().find("not below the bound 100.0000"), std::string::npos);
  EXPECT_NE(error("require('th.options').price('straddle', 1, 1, 1, 1)").find("kind must be \"call\" or \"put\""),
            std::string::npos);
  EXPECT_NE(error("require('th.options').years_to_expiry({}, '20/11/2026', 0)").find("is not a date YYYY-MM-DD"),
            std::string::npos);
}

}  // namespace
}  // namespace th
