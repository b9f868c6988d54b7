// The covered-call screen (strategies/covered_call/screen.lua): against an
// independent implementation (covered_call_reference.py), the confidence
// score and warnings against hand-computed values, each filter just passing
// and just failing at its bound, and the ranking choices.
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

constexpr double kToday = 20261120;
constexpr double kYears = 350.0 / (365 * 24 * 60);  // 10:10 to the 16:00 expiry

class CoveredCallScreen : public ::testing::Test {
 protected:
  // screen.run over one underlying at `price` with `chain`, the reference's
  // params with `changes`; years per expiry from `years` (default: every
  // expiry 350 minutes away).
  Json run(const Json& chain, const Json& changes = Json::object(), double price = 500,
           const Json& years = Json::object()) {
    Json params = reference_["params"];
    if (changes.is_object()) params.update(changes);
    Json args = {{"params", params}, {"chain", chain}, {"price", price}, {"today", kToday},
                 {"years", years.is_object() ? years : Json::object()}, {"default_years", kYears}};
    return lua_.run("args", args, R"(
local screen = require("screen")
local input = {symbol = "SPY", price = args.price, chain = args.chain, today = math.tointeger(args.today),
               years = function(expiry) return args.years[tostring(expiry)] or args.default_years end}
for _, c in ipairs(input.chain) do c.expiry = math.tointeger(c.expiry) end
result = screen.run({input}, args.params)
)");
  }

  // A 0-DTE call at `strike` with the provider's delta 0.25 and a tidy
  // quote, so that only the field a test changes decides.
  static Json call(double strike, const Json& changes = Json::object()) {
    Json c = {{"symbol", "SPY261120C" + std::to_string(static_cast<int>(strike * 1000))},
              {"right", "call"},
              {"expiry", kToday},
              {"strike", strike},
              {"bid", 1.00},
              {"ask", 1.10},
              {"volume", 500},
              {"open_interest", 2000},
              {"iv", 0.40},
              {"delta", 0.25}};
    if (changes.is_object()) c.update(changes);
    return c;
  }
  // "passed" or the filter that left the single contract out.
  std::string verdict(const Json& contract, const Json& changes = Json::object()) {
    auto out = run(Json::array({contract}), changes);
    const auto& u = out["underlyings"][0];
    if (u["passed"] == 1) return "passed";
    for (const auto& [why, n] : u["rejected"].items()) return why;
    return "?";
  }

  test::LuaRunner lua_{std::string(TH_SOURCE_DIR) + "/strategies/covered_call",
                      "tests/strategies/covered_call_reference.json"};
  const Json& reference_ = lua_.reference();
};

TEST_F(CoveredCallScreen, MatchesTheIndependentImplementation) {
  auto out = run(reference_["chain"], Json::object(), reference_["price"].get<double>(), reference_["years"]);
  const auto& ranked = reference_["ranked"];
  ASSERT_EQ(out["results"].size(), ranked.size()) << out.dump(1);
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& ours = out["results"][i];
    const auto& theirs = ranked[i];
    SCOPED_TRACE(theirs["contract"].get<std::string>());
    EXPECT_EQ(ours["contract"], theirs["contract"]) << "rank " << i + 1;
    EXPECT_EQ(ours["rank"], i + 1);
    EXPECT_EQ(ours["symbol"], "SPY");
    // The Python solves a missing IV by bisection, the SDK by Newton's method: equal to 1e-9.
    EXPECT_NEAR(ours["iv"].get<double>(), theirs["iv"].get<double>(), 1e-9);
    for (const char* field : {"delta", "premium_yield", "breakeven", "max_profit", "pop", "prob_otm", "ev",
                              "confidence"}) {
      EXPECT_NEAR(ours[field].get<double>(), theirs[field].get<double>(), 1e-7) << field;
    }
    EXPECT_NEAR(ours["confidence_parts"]["liquidity"].get<double>(), theirs["liquidity"].get<double>(), 1e-12);
    EXPECT_EQ(ours["warnings"].size(), theirs["warnings"].get<size_t>()) << ours["warnings"].dump();
  }
  const auto& u = out["underlyings"][0];
  EXPECT_EQ(u["contracts"], reference_["chain"].size());
  EXPECT_EQ(u["passed"], ranked.size());
  EXPECT_EQ(u["rejected"], reference_["rejected"]);
  // The contract without an IV took the one its mid implies and computed its own delta.
  for (const auto& r : out["results"]) {
    if (r["contract"] == "SPY261120C00503000") {
      EXPECT_EQ(r["iv_source"], "mid");
      EXPECT_EQ(r["delta_source"], "black_scholes");
    }
    if (r["contract"] == "SPY261120C00503500") {
      EXPECT_EQ(r["delta_source"], "provider");
      EXPECT_DOUBLE_EQ(r["delta"].get<double>(), 0.25);
    }
  }
}

TEST_F(CoveredCallScreen, ConfidenceAndWarningsMatchHandComputedValues) {
  // S 500, K 502, bid 1.00, ask 1.10, volume 999, open interest 9999:
  //   yield 1 / 500 = 0.2 %: min(40, 0.002 x 20000 = 40) = 40;
  //   liquidity 10 x min(1, log10(1000) / 3 = 1) + 5 x min(1, log10(10000) / 4 = 1)
  //             + max(0, 5 - 10 x 0.10 / 1.00) = 10 + 5 + 4 = 19;
  //   breakeven 499, max profit 502 - 500 + 1 = 3.
  auto out = run(Json::array({call(502, {{"volume", 999}, {"open_interest", 9999}})}));
  ASSERT_EQ(out["results"].size(), 1u) << out.dump();
  const auto& r = out["results"][0];
  EXPECT_DOUBLE_EQ(r["premium_yield"].get<double>(), 0.002);
  EXPECT_DOUBLE_EQ(r["breakeven"].get<double>(), 499);
  EXPECT_DOUBLE_EQ(r["max_profit"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(r["confidence_parts"]["yield"].get<double>(), 40);
  EXPECT_NEAR(r["confidence_parts"]["liquidity"].get<double>(), 19, 1e-12);
  // Probability of profit P(S_T > 499), sigma 0.40 over 350 minutes: sigma sqrt(T) = 0.40 x 0.0258051 =
  // 0.0103221; d2 = (ln(500 / 499) - 0.0103221^2 / 2) / 0.0103221 = 0.188793; N(0.188793) = 0.574872.
  EXPECT_NEAR(r["pop"].get<double>(), 0.574872, 1e-6);
  EXPECT_NEAR(r["confidence"].get<double>(), 40 + 40 * 0.574872 + 19, 1e-4);
  EXPECT_TRUE(r["warnings"].empty()) << r["warnings"].dump();

  // Every warning: yield 0.04 / 500 = 0.008 % (and 40 x ... = 1.6), volume 99, open interest 999,
  // spread 0.01 / 0.04 = 25 % of the bid; at sigma 2.00 the drift term sigma^2 T / 2 outweighs
  // ln(500 / 499.96), so the probability of profit is under 50 %.
  auto weak = run(Json::array({call(500.02, {{"bid", 0.04}, {"ask", 0.05}, {"volume", 99}, {"open_interest", 999},
                                             {"iv", 2.0}})}),
                  {{"min_bid", 0.01}});
  ASSERT_EQ(weak["results"].size(), 1u) << weak.dump();
  const auto& w = weak["results"][0];
  EXPECT_NEAR(w["confidence_parts"]["yield"].get<double>(), 1.6, 1e-12);
  ASSERT_EQ(w["warnings"].size(), 5u) << w["warnings"].dump();
  EXPECT_EQ(w["warnings"][0], "yield 0.008% below 0.1%");
  EXPECT_EQ(w["warnings"][2], "volume 99 below 100");
  EXPECT_EQ(w["warnings"][3], "open interest 999 below 1000");
  EXPECT_EQ(w["warnings"][4], "spread 25.0% of the bid above 20%");
  EXPECT_LT(w["pop"].get<double>(), 0.5);
}

// The docs promise arrays: a screen that passes nothing has "results": [],
// and a candidate with nothing to warn of has "warnings": [], not {}.
TEST_F(CoveredCallScreen, EmptyListsAreArraysInItsJson) {
  auto none = run(Json::array());
  ASSERT_TRUE(none["results"].is_array()) << none.dump();
  EXPECT_TRUE(none["results"].empty());
  auto out = run(reference_["chain"], Json::object(), reference_["price"].get<double>(), reference_["years"]);
  size_t quiet = 0;
  for (const auto& r : out["results"]) {
    ASSERT_TRUE(r["warnings"].is_array()) << r.dump();
    quiet += r["warnings"].empty() ? 1 : 0;
  }
  EXPECT_GT(quiet, 0u) << "the reference chain has a candidate with no warnings";
}

TEST_F(CoveredCallScreen, EachFilterPassesAtItsBoundAndFailsJustBeyond) {
  // OTM %: [0, 3] of 500: strikes 500 and 515 pass, 499.99 and 515.01 do not.
  EXPECT_EQ(verdict(call(500)), "passed");
  EXPECT_EQ(verdict(call(499.99)), "otm");
  EXPECT_EQ(verdict(call(515)), "passed");
  EXPECT_EQ(verdict(call(515.01)), "otm");
  // Delta [0.15, 0.35].
  EXPECT_EQ(verdict(call(502, {{"delta", 0.15}})), "passed");
  EXPECT_EQ(verdict(call(502, {{"delta", 0.1499}})), "delta");
  EXPECT_EQ(verdict(call(502, {{"delta", 0.35}})), "passed");
  EXPECT_EQ(verdict(call(502, {{"delta", 0.3501}})), "delta");
  // Bid at least 0.05.
  EXPECT_EQ(verdict(call(502, {{"bid", 0.05}, {"ask", 0.06}})), "passed");
  EXPECT_EQ(verdict(call(502, {{"bid", 0.049}, {"ask", 0.06}})), "bid");
  // Open interest at least 100.
  EXPECT_EQ(verdict(call(502, {{"open_interest", 100}})), "passed");
  EXPECT_EQ(verdict(call(502, {{"open_interest", 99}})), "open_interest");
  // (ask - bid) / mid at most 0.5: 3.00 / 5.00 is 2 / 4 = 0.5.
  EXPECT_EQ(verdict(call(502, {{"bid", 3.0}, {"ask", 5.0}})), "passed");
  EXPECT_EQ(verdict(call(502, {{"bid", 3.0}, {"ask", 5.01}})), "spread");
  // Expiries from today to max_days (0) calendar days; 3 days reaches Monday 2026-11-23.
  EXPECT_EQ(verdict(call(502, {{"expiry", 20261121}})), "expiry");
  EXPECT_EQ(verdict(call(502, {{"expiry", 20261119}})), "expiry");
  EXPECT_EQ(verdict(call(502, {{"expiry", 20261123}}), {{"max_days", 3}}), "passed");
  EXPECT_EQ(verdict(call(502, {{"expiry", 20261124}}), {{"max_days", 3}}), "expiry");
  EXPECT_EQ(verdict(call(502, {{"expiry", 20261201}}), {{"max_days", 11}}), "passed") << "across a month end";
  // Puts are not covered calls.
  EXPECT_EQ(verdict(call(502, {{"right", "put"}})), "put");
  // Without the provider's delta, Black-Scholes from the IV decides: sigma sqrt(T) = 0.0103; at strike 502
  // d1 = (ln(500 / 502) + 0.0103^2 / 2) / 0.0103 = -0.3816, N(d1) = 0.3514: just out; at 502.05, 0.3478: in.
  EXPECT_EQ(verdict(call(502, {{"delta", nullptr}})), "delta");
  EXPECT_EQ(verdict(call(502.05, {{"delta", nullptr}})), "passed");
}

TEST_F(CoveredCallScreen, RanksBySortByAndKeepsMaxResults) {
  // A: the highest yield (2.00 / 500); B: the lowest yield, but at sigma 0.02 the likeliest to end above
  // its breakeven (probability 0.781 against A's 0.649 and C's 0.613); C: the most above fair value
  // (1.50 - 0.463 = 1.037 against A's 0.401 and B's 0.200).
  Json chain = Json::array({call(501, {{"symbol", "A"}, {"bid", 2.0}, {"ask", 2.1}, {"delta", 0.3}}),
                            call(510, {{"symbol", "B"}, {"bid", 0.20}, {"ask", 0.21}, {"delta", 0.16}, {"iv", 0.02}}),
                            call(505, {{"symbol", "C"}, {"bid", 1.50}, {"ask", 1.60}, {"delta", 0.2}})});
  auto order = [&](const std::string& sort_by, int max_results = 10) {
    std::string out;
    auto screened = run(chain, {{"sort_by", sort_by}, {"max_results", max_results}});
    EXPECT_EQ(screened["underlyings"][0]["passed"], 3) << screened.dump(1);
    for (const auto& r : screened["results"]) {
      out += r["contract"].get<std::string>();
    }
    return out;
  };
  EXPECT_EQ(order("yield"), "ACB");
  EXPECT_EQ(order("pop"), "BAC");
  EXPECT_EQ(order("ev"), "CAB");
  EXPECT_EQ(order("confidence", 2).size(), 2u);
  // Equal keys rank by contract symbol.
  Json twins = Json::array({call(502, {{"symbol", "Z"}}), call(502, {{"symbol", "M"}})});
  auto out = run(twins);
  EXPECT_EQ(out["results"][0]["contract"], "M");
  EXPECT_EQ(out["results"][1]["contract"], "Z");
}

}  // namespace
}  // namespace th
