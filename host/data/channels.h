// Request channels: the named lanes (orders, charts, scanner, strategies,
// realtime) that requests to data providers travel in. Each lane has its own
// worker threads, its own token-bucket rate budget and its own bounded queue,
// so a scanner sweep that saturates its lane cannot delay the data an order
// needs. Each lane keeps its own stats (requests, errors, rejections, queue,
// latency percentiles), readable from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace th {

struct ChannelTask {
  // Runs on one of the lane's worker threads; an error result (or an
  // exception) counts as an error of the lane.
  std::function<Result<void>()> run;
  // Called instead of `run` when the channels stop before the task started,
  // on the thread calling stop(). May be empty.
  std::function<void(const Error&)> cancelled;
};

struct ChannelStats {
  std::string name;
  uint32_t concurrency = 0;
  double rate_per_s = 0;  // 0 = unlimited
  size_t max_queued = 0;
  uint64_t requests = 0;   // tasks accepted
  uint64_t completed = 0;  // tasks that ran to the end, with or without error
  uint64_t errors = 0;
  uint64_t rejected = 0;  // not accepted: queue full or stopping
  size_t queued = 0;      // accepted, waiting for a worker or a token
  size_t running = 0;
  // Submit to completion, over the last kLatencyWindow completions.
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
};

class RequestChannels {
 public:
  static constexpr size_t kLatencyWindow = 1024;
  // Monotonic nanoseconds; drives the rate budgets and the latencies.
  using Now = std::function<int64_t()>;

  // Starts every lane's workers. `now` defaults to std::chrono::steady_clock.
  explicit RequestChannels(std::vector<ChannelConfig> channels, Now now = {});
  ~RequestChannels();  // stop()
  RequestChannels(const RequestChannels&) = delete;
  RequestChannels& operator=(const RequestChannels&) = delete;

  // Any thread. An error means the task was not accepted and nothing of it
  // will be called: NotFound for an unknown channel, Unavailable when the
  // lane's queue is full or the channels are stopping, InvalidArgument for a
  // task without `run`.
  [[nodiscard]] Result<void> submit(std::string_view channel, ChannelTask task);

  // Refuses new tasks, calls `cancelled` for every queued one, and waits for
  // the running ones to finish. Idempotent; not to be called from a task.
  void stop();

  // Any thread; lanes in configuration order.
  std::vector<ChannelStats> stats() const;
  // Submissions to a channel name that does not exist.
  uint64_t unknownChannelRejections() const;

 private:
  struct Lane;
  void work(Lane& lane);
  // 0 when a token was taken, else nanoseconds until the next one. Lane locked.
  int64_t takeToken(Lane& lane) const;

  Now now_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // fixed after construction
  mutable std::mutex mutex_;                  // guards unknown_rejected_
  uint64_t unknown_rejected_ = 0;
  std::mutex stop_mutex_;  // one stop() joins the workers; a concurrent one waits for it
};

}  // namespace th
