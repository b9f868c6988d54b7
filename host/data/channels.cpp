#include "data/channels.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <thread>

namespace th {

struct RequestChannels::Lane {
  struct Queued {
    ChannelTask task;
    int64_t submitted_ns = 0;
  };

  explicit Lane(ChannelConfig c, int64_t now_ns)
      : config(std::move(c)), burst(std::max(1.0, config.rate_per_s)), tokens(burst), refilled_ns(now_ns) {}

  const ChannelConfig config;
  const double burst;

  mutable std::mutex mutex;
  std::condition_variable wake;  // a task was queued, or stopping
  std::deque<Queued> queue;
  double tokens;
  int64_t refilled_ns;
  bool stopping = false;
  size_t running = 0;
  uint64_t requests = 0, completed = 0, errors = 0, rejected = 0;
  std::array<double, kLatencyWindow> latencies_ms{};
  size_t latency_count = 0, latency_next = 0;

  std::vector<std::thread> workers;
};

namespace {

int64_t steadyNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Nearest rank: the smallest sample with at least q of the samples at or below it.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

bool runTask(const ChannelTask& task) {
  // A throwing task is the task's failure; it must not take a worker down.
  try {
    return task.run().has_value();
  } catch (...) {
    return false;
  }
}

}  // namespace

RequestChannels::RequestChannels(std::vector<ChannelConfig> channels, Now now)
    : now_(now ? std::move(now) : Now(steadyNow)) {
  int64_t start = now_();
  for (auto& config : channels) lanes_.push_back(std::make_unique<Lane>(std::move(config), start));
  // Workers start only once every lane exists, so none sees a half-built vector.
  for (auto& lane : lanes_) {
    for (uint32_t i = 0; i < std::max<uint32_t>(lane->config.concurrency, 1); ++i) {
      lane->workers.emplace_back([this, raw = lane.get()] { work(*raw); });
    }
  }
}

RequestChannels::~RequestChannels() { stop(); }

Result<void> RequestChannels::submit(std::string_view channel, ChannelTask task) {
  auto it = std::find_if(lanes_.begin(), lanes_.end(), [&](const auto& l) { return l->config.name == channel; });
  if (it == lanes_.end()) {
    std::lock_guard lock(mutex_);
    ++unknown_rejected_;
    return fail(ErrorCode::NotFound, fmt::format("no data channel named '{}'", channel));
  }
  Lane& lane = **it;
  if (!task.run)
    return fail(ErrorCode::InvalidArgument, fmt::format("channel {}: the task has nothing to run", channel));
  {
    std::lock_guard lock(lane.mutex);
    if (lane.stopping) {
      ++lane.rejected;
      return fail(ErrorCode::Unavailable, fmt::format("channel {}: stopping", channel));
    }
    if (lane.queue.size() >= lane.config.max_queued) {
      ++lane.rejected;
      return fail(ErrorCode::Unavailable,
                  fmt::format("channel {}: queue full ({} requests waiting)", channel, lane.queue.size()));
    }
    ++lane.requests;
    lane.queue.push_back({std::move(task), now_()});
  }
  lane.wake.notify_one();
  return {};
}

int64_t RequestChannels::takeToken(Lane& lane) const {
  if (lane.config.rate_per_s <= 0) return 0;
  int64_t now = now_();
  if (now > lane.refilled_ns) {
    double earned = static_cast<double>(now - lane.refilled_ns) * lane.config.rate_per_s / 1e9;
    lane.tokens = std::min(lane.burst, lane.tokens + earned);
    lane.refilled_ns = now;
  }
  if (lane.tokens >= 1) {
    lane.tokens -= 1;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - lane.tokens) / lane.config.rate_per_s * 1e9)));
}

void RequestChannels::work(Lane& lane) {
  std::unique_lock lock(lane.mutex);
  for (;;) {
    if (lane.stopping) return;
    if (lane.queue.empty()) {
      lane.wake.wait(lock);
      continue;
    }
    // Tokens are taken when a task starts, not when it is queued, so a burst
    // of submissions waits in the queue instead of being refused.
    if (int64_t wait_ns = takeToken(lane); wait_ns > 0) {
      lane.wake.wait_for(lock, std::chrono::nanoseconds(wait_ns));
      continue;
    }
    int64_t submitted_ns = lane.queue.front().submitted_ns;
    bool ok = false;
    {
      ChannelTask task = std::move(lane.queue.front().task);
      lane.queue.pop_front();
      ++lane.running;
      lock.unlock();
      ok = runTask(task);
    }  // the task's captures are released before the lane is locked again
    int64_t done_ns = now_();
    lock.lock();
    --lane.running;
    ++lane.completed;
    if (!ok) ++lane.errors;
    lane.latencies_ms[lane.latency_next] = static_cast<double>(done_ns - submitted_ns) / 1e6;
    lane.latency_next = (lane.latency_next + 1) % kLatencyWindow;
    lane.latency_count = std::min(lane.latency_count + 1, kLatencyWindow);
  }
}

void RequestChannels::stop() {
  std::lock_guard stopping(stop_mutex_);
  for (auto& lane : lanes_) {
    std::deque<Lane::Queued> queued;
    {
      std::lock_guard lock(lane->mutex);
      if (lane->stopping) continue;
      lane->stopping = true;
      queued.swap(lane->queue);
    }
    lane->wake.notify_all();
    Error error{ErrorCode::Unavailable, fmt::format("channel {}: stopped before the request ran", lane->config.name)};
    for (auto& item : queued) {
      if (item.task.cancelled) item.task.cancelled(error);
    }
  }
  for (auto& lane : lanes_) {
    for (auto& worker : lane->workers) {
      if (worker.joinable()) worker.join();
    }
  }
}

std::vector<ChannelStats> RequestChannels::stats() const {
  std::vector<ChannelStats> out;
  out.reserve(lanes_.size());
  std::vector<double> sorted;
  for (const auto& lane : lanes_) {
    ChannelStats s;
    s.name = lane->config.name;
    s.concurrency = lane->config.concurrency;
    s.rate_per_s = lane->config.rate_per_s;
    s.max_queued = lane->config.max_queued;
    {
      std::lock_guard lock(lane->mutex);
      s.requests = lane->requests;
      s.completed = lane->completed;
      s.errors = lane->errors;
      s.rejected = lane->rejected;
      s.queued = lane->queue.size();
      s.running = lane->running;
      sorted.assign(lane->latencies_ms.begin(), lane->latencies_ms.begin() + lane->latency_count);
    }
    std::sort(sorted.begin(), sorted.end());
    s.latency_p50_ms = quantile(sorted, 0.5);
    s.latency_p99_ms = quantile(sorted, 0.99);
    s.latency_max_ms = sorted.empty() ? 0 : sorted.back();
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t RequestChannels::unknownChannelRejections() const {
  std::lock_guard lock(mutex_);
  return unknown_rejected_;
}

}  // namespace th
