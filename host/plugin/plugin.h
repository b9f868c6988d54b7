// Plugins: loading shared libraries through Boost.DLL, checking them against
// the C ABI of sdk/include/th/plugin.h, and calling them.
//
// PluginLibrary is one loaded .so and its validated descriptor. Every load
// failure is reported with the file and the reason: not found, not a shared
// object, no th_plugin_entry, ABI major mismatch, a struct too small, or the
// plugin's own error. PluginInstance is one configured instance; its calls
// are serialised by a per-instance lock (the ABI promises a plugin no two
// concurrent calls) except those the ABI marks concurrent. Plugin callbacks
// reach the host through a PluginEventSink, which posts into the core queue
// and never touches trading state.
#pragma once

#include <th/plugin.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/event.h"

namespace th {

struct PluginInfo {
  std::string path;
  std::string id, name, version, description;
  int32_t kind = 0;  // TH_KIND_*
  uint16_t abi_major = 0, abi_minor = 0;
  uint32_t descriptor_size = 0;
  uint32_t table_size = 0;
  uint32_t capabilities = 0;           // brokers: TH_BROKER_*
  std::vector<std::string> functions;  // the ABI functions the plugin provides
};

std::string_view kindName(int32_t kind);
std::string capabilityNames(uint32_t capabilities);

class SessionCalendar;

// Where a plugin's callbacks go. Implementations are thread-safe.
class PluginEventSink {
 public:
  virtual ~PluginEventSink() = default;
  virtual void post(uint16_t source, EventPayload&& payload) = 0;
  virtual int64_t nowNs() const = 0;
  virtual void log(const std::string& plugin, int32_t level, std::string_view message) = 0;
  // The calendar plugins' session calls answer from: the host's own (with
  // its override file); the built-in rules for tools that have none.
  virtual const SessionCalendar& calendar() const;
};

class PluginLibrary {
 public:
  ~PluginLibrary();
  // Loads and validates; the error message names the file and the reason.
  [[nodiscard]] static Result<std::unique_ptr<PluginLibrary>> load(const std::string& path);
  const PluginInfo& info() const { return info_; }
  const th_plugin_descriptor& descriptor() const { return descriptor_; }
  const th_data_api& data() const { return data_; }
  const th_broker_api& broker() const { return broker_; }

 private:
  struct Impl;
  PluginLibrary() = default;
  std::unique_ptr<Impl> impl_;
  PluginInfo info_;
  th_plugin_descriptor descriptor_{};
  th_data_api data_{};  // copied by declared size, zero beyond
  th_broker_api broker_{};
};

class PluginInstance;

// The host_ctx each plugin instance is given: where its callbacks go.
// `instance` may be null (benchmarks, tools) when no state is tracked.
struct PluginCallbackContext {
  PluginEventSink* sink = nullptr;
  uint16_t index = 0;
  std::string id;
  PluginInstance* instance = nullptr;
};

// A broker's report as the host's event (the struct already read by its
// declared size); the same for callbacks and reconciliation lists.
OrderEvent toOrderEvent(const th_order_state& state);
FillEvent toFillEvent(const th_fill& fill);

// The host API table handed to every plugin; its host_ctx is a PluginCallbackContext.
const th_host_api* hostApi();

enum class PluginState { Created, Connecting, Connected, Disconnected, Failed };
std::string_view toString(PluginState state);

class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<PluginLibrary> library, std::string id, uint16_t index, PluginEventSink& sink);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  [[nodiscard]] Result<void> create(const std::string& config_json);
  void destroy();

  const std::string& id() const { return id_; }
  uint16_t index() const { return index_; }
  const PluginInfo& info() const { return library_->info(); }
  bool isData() const { return info().kind == TH_KIND_DATA; }
  bool isBroker() const { return info().kind == TH_KIND_BROKER; }
  uint32_t capabilities() const { return library_->broker().capabilities; }
  bool wantsMarketFeed() const { return isBroker() && (capabilities() & TH_BROKER_MARKET_FEED); }

  // State as the host last saw it, with the reason for the last change.
  PluginState state() const { return state_.load(); }
  std::string stateReason() const;
  void setState(PluginState state, std::string reason);
  // Sets `desired` only if the state is still `expected` (a plugin may report
  // its own state from another thread meanwhile).
  bool changeState(PluginState expected, PluginState desired, std::string reason);

  // Data provider calls.
  [[nodiscard]] Result<void> connect();
  [[nodiscard]] Result<void> disconnect();
  [[nodiscard]] Result<void> subscribe(std::string_view symbol, uint32_t streams);
  [[nodiscard]] Result<void> unsubscribe(std::string_view symbol, uint32_t streams);
  [[nodiscard]] Result<void> history(const th_history_request& request, const std::function<void(const th_bar&)>& sink);
  [[nodiscard]] Result<void> optionChain(std::string_view underlying, int64_t as_of_ns,
                                         const std::function<void(const th_option_quote&)>& sink);
  [[nodiscard]] Result<th_instrument> lookup(std::string_view symbol);
  // Every symbol the provider has bars for, sorted, each once. Unavailable
  // when the plugin cannot list them (no `symbols` function: ABI 1.2).
  [[nodiscard]] Result<std::vector<std::string>> symbols();

  // Broker calls. A status other than TH_OK comes back as the error, with
  // the plugin's status in `plugin_status` when the caller needs it.
  [[nodiscard]] Result<void> submit(const th_order_request& order, th_status* plugin_status = nullptr);
  [[nodiscard]] Result<void> cancel(std::string_view client_order_id, th_status* plugin_status = nullptr);
  [[nodiscard]] Result<void> openOrders(const std::function<void(const th_order_state&)>& sink);
  [[nodiscard]] Result<void> positions(const std::function<void(const th_position&)>& sink);
  [[nodiscard]] Result<void> fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink);
  [[nodiscard]] Result<th_account> account();
  void feedTrade(const th_trade& trade);
  void feedQuote(const th_quote& quote);
  void feedBar(const th_bar& bar);

 private:
  Error pluginError(std::string_view call, th_status status, const char* message) const;

  std::shared_ptr<PluginLibrary> library_;
  std::string id_;
  uint16_t index_;
  std::unique_ptr<PluginCallbackContext> context_;
  th_plugin* instance_ = nullptr;
  mutable std::mutex call_mutex_;
  // history, option_chain, lookup and symbols run concurrently with everything (the
  // ABI allows it) but never with destroy().
  mutable std::shared_mutex lifetime_mutex_;
  mutable std::mutex state_mutex_;
  std::atomic<PluginState> state_{PluginState::Created};
  std::string state_reason_;
};

// The plugins of one host, by id and by index (index 0 is the host itself).
class PluginRegistry {
 public:
  explicit PluginRegistry(PluginEventSink& sink) : sink_(sink) {}
  ~PluginRegistry();

  // Loads `library_path` and creates an instance named `id` with its config.
  [[nodiscard]] Result<PluginInstance*> add(const std::string& id, const std::string& library_path,
                                            const std::string& config_json);
  PluginInstance* find(std::string_view id) const;
  PluginInstance* at(uint16_t index) const;
  const std::vector<std::unique_ptr<PluginInstance>>& all() const { return instances_; }
  // Destroys every instance, last loaded first.
  void clear();

 private:
  PluginEventSink& sink_;
  std::vector<std::unique_ptr<PluginInstance>> instances_;
};

// Resolves a configured library: a path is used as given; a bare name means
// lib<name>.so in `plugin_dir`.
std::string resolvePluginPath(const std::string& library, const std::string& plugin_dir);
// build/plugins next to build/bin/tradehost.
std::string defaultPluginDir();

}  // namespace th
