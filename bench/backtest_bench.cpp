// The shipped strategies' heavy paths, end to end, as whole-run figures:
//   backtest   ORB over a year of 1-minute bars for 10 symbols from a replay
//              CSV (written first): bars/s of loading and of playing.
//              `backtest N DIR` plays N symbols through the strategy folder
//              DIR instead; TH_BENCH_KEEP=1 keeps the CSV and reuses it;
//   screen     the covered-call screen of 100 underlyings x 400 contracts;
//   checklist  the 8-point checklist of 5,000 symbols (60 daily bars each), both directions.
// Figures and the commands are in docs/PERFORMANCE.md.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <lua.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "backtest/backtest.h"
#include "core/time.h"
#include "data/calendar.h"
#include "script/lua_engine.h"
#include "support/lua_modules.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double seconds(Clock::time_point from) { return std::chrono::duration<double>(Clock::now() - from).count(); }

// `symbols` random walks over the sessions from `from` to `to`, native CSV.
size_t writeBars(const std::string& path, int symbols, int32_t from, int32_t to) {
  std::ofstream out(path);
  out << "ts_ms,symbol,open,high,low,close,volume\n";
  std::mt19937_64 rng(7);
  auto unit = [&rng] { return static_cast<double>(rng() >> 11) / 9007199254740992.0; };
  std::vector<double> price(static_cast<size_t>(symbols), 100.0);
  size_t rows = 0;
  const auto& calendar = th::SessionCalendar::builtin();
  for (int64_t t = th::fromExchangeTime(from, 12, 0); th::toExchangeTime(t).yyyymmdd <= to; t += 86'400'000'000'000) {
    auto session = calendar.sessionOn(th::toExchangeTime(t).yyyymmdd);
    if (!session) continue;
    std::string chunk;
    for (int64_t start = session->open_ns; start < session->close_ns; start += 60'000'000'000) {
      for (int s = 0; s < symbols; ++s) {
        double& p = price[static_cast<size_t>(s)];
        const double open = p, close = std::max(1.0, p * (1 + (unit() - 0.5) * 0.004));
        const double high = std::max(open, close) * (1 + unit() * 0.001), low = std::min(open, close) * (1 - unit() * 0.001);
        chunk += fmt::format("{},S{:02d},{:.2f},{:.2f},{:.2f},{:.2f},{}\n", start / 1'000'000, s, open, high, low, close,
                             10000 + static_cast<int>(unit() * 90000));
        p = close;
        ++rows;
      }
    }
    out << chunk;
  }
  return rows;
}

// `strategy` is a strategy folder; empty for the shipped ORB.
void backtest(const std::string& source_dir, const std::string& plugin_dir, int symbols, const std::string& strategy) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / "tradehost-backtest-bench";
  fs::create_directories(dir);
  const auto csv = (dir / fmt::format("bars-{}.csv", symbols)).string();
  const bool keep = std::getenv("TH_BENCH_KEEP") != nullptr;
  auto started = Clock::now();
  if (keep && fs::exists(csv)) {
    fmt::print("backtest: the kept {} ({:.1f} MB)\n", csv, static_cast<double>(fs::file_size(csv)) / 1e6);
  } else {
    size_t rows = writeBars(csv, symbols, 20251120, 20261119);
    fmt::print("backtest: wrote {} bars ({} symbols, {:.1f} MB) in {:.1f} s\n", rows, symbols,
               static_cast<double>(fs::file_size(csv)) / 1e6, seconds(started));
  }
  th::BacktestOptions options;
  const fs::path folder = strategy.empty() ? fs::path(source_dir) / "strategies" / "orb" : fs::path(strategy);
  options.strategy = folder.filename().string();
  options.strategies_dir = folder.parent_path().string();
  options.sdk_dir = source_dir + "/sdk/lua";
  options.plugin_dir = plugin_dir;
  options.data = csv;
  options.from = 20251120;
  options.to = 20261119;
  started = Clock::now();
  auto report = th::runBacktest(options);
  const double total = seconds(started);
  if (!report) {
    fmt::print(stderr, "backtest failed: {}\n", report.error().message);
    return;
  }
  fmt::print("backtest: {}, {} bars in {} sessions: {} trades\n", options.strategy, report->bars, report->sessions,
             report->overall.trades);
  fmt::print("  load (replay plugin, CSV parse and history) + start: {:.2f} s\n", report->load_seconds);
  fmt::print("  play: {:.2f} s = {:.2f} M bars/s\n", report->play_seconds,
             static_cast<double>(report->bars) / report->play_seconds / 1e6);
  fmt::print("  end to end (load, play, report): {:.2f} s = {:.2f} M bars/s\n", total,
             static_cast<double>(report->bars) / total / 1e6);
  if (!keep) fs::remove_all(dir);
}

// Runs `script` `runs` times in a sandbox over the global `args`; the best and median wall times.
struct LuaRun {
  std::unique_ptr<th::LuaSandbox> box;
  void set(const Json& args) {
    th::pushJson(box->state(), args);
    lua_setglobal(box->state(), "args");
  }
  // `prepare` runs untimed before each run.
  void time(const char* what, const char* script, int runs, const std::string& per, const char* prepare = nullptr) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      if (prepare) (void)box->run(prepare, "prepare.lua");
      auto started = Clock::now();
      auto ran = box->run(script, "bench.lua");
      ms.push_back(seconds(started) * 1000);
      if (!ran) {
        fmt::print(stderr, "{}: {}\n", what, ran.error().message);
        return;
      }
    }
    std::sort(ms.begin(), ms.end());
    fmt::print("{}: best {:.2f} ms, median {:.2f} ms over {} runs ({})\n", what, ms.front(), ms[ms.size() / 2], runs,
               per);
  }
};

void screen(const std::string& source_dir) {
  th::SdkModules sdk(source_dir + "/sdk/lua");
  th::test::LuaTestModules modules(source_dir + "/strategies/covered_call", sdk);
  LuaRun lua{*th::LuaSandbox::create(512u << 20, modules)};
  // 100 underlyings, each 400 contracts: 20 expiries (today first) x 10 strikes each side x call and put.
  Json inputs = Json::array();
  std::mt19937_64 rng(3);
  auto unit = [&rng] { return static_cast<double>(rng() >> 11) / 9007199254740992.0; };
  for (int u = 0; u < 100; ++u) {
    const double spot = 50 + u * 5.0;
    Json chain = Json::array();
    for (int e = 0; e < 20; ++e) {
      for (int k = -10; k < 10; ++k) {
        const double strike = std::round(spot * (1 + k * 0.004) * 2) / 2;
        for (const char* right : {"call", "put"}) {
          const double mid = std::max(0.05, spot * 0.006 * std::exp(-std::abs(k) * 0.25) * (1 + e * 0.3));
          Json c = {{"symbol", fmt::format("U{:03d}{}{}{}", u, e, right[0], strike)}, {"right", right},
                    {"expiry", 20261120 + e}, {"strike", strike}, {"bid", mid * 0.97}, {"ask", mid * 1.03},
                    {"volume", 50 + unit() * 5000}, {"open_interest", 100 + unit() * 20000},
                    {"iv", 0.15 + unit() * 0.3}};
          if (unit() < 0.5) c["delta"] = 0.1 + unit() * 0.35;  // half with the provider's greeks
          chain.push_back(c);
        }
      }
    }
    inputs.push_back({{"symbol", fmt::format("U{:03d}", u)}, {"price", spot}, {"today", 20261120}, {"chain", chain}});
  }
  lua.set({{"inputs", inputs},
           {"params", {{"max_days", 0}, {"min_otm_pct", 0}, {"max_otm_pct", 3}, {"delta_lo", 0.15}, {"delta_hi", 0.35},
                       {"min_bid", 0.05}, {"min_open_interest", 100}, {"max_spread_to_mid", 0.5},
                       {"sort_by", "confidence"}, {"max_results", 10}}}});
  // The chain becomes Lua tables once, as ctx:option_chain hands them over; the screen is what is timed.
  (void)lua.box->run(R"(
screen = require("screen")
for _, input in ipairs(args.inputs) do
  input.years = function(expiry) return (350 + (expiry - 20261120) * 1440) / 525600 end
  for _, c in ipairs(input.chain) do c.expiry = math.tointeger(c.expiry) end
end
)",
                     "setup.lua");
  lua.time("screen", "result = screen.run(args.inputs, args.params)", 21, "100 underlyings x 400 contracts = 40,000");
  (void)lua.box->run("passed = 0 for _, u in ipairs(result.underlyings) do passed = passed + u.passed end", "n.lua");
  lua_getglobal(lua.box->state(), "passed");
  fmt::print("  {} contracts passed the filters; {} kept\n", lua_tointeger(lua.box->state(), -1), 10);
  lua_pop(lua.box->state(), 1);
}

void checklist(const std::string& source_dir) {
  th::SdkModules sdk(source_dir + "/sdk/lua");
  th::test::LuaTestModules modules(source_dir + "/strategies/entry_checklist", sdk);
  LuaRun lua{*th::LuaSandbox::create(1024u << 20, modules)};
  std::ifstream in(source_dir + "/tests/strategies/checklist_reference.json");
  auto reference = Json::parse(in);
  lua.set({{"input", reference["input"]}, {"params", reference["params"]}});
  // 5,000 symbols: the reference's 60 daily bars and chain, each scaled differently.
  (void)lua.box->run(R"(
checklist = require("checklist")
symbols = {}
for i = 1, 5000 do
  local f = 0.5 + (i % 97) / 50
  local bars = {}
  for j, b in ipairs(args.input.bars) do
    bars[j] = {time = b.time, open = b.open * f, high = b.high * f, low = b.low * f, close = b.close * f,
               volume = b.volume * (1 + i % 13 / 10)}
  end
  symbols[i] = {symbol = "S" .. i, bars = bars, price = args.input.price * f, chain = args.input.chain,
                today = math.tointeger(args.input.today)}
end
)",
                     "setup.lua");
  lua.time("checklist", R"(
local n = 0
for _, input in ipairs(symbols) do
  for _, dir in ipairs({"long", "short"}) do
    local record = checklist.score(input, dir, args.params)
    if record then n = n + 1 end
  end
end
scored = n
)",
           11, "5,000 symbols x long and short",
           // Fresh bar lists each run, as ctx:history hands them over: nothing computed for one run helps the next.
           "for _, input in ipairs(symbols) do input.bars = table.move(input.bars, 1, #input.bars, 1, {}) end");
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  std::string only = argc > 1 ? argv[1] : "all";
  int symbols = argc > 2 ? std::atoi(argv[2]) : 10;
  if (only == "all" || only == "screen") screen(TH_SOURCE_DIR);
  if (only == "all" || only == "checklist") checklist(TH_SOURCE_DIR);
  if (only == "all" || only == "backtest") backtest(TH_SOURCE_DIR, TH_PLUGIN_DIR, symbols, argc > 3 ? argv[3] : "");
  return 0;
}
