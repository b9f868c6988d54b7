#include "core/core_loop.h"

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

void CoreLoop::run() {
  queue_.setConsumerThread(std::this_thread::get_id());
  std::vector<Event> batch;
  batch.reserve(4096);
  for (;;) {
    batch.clear();
    bool open = queue_.popAll(batch, std::chrono::milliseconds(50));
    if (batch.empty()) {
      if (!open) break;
      processor_.idle();
      continue;
    }
    for (const Event& event : batch) {
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
    }
    processed_.fetch_add(batch.size(), std::memory_order_relaxed);
    processor_.endGroup();
  }
}

}  // namespace th
