// The live feed of the synthetic market: one thread that follows the host
// clock and emits every subscribed event whose time has come.
//
// Order is (timestamp, symbol, position on the symbol's tape), a total order
// that does not depend on when the thread happens to poll: a poll emits
// everything in (cursor, now], and consecutive polls concatenate to the same
// sequence one big poll would give. That is what makes the stream for a seed
// identical byte for byte.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <th/plugin.hpp>
#include <thread>

#include "calendar.h"
#include "market.h"

namespace th::synthetic {

// A tape bar as the ABI struct; `symbol` must outlive the struct's use.
th_bar toAbiBar(std::string_view symbol, const TapeBar& bar, uint32_t flags);

class Streamer {
 public:
  Streamer(const Host& host, const MarketModel& model, const SessionSchedule& schedule);
  ~Streamer();
  Streamer(const Streamer&) = delete;
  Streamer& operator=(const Streamer&) = delete;

  // Starts the thread (no-op while it runs). Events after the host's current
  // time stream from here on; a free-running clock (INT64_MAX) streams the
  // configured sessions from the first.
  void start();
  // Stops and joins the thread: no callback after it returns. Reports
  // TH_CONN_DISCONNECTED unless the feed already ended by itself.
  void stop();

  // A symbol joins the merge at the thread's cursor: it streams from now on.
  void subscribe(std::string_view symbol, uint32_t streams);
  void unsubscribe(std::string_view symbol, uint32_t streams);

 private:
  using Tapes = std::map<std::string, std::shared_ptr<const SessionTape>, std::less<>>;

  void run(int64_t cursor);
  // Emits the subscribed events of `session` with cursor < ts <= target;
  // false when asked to stop part-way.
  bool emit(const Session& session, int64_t cursor, int64_t target, Tapes& tapes);
  bool stopRequested() const { return stop_.load(std::memory_order_relaxed); }

  Host host_;
  const MarketModel& model_;
  const SessionSchedule& schedule_;

  std::mutex mutex_;  // guards subscriptions_ and the wait below
  std::condition_variable wake_;
  std::map<std::string, uint32_t, std::less<>> subscriptions_;  // symbol order breaks timestamp ties
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};  // the thread reported the end of the feed itself
  std::thread thread_;
};

}  // namespace th::synthetic
