// The bars a backtest plays, through a data plugin's history call.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
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

}  // namespace th::backtest
