#include "chart/candle_series.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace th {
namespace {

// A sealed block, byte by byte:
//
//   layout    bits: flags uniform, OHLC ordered, prices raw, volumes raw
//   decimals  price decimals (low nibble) and volume decimals (high nibble)
//   unit      index into kUnits: what start deltas count
//   [flags]   when every candle has the same flags
//   per candle:
//     start   (not for the first: Block::first_start) varint, delta from the previous in `unit`s
//     prices  open as a zig-zag delta from the previous close, close as one
//             from the open; then, when ordered, high above max(open, close)
//             and low below min(open, close) as varints, else high and low as
//             zig-zag deltas from the open. All in ticks of 10^-decimals.
//             Raw: the four doubles.
//     volume  varint in ticks of 10^-decimals, or the raw double
//     trades  varint
//     [flags] when not uniform
//
// Prices are market prices on a decimal grid, so a block of them is a run
// of small integers once the grid is known; the grid is the fewest
// decimals (0 to 8) at which every price of the block converts to an
// integer and back bit for bit. A block holding a price or a volume that is
// on no such grid (a computed average, 0.1 + 0.2, a negative zero) keeps
// that column raw: a stored candle reads back exactly, always.

constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
constexpr int kMaxDecimals = 8;
constexpr int kNoDecimals = kMaxDecimals + 1;
constexpr uint64_t kUnits[] = {kNsPerMinute, 1'000'000'000, 1'000'000, 1'000, 1};

// The largest unit dividing `delta`, with constant divisors: a division by
// a variable is the slowest instruction there is.
size_t unitOf(uint64_t delta) {
  if (delta % kUnits[0] == 0) return 0;
  if (delta % kUnits[1] == 0) return 1;
  if (delta % kUnits[2] == 0) return 2;
  if (delta % kUnits[3] == 0) return 3;
  return 4;
}

uint64_t inUnits(uint64_t delta, size_t unit) {
  switch (unit) {
    case 0:
      return delta / kUnits[0];
    case 1:
      return delta / kUnits[1];
    case 2:
      return delta / kUnits[2];
    case 3:
      return delta / kUnits[3];
    default:
      return delta;
  }
}

// Integers beyond 2^53 are not all doubles; below it, tick deltas cannot overflow.
constexpr double kMaxTicks = 9007199254740992.0;

enum Layout : uint8_t { kUniformFlags = 1, kOrdered = 2, kRawPrices = 4, kRawVolume = 8 };

// The most bytes a candle can take: a 10-byte start, four raw prices, a raw
// volume, a 5-byte trade count and its flags.
constexpr size_t kMaxCandleBytes = 10 + 32 + 8 + 5 + 1;
constexpr size_t kMaxHeaderBytes = 4;

std::atomic<uint64_t> next_block_id{1};

bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

double fromTicks(int64_t ticks, int decimals) {
  // Dividing by 1 changes nothing, and integers (volumes, mostly) are common.
  return decimals == 0 ? static_cast<double>(ticks) : static_cast<double>(ticks) / kPow10[decimals];
}

// The integer nearest to `value`, any integer at all when there is none in
// range: the caller checks the result. One instruction on x86-64, where a
// C++ conversion needs a range check first to stay defined.
int64_t nearestInteger(double value) {
#if defined(__SSE2__)
  return _mm_cvtsd_si64(_mm_set_sd(value));
#else
  return std::fabs(value) < kMaxTicks ? static_cast<int64_t>(value + std::copysign(0.5, value)) : 0;
#endif
}

// `value` as a whole number of 10^-decimals, when that reads back bit for
// bit. Without branches: a block's worth of these is most of what sealing
// costs, and the outcome is almost always the same.
bool toTicks(double value, int decimals, int64_t& ticks) {
  double scaled = value * kPow10[decimals];
  ticks = nearestInteger(scaled);
  // Dividing by 1 changes nothing, so fromTicks() reads this back the same.
  return (std::fabs(scaled) < kMaxTicks) & sameBits(static_cast<double>(ticks) / kPow10[decimals], value);
}

// The fewest decimals, `at_least` or more, at which `value` is exact.
int decimalsFor(double value, int at_least) {
  int64_t ticks = 0;
  int decimals = at_least;
  while (decimals <= kMaxDecimals && !toTicks(value, decimals, ticks)) ++decimals;
  return decimals;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

uint8_t* putVarint(uint8_t* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}

uint64_t getVarint(const uint8_t*& in) {
  uint64_t v = *in++;
  if (v < 0x80) return v;
  v &= 0x7f;
  for (int shift = 7;; shift += 7) {
    uint64_t byte = *in++;
    v |= (byte & 0x7f) << shift;
    if (byte < 0x80) return v;
  }
}

uint8_t* putDouble(uint8_t* out, double v) {
  std::memcpy(out, &v, sizeof v);
  return out + sizeof v;
}

double getDouble(const uint8_t*& in) {
  double v;
  std::memcpy(&v, in, sizeof v);
  in += sizeof v;
  return v;
}

struct Ticks {
  int64_t open, high, low, close;
};

// The four prices of every candle in ticks of the fewest decimals that
// hold them all exactly; kNoDecimals when none does. One pass in the usual
// case: the first candle's decimals are the first guess.
int priceTicks(const Candle* candles, size_t count, Ticks* ticks) {
  int decimals = 0;
  for (double price : {candles[0].open, candles[0].high, candles[0].low, candles[0].close}) {
    decimals = decimalsFor(price, decimals);
  }
  while (decimals <= kMaxDecimals) {
    size_t failed = count;
    for (size_t i = 0; i < count; ++i) {
      const Candle& c = candles[i];
      Ticks& t = ticks[i];
      bool exact = toTicks(c.open, decimals, t.open) & toTicks(c.high, decimals, t.high) &
                   toTicks(c.low, decimals, t.low) & toTicks(c.close, decimals, t.close);
      if (!exact && failed == count) failed = i;
    }
    if (failed == count) break;
    // A price finer than the guess: start over at its decimals, which only
    // grow, so this ends.
    const Candle& c = candles[failed];
    for (double price : {c.open, c.high, c.low, c.close}) decimals = decimalsFor(price, decimals);
  }
  return decimals;
}

int volumeTicks(const Candle* candles, size_t count, int64_t* ticks) {
  int decimals = 0;
  while (decimals <= kMaxDecimals) {
    size_t failed = count;
    for (size_t i = 0; i < count; ++i) {
      bool exact = (candles[i].volume >= 0) & toTicks(candles[i].volume, decimals, ticks[i]);
      if (!exact && failed == count) failed = i;
    }
    if (failed == count) break;
    double volume = candles[failed].volume;
    decimals = volume >= 0 ? decimalsFor(volume, decimals + 1) : kNoDecimals;
  }
  return decimals;
}

// Encodes `count` candles (1 to kMaxBlockCandles) into `out`; returns the bytes written.
size_t encodeCandles(const Candle* candles, size_t count, uint8_t* out) {
  uint8_t layout = kUniformFlags | kOrdered;
  size_t unit = 0;
  for (size_t i = 1; i < count; ++i) {
    if (candles[i].flags != candles[0].flags) layout &= static_cast<uint8_t>(~kUniformFlags);
    uint64_t delta = static_cast<uint64_t>(candles[i].start_ns) - static_cast<uint64_t>(candles[i - 1].start_ns);
    unit = std::max(unit, unitOf(delta));
  }
  Ticks ticks[CandleSeries::kMaxBlockCandles];
  int price_decimals = priceTicks(candles, count, ticks);
  int64_t volume_ticks[CandleSeries::kMaxBlockCandles];
  int volume_decimals = volumeTicks(candles, count, volume_ticks);
  if (price_decimals == kNoDecimals) {
    layout = static_cast<uint8_t>((layout | kRawPrices) & ~kOrdered);
    price_decimals = 0;
  } else {
    for (size_t i = 0; i < count; ++i) {
      const Ticks& t = ticks[i];
      if (t.low > std::min(t.open, t.close) || t.high < std::max(t.open, t.close)) {
        layout &= static_cast<uint8_t>(~kOrdered);
        break;
      }
    }
  }
  bool raw_volume = volume_decimals == kNoDecimals;
  if (raw_volume) {
    layout |= kRawVolume;
    volume_decimals = 0;
  }

  uint8_t* p = out;
  *p++ = layout;
  *p++ = static_cast<uint8_t>(price_decimals | (volume_decimals << 4));
  *p++ = static_cast<uint8_t>(unit);
  if (layout & kUniformFlags) *p++ = candles[0].flags;
  int64_t previous_close = 0;
  for (size_t i = 0; i < count; ++i) {
    const Candle& c = candles[i];
    if (i > 0) {
      uint64_t delta = static_cast<uint64_t>(c.start_ns) - static_cast<uint64_t>(candles[i - 1].start_ns);
      p = putVarint(p, inUnits(delta, unit));
    }
    if (layout & kRawPrices) {
      for (double price : {c.open, c.high, c.low, c.close}) p = putDouble(p, price);
    } else {
      const Ticks& t = ticks[i];
      p = putVarint(p, zigzag(t.open - previous_close));
      p = putVarint(p, zigzag(t.close - t.open));
      if (layout & kOrdered) {
        p = putVarint(p, static_cast<uint64_t>(t.high - std::max(t.open, t.close)));
        p = putVarint(p, static_cast<uint64_t>(std::min(t.open, t.close) - t.low));
      } else {
        p = putVarint(p, zigzag(t.high - t.open));
        p = putVarint(p, zigzag(t.open - t.low));
      }
      previous_close = t.close;
    }
    p = raw_volume ? putDouble(p, c.volume) : putVarint(p, static_cast<uint64_t>(volume_ticks[i]));
    p = putVarint(p, c.trades);
    if (!(layout & kUniformFlags)) *p++ = c.flags;
  }
  return static_cast<size_t>(p - out);
}

void decodeCandles(const uint8_t* p, size_t count, int64_t first_start, Candle* out) {
  uint8_t layout = *p++;
  int price_decimals = *p & 0x0f;
  int volume_decimals = *p++ >> 4;
  uint64_t unit = kUnits[*p++];
  uint8_t flags = (layout & kUniformFlags) ? *p++ : 0;
  uint64_t start = static_cast<uint64_t>(first_start);
  int64_t previous_close = 0;
  for (size_t i = 0; i < count; ++i) {
    Candle& c = out[i];
    if (i > 0) start += getVarint(p) * unit;
    c.start_ns = static_cast<int64_t>(start);
    if (layout & kRawPrices) {
      c.open = getDouble(p);
      c.high = getDouble(p);
      c.low = getDouble(p);
      c.close = getDouble(p);
    } else {
      int64_t open = previous_close + unzigzag(getVarint(p));
      int64_t close = open + unzigzag(getVarint(p));
      int64_t high, low;
      if (layout & kOrdered) {
        high = std::max(open, close) + static_cast<int64_t>(getVarint(p));
        low = std::min(open, close) - static_cast<int64_t>(getVarint(p));
      } else {
        high = open + unzigzag(getVarint(p));
        low = open - unzigzag(getVarint(p));
      }
      c.open = fromTicks(open, price_decimals);
      c.high = fromTicks(high, price_decimals);
      c.low = fromTicks(low, price_decimals);
      c.close = fromTicks(close, price_decimals);
      previous_close = close;
    }
    c.volume = (layout & kRawVolume) ? getDouble(p) : fromTicks(static_cast<int64_t>(getVarint(p)), volume_decimals);
    c.trades = static_cast<uint32_t>(getVarint(p));
    c.flags = (layout & kUniformFlags) ? flags : *p++;
  }
}

// The blocks decoded last on this thread. Block ids are never reused, so an
// entry cannot describe a block that has since changed or gone: a change
// re-encodes a block under a new id.
struct DecodeCache {
  uint64_t id[2] = {0, 0};
  unsigned victim = 0;
  Candle candles[2][CandleSeries::kMaxBlockCandles];
};

DecodeCache& decodeCache() {
  thread_local DecodeCache cache;
  return cache;
}

}  // namespace

static_assert(CandleSeries::kHeadKeep >= 2, "the ring must keep a candle after a seal");
static_assert(CandleSeries::kMaxBlockCandles <= 255, "Block::count is a byte");

CandleSeries::CandleSeries(size_t capacity)
    : ring_capacity_(static_cast<uint32_t>(std::min(std::max<size_t>(capacity, 1) - 1, kBlockCandles + kHeadKeep - 1))),
      capacity_(std::max<size_t>(capacity, 1)) {}

CandleSeries::CandleSeries(const CandleSeries& other)
    : newest_(other.newest_),
      has_newest_(other.has_newest_),
      ring_capacity_(other.ring_capacity_),
      ring_allocated_(other.ring_allocated_),
      ring_first_(other.ring_first_),
      ring_size_(other.ring_size_),
      front_skip_(other.front_skip_),
      capacity_(other.capacity_),
      sealed_size_(other.sealed_size_) {
  if (ring_allocated_) {
    ring_ = std::make_unique<Candle[]>(ring_allocated_);
    std::copy(other.ring_.get(), other.ring_.get() + ring_allocated_, ring_.get());
  }
  blocks_.reserve(other.blocks_.capacity());
  for (const Block& block : other.blocks_) {
    // Same bytes, so the same id: a cached decode of one is right for the other.
    Block copy{std::make_unique_for_overwrite<uint8_t[]>(block.size),
               block.first_start,
               block.id,
               block.first,
               block.size,
               block.count};
    std::memcpy(copy.bytes.get(), block.bytes.get(), block.size);
    blocks_.push_back(std::move(copy));
  }
}

CandleSeries& CandleSeries::operator=(const CandleSeries& other) {
  if (this != &other) *this = CandleSeries(other);
  return *this;
}

CandleSeries::~CandleSeries() = default;

void CandleSeries::roomInRing() {
  if (ring_size_ < ring_allocated_) return;
  if (ring_allocated_ < ring_capacity_) {
    uint32_t grown = std::min(ring_capacity_, std::max<uint32_t>(8, ring_allocated_ * 2));
    auto slots = std::make_unique<Candle[]>(grown);
    for (size_t i = 0; i < ring_size_; ++i) slots[i] = ringAt(i);
    ring_ = std::move(slots);
    ring_allocated_ = grown;
    ring_first_ = 0;
    return;
  }
  // Callers make room for the candle first when the series is full, so a
  // full ring here means the series is bigger than what stays uncompressed.
  assert(capacity_ - 1 > ring_capacity_);
  seal();
}

CandleSeries::Block CandleSeries::encode(const Candle* candles, size_t count) const {
  assert(count > 0 && count <= kMaxBlockCandles);
  uint8_t scratch[kMaxHeaderBytes + kMaxBlockCandles * kMaxCandleBytes];
  size_t size = encodeCandles(candles, count, scratch);
  Block block;
  block.bytes = std::make_unique_for_overwrite<uint8_t[]>(size);
  std::memcpy(block.bytes.get(), scratch, size);
  block.first_start = candles[0].start_ns;
  block.id = next_block_id.fetch_add(1, std::memory_order_relaxed);
  block.size = static_cast<uint16_t>(size);
  block.count = static_cast<uint8_t>(count);
  return block;
}

void CandleSeries::seal() {
  Candle copy[kBlockCandles];
  const Candle* oldest = &ring_[ring_first_];
  if (ring_first_ + kBlockCandles > ring_allocated_) {
    for (size_t i = 0; i < kBlockCandles; ++i) copy[i] = ringAt(i);
    oldest = copy;
  }
  // Sized once for a full series, so that sealing does not reallocate.
  if (blocks_.empty()) blocks_.reserve(capacity_ / kBlockCandles + 2);
  Block block = encode(oldest, kBlockCandles);
  block.first = blocks_.empty() ? 0 : blocks_.back().first + blocks_.back().count;
  blocks_.push_back(std::move(block));
  ring_first_ = static_cast<uint32_t>(ringSlot(kBlockCandles));
  ring_size_ -= kBlockCandles;
  sealed_size_ += kBlockCandles;
}

void CandleSeries::dropOldest() {
  if (blocks_.empty()) {
    if (ring_size_ > 0) {
      ring_first_ = static_cast<uint32_t>(ringSlot(1));
      --ring_size_;
    } else {
      has_newest_ = false;
    }
    return;
  }
  --sealed_size_;
  // The block stays as it is until its last candle goes: dropping one
  // candle must not cost a re-encode.
  if (++front_skip_ == blocks_.front().count) {
    blocks_.erase(blocks_.begin());
    front_skip_ = 0;
    renumberBlocks();
  }
}

void CandleSeries::renumberBlocks() {
  uint32_t first = 0;
  for (Block& block : blocks_) {
    block.first = first;
    first += block.count;
  }
}

size_t CandleSeries::blockAt(size_t position) const {
  // Blocks hold kBlockCandles each unless a backfill changed them, so the
  // guess is almost always right.
  size_t k = std::min(position / kBlockCandles, blocks_.size() - 1);
  while (blocks_[k].first > position) --k;
  while (k + 1 < blocks_.size() && blocks_[k + 1].first <= position) ++k;
  return k;
}

const Candle* CandleSeries::decoded(size_t k) const {
  DecodeCache& cache = decodeCache();
  const Block& block = blocks_[k];
  for (unsigned slot = 0; slot < 2; ++slot) {
    if (cache.id[slot] == block.id) {
      cache.victim = slot ^ 1;
      return cache.candles[slot];
    }
  }
  unsigned slot = cache.victim;
  cache.victim = slot ^ 1;
  decodeCandles(block.bytes.get(), block.count, block.first_start, cache.candles[slot]);
  cache.id[slot] = block.id;
  return cache.candles[slot];
}

Candle CandleSeries::at(size_t index) const {
  assert(index < size());
  if (index >= sealed_size_) {
    size_t offset = index - sealed_size_;
    return offset < ring_size_ ? ringAt(offset) : newest_;
  }
  size_t position = index + front_skip_;
  size_t k = blockAt(position);
  return decoded(k)[position - blocks_[k].first];
}

void CandleSeries::append(const Candle& candle) {
  assert(empty() || candle.start_ns > back().start_ns);
  if (has_newest_) {
    if (full()) dropOldest();
    // Unless that was the newest itself (a capacity of one), it moves back.
    if (has_newest_) {
      roomInRing();
      ring_[ringSlot(ring_size_)] = newest_;
      ++ring_size_;
    }
  }
  newest_ = candle;
  has_newest_ = true;
}

size_t CandleSeries::lowerBound(int64_t start_ns) const {
  size_t n = size();
  if (n == 0 || start_ns > newest_.start_ns) return n;
  // Blocks exist only behind a non-empty ring (kHeadKeep), so an empty
  // ring means the newest is the only candle.
  if (ring_size_ == 0 || start_ns > ringAt(ring_size_ - 1).start_ns) return n - 1;
  if (blocks_.empty() || start_ns >= ringAt(0).start_ns) {
    // Most lookups are for the newest few candles: look there first.
    for (size_t i = ring_size_ - 1, steps = 0; i > 0 && steps < 4; --i, ++steps) {
      if (ringAt(i - 1).start_ns < start_ns) return sealed_size_ + i;
    }
    size_t lo = 0, hi = ring_size_;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (ringAt(mid).start_ns < start_ns) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return sealed_size_ + lo;
  }
  // The last block starting before `start_ns`; the first block is the
  // answer when none does (its skipped candles make its own start moot).
  auto after = std::partition_point(blocks_.begin() + 1, blocks_.end(),
                                    [&](const Block& block) { return block.first_start < start_ns; });
  size_t k = static_cast<size_t>(after - blocks_.begin()) - 1;
  const Candle* candles = decoded(k);
  const Candle* end = candles + blocks_[k].count;
  const Candle* found = std::partition_point(candles + (k == 0 ? front_skip_ : 0), end,
                                             [&](const Candle& c) { return c.start_ns < start_ns; });
  if (found != end) return blocks_[k].first + static_cast<size_t>(found - candles) - front_skip_;
  return k + 1 < blocks_.size() ? blocks_[k + 1].first - front_skip_ : sealed_size_;
}

std::optional<Candle> CandleSeries::find(int64_t start_ns) const {
  if (empty() || start_ns > newest_.start_ns) return std::nullopt;
  if (start_ns == newest_.start_ns) return newest_;
  size_t index = lowerBound(start_ns);
  Candle candle = at(index);  // index < size(): the newest starts after start_ns
  if (candle.start_ns != start_ns) return std::nullopt;
  return candle;
}

bool CandleSeries::oldestAtOrBefore(int64_t start_ns) const {
  if (empty()) return false;
  if (blocks_.empty()) return (ring_size_ > 0 ? ringAt(0) : newest_).start_ns <= start_ns;
  // Any block after the first starts after the oldest candle.
  if (blocks_.size() > 1 && blocks_[1].first_start <= start_ns) return true;
  if (front_skip_ == 0) return blocks_[0].first_start <= start_ns;
  return front().start_ns <= start_ns;
}

void CandleSeries::rewriteBlock(size_t k, std::vector<Candle>& candles) {
  if (k == 0 && front_skip_ > 0) {
    // Dropped candles go for good now, since the block is re-encoded anyway.
    candles.erase(candles.begin(), candles.begin() + front_skip_);
    front_skip_ = 0;
  }
  if (candles.size() <= kMaxBlockCandles) {
    blocks_[k] = encode(candles.data(), candles.size());
  } else {
    size_t half = candles.size() / 2;
    blocks_[k] = encode(candles.data(), half);
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(k) + 1,
                   encode(candles.data() + half, candles.size() - half));
  }
  renumberBlocks();
}

void CandleSeries::insertAt(size_t index, const Candle& candle) {
  // `index` is before the newest, which starts after `candle`, and the
  // series is not full.
  if (index >= sealed_size_) roomInRing();
  if (index >= sealed_size_) {
    size_t offset = index - sealed_size_;
    for (size_t i = ring_size_; i > offset; --i) ring_[ringSlot(i)] = ring_[ringSlot(i - 1)];
    ring_[ringSlot(offset)] = candle;
    ++ring_size_;
    return;
  }
  size_t position = index + front_skip_;
  size_t k = blockAt(position);
  const Candle* old = decoded(k);
  std::vector<Candle> candles(old, old + blocks_[k].count);
  candles.insert(candles.begin() + static_cast<ptrdiff_t>(position - blocks_[k].first), candle);
  ++sealed_size_;
  rewriteBlock(k, candles);
}

CandleSeries::Upsert CandleSeries::upsert(const Candle& candle) {
  if (empty() || candle.start_ns > newest_.start_ns) {
    append(candle);
    return Upsert::Inserted;
  }
  if (candle.start_ns == newest_.start_ns) {
    newest_ = candle;
    return Upsert::Replaced;
  }
  size_t index = lowerBound(candle.start_ns);
  if (at(index).start_ns == candle.start_ns) {
    if (index >= sealed_size_) {
      ring_[ringSlot(index - sealed_size_)] = candle;
    } else {
      size_t position = index + front_skip_;
      size_t k = blockAt(position);
      const Candle* old = decoded(k);
      std::vector<Candle> candles(old, old + blocks_[k].count);
      candles[position - blocks_[k].first] = candle;
      rewriteBlock(k, candles);
    }
    return Upsert::Replaced;
  }
  if (full()) {
    if (index == 0) return Upsert::TooOld;
    dropOldest();
    --index;
  }
  insertAt(index, candle);
  return Upsert::Inserted;
}

size_t CandleSeries::memoryBytes() const {
  size_t bytes = sizeof(*this) + ring_allocated_ * sizeof(Candle) + blocks_.capacity() * sizeof(Block);
  for (const Block& block : blocks_) bytes += block.size;
  return bytes;
}

}  // namespace th
