// The chart hub's two budgets, each measured over a whole run:
//
//   chart_bench throughput [--symbols N] [--sessions N] [--runs N] [--timeframes N] [--watch]
//     Trades per second through ChartHub::onTrade into every timeframe
//     (1m and the seven derived ones, all opened before the first trade),
//     on one core. The tape interleaves the symbols in time order, each
//     trading several times a minute at prices in cents, over several
//     sessions; the hub ticks once per tape minute and history requests are
//     answered (empty) as they come, as a live host would, and every series
//     is read at the end. --timeframes opens only the first N (1 = 1m
//     alone); --watch puts a chart client on every series.
//
//   chart_bench memory [--symbols N] [--timeframes N] [--candles N]
//     Resident memory of symbols x timeframes full CandleSeries, filled with
//     realistic candles of each timeframe; VmRSS before and after, and bytes
//     per candle. A sample of the series is read back and compared bit for
//     bit with what was stored.
//
// A plain program rather than a Google Benchmark: both figures are rates or
// sizes of one whole run, and the memory figure is the process's RSS.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "chart/chart_hub.h"
#include "core/time.h"
#include "data/calendar.h"

namespace th {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

int64_t floorMinute(int64_t ts_ns) { return ts_ns - ts_ns % kNsPerMinute; }  // tape times are positive

long argValue(int argc, char** argv, const char* name, long fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

bool argFlag(int argc, char** argv, const char* name) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

// ---- throughput

class BenchHost : public ChartHost {
 public:
  int64_t now = 0;
  std::vector<uint64_t> pending;
  int64_t nowNs() const override { return now; }
  void requestHistory(uint64_t id, const std::string&, int64_t, int64_t) override { pending.push_back(id); }
  void wantLive(const std::string&) override {}
};

std::vector<TradeEvent> makeTape(size_t symbol_count, int sessions, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  struct Stock {
    Symbol symbol;
    int64_t cents;
    double per_minute;  // mean trades per minute
  };
  std::vector<Stock> stocks;
  for (size_t i = 0; i < symbol_count; ++i) {
    std::string name;
    for (size_t n = i;; n /= 26) {
      name.insert(name.begin(), static_cast<char>('A' + n % 26));
      if (n < 26) break;
    }
    name += "X";
    stocks.push_back({Symbol(name), static_cast<int64_t>(1000 + unit(rng) * 59000), 2 + unit(rng) * 10});
  }
  std::vector<TradeEvent> tape;
  const SessionCalendar& calendar = SessionCalendar::builtin();
  std::vector<TradeEvent> minute_trades;
  int found = 0;
  for (int32_t date = 20261102; found < sessions; ++date) {
    auto session = calendar.sessionOn(date);
    if (!session) continue;
    ++found;
    for (int64_t minute = session->open_ns; minute < session->close_ns; minute += kNsPerMinute) {
      minute_trades.clear();
      for (auto& stock : stocks) {
        std::poisson_distribution<int> count(stock.per_minute);
        int n = count(rng);
        for (int k = 0; k < n; ++k) {
          stock.cents = std::max<int64_t>(1, stock.cents + static_cast<int64_t>(std::lround((unit(rng) - 0.5) * 6)));
          TradeEvent t;
          t.symbol = stock.symbol;
          t.ts_ns = minute + static_cast<int64_t>(unit(rng) * (kNsPerMinute - 1));
          t.price = static_cast<double>(stock.cents) / 100;
          t.size = unit(rng) < 0.7 ? 100 * (1 + static_cast<int>(unit(rng) * 5)) : 1 + static_cast<int>(unit(rng) * 99);
          minute_trades.push_back(t);
        }
      }
      std::sort(minute_trades.begin(), minute_trades.end(),
                [](const TradeEvent& a, const TradeEvent& b) { return a.ts_ns < b.ts_ns; });
      tape.insert(tape.end(), minute_trades.begin(), minute_trades.end());
    }
  }
  return tape;
}

int throughput(int argc, char** argv) {
  size_t symbols = static_cast<size_t>(argValue(argc, argv, "--symbols", 100));
  int sessions = static_cast<int>(argValue(argc, argv, "--sessions", 5));
  int runs = static_cast<int>(argValue(argc, argv, "--runs", 5));
  size_t opened = static_cast<size_t>(argValue(argc, argv, "--timeframes", kTimeframeCount));
  bool watched = argFlag(argc, argv, "--watch");
  std::vector<TradeEvent> tape = makeTape(symbols, sessions, 42);
  std::vector<std::string> names;
  for (const auto& t : tape) {
    if (std::find(names.begin(), names.end(), t.symbol.view()) == names.end()) names.emplace_back(t.symbol.view());
    if (names.size() == symbols) break;
  }
  std::printf("tape: %zu symbols, %d sessions, %zu trades (%.1f per symbol-minute); %zu timeframes%s\n", symbols,
              sessions, tape.size(),
              static_cast<double>(tape.size()) / static_cast<double>(symbols) / (390.0 * sessions),
              std::min(opened, kTimeframeCount), watched ? ", all watched" : "");
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    BenchHost host;
    ChartOptions options;
    options.provider = "bench";
    ChartHub hub(options, SessionCalendar::builtin(), host);
    host.now = tape.front().ts_ns - 60 * kSecond;
    for (const auto& name : names) {
      hub.track(name);
      for (size_t i = 0; i < opened && i < kTimeframeCount; ++i) {
        hub.series(name, kAllTimeframes[i]);
        // A chart client on every series: each trade is derived at once
        // (the updates are collected but not serialised here).
        if (watched) hub.watch(name, kAllTimeframes[i], 0);
      }
    }
    int64_t next_tick = floorMinute(tape.front().ts_ns) + kNsPerMinute + options.final_grace_ns;
    auto begin = std::chrono::steady_clock::now();
    for (const TradeEvent& t : tape) {
      host.now = t.ts_ns;
      if (t.ts_ns >= next_tick) {
        hub.tick();
        for (uint64_t id : host.pending) hub.historyArrived(id, std::vector<Candle>{});
        host.pending.clear();
        next_tick = floorMinute(t.ts_ns - options.final_grace_ns) + kNsPerMinute + options.final_grace_ns;
      }
      hub.onTrade(t);
    }
    // Whatever the hub left to do for the derived series is done when they
    // are read: read them all, inside the timing.
    for (const auto& name : names) {
      for (size_t i = 0; i < opened && i < kTimeframeCount; ++i) hub.series(name, kAllTimeframes[i]);
    }
    auto end = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(end - begin).count();
    double checksum = 0;
    size_t candles = 0;
    for (const auto& name : names) {
      for (size_t i = 0; i < opened && i < kTimeframeCount; ++i) {
        const CandleSeries& series = hub.series(name, kAllTimeframes[i]);
        candles += series.size();
        if (!series.empty()) checksum += series.back().close + series.back().volume;
      }
    }
    rates.push_back(static_cast<double>(tape.size()) / seconds);
    std::printf("run %d: %.3f s, %.2fM trades/s (%llu trades, %zu candles, checksum %.2f)\n", run + 1, seconds,
                rates.back() / 1e6, static_cast<unsigned long long>(hub.stats().trades), candles, checksum);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("trades/s: min %.2fM, median %.2fM, max %.2fM\n", rates.front() / 1e6, rates[rates.size() / 2] / 1e6,
              rates.back() / 1e6);
  return 0;
}

// ---- memory

long rssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// Candles of one timeframe as a market would print them: starts on the
// session grid (weekdays, 09:30-16:00 New York as 14:30-21:00 UTC), a
// random walk in cents whose step and range grow with the period, integer
// share volumes and trade counts that grow with it too, final live candles
// with the odd history and mixed one.
class CandleGenerator {
 public:
  CandleGenerator(uint64_t seed, int32_t minutes) : rng_(seed), minutes_(minutes) {
    cents_ = static_cast<int64_t>(500 + unit() * 60000);
    liquidity_ = 50 + unit() * 5000;  // shares per minute
    day_ = 20000;                     // days since 1970: a Monday in 2024
  }

  Candle next() {
    if (slot_start_ == 0 || slot_start_ + minutes_ * kNsPerMinute >= close_)
      advanceSlot();
    else
      slot_start_ += minutes_ * kNsPerMinute;
    Candle c;
    c.start_ns = slot_start_;
    double scale = std::sqrt(static_cast<double>(minutes_));
    auto step = [&](double width) { return static_cast<int64_t>(std::lround((unit() - 0.5) * width * scale)); };
    int64_t open = std::max<int64_t>(1, cents_ + (unit() < 0.3 ? step(4) : 0));
    int64_t close = std::max<int64_t>(1, open + step(cents_ / 400.0 + 4));
    int64_t high = std::max(open, close) + static_cast<int64_t>(unit() * unit() * (cents_ / 500.0 + 3) * scale);
    int64_t low = std::max<int64_t>(
        1, std::min(open, close) - static_cast<int64_t>(unit() * unit() * (cents_ / 500.0 + 3) * scale));
    cents_ = close;
    c.open = static_cast<double>(open) / 100;
    c.high = static_cast<double>(high) / 100;
    c.low = static_cast<double>(low) / 100;
    c.close = static_cast<double>(close) / 100;
    double volume = std::floor(liquidity_ * minutes_ * (0.2 + 1.6 * unit()));
    c.volume = volume;
    c.trades = static_cast<uint32_t>(1 + volume / (60 + unit() * 80));
    double roll = unit();
    c.flags = roll < 0.9    ? (kCandleFinal | kCandleLive)
              : roll < 0.99 ? (kCandleFinal | kCandleHistory)
                            : (kCandleFinal | kCandleLive | kCandleHistory);
    return c;
  }

 private:
  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  void advanceSlot() {
    do {
      ++day_;
    } while ((day_ + 3) % 7 >= 5);  // 1970-01-01 was a Thursday: skip Saturdays and Sundays
    int64_t open = day_ * 86400 * kSecond + (14 * 60 + 30) * kNsPerMinute;
    close_ = open + 390 * kNsPerMinute;
    slot_start_ = open;
  }

  std::mt19937_64 rng_;
  int32_t minutes_;
  int64_t cents_ = 0;
  double liquidity_ = 0;
  int64_t day_ = 0;
  int64_t slot_start_ = 0;
  int64_t close_ = 0;
};

int memory(int argc, char** argv) {
  size_t symbols = static_cast<size_t>(argValue(argc, argv, "--symbols", 5000));
  size_t timeframes = static_cast<size_t>(argValue(argc, argv, "--timeframes", 7));
  size_t candles = static_cast<size_t>(argValue(argc, argv, "--candles", 2000));
  static constexpr int32_t kMinutes[] = {1, 3, 5, 15, 30, 60, 240, 390};
  timeframes = std::min<size_t>(timeframes, std::size(kMinutes));
  long before = rssKiB();
  auto begin = std::chrono::steady_clock::now();
  std::vector<CandleSeries> all;
  all.reserve(symbols * timeframes);
  size_t accounted = 0;
  for (size_t s = 0; s < symbols; ++s) {
    for (size_t t = 0; t < timeframes; ++t) {
      all.emplace_back(candles);
      CandleSeries& series = all.back();
      CandleGenerator generator(s * 16 + t, kMinutes[t]);
      // One more than fits, so every series has dropped its oldest once.
      for (size_t i = 0; i <= candles; ++i) series.append(generator.next());
      accounted += series.memoryBytes();
    }
  }
  double fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  long after = rssKiB();
  double total = static_cast<double>(symbols * timeframes * candles);
  std::printf("%zu symbols x %zu timeframes x %zu candles = %.0f candles, filled in %.1f s\n", symbols, timeframes,
              candles, total, fill_seconds);
  std::printf("VmRSS before %ld KiB, after %ld KiB: %.1f MiB for the series, %.2f bytes per candle\n", before, after,
              static_cast<double>(after - before) / 1024, static_cast<double>(after - before) * 1024 / total);
  std::printf("memoryBytes(): %.1f MiB, %.2f bytes per candle (sizeof(Candle) = %zu)\n",
              static_cast<double>(accounted) / (1 << 20), static_cast<double>(accounted) / total, sizeof(Candle));
  // Read a sample back: every value must be the one stored.
  size_t checked = 0, wrong = 0;
  for (size_t s = 0; s < symbols; s += std::max<size_t>(1, symbols / 50)) {
    for (size_t t = 0; t < timeframes; ++t) {
      CandleGenerator generator(s * 16 + t, kMinutes[t]);
      generator.next();  // the one dropped
      const CandleSeries& series = all[s * timeframes + t];
      for (size_t i = 0; i < series.size(); ++i) {
        Candle expected = generator.next();
        Candle got = series.at(i);
        auto bits = [](double v) { return std::bit_cast<uint64_t>(v); };
        bool same = got.start_ns == expected.start_ns && bits(got.open) == bits(expected.open) &&
                    bits(got.high) == bits(expected.high) && bits(got.low) == bits(expected.low) &&
                    bits(got.close) == bits(expected.close) && bits(got.volume) == bits(expected.volume) &&
                    got.trades == expected.trades && got.flags == expected.flags;
        wrong += same ? 0 : 1;
        ++checked;
      }
    }
  }
  std::printf("read back %zu candles: %zu differ\n", checked, wrong);
  return wrong == 0 ? 0 : 1;
}

}  // namespace
}  // namespace th

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "throughput") return th::throughput(argc, argv);
  if (mode == "memory") return th::memory(argc, argv);
  std::fprintf(stderr,
               "usage: chart_bench throughput [--symbols 100] [--sessions 5] [--runs 5] [--timeframes 8] [--watch]\n"
               "       chart_bench memory [--symbols 5000] [--timeframes 7] [--candles 2000]\n");
  return 2;
}
