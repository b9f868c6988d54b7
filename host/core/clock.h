// Time for the host. Live sessions read the wall clock; simulations read a
// simulated clock that is paced against the wall clock (`speed` simulated
// seconds per real second) and never runs behind the events it has seen, so a
// replay at full speed (speed 0) is driven purely by event timestamps.
// All times are int64 nanoseconds since the epoch, UTC.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace th {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t nowNs() const = 0;
  // Events carry their own time; a simulated clock follows them. Called on
  // the core thread only.
  virtual void observe(int64_t event_ns) { (void)event_ns; }
  virtual bool simulated() const = 0;
};

class WallClock final : public Clock {
 public:
  int64_t nowNs() const override;
  bool simulated() const override { return false; }
};

class SimulatedClock final : public Clock {
 public:
  // speed > 0: simulated time = start + speed × elapsed wall time.
  // speed == 0: time moves only with observed events.
  // `held`: a paced clock reads start_ns until release() (a session starting
  // up: loading plugins and strategies takes no market time).
  SimulatedClock(int64_t start_ns, double speed, bool held = false);
  int64_t nowNs() const override;
  void observe(int64_t event_ns) override;
  bool simulated() const override { return true; }
  double speed() const { return speed_; }
  // Paced from now on; any thread, once or more (only the first counts).
  void release();

 private:
  int64_t start_ns_;
  double speed_;
  // The steady clock's reading (ns) the pacing counts from; kHeld until released.
  static constexpr int64_t kHeld = INT64_MIN;
  std::atomic<int64_t> wall_start_ns_;
  std::atomic<int64_t> observed_ns_;
};

}  // namespace th
