#include "core/event_queue.h"

#include <bit>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TH_CPU_RELAX() _mm_pause()
#else
#define TH_CPU_RELAX() std::this_thread::yield()
#endif

namespace th {

EventQueue::EventQueue(size_t capacity)
    : mask_(std::bit_ceil(std::max<size_t>(capacity, 2)) - 1), slots_(new Slot[mask_ + 1]) {
  for (size_t i = 0; i <= mask_; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
}

EventQueue::~EventQueue() = default;

size_t EventQueue::depth() const {
  uint64_t tail = tail_.load(std::memory_order_relaxed), head = head_.load(std::memory_order_relaxed);
  return static_cast<size_t>(tail > head ? tail - head : 0) + overflow_size_.load(std::memory_order_relaxed);
}

// Claims the next slot if the ring has room. On success `event` is moved.
bool EventQueue::tryPushRing(Event& event) {
  uint64_t pos = tail_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[pos & mask_];
    uint64_t sequence = slot.sequence.load(std::memory_order_acquire);
    auto diff = static_cast<int64_t>(sequence - pos);
    if (diff == 0) {
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        slot.event = std::move(event);
        // seq_cst: ordered before the producer's look at consumer_sleeping_
        // (see wakeConsumer).
        slot.sequence.store(pos + 1, std::memory_order_seq_cst);
        return true;
      }
    } else if (diff < 0) {
      return false;  // the consumer has not freed this slot yet: full
    } else {
      pos = tail_.load(std::memory_order_relaxed);
    }
  }
}

void EventQueue::wakeConsumer() {
  // The publish (seq_cst) comes before this load, and the consumer's store
  // of consumer_sleeping_ (seq_cst) before its re-check in popAll: in the
  // single total order one of the two sees the other, so either the
  // consumer finds our event or we find it sleeping and wake it.
  if (consumer_sleeping_.load(std::memory_order_seq_cst)) {
    { std::lock_guard lock(sleep_mutex_); }
    not_empty_.notify_one();
  }
}

bool EventQueue::push(Event&& event) {
  if (closed_.load(std::memory_order_acquire)) return false;
  const bool may_wait = event.isMarketData() && std::this_thread::get_id() != consumer_.load(std::memory_order_relaxed);
  auto sleepUntil = [&](auto&& condition) {
    std::unique_lock lock(sleep_mutex_);
    producers_waiting_.fetch_add(1);
    not_full_.wait_for(lock, std::chrono::milliseconds(5), [&] { return condition() || closed_.load(); });
    producers_waiting_.fetch_sub(1);
  };
  for (;;) {
    if (closed_.load(std::memory_order_acquire)) return false;
    if (overflow_active_.load(std::memory_order_acquire)) {
      // Market data waits for the list to drain, which keeps it small;
      // everything else follows the events already listed, in order.
      if (may_wait) {
        sleepUntil([&] { return !overflow_active_.load(); });
        continue;
      }
      std::lock_guard lock(overflow_mutex_);
      if (overflow_active_.load(std::memory_order_relaxed)) {
        overflow_.push_back(std::move(event));
        overflow_size_.store(overflow_.size(), std::memory_order_relaxed);
        break;
      }
    }
    if (tryPushRing(event)) break;
    if (!may_wait) {
      std::lock_guard lock(overflow_mutex_);
      overflow_.push_back(std::move(event));
      overflow_size_.store(overflow_.size(), std::memory_order_relaxed);
      overflow_active_.store(true, std::memory_order_seq_cst);
      break;
    }
    sleepUntil([&] { return depth() <= mask_; });
  }
  wakeConsumer();
  return true;
}

bool EventQueue::pushUrgent(Event&& event) {
  if (closed_.load(std::memory_order_acquire)) return false;
  {
    std::lock_guard lock(urgent_mutex_);
    urgent_.push_back(std::move(event));
    urgent_pending_.store(true, std::memory_order_seq_cst);
  }
  wakeConsumer();
  return true;
}

void EventQueue::takeUrgent(std::vector<Event>& out) {
  std::lock_guard lock(urgent_mutex_);
  for (auto& e : urgent_) out.push_back(std::move(e));
  urgent_.clear();
  urgent_pending_.store(false, std::memory_order_release);
}

bool EventQueue::ready() const {
  if (urgent_pending_.load(std::memory_order_seq_cst)) return true;
  uint64_t head = head_.load(std::memory_order_relaxed);
  if (slots_[head & mask_].sequence.load(std::memory_order_seq_cst) == head + 1) return true;
  // The list is taken only once every claimed ring slot is published (see
  // popAll); until then there is nothing to do but wait for that producer.
  return overflow_active_.load(std::memory_order_seq_cst) && tail_.load(std::memory_order_acquire) == head;
}

bool EventQueue::settled() const {
  return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_relaxed) &&
         !overflow_active_.load(std::memory_order_acquire) && !urgent_pending_.load(std::memory_order_acquire);
}

bool EventQueue::popAll(std::vector<Event>& out, std::chrono::milliseconds timeout) {
  // Spin a little before sleeping: waking a sleeping consumer costs the
  // producer a futex system call, far more than the event itself, and under
  // load the next event is usually microseconds away.
  for (int spins = 0; spins < 2000 && !ready(); ++spins) TH_CPU_RELAX();
  if (!ready()) {
    if (closed_.load(std::memory_order_acquire) && settled()) return false;
    consumer_sleeping_.store(true, std::memory_order_seq_cst);
    if (!ready()) {
      std::unique_lock lock(sleep_mutex_);
      not_empty_.wait_for(lock, timeout, [&] { return ready() || closed_.load(); });
    }
    consumer_sleeping_.store(false, std::memory_order_relaxed);
  }
  // The ring first: everything there was published before anything in the
  // overflow list (producers switch to the list only once it is active).
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (size_t n = 0; n <= mask_; ++n) {
    Slot& slot = slots_[head & mask_];
    if (slot.sequence.load(std::memory_order_acquire) != head + 1) break;
    out.push_back(std::move(slot.event));
    slot.sequence.store(head + mask_ + 1, std::memory_order_release);
    ++head;
  }
  head_.store(head, std::memory_order_relaxed);
  if (overflow_active_.load(std::memory_order_acquire)) {
    std::lock_guard lock(overflow_mutex_);
    // A producer may have claimed a ring slot just before the list became
    // active and not published it yet; its events must come first.
    if (tail_.load(std::memory_order_acquire) == head) {
      for (auto& e : overflow_) out.push_back(std::move(e));
      overflow_.clear();
      overflow_size_.store(0, std::memory_order_relaxed);
      overflow_active_.store(false, std::memory_order_release);
    }
  }
  if (producers_waiting_.load(std::memory_order_relaxed) > 0) {
    { std::lock_guard lock(sleep_mutex_); }
    not_full_.notify_all();
  }
  if (out.empty()) return !(closed_.load(std::memory_order_acquire) && settled());
  return true;
}

void EventQueue::close() {
  closed_.store(true, std::memory_order_release);
  { std::lock_guard lock(sleep_mutex_); }
  not_empty_.notify_all();
  not_full_.notify_all();
}

}  // namespace th
