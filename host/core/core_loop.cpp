#include "core/core_loop.h"

#include <chrono>
#include <vector>

namespace th {

CoreLoop::CoreLoop(EventQueue& queue, Clock& clock, EventProcessor& processor)
    : queue_(queue), clock_(clock), processor_(processor) {}

CoreLoop::~CoreLoop() { stop(); }

void CoreLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void CoreLoop::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

int64_t CoreLoop::busyMs() const {
  const int64_t started = event_started_ns_.load(std::memory_order_relaxed);
  if (started == 0) return 0;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return now > started ? (now - started) / 1'000'000 : 0;
}

void CoreLoop::processOne(const Event& event) {
  event_started_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count(),
      std::memory_order_relaxed);
  if (int64_t ts = event.timestamp(); ts > 0) clock_.observe(ts);
  // One event that cannot be processed must not stop the host: it is
  // reported, counted, and the next event goes on.
  try {
    processor_.process(event);
  } catch (const std::exception& e) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    processor_.failed(event, e.what());
  } catch (...) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    processor_.failed(event, "unknown exception");
  }
  event_started_ns_.store(0, std::memory_order_relaxed);
  processed_.fetch_add(1, std::memory_order_relaxed);
}

// The operator's commands go before the next event, whatever is queued.
void CoreLoop::processUrgent() {
  if (!queue_.hasUrgent()) return;
  urgent_.clear();
  queue_.takeUrgent(urgent_);
  for (const Event& event : urgent_) processOne(event);
}

void CoreLoop::run() {
  queue_.setConsumerThread(std::this_thread::get_id());
  std::vector<Event> batch;
  batch.reserve(4096);
  for (;;) {
    batch.clear();
    bool open = queue_.popAll(batch, std::chrono::milliseconds(50));
    processUrgent();
    if (batch.empty()) {
      if (!open) break;
      processor_.idle();
      continue;
    }
    for (const Event& event : batch) {
      processUrgent();
      processOne(event);
    }
    processor_.endGroup();
  }
}

}  // namespace th
