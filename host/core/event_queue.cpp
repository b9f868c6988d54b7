#include "core/event_queue.h"

namespace th {

EventQueue::EventQueue(size_t capacity) : capacity_(capacity) { pending_.reserve(4096); }

bool EventQueue::push(Event&& event) {
  bool wake = false;
  {
    std::unique_lock lock(mutex_);
    if (event.isMarketData() && pending_.size() >= capacity_ && std::this_thread::get_id() != consumer_) {
      not_full_.wait(lock, [&] { return pending_.size() < capacity_ || closed_; });
    }
    if (closed_) return false;
    pending_.push_back(std::move(event));
    depth_.store(pending_.size(), std::memory_order_relaxed);
    // Only signal when the consumer sleeps: a notify per event would cost
    // more than the push itself.
    wake = consumer_waiting_;
    consumer_waiting_ = false;
  }
  if (wake) not_empty_.notify_one();
  return true;
}

bool EventQueue::popAll(std::vector<Event>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (pending_.empty() && !closed_) {
    consumer_waiting_ = true;
    not_empty_.wait_for(lock, timeout, [&] { return !pending_.empty() || closed_; });
    consumer_waiting_ = false;
  }
  if (pending_.empty()) return !closed_;
  out.swap(pending_);
  depth_.store(0, std::memory_order_relaxed);
  lock.unlock();
  not_full_.notify_all();
  return true;
}

void EventQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

}  // namespace th
