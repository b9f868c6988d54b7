// The strategy runtime: bar callbacks per second through a Lua strategy
// (the service's whole dispatch path), next to the floor of a bare C++→Lua
// call loop measured the same way; the core thread's pause during a reload
// swap and the total reload time; memory per strategy instance.
//
//   build/bench/strategy_bench [--bars N] [--reloads N]
#include <fmt/format.h>
#include <lua.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <th/plugin.h>
#include <vector>

#include "core/time.h"
#include "core/worker.h"
#include "data/calendar.h"
#include "script/instance.h"
#include "script/strategy_service.h"
#include "store/store.h"

namespace th {
namespace {

using Clock = std::chrono::steady_clock;

// A host with a real store and no broker; core tasks run on this thread.
class BenchHost final : public StrategyHost {
 public:
  explicit BenchHost(Store& store) : store_(store), batch_(store.batch()) {}
  int64_t nowNs() const override { return now; }
  Batch& batch() override { return batch_; }
  BrokerService* broker() override { return nullptr; }
  const SessionCalendar& calendar() const override { return SessionCalendar::builtin(); }
  std::vector<Candle> history(const std::string&, Timeframe, size_t) override { return {}; }
  void subscribe(const std::string&, uint32_t, const std::string&) override {}
  Result<std::vector<OptionQuote>> optionChain(const std::string&) override {
    return fail(ErrorCode::Unavailable, "none");
  }
  void addMarker(const std::string&, Marker) override {}
  void notify(std::string) override {}
  bool postToCore(std::function<void()> task) override {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    return true;
  }
  bool postOffCore(std::function<void()> task) override { return worker_.post(std::move(task)); }
  void runTasks() {
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(mutex_);
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  void commit() {
    if (auto ok = store_.commit(batch_); !ok) throw std::runtime_error(ok.error().message);
  }
  int64_t now = fromExchangeTime(20261116, 9, 30);

 private:
  Store& store_;
  Batch batch_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  Worker worker_;
};

// An EMA and a running count: what a typical on_bar does per bar.
constexpr const char* kScript = R"(
local ema, alpha = nil, 2 / (20 + 1)
function on_start(ctx) ctx.state.n = ctx.state.n or 0 end
function on_bar(ctx, bar)
  local c = bar.close
  ema = ema and ema + alpha * (c - ema) or c
  ctx.state.n = ctx.state.n + 1
end
)";

std::string yaml(const std::string& version) {
  return "schema: 1\nid: bench\nversion: " + version + "\nsymbols: [SPY]\ntimeframe: 1m\nruntime: {warmup_bars: 200}\n";
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

BarEvent bar(int64_t start_ns, double close) {
  BarEvent b;
  b.symbol = Symbol("SPY");
  b.flags = TH_BAR_FINAL;
  b.start_ns = start_ns;
  b.duration_ns = kNsPerMinute;
  b.open = b.high = b.low = b.close = close;
  b.volume = 1000;
  return b;
}

// The floor: a plain Lua state, a function taking (ctx, bar) that does the
// same arithmetic on numbers passed as arguments; no sandbox, no userdata.
double bareCallsPerSecond(size_t calls) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  luaL_dostring(L, R"(
    local ema, alpha, n = nil, 2 / 21, 0
    function f(ctx, close) ema = ema and ema + alpha * (close - ema) or close; n = n + 1 end)");
  lua_getglobal(L, "f");
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  auto started = Clock::now();
  for (size_t i = 0; i < calls; ++i) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_pushnil(L);
    lua_pushnumber(L, 100.0 + static_cast<double>(i % 100));
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) throw std::runtime_error(lua_tostring(L, -1));
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  lua_close(L);
  return static_cast<double>(calls) / seconds;
}

}  // namespace
}  // namespace th

int main(int argc, char** argv) {
  using namespace th;
  size_t bars = 3'000'000, reloads = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bars") == 0) bars = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--reloads") == 0) reloads = std::stoul(argv[i + 1]);
  }
  spdlog::set_level(spdlog::level::warn);
  auto dir = std::filesystem::temp_directory_path() / fmt::format("tradehost-strategy-bench-{}", ::getpid());
  std::filesystem::create_directories(dir / "strategies" / "bench");
  auto write = [&](const std::string& version, const std::string& comment) {
    std::ofstream(dir / "strategies" / "bench" / "bench.yaml") << yaml(version);
    std::ofstream(dir / "strategies" / "bench" / "bench.lua") << kScript << "-- " << comment << "\n";
  };
  write("1.0.0", "first");
  {
    auto store = Store::open((dir / "store").string());
    if (!store) return fmt::print(stderr, "{}\n", store.error().message), 1;
    BenchHost host(**store);
    StrategyOptions options;
    options.dir = (dir / "strategies").string();
    options.sdk_dir = defaultSdkLuaDir();
    StrategyService service(options, **store, host);
    service.start();
    host.commit();

    double floor = bareCallsPerSecond(bars);
    // Through the service: one bar event each, as the session hands them over.
    std::vector<Event> events;
    events.reserve(bars);
    for (size_t i = 0; i < bars; ++i) {
      events.push_back(Event{1, bar(host.now + static_cast<int64_t>(i) * kNsPerMinute, 100.0 + static_cast<double>(i % 100))});
    }
    auto started = Clock::now();
    uint64_t seq = 0;
    for (const auto& event : events) service.onEvent(event, ++seq);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    double rate = static_cast<double>(bars) / seconds;
    fmt::print("bar callbacks: {:.2f} M/s through the strategy service ({} bars in {:.3f} s); "
               "bare C++->Lua call floor: {:.2f} M/s ({:.0f}% of the floor)\n",
               rate / 1e6, bars, seconds, floor / 1e6, 100 * rate / floor);
    service.endGroup();
    host.commit();
    fmt::print("memory: {:.1f} KiB of Lua heap in this strategy instance after {} bars\n",
               static_cast<double>(service.instance("bench")->memoryUsed()) / 1024, bars);

    // Reloads, alternating two versions, with bars flowing between them.
    std::vector<double> pauses, totals;
    int64_t t = host.now + static_cast<int64_t>(bars) * kNsPerMinute;
    for (size_t r = 0; r < reloads; ++r) {
      write(r % 2 ? "1.0.0" : "1.0.1", fmt::format("reload {}", r));
      std::optional<Result<std::string>> answer;
      std::mutex answered;
      service.reload("bench", [&](Result<std::string> result) {
        std::lock_guard lock(answered);
        answer = std::move(result);
      });
      for (;;) {
        host.runTasks();
        for (int k = 0; k < 20; ++k) {
          service.onEvent(Event{1, bar(t, 100)}, ++seq);
          t += kNsPerMinute;
        }
        std::lock_guard lock(answered);
        if (answer) break;
      }
      service.endGroup();
      host.commit();
      if (!*answer) return fmt::print(stderr, "reload {} failed: {}\n", r, answer->error().message), 1;
      auto json = nlohmann::json::parse(**answer);
      pauses.push_back(json["swap_pause_us"].get<double>());
      totals.push_back(json["total_ms"].get<double>());
    }
    fmt::print("reload swap pause on the core thread: p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us ({} reloads)\n",
               percentile(pauses, 0.5), percentile(pauses, 0.99), percentile(pauses, 1.0), reloads);
    fmt::print("reload total (request to trading on the new version): p50 {:.2f} ms, p99 {:.2f} ms\n",
               percentile(totals, 0.5), percentile(totals, 0.99));
    fmt::print("memory: {:.1f} KiB of Lua heap per instance after the reloads (limit {} MiB)\n",
               static_cast<double>(service.instance("bench")->memoryUsed()) / 1024, 64);
    service.stop();
    service.endGroup();
    host.commit();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
