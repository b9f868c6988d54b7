#include "core/clock.h"

#include <algorithm>

namespace th {

int64_t WallClock::nowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SimulatedClock::SimulatedClock(int64_t start_ns, double speed)
    : start_ns_(start_ns), speed_(speed), wall_start_(std::chrono::steady_clock::now()), observed_ns_(start_ns) {}

int64_t SimulatedClock::nowNs() const {
  int64_t observed = observed_ns_.load(std::memory_order_relaxed);
  if (speed_ <= 0) return observed;
  auto elapsed = std::chrono::steady_clock::now() - wall_start_;
  auto paced = start_ns_ +
               static_cast<int64_t>(
                   static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) * speed_);
  return std::max(paced, observed);
}

void SimulatedClock::observe(int64_t event_ns) {
  int64_t current = observed_ns_.load(std::memory_order_relaxed);
  // Only the core thread writes, so a plain compare is enough; readers on
  // other threads see a monotonic value.
  if (event_ns > current) observed_ns_.store(event_ns, std::memory_order_relaxed);
}

}  // namespace th
