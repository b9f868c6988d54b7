#include <gtest/gtest.h>

#include <atomic>
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
        queue.push(Event{static_cast<uint16_t>(p + 1), TradeEvent{Symbol("SPY"), static_cast<int64_t>(i + 1), 1, 1, i}});
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

TEST(EventQueue, OrderEventsNeverWaitOnAFullQueue) {
  EventQueue queue(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(queue.push(Event{1, TradeEvent{}}));
  // No consumer runs: a market event would wait here, an order event must not.
  EXPECT_TRUE(queue.push(Event{1, OrderEvent{}}));
  EXPECT_TRUE(queue.push(Event{1, FillEvent{}}));
  EXPECT_EQ(queue.depth(), 6u);
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
