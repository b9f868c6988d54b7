// Shared helpers for the synthetic plugin tests: a plugin instance on a
// RecordingHost with typed wrappers for the data API, UTC instants computed
// independently of the plugin, and bar grouping.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "support/plugin_harness.h"

namespace th::test::synthetic {

using th::test::BarRecord;
using th::test::LoadedPlugin;
using th::test::RecordingHost;

inline const std::string kPluginPath = TH_PLUGIN_DIR "/libsynthetic.so";
inline constexpr int64_t kMinute = 60'000'000'000;
inline constexpr int64_t kFreeRunning = std::numeric_limits<int64_t>::max();
inline constexpr uint32_t kAllStreams = TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M;

// UTC instant of a civil time, computed independently of the plugin (timegm).
inline int64_t utcNs(int year, int month, int day, int hour = 0, int minute = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
}

struct OptionRecord {
  std::string symbol, underlying;
  int32_t right, expiry;
  double strike;
  int64_t ts_ns;
  double bid, ask, last, volume, open_interest, implied_vol, delta, gamma, theta, vega, underlying_price;
  double mid() const { return (bid + ask) / 2; }
};

// One plugin instance on a RecordingHost; destroyed before the library closes.
class Instance {
 public:
  explicit Instance(const std::string& config, const th::SessionCalendar& calendar = th::SessionCalendar::builtin())
      : host(calendar), plugin_(kPluginPath, host), p_(plugin_.create(config, host)) {}
  ~Instance() { plugin_.descriptor().destroy(p_); }

  const th_data_api& api() const { return *plugin_.descriptor().data; }
  th_plugin* handle() const { return p_; }

  th_status subscribe(const std::string& symbol, uint32_t streams = kAllStreams) {
    return api().subscribe(p_, symbol.data(), static_cast<uint32_t>(symbol.size()), streams, err, sizeof err);
  }
  th_status connect() { return api().connect(p_, err, sizeof err); }
  th_status disconnect() { return api().disconnect(p_, err, sizeof err); }

  // Streams the configured sessions with a free-running clock until the feed ends.
  void runToEnd() {
    ASSERT_EQ(connect(), TH_OK) << err;
    bool ended = host.waitFor(
        [&] {
          return std::any_of(host.connections.begin(), host.connections.end(),
                             [](const auto& c) { return c.first == TH_CONN_DISCONNECTED; });
        },
        std::chrono::seconds(120));
    ASSERT_TRUE(ended) << "feed did not end";
    ASSERT_EQ(disconnect(), TH_OK) << err;
  }

  th_status history(const std::string& symbol, int64_t from, int64_t to, std::vector<BarRecord>& out,
                    int64_t duration = kMinute) {
    th_history_request request{sizeof request, symbol.data(), static_cast<uint32_t>(symbol.size()), from, to, duration};
    return api().history(
        p_, &request,
        [](void* ctx, const th_bar* b) {
          static_cast<std::vector<BarRecord>*>(ctx)->push_back({th::test::str(b->symbol, b->symbol_len), b->flags,
                                                                b->start_ns, b->duration_ns, b->open, b->high, b->low,
                                                                b->close, b->volume, b->vwap, b->trade_count});
        },
        &out, err, sizeof err);
  }

  th_status chain(const std::string& underlying, int64_t as_of, std::vector<OptionRecord>& out) {
    return api().option_chain(
        p_, underlying.data(), static_cast<uint32_t>(underlying.size()), as_of,
        [](void* ctx, const th_option_quote* q) {
          static_cast<std::vector<OptionRecord>*>(ctx)->push_back(
              {th::test::str(q->symbol, q->symbol_len), th::test::str(q->underlying, q->underlying_len), q->right,
               q->expiry_yyyymmdd, q->strike, q->ts_ns, q->bid, q->ask, q->last, q->volume, q->open_interest,
               q->implied_vol, q->delta, q->gamma, q->theta, q->vega, q->underlying_price});
        },
        &out, err, sizeof err);
  }

  RecordingHost host;
  char err[512] = {0};

 private:
  LoadedPlugin plugin_;
  th_plugin* p_;
};

// Bars grouped into sessions (a gap of more than two hours starts a new one).
inline std::vector<std::vector<BarRecord>> bySession(const std::vector<BarRecord>& bars) {
  std::vector<std::vector<BarRecord>> sessions;
  for (const BarRecord& b : bars) {
    if (sessions.empty() || b.start_ns - sessions.back().back().start_ns > 2 * 3600 * 1'000'000'000LL) {
      sessions.emplace_back();
    }
    sessions.back().push_back(b);
  }
  return sessions;
}

inline std::vector<BarRecord> barsOf(const std::vector<BarRecord>& bars, const std::string& symbol) {
  std::vector<BarRecord> out;
  for (const BarRecord& b : bars) {
    if (b.symbol == symbol) out.push_back(b);
  }
  return out;
}

}  // namespace th::test::synthetic
