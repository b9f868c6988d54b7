// The core queue: many producers (plugin threads, I/O threads), one consumer
// (the core thread). Producers append under a short lock; the consumer swaps
// the whole pending vector out at once, so the lock is held for a pointer
// swap rather than per event. The queue is bounded: a producer that finds it
// full waits, which is how a replay at full speed is slowed to what the core
// can process. The core thread itself never waits (it is the only consumer,
// so waiting on itself would deadlock); its own posts may exceed the bound.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event.h"

namespace th {

class EventQueue {
 public:
  explicit EventQueue(size_t capacity = 1u << 20);

  // Returns false once the queue is closed (the event is dropped).
  bool push(Event&& event);
  // Moves everything pending into `out` (which must be empty); waits up to
  // `timeout` for the first event. Returns false when closed and drained.
  bool popAll(std::vector<Event>& out, std::chrono::milliseconds timeout);
  void close();

  void setConsumerThread(std::thread::id id) { consumer_ = id; }
  size_t depth() const { return depth_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<Event> pending_;
  bool closed_ = false;
  bool consumer_waiting_ = false;
  std::atomic<size_t> depth_{0};
  std::thread::id consumer_;
};

}  // namespace th
