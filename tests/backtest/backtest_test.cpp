// Backtests end to end on the real parts: the shipped strategies, the paper,
// replay and synthetic plugins from their .so files, a RocksDB store. A
// hand-built CSV day gives a trade whose every number is known; reruns give
// the same bytes; every shipped strategy yields both reports; bad input is
// refused with what is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backtest/backtest.h"
#include "backtest/backtest_internal.h"
#include "csv_day.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using Json = nlohmann::json;

BacktestOptions options(const std::string& strategy) {
  BacktestOptions o;
  o.strategy = strategy;
  o.strategies_dir = std::string(TH_SOURCE_DIR) + "/strategies";
  o.sdk_dir = std::string(TH_SOURCE_DIR) + "/sdk/lua";
  o.plugin_dir = TH_PLUGIN_DIR;
  return o;
}

Json run(const BacktestOptions& o) {
  auto report = runBacktest(o);
  EXPECT_TRUE(report) << (report ? "" : report.error().message);
  return report ? Json::parse(reportJson(*report)) : Json();
}

// Monday 2026-11-16 on SPY: the opening range 99-101, a breakout at 09:45,
// the target reached at 10:30 (the bars of tests/strategies/orb_test.cpp).
std::string orbDay() {
  test::CsvDay day("SPY", 20261116);
  day.bar(100.0, 101.0, 99.6, 100.4);
  day.bar(100.4, 100.6, 99.0, 99.8);
  day.quietUntil(9, 45, 100.0);
  day.bar(100.5, 101.6, 100.4, 101.5);  // 09:45: closes above 101
  day.bar(101.6, 102.0, 101.2, 101.9);  // 09:46: the entry at 101.60
  day.quietUntil(10, 30, 103.0);
  day.bar(103.0, 105.6, 102.9, 105.2);  // 10:30: touches 105.60
  day.quietUntil(16, 0, 105.0);
  return day.csv();
}

// Without --symbols a backtest plays every symbol of the data, as the
// replay plugin lists them (replay_test holds the listing to every layout).
TEST(Backtest, WithoutSymbolsEverySymbolOfTheDataIsPlayed) {
  test::TempDir dir;
  std::filesystem::create_directory(dir / "data");
  std::ofstream(dir / "data/spy.csv") << orbDay();
  auto qqq = orbDay();
  for (size_t at = 0; (at = qqq.find(",SPY,", at)) != std::string::npos;) qqq.replace(at, 5, ",QQQ,");
  std::ofstream(dir / "data/qqq.csv") << qqq;
  auto o = options("orb");
  o.data = dir / "data";
  o.from = o.to = 20261116;
  auto report = run(o);
  EXPECT_EQ(report["symbols"], Json::array({"QQQ", "SPY"}));
  ASSERT_EQ(report["trades"].size(), 2u) << report.dump();
  EXPECT_EQ(report["trades"][0]["symbol"], "QQQ");
  EXPECT_EQ(report["trades"][1]["symbol"], "SPY");
}

TEST(Backtest, OrbOnAHandBuiltDayTradesExactlyAsTheRulesSay) {
  test::TempDir dir;
  auto csv = dir / "spy.csv";
  std::ofstream(csv) << orbDay();
  auto o = options("orb");
  o.data = csv;
  o.from = o.to = 20261116;
  auto report = run(o);
  ASSERT_EQ(report["trades"].size(), 1u) << report.dump(1);
  const auto& t = report["trades"][0];
  EXPECT_EQ(t["symbol"], "SPY");
  EXPECT_EQ(t["side"], "long");
  EXPECT_EQ(t["qty"], 200) << "floor(500 / |101.50 - 99.00|)";
  EXPECT_EQ(t["entry_price"], 101.6);
  EXPECT_EQ(t["exit_price"], 105.6) << "the fill + 2 x the range";
  EXPECT_EQ(t["exit_reason"], "target");
  EXPECT_EQ(t["pnl"], 800);
  EXPECT_EQ(t["entry_time"], "2026-11-16T09:46:00-05:00");
  EXPECT_EQ(t["exit_time"], "2026-11-16T10:30:00-05:00");
  EXPECT_EQ(report["symbols"], Json::array({"SPY"})) << "every symbol of the data";
  EXPECT_EQ(report["bars"], 390);
  EXPECT_EQ(report["sessions"], 1);
  EXPECT_EQ(report["metrics"]["trades"], 1);
  EXPECT_EQ(report["metrics"]["win_rate"], 1.0);
  EXPECT_EQ(report["metrics"]["net_pnl"], 800);
  EXPECT_EQ(report["ending_equity"], 100800);
  EXPECT_EQ(report["from"], "2026-11-16");
  EXPECT_EQ(report["strategy"]["params"]["risk_pct"], "0.5");

  // A parameter from the command line: a 3x target is never reached that day; out at 15:55's close.
  o.params["reward_multiple"] = "3";
  auto wider = run(o);
  ASSERT_EQ(wider["trades"].size(), 1u);
  EXPECT_EQ(wider["trades"][0]["exit_reason"], "time");
  EXPECT_EQ(wider["trades"][0]["exit_price"], 105.0);
  EXPECT_EQ(wider["strategy"]["params"]["reward_multiple"], "3");
}

// Several CsvDays in one file (one header).
std::string csvOf(std::initializer_list<const test::CsvDay*> days) {
  std::string out;
  for (const auto* day : days) {
    auto text = day->csv();
    out += out.empty() ? text : text.substr(text.find('\n') + 1);
  }
  return out;
}

// An ORB day on SPY: the range 99-101, a long breakout at 09:45 and quiet
// bars at `hold` until `close` (minutes after midnight).
void orbBreakout(test::CsvDay& day, double hold, int close = 16 * 60) {
  day.bar(100.0, 101.0, 99.6, 100.4);
  day.bar(100.4, 100.6, 99.0, 99.8);
  day.quietUntil(9, 45, 100.0);
  day.bar(100.5, 101.6, 100.4, 101.5);  // 09:45: closes above 101
  day.bar(101.6, 102.0, 101.2, 101.9);  // 09:46: the entry at 101.60
  day.quietUntil(close / 60, close % 60, hold);
}

TEST(Backtest, BarsOnAHolidayAreNotTradedAndTheReportNamesTheDate) {
  test::TempDir dir;
  test::CsvDay thursday("SPY", 20250417), good_friday("SPY", 20250418), monday("SPY", 20250421);
  thursday.quietUntil(16, 0, 100.0);  // the last real session closes at 100
  // Bars on Good Friday, when the exchange was closed: a breakout that must
  // not trade, closing at 110, which must not be Monday's previous close
  // (a 9 % gap would skip Monday).
  orbBreakout(good_friday, 110.0);
  orbBreakout(monday, 101.9);
  std::ofstream(dir / "spy.csv") << csvOf({&thursday, &good_friday, &monday});
  auto o = options("orb");
  o.data = dir / "spy.csv";
  o.from = 20250417;
  o.to = 20250421;
  auto report = run(o);
  ASSERT_EQ(report["trades"].size(), 1u) << report.dump(1);
  EXPECT_EQ(report["trades"][0]["entry_time"], "2025-04-21T09:46:00-04:00");
  EXPECT_EQ(report["sessions"], 2) << "Thursday and Monday";
  EXPECT_EQ(report["bars"], 2 * 390);
  ASSERT_FALSE(report["warnings"].empty());
  EXPECT_EQ(report["warnings"][0],
            "390 bar(s) on 2025-04-18, a day the exchange was closed (Good Friday): not traded");
  EXPECT_EQ(report["rejected_orders"], 0);
}

TEST(Backtest, BarsFrom2013TradeAndAnEarlyCloseExitsAt1255) {
  test::TempDir dir;
  test::CsvDay wednesday("SPY", 20131127), friday("SPY", 20131129);  // Thanksgiving between; Friday closes at 13:00
  wednesday.quietUntil(16, 0, 100.0);
  orbBreakout(friday, 101.9, 13 * 60);
  std::ofstream(dir / "spy.csv") << csvOf({&wednesday, &friday});
  auto o = options("orb");
  o.data = dir / "spy.csv";
  o.from = 20131127;
  o.to = 20131129;
  o.params["reward_multiple"] = "3";  // the target is never reached
  auto report = run(o);
  ASSERT_EQ(report["trades"].size(), 1u) << report.dump(1);
  const auto& t = report["trades"][0];
  EXPECT_EQ(t["entry_time"], "2013-11-29T09:46:00-05:00");
  EXPECT_EQ(t["exit_reason"], "time");
  EXPECT_EQ(t["exit_time"], "2013-11-29T12:55:00-05:00") << "the 12:55 bar, at its close";
  EXPECT_EQ(t["exit_price"], 101.9);
  EXPECT_TRUE(report["warnings"].empty()) << report["warnings"].dump();
}

TEST(Backtest, ARangeOutsideTheCalendarAndOrdersAllRefusedAreSaidPlainly) {
  test::TempDir dir;
  test::CsvDay day("SPY", 20261116);
  orbBreakout(day, 101.9);
  std::ofstream(dir / "spy.csv") << day.csv();
  auto o = options("orb");
  o.data = dir / "spy.csv";
  o.from = 19850102;
  o.to = 19850103;
  auto outside = runBacktest(o);
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("--from: the exchange calendar covers 1990-2100 only; 1985-01-02 is outside"),
            std::string::npos)
      << outside.error().message;

  // Orders larger than the host allows: every one refused, and the report says so.
  std::ofstream(dir / "host.yaml") << "risk:\n  limits:\n    max_order_quantity: 1\n";
  o.config = dir / "host.yaml";
  o.from = o.to = 20261116;
  auto report = run(o);
  EXPECT_EQ(report["trades"].size(), 0u);
  ASSERT_FALSE(report["warnings"].empty());
  EXPECT_NE(report["warnings"].back().get<std::string>().find("every one of the 1 order(s) of orb was refused"),
            std::string::npos)
      << report["warnings"].dump();
}

TEST(Backtest, TheSameInputsGiveTheSameReportBytes) {
  auto o = options("orb");
  o.synthetic_seed = 11;
  o.from = 20261116;
  o.to = 20261120;
  o.symbols = {"SPY", "QQQ"};
  o.history_days = 5;
  auto first = runBacktest(o);
  ASSERT_TRUE(first) << first.error().message;
  auto second = runBacktest(o);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(reportJson(*first), reportJson(*second));
  EXPECT_EQ(reportHtml(*first), reportHtml(*second));
  auto json = Json::parse(reportJson(*first));
  EXPECT_EQ(json["sessions"], 5);
  EXPECT_EQ(json["bars"], 5 * 390 * 2);
  EXPECT_EQ(json["data"], "synthetic seed 11");
  EXPECT_GT(json["metrics"]["trades"].get<int>(), 0) << "ORB trades most days on a random walk";
  EXPECT_EQ(json["equity"].size(), 5u) << "one close per session";
  for (const auto& t : json["trades"]) {
    const std::string reason = t["exit_reason"];
    EXPECT_TRUE(reason == "stop" || reason == "target" || reason == "time") << t.dump();
  }
  // Another seed is another market.
  o.synthetic_seed = 12;
  auto other = runBacktest(o);
  ASSERT_TRUE(other);
  EXPECT_NE(reportJson(*other), reportJson(*first));
}

// ORB's option mode: the bars carry no option quotes, so the contracts an
// order or a position is in are quoted from the synthetic chain each minute;
// the paper broker fills the entries and exits by them and settles a
// contract held to its expiry (here worthless) at that day's close.
TEST(Backtest, OrbInOptionModeTradesContractsQuotedFromTheirChainAndSettlesThoseHeldToExpiry) {
  auto o = options("orb");
  o.synthetic_seed = 7;
  o.from = 20261116;
  o.to = 20261120;
  o.params["instrument"] = "option";
  auto first = runBacktest(o);
  ASSERT_TRUE(first) << first.error().message;
  auto json = Json::parse(reportJson(*first));
  ASSERT_GT(json["metrics"]["trades"].get<int>(), 5) << "entries fill from the chain's quotes";
  EXPECT_EQ(json["log"].size(), 0u) << json["log"].dump();
  int targets = 0, expired = 0;
  for (const auto& t : json["trades"]) {
    const std::string symbol = t["symbol"];
    EXPECT_EQ(symbol.size(), 18u) << "an OCC contract, not the underlying: " << symbol;
    EXPECT_EQ(t["qty"], 1.0) << "contracts: 1";
    const std::string reason = t["exit_reason"];
    if (reason == "target") {
      ++targets;
      // tp_premium 0.10 above the fill, less 2 × 0.65 commission, times 100.
      EXPECT_GE(t["exit_price"].get<double>(), t["entry_price"].get<double>() + 0.10 - 1e-9) << t.dump();
    }
    if (reason == "expired") {
      ++expired;
      EXPECT_EQ(t["exit_price"], 0.0) << t.dump();
      EXPECT_NEAR(t["pnl"].get<double>(), -(t["entry_price"].get<double>() * 100 + 0.65), 1e-6) << t.dump();
      // 0-DTE: it ended at 16:00 of the day it was bought.
      const std::string entry = t["entry_time"], exit = t["exit_time"];
      EXPECT_EQ(exit.substr(0, 10), entry.substr(0, 10)) << t.dump();
      EXPECT_EQ(exit.substr(10), "T16:00:00-05:00") << t.dump();
    }
  }
  EXPECT_GT(targets, 0);
  EXPECT_GT(expired, 0) << "with seed 7 some contracts are worthless at the time exit, with no bid to sell to";
  auto second = runBacktest(o);
  ASSERT_TRUE(second);
  EXPECT_EQ(reportJson(*first), reportJson(*second));
}

TEST(Backtest, EveryShippedStrategyGivesBothReportsOnSyntheticAndCsvData) {
  test::TempDir dir;
  auto csv = dir / "spy.csv";
  std::ofstream(csv) << orbDay();
  for (const char* id : {"orb", "goldback", "covered_call", "entry_checklist"}) {
    SCOPED_TRACE(id);
    auto o = options(id);
    o.from = 20261116;
    o.to = 20261117;
    o.synthetic_seed = 3;
    o.symbols = {"SPY"};
    auto synthetic = runBacktest(o);
    ASSERT_TRUE(synthetic) << synthetic.error().message;
    auto json = Json::parse(reportJson(*synthetic));
    EXPECT_EQ(json["strategy"]["id"], id);
    EXPECT_EQ(json["sessions"], 2);
    EXPECT_TRUE(json["metrics"].contains("max_drawdown_pct"));
    auto html = reportHtml(*synthetic);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("http"), std::string::npos) << "nothing to fetch";

    o.synthetic_seed.reset();
    o.symbols.clear();
    o.data = csv;
    o.to = 20261116;
    auto replayed = runBacktest(o);
    ASSERT_TRUE(replayed) << replayed.error().message;
    EXPECT_EQ(Json::parse(reportJson(*replayed))["bars"], 390);
  }
}

TEST(Backtest, ACallbackIsNotStoppedForTheMachinesSpeed) {
  // One slow bar: far beyond the strategy's 1 ms budget, well within the backtest's minute.
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "strategies" / "slow");
  std::ofstream(dir / "strategies/slow/slow.yaml")
      << "schema: 1\nid: slow\nversion: 1.0.0\nscript: slow.lua\nsymbols: [SPY]\ntimeframe: 1m\n"
         "runtime: {callback_budget_ms: 1, max_errors: 1}\n";
  std::ofstream(dir / "strategies/slow/slow.lua") << R"(
function on_bar(ctx, bar)
  if ctx.state.done then return end
  local x = 0
  for i = 1, 20000000 do x = x + i % 7 end
  ctx.state.done = x > 0
end
)";
  std::ofstream(dir / "spy.csv") << orbDay();
  auto o = options("slow");
  o.strategies_dir = (dir.path() / "strategies").string();
  o.data = dir / "spy.csv";
  o.from = o.to = 20261116;
  auto report = run(o);
  EXPECT_TRUE(report["warnings"].empty()) << report["warnings"].dump();
  EXPECT_EQ(report["bars"], 390);
}

TEST(Backtest, BadInputIsRefusedWithWhatIsWrong) {
  test::TempDir dir;
  auto o = options("orb");
  o.from = 20261116;
  o.to = 20261116;
  o.synthetic_seed = 1;
  o.history_days = 1;

  auto none = options("nothing");
  none.from = none.to = 20261116;
  none.synthetic_seed = 1;
  auto missing = runBacktest(none);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("--strategy nothing: no folder"), std::string::npos) << missing.error().message;

  auto bad_param = o;
  bad_param.params["reward_multiple"] = "lots";
  auto refused = runBacktest(bad_param);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "--set reward_multiple=lots: params.reward_multiple: expected a number, got 'lots'");
  bad_param.params = {{"rewards", "2"}};
  refused = runBacktest(bad_param);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("orb has no such parameter"), std::string::npos) << refused.error().message;

  auto csv = dir / "broken.csv";
  std::ofstream(csv) << "ts_ms,symbol,open,high,low,close,volume\n"
                        "1795271400000,SPY,100,101,99,100.5,1000\n"
                        "1795271460000,SPY,100,abc,99,100.5,1000\n";
  auto broken = o;
  broken.synthetic_seed.reset();
  broken.data = csv;
  auto bad_file = runBacktest(broken);
  ASSERT_FALSE(bad_file);
  EXPECT_NE(bad_file.error().message.find("broken.csv:3: column 'high': 'abc' is not a number"), std::string::npos)
      << bad_file.error().message;

  auto later = o;
  later.synthetic_seed.reset();
  auto good = dir / "spy.csv";
  std::ofstream(good) << orbDay();
  later.data = good;
  later.from = later.to = 20261118;
  auto empty = runBacktest(later);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "no bars of SPY between 2026-11-18 and 2026-11-18 in " + good);

  auto unheld = o;
  unheld.holdings = {{"TSLA", 100}};
  auto not_played = runBacktest(unheld);
  ASSERT_FALSE(not_played);
  EXPECT_EQ(not_played.error().message, "--hold TSLA=100: no bar of TSLA is played");
  unheld.holdings = {{"SPY", 1000}};
  auto too_dear = runBacktest(unheld);
  ASSERT_FALSE(too_dear);
  EXPECT_NE(too_dear.error().message.find("--hold SPY=1000: refused: "), std::string::npos) << too_dear.error().message;
  EXPECT_NE(too_dear.error().message.find("exceeds max_order_notional"), std::string::npos) << too_dear.error().message;

  // The command line says what a --hold should look like.
  auto [code, out] = test::runToEnd({test::tradehostBinary(), "backtest", "--strategy", "orb", "--from", "2026-11-16",
                                     "--to", "2026-11-16", "--synthetic-seed", "1", "--out", dir / "x.json",
                                     "--hold", "SPY=lots"},
                                    dir / "hold.log");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--hold SPY=lots: expected SYMBOL=SHARES, a whole number above 0"), std::string::npos) << out;
}

// covered_call sells calls only against shares held: --hold gives the account
// 200 SPY at the first minute's open. Day one's calls expire worthless, day
// two's are assigned and the shares called away at the strike; with no
// shares left, nothing more is sold.
TEST(Backtest, CoveredCallSellsAgainstHeldSharesUntilTheyAreCalledAway) {
  auto o = options("covered_call");
  o.synthetic_seed = 7;
  o.from = 20261116;
  o.to = 20261120;
  o.symbols = {"SPY"};
  o.params["auto_execute"] = "true";
  o.holdings = {{"SPY", 200}};
  auto first = runBacktest(o);
  ASSERT_TRUE(first) << first.error().message;
  auto json = Json::parse(reportJson(*first));
  EXPECT_EQ(json["log"].size(), 0u) << json["log"].dump();
  std::vector<Json> shares, calls;
  for (const auto& t : json["trades"]) (t["symbol"] == "SPY" ? shares : calls).push_back(t);
  ASSERT_EQ(shares.size(), 1u) << json["trades"].dump();
  EXPECT_EQ(shares[0]["side"], "long");
  EXPECT_EQ(shares[0]["qty"], 200.0);
  EXPECT_EQ(shares[0]["entry_time"], "2026-11-16T09:30:00-05:00") << "bought at the first minute's open";
  ASSERT_EQ(calls.size(), 2u) << json["trades"].dump();
  for (const auto& c : calls) {
    EXPECT_EQ(c["side"], "short");
    EXPECT_EQ(c["qty"], 2.0) << "one contract per 100 shares held";
    EXPECT_EQ(c["exit_price"], 0.0);
  }
  EXPECT_EQ(calls[0]["exit_reason"], "expired");
  EXPECT_EQ(calls[0]["exit_time"], "2026-11-16T16:00:00-05:00");
  EXPECT_NEAR(calls[0]["pnl"].get<double>(), calls[0]["entry_price"].get<double>() * 200 - 2 * 0.65, 1e-6)
      << "the premium kept, less the commission";
  EXPECT_EQ(calls[1]["exit_reason"], "assigned");
  EXPECT_EQ(calls[1]["exit_time"], "2026-11-17T16:00:00-05:00");
  // The shares went at the call's strike (its OCC symbol's last 8 digits, in thousandths).
  const std::string contract = calls[1]["symbol"];
  const double strike = std::stod(contract.substr(contract.size() - 8)) / 1000;
  EXPECT_EQ(shares[0]["exit_reason"], "assigned");
  EXPECT_EQ(shares[0]["exit_time"], "2026-11-17T16:00:00-05:00");
  EXPECT_DOUBLE_EQ(shares[0]["exit_price"].get<double>(), strike);

  auto second = runBacktest(o);
  ASSERT_TRUE(second);
  EXPECT_EQ(reportJson(*first), reportJson(*second));
}

// A strategy's warnings, the broker's refusals and errors go to the report's
// log with the market time they happened at, and the rejected orders are
// counted by why; the terminal gets a summary instead of the lines. Order
// ids are the same on every run, so the log is too.
TEST(Backtest, WarningsAreKeptInTheReportsLogAtTheirMarketTime) {
  test::TempDir dir;
  const auto strategies = dir.path() / "strategies";
  std::filesystem::create_directories(strategies / "noisy");
  std::ofstream(strategies / "noisy/noisy.yaml")
      << "schema: 1\nid: noisy\nversion: 1.0.0\nscript: noisy.lua\nsymbols: [SPY]\ntimeframe: 1m\n"
         "params:\n  chatty: {type: boolean, default: false}\n";
  std::ofstream(strategies / "noisy/noisy.lua") << R"(
function on_bar(ctx, bar)
  if ctx.params.chatty then
    for i = 1, 3 do ctx:log("warn", "line " .. i) end
    return
  end
  local m = bar.minute_of_day
  if m == 9 * 60 + 45 then ctx:log("warn", "unusual volume on " .. bar.symbol) end
  -- Over max_order_quantity: the risk service refuses it.
  if m == 9 * 60 + 46 then ctx:buy{symbol = bar.symbol, qty = 20000} end
  -- 200,000 of stock on 100,000 of cash: the paper broker refuses it.
  if m == 9 * 60 + 47 then ctx:buy{symbol = bar.symbol, qty = 2000} end
  if m == 9 * 60 + 48 then ctx:log("error", "something is off") end
end
)";
  // The broker, not the risk service, judges buying power here.
  std::ifstream embedded(std::string(TH_SOURCE_DIR) + "/config/host.yaml");
  std::string config((std::istreambuf_iterator<char>(embedded)), std::istreambuf_iterator<char>());
  const std::string check = "check_buying_power: true";
  ASSERT_NE(config.find(check), std::string::npos);
  config.replace(config.find(check), check.size(), "check_buying_power: false");
  std::ofstream(dir / "host.yaml") << config;
  std::ofstream(dir / "spy.csv") << orbDay();

  auto o = options("noisy");
  o.strategies_dir = strategies.string();
  o.config = dir / "host.yaml";
  o.data = dir / "spy.csv";
  o.from = o.to = 20261116;
  auto first = runBacktest(o);
  ASSERT_TRUE(first) << first.error().message;
  auto report = Json::parse(reportJson(*first));
  EXPECT_EQ(report["rejected_orders"], 2);
  EXPECT_EQ(report["rejections"], Json({{"BROKER", 1}, {"MAX_ORDER_QUANTITY", 1}}));
  const auto& log = report["log"];
  ASSERT_EQ(log.size(), 3u) << log.dump(1);
  EXPECT_EQ(log[0], Json({{"time", "2026-11-16T09:46:00-05:00"},
                          {"level", "warning"},
                          {"message", "[strategy noisy 1.0.0] unusual volume on SPY"}}))
      << "a bar is seen when it has closed: 09:45's at 09:46";
  EXPECT_EQ(log[1]["time"], "2026-11-16T09:48:00-05:00");
  EXPECT_EQ(log[1]["level"], "warning");
  const std::string refused = log[1]["message"];
  EXPECT_TRUE(refused.starts_with("order bt-20261116-")) << refused;
  EXPECT_NE(refused.find("not taken by 'paper'"), std::string::npos) << refused;
  EXPECT_NE(refused.find("insufficient buying power"), std::string::npos) << refused;
  EXPECT_EQ(log[2], Json({{"time", "2026-11-16T09:49:00-05:00"},
                          {"level", "error"},
                          {"message", "[strategy noisy 1.0.0] something is off"}}));
  EXPECT_EQ(report["log_omitted"], 0);
  EXPECT_NE(reportHtml(*first).find("Rejected orders: BROKER 1, MAX_ORDER_QUANTITY 1."), std::string::npos);

  auto second = runBacktest(o);
  ASSERT_TRUE(second);
  EXPECT_EQ(reportJson(*second), reportJson(*first)) << "order ids, and so the log, are the same on every run";

  // The terminal: the counts and the first line, not every line.
  test::Process cli({test::tradehostBinary(), "backtest", "--strategy", "noisy", "--strategies", strategies.string(),
                     "--config", dir / "host.yaml", "--data", dir / "spy.csv", "--from",
                     "2026-11-16", "--to", "2026-11-16", "--out", dir / "report.json"},
                    dir / "cli.log");
  ASSERT_EQ(cli.wait(std::chrono::seconds(60)).value_or(-1), 0) << cli.output();
  const std::string shown = cli.output();
  EXPECT_NE(shown.find("rejected orders 2: BROKER 1, MAX_ORDER_QUANTITY 1\n"), std::string::npos) << shown;
  EXPECT_NE(shown.find("3 log lines (warnings and errors) in " + dir / "report.json" +
                       " under \"log\"; the first, at 2026-11-16T09:46:00-05:00: [strategy noisy 1.0.0] unusual "
                       "volume on SPY\n"),
            std::string::npos)
      << shown;
  EXPECT_EQ(shown.find("[warning]"), std::string::npos) << shown;
  EXPECT_NE(shown.find("something is off"), std::string::npos) << "errors still show as they happen\n" << shown;

  // A chatty strategy: the first kMaxLogLines lines are kept, the rest counted.
  o.params["chatty"] = "true";
  auto chatty = runBacktest(o);
  ASSERT_TRUE(chatty);
  auto counted = Json::parse(reportJson(*chatty));
  EXPECT_EQ(counted["log"].size(), kMaxLogLines);
  EXPECT_EQ(counted["log_omitted"], 390 * 3 - kMaxLogLines);
  EXPECT_EQ(counted["log"][0]["time"], "2026-11-16T09:31:00-05:00");
}

// A backtest plays the bars of all symbols in (start, symbol) order, from
// each symbol's first played bar. Bars on whole minutes are placed by a count
// per minute, others merged through a heap: both must give that order, the
// order a plain sort gives, with a symbol's repeated start kept twice.
TEST(Backtest, BarsArePlayedInStartThenSymbolOrder) {
  constexpr int64_t kMinute = 60'000'000'000;
  auto candles = [](std::vector<int64_t> starts) {
    std::vector<Candle> out;
    for (int64_t start : starts) out.push_back(Candle{start, 1, 1, 1, 1, 1, 0, kCandleFinal});
    return out;
  };
  auto sorted = [](const std::vector<std::vector<Candle>>& bars, const std::vector<size_t>& first) {
    std::vector<std::pair<int64_t, uint32_t>> all;
    for (uint32_t s = 0; s < bars.size(); ++s) {
      for (size_t i = first[s]; i < bars[s].size(); ++i) all.emplace_back(bars[s][i].start_ns, s);
    }
    std::sort(all.begin(), all.end());
    return all;
  };
  const int64_t t0 = 1'763'649'000 * int64_t{1'000'000'000};
  // Gaps, a symbol that starts late, one that ends early, one with nothing
  // left to play, a repeated start, and history before the first played bar.
  std::vector<std::vector<Candle>> bars = {
      candles({t0 - kMinute, t0, t0 + kMinute, t0 + 5 * kMinute, t0 + 5 * kMinute}),
      candles({t0 + 2 * kMinute, t0 + 3 * kMinute}),
      candles({t0 - 2 * kMinute}),
      candles({t0, t0 + 5 * kMinute, t0 + 400 * kMinute})};
  std::vector<size_t> first = {1, 0, 1, 0};
  auto order = backtest::playOrder(bars, first);
  EXPECT_EQ(order, sorted(bars, first));
  ASSERT_EQ(order.size(), 9u);
  EXPECT_EQ(order[0], std::make_pair(t0, uint32_t{0}));
  EXPECT_EQ(order[1], std::make_pair(t0, uint32_t{3}));

  // Starts off the minute grid (seconds) take the heap.
  bars[1] = candles({t0 + 90'000'000'000, t0 + 5 * kMinute});
  auto uneven = backtest::playOrder(bars, first);
  EXPECT_EQ(uneven, sorted(bars, first));
  EXPECT_EQ(uneven[3], std::make_pair(t0 + 90'000'000'000, uint32_t{1}));

  // Two bars years apart: too sparse to count per minute.
  std::vector<std::vector<Candle>> sparse = {candles({t0, t0 + 600'000 * kMinute}), candles({t0 + kMinute})};
  EXPECT_EQ(backtest::playOrder(sparse, {0, 0}), sorted(sparse, {0, 0}));
  EXPECT_TRUE(backtest::playOrder({candles({t0})}, {1}).empty());
}

}  // namespace
}  // namespace th
