#include "core/clock.h"

#include <algorithm>

namespace th {

int64_t WallClock::nowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

SimulatedClock::SimulatedClock(int64_t start_ns, double speed, bool held)
    : start_ns_(start_ns), speed_(speed), wall_start_ns_(held ? kHeld : steadyNs()), observed_ns_(start_ns) {}

void SimulatedClock::release() {
  int64_t held = kHeld;
  wall_start_ns_.compare_exchange_strong(held, steadyNs());
}

int64_t SimulatedClock::nowNs() const {
  int64_t observed = observed_ns_.load(std::memory_order_relaxed);
  if (speed_ <= 0) return observed;
  const int64_t wall_start = wall_start_ns_.load(std::memory_order_relaxed);
  if (wall_start == kHeld) return std::max(start_ns_, observed);
  const auto elapsed = static_cast<double>(steadyNs() - wall_start);
  const int64_t paced = start_ns_ + static_cast<int64_t>(elapsed * speed_);
  return std::max(paced, observed);
}

void SimulatedClock::observe(int64_t event_ns) {
  int64_t current = observed_ns_.load(std::memory_order_relaxed);
  // Only the core thread writes, so a plain compare is enough; readers on
  // other threads see a monotonic value.
  if (event_ns > current) observed_ns_.store(event_ns, std::memory_order_relaxed);
}

}  // namespace th
