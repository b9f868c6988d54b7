// A minimal host for testing one plugin .so directly through the C ABI:
// dlopen, th_plugin_entry, create, and a host API table that records every
// callback and answers calendar calls from the host's own calendar. Plugin
// tests use it so they exercise the real shared library the host would
// load, without depending on the host's other services.
#pragma once

#include <th/plugin.h>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/calendar.h"

namespace th::test {

struct TradeRecord {
  std::string symbol;
  int64_t ts_ns;
  double price, size;
  uint64_t sequence;
};
struct QuoteRecord {
  std::string symbol;
  int64_t ts_ns;
  double bid, ask, bid_size, ask_size;
};
struct BarRecord {
  std::string symbol;
  uint32_t flags;
  int64_t start_ns, duration_ns;
  double open, high, low, close, volume, vwap;
  uint64_t trade_count;
};
struct OrderRecord {
  std::string client_order_id, broker_order_id, symbol, reason;
  int32_t asset_class, side, type, time_in_force, status;
  double quantity, filled_quantity, average_fill_price, limit_price, stop_price;
  int64_t ts_ns;
};
struct FillRecord {
  std::string fill_id, client_order_id, broker_order_id, symbol;
  int32_t asset_class, side;
  double quantity, price, commission, multiplier;
  int64_t ts_ns;
  int32_t activity = TH_FILL_TRADE;
  std::string contract;
};
struct LogRecord {
  int32_t level;
  std::string message;
};

inline std::string str(const char* data, uint32_t len) { return data ? std::string(data, len) : std::string(); }

inline OrderRecord toRecord(const th_order_state& o) {
  return {str(o.client_order_id, o.client_order_id_len),
          str(o.broker_order_id, o.broker_order_id_len),
          str(o.symbol, o.symbol_len),
          str(o.reason, o.reason_len),
          o.asset_class,
          o.side,
          o.type,
          o.time_in_force,
          o.status,
          o.quantity,
          o.filled_quantity,
          o.average_fill_price,
          o.limit_price,
          o.stop_price,
          o.ts_ns};
}
inline FillRecord toRecord(const th_fill& f) {
  return {str(f.fill_id, f.fill_id_len),
          str(f.client_order_id, f.client_order_id_len),
          str(f.broker_order_id, f.broker_order_id_len),
          str(f.symbol, f.symbol_len),
          f.asset_class,
          f.side,
          f.quantity,
          f.price,
          f.commission,
          f.multiplier,
          f.ts_ns,
          TH_HAS_FIELD(th_fill, &f, activity) ? f.activity : TH_FILL_TRADE,
          TH_HAS_FIELD(th_fill, &f, contract_len) ? str(f.contract, f.contract_len) : std::string()};
}

// Records every host callback. Thread-safe: plugins call from their own threads.
class RecordingHost {
 public:
  explicit RecordingHost(const SessionCalendar& calendar = SessionCalendar::builtin()) : calendar(&calendar) {
    api_.struct_size = sizeof api_;
    api_.abi_major = TH_ABI_VERSION_MAJOR;
    api_.abi_minor = TH_ABI_VERSION_MINOR;
    api_.log = [](void* c, int32_t level, const char* m, uint32_t n) {
      auto* h = static_cast<RecordingHost*>(c);
      std::lock_guard lock(h->mutex_);
      h->logs.push_back({level, str(m, n)});
    };
    api_.now_ns = [](void* c) { return static_cast<RecordingHost*>(c)->now_ns.load(); };
    api_.on_trade = [](void* c, const th_trade* t) {
      auto* h = static_cast<RecordingHost*>(c);
      h->record([&] {
        h->trades.push_back({str(t->symbol, t->symbol_len), t->ts_ns, t->price, t->size, t->sequence});
      });
    };
    api_.on_quote = [](void* c, const th_quote* q) {
      auto* h = static_cast<RecordingHost*>(c);
      h->record([&] {
        h->quotes.push_back({str(q->symbol, q->symbol_len), q->ts_ns, q->bid, q->ask, q->bid_size, q->ask_size});
      });
    };
    api_.on_bar = [](void* c, const th_bar* b) {
      auto* h = static_cast<RecordingHost*>(c);
      h->record([&] {
        h->bars.push_back({str(b->symbol, b->symbol_len), b->flags, b->start_ns, b->duration_ns, b->open, b->high,
                           b->low, b->close, b->volume, b->vwap, b->trade_count});
      });
    };
    api_.on_order = [](void* c, const th_order_state* o) {
      auto* h = static_cast<RecordingHost*>(c);
      if (h->on_report) h->on_report();
      h->record([&] { h->orders.push_back(toRecord(*o)); });
    };
    api_.on_fill = [](void* c, const th_fill* f) {
      auto* h = static_cast<RecordingHost*>(c);
      if (h->on_report) h->on_report();
      h->record([&] { h->fills.push_back(toRecord(*f)); });
    };
    api_.on_connection = [](void* c, int32_t state, const char* r, uint32_t n) {
      auto* h = static_cast<RecordingHost*>(c);
      h->record([&] { h->connections.push_back({state, str(r, n)}); });
      if (h->after_connection) h->after_connection(state, str(r, n));
    };
    api_.session_on = [](void* c, int32_t date, th_session* out) {
      return toAbiSession(static_cast<RecordingHost*>(c)->calendar->sessionOn(date), out);
    };
    api_.next_session = [](void* c, int64_t ts_ns, th_session* out) {
      return toAbiSession(static_cast<RecordingHost*>(c)->calendar->nextSession(ts_ns), out);
    };
    api_.previous_session = [](void* c, int64_t ts_ns, th_session* out) {
      return toAbiSession(static_cast<RecordingHost*>(c)->calendar->previousSession(ts_ns), out);
    };
  }

  // Makes this a host from before ABI 1.4: a shorter table, no calendar.
  void withoutCalendar() {
    api_.struct_size = offsetof(th_host_api, session_on);
    api_.abi_minor = 3;
    api_.session_on = nullptr;
    api_.next_session = nullptr;
    api_.previous_session = nullptr;
  }

  const th_host_api* api() const { return &api_; }
  void* ctx() { return this; }

  // Wait until pred() (called under the lock) holds, up to `timeout`.
  bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, pred);
  }
  template <typename Fn>
  auto locked(Fn&& fn) {
    std::lock_guard lock(mutex_);
    return fn();
  }

  // What the calendar calls answer from.
  const SessionCalendar* calendar;

  // Host clock as the plugin sees it; max() lets a simulated feed run freely.
  std::atomic<int64_t> now_ns{std::numeric_limits<int64_t>::max()};

  // Optional. Runs inside on_connection, on the plugin's thread, after the
  // change is recorded and waiters are woken: a test can hold the plugin in
  // its callback to probe what the plugin does meanwhile. Set it before the
  // plugin starts.
  std::function<void(int32_t state, const std::string& reason)> after_connection;
  // Optional. Runs inside on_order and on_fill, on the plugin's thread,
  // before the report is recorded: what the test sees there is what was
  // true at the moment the plugin reported (its state on disk, say).
  std::function<void()> on_report;

  std::vector<LogRecord> logs;
  std::vector<TradeRecord> trades;
  std::vector<QuoteRecord> quotes;
  std::vector<BarRecord> bars;
  std::vector<OrderRecord> orders;
  std::vector<FillRecord> fills;
  std::vector<std::pair<int32_t, std::string>> connections;

 private:
  template <typename Fn>
  void record(Fn&& fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    changed_.notify_all();
  }

  th_host_api api_{};
  std::mutex mutex_;
  std::condition_variable changed_;
};

// A plugin library opened with dlopen and its descriptor.
class LoadedPlugin {
 public:
  explicit LoadedPlugin(const std::string& path, const RecordingHost& host) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto entry = reinterpret_cast<th_plugin_entry_fn>(dlsym(handle_, "th_plugin_entry"));
    if (!entry) throw std::runtime_error("no th_plugin_entry in " + path);
    descriptor_.struct_size = sizeof descriptor_;
    char err[512] = {0};
    if (entry(host.api(), &descriptor_, err, sizeof err) != TH_OK) throw std::runtime_error(err);
  }
  ~LoadedPlugin() {
    if (handle_) dlclose(handle_);
  }
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const th_plugin_descriptor& descriptor() const { return descriptor_; }

  // Create an instance; throws with the plugin's message on failure.
  th_plugin* create(const std::string& config_json, RecordingHost& host) const {
    th_plugin* instance = nullptr;
    char err[512] = {0};
    th_status s = descriptor_.create(config_json.data(), static_cast<uint32_t>(config_json.size()), host.api(),
                                     host.ctx(), &instance, err, sizeof err);
    if (s != TH_OK) throw std::runtime_error("create failed (" + std::to_string(s) + "): " + err);
    return instance;
  }

 private:
  void* handle_ = nullptr;
  th_plugin_descriptor descriptor_{};
};

}  // namespace th::test
