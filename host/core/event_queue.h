// The core queue: many producers (plugin threads, I/O threads), one consumer
// (the core thread).
//
// A bounded ring of slots, each with a sequence number (Vyukov's MPSC/MPMC
// scheme): a producer claims a slot with one compare-and-swap on the tail
// and publishes it with one release store; the consumer reads slots in
// order without any lock. Each producer's events arrive in the order it
// posted them.
//
// When the ring is full, producers of market data (trades, quotes, bars)
// wait: that is how a replay at full speed is slowed to what the core can
// process. Order, fill, connection and task events never wait — they are
// few, must not be lost, and may be posted while a plugin's call lock is held
// (waiting there could deadlock against the core thread feeding that
// plugin). They go to an overflow list instead; while it is non-empty the
// other events that must not wait follow them there, and market data waits
// until it is drained, so no producer's events are reordered and the list
// stays small. The core thread itself never waits.
//
// close() is for after the producers have stopped (the session disconnects
// its plugins and stops the API first): push() returns false from then on,
// and the consumer drains everything that was published before.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event.h"

namespace th {

class EventQueue {
 public:
  // `capacity` is rounded up to a power of two.
  explicit EventQueue(size_t capacity = 1u << 16);
  ~EventQueue();

  // Returns false once the queue is closed (the event is dropped).
  bool push(Event&& event);
  // The operator's commands (the kill switch, a shutdown): the consumer
  // takes them before its next event, ahead of everything queued. False
  // once the queue is closed.
  bool pushUrgent(Event&& event);
  // Consumer: whether urgent events wait (one relaxed load), and taking them.
  bool hasUrgent() const { return urgent_pending_.load(std::memory_order_acquire); }
  void takeUrgent(std::vector<Event>& out);
  // Moves everything pending (up to the ring's size) into `out`; waits up to
  // `timeout` for the first event. Returns false when closed and drained.
  bool popAll(std::vector<Event>& out, std::chrono::milliseconds timeout);
  void close();

  void setConsumerThread(std::thread::id id) { consumer_.store(id); }
  size_t depth() const;  // urgent events not counted
  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<uint64_t> sequence;
    Event event;
  };

  bool tryPushRing(Event& event);
  void wakeConsumer();
  bool ready() const;     // something can be taken now
  bool settled() const;   // nothing claimed, published or listed is left

  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint64_t> tail_{0};  // next slot to claim (producers)
  alignas(64) std::atomic<uint64_t> head_{0};  // next slot to read (consumer only writes)
  alignas(64) std::atomic<bool> consumer_sleeping_{false};
  std::atomic<bool> overflow_active_{false};
  std::atomic<size_t> overflow_size_{0};
  std::atomic<bool> closed_{false};
  std::atomic<int> producers_waiting_{0};
  std::atomic<std::thread::id> consumer_{};

  std::mutex overflow_mutex_;
  std::vector<Event> overflow_;  // guarded by overflow_mutex_

  std::atomic<bool> urgent_pending_{false};
  std::mutex urgent_mutex_;
  std::vector<Event> urgent_;  // guarded by urgent_mutex_

  // Only for sleeping: the consumer when there is nothing to do, producers
  // of market data when the ring is full.
  std::mutex sleep_mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
};

}  // namespace th
