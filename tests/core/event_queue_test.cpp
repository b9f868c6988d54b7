#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/core_loop.h"
#include "core/event_queue.h"

namespace th {
namespace {

// Records what the core thread saw, in order.
class Recorder final : public EventProcessor {
 public:
  void process(const Event& event) override {
    const auto& t = std::get<TradeEvent>(event.payload);
    seen.push_back({event.source, t.sequence});
  }
  void endGroup() override { ++groups; }
  std::vector<std::pair<uint16_t, uint64_t>> seen;
  int groups = 0;
};

TEST(CoreLoop, EventsFromManyThreadsArriveWholeAndInPostOrderPerProducer) {
  EventQueue queue(1024);  // small bound: producers must wait, not drop
  SimulatedClock clock(0, 0);
  Recorder recorder;
  CoreLoop core(queue, clock, recorder);
  core.start();
  constexpr int kProducers = 4;
  constexpr uint64_t kEach = 50'000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (uint64_t i = 0; i < kEach; ++i) {
        queue.push(
            Event{static_cast<uint16_t>(p + 1), TradeEvent{Symbol("SPY"), static_cast<int64_t>(i + 1), 1, 1, i}});
      }
    });
  }
  for (auto& t : producers) t.join();
  core.stop();
  ASSERT_EQ(recorder.seen.size(), kProducers * kEach);
  std::vector<uint64_t> next(kProducers + 1, 0);
  for (auto [source, seq] : recorder.seen) {
    ASSERT_EQ(seq, next[source]) << "producer " << source << " out of order";
    ++next[source];
  }
  EXPECT_EQ(core.eventsProcessed(), kProducers * kEach);
  EXPECT_GT(recorder.groups, 0);
  // The simulated clock followed the events.
  EXPECT_EQ(clock.nowNs(), static_cast<int64_t>(kEach));
}

TEST(CoreLoop, StopDrainsPendingEvents) {
  EventQueue queue;
  SimulatedClock clock(0, 0);
  Recorder recorder;
  for (uint64_t i = 0; i < 1000; ++i) queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, i}});
  CoreLoop core(queue, clock, recorder);
  core.start();
  core.stop();
  EXPECT_EQ(recorder.seen.size(), 1000u);
}

TEST(EventQueue, OrderEventsNeverWaitOnAFullQueueAndKeepTheirPlace) {
  EventQueue queue(4);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, i}}));
  // No consumer runs: a market event would wait here, an order event must not.
  OrderEvent order;
  order.client_order_id = "O-1";
  EXPECT_TRUE(queue.push(Event{1, order}));
  EXPECT_TRUE(queue.push(Event{1, FillEvent{}}));
  std::vector<Event> out;
  ASSERT_TRUE(queue.popAll(out, std::chrono::milliseconds(10)));
  ASSERT_EQ(out.size(), 6u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(std::get<TradeEvent>(out[i].payload).sequence, i);
  EXPECT_EQ(std::get<OrderEvent>(out[4].payload).client_order_id, "O-1");
  EXPECT_TRUE(std::holds_alternative<FillEvent>(out[5].payload));
  // The ring is usable again afterwards.
  out.clear();
  EXPECT_TRUE(queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, 9}}));
  ASSERT_TRUE(queue.popAll(out, std::chrono::milliseconds(10)));
  ASSERT_EQ(out.size(), 1u);
}

// Producers mixing market data (which waits when full) with order events
// (which never wait) through a tiny ring: every event arrives, each
// producer's in its own order.
TEST(CoreLoop, MixedTrafficThroughATinyRingKeepsEveryProducersOrder) {
  EventQueue queue(8);
  SimulatedClock clock(0, 0);
  struct Check final : EventProcessor {
    void process(const Event& e) override {
      uint64_t seq = std::holds_alternative<TradeEvent>(e.payload) ? std::get<TradeEvent>(e.payload).sequence
                                                                   : std::get<FillEvent>(e.payload).quantity;
      if (seq != next[e.source]) ++errors;
      next[e.source] = seq + 1;
      ++count;
    }
    uint64_t next[8] = {};
    uint64_t errors = 0, count = 0;
  } check;
  CoreLoop core(queue, clock, check);
  core.start();
  std::vector<std::thread> producers;
  for (uint16_t p = 1; p <= 4; ++p) {
    producers.emplace_back([&, p] {
      for (uint64_t i = 0; i < 20000; ++i) {
        if (i % 7 == 3) {
          FillEvent fill;
          fill.quantity = static_cast<double>(i);
          queue.push(Event{p, fill});
        } else {
          queue.push(Event{p, TradeEvent{Symbol("A"), 1, 1, 1, i}});
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  core.stop();
  EXPECT_EQ(check.count, 80000u);
  EXPECT_EQ(check.errors, 0u);
}

TEST(CoreLoop, AnEventThatThrowsIsReportedAndTheCoreCarriesOn) {
  EventQueue queue;
  SimulatedClock clock(0, 0);
  struct Throwing final : EventProcessor {
    void process(const Event& e) override {
      if (std::get<TradeEvent>(e.payload).sequence == 2) throw std::runtime_error("bad event");
      ++processed;
    }
    void failed(const Event& e, std::string_view what) override {
      failures.emplace_back(std::to_string(std::get<TradeEvent>(e.payload).sequence) + ": " + std::string(what));
    }
    int processed = 0;
    std::vector<std::string> failures;
  } processor;
  for (uint64_t i = 0; i < 5; ++i) queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, i}});
  CoreLoop core(queue, clock, processor);
  core.start();
  core.stop();
  EXPECT_EQ(processor.processed, 4);
  EXPECT_EQ(processor.failures, (std::vector<std::string>{"2: bad event"}));
  EXPECT_EQ(core.eventsFailed(), 1u);
}

// The operator's command goes before what was queued ahead of it: the core
// thread is held on event 1 (as by a slow callback) while 2, 3 and the
// urgent one are posted; it then runs the urgent one before 2 and 3, and
// says meanwhile how long it has been on event 1.
TEST(CoreLoop, AnUrgentEventGoesBeforeEverythingQueuedAndABusyCoreSaysForHowLong) {
  EventQueue queue;
  SimulatedClock clock(0, 0);
  std::atomic<bool> release{false}, holding{false};
  struct Held final : EventProcessor {
    std::atomic<bool>& release;
    std::atomic<bool>& holding;
    std::vector<uint64_t> order;
    Held(std::atomic<bool>& r, std::atomic<bool>& h) : release(r), holding(h) {}
    void process(const Event& e) override {
      const uint64_t n = std::get<TradeEvent>(e.payload).sequence;
      order.push_back(n);
      if (n == 1) {
        holding = true;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  } processor(release, holding);
  CoreLoop core(queue, clock, processor);
  core.start();
  queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, 1}});
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, 2}});
  queue.push(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, 3}});
  ASSERT_TRUE(queue.pushUrgent(Event{1, TradeEvent{Symbol("A"), 1, 1, 1, 99}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_GE(core.busyMs(), 100);
  release = true;
  core.stop();
  EXPECT_EQ(processor.order, (std::vector<uint64_t>{1, 99, 2, 3}));
  EXPECT_EQ(core.busyMs(), 0);
  EXPECT_EQ(core.eventsProcessed(), 4u);
  EXPECT_FALSE(queue.pushUrgent(Event{1, TradeEvent{}})) << "closed";
}

TEST(EventQueue, PushAfterCloseIsRefused) {
  EventQueue queue;
  queue.close();
  EXPECT_FALSE(queue.push(Event{1, TradeEvent{}}));
}

TEST(Symbol, HoldsOccSymbolsInline) {
  Symbol s("SPY261120C00590000");
  EXPECT_EQ(s.view(), "SPY261120C00590000");
  EXPECT_EQ(Symbol("QQQ"), Symbol("QQQ"));
  EXPECT_FALSE(Symbol("QQQ") == Symbol("QQ"));
}

}  // namespace
}  // namespace th
