// Hot reload and rollback: state, orders and timers carry over; failures
// leave the running version alone; and under a replay at full speed every
// event is handled exactly once, by exactly one version.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/core_loop.h"
#include "core/event_queue.h"
#include "script/strategy_harness.h"

namespace th::test {
namespace {

// v1 counts bars and keeps one resting order; `extra` varies the version.
std::string script(const std::string& extra = "") {
  return R"(
function on_start(ctx)
  ctx.state.n = ctx.state.n or 0
  ctx:at("15:55", "close")
end
function on_bar(ctx, bar)
  ctx.state.n = ctx.state.n + 1
  if not ctx.state.order then
    ctx.state.order = assert(ctx:buy{qty = 1, limit = 50}).id
  end
  ctx.state.open_seen = #ctx:orders()
  ctx.state.by = ctx.version
end
)" + extra;
}

constexpr const char* kMigrate = R"(
function migrate(state, from)
  state.migrated_from = from
  state.migrations = (state.migrations or 0) + 1
  return state
end
)";

std::vector<nlohmann::json> swaps(StrategyHarness& h) {
  std::vector<nlohmann::json> out;
  for (auto& record : h.journal(JournalKind::Strategy)) {
    if (record["data"]["event"] == "swap") out.push_back(record["data"]);
  }
  return out;
}

TEST(StrategyReload, TheNewVersionTakesStateOrdersAndTimers) {
  StrategyHarness h;
  h.write("s", StrategyHarness::yaml("s"), script());
  h.start();
  h.minutes("SPY", 3);
  auto order = h.state("s")["order"].get<std::string>();
  EXPECT_EQ(h.subscribed_streams["SPY"] & TH_STREAM_TRADES, 0u) << "1.0.0 has no on_trade";
  h.write("s", StrategyHarness::yaml("s", "1.1.0"), script(kMigrate) + "function on_trade(ctx, trade) end\n");
  auto reloaded = h.reload("s");
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  auto answer = nlohmann::json::parse(*reloaded);
  EXPECT_EQ(answer["changed"], true);
  EXPECT_EQ(answer["version"], "1.1.0");
  EXPECT_GE(answer["swap_pause_us"].get<int64_t>(), 0);
  h.minutes("SPY", 2);
  auto state = h.state("s");
  EXPECT_EQ(state["n"], 5) << "3 bars on 1.0.0, 2 on 1.1.0, none replayed into the count";
  EXPECT_EQ(state["migrated_from"], "1.0.0");
  EXPECT_EQ(state["order"], order) << "the new version did not send a second order";
  EXPECT_EQ(state["open_seen"], 1) << "the new version sees the order the old one placed";
  EXPECT_EQ(state["by"], "1.1.0");
  EXPECT_NE(h.subscribed_streams["SPY"] & TH_STREAM_TRADES, 0u) << "1.1.0 added on_trade: the trades were subscribed";
  EXPECT_EQ(h.oms().orders(OrderFilter{true, "s", "", 100}).size(), 1u);
  EXPECT_EQ(h.info("s")["timers"].size(), 1u) << "on_start asked for the same timer again: still one";
  auto recorded = swaps(h);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0]["from_version"], "1.0.0");
  EXPECT_EQ(recorded[0]["to_version"], "1.1.0");
  EXPECT_EQ(recorded[0]["handled_by_previous"], 3);
  EXPECT_EQ(recorded[0]["warmup_bars"], 3);
  // Reloading unchanged files changes nothing.
  auto again = h.reload("s");
  ASSERT_TRUE(again);
  EXPECT_EQ(nlohmann::json::parse(*again)["changed"], false);
  EXPECT_EQ(swaps(h).size(), 1u);
}

// A new version warms up on as many bars as it asks for: those the running
// version kept when it kept that many, else the chart's.
TEST(StrategyReload, EachVersionWarmsUpOnTheBarsItAsksFor) {
  StrategyHarness h;
  auto version = [&](const std::string& number, int warmup) {
    h.write("s", StrategyHarness::yaml("s", number, fmt::format("runtime: {{warmup_bars: {}}}\n", warmup)), script());
    auto reloaded = h.reload("s");
    ASSERT_TRUE(reloaded) << reloaded.error().message;
  };
  h.write("s", StrategyHarness::yaml("s", "1.0.0", "runtime: {warmup_bars: 0}\n"), script());
  h.start();
  h.minutes("SPY", 3);
  version("1.1.0", 2);  // 1.0.0 kept none: the chart's last two
  h.minutes("SPY", 4);
  version("1.2.0", 5);  // 1.1.0 kept two: the chart's last five
  h.minutes("SPY", 1);
  version("1.3.0", 5);  // 1.2.0 saw one bar: the chart's again
  h.minutes("SPY", 5);
  version("1.4.0", 3);  // 1.3.0 kept five: its last three
  version("1.5.0", 0);
  h.minutes("SPY", 2);
  version("1.6.0", 4);  // 1.5.0 kept none (what 1.4.0 kept is gone)
  auto recorded = swaps(h);
  std::vector<int> warmups;
  for (const auto& swap : recorded) warmups.push_back(swap["warmup_bars"].get<int>());
  EXPECT_EQ(warmups, (std::vector<int>{2, 5, 5, 3, 0, 4}));
  EXPECT_EQ(h.state("s")["n"], 15) << "every bar counted once, by the version running then";
}

TEST(StrategyReload, FailedReloadsLeaveTheRunningVersionTrading) {
  StrategyHarness h;
  h.write("s", StrategyHarness::yaml("s"), script());
  StrategyOptions options;
  options.global_limits.max_order_quantity = 1000;
  h.start(options);
  h.minutes("SPY", 2);
  struct Case {
    const char* what;
    std::string yaml, lua, expected;
  };
  std::vector<Case> cases = {
      {"syntax error", StrategyHarness::yaml("s", "1.1.0"), "function on_bar(ctx, bar)\n  local x = = 1\nend\n",
       "s.lua:2: unexpected symbol near '='"},
      {"bad YAML", StrategyHarness::yaml("s", "1.1.0", "params:\n  n: {type: integer, default: many}\n"),
       script(), "s.yaml:7:31: params.n.default: expected a whole number, got 'many'"},
      {"error in migrate", StrategyHarness::yaml("s", "1.1.0"),
       script("function migrate(state, from) error('cannot migrate from ' .. from) end\n"),
       "s.lua:14: cannot migrate from 1.0.0"},
      {"error during warm-up", StrategyHarness::yaml("s", "1.1.0"),
       "function on_bar(ctx, bar) if bar.close > 0 then error('indicator blew up') end end\n",
       "warm-up: on_bar: "},
      {"looser risk limit", StrategyHarness::yaml("s", "1.1.0", "risk: {max_order_quantity: 5000}\n"), script(),
       "risk.max_order_quantity: 5000 is looser than the global 1000"},
  };
  for (const auto& c : cases) {
    h.write("s", c.yaml, c.lua);
    auto reloaded = h.reload("s");
    ASSERT_FALSE(reloaded) << c.what;
    EXPECT_NE(reloaded.error().message.find(c.expected), std::string::npos) << c.what << ": " << reloaded.error().message;
    EXPECT_EQ(h.info("s")["version"], "1.0.0") << c.what;
    EXPECT_EQ(h.status("s"), "running") << c.what;
  }
  h.minutes("SPY", 2);
  EXPECT_EQ(h.state("s")["n"], 4);
  EXPECT_EQ(h.state("s")["by"], "1.0.0");
  EXPECT_TRUE(swaps(h).empty());
}

TEST(StrategyReload, RollbackRestoresThePreviousSourceAfterTheFilesChanged) {
  StrategyHarness h;
  h.write("s", StrategyHarness::yaml("s"), script());
  h.start();
  h.minutes("SPY", 2);
  h.write("s", StrategyHarness::yaml("s", "2.0.0"), script(kMigrate));
  ASSERT_TRUE(h.reload("s"));
  h.minutes("SPY", 1);
  // The files on disk are overwritten with something that does not even compile.
  h.write("s", StrategyHarness::yaml("s", "3.0.0"), "this is not Lua\n");
  auto rolled = h.rollback("s");
  ASSERT_TRUE(rolled) << rolled.error().message;
  EXPECT_EQ(h.info("s")["version"], "1.0.0");
  EXPECT_EQ(h.info("s")["pinned"], true);
  h.minutes("SPY", 1);
  EXPECT_EQ(h.state("s")["n"], 4);
  EXPECT_EQ(h.state("s")["by"], "1.0.0");
  // A restart keeps the version rolled back to, not the broken files.
  h.restartHost();
  EXPECT_EQ(h.info("s")["version"], "1.0.0");
  EXPECT_EQ(h.status("s"), "running");
  // Forward again, by version, from the store.
  ASSERT_TRUE(h.rollback("s", "2.0.0"));
  EXPECT_EQ(h.info("s")["version"], "2.0.0");
  auto history = nlohmann::json::parse(*h.strategies().historyJson("s"));
  ASSERT_EQ(history["versions"].size(), 2u) << "the broken files were never a version";
  EXPECT_EQ(history["versions"][1]["active"], true);
  EXPECT_FALSE(h.rollback("s", "9.9.9"));
  h.minutes("SPY", 1);
  EXPECT_EQ(h.state("s")["n"], 5);
  EXPECT_EQ(h.oms().orders(OrderFilter{true, "s", "", 100}).size(), 1u);
}

// A core loop like the session's: bars are journalled and handed to the
// strategies; broker reports are heard at the end of each group.
class LoadCore : public EventProcessor {
 public:
  explicit LoadCore(StrategyHarness& h) : h_(h) {}
  void process(const Event& event) override {
    if (auto* task = std::get_if<TaskEvent>(&event.payload)) return task->run();
    auto* bar = std::get_if<BarEvent>(&event.payload);
    if (!bar) return;
    uint64_t seq = h_.batch().journal(static_cast<uint16_t>(JournalKind::Bar), bar->start_ns, "bar");
    bar_sequences.push_back(seq);
    h_.strategies().onEvent(event, seq);
  }
  void endGroup() override {
    h_.strategies().endGroup();
    h_.commit();
  }
  std::vector<uint64_t> bar_sequences;  // core thread

 private:
  StrategyHarness& h_;
};

TEST(StrategyReload, HundredReloadsUnderAFullSpeedReplayHandleEveryEventOnce) {
  StrategyHarness h;
  // Bar k carries volume k: the strategy sees any skipped or repeated bar.
  const std::string lua = R"(
function on_start(ctx)
  ctx.state.n = ctx.state.n or 0
  ctx.state.jumps = ctx.state.jumps or 0
  ctx.state.orders = ctx.state.orders or 0
end
function on_bar(ctx, bar)
  if bar.volume ~= ctx.state.n + 1 then ctx.state.jumps = ctx.state.jumps + 1 end
  ctx.state.n = ctx.state.n + 1
  if ctx.state.n % 5000 == 0 then
    -- The k-th decision says which it is in its price: 1 + k/1000.
    local order = ctx:buy{qty = 1, limit = 1 + (ctx.state.n // 5000) / 1000}
    if order then ctx.state.orders = ctx.state.orders + 1 end
  end
end
)" + std::string(kMigrate);
  h.write("load", StrategyHarness::yaml("load", "1.0.0", "runtime: {warmup_bars: 200}\n"), lua);
  h.start();
  // A small ring, as a live session's queue stays short: a reload's tasks
  // wait behind at most this many bars.
  EventQueue queue(4096);
  SimulatedClock clock(fromExchangeTime(20261116, 9, 30), 1);
  LoadCore processor(h);
  h.core_poster = [&queue](std::function<void()> task) { return queue.push(Event{0, TaskEvent{std::move(task)}}); };
  CoreLoop core(queue, clock, processor);
  core.start();

  std::atomic<bool> reloads_done{false};
  std::atomic<uint64_t> produced{0};
  auto started = std::chrono::steady_clock::now();
  std::thread producer([&] {
    int64_t t = fromExchangeTime(20261116, 9, 30);
    for (uint64_t k = 1; !reloads_done.load() || k <= 200'000; ++k) {
      BarEvent bar;
      bar.symbol = Symbol("SPY");
      bar.flags = TH_BAR_FINAL;
      bar.start_ns = t + static_cast<int64_t>(k) * 60'000'000'000LL;
      bar.duration_ns = 60'000'000'000LL;
      bar.open = bar.high = bar.low = bar.close = 100;
      bar.volume = static_cast<double>(k);
      if (!queue.push(Event{1, bar})) break;
      produced.store(k);
    }
  });
  for (int i = 0; i < 100; ++i) {
    auto version = i % 2 == 0 ? "1.0.1" : "1.0.0";
    h.write("load", StrategyHarness::yaml("load", version, "runtime: {warmup_bars: 200}\n"),
            lua + "-- " + version + "\n");
    std::promise<Result<std::string>> answer;
    h.strategies().reload("load", [&answer](Result<std::string> result) { answer.set_value(std::move(result)); });
    auto result = answer.get_future().get();
    ASSERT_TRUE(result) << "reload " << i << ": " << result.error().message;
  }
  reloads_done = true;
  producer.join();
  std::promise<nlohmann::json> final_state;
  queue.push(Event{0, TaskEvent{[&] { final_state.set_value(h.info("load")); }}});
  auto info = final_state.get_future().get();
  core.stop();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t total = produced.load();
  std::cout << "replayed " << total << " bars in " << seconds << " s (" << static_cast<uint64_t>(total / seconds)
            << " events/s) across 100 reloads\n";
  RecordProperty("events_per_second", static_cast<int>(total / seconds));

  ASSERT_TRUE(info.contains("state")) << info.dump();
  auto state = info["state"];
  EXPECT_EQ(state["n"].get<uint64_t>(), total) << "every bar handled, none twice";
  EXPECT_EQ(state["jumps"], 0) << "the counter continued without a jump across every swap";
  EXPECT_EQ(state["migrations"], 100);
  EXPECT_EQ(state["orders"].get<uint64_t>(), total / 5000);
  // Exactly one version per event: each swap's previous version handled up
  // to and including one journalled bar, and the next took over right after.
  auto recorded = swaps(h);
  ASSERT_EQ(recorded.size(), 100u);
  uint64_t handled = 0;
  for (const auto& swap : recorded) {
    handled += swap["handled_by_previous"].get<uint64_t>();
    if (handled > 0) {
      ASSERT_LE(handled, processor.bar_sequences.size());
      EXPECT_EQ(swap["last_event_sequence"].get<uint64_t>(), processor.bar_sequences[handled - 1]);
    }
  }
  EXPECT_EQ(handled + info["handled"].get<uint64_t>(), total);
  // Every decision was sent once: the k-th order (by its price) is there
  // once for each k, none twice (a bar handled by both versions) and none
  // missing (a bar handled by neither).
  auto requests = h.journal(JournalKind::OrderRequest);
  EXPECT_EQ(requests.size(), total / 5000);
  std::map<int64_t, int> decisions;
  for (const auto& r : requests) {
    ++decisions[std::llround((r["data"]["order"]["limit_price"].get<double>() - 1) * 1000)];
  }
  for (uint64_t k = 1; k <= total / 5000; ++k) {
    EXPECT_EQ(decisions[static_cast<int64_t>(k)], 1) << "decision " << k;
  }
}

}  // namespace
}  // namespace th::test
