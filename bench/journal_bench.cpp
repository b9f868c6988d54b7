// Journal throughput: market events committed in groups without sync, and
// order events with a synced commit per group (group commit) or per event.
#include <benchmark/benchmark.h>

#include "store/journal_codec.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace th {
namespace {

// Market events, `group` per WriteBatch, WAL not synced.
void BM_JournalTradesUnsynced(benchmark::State& state) {
  test::TempDir dir;
  auto store = std::move(*Store::open(dir.str()));
  const auto group = static_cast<int>(state.range(0));
  Event event{1, TradeEvent{Symbol("SPY"), 0, 590.25, 100, 0}};
  auto batch = store->batch();
  int64_t events = 0;
  for (auto _ : state) {
    for (int i = 0; i < group; ++i) {
      auto& trade = std::get<TradeEvent>(event.payload);
      trade.ts_ns = events;
      trade.sequence = static_cast<uint64_t>(events++);
      auto encoded = encodeEvent(event, "synthetic");
      batch.journal(static_cast<uint16_t>(encoded->kind), trade.ts_ns, encoded->payload);
    }
    if (!store->commit(batch)) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_JournalTradesUnsynced)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Order events, `group` per synced commit: what the core thread does with the
// order and fill events that arrive together.
void BM_JournalOrdersSynced(benchmark::State& state) {
  test::TempDir dir;
  auto store = std::move(*Store::open(dir.str()));
  const auto group = static_cast<int>(state.range(0));
  OrderEvent order;
  order.client_order_id = "TH-20261120-000001";
  order.symbol = "SPY";
  order.status = 2;
  order.quantity = 100;
  Event event{2, order};
  auto batch = store->batch();
  int64_t events = 0;
  for (auto _ : state) {
    for (int i = 0; i < group; ++i) {
      auto encoded = encodeEvent(event, "paper");
      batch.journal(static_cast<uint16_t>(encoded->kind), events++, encoded->payload);
      batch.put(Family::Orders, order.client_order_id, encoded->payload);
    }
    batch.requireSync();
    if (!store->commit(batch)) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_JournalOrdersSynced)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace th

BENCHMARK_MAIN();
