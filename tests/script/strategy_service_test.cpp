// The strategy service with real parts: Lua scripts in a temp folder, the
// paper broker from libpaper.so, RocksDB in a temp dir.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "script/strategy_harness.h"

namespace th::test {
namespace {

// Counts bars in ctx.state.n and notes any bar seen twice or out of order.
constexpr const char* kCounter = R"(
function on_start(ctx)
  ctx.state.n = ctx.state.n or 0
  ctx.state.repeats = ctx.state.repeats or 0
end
function on_bar(ctx, bar)
  if ctx.state.last and bar.time <= ctx.state.last then ctx.state.repeats = ctx.state.repeats + 1 end
  ctx.state.last = bar.time
  ctx.state.n = ctx.state.n + 1
end
)";

std::vector<nlohmann::json> strategyRecords(StrategyHarness& h, const std::string& event) {
  std::vector<nlohmann::json> out;
  for (auto& record : h.journal(JournalKind::Strategy)) {
    if (record["data"]["event"] == event) out.push_back(record["data"]);
  }
  return out;
}

TEST(StrategyService, RunsOnBarsAndKeepsItsStateAcrossARestart) {
  StrategyHarness h;
  h.write("counter", StrategyHarness::yaml("counter"), kCounter);
  h.start();
  ASSERT_EQ(h.status("counter"), "running") << h.info("counter").dump();
  h.minutes("SPY", 5);
  h.minutes("QQQ", 2);  // not its symbol
  EXPECT_EQ(h.state("counter")["n"], 5);
  h.restartHost();
  EXPECT_EQ(h.state("counter")["n"], 5);
  h.minutes("SPY", 3);
  EXPECT_EQ(h.state("counter")["n"], 8);
  EXPECT_EQ(h.state("counter")["repeats"], 0);
  auto history = nlohmann::json::parse(*h.strategies().historyJson("counter"));
  ASSERT_EQ(history["versions"].size(), 1u) << "the same files are one version";
  EXPECT_EQ(history["versions"][0]["version"], "1.0.0");
  EXPECT_EQ(history["versions"][0]["sha256"].get<std::string>().size(), 64u);
}

TEST(StrategyService, OrdersGoThroughTheBrokerServiceUnderTheStrategysId) {
  StrategyHarness h;
  h.write("buyer", StrategyHarness::yaml("buyer", "1.0.0", "risk: {max_order_quantity: 50}\n"), R"(
function on_bar(ctx, bar)
  if ctx.state.sent then return end
  ctx.state.sent = true
  local too_big, why = ctx:buy{qty = 500}
  ctx.state.refused = why
  local order, err = ctx:buy{qty = 10}
  assert(order, err)
  ctx.state.order = order.id
end
function on_fill(ctx, fill)
  ctx.state.filled = (ctx.state.filled or 0) + fill.qty
  ctx.state.position = ctx:position("SPY").qty
end
function on_order(ctx, order)
  ctx.state.last_status = order.status
end
)");
  h.start();
  h.minute("SPY", 100, 101, 99, 100);
  h.minute("SPY", 100, 101, 99, 100);
  auto state = h.state("buyer");
  EXPECT_NE(state["refused"].get<std::string>().find("MAX_ORDER_QUANTITY"), std::string::npos) << state.dump();
  const Order* order = h.oms().find(state["order"].get<std::string>());
  ASSERT_NE(order, nullptr);
  EXPECT_EQ(order->intent.strategy, "buyer");
  EXPECT_EQ(order->status, OrderStatus::Filled);
  EXPECT_EQ(state["filled"], 10.0);
  EXPECT_EQ(state["position"], 10.0);
  EXPECT_EQ(state["last_status"], "filled");
}

// A put the strategy sold and the trader bought back by hand, held to its
// expiry: the broker settles nothing (the account is flat), and the host
// closes the two books' sides against each other. The strategy hears of it
// as of a settlement: a fill with no order, activity "offset", at the put's
// worth at the end (1.50 in the money).
TEST(StrategyService, AStrategyHearsOfItsSideOfAnExpiredContractOffsetAgainstTheTraders) {
  StrategyHarness h;
  h.write("writer", StrategyHarness::yaml("writer"), R"(
function on_fill(ctx, fill)
  ctx.state.fills = ctx.state.fills or {}
  table.insert(ctx.state.fills, {activity = fill.activity or "trade", side = fill.side, qty = fill.qty,
                                 price = fill.price, order_id = fill.order_id,
                                 position = ctx:position(fill.symbol).qty})
end
)");
  h.start();
  const std::string put = "SPY261116P00101000";
  auto trade = [&](const std::string& book, OrderSide side) {
    h.quote(put, 2.00, 2.00);
    OrderIntent order = intent(put, side, 1, book);
    order.asset_class = AssetClass::Option;
    auto placed = h.oms().submit(std::move(order));
    ASSERT_TRUE(placed) << placed.error().message;
    ASSERT_NE(placed->status, OrderStatus::Rejected) << placed->reason;
    h.pump();
    h.quote(put, 2.00, 2.00);
    h.flush();
  };
  trade("writer", OrderSide::Sell);
  trade("", OrderSide::Buy);
  h.minute("SPY", 99.50, 100.00, 99.00, 99.50);
  h.advance(fromExchangeTime(20261116, 16, 0, 30) - h.nowNs());
  h.oms().tick();
  h.pump();
  h.flush();

  auto fills = h.state("writer")["fills"];
  ASSERT_EQ(fills.size(), 2u) << fills.dump();
  EXPECT_EQ(fills[0]["activity"], "trade");
  EXPECT_EQ(fills[0]["position"], -1.0);
  EXPECT_EQ(fills[1]["activity"], "offset");
  EXPECT_EQ(fills[1]["side"], "buy");
  EXPECT_EQ(fills[1]["qty"], 1.0);
  EXPECT_EQ(fills[1]["price"], 1.5);
  EXPECT_EQ(fills[1]["order_id"], "");
  EXPECT_EQ(fills[1]["position"], 0.0);
  EXPECT_NEAR(h.oms().book().strategyPosition("writer", put)->realised, (2.00 - 1.50) * 100, 1e-9);
}

TEST(StrategyService, TradesAndQuotesReachOnTradeAndOnQuoteWithTheirFields) {
  StrategyHarness h;
  h.write("ticks", StrategyHarness::yaml("ticks"), R"(
function on_trade(ctx, t) ctx.state.trade = {t.symbol, t.time, t.price, t.size} end
function on_quote(ctx, q) ctx.state.quote = {q.symbol, q.time, q.bid, q.ask, q.bid_size, q.ask_size} end
)");
  h.start();
  EXPECT_NE(h.subscribed_streams["SPY"] & TH_STREAM_TRADES, 0u);
  EXPECT_NE(h.subscribed_streams["SPY"] & TH_STREAM_QUOTES, 0u);
  const int64_t t = h.nowNs();
  TradeEvent trade{Symbol("SPY"), t, 590.25, 300, 0};
  QuoteEvent quote{Symbol("SPY"), t + 1'000'000, 590.2, 590.3, 500, 700};
  h.strategies().onEvent(Event{1, trade}, 1);
  h.strategies().onEvent(Event{1, quote}, 2);
  h.flush();
  auto state = h.state("ticks");
  const int64_t ms = t / 1'000'000;
  EXPECT_EQ(state["trade"], (nlohmann::json{"SPY", ms, 590.25, 300.0})) << state.dump();
  EXPECT_EQ(state["quote"], (nlohmann::json{"SPY", ms + 1, 590.2, 590.3, 500.0, 700.0})) << state.dump();
}

TEST(StrategyService, AStrategysOwnDailyLossLimitStopsItsEntriesForTheDay) {
  StrategyHarness h;
  h.write("loser", StrategyHarness::yaml("loser", "1.0.0", "risk: {daily_loss_limit: 100}\n"), R"(
function on_bar(ctx, bar)
  local order, why = ctx:buy{qty = 50}
  if order then ctx.state.accepted = (ctx.state.accepted or 0) + 1 else ctx.state.refusal = why end
end
)");
  h.write("other", StrategyHarness::yaml("other"), R"(
function on_bar(ctx, bar)
  if ctx:buy{qty = 1} then ctx.state.accepted = (ctx.state.accepted or 0) + 1 end
end
)");
  h.start();
  // The host checks P&L on its tick; here after every minute.
  auto minute = [&](double close) {
    h.minute("SPY", close, close + 0.5, close - 0.5, close);
    h.oms().tick();
  };
  minute(100);
  minute(100);
  EXPECT_EQ(h.oms().risk().strategyState("loser"), TradingState::Active);
  minute(98);
  minute(98);  // 100 shares bought near 100 are 150 down
  ASSERT_EQ(h.oms().risk().strategyState("loser"), TradingState::Halted);
  auto at_halt = h.state("loser")["accepted"];
  minute(98);
  minute(98);
  auto loser = h.state("loser");
  EXPECT_EQ(loser["accepted"], at_halt) << "no entry after the limit: " << loser.dump();
  EXPECT_NE(loser["refusal"].get<std::string>().find("strategy 'loser' is HALTED (its daily loss"), std::string::npos)
      << loser.dump();
  EXPECT_EQ(h.state("other")["accepted"], 6) << "the other strategy trades on";
  EXPECT_EQ(h.oms().risk().state(), TradingState::Active);
  auto changes = h.journal(JournalKind::RiskState);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0]["data"]["strategy"], "loser");
  EXPECT_EQ(changes[0]["data"]["to"], "HALTED");
}

// A folder that cannot be examined (here a symlink to itself) is that
// strategy failed, with the reason; the host starts and the others run. A
// definition that is not a regular file (a FIFO) is not read: no start waits on it.
TEST(StrategyService, OneBadFolderFailsThatStrategyAlone) {
  StrategyHarness h;
  h.write("counter", StrategyHarness::yaml("counter"), kCounter);
  std::filesystem::create_directory_symlink(h.strategiesDir() / "loop", h.strategiesDir() / "loop");
  std::filesystem::create_directories(h.strategiesDir() / "fifo");
  ASSERT_EQ(::mkfifo((h.strategiesDir() / "fifo" / "fifo.yaml").c_str(), 0600), 0);
  h.start();
  EXPECT_EQ(h.status("counter"), "running");
  EXPECT_EQ(h.status("loop"), "failed");
  auto loop = h.strategies().strategyJson("loop");
  ASSERT_TRUE(loop);
  EXPECT_NE(loop->find("Too many levels of symbolic links"), std::string::npos) << *loop;
  h.minutes("SPY", 2);
  EXPECT_EQ(h.state("counter")["n"], 2);
}

TEST(StrategyService, ErrorsAreReportedWithTracebacksAndTooManyFaultOnlyThatStrategy) {
  StrategyHarness h;
  h.write("fragile",
          StrategyHarness::yaml("fragile", "1.0.0", "runtime: {max_errors: 3, error_window_s: 600, on_fault: cancel}\n"),
          R"(
local function check(bar)
  if bar.close > 100 then error("price above 100") end
end
function on_bar(ctx, bar)
  if not ctx.state.order then
    ctx.state.order = assert(ctx:buy{qty = 1, limit = 50}).id
  end
  check(bar)
end
)");
  h.write("counter", StrategyHarness::yaml("counter"), kCounter);
  h.start();
  h.minute("SPY", 100, 100.5, 99.5, 100);
  auto order_id = h.state("fragile")["order"].get<std::string>();
  EXPECT_TRUE(isOpen(h.oms().find(order_id)->status));
  for (int i = 0; i < 2; ++i) h.minute("SPY", 101, 101.5, 100.5, 101);
  EXPECT_EQ(h.status("fragile"), "running");
  h.minute("SPY", 101, 101.5, 100.5, 101);
  EXPECT_EQ(h.status("fragile"), "faulted");
  auto errors = strategyRecords(h, "error");
  ASSERT_EQ(errors.size(), 3u);
  auto traceback = errors[0]["traceback"].get<std::string>();
  EXPECT_NE(traceback.find("fragile.lua:3: price above 100"), std::string::npos) << traceback;
  EXPECT_NE(traceback.find("fragile.lua:9: in function 'on_bar'"), std::string::npos) << traceback;
  auto faults = strategyRecords(h, "fault");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0]["canceled"][0], order_id);
  h.pump();
  EXPECT_EQ(h.oms().find(order_id)->status, OrderStatus::Canceled);
  // The other strategy never noticed.
  h.minutes("SPY", 2, 101);
  EXPECT_EQ(h.state("counter")["n"], 6);
  EXPECT_EQ(h.status("fragile"), "faulted");
  // A fault survives a restart. Enabling the same code replays the same
  // bars into it and is refused; a fixed version, reloaded, runs with the
  // strategy's state.
  h.restartHost();
  EXPECT_EQ(h.status("fragile"), "faulted");
  auto enabled = h.strategies().setEnabled("fragile", true, "try again");
  ASSERT_FALSE(enabled);
  EXPECT_NE(enabled.error().message.find("warm-up: on_bar: "), std::string::npos) << enabled.error().message;
  EXPECT_NE(enabled.error().message.find("fragile.lua:3: price above 100"), std::string::npos);
  EXPECT_EQ(h.status("fragile"), "faulted");
  h.write("fragile",
          StrategyHarness::yaml("fragile", "1.0.1", "runtime: {max_errors: 3, error_window_s: 600, on_fault: cancel}\n"),
          "function on_bar(ctx, bar) ctx.state.fixed = true end\n");
  auto reloaded = h.reload("fragile");
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(h.status("fragile"), "running");
  h.minutes("SPY", 1, 101);
  EXPECT_EQ(h.state("fragile")["order"], order_id);
  EXPECT_EQ(h.state("fragile")["fixed"], true);
  h.restartHost();
  EXPECT_EQ(h.status("fragile"), "running") << "the reload cleared the fault";
}

// One bar an hour, every one failing: never max_errors within a window, yet
// the strategy is not trading; failing in a row faults it. A strategy that
// fails every other bar (a control) is not faulted by the same rule.
TEST(StrategyService, CallbacksFailingInARowFaultHoweverFarApart) {
  StrategyHarness h;
  const std::string runtime = "runtime: {max_errors: 5, error_window_s: 60, max_consecutive_errors: 4}\n";
  h.write("broken", StrategyHarness::yaml("broken", "1.0.0", runtime), "function on_bar(ctx, bar) error('no') end\n");
  h.write("flaky", StrategyHarness::yaml("flaky", "1.0.0", runtime), R"(
function on_bar(ctx, bar)
  ctx.state.n = (ctx.state.n or 0) + 1
  if ctx.state.n % 2 == 0 then error('every other bar') end
end
)");
  h.start();
  for (int i = 0; i < 3; ++i) {
    h.minute("SPY", 100, 100.5, 99.5, 100);
    h.advance(60 * 60'000 * kMillis);  // an hour apart: no window ever holds two
  }
  EXPECT_EQ(h.status("broken"), "running");
  h.minute("SPY", 100, 100.5, 99.5, 100);
  EXPECT_EQ(h.status("broken"), "faulted");
  auto faults = strategyRecords(h, "fault");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_NE(faults[0]["reason"].get<std::string>().find("4 callbacks failed in a row (runtime.max_consecutive_errors)"),
            std::string::npos)
      << faults[0].dump();
  for (int i = 0; i < 6; ++i) {
    h.minute("SPY", 100, 100.5, 99.5, 100);
    h.advance(60 * 60'000 * kMillis);
  }
  EXPECT_EQ(h.status("flaky"), "running");
}

// A ctx call made with the heap full cannot lift the time budget: its
// answer (an error text) is made after the host's objects are gone, so the
// memory error does not jump over the guard that pauses the budget, and
// the loop after it is still stopped.
TEST(StrategyService, AFullHeapInsideACtxCallDoesNotLiftTheBudget) {
  StrategyHarness h;
  h.write("greedy", StrategyHarness::yaml("greedy", "1.0.0", "runtime: {memory_mb: 8, callback_budget_ms: 50}\n"), R"(
function on_bar(ctx, bar)
  local hoard = {}
  pcall(function() while true do hoard[#hoard + 1] = ('x'):rep(4096) .. #hoard end end)
  for i = 1, 50 do pcall(ctx.cancel, ctx, 'no-such-order-' .. i) end
  ctx.state.reached = true
  while true do end
end
)");
  h.start();
  h.minute("SPY", 100, 100.5, 99.5, 100);
  auto errors = strategyRecords(h, "error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0]["error"].get<std::string>().find("budget of 50 ms"), std::string::npos) << errors[0].dump();
}

// Every resource a strategy can make the host hold has a quota: past it the
// ctx call raises an error naming the key, and the refusal is counted. The
// calls made before reaching it stand.
TEST(StrategyService, EachRuntimeQuotaRefusesPastItsLimitNamingTheKey) {
  StrategyHarness h;
  const std::string runtime =
      "runtime: {max_subscriptions: 3, max_timers: 4, max_signals_per_minute: 5, max_signal_bytes: 200, "
      "max_marks_per_minute: 2, max_errors: 1000, max_consecutive_errors: 1000}\n";
  h.write("greedy", StrategyHarness::yaml("greedy", "1.0.0", runtime), R"(
local function try(f, ...)
  local ok, err = pcall(f, ...)
  return ok and 'ok' or err
end
function on_bar(ctx, bar)
  local r = {}
  r.subscribe = {}
  for i = 1, 4 do r.subscribe[i] = try(ctx.subscribe, ctx, 'ZZ' .. i) end
  r.known = try(ctx.subscribe, ctx, 'SPY')
  r.bad_symbol = try(ctx.subscribe, ctx, 'SP\nY')
  r.timers = {}
  for i = 1, 5 do r.timers[i] = try(ctx.after, ctx, 60000 * i, 't' .. i) end
  r.signals = {}
  for i = 1, 6 do r.signals[i] = try(ctx.signal, ctx, {symbol = 'SPY', n = i}) end
  r.big = try(ctx.signal, ctx, {symbol = 'SPY', text = string.rep('x', 300)})
  r.marks = {}
  for i = 1, 3 do r.marks[i] = try(ctx.mark, ctx, {text = 'm' .. i}) end
  ctx.state.r = r
end
)");
  h.start();
  h.minute("SPY", 100, 100.5, 99.5, 100);
  auto r = h.state("greedy")["r"];
  EXPECT_EQ(r["subscribe"][2], "ok");
  EXPECT_NE(r["subscribe"][3].get<std::string>().find(
                "ctx:subscribe: refused: beyond the strategy's quota of 3 (runtime.max_subscriptions)"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(r["known"], "ok") << "a symbol of the definition costs nothing";
  EXPECT_NE(r["bad_symbol"].get<std::string>().find("ctx:subscribe: symbol 'SP\\x0aY' has a character"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(r["timers"][3], "ok");
  EXPECT_NE(r["timers"][4].get<std::string>().find("(runtime.max_timers)"), std::string::npos) << r.dump();
  EXPECT_EQ(r["signals"][4], "ok");
  EXPECT_NE(r["signals"][5].get<std::string>().find("quota of 5 (runtime.max_signals_per_minute)"),
            std::string::npos)
      << r.dump();
  EXPECT_NE(r["big"].get<std::string>().find("bytes of JSON: refused: beyond the strategy's quota of 200 "
                                              "(runtime.max_signal_bytes)"),
            std::string::npos)
      << r.dump();
  EXPECT_EQ(r["marks"][1], "ok");
  EXPECT_NE(r["marks"][2].get<std::string>().find("(runtime.max_marks_per_minute)"), std::string::npos) << r.dump();
  EXPECT_EQ(h.strategies().stats().quota_refusals, 5u);
  EXPECT_EQ(strategyRecords(h, "error").size(), 0u) << "refusals the script caught are not callback errors";
  // A minute later the per-minute quotas allow again.
  h.write("greedy", StrategyHarness::yaml("greedy", "1.0.1", runtime), R"(
function on_bar(ctx, bar) ctx.state.again = ctx:signal{symbol = 'SPY'} == nil end
)");
  ASSERT_TRUE(h.reload("greedy"));
  h.minutes("SPY", 2);
  EXPECT_EQ(h.state("greedy")["again"], true);
}

// An order sent with the heap full still reaches the script with its id:
// the binding's answer is returned, and only the script's next allocation
// is refused. Freeing memory, the script records the order it placed.
TEST(StrategyService, AnOrderSentWithAFullHeapReachesTheScript) {
  StrategyHarness h;
  h.write("tight", StrategyHarness::yaml("tight", "1.0.0", "runtime: {memory_mb: 8}\n"), R"(
function on_bar(ctx, bar)
  if ctx.state.order_id then return end
  local hoard = {}
  pcall(function() while true do hoard[#hoard + 1] = ('x'):rep(4096) .. #hoard end end)
  local order = ctx:buy{qty = 1, limit = 50}
  hoard = nil
  collectgarbage()
  ctx.state.order_id = order.id
end
)");
  h.start();
  h.minute("SPY", 100, 100.5, 99.5, 100);
  auto id = h.state("tight")["order_id"];
  ASSERT_TRUE(id.is_string()) << h.state("tight").dump();
  ASSERT_NE(h.oms().find(id.get<std::string>()), nullptr);
  EXPECT_TRUE(strategyRecords(h, "error").empty());
}

TEST(StrategyService, OnRequestAnswersRefusesAndCountsScriptErrors) {
  StrategyHarness h;
  h.write("asked", StrategyHarness::yaml("asked", "1.0.0", "runtime: {max_errors: 2, error_window_s: 60}\n"), R"(
function on_request(ctx, name, args)
  if name == "echo" then return {name = name, n = args.n * 2, at = ctx:now()} end
  if name == "broken" then return args.missing.field end
  if name == "number" then return 42 end
  return nil, "no request '" .. name .. "'"
end
)");
  h.write("mute", StrategyHarness::yaml("mute"), "function on_bar(ctx, bar) end");
  h.start();
  auto echo = h.strategies().request("asked", "echo", nlohmann::json{{"n", 21}});
  ASSERT_TRUE(echo) << echo.error().message;
  auto answer = nlohmann::json::parse(*echo);
  EXPECT_EQ(answer["name"], "echo");
  EXPECT_EQ(answer["n"], 42);
  EXPECT_EQ(answer["at"], h.nowNs() / 1'000'000);

  auto refused = h.strategies().request("asked", "other", nlohmann::json::object());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(refused.error().message, "no request 'other'");
  auto number = h.strategies().request("asked", "number", nlohmann::json::object());
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error().message, "on_request(number): must return a table (or nil and a message), returned a number");
  EXPECT_EQ(h.info("asked")["errors"], 1) << "a refusal is not a script error; a wrong answer is";

  auto broken = h.strategies().request("asked", "broken", nlohmann::json::object());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::Internal);
  EXPECT_NE(broken.error().message.find("asked.lua:4:"), std::string::npos) << broken.error().message;
  EXPECT_EQ(h.status("asked"), "faulted") << "the second error within the window";
  auto stopped = h.strategies().request("asked", "echo", nlohmann::json{{"n", 1}});
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, ErrorCode::Unavailable);

  auto mute = h.strategies().request("mute", "echo", nlohmann::json::object());
  ASSERT_FALSE(mute);
  EXPECT_EQ(mute.error().code, ErrorCode::NotFound);
  EXPECT_EQ(mute.error().message, "strategy mute answers no requests (its script has no on_request)");
}

TEST(StrategyService, RunawayLoopsAndMemoryBombsStopOnlyTheirStrategy) {
  StrategyHarness h;
  const std::string runtime = "runtime: {max_errors: 1, callback_budget_ms: 50, memory_mb: 8}\n";
  h.write("spin", StrategyHarness::yaml("spin", "1.0.0", runtime),
          "function on_bar(ctx, bar) if bar.close > 100 then while true do end end end\n");
  h.write("bomb", StrategyHarness::yaml("bomb", "1.0.0", runtime), R"(
function on_bar(ctx, bar)
  if bar.close > 100 then ctx.state.big = string.rep("x", 100 * 1024 * 1024) end
end
)");
  h.write("counter", StrategyHarness::yaml("counter"), kCounter);
  h.start();
  h.minute("SPY", 100, 100.5, 99.5, 100);
  h.minute("SPY", 101, 101.5, 100.5, 101);
  EXPECT_EQ(h.status("spin"), "faulted");
  EXPECT_NE(h.info("spin")["reason"].get<std::string>().find("budget of 50 ms"), std::string::npos);
  EXPECT_EQ(h.status("bomb"), "faulted");
  EXPECT_NE(h.info("bomb")["reason"].get<std::string>().find("limit of 8 MiB"), std::string::npos);
  h.minute("SPY", 102, 102.5, 101.5, 102);
  EXPECT_EQ(h.state("counter")["n"], 3);
}

// An order waits for the store's sync (and, live, for the broker's answer)
// before ctx:buy returns. On a slow disk that can outlast a callback's
// budget; the wait is not the script's time, so the callback carries on and
// records what it placed. Its own time still counts: a loop after the order
// is stopped as always.
TEST(StrategyService, TimeWaitingForAnOrderToBeStoredIsNotTheCallbacksBudget) {
  StrategyHarness h;
  const std::string runtime = "runtime: {max_errors: 1, callback_budget_ms: 40}\n";
  h.write("buyer", StrategyHarness::yaml("buyer", "1.0.0", runtime), R"(
function on_bar(ctx, bar)
  if ctx.state.order then return end
  local first = assert(ctx:buy{qty = 1})
  local second = assert(ctx:buy{qty = 1})
  ctx.state.order = {first.id, second.id}
end
)");
  h.write("spinner", StrategyHarness::yaml("spinner", "1.0.0", runtime), R"(
function on_bar(ctx, bar)
  if ctx.state.order then return end
  ctx.state.order = assert(ctx:buy{qty = 1}).id
  while true do end
end
)");
  h.start();
  h.commit_delay = std::chrono::milliseconds(70);  // each order: longer than a budget
  h.minute("SPY", 100, 100.5, 99.5, 100);
  h.commit_delay = std::chrono::milliseconds(0);
  EXPECT_EQ(h.status("buyer"), "running") << h.info("buyer").dump();
  EXPECT_EQ(h.info("buyer")["errors"], 0);
  ASSERT_EQ(h.state("buyer")["order"].size(), 2u) << "both orders recorded";
  EXPECT_NE(h.oms().find(h.state("buyer")["order"][1].get<std::string>()), nullptr);
  EXPECT_EQ(h.status("spinner"), "faulted");
  EXPECT_NE(h.info("spinner")["reason"].get<std::string>().find("budget of 40 ms"), std::string::npos);
}

TEST(StrategyService, ParamsAreTypedAndReadOnly) {
  StrategyHarness h;
  h.write("params",
          StrategyHarness::yaml("params", "1.0.0",
                                "params:\n  n: {type: integer, default: 7}\n  f: {type: number, default: 0.5}\n"
                                "  on: {type: boolean, default: true}\n  mode: {type: choice, values: [a, b], default: b}\n"),
          R"(
function on_bar(ctx, bar)
  ctx.state.types = math.type(ctx.params.n) .. "," .. math.type(ctx.params.f) .. "," .. type(ctx.params.on) .. "," .. ctx.params.mode
  ctx.state.write = select(2, pcall(function() ctx.params.n = 1 end))
  ctx.state.missing = select(2, pcall(function() return ctx.params.nn end))
  ctx.state.ctx_write = select(2, pcall(function() ctx.buy = nil end))
  ctx.state.id = ctx.id .. "@" .. ctx.version .. " " .. ctx.timeframe .. " " .. ctx.symbols[1]
end
)");
  h.start();
  h.minute("SPY", 100, 101, 99, 100);
  auto state = h.state("params");
  EXPECT_EQ(state["types"], "integer,float,boolean,b");
  EXPECT_NE(state["write"].get<std::string>().find("ctx.params.n is read-only"), std::string::npos);
  EXPECT_NE(state["missing"].get<std::string>().find("ctx.params.nn: no such parameter"), std::string::npos);
  EXPECT_NE(state["ctx_write"].get<std::string>().find("ctx.buy cannot be assigned"), std::string::npos);
  EXPECT_EQ(state["id"], "params@1.0.0 1m SPY");
}

TEST(StrategyService, TimersFireOnTheClockAndSurviveARestart) {
  StrategyHarness h;
  h.write("timer", StrategyHarness::yaml("timer"), R"(
function on_start(ctx)
  if not ctx.state.armed then
    ctx.state.armed = true
    ctx:after(150000, "late")
    ctx:at(ctx:now() + 30000, "soon")
  end
end
function on_bar(ctx, bar) end
function on_timer(ctx, tag)
  ctx.state.fired = (ctx.state.fired or "") .. tag .. ";"
end
)");
  h.start();
  h.minutes("SPY", 1);
  h.strategies().tick();
  h.flush();
  EXPECT_EQ(h.state("timer")["fired"], "soon;");
  h.restartHost();
  h.minutes("SPY", 2);
  h.strategies().tick();
  h.flush();
  EXPECT_EQ(h.state("timer")["fired"], "soon;late;");
}

TEST(StrategyService, ADailyTimerKeepsItsExchangeTimeAcrossDaylightSavingChanges) {
  StrategyHarness h;
  h.write("daily", StrategyHarness::yaml("daily"), R"(
function on_start(ctx)
  if not ctx.state.armed then
    ctx.state.armed = true
    ctx:at("10:00", "daily")
  end
end
function on_bar(ctx, bar) end
function on_timer(ctx, tag)
  local t = ctx:exchange_time()
  ctx.state.fired = (ctx.state.fired or "") .. string.format("%d %02d:%02d;", t.date, t.hour, t.minute)
  ctx:at("10:00", "daily")
end
)");
  h.start();  // Monday 2026-11-16 10:00: today's 10:00 has come, so the first is tomorrow's
  auto runUntil = [&](int64_t until) {
    while (h.nowNs() < until) {
      h.advance(std::min<int64_t>(3600LL * 1'000'000'000, until - h.nowNs()));
      h.strategies().tick();
      h.flush();
    }
  };
  runUntil(fromExchangeTime(20261118, 12, 0));
  EXPECT_EQ(h.state("daily")["fired"], "20261117 10:00;20261118 10:00;");
  // Spring forward (2027-03-14) and fall back (2027-11-07): the clock jumps to
  // the day before, where the pending timer fires late at 10:00 and re-arms.
  for (int32_t before : {20270313, 20271106}) {
    h.advance(fromExchangeTime(before, 9, 0) - h.nowNs());
    std::string fired = h.state("daily")["fired"];
    runUntil(fromExchangeTime(addDays(before, 2), 12, 0));
    std::string added = h.state("daily")["fired"].get<std::string>().substr(fired.size());
    EXPECT_EQ(added, fmt::format("{} 10:00;{} 10:00;{} 10:00;", before, addDays(before, 1), addDays(before, 2)));
  }
}

TEST(StrategyService, SessionHelpersAndTheSdkLibrary) {
  StrategyHarness h;
  h.write("clock", StrategyHarness::yaml("clock"), R"(
local time = require("th.time")
local session = require("th.session")
function on_bar(ctx, bar)
  local s = ctx:session(bar.time)
  ctx.state.open = ctx:format_time(s.open)
  ctx.state.minute = time.minute_of_day(ctx, bar.time)
  ctx.state.between = time.between(ctx, "09:30", "10:30", bar.time)
  ctx.state.first = session.is_first_bar(ctx, bar)
  ctx.state.since_open = ctx:minutes_since_open(bar.time)
  ctx.state.weekday = ctx:exchange_time(bar.time).weekday
  ctx.state.bar_day = bar.date .. " " .. bar.minute_of_day .. " " .. math.type(bar.minute_of_day)
  ctx.state.no_field = select(2, pcall(function() return bar.minute end))
  ctx.state.thanksgiving = ctx:session(ctx:time("2026-11-26")) == nil
  -- The next 09:40 on a trading day: later today, Monday after a Friday, Friday after Thanksgiving.
  ctx.state.today = ctx:format_time(session.next_at(ctx, "10:40"))
  ctx.state.tomorrow = ctx:format_time(session.next_at(ctx, "09:40"))
  ctx.state.monday = ctx:format_time(session.next_at(ctx, "09:40", ctx:time("2026-11-20T12:00")))
  ctx.state.friday = ctx:format_time(session.next_at(ctx, "09:40", ctx:time("2026-11-25T12:00")))
end
)");
  h.start();
  h.minute("SPY", 100, 101, 99, 100);  // 10:00 on Monday 2026-11-16
  auto state = h.state("clock");
  EXPECT_EQ(state["open"], "2026-11-16T09:30:00-05:00");
  EXPECT_EQ(state["minute"], 600);
  EXPECT_EQ(state["between"], true);
  EXPECT_EQ(state["first"], false);
  EXPECT_EQ(state["since_open"], 30.0);
  EXPECT_EQ(state["weekday"], 1);
  EXPECT_EQ(state["bar_day"], "20261116 600 integer") << "the bar's start in exchange time";
  EXPECT_NE(state["no_field"].get<std::string>().find("bar.minute: no such field"), std::string::npos);
  EXPECT_EQ(state["thanksgiving"], true);
  EXPECT_EQ(state["today"], "2026-11-16T10:40:00-05:00");
  EXPECT_EQ(state["tomorrow"], "2026-11-17T09:40:00-05:00");
  EXPECT_EQ(state["monday"], "2026-11-23T09:40:00-05:00");
  EXPECT_EQ(state["friday"], "2026-11-27T09:40:00-05:00");
}

TEST(StrategyService, ABrokenStrategyIsListedWithItsErrorAndTheOthersRun) {
  StrategyHarness h;
  h.write("broken", StrategyHarness::yaml("broken", "1.0.0", "frobnicate: true\n"), kCounter);
  h.write("typo", StrategyHarness::yaml("typo"), "function on_bar(ctx, bar) end\nfunction on_fil(ctx, f) end\n");
  h.write("spin", StrategyHarness::yaml("spin", "1.0.0", "runtime: {callback_budget_ms: 50}\n"),
          "while true do end\nfunction on_bar(ctx, bar) end\n");
  h.write("counter", StrategyHarness::yaml("counter"), kCounter);
  h.start();
  // A loop at the top of a script is stopped like one in a callback.
  EXPECT_EQ(h.status("spin"), "failed");
  EXPECT_NE(h.info("spin")["reason"].get<std::string>().find("budget of 50 ms"), std::string::npos)
      << h.info("spin").dump();
  EXPECT_EQ(h.status("broken"), "failed");
  EXPECT_NE(h.info("broken")["reason"].get<std::string>().find("broken.yaml:6:1: frobnicate: unknown key"),
            std::string::npos)
      << h.info("broken").dump();
  EXPECT_EQ(h.status("typo"), "failed");
  EXPECT_NE(h.info("typo")["reason"].get<std::string>().find("'on_fil' is not a callback"), std::string::npos);
  h.minutes("SPY", 2);
  EXPECT_EQ(h.state("counter")["n"], 2);
}


// ctx:subscribe inside on_bar adds to the strategies a symbol reaches while
// that symbol's bar is still being handed out: the strategies after the
// subscriber still get the bar, once, and the new symbol's bars reach the
// subscriber from then on.
TEST(StrategyService, ASubscribeDuringOnBarLeavesTheBarsDeliveryWhole) {
  StrategyHarness h;
  h.write("a_subscriber", StrategyHarness::yaml("a_subscriber"), R"(
function on_bar(ctx, bar)
  ctx.state.bars = ctx.state.bars or {}
  ctx.state.bars[bar.symbol] = (ctx.state.bars[bar.symbol] or 0) + 1
  if bar.symbol == "SPY" then
    ctx.state.n = (ctx.state.n or 0) + 1
    ctx:subscribe("NEW" .. ctx.state.n)  -- a new symbol on every bar
  end
end
)");
  h.write("b_counter", StrategyHarness::yaml("b_counter"), kCounter);
  h.write("c_counter", StrategyHarness::yaml("c_counter"), kCounter);
  h.start();
  h.minutes("SPY", 40);
  h.minutes("NEW7", 2);
  EXPECT_EQ(h.state("b_counter")["n"], 40);
  EXPECT_EQ(h.state("b_counter")["repeats"], 0);
  EXPECT_EQ(h.state("c_counter")["n"], 40);
  EXPECT_EQ(h.state("c_counter")["repeats"], 0);
  const auto bars = h.state("a_subscriber")["bars"];
  EXPECT_EQ(bars["SPY"], 40) << bars.dump();
  EXPECT_EQ(bars["NEW7"], 2) << bars.dump();
}

}  // namespace
}  // namespace th::test
