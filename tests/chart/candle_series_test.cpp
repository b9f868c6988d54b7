// The ring buffer behind every series.
#include "chart/candle_series.h"

#include <gtest/gtest.h>

namespace th {
namespace {

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
  EXPECT_EQ(s.find(45), nullptr);
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

}  // namespace
}  // namespace th
