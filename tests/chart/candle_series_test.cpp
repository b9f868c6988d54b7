// The series behind every chart: a ring of the newest candles in front of
// compressed blocks of older ones. Whatever is stored must read back bit
// for bit, in order, through every way of reading it.
#include "chart/candle_series.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace th {
namespace {

constexpr int64_t kMinute = kNsPerMinute;

Candle c(int64_t start, double close = 1) {
  Candle out;
  out.start_ns = start;
  out.open = out.high = out.low = out.close = close;
  out.volume = 1;
  return out;
}

std::vector<int64_t> starts(const CandleSeries& s) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < s.size(); ++i) out.push_back(s.at(i).start_ns);
  return out;
}

bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

// Every field, doubles compared by their bits: -0.0 is not 0.0 here.
::testing::AssertionResult identical(const Candle& got, const Candle& want) {
  if (got.start_ns == want.start_ns && sameBits(got.open, want.open) && sameBits(got.high, want.high) &&
      sameBits(got.low, want.low) && sameBits(got.close, want.close) && sameBits(got.volume, want.volume) &&
      got.trades == want.trades && got.flags == want.flags) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "start " << got.start_ns << "/" << want.start_ns << " o " << got.open << "/"
                                       << want.open << " h " << got.high << "/" << want.high << " l " << got.low << "/"
                                       << want.low << " c " << got.close << "/" << want.close << " v " << got.volume
                                       << "/" << want.volume << " n " << got.trades << "/" << want.trades << " f "
                                       << int{got.flags} << "/" << int{want.flags};
}

void expectHolds(const CandleSeries& s, const std::vector<Candle>& want) {
  ASSERT_EQ(s.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(identical(s.at(i), want[i])) << "at(" << i << ")";
  size_t i = 0;
  s.forRange(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), [&](const Candle& x) {
    ASSERT_LT(i, want.size());
    EXPECT_TRUE(identical(x, want[i])) << "forRange #" << i;
    ++i;
  });
  EXPECT_EQ(i, want.size());
  for (const Candle& x : want) {
    auto found = s.find(x.start_ns);
    ASSERT_TRUE(found.has_value()) << x.start_ns;
    EXPECT_TRUE(identical(*found, x));
  }
}

// A session's worth of 1-minute candles: prices in cents, integer volumes.
std::vector<Candle> marketMinutes(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> step(-8, 8), wick(0, 6), volume(100, 40000);
  std::vector<Candle> out;
  int64_t cents = 59012;
  int64_t start = 1'763'649'000 * 1'000'000'000LL;
  for (size_t i = 0; i < count; ++i) {
    Candle x;
    x.start_ns = start;
    int64_t open = cents, close = cents + step(rng);
    x.open = static_cast<double>(open) / 100;
    x.close = static_cast<double>(close) / 100;
    x.high = static_cast<double>(std::max(open, close) + wick(rng)) / 100;
    x.low = static_cast<double>(std::min(open, close) - wick(rng)) / 100;
    x.volume = volume(rng);
    x.trades = static_cast<uint32_t>(x.volume / 90) + 1;
    x.flags = kCandleFinal | kCandleLive;
    out.push_back(x);
    cents = close;
    start += (i % 390 == 389) ? 17 * 60 * kMinute + 30 * kMinute : kMinute;  // overnight
  }
  return out;
}

TEST(CandleSeries, KeepsTheNewestAtCapacity) {
  CandleSeries s(3);
  for (int64_t t = 1; t <= 5; ++t) s.append(c(t * 10));
  EXPECT_EQ(starts(s), (std::vector<int64_t>{30, 40, 50}));
  EXPECT_TRUE(s.full());
  s.replaceBack(c(50, 7));
  EXPECT_EQ(s.back().close, 7);
  EXPECT_EQ(s.lowerBound(35), 1u);
  EXPECT_EQ(s.lowerBound(60), 3u);
  EXPECT_EQ(s.find(40)->start_ns, 40);
  EXPECT_FALSE(s.find(45).has_value());
}

TEST(CandleSeries, UpsertInsertsInOrderAndRefusesWhatWouldPushOutNewer) {
  CandleSeries s(4);
  s.append(c(10));
  s.append(c(40));
  EXPECT_EQ(s.upsert(c(20)), CandleSeries::Upsert::Inserted);
  EXPECT_EQ(s.upsert(c(30)), CandleSeries::Upsert::Inserted);
  EXPECT_EQ(s.upsert(c(30, 5)), CandleSeries::Upsert::Replaced);
  EXPECT_EQ(starts(s), (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(s.find(30)->close, 5);
  // Full: an older candle than all is refused; one in the middle pushes out the oldest.
  EXPECT_EQ(s.upsert(c(5)), CandleSeries::Upsert::TooOld);
  EXPECT_EQ(s.upsert(c(25)), CandleSeries::Upsert::Inserted);
  EXPECT_EQ(starts(s), (std::vector<int64_t>{20, 25, 30, 40}));
  EXPECT_EQ(s.upsert(c(50)), CandleSeries::Upsert::Inserted);
  EXPECT_EQ(starts(s), (std::vector<int64_t>{25, 30, 40, 50}));
  std::vector<int64_t> seen;
  s.forRange(26, 50, [&](const Candle& x) { seen.push_back(x.start_ns); });
  EXPECT_EQ(seen, (std::vector<int64_t>{30, 40}));
}

TEST(CandleSeries, WrapsAroundManyTimes) {
  CandleSeries s(7);
  for (int64_t t = 0; t < 1000; ++t) {
    s.append(c(t * 2));
    if (t % 3 == 0 && t > 10) {
      ASSERT_EQ(s.upsert(c(t * 2 - 3)), CandleSeries::Upsert::Inserted);
    }
  }
  auto got = starts(s);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(got.size(), 7u);
  EXPECT_EQ(got.back(), 1998);
}

TEST(CandleSeries, MarketCandlesTakeAFractionOfTheirSize) {
  auto minutes = marketMinutes(2000, 1);
  CandleSeries s(2000);
  for (const Candle& x : minutes) s.append(x);
  expectHolds(s, minutes);
  EXPECT_LT(s.memoryBytes(), 2000 * sizeof(Candle) / 3) << s.memoryBytes() / 2000.0 << " bytes per candle";
}

TEST(CandleSeries, AwkwardValuesReadBackBitForBit) {
  const double max = std::numeric_limits<double>::max();
  const double tiny = std::numeric_limits<double>::denorm_min();
  // Each row goes into candles of its own, so that one odd value cannot
  // hide behind a block that is raw for another reason.
  const std::vector<std::vector<double>> prices = {
      {590.12, 590.13, 590.11, 590.12},                         // cents
      {0.00012345, 0.00012346, 0.00012344, 0.00012345},         // eight decimals
      {123.456789012, 123.456789013, 123.4567, 123.45678},      // more than eight
      {1.0 / 3, 2.0 / 3, 0.1, 0.1 + 0.2},                       // on no decimal grid
      {-0.0, 0.0, -0.0, 0.0},                                   // signed zeros
      {-37.63, -12.5, -40.01, -20},                             // negative prices (spreads, oil 2020)
      {max, max, -max, tiny},                                   // the ends of the range
      {9007199254740992.0, 9007199254740993.0, 1e300, 1e-300},  // past 2^53, and far out
      {100, 50, 200, 75},                                       // high below and low above the body
  };
  const std::vector<double> volumes = {0,    1,   0.5,  12.345,  0.1 + 0.2,  1e15, 9007199254740992.0,
                                       1e20, max, -0.0, 1.0 / 3, 250.0000001};
  std::vector<Candle> want;
  int64_t start = 1'700'000'000'000'000'000;
  for (size_t row = 0; row < prices.size(); ++row) {
    for (size_t v = 0; v < volumes.size(); ++v) {
      Candle x;
      x.start_ns = start;
      x.open = prices[row][0];
      x.high = prices[row][1];
      x.low = prices[row][2];
      x.close = prices[row][3];
      x.volume = volumes[v];
      x.trades = v % 3 == 0 ? std::numeric_limits<uint32_t>::max() : static_cast<uint32_t>(v * 1000);
      x.flags = static_cast<uint8_t>(v % 8);
      want.push_back(x);
      // Gaps of every shape: a minute, a weekend, odd nanoseconds, a second.
      static constexpr int64_t kGaps[] = {kMinute, 65 * 3600 * 1'000'000'000LL, 7, 1'000'000'000, 3 * kMinute};
      start += kGaps[(row + v) % std::size(kGaps)];
    }
  }
  // Whole blocks of a single kind of value, and then all of them mixed.
  for (size_t row = 0; row < prices.size(); ++row) {
    for (size_t i = 0; i < 40; ++i) {
      Candle x = want[row * volumes.size()];
      x.start_ns = start;
      x.volume = volumes[row % volumes.size()];
      want.push_back(x);
      start += kMinute;
    }
  }
  CandleSeries s(want.size());
  for (const Candle& x : want) s.append(x);
  expectHolds(s, want);
}

TEST(CandleSeries, StartsFarApartAndNearTheEndsOfTime) {
  std::vector<Candle> want;
  const std::vector<int64_t> far = {
      std::numeric_limits<int64_t>::min() + 1, -5'000'000'000'000'000'000, -1, 0, 1, 4'000'000'000'000'000'000,
      std::numeric_limits<int64_t>::max() - 1};
  for (int64_t start : far) {
    want.push_back(c(start, 10.25));
  }
  for (int i = 0; i < 40; ++i) want.insert(want.end() - 1, c(want[want.size() - 2].start_ns + kMinute, 10.5 + i));
  CandleSeries s(100);
  for (const Candle& x : want) s.append(x);
  expectHolds(s, want);
}

TEST(CandleSeries, BackfillReplacesAndInsertsInsideSealedBlocks) {
  auto all = marketMinutes(600, 2);
  // Every third minute is missing at first: history fills them in later.
  std::vector<Candle> live, history;
  for (size_t i = 0; i < all.size(); ++i) (i % 3 == 1 ? history : live).push_back(all[i]);
  CandleSeries s(1000);
  for (const Candle& x : live) s.append(x);
  // Replace a sealed candle: a history copy of a partial one.
  Candle repaired = live[5];
  repaired.volume += 17;
  repaired.flags = kCandleFinal | kCandleHistory;
  EXPECT_EQ(s.upsert(repaired), CandleSeries::Upsert::Replaced);
  live[5] = repaired;
  expectHolds(s, live);
  // Fill the gaps, oldest last, so that blocks grow past their size and split.
  std::reverse(history.begin(), history.end());
  for (const Candle& x : history) EXPECT_EQ(s.upsert(x), CandleSeries::Upsert::Inserted);
  for (Candle& x : all) {
    if (x.start_ns == repaired.start_ns) x = repaired;
  }
  expectHolds(s, all);
  // Appending goes on as before.
  Candle next = all.back();
  next.start_ns += kMinute;
  s.append(next);
  all.push_back(next);
  expectHolds(s, all);
}

TEST(CandleSeries, DropsTheOldestAcrossBlockBoundaries) {
  auto all = marketMinutes(1000, 3);
  for (size_t capacity : {1, 2, 35, 36, 37, 68, 69, 100, 129}) {
    CandleSeries s(capacity);
    for (size_t i = 0; i < all.size(); ++i) {
      s.append(all[i]);
      size_t kept = std::min(i + 1, capacity);
      ASSERT_EQ(s.size(), kept) << capacity;
      if (i % 97 == 0 || i + 1 == all.size()) {
        expectHolds(s, std::vector<Candle>(all.begin() + static_cast<ptrdiff_t>(i + 1 - kept),
                                           all.begin() + static_cast<ptrdiff_t>(i + 1)));
      }
    }
    EXPECT_TRUE(identical(s.front(), all[all.size() - capacity]));
    EXPECT_TRUE(identical(s.back(), all.back()));
    EXPECT_TRUE(s.oldestAtOrBefore(all[all.size() - capacity].start_ns));
    EXPECT_FALSE(s.oldestAtOrBefore(all[all.size() - capacity].start_ns - 1));
  }
}

TEST(CandleSeries, FullSeriesTakesBackfillInsideSealedBlocksByDroppingTheOldest) {
  auto all = marketMinutes(300, 4);
  std::vector<Candle> model;
  CandleSeries s(100);
  for (size_t i = 0; i < all.size(); i += 2) s.append(all[i]);
  for (size_t i = 100; i < all.size(); i += 2) model.push_back(all[i]);
  // A gap inside the oldest sealed block: the oldest candle makes room.
  EXPECT_EQ(s.upsert(all[105]), CandleSeries::Upsert::Inserted);
  model.erase(model.begin());
  model.insert(std::lower_bound(model.begin(), model.end(), all[105],
                                [](const Candle& a, const Candle& b) { return a.start_ns < b.start_ns; }),
               all[105]);
  expectHolds(s, model);
  EXPECT_EQ(s.upsert(all[101]), CandleSeries::Upsert::TooOld);
}

TEST(CandleSeries, CopiesAreIndependent) {
  auto all = marketMinutes(200, 5);
  CandleSeries s(150);
  for (const Candle& x : all) s.append(x);
  CandleSeries copy = s;
  Candle changed = all[100];
  changed.close += 1;
  s.upsert(changed);
  expectHolds(copy, std::vector<Candle>(all.begin() + 50, all.end()));
  EXPECT_EQ(s.find(changed.start_ns)->close, changed.close);
}

// The reference: the obvious sorted vector with the same rules.
class ModelSeries {
 public:
  explicit ModelSeries(size_t capacity) : capacity_(capacity) {}
  std::vector<Candle> candles;

  void append(const Candle& x) {
    candles.push_back(x);
    if (candles.size() > capacity_) candles.erase(candles.begin());
  }
  CandleSeries::Upsert upsert(const Candle& x) {
    auto it = std::lower_bound(candles.begin(), candles.end(), x.start_ns,
                               [](const Candle& a, int64_t t) { return a.start_ns < t; });
    if (it != candles.end() && it->start_ns == x.start_ns) {
      *it = x;
      return CandleSeries::Upsert::Replaced;
    }
    if (candles.size() == capacity_) {
      if (it == candles.begin()) return CandleSeries::Upsert::TooOld;
      auto index = it - candles.begin();
      candles.erase(candles.begin());
      it = candles.begin() + index - 1;
    }
    candles.insert(it, x);
    return CandleSeries::Upsert::Inserted;
  }

 private:
  size_t capacity_;
};

class CandleSeriesRandom : public ::testing::TestWithParam<uint64_t> {};

TEST_P(CandleSeriesRandom, BehavesLikeASortedVector) {
  std::mt19937_64 rng(GetParam());
  std::uniform_real_distribution<double> unit(0, 1);
  static constexpr size_t kCapacities[] = {1, 5, 36, 37, 90, 250, 700};
  size_t capacity = kCapacities[GetParam() % std::size(kCapacities)];
  CandleSeries s(capacity);
  ModelSeries model(capacity);
  int64_t next_start = 1'000 * kMinute;
  int64_t cents = 10000;
  auto candle = [&](int64_t start) {
    Candle x;
    x.start_ns = start;
    double roll = unit(rng);
    cents += static_cast<int64_t>(unit(rng) * 41) - 20;
    if (roll < 0.9) {
      x.open = static_cast<double>(cents) / 100;
      x.close = static_cast<double>(cents + 3) / 100;
      x.high = static_cast<double>(cents + 9) / 100;
      x.low = static_cast<double>(cents - 4) / 100;
      x.volume = std::floor(unit(rng) * 1e6);
    } else {
      // Now and then values that no decimal grid holds.
      x.open = unit(rng) * 1000;
      x.close = -x.open / 7;
      x.high = roll < 0.95 ? -0.0 : 1e-9 * unit(rng);
      x.low = x.open * 3;
      x.volume = unit(rng);
    }
    x.trades = static_cast<uint32_t>(rng());
    x.flags = static_cast<uint8_t>(rng() % 8);
    return x;
  };
  for (int op = 0; op < 6000; ++op) {
    double roll = unit(rng);
    if (roll < 0.55 || model.candles.empty()) {
      next_start += kMinute * (1 + static_cast<int64_t>(rng() % 3)) + (unit(rng) < 0.05 ? 7 : 0);
      Candle x = candle(next_start);
      s.append(x);
      model.append(x);
    } else if (roll < 0.75) {
      Candle x = candle(model.candles.back().start_ns);
      s.replaceBack(x);
      model.candles.back() = x;
    } else {
      // Anywhere from before the oldest to the newest: replace, fill a gap, or be refused.
      int64_t lo = model.candles.front().start_ns - 5 * kMinute;
      int64_t start = lo + static_cast<int64_t>(unit(rng) * static_cast<double>(next_start - lo));
      if (unit(rng) < 0.5) start = model.candles[rng() % model.candles.size()].start_ns;
      Candle x = candle(start);
      ASSERT_EQ(s.upsert(x), model.upsert(x)) << "op " << op;
    }
    ASSERT_EQ(s.size(), model.candles.size()) << "op " << op;
    ASSERT_TRUE(identical(s.back(), model.candles.back())) << "op " << op;
    if (op % 50 == 0) {
      expectHolds(s, model.candles);
      for (int probe = 0; probe < 20; ++probe) {
        int64_t t = model.candles.front().start_ns - kMinute +
                    static_cast<int64_t>(
                        unit(rng) * static_cast<double>(next_start - model.candles.front().start_ns + 2 * kMinute));
        auto it = std::lower_bound(model.candles.begin(), model.candles.end(), t,
                                   [](const Candle& a, int64_t v) { return a.start_ns < v; });
        ASSERT_EQ(s.lowerBound(t), static_cast<size_t>(it - model.candles.begin()));
        EXPECT_EQ(s.find(t).has_value(), it != model.candles.end() && it->start_ns == t);
        EXPECT_EQ(s.oldestAtOrBefore(t), model.candles.front().start_ns <= t);
        size_t seen = 0;
        s.forRange(t, t + 10 * kMinute, [&](const Candle& x) {
          ASSERT_TRUE(it + static_cast<ptrdiff_t>(seen) != model.candles.end());
          EXPECT_TRUE(identical(x, *(it + static_cast<ptrdiff_t>(seen))));
          ++seen;
        });
        auto end = std::lower_bound(model.candles.begin(), model.candles.end(), t + 10 * kMinute,
                                    [](const Candle& a, int64_t v) { return a.start_ns < v; });
        EXPECT_EQ(seen, static_cast<size_t>(end - it));
      }
    }
  }
  expectHolds(s, model.candles);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CandleSeriesRandom, ::testing::Range<uint64_t>(0, 21));

}  // namespace
}  // namespace th
