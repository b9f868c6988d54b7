// The bars a backtest plays, through a data plugin's history call.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <queue>
#include <system_error>
#include <thread>

#include "backtest/backtest_internal.h"
#include <th/memory.hpp>

namespace th::backtest {

Result<std::vector<Candle>> loadBars(PluginInstance& provider, const std::string& symbol, int64_t from_ns,
                                     int64_t to_ns, size_t expected) {
  std::vector<Candle> bars;
  reserveLarge(bars, std::max<size_t>(expected, 4096));
  th_history_request request{sizeof(th_history_request), symbol.data(), static_cast<uint32_t>(symbol.size()),
                             from_ns, to_ns, kNsPerMinute};
  auto ok = provider.history(request, [&](const th_bar& b) {
    if (bars.size() == bars.capacity()) reserveLarge(bars, bars.size() * 2);
    bars.push_back(Candle{b.start_ns, b.open, b.high, b.low, b.close, b.volume,
                          static_cast<uint32_t>(b.trade_count), kCandleFinal});
  });
  if (!ok) {
    return fail(ok.error().code, fmt::format("bars of {} from '{}': {}", symbol, provider.id(), ok.error().message));
  }
  return bars;
}

Result<std::map<std::string, std::vector<Candle>>> loadAllBars(PluginInstance& provider,
                                                               const std::vector<std::string>& symbols,
                                                               int64_t from_ns, int64_t to_ns, size_t threads) {
  std::vector<Result<std::vector<Candle>>> loaded(symbols.size(), std::vector<Candle>{});
  std::atomic<size_t> next{0};
  std::atomic<size_t> guess{0};  // the size of a symbol already loaded: others are usually alike
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < symbols.size();) {
      try {
        loaded[i] = loadBars(provider, symbols[i], from_ns, to_ns, guess.load() + guess.load() / 16);
        if (loaded[i]) guess.store(loaded[i]->size());
      } catch (const std::exception& e) {  // out of memory, on a thread that must not throw
        loaded[i] = fail(ErrorCode::Internal, fmt::format("bars of {}: {}", symbols[i], e.what()));
      }
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (size_t t = 1; t < std::min(threads, symbols.size()); ++t) {
      try {
        helpers.emplace_back(work);
      } catch (const std::system_error&) {
        break;  // fewer threads: the ones started (and this one) take every symbol
      }
    }
    work();
  }
  std::map<std::string, std::vector<Candle>> out;
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (!loaded[i]) return std::unexpected(loaded[i].error());
    out.emplace(symbols[i], std::move(*loaded[i]));
  }
  return out;
}

std::vector<std::pair<int64_t, uint32_t>> playOrder(const std::vector<std::vector<Candle>>& bars,
                                                  const std::vector<size_t>& first_played) {
  std::vector<std::pair<int64_t, uint32_t>> order;
  // Each symbol's bars are in time order; symbols are sorted by name, so
  // (start, index) is (start, symbol): the replay plugin's order.
  size_t total = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  bool on_minutes = true;
  for (uint32_t s = 0; s < bars.size(); ++s) {
    for (size_t i = first_played[s]; i < bars[s].size(); ++i) {
      on_minutes = on_minutes && bars[s][i].start_ns % kNsPerMinute == 0;
    }
    if (first_played[s] == bars[s].size()) continue;
    total += bars[s].size() - first_played[s];
    first = std::min(first, bars[s][first_played[s]].start_ns);
    last = std::max(last, bars[s].back().start_ns);
  }
  reserveLarge(order, total);
  if (total == 0) return order;
  const uint64_t minutes = (static_cast<uint64_t>(last) - static_cast<uint64_t>(first)) / kNsPerMinute + 1;
  if (on_minutes && minutes <= 4 * total + 1024) {
    // Bars start on whole minutes: counted per minute, each goes straight
    // to its place, symbol by symbol in name order.
    std::vector<uint32_t> place(minutes + 1, 0);
    for (uint32_t s = 0; s < bars.size(); ++s) {
      for (size_t i = first_played[s]; i < bars[s].size(); ++i) {
        ++place[static_cast<size_t>((bars[s][i].start_ns - first) / kNsPerMinute) + 1];
      }
    }
    for (size_t m = 1; m <= minutes; ++m) place[m] += place[m - 1];
    order.resize(total);
    for (uint32_t s = 0; s < bars.size(); ++s) {
      for (size_t i = first_played[s]; i < bars[s].size(); ++i) {
        const int64_t start = bars[s][i].start_ns;
        order[place[static_cast<size_t>((start - first) / kNsPerMinute)]++] = {start, s};
      }
    }
    return order;
  }
  // Otherwise through a heap of the next bar of each symbol.
  using Head = std::pair<int64_t, uint32_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<size_t> next = first_played;
  for (uint32_t s = 0; s < bars.size(); ++s) {
    if (next[s] < bars[s].size()) heads.emplace(bars[s][next[s]].start_ns, s);
  }
  while (!heads.empty()) {
    const auto [start, s] = heads.top();
    heads.pop();
    order.emplace_back(start, s);
    if (++next[s] < bars[s].size()) heads.emplace(bars[s][next[s]].start_ns, s);
  }
  return order;
}

}  // namespace th::backtest
