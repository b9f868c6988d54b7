#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "support/temp_dir.h"

namespace th {
namespace {

std::unique_ptr<Store> openStore(const std::string& dir) {
  auto store = Store::open(dir);
  EXPECT_TRUE(store) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

void expectDenseJournal(Store& store, uint64_t expected_last) {
  auto records = store.readJournal(1, 1'000'000);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), expected_last);
  for (size_t i = 0; i < records->size(); ++i) ASSERT_EQ((*records)[i].sequence, i + 1) << "gap before record " << i;
}

// A scratch store (a backtest's) reads back everything it committed, journal
// sequences included, but syncs nothing to disk, even when a batch asks.
TEST(Store, ScratchStoreReadsBackItsCommitsWithoutSyncing) {
  test::TempDir dir;
  auto opened = Store::open(dir.str(), Durability::Scratch);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  auto batch = store.batch();
  EXPECT_EQ(batch.journal(10, 111, "a"), 1u);
  batch.put(Family::Orders, "TH-1", "order");
  batch.requireSync();
  ASSERT_TRUE(store.commit(batch));
  EXPECT_EQ(store.lastSequence(), 1u);
  EXPECT_EQ(store.syncedCommits(), 0u);
  auto order = store.get(Family::Orders, "TH-1");
  ASSERT_TRUE(order && *order);
  EXPECT_EQ(**order, "order");
  expectDenseJournal(store, 1);

  // A durable store syncs the batches that ask.
  test::TempDir durable_dir;
  auto durable = openStore(durable_dir.str());
  ASSERT_TRUE(durable);
  auto sync = durable->batch();
  sync.put(Family::Orders, "TH-1", "order");
  sync.requireSync();
  ASSERT_TRUE(durable->commit(sync));
  EXPECT_EQ(durable->syncedCommits(), 1u);
}

TEST(Store, JournalSequencesAreDenseAndSurviveReopen) {
  test::TempDir dir;
  {
    auto store = openStore(dir.str());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->lastSequence(), 0u);
    auto batch = store->batch();
    EXPECT_EQ(batch.journal(10, 111, "a"), 1u);
    EXPECT_EQ(batch.journal(10, 222, "b"), 2u);
    batch.put(Family::Orders, "TH-1", "order");
    ASSERT_TRUE(store->commit(batch));
    EXPECT_EQ(store->lastSequence(), 2u);
    EXPECT_EQ(batch.journal(20, 333, "c"), 3u);
    batch.requireSync();
    ASSERT_TRUE(store->commit(batch));
    EXPECT_EQ(store->syncedCommits(), 1u);
  }
  auto store = openStore(dir.str());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->lastSequence(), 3u);
  auto batch = store->batch();
  EXPECT_EQ(batch.journal(10, 444, "d"), 4u);
  ASSERT_TRUE(store->commit(batch));
  expectDenseJournal(*store, 4);
  auto records = store->readJournal(3, 10);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].kind, 20);
  EXPECT_EQ((*records)[0].ts_ns, 333);
  EXPECT_EQ((*records)[0].payload, "c");
  auto order = store->get(Family::Orders, "TH-1");
  ASSERT_TRUE(order && order->has_value());
  EXPECT_EQ(**order, "order");
}

TEST(Store, ScanVisitsAPrefixInKeyOrder) {
  test::TempDir dir;
  auto store = openStore(dir.str());
  auto batch = store->batch();
  batch.put(Family::Bars, "SPY\0b", "2");
  batch.put(Family::Bars, std::string("SPY\0a", 5), "1");
  batch.put(Family::Bars, std::string("QQQ\0a", 5), "x");
  ASSERT_TRUE(store->commit(batch));
  std::vector<std::string> seen;
  ASSERT_TRUE(store->scan(Family::Bars, std::string("SPY\0", 4), [&](std::string_view, std::string_view v) {
    seen.emplace_back(v);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"1"}));
}

TEST(Store, EachFamilyIsSeparate) {
  test::TempDir dir;
  auto store = openStore(dir.str());
  auto batch = store->batch();
  batch.put(Family::Positions, "k", "position");
  batch.put(Family::RiskState, "k", "risk");
  ASSERT_TRUE(store->commit(batch));
  EXPECT_EQ(**store->get(Family::Positions, "k"), "position");
  EXPECT_EQ(**store->get(Family::RiskState, "k"), "risk");
  EXPECT_FALSE(store->get(Family::Fills, "k")->has_value());
}

// A writer killed with SIGKILL at an arbitrary moment: everything it had
// committed is there after reopening, and the sequence continues with no gap.
TEST(Store, SurvivesKillNineWithoutGaps) {
  test::TempDir dir;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      auto store = Store::open(dir.str());
      if (!store) _exit(3);
      for (uint64_t i = 0;; ++i) {
        auto batch = (*store)->batch();
        for (int e = 0; e < 50; ++e) batch.journal(10, static_cast<int64_t>(i), std::string(40, 'x'));
        if (i % 10 == 0) batch.requireSync();
        if (!(*store)->commit(batch)) _exit(4);
        uint64_t committed = (*store)->lastSequence();
        if (write(fds[1], &committed, sizeof committed) != sizeof committed) _exit(5);
      }
    }
    close(fds[1]);
    uint64_t committed = 0, value = 0;
    // Let it commit a while (a different amount each round), then kill it.
    for (int reads = 0; reads < 40 + round * 37; ++reads) {
      if (read(fds[0], &value, sizeof value) != sizeof value) break;
      committed = value;
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    while (read(fds[0], &value, sizeof value) == sizeof value) committed = value;  // reports in flight
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited with " << WEXITSTATUS(status);

    auto store = openStore(dir.str());
    ASSERT_TRUE(store);
    ASSERT_GE(store->lastSequence(), committed) << "round " << round << ": a committed record was lost";
    expectDenseJournal(*store, store->lastSequence());
  }
}

}  // namespace
}  // namespace th
