// tradehost C++ plugin helpers (header-only, C++17 or later).
//
// Derive from th::DataProvider or th::Broker, override what you offer, and
// export the class with TH_DATA_PLUGIN / TH_BROKER_PLUGIN. The adapters here
// turn the C ABI of <th/plugin.h> into virtual calls, copy incoming structs
// by their declared size (so an older or newer host works), and catch every
// exception at the edge: a throw becomes TH_ERR_INTERNAL (or the status of a
// th::Error) with its message in the caller's buffer. Nothing throws across
// the C boundary.
#ifndef TH_PLUGIN_HPP
#define TH_PLUGIN_HPP

#include <th/plugin.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace th {

// An error with an ABI status; throw it from an override to return that status.
class Error : public std::runtime_error {
 public:
  Error(th_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  th_status status() const noexcept { return status_; }

 private:
  th_status status_;
};

inline std::string_view view(const char* data, uint32_t len) {
  return data ? std::string_view(data, len) : std::string_view();
}

// Copy a struct that arrived across the boundary into a zeroed local one,
// taking at most the bytes both sides know about.
// struct_size of the copy is what both sides know, so TH_HAS_FIELD on it
// still tells whether the sender had a field.
template <typename T>
T readStruct(const T* in) {
  T out;
  std::memset(&out, 0, sizeof out);
  if (in) {
    size_t n = in->struct_size < sizeof(T) ? in->struct_size : sizeof(T);
    std::memcpy(&out, in, n);
    out.struct_size = static_cast<uint32_t>(n);
  } else {
    out.struct_size = sizeof(T);
  }
  return out;
}

// Write a NUL-terminated message into a caller-owned buffer.
inline void writeError(char* err, uint32_t cap, std::string_view message) {
  if (!err || cap == 0) return;
  size_t n = message.size() < cap - 1 ? message.size() : cap - 1;
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// Copy a string into a fixed char array field, NUL-terminated and truncated.
template <size_t N>
void copyField(char (&field)[N], std::string_view value) {
  size_t n = value.size() < N - 1 ? value.size() : N - 1;
  std::memcpy(field, value.data(), n);
  field[n] = '\0';
}

// Runs `fn` and converts any exception into a status and a message.
template <typename Fn>
th_status guard(char* err, uint32_t cap, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const Error& e) {
    writeError(err, cap, e.what());
    return e.status();
  } catch (const std::exception& e) {
    writeError(err, cap, e.what());
    return TH_ERR_INTERNAL;
  } catch (...) {
    writeError(err, cap, "unknown exception in plugin");
    return TH_ERR_INTERNAL;
  }
}

// The host's callbacks for one instance. Safe to call from any thread.
// The table is copied by the size the host declared, so a function an older
// host does not have reads as NULL here (check before calling one marked
// with a later minor version).
class Host {
 public:
  Host(const th_host_api* api, void* ctx) : table_(readStruct(api)), api_(&table_), ctx_(ctx) {}
  Host(const Host& other) : table_(other.table_), api_(&table_), ctx_(other.ctx_) {}
  Host& operator=(const Host& other) {
    table_ = other.table_;
    ctx_ = other.ctx_;
    return *this;
  }
  const th_host_api& table() const { return table_; }

  void log(int32_t level, std::string_view msg) const {
    api_->log(ctx_, level, msg.data(), static_cast<uint32_t>(msg.size()));
  }
  int64_t nowNs() const { return api_->now_ns(ctx_); }
  void trade(const th_trade& t) const { api_->on_trade(ctx_, &t); }
  void quote(const th_quote& q) const { api_->on_quote(ctx_, &q); }
  void bar(const th_bar& b) const { api_->on_bar(ctx_, &b); }
  void order(const th_order_state& o) const { api_->on_order(ctx_, &o); }
  void fill(const th_fill& f) const { api_->on_fill(ctx_, &f); }
  void connection(int32_t state, std::string_view reason) const {
    api_->on_connection(ctx_, state, reason.data(), static_cast<uint32_t>(reason.size()));
  }
  uint16_t abiMinor() const { return api_->abi_minor; }

  // The host's exchange calendar (1.4); a host without it has all three NULL.
  bool hasCalendar() const { return api_->session_on && api_->next_session && api_->previous_session; }
  // Each is std::nullopt when there is no such session (see th_host_api).
  std::optional<th_session> sessionOn(int32_t yyyymmdd) const {
    return session([&](th_session* out) { return api_->session_on(ctx_, yyyymmdd, out); });
  }
  std::optional<th_session> nextSession(int64_t ts_ns) const {
    return session([&](th_session* out) { return api_->next_session(ctx_, ts_ns, out); });
  }
  std::optional<th_session> previousSession(int64_t ts_ns) const {
    return session([&](th_session* out) { return api_->previous_session(ctx_, ts_ns, out); });
  }

 private:
  template <typename Call>
  std::optional<th_session> session(Call&& call) const {
    if (!hasCalendar()) throw Error(TH_ERR_NOT_SUPPORTED, "the host has no exchange calendar (ABI 1.4)");
    th_session out{};
    out.struct_size = sizeof out;
    th_status status = call(&out);
    if (status == TH_ERR_NOT_FOUND) return std::nullopt;
    if (status != TH_OK) throw Error(status, "the host's calendar failed");
    return readStruct(&out);
  }

  th_host_api table_;
  const th_host_api* api_;  // always &table_
  void* ctx_;
};

// Base of every instance. The constructor receives the JSON config text.
class PluginBase {
 public:
  explicit PluginBase(Host host) : host_(host) {}
  virtual ~PluginBase() = default;
  PluginBase(const PluginBase&) = delete;
  PluginBase& operator=(const PluginBase&) = delete;

  const Host& host() const { return host_; }

 private:
  Host host_;
};

class DataProvider : public PluginBase {
 public:
  using PluginBase::PluginBase;
  virtual void connect() = 0;
  virtual void disconnect() = 0;
  virtual void subscribe(std::string_view symbol, uint32_t streams) = 0;
  virtual void unsubscribe(std::string_view symbol, uint32_t streams) = 0;
  virtual void history(const th_history_request& request, th_bar_sink sink, void* sink_ctx) = 0;
  virtual void optionChain(std::string_view, int64_t, th_option_sink, void*) {
    throw Error(TH_ERR_NOT_SUPPORTED, "this provider has no option chains");
  }
  virtual void lookup(std::string_view, th_instrument&) {
    throw Error(TH_ERR_NOT_SUPPORTED, "this provider has no instrument lookup");
  }
  // Each symbol the provider has bars for, once: the ABI's `symbols` (1.2).
  virtual void listSymbols(th_symbol_sink, void*) {
    throw Error(TH_ERR_NOT_SUPPORTED, "this provider cannot list its symbols");
  }
};

class Broker : public PluginBase {
 public:
  using PluginBase::PluginBase;
  virtual void connect() = 0;
  virtual void disconnect() = 0;
  virtual void submit(const th_order_request& order) = 0;
  virtual void cancel(std::string_view client_order_id) = 0;
  virtual void replace(std::string_view, const th_order_request&) {
    throw Error(TH_ERR_NOT_SUPPORTED, "this broker cannot replace orders");
  }
  virtual void openOrders(th_order_sink sink, void* sink_ctx) = 0;
  virtual void positions(th_position_sink sink, void* sink_ctx) = 0;
  virtual void fills(int64_t since_ns, th_fill_sink sink, void* sink_ctx) = 0;
  virtual void account(th_account& out) = 0;
  virtual void onTrade(const th_trade&) {}
  virtual void onQuote(const th_quote&) {}
  virtual void onBar(const th_bar&) {}
};

namespace detail {

template <typename T>
T* self(th_plugin* p) {
  return reinterpret_cast<T*>(p);
}

template <typename T>
th_status create(const char* config, uint32_t len, const th_host_api* host, void* ctx, th_plugin** out, char* err,
                 uint32_t cap) noexcept {
  return guard(err, cap, [&] {
    if (!host || !out) throw Error(TH_ERR_INVALID_ARGUMENT, "create: host and out are required");
    if (host->abi_major != TH_ABI_VERSION_MAJOR) {
      throw Error(TH_ERR_ABI, "host ABI major " + std::to_string(host->abi_major) + ", plugin built for " +
                                  std::to_string(TH_ABI_VERSION_MAJOR));
    }
    T* instance = new T(Host(host, ctx), std::string_view(config ? config : "", config ? len : 0));
    // Stored as the most-derived pointer; every adapter casts back to T.
    *out = reinterpret_cast<th_plugin*>(instance);
    return TH_OK;
  });
}

template <typename T>
void destroy(th_plugin* p) noexcept {
  try {
    delete self<T>(p);
  } catch (...) {
    // A destructor that throws is a plugin bug; the host must not see it.
  }
}

template <typename T>
struct DataAdapter {
  static th_status connect(th_plugin* p, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->connect();
      return TH_OK;
    });
  }
  static th_status disconnect(th_plugin* p, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->disconnect();
      return TH_OK;
    });
  }
  static th_status subscribe(th_plugin* p, const char* s, uint32_t n, uint32_t st, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->subscribe(view(s, n), st);
      return TH_OK;
    });
  }
  static th_status unsubscribe(th_plugin* p, const char* s, uint32_t n, uint32_t st, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->unsubscribe(view(s, n), st);
      return TH_OK;
    });
  }
  static th_status history(th_plugin* p, const th_history_request* r, th_bar_sink sink, void* sc, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!r || !sink) throw Error(TH_ERR_INVALID_ARGUMENT, "history: request and sink are required");
      self<T>(p)->history(readStruct(r), sink, sc);
      return TH_OK;
    });
  }
  static th_status optionChain(th_plugin* p, const char* s, uint32_t n, int64_t at, th_option_sink sink, void* sc,
                               char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!sink) throw Error(TH_ERR_INVALID_ARGUMENT, "option_chain: sink is required");
      self<T>(p)->optionChain(view(s, n), at, sink, sc);
      return TH_OK;
    });
  }
  static th_status lookup(th_plugin* p, const char* s, uint32_t n, th_instrument* out, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!out) throw Error(TH_ERR_INVALID_ARGUMENT, "lookup: out is required");
      if (out->struct_size <= sizeof out->struct_size) throw Error(TH_ERR_ABI, "lookup: out->struct_size is too small");
      th_instrument local = readStruct<th_instrument>(nullptr);
      self<T>(p)->lookup(view(s, n), local);
      size_t size = out->struct_size < sizeof local ? out->struct_size : sizeof local;
      std::memcpy(out, &local, size);
      out->struct_size = static_cast<uint32_t>(size);
      return TH_OK;
    });
  }
  static th_status symbols(th_plugin* p, th_symbol_sink sink, void* sc, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!sink) throw Error(TH_ERR_INVALID_ARGUMENT, "symbols: sink is required");
      self<T>(p)->listSymbols(sink, sc);
      return TH_OK;
    });
  }
  // Optional functions are offered (non-NULL) only when T overrides them:
  // a provider without option chains must say so by leaving the slot empty.
  static constexpr bool kHasOptionChain =
      !std::is_same_v<decltype(&T::optionChain), decltype(&DataProvider::optionChain)>;
  static constexpr bool kHasLookup = !std::is_same_v<decltype(&T::lookup), decltype(&DataProvider::lookup)>;
  static constexpr bool kHasSymbols =
      !std::is_same_v<decltype(&T::listSymbols), decltype(&DataProvider::listSymbols)>;
  static const th_data_api* table() {
    static const th_data_api api = {sizeof(th_data_api),
                                    connect,
                                    disconnect,
                                    subscribe,
                                    unsubscribe,
                                    history,
                                    kHasOptionChain ? optionChain : nullptr,
                                    kHasLookup ? lookup : nullptr,
                                    kHasSymbols ? symbols : nullptr};
    return &api;
  }
};

template <typename T>
struct BrokerAdapter {
  static th_status connect(th_plugin* p, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->connect();
      return TH_OK;
    });
  }
  static th_status disconnect(th_plugin* p, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->disconnect();
      return TH_OK;
    });
  }
  static th_status submit(th_plugin* p, const th_order_request* o, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!o) throw Error(TH_ERR_INVALID_ARGUMENT, "submit: order is required");
      self<T>(p)->submit(readStruct(o));
      return TH_OK;
    });
  }
  static th_status cancel(th_plugin* p, const char* id, uint32_t n, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->cancel(view(id, n));
      return TH_OK;
    });
  }
  static th_status replace(th_plugin* p, const char* id, uint32_t n, const th_order_request* o, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!o) throw Error(TH_ERR_INVALID_ARGUMENT, "replace: changes are required");
      self<T>(p)->replace(view(id, n), readStruct(o));
      return TH_OK;
    });
  }
  static th_status openOrders(th_plugin* p, th_order_sink sink, void* sc, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->openOrders(sink, sc);
      return TH_OK;
    });
  }
  static th_status positions(th_plugin* p, th_position_sink sink, void* sc, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->positions(sink, sc);
      return TH_OK;
    });
  }
  static th_status fills(th_plugin* p, int64_t since, th_fill_sink sink, void* sc, char* e, uint32_t c) {
    return guard(e, c, [&] {
      self<T>(p)->fills(since, sink, sc);
      return TH_OK;
    });
  }
  static th_status account(th_plugin* p, th_account* out, char* e, uint32_t c) {
    return guard(e, c, [&] {
      if (!out) throw Error(TH_ERR_INVALID_ARGUMENT, "account: out is required");
      if (out->struct_size <= sizeof out->struct_size)
        throw Error(TH_ERR_ABI, "account: out->struct_size is too small");
      th_account local = readStruct<th_account>(nullptr);
      self<T>(p)->account(local);
      size_t size = out->struct_size < sizeof local ? out->struct_size : sizeof local;
      std::memcpy(out, &local, size);
      out->struct_size = static_cast<uint32_t>(size);
      return TH_OK;
    });
  }
  // Market feed callbacks have no error channel: a throw is logged and dropped.
  template <typename Fn>
  static void feed(th_plugin* p, Fn&& fn) noexcept {
    try {
      fn();
    } catch (const std::exception& ex) {
      self<T>(p)->host().log(TH_LOG_ERROR, std::string("market feed: ") + ex.what());
    } catch (...) {
      self<T>(p)->host().log(TH_LOG_ERROR, "market feed: unknown exception");
    }
  }
  static void onTrade(th_plugin* p, const th_trade* t) {
    feed(p, [&] { self<T>(p)->onTrade(readStruct(t)); });
  }
  static void onQuote(th_plugin* p, const th_quote* q) {
    feed(p, [&] { self<T>(p)->onQuote(readStruct(q)); });
  }
  static void onBar(th_plugin* p, const th_bar* b) {
    feed(p, [&] { self<T>(p)->onBar(readStruct(b)); });
  }
  static const th_broker_api* table(uint32_t capabilities) {
    static const th_broker_api api = {sizeof(th_broker_api),
                                      capabilities,
                                      connect,
                                      disconnect,
                                      submit,
                                      cancel,
                                      (capabilities & TH_BROKER_REPLACE) ? replace : nullptr,
                                      openOrders,
                                      positions,
                                      fills,
                                      account,
                                      (capabilities & TH_BROKER_MARKET_FEED) ? onTrade : nullptr,
                                      (capabilities & TH_BROKER_MARKET_FEED) ? onQuote : nullptr,
                                      (capabilities & TH_BROKER_MARKET_FEED) ? onBar : nullptr};
    return &api;
  }
};

inline th_status fillDescriptor(const th_host_api* host, th_plugin_descriptor* out, char* err, uint32_t cap,
                                const th_plugin_descriptor& mine) {
  if (!host || !out) {
    writeError(err, cap, "th_plugin_entry: host and out are required");
    return TH_ERR_INVALID_ARGUMENT;
  }
  if (host->abi_major != TH_ABI_VERSION_MAJOR) {
    writeError(err, cap,
               "plugin '" + std::string(mine.id) + "' needs ABI major " + std::to_string(TH_ABI_VERSION_MAJOR) +
                   ", host offers " + std::to_string(host->abi_major));
    return TH_ERR_ABI;
  }
  size_t size = out->struct_size < sizeof mine ? out->struct_size : sizeof mine;
  std::memcpy(out, &mine, size);
  out->struct_size = static_cast<uint32_t>(size);
  return TH_OK;
}

}  // namespace detail
}  // namespace th

// Defines th_plugin_entry for class T of the given kind and tables.
#define TH_DETAIL_PLUGIN_ENTRY(T, KIND, ID, NAME, VERSION, DESCRIPTION, DATA_TABLE, BROKER_TABLE)              \
  extern "C" TH_EXPORT th_status th_plugin_entry(const th_host_api* host, th_plugin_descriptor* out, char* err, \
                                                 uint32_t err_cap) {                                            \
    const th_plugin_descriptor mine = {sizeof(th_plugin_descriptor),                                            \
                                       TH_ABI_VERSION_MAJOR,                                                    \
                                       TH_ABI_VERSION_MINOR,                                                    \
                                       KIND,                                                                    \
                                       ID,                                                                      \
                                       NAME,                                                                    \
                                       VERSION,                                                                 \
                                       DESCRIPTION,                                                             \
                                       ::th::detail::create<T>,                                                 \
                                       ::th::detail::destroy<T>,                                                \
                                       DATA_TABLE,                                                              \
                                       BROKER_TABLE};                                                           \
    return ::th::detail::fillDescriptor(host, out, err, err_cap, mine);                                         \
  }

// Export a data provider class T constructible from (th::Host, std::string_view config).
#define TH_DATA_PLUGIN(T, ID, NAME, VERSION, DESCRIPTION) \
  TH_DETAIL_PLUGIN_ENTRY(T, TH_KIND_DATA, ID, NAME, VERSION, DESCRIPTION, ::th::detail::DataAdapter<T>::table(), nullptr)

// Export a broker class T constructible from (th::Host, std::string_view config).
#define TH_BROKER_PLUGIN(T, ID, NAME, VERSION, DESCRIPTION, CAPABILITIES)                  \
  TH_DETAIL_PLUGIN_ENTRY(T, TH_KIND_BROKER, ID, NAME, VERSION, DESCRIPTION, nullptr, \
                         ::th::detail::BrokerAdapter<T>::table(CAPABILITIES))

#endif  // TH_PLUGIN_HPP
