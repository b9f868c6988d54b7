#include "script/instance.h"

#include <fmt/format.h>
#include <lua.hpp>

#include <algorithm>
#include <cstring>

#include "script/lua_util.h"

namespace th {

// `require` for one instance: the strategy's own files first, then sdk/lua.
class ScriptModules final : public ModuleSource {
 public:
  ScriptModules(const StrategySource& source, const SdkModules& sdk) : source_(source), sdk_(sdk) {}
  Result<std::pair<std::string, std::string>> find(const std::string& module) const override {
    std::string path = module;
    std::replace(path.begin(), path.end(), '.', '/');
    for (const auto& candidate : {path + ".lua", path + "/init.lua"}) {
      auto it = source_.files.find(candidate);
      if (it != source_.files.end()) return std::pair{it->second, source_.origin(candidate)};
    }
    for (const auto& candidate : {path + ".lua", path + "/init.lua"}) {
      if (auto text = sdk_.read(candidate)) return std::pair{*text, fmt::format("sdk/lua/{}", candidate)};
    }
    return fail(ErrorCode::NotFound,
                fmt::format("module '{}' not found: require looks only in the strategy's folder ({}) and in sdk/lua "
                            "({}/{}.lua)",
                            module, source_.origin(path + ".lua"), sdk_.dir(), path));
  }

 private:
  StrategySource source_;  // a copy: require may run in any callback
  const SdkModules& sdk_;
};

namespace {

constexpr const char* kCallbackNames[kCallbackCount] = {"on_start", "on_bar",  "on_quote", "on_trade", "on_order",
                                                        "on_fill",  "on_timer", "on_stop",  "migrate",  "on_request"};

int ctxNewIndex(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  if (key && std::strcmp(key, "state") == 0) {
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
  }
  return luaL_error(L, "ctx.%s cannot be assigned: only ctx.state belongs to the strategy", key ? key : "?");
}

int paramsIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  return luaL_error(L, "ctx.params.%s: no such parameter in the strategy's YAML", lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

int paramsNewIndex(lua_State* L) {
  return luaL_error(L, "ctx.params.%s is read-only: parameters come from the strategy's YAML",
                    lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

void pushParam(lua_State* L, const ParamValue& value) {
  std::visit(
      [L](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          lua_pushnumber(L, v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          lua_pushinteger(L, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          lua_pushboolean(L, v);
        } else {
          lua_pushlstring(L, v.data(), v.size());
        }
      },
      value);
}

}  // namespace

std::string_view callbackName(Callback callback) { return kCallbackNames[static_cast<size_t>(callback)]; }

StrategyInstance& ctxInstance(lua_State* L) {
  auto* instance = static_cast<StrategyInstance*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (!instance) luaL_error(L, "ctx is not available here");
  return *instance;
}

Result<std::unique_ptr<StrategyInstance>> StrategyInstance::create(StrategyService* service,
                                                                    const StrategyDefinition& definition,
                                                                    const StrategySource& source,
                                                                    const SdkModules& sdk, Watchdog* watchdog) {
  std::unique_ptr<StrategyInstance> instance(new StrategyInstance());
  instance->service_ = service;
  instance->definition_ = definition;
  instance->modules_ = std::make_unique<ScriptModules>(source, sdk);
  auto sandbox = LuaSandbox::create(definition.runtime.memory_bytes, *instance->modules_);
  if (!sandbox) return std::unexpected(sandbox.error());
  instance->sandbox_ = std::move(*sandbox);
  lua_State* L = instance->sandbox_->state();
  luaHeap(L).label = definition.id + " " + definition.version;

  auto script = source.files.find(definition.script);
  if (script == source.files.end()) {
    return fail(ErrorCode::NotFound, fmt::format("{}: script: {} not found in the strategy's folder",
                                                 source.origin(source.definition_name), definition.script));
  }
  if (auto ran = instance->sandbox_->run(script->second, source.origin(definition.script), watchdog,
                                          definition.runtime.budget_ms); !ran) {
    return std::unexpected(ran.error());
  }
  // The callbacks: functions, known by name; a misspelt on_* is an error
  // rather than a callback that silently never runs.
  lua_pushglobaltable(L);
  int globals = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, globals)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) continue;
    std::string name = lua_tostring(L, -1);
    if (!name.starts_with("on_")) continue;
    bool known = std::any_of(std::begin(kCallbackNames), std::end(kCallbackNames), [&](const char* c) { return name == c; });
    if (!known) {
      lua_pop(L, 2);
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{}: '{}' is not a callback (known: on_start, on_bar, on_quote, on_trade, on_order, "
                              "on_fill, on_timer, on_stop, on_request, migrate)",
                              source.origin(definition.script), name));
    }
  }
  bool any = false;
  for (size_t i = 0; i < kCallbackCount; ++i) {
    int type = lua_getfield(L, globals, kCallbackNames[i]);
    if (type == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (type != LUA_TFUNCTION) {
      lua_pop(L, 2);
      return fail(ErrorCode::InvalidArgument, fmt::format("{}: {} must be a function, not a {}",
                                                          source.origin(definition.script), kCallbackNames[i],
                                                          lua_typename(L, type)));
    }
    instance->refs_[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    any = any || (i != static_cast<size_t>(Callback::Migrate) && i != static_cast<size_t>(Callback::Stop));
  }
  lua_pop(L, 1);
  if (!any) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}: defines no callback (on_start, on_bar, on_quote, on_trade, on_order, on_fill or on_timer)",
                            source.origin(definition.script)));
  }

  // ctx: state in the table itself; everything else read-only behind it.
  lua_createtable(L, 0, 1);
  lua_newtable(L);
  lua_setfield(L, -2, "state");
  lua_createtable(L, 0, 3);  // ctx's metatable
  lua_createtable(L, 0, 48);  // fields and methods
  lua_pushlstring(L, definition.id.data(), definition.id.size());
  lua_setfield(L, -2, "id");
  lua_pushlstring(L, definition.version.data(), definition.version.size());
  lua_setfield(L, -2, "version");
  lua_pushlstring(L, definition.name.data(), definition.name.size());
  lua_setfield(L, -2, "name");
  auto tf = timeframeName(definition.timeframe);
  lua_pushlstring(L, tf.data(), tf.size());
  lua_setfield(L, -2, "timeframe");
  lua_createtable(L, static_cast<int>(definition.symbols.size()), 0);
  for (size_t i = 0; i < definition.symbols.size(); ++i) {
    lua_pushstring(L, definition.symbols[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "symbols");
  // params: the values, behind a proxy that refuses writes and unknown names.
  lua_newtable(L);
  lua_createtable(L, 0, static_cast<int>(definition.params.size()));
  for (const auto& p : definition.params) {
    pushParam(L, p.value);
    lua_setfield(L, -2, p.name.c_str());
  }
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, paramsIndex, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, paramsNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_remove(L, -2);  // the values table (kept as the __index upvalue)
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "params");
  bindCore(L, instance.get());
  bindSession(L, instance.get());
  bindOrders(L, instance.get());
  bindData(L, instance.get());
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ctxNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "ctx is protected");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  instance->ctx_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  instance->bar_meta_ref_ = makeBarMetatable(L);
  return instance;
}

StrategyInstance::~StrategyInstance() = default;

void StrategyInstance::checkQuota(const char* what, const char* key, size_t used, uint32_t limit) {
  if (used < limit) return;
  if (service_) service_->quotaRefused();
  throw ScriptError(fmt::format("{}: refused: beyond the strategy's quota of {} (runtime.{})", what, limit, key));
}

size_t StrategyInstance::inLastMinute(std::deque<int64_t>& times, int64_t now) {
  constexpr int64_t kMinuteNs = 60'000'000'000;
  while (!times.empty() && times.front() <= now - kMinuteNs) times.pop_front();
  return times.size();
}

void StrategyInstance::skipBars(std::string_view symbol, int64_t until_ns) {
  auto it = std::find_if(skip_until_.begin(), skip_until_.end(), [&](const Skip& s) { return s.symbol == symbol; });
  if (until_ns <= 0) {
    if (it != skip_until_.end()) skip_until_.erase(it);
  } else if (it != skip_until_.end()) {
    it->until_ns = until_ns;
  } else {
    skip_until_.push_back({SymbolHash{}(symbol), until_ns, std::string(symbol)});
  }
}

int64_t StrategyInstance::nowNs() const {
  if (mode_ == Mode::Live || !snapshot_) return service_->host_.nowNs();
  return snapshot_->now_ns;
}

void StrategyInstance::goLive(StrategyEntry& entry, Watchdog& watchdog) {
  mode_ = Mode::Live;
  entry_ = &entry;
  snapshot_ = nullptr;
  watchdog_ = &watchdog;
}

void StrategyInstance::setWarming(WarmupSnapshot& snapshot, Watchdog& watchdog) {
  mode_ = Mode::Warming;
  snapshot_ = &snapshot;
  watchdog_ = &watchdog;
}

bool StrategyInstance::pushCallback(Callback callback) {
  int ref = refs_[static_cast<size_t>(callback)];
  if (ref < 0) return false;
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  return true;
}

Result<void> StrategyInstance::call(int nargs, const char* what, int64_t budget_cap_ms) {
  ++calls_;
  return callLua(sandbox_->state(), nargs + 1, 0, what, watchdog_,
                 std::min(definition_.runtime.budget_ms, budget_cap_ms));
}

Result<void> StrategyInstance::onStart() {
  if (!pushCallback(Callback::Start)) return {};
  return call(0, "on_start");
}

Result<void> StrategyInstance::onBar(const BarEvent& bar) {
  if (!pushCallback(Callback::Bar)) return {};
  pushBar(sandbox_->state(), bar, bar_meta_ref_);
  return call(1, "on_bar");
}

Result<void> StrategyInstance::onTrade(const TradeEvent& trade) {
  if (!pushCallback(Callback::Trade)) return {};
  lua_State* L = sandbox_->state();
  lua_createtable(L, 0, 4);
  setField(L, "symbol", trade.symbol.view());
  setIntField(L, "time", trade.ts_ns / 1'000'000);
  setField(L, "price", trade.price);
  setField(L, "size", trade.size);
  return call(1, "on_trade");
}

Result<void> StrategyInstance::onQuote(const QuoteEvent& quote) {
  if (!pushCallback(Callback::Quote)) return {};
  lua_State* L = sandbox_->state();
  lua_createtable(L, 0, 6);
  setField(L, "symbol", quote.symbol.view());
  setIntField(L, "time", quote.ts_ns / 1'000'000);
  setField(L, "bid", quote.bid);
  setField(L, "ask", quote.ask);
  setField(L, "bid_size", quote.bid_size);
  setField(L, "ask_size", quote.ask_size);
  return call(1, "on_quote");
}

Result<void> StrategyInstance::onOrder(const Order& order) {
  if (!pushCallback(Callback::Order)) return {};
  pushOrder(sandbox_->state(), order);
  return call(1, "on_order");
}

Result<void> StrategyInstance::onFill(const FillEvent& fill) {
  if (!pushCallback(Callback::Fill)) return {};
  pushFill(sandbox_->state(), fill);
  return call(1, "on_fill");
}

Result<void> StrategyInstance::onTimer(const StrategyTimer& timer) {
  if (!pushCallback(Callback::Timer)) return {};
  lua_State* L = sandbox_->state();
  lua_pushlstring(L, timer.tag.data(), timer.tag.size());
  lua_pushinteger(L, static_cast<lua_Integer>(timer.id));
  return call(2, "on_timer");
}

Result<void> StrategyInstance::onStop() {
  if (!pushCallback(Callback::Stop)) return {};
  return call(0, "on_stop", kStopBudgetMs);
}

Result<nlohmann::json> StrategyInstance::onRequest(const std::string& name, const nlohmann::json& args) {
  if (!pushCallback(Callback::Request)) {
    return fail(ErrorCode::NotFound, fmt::format("strategy {} answers no requests (its script has no on_request)",
                                                 definition_.id));
  }
  lua_State* L = sandbox_->state();
  const int base = lua_gettop(L) - 2;  // below the callback and ctx
  lua_pushlstring(L, name.data(), name.size());
  pushJson(L, args.is_null() ? nlohmann::json::object() : args);
  ++calls_;
  const std::string what = fmt::format("on_request({})", name);
  if (auto ok = callLua(L, 3, 2, what.c_str(), watchdog_, definition_.runtime.budget_ms); !ok) {
    lua_settop(L, base);
    // The script failed, which is not the asker's mistake: InvalidArgument is kept for refusals.
    Error error = ok.error();
    if (error.code == ErrorCode::InvalidArgument) error.code = ErrorCode::Internal;
    return std::unexpected(std::move(error));
  }
  // A table is the answer; nil and a message is a refusal (an unknown name, a bad argument).
  Result<nlohmann::json> answer;
  if (lua_istable(L, -2)) {
    answer = luaToJson(L, -2, what);
    // What the script answered cannot be sent: its mistake, not the asker's.
    if (!answer) answer = fail(ErrorCode::Internal, answer.error().message);
  } else if (lua_isnil(L, -2) && lua_type(L, -1) == LUA_TSTRING) {
    answer = fail(ErrorCode::InvalidArgument, lua_tostring(L, -1));
  } else {
    answer = fail(ErrorCode::Internal, fmt::format("{}: must return a table (or nil and a message), returned a {}",
                                                   what, luaL_typename(L, -2)));
  }
  lua_settop(L, base);
  return answer;
}

Result<void> StrategyInstance::adoptState(const nlohmann::json& state, const std::string& from_version) {
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  int ctx = lua_gettop(L);
  int migrate = refs_[static_cast<size_t>(Callback::Migrate)];
  // migrate() runs when there is a state from another version; a first
  // start has none.
  if (migrate >= 0 && !state.is_null() && !from_version.empty() && from_version != definition_.version) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, migrate);
    pushJson(L, state);
    lua_pushlstring(L, from_version.data(), from_version.size());
    if (auto ok = callLua(L, 2, 1, "migrate", watchdog_, definition_.runtime.budget_ms); !ok) {
      lua_settop(L, ctx - 1);
      return ok;
    }
    if (!lua_istable(L, -1)) {
      std::string got = luaL_typename(L, -1);
      lua_settop(L, ctx - 1);
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("migrate: must return the new state as a table, returned a {}", got));
    }
    auto plain = luaToJson(L, -1, "migrate(...)");
    if (!plain) {
      lua_settop(L, ctx - 1);
      return std::unexpected(plain.error());
    }
  } else {
    pushJson(L, state.is_null() ? nlohmann::json::object() : state);
  }
  lua_setfield(L, ctx, "state");
  lua_settop(L, ctx - 1);
  return {};
}

Result<nlohmann::json> StrategyInstance::state() const {
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  lua_getfield(L, -1, "state");
  Result<nlohmann::json> out = lua_isnil(L, -1) ? Result<nlohmann::json>(nlohmann::json::object())
                                                : luaToJson(L, -1, "ctx.state");
  lua_pop(L, 2);
  return out;
}

Result<void> StrategyInstance::stateText(std::string& out) const {
  lua_State* L = sandbox_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx_ref_);
  lua_getfield(L, -1, "state");
  Result<void> ok;
  if (lua_isnil(L, -1)) {
    out += "{}";
  } else {
    ok = luaToJsonText(L, -1, "ctx.state", out);
  }
  lua_pop(L, 2);
  return ok;
}

}  // namespace th
