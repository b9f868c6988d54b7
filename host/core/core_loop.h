// The core thread. It takes events from the queue in the order they were
// posted and hands them, one at a time, to the processor — the only code that
// changes trading state. Events are delivered in groups (everything that was
// pending at once) so the processor can commit a group to the store with one
// write; each event is still processed whole before the next begins.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event_queue.h"

namespace th {

class EventProcessor {
 public:
  virtual ~EventProcessor() = default;
  // Called on the core thread for every event, in order.
  virtual void process(const Event& event) = 0;
  // Called on the core thread after each group; commit what the group did.
  virtual void endGroup() {}
  // Called on the core thread when nothing arrived for a while (timers, health).
  virtual void idle() {}
  // process() threw: the event is skipped, the core carries on.
  virtual void failed(const Event& event, std::string_view what) {
    (void)event;
    (void)what;
  }
};

class CoreLoop {
 public:
  CoreLoop(EventQueue& queue, Clock& clock, EventProcessor& processor);
  ~CoreLoop();
  CoreLoop(const CoreLoop&) = delete;
  CoreLoop& operator=(const CoreLoop&) = delete;

  void start();
  // Closes the queue, lets the core drain what is pending, and joins.
  void stop();
  bool onCoreThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  uint64_t eventsProcessed() const { return processed_.load(std::memory_order_relaxed); }
  uint64_t eventsFailed() const { return failed_.load(std::memory_order_relaxed); }
  // How long the event the core thread is processing now has taken, in ms
  // (0 between events): what health calls a stall when it grows while
  // others wait. Any thread.
  int64_t busyMs() const;

 private:
  void run();
  void processOne(const Event& event);
  void processUrgent();

  EventQueue& queue_;
  Clock& clock_;
  EventProcessor& processor_;
  std::thread thread_;
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<int64_t> event_started_ns_{0};  // steady clock; 0 between events
  std::vector<Event> urgent_;
};

}  // namespace th
