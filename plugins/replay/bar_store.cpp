#include "bar_store.hpp"

#include <algorithm>
#include <numeric>

namespace th::replay {
namespace {

// The first minute whose start is at or after `ns`, clamped to the range a
// StoredBar can hold, so any int64 request bound works.
int64_t firstMinuteAtOrAfter(int64_t ns) {
  int64_t minute = ns / kNsPerMinute;
  if (ns % kNsPerMinute > 0) ++minute;  // division truncates toward zero
  return minute;
}

}  // namespace

std::optional<uint32_t> BarStore::find(std::string_view symbol) const {
  auto it = std::lower_bound(symbols_.begin(), symbols_.end(), symbol, std::less<>());
  if (it == symbols_.end() || *it != symbol) return std::nullopt;
  return static_cast<uint32_t>(it - symbols_.begin());
}

std::span<const StoredBar> BarStore::range(uint32_t index, int64_t fromNs, int64_t toNs) const {
  const std::vector<StoredBar>& bars = series_[index];
  auto byMinute = [](const StoredBar& bar, int64_t minute) { return bar.minute < minute; };
  auto first = std::lower_bound(bars.begin(), bars.end(), firstMinuteAtOrAfter(fromNs), byMinute);
  auto last = std::lower_bound(first, bars.end(), firstMinuteAtOrAfter(toNs), byMinute);
  return {first, last};
}

uint32_t BarStoreBuilder::intern(std::string_view symbol) {
  auto it = index_.find(symbol);
  if (it != index_.end()) return it->second;
  auto index = static_cast<uint32_t>(symbols_.size());
  index_.emplace(std::string(symbol), index);
  symbols_.emplace_back(symbol);
  series_.emplace_back();
  return index;
}

void BarStoreBuilder::append(uint32_t symbol, std::vector<StoredBar>&& bars) {
  std::vector<StoredBar>& series = series_[symbol];
  if (series.empty()) {
    series = std::move(bars);
  } else {
    series.insert(series.end(), bars.begin(), bars.end());
  }
}

void BarStoreBuilder::take(BarStoreBuilder&& other) {
  for (size_t i = 0; i < other.symbols_.size(); ++i) append(intern(other.symbols_[i]), std::move(other.series_[i]));
  other = BarStoreBuilder();
}

BarStore BarStoreBuilder::build() && {
  std::vector<uint32_t> order(symbols_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return symbols_[a] < symbols_[b]; });

  BarStore store;
  store.symbols_.reserve(order.size());
  store.series_.reserve(order.size());
  for (uint32_t index : order) {
    std::vector<StoredBar>& bars = series_[index];
    auto earlier = [](const StoredBar& a, const StoredBar& b) { return a.minute < b.minute; };
    // Files usually arrive in time order; only interleaved ones need the sort.
    if (!std::is_sorted(bars.begin(), bars.end(), earlier)) std::stable_sort(bars.begin(), bars.end(), earlier);
    if (bars.capacity() > bars.size() + bars.size() / 8) bars.shrink_to_fit();
    store.barCount_ += bars.size();
    store.symbols_.push_back(std::move(symbols_[index]));
    store.series_.push_back(std::move(bars));
  }
  index_.clear();
  return store;
}

MergedCursor::MergedCursor(const BarStore& store) : store_(store) {
  for (uint32_t symbol = 0; symbol < store.symbolCount(); ++symbol) {
    if (!store.series(symbol).empty()) heap_.push_back({store.series(symbol)[0].minute, symbol, 0});
  }
  std::make_heap(heap_.begin(), heap_.end(), later);
}

std::optional<MergedCursor::Entry> MergedCursor::next() {
  if (heap_.empty()) return std::nullopt;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Head& head = heap_.back();
  std::span<const StoredBar> bars = store_.series(head.symbol);
  Entry entry{head.symbol, &bars[head.position]};
  if (++head.position < bars.size()) {
    head.minute = bars[head.position].minute;
    std::push_heap(heap_.begin(), heap_.end(), later);
  } else {
    heap_.pop_back();
  }
  return entry;
}

}  // namespace th::replay
