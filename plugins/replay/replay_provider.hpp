// The replay data provider: plays CSV bar files through the plugin ABI.
//
// create() loads and validates every file (see bar_loader.hpp). connect()
// starts one playback thread that walks all bars in (start, symbol) order and
// hands the subscribed ones to the host as final 1-minute bars, as fast as
// possible or paced at a multiple of real time; at the end it reports
// TH_CONN_DISCONNECTED "replay: end of data (N bars)". history() and lookup()
// read the same immutable store and may run on any thread during playback.
#pragma once

#include "bar_store.hpp"

#include <th/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace th::replay {

class ReplayProvider final : public DataProvider {
 public:
  ReplayProvider(Host host, std::string_view config);
  ~ReplayProvider() override;

  void connect() override;
  void disconnect() override;
  void subscribe(std::string_view symbol, uint32_t streams) override;
  void unsubscribe(std::string_view symbol, uint32_t streams) override;
  void history(const th_history_request& request, th_bar_sink sink, void* sink_ctx) override;
  void lookup(std::string_view symbol, th_instrument& out) override;
  void listSymbols(th_symbol_sink sink, void* sink_ctx) override;

 private:
  // The playback thread's body.
  void play();
  // Sleeps until `deadline`; false when disconnect() interrupted the wait.
  bool sleepUntil(std::chrono::steady_clock::time_point deadline);
  uint32_t symbolIndex(std::string_view symbol, std::string_view operation) const;

  double speed_ = 0;
  size_t fileCount_ = 0;
  BarStore store_;
  // TH_STREAM_* bits per symbol index. Atomics let subscribe() change them
  // while the playback thread reads them, without a lock per bar.
  std::unique_ptr<std::atomic<uint32_t>[]> subscriptions_;

  std::thread thread_;
  std::atomic<bool> playing_{false};  // connected and the end of data not yet reached
  std::atomic<bool> stop_{false};
  std::mutex sleepMutex_;
  std::condition_variable wake_;
};

}  // namespace th::replay
