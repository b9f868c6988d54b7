// In-memory 1-minute bars of every replayed symbol, immutable once built.
//
// Bars are kept per symbol, so the symbol is stored once and not per bar, and
// each bar is 48 bytes: a year of minute bars for ten symbols (about a million)
// takes under 50 MB. History requests are a binary search in one symbol's
// series; playback merges the series into (start, symbol) order on the fly.
// Nothing changes after build(), so any thread may read a BarStore at any time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace th::replay {

inline constexpr int64_t kNsPerMinute = 60'000'000'000;

struct StoredBar {
  int32_t minute;       // start, in minutes since the Unix epoch (UTC)
  uint32_t tradeCount;  // 0 when the file has none
  double open, high, low, close, volume;

  int64_t startNs() const { return int64_t{minute} * kNsPerMinute; }
};
static_assert(sizeof(StoredBar) == 48, "StoredBar is the unit of replay's memory budget");

class BarStore {
 public:
  // Symbols are indexed 0..symbolCount()-1 in byte-wise name order, so
  // comparing indices orders bars by symbol name.
  uint32_t symbolCount() const { return static_cast<uint32_t>(symbols_.size()); }
  const std::string& symbol(uint32_t index) const { return symbols_[index]; }
  std::optional<uint32_t> find(std::string_view symbol) const;

  // One symbol's bars, oldest first; bars of equal start keep file order.
  std::span<const StoredBar> series(uint32_t index) const { return series_[index]; }
  // The bars of one symbol whose start lies in [fromNs, toNs).
  std::span<const StoredBar> range(uint32_t index, int64_t fromNs, int64_t toNs) const;

  uint64_t barCount() const { return barCount_; }

 private:
  friend class BarStoreBuilder;
  std::vector<std::string> symbols_;
  std::vector<std::vector<StoredBar>> series_;
  uint64_t barCount_ = 0;
};

// Collects bars while files load, then freezes them into a BarStore.
class BarStoreBuilder {
 public:
  // A stable index for `symbol` during the build (not the BarStore index).
  uint32_t intern(std::string_view symbol);
  // Bars of `symbol` in file order, after those it has.
  void append(uint32_t symbol, std::vector<StoredBar>&& bars);
  // Everything `other` collected, after what this one has.
  void take(BarStoreBuilder&& other);

  // Sorts each series by start (stably: bars from files listed earlier come
  // first among equal starts), orders symbols by name, releases spare capacity
  // beyond an eighth of a series.
  BarStore build() &&;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
  std::vector<std::string> symbols_;
  std::vector<std::vector<StoredBar>> series_;
};

// Walks every bar of a store in (start, symbol) order: a k-way merge of the
// per-symbol series with a heap, so playback needs no merged copy of the data.
class MergedCursor {
 public:
  struct Entry {
    uint32_t symbol;
    const StoredBar* bar;
  };

  explicit MergedCursor(const BarStore& store);
  // The next bar, or nullopt when every bar has been returned.
  std::optional<Entry> next();

 private:
  struct Head {
    int32_t minute;
    uint32_t symbol;
    size_t position;
  };
  static bool later(const Head& a, const Head& b) {
    return a.minute != b.minute ? a.minute > b.minute : a.symbol > b.symbol;
  }

  const BarStore& store_;
  std::vector<Head> heap_;
};

}  // namespace th::replay
