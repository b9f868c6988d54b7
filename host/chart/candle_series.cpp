#include "chart/candle_series.h"

#include <algorithm>
#include <cassert>

namespace th {

CandleSeries::CandleSeries(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {}

void CandleSeries::append(const Candle& candle) {
  assert(empty() || candle.start_ns > back().start_ns);
  if (full()) {
    slots_[head_] = candle;
    head_ = physical(1);
    return;
  }
  ++size_;
  slots_[physical(size_ - 1)] = candle;
}

size_t CandleSeries::lowerBound(int64_t start_ns) const {
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).start_ns < start_ns) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

const Candle* CandleSeries::find(int64_t start_ns) const {
  size_t index = lowerBound(start_ns);
  if (index == size_ || at(index).start_ns != start_ns) return nullptr;
  return &at(index);
}

CandleSeries::Upsert CandleSeries::upsert(const Candle& candle) {
  if (empty() || candle.start_ns > back().start_ns) {
    append(candle);
    return Upsert::Inserted;
  }
  size_t index = lowerBound(candle.start_ns);
  if (index < size_ && at(index).start_ns == candle.start_ns) {
    slots_[physical(index)] = candle;
    return Upsert::Replaced;
  }
  if (full()) {
    if (index == 0) return Upsert::TooOld;
    // Drop the oldest, then shift the older part down by one to open a slot
    // just before `index` (which moves down with it).
    for (size_t i = 0; i + 1 < index; ++i) slots_[physical(i)] = slots_[physical(i + 1)];
    slots_[physical(index - 1)] = candle;
    return Upsert::Inserted;
  }
  ++size_;
  for (size_t i = size_ - 1; i > index; --i) slots_[physical(i)] = slots_[physical(i - 1)];
  slots_[physical(index)] = candle;
  return Upsert::Inserted;
}

}  // namespace th
