#include <gtest/gtest.h>

#include <thread>

#include "core/clock.h"

namespace th {
namespace {

TEST(SimulatedClock, PacedClockRunsAtItsSpeed) {
  SimulatedClock clock(1'000'000'000'000LL, 3600);  // an hour per real second
  const auto wall_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int64_t advanced = clock.nowNs() - 1'000'000'000'000LL;
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - wall_start);
  // 50 ms of wall time at 3600× is at least 180 simulated seconds, and no
  // more than 3600× the wall time that really passed (a clock running at
  // the wrong speed, fast or slow, fails).
  EXPECT_GE(advanced, 180'000'000'000LL);
  EXPECT_LE(advanced, wall.count() * 3600 + 3600'000'000LL) << "advanced " << advanced << " ns in " << wall.count();
}

// A session starting up holds its clock: loading plugins and strategies
// takes no market time, and the pacing counts from the release.
TEST(SimulatedClock, AHeldClockReadsItsStartUntilReleased) {
  const int64_t start = 1'000'000'000'000LL;
  SimulatedClock clock(start, 3600, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // three simulated minutes, were it running
  EXPECT_EQ(clock.nowNs(), start);
  clock.release();
  const int64_t released = clock.nowNs();
  EXPECT_LT(released - start, 60'000'000'000LL) << "counted from the release, not from the construction";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GE(clock.nowNs() - start, 180'000'000'000LL);
  clock.release();  // a second release changes nothing
  EXPECT_GE(clock.nowNs() - start, 180'000'000'000LL);
}

TEST(SimulatedClock, NeverRunsBehindObservedEvents) {
  SimulatedClock clock(100, 1);
  clock.observe(5'000'000'000'000LL);
  EXPECT_GE(clock.nowNs(), 5'000'000'000'000LL);
  clock.observe(10);  // an older event does not move time back
  EXPECT_GE(clock.nowNs(), 5'000'000'000'000LL);
}

TEST(SimulatedClock, SpeedZeroMovesOnlyWithEvents) {
  SimulatedClock clock(42, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(clock.nowNs(), 42);
  clock.observe(99);
  EXPECT_EQ(clock.nowNs(), 99);
}

}  // namespace
}  // namespace th
