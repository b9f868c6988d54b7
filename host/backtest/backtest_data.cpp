// The bars a backtest plays: which symbols a folder of CSV files holds, and
// the bars themselves through a data plugin's history call.
#include <fmt/format.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>

#include "backtest/backtest_internal.h"

namespace th::backtest {
namespace {

// The files the replay plugin reads for `path`: the file, or a folder's
// *.csv and *.csv.gz.
std::vector<std::filesystem::path> csvFiles(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {fs::path(path)};
  for (const auto& item : fs::directory_iterator(path, ec)) {
    auto name = item.path().filename().string();
    if (item.is_regular_file() && (name.ends_with(".csv") || name.ends_with(".csv.gz"))) out.push_back(item.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> csvSymbols(const std::string& path) {
  std::set<std::string, std::less<>> symbols;
  std::vector<char> buffer(1 << 20);
  for (const auto& file : csvFiles(path)) {
    // gzread passes plain files through, so both kinds read the same way;
    // in large blocks, since a year of bars is tens of megabytes.
    gzFile in = gzopen(file.c_str(), "rb");
    if (!in) continue;
    int column = -1;
    bool header = true;
    std::string carry;  // a line cut by the end of a block
    // Each symbol's successor the last time it was seen, and the previous line's.
    std::map<const std::string*, const std::string*> follows;
    std::pair<const std::string* const, const std::string*>* previous = nullptr;
    auto line = [&](std::string_view text) {
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (header) {
        header = false;
        if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
        if (text.starts_with("ts_ms,symbol,")) column = 1;
        if (text.starts_with("ticker,")) column = 0;
        return column >= 0;  // otherwise the replay plugin names the problem
      }
      size_t from = 0;
      for (int i = 0; i < column && from != std::string_view::npos; ++i) {
        from = text.find(',', from);
        if (from != std::string_view::npos) ++from;
      }
      if (from == std::string_view::npos) return true;
      auto symbol = text.substr(from, text.find(',', from) - from);
      // Files repeat their symbols in a fixed order (or group them): the
      // line's symbol is nearly always the one that followed the previous
      // line's last time, and the set is asked only when it is not.
      if (previous && previous->second && *previous->second == symbol) {
        previous = &*follows.find(previous->second);
        return true;
      }
      if (symbol.empty()) return true;
      auto known = symbols.find(symbol);
      if (known == symbols.end()) known = symbols.emplace(symbol).first;
      auto here = follows.try_emplace(&*known, nullptr).first;
      if (previous) previous->second = &*known;
      previous = &*here;
      return true;
    };
    bool reading = true;
    for (int got; reading && (got = gzread(in, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0;) {
      std::string_view block(buffer.data(), static_cast<size_t>(got));
      for (size_t end; reading && (end = block.find('\n')) != std::string_view::npos; block.remove_prefix(end + 1)) {
        if (carry.empty()) {
          reading = line(block.substr(0, end));
        } else {
          carry.append(block.substr(0, end));
          reading = line(carry);
          carry.clear();
        }
      }
      if (reading) carry.append(block);
    }
    if (reading && !carry.empty()) line(carry);
    gzclose(in);
  }
  return {symbols.begin(), symbols.end()};
}

Result<std::vector<Candle>> loadBars(PluginInstance& provider, const std::string& symbol, int64_t from_ns,
                                     int64_t to_ns, size_t expected) {
  std::vector<Candle> bars;
  bars.reserve(expected);
  th_history_request request{sizeof(th_history_request), symbol.data(), static_cast<uint32_t>(symbol.size()),
                             from_ns, to_ns, kNsPerMinute};
  auto ok = provider.history(request, [&](const th_bar& b) {
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
