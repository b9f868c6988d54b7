// Events handed from a plugin thread through the host API callback and the
// core queue to the core thread: the path every market event takes.
#include <benchmark/benchmark.h>

#include <th/plugin.h>

#include <atomic>
#include <thread>

#include "core/core_loop.h"
#include "core/event_queue.h"
#include "plugin/plugin.h"

namespace th {
namespace {

class CountingProcessor final : public EventProcessor {
 public:
  void process(const Event& event) override {
    checksum_ += std::get<TradeEvent>(event.payload).sequence;
    count.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> count{0};
  uint64_t checksum_ = 0;
};

class QueueSink final : public PluginEventSink {
 public:
  explicit QueueSink(EventQueue& queue) : queue_(queue) {}
  void post(uint16_t source, EventPayload&& payload) override { queue_.push(Event{source, std::move(payload)}); }
  int64_t nowNs() const override { return 0; }
  void log(const std::string&, int32_t, std::string_view) override {}

 private:
  EventQueue& queue_;
};

// One producer thread calls the host's on_trade exactly as a plugin would.
void BM_PluginThreadToCore(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  constexpr uint64_t kPerProducer = 1'000'000;
  for (auto _ : state) {
    EventQueue queue;
    SimulatedClock clock(0, 0);
    CountingProcessor processor;
    CoreLoop core(queue, clock, processor);
    QueueSink sink(queue);
    PluginCallbackContext context{&sink, 1, "bench", nullptr};
    const th_host_api* api = hostApi();
    core.start();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&] {
        th_trade trade{sizeof(th_trade), "SPY", 3, 0, 590.0, 100, 0};
        for (uint64_t i = 0; i < kPerProducer; ++i) {
          trade.ts_ns = static_cast<int64_t>(i);
          trade.sequence = i;
          api->on_trade(&context, &trade);
        }
      });
    }
    for (auto& t : threads) t.join();
    while (processor.count.load() < kPerProducer * producers) std::this_thread::yield();
    core.stop();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerProducer * producers));
}
BENCHMARK(BM_PluginThreadToCore)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace th

BENCHMARK_MAIN();
