// Shared helpers for the replay plugin tests: one plugin instance loaded from
// the real libreplay.so through the recording test host, plus fixture paths.
#pragma once

#include "support/plugin_harness.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace th::test::replay {

using nlohmann::json;

inline const std::string kPluginPath = TH_PLUGIN_DIR "/libreplay.so";

// 2024-01-02 14:30 UTC (09:30 New York), the first minute of the fixtures.
inline constexpr int64_t kMinuteNs = 60'000'000'000;
inline constexpr int64_t kOpenNs = 1'704'205'800'000'000'000;

inline std::string fixture(const std::string& name) { return TH_SOURCE_DIR "/tests/fixtures/replay/" + name; }

// "SPY@1" for the SPY bar starting one minute after kOpenNs: compact enough to
// compare whole sequences in one assertion.
inline std::string key(const BarRecord& bar) {
  return bar.symbol + "@" + std::to_string((bar.start_ns - kOpenNs) / kMinuteNs);
}
inline std::vector<std::string> keys(const std::vector<BarRecord>& bars) {
  std::vector<std::string> out;
  for (const BarRecord& bar : bars) out.push_back(key(bar));
  return out;
}

struct CreateResult {
  th_status status;
  std::string message;
};

// Creates (and destroys) an instance, returning the status and the message.
inline CreateResult tryCreate(const json& config) {
  RecordingHost host;
  LoadedPlugin plugin(kPluginPath, host);
  std::string text = config.dump();
  th_plugin* instance = nullptr;
  char err[1024] = {0};
  th_status status = plugin.descriptor().create(text.data(), static_cast<uint32_t>(text.size()), host.api(), host.ctx(),
                                                &instance, err, sizeof err);
  if (status == TH_OK) plugin.descriptor().destroy(instance);
  return {status, err};
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / ("replay_test_" + std::to_string(::getpid()) + "_" + test->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// One live plugin instance; destroyed (and so disconnected) at scope end.
class Replay {
 public:
  explicit Replay(const json& config) : plugin_(kPluginPath, host), instance_(plugin_.create(config.dump(), host)) {}
  ~Replay() { plugin_.descriptor().destroy(instance_); }
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  const th_data_api& api() const { return *plugin_.descriptor().data; }

  th_status connect() { return api().connect(instance_, err_, sizeof err_); }
  th_status disconnect() { return api().disconnect(instance_, err_, sizeof err_); }
  th_status subscribe(const std::string& symbol, uint32_t streams = TH_STREAM_BARS_1M) {
    return api().subscribe(instance_, symbol.data(), static_cast<uint32_t>(symbol.size()), streams, err_, sizeof err_);
  }
  th_status unsubscribe(const std::string& symbol, uint32_t streams = TH_STREAM_BARS_1M) {
    return api().unsubscribe(instance_, symbol.data(), static_cast<uint32_t>(symbol.size()), streams, err_,
                             sizeof err_);
  }
  // The symbols as the plugin lists them (ABI 1.2), in its order.
  std::vector<std::string> symbols(th_status& status) {
    std::vector<std::string> out;
    if (!api().symbols) {
      status = TH_ERR_NOT_SUPPORTED;
      return out;
    }
    auto sink = [](void* c, const char* symbol, uint32_t length) {
      static_cast<std::vector<std::string>*>(c)->emplace_back(symbol, length);
    };
    status = api().symbols(instance_, sink, &out, err_, sizeof err_);
    return out;
  }
  th_status lookup(const std::string& symbol, th_instrument& out) {
    out = {};
    out.struct_size = sizeof out;
    return api().lookup(instance_, symbol.data(), static_cast<uint32_t>(symbol.size()), &out, err_, sizeof err_);
  }
  // Bars of [fromNs, toNs); `status` receives the call's status.
  std::vector<BarRecord> history(const std::string& symbol, int64_t fromNs, int64_t toNs, th_status& status,
                                 int64_t durationNs = kMinuteNs) {
    th_history_request request{};
    request.struct_size = sizeof request;
    request.symbol = symbol.data();
    request.symbol_len = static_cast<uint32_t>(symbol.size());
    request.from_ns = fromNs;
    request.to_ns = toNs;
    request.duration_ns = durationNs;
    std::vector<BarRecord> out;
    auto sink = [](void* ctx, const th_bar* b) {
      static_cast<std::vector<BarRecord>*>(ctx)->push_back({str(b->symbol, b->symbol_len), b->flags, b->start_ns,
                                                            b->duration_ns, b->open, b->high, b->low, b->close,
                                                            b->volume, b->vwap, b->trade_count});
    };
    status = api().history(instance_, &request, sink, &out, err_, sizeof err_);
    return out;
  }
  // Every bar of `symbol` in the files.
  std::vector<BarRecord> allHistory(const std::string& symbol) {
    th_status status = TH_OK;
    auto bars = history(symbol, INT64_MIN, INT64_MAX, status);
    EXPECT_EQ(status, TH_OK) << error();
    return bars;
  }

  // Waits for the end-of-data report; false on timeout.
  bool waitForEndOfData(size_t reports = 1) {
    return host.waitFor([&] {
      size_t seen = 0;
      for (const auto& [state, reason] : host.connections) {
        if (state == TH_CONN_DISCONNECTED && reason.starts_with("replay: end of data")) ++seen;
      }
      return seen >= reports;
    });
  }
  std::vector<BarRecord> bars() {
    return host.locked([&] { return host.bars; });
  }
  std::vector<std::pair<int32_t, std::string>> connections() {
    return host.locked([&] { return host.connections; });
  }

  std::string error() const { return err_; }

  RecordingHost host;

 private:
  LoadedPlugin plugin_;
  th_plugin* instance_;
  char err_[1024] = {0};
};

}  // namespace th::test::replay
