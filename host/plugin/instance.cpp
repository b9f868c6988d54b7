// Plugin instances, the host API table they call back into, and the registry.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "data/calendar.h"
#include "plugin/plugin.h"

namespace th {

namespace {

using Context = PluginCallbackContext;

Context& ctx(void* host_ctx) { return *static_cast<Context*>(host_ctx); }

std::string copy(const char* data, uint32_t len) { return data ? std::string(data, len) : std::string(); }
std::string_view view(const char* data, uint32_t len) {
  return data ? std::string_view(data, len) : std::string_view();
}

// Each callback copies the plugin's struct by its declared size before
// reading it, so a plugin built against an older minor still works.
template <typename T>
T take(const T* in) {
  T out;
  std::memset(&out, 0, sizeof out);
  if (in) {
    size_t size = std::min<size_t>(in->struct_size, sizeof out);
    std::memcpy(&out, in, size);
    out.struct_size = static_cast<uint32_t>(size);  // what the plugin really sent
  }
  return out;
}

void hostLog(void* c, int32_t level, const char* msg, uint32_t len) {
  ctx(c).sink->log(ctx(c).id, level, view(msg, len));
}

int64_t hostNow(void* c) { return ctx(c).sink->nowNs(); }

void hostTrade(void* c, const th_trade* in) {
  auto t = take(in);
  ctx(c).sink->post(ctx(c).index,
                    TradeEvent{Symbol(view(t.symbol, t.symbol_len)), t.ts_ns, t.price, t.size, t.sequence});
}

void hostQuote(void* c, const th_quote* in) {
  auto q = take(in);
  ctx(c).sink->post(ctx(c).index,
                    QuoteEvent{Symbol(view(q.symbol, q.symbol_len)), q.ts_ns, q.bid, q.ask, q.bid_size, q.ask_size});
}

void hostBar(void* c, const th_bar* in) {
  auto b = take(in);
  ctx(c).sink->post(ctx(c).index, BarEvent{Symbol(view(b.symbol, b.symbol_len)), b.flags, b.start_ns, b.duration_ns,
                                           b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count});
}

void hostOrder(void* c, const th_order_state* in) { ctx(c).sink->post(ctx(c).index, toOrderEvent(take(in))); }

void hostFill(void* c, const th_fill* in) { ctx(c).sink->post(ctx(c).index, toFillEvent(take(in))); }

void hostConnection(void* c, int32_t state, const char* reason, uint32_t len) {
  auto& context = ctx(c);
  auto text = copy(reason, len);
  if (context.instance) {
    PluginState s = state == TH_CONN_CONNECTED    ? PluginState::Connected
                    : state == TH_CONN_CONNECTING ? PluginState::Connecting
                    : state == TH_CONN_FAILED     ? PluginState::Failed
                                                  : PluginState::Disconnected;
    context.instance->setState(s, text);
  }
  context.sink->post(context.index, ConnectionEvent{state, std::move(text)});
}

th_status hostSessionOn(void* c, int32_t yyyymmdd, th_session* out) {
  return toAbiSession(ctx(c).sink->calendar().sessionOn(yyyymmdd), out);
}

th_status hostNextSession(void* c, int64_t ts_ns, th_session* out) {
  return toAbiSession(ctx(c).sink->calendar().nextSession(ts_ns), out);
}

th_status hostPreviousSession(void* c, int64_t ts_ns, th_session* out) {
  return toAbiSession(ctx(c).sink->calendar().previousSession(ts_ns), out);
}

const th_host_api kHostApi = {sizeof(th_host_api),
                              TH_ABI_VERSION_MAJOR,
                              TH_ABI_VERSION_MINOR,
                              hostLog,
                              hostNow,
                              hostTrade,
                              hostQuote,
                              hostBar,
                              hostOrder,
                              hostFill,
                              hostConnection,
                              hostSessionOn,
                              hostNextSession,
                              hostPreviousSession};

// Calls a plugin function that reports through a status and an error buffer.
template <typename Fn>
th_status callPlugin(char (&message)[1024], Fn&& fn) {
  message[0] = '\0';
  return fn(message, static_cast<uint32_t>(sizeof message));
}

}  // namespace

OrderEvent toOrderEvent(const th_order_state& o) {
  OrderEvent e;
  e.client_order_id = copy(o.client_order_id, o.client_order_id_len);
  e.broker_order_id = copy(o.broker_order_id, o.broker_order_id_len);
  e.symbol = copy(o.symbol, o.symbol_len);
  e.reason = copy(o.reason, o.reason_len);
  e.asset_class = o.asset_class;
  e.side = o.side;
  e.type = o.type;
  e.time_in_force = o.time_in_force;
  e.status = o.status;
  e.quantity = o.quantity;
  e.filled_quantity = o.filled_quantity;
  e.average_fill_price = o.average_fill_price;
  e.limit_price = o.limit_price;
  e.stop_price = o.stop_price;
  e.ts_ns = o.ts_ns;
  return e;
}

FillEvent toFillEvent(const th_fill& f) {
  FillEvent e;
  e.fill_id = copy(f.fill_id, f.fill_id_len);
  e.client_order_id = copy(f.client_order_id, f.client_order_id_len);
  e.broker_order_id = copy(f.broker_order_id, f.broker_order_id_len);
  e.symbol = copy(f.symbol, f.symbol_len);
  e.asset_class = f.asset_class;
  e.side = f.side;
  e.quantity = f.quantity;
  e.price = f.price;
  e.commission = f.commission;
  e.multiplier = f.multiplier;
  e.ts_ns = f.ts_ns;
  if (TH_HAS_FIELD(th_fill, &f, activity)) e.activity = f.activity;
  if (TH_HAS_FIELD(th_fill, &f, contract_len)) e.contract = copy(f.contract, f.contract_len);
  return e;
}

const th_host_api* hostApi() { return &kHostApi; }

const SessionCalendar& PluginEventSink::calendar() const { return SessionCalendar::builtin(); }

std::string_view toString(PluginState state) {
  switch (state) {
    case PluginState::Created:
      return "created";
    case PluginState::Connecting:
      return "connecting";
    case PluginState::Connected:
      return "connected";
    case PluginState::Disconnected:
      return "disconnected";
    case PluginState::Failed:
      return "failed";
  }
  return "unknown";
}

PluginInstance::PluginInstance(std::shared_ptr<PluginLibrary> library, std::string id, uint16_t index,
                               PluginEventSink& sink)
    : library_(std::move(library)),
      id_(std::move(id)),
      index_(index),
      context_(std::make_unique<PluginCallbackContext>(PluginCallbackContext{&sink, index, id_, this})) {}

PluginInstance::~PluginInstance() { destroy(); }

Error PluginInstance::pluginError(std::string_view call, th_status status, const char* message) const {
  return Error{ErrorCode::Plugin, fmt::format("plugin '{}' {} failed (status {}): {}", id_, call, status,
                                              message && message[0] ? message : "no message")};
}

Result<void> PluginInstance::create(const std::string& config_json) {
  std::lock_guard lock(call_mutex_);
  char message[1024];
  th_status s = callPlugin(message, [&](char* e, uint32_t n) {
    return library_->descriptor().create(config_json.data(), static_cast<uint32_t>(config_json.size()), hostApi(),
                                         context_.get(), &instance_, e, n);
  });
  if (s != TH_OK || !instance_) {
    instance_ = nullptr;
    setState(PluginState::Failed, message);
    return fail(ErrorCode::Plugin, fmt::format("plugin '{}' ({}) failed to start: {}", id_, info().path,
                                               message[0] ? message : "create returned no instance"));
  }
  return {};
}

void PluginInstance::destroy() {
  std::lock_guard lock(call_mutex_);
  std::unique_lock lifetime(lifetime_mutex_);
  if (instance_) {
    library_->descriptor().destroy(instance_);
    instance_ = nullptr;
  }
}

std::string PluginInstance::stateReason() const {
  std::lock_guard lock(state_mutex_);
  return state_reason_;
}

void PluginInstance::setState(PluginState state, std::string reason) {
  std::lock_guard lock(state_mutex_);
  state_ = state;
  state_reason_ = std::move(reason);
}

bool PluginInstance::changeState(PluginState expected, PluginState desired, std::string reason) {
  std::lock_guard lock(state_mutex_);
  if (state_ != expected) return false;
  state_ = desired;
  state_reason_ = std::move(reason);
  return true;
}

#define TH_PLUGIN_CALL(NAME, ...)                                                                        \
  do {                                                                                                   \
    if (!instance_) return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' is not running", id_)); \
    char message[1024];                                                                                  \
    th_status s = callPlugin(message, [&](char* e, uint32_t n) { return __VA_ARGS__; });                 \
    if (s != TH_OK) return std::unexpected(pluginError(NAME, s, message));                               \
  } while (0)

Result<void> PluginInstance::connect() {
  {
    std::lock_guard lock(call_mutex_);
    setState(PluginState::Connecting, "");
    auto fn = isData() ? library_->data().connect : library_->broker().connect;
    if (!instance_) return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' is not running", id_));
    char message[1024];
    th_status s = callPlugin(message, [&](char* e, uint32_t n) { return fn(instance_, e, n); });
    if (s != TH_OK) {
      setState(PluginState::Failed, message);
      return std::unexpected(pluginError("connect", s, message));
    }
  }
  // A plugin that reports its link through on_connection has already set the
  // state (connected, or still connecting, or failed); one that does not is
  // connected when connect returns.
  changeState(PluginState::Connecting, PluginState::Connected, "");
  return {};
}

Result<void> PluginInstance::disconnect() {
  std::lock_guard lock(call_mutex_);
  auto fn = isData() ? library_->data().disconnect : library_->broker().disconnect;
  TH_PLUGIN_CALL("disconnect", fn(instance_, e, n));
  setState(PluginState::Disconnected, "disconnected by the host");
  return {};
}

Result<void> PluginInstance::subscribe(std::string_view symbol, uint32_t streams) {
  std::lock_guard lock(call_mutex_);
  TH_PLUGIN_CALL("subscribe", library_->data().subscribe(instance_, symbol.data(), static_cast<uint32_t>(symbol.size()),
                                                         streams, e, n));
  return {};
}

Result<void> PluginInstance::unsubscribe(std::string_view symbol, uint32_t streams) {
  std::lock_guard lock(call_mutex_);
  TH_PLUGIN_CALL("unsubscribe", library_->data().unsubscribe(instance_, symbol.data(),
                                                             static_cast<uint32_t>(symbol.size()), streams, e, n));
  return {};
}

// history, option_chain, lookup and symbols are concurrent by the ABI: no call lock,
// only the lifetime lock that keeps destroy() out while one runs.
Result<void> PluginInstance::history(const th_history_request& request,
                                     const std::function<void(const th_bar&)>& sink) {
  std::shared_lock lifetime(lifetime_mutex_);
  auto trampoline = [](void* c, const th_bar* bar) {
    (*static_cast<const std::function<void(const th_bar&)>*>(c))(take(bar));
  };
  TH_PLUGIN_CALL("history", library_->data().history(instance_, &request, trampoline,
                                                     const_cast<void*>(static_cast<const void*>(&sink)), e, n));
  return {};
}

Result<void> PluginInstance::optionChain(std::string_view underlying, int64_t as_of_ns,
                                         const std::function<void(const th_option_quote&)>& sink) {
  std::shared_lock lifetime(lifetime_mutex_);
  if (!library_->data().option_chain) {
    return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' provides no option chains", id_));
  }
  auto trampoline = [](void* c, const th_option_quote* q) {
    (*static_cast<const std::function<void(const th_option_quote&)>*>(c))(take(q));
  };
  TH_PLUGIN_CALL("option_chain", library_->data().option_chain(
                                     instance_, underlying.data(), static_cast<uint32_t>(underlying.size()), as_of_ns,
                                     trampoline, const_cast<void*>(static_cast<const void*>(&sink)), e, n));
  return {};
}

Result<th_instrument> PluginInstance::lookup(std::string_view symbol) {
  std::shared_lock lifetime(lifetime_mutex_);
  if (!library_->data().lookup) return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' provides no lookup", id_));
  th_instrument out;
  std::memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  TH_PLUGIN_CALL("lookup",
                 library_->data().lookup(instance_, symbol.data(), static_cast<uint32_t>(symbol.size()), &out, e, n));
  return out;
}

Result<std::vector<std::string>> PluginInstance::symbols() {
  std::shared_lock lifetime(lifetime_mutex_);
  if (!library_->data().symbols) {
    return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' cannot list its symbols", id_));
  }
  std::vector<std::string> out;
  auto sink = [](void* c, const char* symbol, uint32_t length) {
    if (symbol) static_cast<std::vector<std::string>*>(c)->emplace_back(symbol, length);
  };
  TH_PLUGIN_CALL("symbols", library_->data().symbols(instance_, sink, &out, e, n));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<void> PluginInstance::submit(const th_order_request& order, th_status* plugin_status) {
  std::lock_guard lock(call_mutex_);
  if (!instance_) return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' is not running", id_));
  char message[1024];
  th_status s =
      callPlugin(message, [&](char* e, uint32_t n) { return library_->broker().submit(instance_, &order, e, n); });
  if (plugin_status) *plugin_status = s;
  if (s != TH_OK) return std::unexpected(pluginError("submit", s, message));
  return {};
}

Result<void> PluginInstance::cancel(std::string_view client_order_id, th_status* plugin_status) {
  std::lock_guard lock(call_mutex_);
  if (!instance_) return fail(ErrorCode::Unavailable, fmt::format("plugin '{}' is not running", id_));
  char message[1024];
  th_status s = callPlugin(message, [&](char* e, uint32_t n) {
    return library_->broker().cancel(instance_, client_order_id.data(), static_cast<uint32_t>(client_order_id.size()),
                                     e, n);
  });
  if (plugin_status) *plugin_status = s;
  if (s != TH_OK) return std::unexpected(pluginError("cancel", s, message));
  return {};
}

Result<void> PluginInstance::openOrders(const std::function<void(const th_order_state&)>& sink) {
  std::lock_guard lock(call_mutex_);
  auto trampoline = [](void* c, const th_order_state* o) {
    (*static_cast<const std::function<void(const th_order_state&)>*>(c))(take(o));
  };
  TH_PLUGIN_CALL("open_orders", library_->broker().open_orders(
                                    instance_, trampoline, const_cast<void*>(static_cast<const void*>(&sink)), e, n));
  return {};
}

Result<void> PluginInstance::positions(const std::function<void(const th_position&)>& sink) {
  std::lock_guard lock(call_mutex_);
  auto trampoline = [](void* c, const th_position* p) {
    (*static_cast<const std::function<void(const th_position&)>*>(c))(take(p));
  };
  TH_PLUGIN_CALL("positions", library_->broker().positions(instance_, trampoline,
                                                           const_cast<void*>(static_cast<const void*>(&sink)), e, n));
  return {};
}

Result<void> PluginInstance::fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink) {
  std::lock_guard lock(call_mutex_);
  auto trampoline = [](void* c, const th_fill* f) {
    (*static_cast<const std::function<void(const th_fill&)>*>(c))(take(f));
  };
  TH_PLUGIN_CALL("fills", library_->broker().fills(instance_, since_ns, trampoline,
                                                   const_cast<void*>(static_cast<const void*>(&sink)), e, n));
  return {};
}

Result<th_account> PluginInstance::account() {
  std::lock_guard lock(call_mutex_);
  th_account out;
  std::memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  TH_PLUGIN_CALL("account", library_->broker().account(instance_, &out, e, n));
  return take(&out);
}

void PluginInstance::feedTrade(const th_trade& trade) {
  std::lock_guard lock(call_mutex_);
  if (instance_ && library_->broker().on_trade) library_->broker().on_trade(instance_, &trade);
}

void PluginInstance::feedQuote(const th_quote& quote) {
  std::lock_guard lock(call_mutex_);
  if (instance_ && library_->broker().on_quote) library_->broker().on_quote(instance_, &quote);
}

void PluginInstance::feedBar(const th_bar& bar) {
  std::lock_guard lock(call_mutex_);
  if (instance_ && library_->broker().on_bar) library_->broker().on_bar(instance_, &bar);
}

PluginRegistry::~PluginRegistry() { clear(); }

Result<PluginInstance*> PluginRegistry::add(const std::string& id, const std::string& library_path,
                                            const std::string& config_json) {
  if (auto* existing = find(id)) {
    return fail(ErrorCode::AlreadyExists, fmt::format("plugin {}: duplicate plugin id '{}' (already loaded from {})",
                                                      library_path, id, existing->info().path));
  }
  auto library = PluginLibrary::load(library_path);
  if (!library) return std::unexpected(library.error());
  for (const auto& other : instances_) {
    // Two instances of one library need distinct configured ids; two
    // libraries declaring the same id are refused so logs stay unambiguous.
    if (other->info().id == (*library)->info().id && other->info().path != library_path) {
      return fail(ErrorCode::AlreadyExists, fmt::format("plugin {}: duplicate plugin id '{}' (already loaded from {})",
                                                        library_path, (*library)->info().id, other->info().path));
    }
  }
  auto index = static_cast<uint16_t>(instances_.size() + 1);
  auto instance =
      std::make_unique<PluginInstance>(std::shared_ptr<PluginLibrary>(std::move(*library)), id, index, sink_);
  if (auto created = instance->create(config_json); !created) return std::unexpected(created.error());
  instances_.push_back(std::move(instance));
  return instances_.back().get();
}

PluginInstance* PluginRegistry::find(std::string_view id) const {
  for (const auto& instance : instances_) {
    if (instance->id() == id) return instance.get();
  }
  return nullptr;
}

PluginInstance* PluginRegistry::at(uint16_t index) const {
  if (index == 0 || index > instances_.size()) return nullptr;
  return instances_[index - 1].get();
}

void PluginRegistry::clear() {
  while (!instances_.empty()) instances_.pop_back();
}

}  // namespace th
