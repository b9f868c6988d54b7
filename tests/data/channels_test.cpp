// Request channels: rate budgets, concurrency caps, isolation between lanes,
// stats, and cancellation on stop. The rate budget runs on a manual clock, so
// the tests count tokens rather than measure time; waits below are only
// guards against a hang, never the thing asserted.
#include "data/channels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace th {
namespace {

constexpr int64_t kOneMs = 1'000'000;
constexpr auto kHangGuard = std::chrono::seconds(30);

// Counters that tasks update and the test waits on.
class Progress {
 public:
  void bump(int& counter) {
    std::lock_guard lock(mutex_);
    ++counter;
    changed_.notify_all();
  }
  template <typename Pred>
  bool waitFor(Pred pred) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kHangGuard, pred);
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  int started = 0, finished = 0, cancelled = 0;
};

// A gate tasks block on until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

ChannelStats statsOf(const RequestChannels& channels, std::string_view name) {
  for (auto& s : channels.stats()) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no channel " << name;
  return {};
}

ChannelTask counting(Progress& progress) {
  return {[&progress]() -> Result<void> {
            progress.bump(progress.finished);
            return {};
          },
          [&progress](const Error&) { progress.bump(progress.cancelled); }};
}

TEST(RequestChannels, RateBudgetIsTokensNotTime) {
  std::atomic<int64_t> now{0};
  RequestChannels channels({{"r", 1, 10, 100}}, [&] { return now.load(); });
  Progress progress;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(channels.submit("r", counting(progress)));
  // A full bucket: the burst, max(1, rate) = 10, and not one more.
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 10; }));
  auto stats = statsOf(channels, "r");
  EXPECT_EQ(stats.queued, 30u) << "with the clock stopped no token is earned";
  // Half a second earns five.
  now += 500 * kOneMs;
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 15; }));
  EXPECT_EQ(statsOf(channels, "r").queued, 25u);
  // A long pause earns no more than the burst.
  now += 60'000 * kOneMs;
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 25; }));
  EXPECT_EQ(statsOf(channels, "r").queued, 15u);
  channels.stop();
  EXPECT_EQ(progress.finished, 25);
  EXPECT_EQ(progress.cancelled, 15);
  EXPECT_EQ(statsOf(channels, "r").requests, 40u);
}

TEST(RequestChannels, AFractionalRateStillAllowsOneRequest) {
  std::atomic<int64_t> now{0};
  RequestChannels channels({{"slow", 1, 0.5, 10}}, [&] { return now.load(); });
  Progress progress;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(channels.submit("slow", counting(progress)));
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 1; }));
  EXPECT_EQ(statsOf(channels, "slow").queued, 2u);
  now += 2000 * kOneMs;  // 0.5 per second: one token
  // A new submission wakes the worker at once, rather than when the two
  // seconds it computed from the stopped clock are up in real time.
  ASSERT_TRUE(channels.submit("slow", counting(progress)));
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 2; }));
  EXPECT_EQ(statsOf(channels, "slow").queued, 2u);
}

TEST(RequestChannels, ConcurrencyIsCapped) {
  RequestChannels channels({{"c", 3, 0, 100}});
  Progress progress;
  Gate gate;
  std::atomic<int> active{0}, most{0};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(channels.submit("c", {[&]() -> Result<void> {
                                        int now_active = ++active;
                                        int seen = most.load();
                                        while (now_active > seen && !most.compare_exchange_weak(seen, now_active)) {
                                        }
                                        progress.bump(progress.started);
                                        gate.wait();
                                        --active;
                                        progress.bump(progress.finished);
                                        return {};
                                      },
                                      {}}));
  }
  ASSERT_TRUE(progress.waitFor([&] { return progress.started == 3; }));
  auto stats = statsOf(channels, "c");
  EXPECT_EQ(stats.running, 3u);
  EXPECT_EQ(stats.queued, 7u);
  gate.open();
  ASSERT_TRUE(progress.waitFor([&] { return progress.finished == 10; }));
  EXPECT_EQ(most.load(), 3);
}

TEST(RequestChannels, ASaturatedScannerDoesNotDelayOrders) {
  std::atomic<int64_t> now{0};
  RequestChannels channels({{"orders", 1, 10, 8}, {"scanner", 1, 1, 4}}, [&] { return now.load(); });
  Progress progress;
  Gate gate;
  // The scanner's only worker is stuck in a slow request, its rate budget is
  // spent, and its queue is full.
  ASSERT_TRUE(channels.submit("scanner", {[&]() -> Result<void> {
                                            progress.bump(progress.started);
                                            gate.wait();
                                            return {};
                                          },
                                          {}}));
  ASSERT_TRUE(progress.waitFor([&] { return progress.started == 1; }));
  Progress scanner;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(channels.submit("scanner", counting(scanner)));
  auto full = channels.submit("scanner", counting(scanner));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::Unavailable);

  std::promise<void> order_done;
  ASSERT_TRUE(channels.submit("orders", {[&]() -> Result<void> {
                                           order_done.set_value();
                                           return {};
                                         },
                                         {}}));
  ASSERT_EQ(order_done.get_future().wait_for(kHangGuard), std::future_status::ready);
  EXPECT_EQ(scanner.finished, 0) << "the order ran while the whole scanner lane was blocked";
  EXPECT_EQ(statsOf(channels, "scanner").running, 1u);
  gate.open();
  channels.stop();
  EXPECT_EQ(scanner.cancelled, 4);
}

TEST(RequestChannels, StatsCountRequestsErrorsRejectionsAndLatency) {
  std::atomic<int64_t> now{0};
  RequestChannels channels({{"s", 1, 0, 200}}, [&] { return now.load(); });
  // Each task takes k ms of manual-clock time, one at a time: latencies 1..100 ms.
  for (int k = 1; k <= 100; ++k) {
    std::promise<void> done;
    ASSERT_TRUE(channels.submit("s", {[&, k]() -> Result<void> {
                                        now += k * kOneMs;
                                        done.set_value();
                                        if (k % 10 == 0) return fail(ErrorCode::Unavailable, "provider said no");
                                        if (k == 55) throw std::runtime_error("thrown");
                                        return {};
                                      },
                                      {}}));
    ASSERT_EQ(done.get_future().wait_for(kHangGuard), std::future_status::ready);
    // The completion is recorded after run returns; wait for it before the next.
    while (statsOf(channels, "s").completed != static_cast<uint64_t>(k)) std::this_thread::yield();
  }
  auto unknown = channels.submit("nope", {[]() -> Result<void> { return {}; }, {}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);
  EXPECT_NE(unknown.error().message.find("nope"), std::string::npos);
  auto empty = channels.submit("s", {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::InvalidArgument);

  auto stats = statsOf(channels, "s");
  EXPECT_EQ(stats.requests, 100u);
  EXPECT_EQ(stats.completed, 100u);
  EXPECT_EQ(stats.errors, 11u);  // ten error results and one exception
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.latency_p50_ms, 50);
  EXPECT_EQ(stats.latency_p99_ms, 99);
  EXPECT_EQ(stats.latency_max_ms, 100);
  EXPECT_EQ(channels.unknownChannelRejections(), 1u);
}

TEST(RequestChannels, StopCancelsQueuedTasksAndWaitsForRunningOnes) {
  RequestChannels channels({{"x", 1, 0, 10}});
  Progress progress;
  Gate gate;
  bool running_finished = false;
  ASSERT_TRUE(channels.submit("x", {[&]() -> Result<void> {
                                      progress.bump(progress.started);
                                      gate.wait();
                                      running_finished = true;
                                      return {};
                                    },
                                    {}}));
  ASSERT_TRUE(progress.waitFor([&] { return progress.started == 1; }));
  std::vector<Error> errors;
  std::mutex errors_mutex;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(channels.submit("x", {[&]() -> Result<void> {
                                        progress.bump(progress.finished);
                                        return {};
                                      },
                                      [&](const Error& e) {
                                        {
                                          std::lock_guard lock(errors_mutex);
                                          errors.push_back(e);
                                        }
                                        progress.bump(progress.cancelled);
                                      }}));
  }
  std::thread stopper([&] { channels.stop(); });
  ASSERT_TRUE(progress.waitFor([&] { return progress.cancelled == 3; }));
  gate.open();
  stopper.join();  // returns only once the running task has finished
  EXPECT_TRUE(running_finished);
  EXPECT_EQ(progress.finished, 0);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].code, ErrorCode::Unavailable);

  bool called = false;
  auto late = channels.submit("x", {[&]() -> Result<void> {
                                      called = true;
                                      return {};
                                    },
                                    [&](const Error&) { called = true; }});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::Unavailable);
  channels.stop();  // idempotent
  EXPECT_FALSE(called) << "a refused task is never called";
  EXPECT_EQ(statsOf(channels, "x").rejected, 1u);
}

}  // namespace
}  // namespace th
