// A bounded, time-ordered series of candles for one (symbol, timeframe)
// that keeps the newest `capacity` candles, compactly.
//
// A chart host keeps thousands of symbols in eight timeframes, thousands of
// candles each, and a `Candle` is 56 bytes; almost all of them are old and
// never change again. So the newest candles stay uncompressed (the newest
// in the object, the few before it in a small ring), where the live feed
// appends and updates them in O(1), and older ones are sealed
// `kBlockCandles` at a time into compressed blocks (see candle_series.cpp
// for the format) at about a fifth of the size. Compression is exact: a
// value that cannot be encoded bit for bit is stored raw, so a candle always
// reads back as it was written.
//
// Reading a candle in a sealed block decodes the block; the last decoded
// blocks are cached per thread, so a scan costs one decode per block.
// Because candles are decoded on demand, at() and find() return values, not
// references into storage; back() is never compressed and stays a
// reference. Dropping the oldest candle at capacity is O(1), sealing a
// block is amortised O(1) per append, and a backfill that inserts or
// replaces a candle in a sealed block re-encodes that one block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "chart/candle.h"

namespace th {

class CandleSeries {
 public:
  // Candles per sealed block: big enough that a block's header and
  // bookkeeping are a small share of it, small enough to decode quickly.
  static constexpr size_t kBlockCandles = 32;
  // Candles that stay uncompressed after a seal, the newest included, so
  // that the minutes just before the newest (closed, repaired, folded into
  // derived candles) are still cheap to read and change.
  static constexpr size_t kHeadKeep = 4;
  // Backfill inserts grow a block; past this it is split in two.
  static constexpr size_t kMaxBlockCandles = 2 * kBlockCandles;

  explicit CandleSeries(size_t capacity);
  CandleSeries(const CandleSeries& other);
  CandleSeries& operator=(const CandleSeries& other);
  CandleSeries(CandleSeries&&) noexcept = default;
  CandleSeries& operator=(CandleSeries&&) noexcept = default;
  ~CandleSeries();

  size_t size() const { return sealed_size_ + ring_size_ + (has_newest_ ? 1 : 0); }
  size_t capacity() const { return capacity_; }
  bool empty() const { return !has_newest_; }
  bool full() const { return size() == capacity_; }

  // 0 is the oldest retained candle, size()-1 the newest.
  Candle at(size_t index) const;
  const Candle& back() const { return newest_; }
  // The newest candle, to update in place; its start must not change.
  Candle& back() { return newest_; }
  Candle front() const { return at(0); }

  // A candle later than every other; at capacity the oldest is dropped.
  void append(const Candle& candle);
  // Replaces the newest candle (same start).
  void replaceBack(const Candle& candle) { newest_ = candle; }

  enum class Upsert { Inserted, Replaced, TooOld };
  // Inserts or replaces the candle with this start wherever it belongs.
  // Refuses (TooOld) a candle older than the oldest one when the series is
  // full: keeping it would push out a newer one.
  Upsert upsert(const Candle& candle);

  // Index of the first candle starting at or after `start_ns` (size() if none).
  size_t lowerBound(int64_t start_ns) const;
  std::optional<Candle> find(int64_t start_ns) const;
  // front().start_ns <= start_ns, mostly without decoding anything.
  bool oldestAtOrBefore(int64_t start_ns) const;

  // Calls fn(candle) for candles with start in [from_ns, to_ns), oldest first.
  template <typename Fn>
  void forRange(int64_t from_ns, int64_t to_ns, Fn&& fn) const {
    for (size_t i = lowerBound(from_ns), n = size(); i < n; ++i) {
      const Candle candle = at(i);
      if (candle.start_ns >= to_ns) break;
      fn(candle);
    }
  }

  // Heap and object bytes this series holds.
  size_t memoryBytes() const;

 private:
  struct Block {
    std::unique_ptr<uint8_t[]> bytes;
    int64_t first_start = 0;  // of its first candle, skipped or not
    uint64_t id = 0;          // never reused: keys the per-thread decode cache
    uint32_t first = 0;       // its first candle's position among all blocks' candles, skipped ones included
    uint16_t size = 0;        // encoded bytes
    uint8_t count = 0;
  };

  size_t ringSlot(size_t index) const {
    size_t slot = ring_first_ + index;
    return slot >= ring_allocated_ ? slot - ring_allocated_ : slot;
  }
  const Candle& ringAt(size_t index) const { return ring_[ringSlot(index)]; }
  // Makes room for one more candle in the ring, growing it or sealing its oldest.
  void roomInRing();
  void seal();
  void dropOldest();
  void renumberBlocks();
  // The block holding position `position` (skipped candles counted).
  size_t blockAt(size_t position) const;
  // The candles of block k, from the decode cache (valid until the next decode).
  const Candle* decoded(size_t k) const;
  Block encode(const Candle* candles, size_t count) const;
  // Re-encodes block k from `candles` (splitting it if it grew too big).
  void rewriteBlock(size_t k, std::vector<Candle>& candles);
  void insertAt(size_t index, const Candle& candle);

  // The newest candle is kept in the object itself: the live feed changes
  // it with every trade, and its owner's other hot fields are next to it.
  Candle newest_{};
  bool has_newest_ = false;
  uint32_t ring_capacity_;  // the most the ring ever holds
  uint32_t ring_allocated_ = 0;
  uint32_t ring_first_ = 0;  // slot of the oldest ring candle
  uint32_t ring_size_ = 0;
  uint32_t front_skip_ = 0;  // candles of blocks_.front() already dropped
  size_t capacity_;
  size_t sealed_size_ = 0;          // retained candles in blocks
  std::unique_ptr<Candle[]> ring_;  // the candles between the blocks and the newest
  std::vector<Block> blocks_;       // oldest first
};

}  // namespace th
