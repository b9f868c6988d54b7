// A bounded, time-ordered series of candles for one (symbol, timeframe):
// a ring buffer that keeps the newest `capacity` candles. Appending a new
// candle and updating the newest one are O(1) and never allocate; a
// backfill that inserts or replaces an older candle is O(n) in the candles
// after it, which is rare and bounded by the capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "chart/candle.h"

namespace th {

class CandleSeries {
 public:
  explicit CandleSeries(size_t capacity);

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == slots_.size(); }

  // 0 is the oldest retained candle, size()-1 the newest.
  const Candle& at(size_t index) const { return slots_[physical(index)]; }
  const Candle& back() const { return at(size_ - 1); }
  const Candle& front() const { return at(0); }

  // A candle later than every other; at capacity the oldest is dropped.
  void append(const Candle& candle);
  // Replaces the newest candle (same start).
  void replaceBack(const Candle& candle) { slots_[physical(size_ - 1)] = candle; }

  enum class Upsert { Inserted, Replaced, TooOld };
  // Inserts or replaces the candle with this start wherever it belongs.
  // Refuses (TooOld) a candle older than the oldest one when the series is
  // full: keeping it would push out a newer one.
  Upsert upsert(const Candle& candle);

  // Index of the first candle starting at or after `start_ns` (size() if none).
  size_t lowerBound(int64_t start_ns) const;
  const Candle* find(int64_t start_ns) const;

  // Calls fn(candle) for candles with start in [from_ns, to_ns), oldest first.
  template <typename Fn>
  void forRange(int64_t from_ns, int64_t to_ns, Fn&& fn) const {
    for (size_t i = lowerBound(from_ns); i < size_; ++i) {
      const Candle& candle = at(i);
      if (candle.start_ns >= to_ns) break;
      fn(candle);
    }
  }

  size_t memoryBytes() const { return sizeof(*this) + slots_.capacity() * sizeof(Candle); }

 private:
  size_t physical(size_t index) const {
    size_t p = head_ + index;
    return p >= slots_.size() ? p - slots_.size() : p;
  }

  std::vector<Candle> slots_;
  size_t head_ = 0;  // physical slot of the oldest candle
  size_t size_ = 0;
};

}  // namespace th
