// ctx: market data — subscriptions, bar history, option chains, checklist
// scores — and the bar object handed to on_bar.
#include <th/plugin.h>

#include <cmath>
#include <cstring>
#include <lua.hpp>

#include "broker/instrument.h"
#include "core/time.h"
#include "script/instance.h"
#include "script/lua_util.h"

namespace th {
namespace {

struct LuaBar {
  BarEvent bar;
};

// bar.symbol, bar.time (start, epoch ms), bar.open/high/low/close/volume/vwap,
// bar.end_time, bar.trades, and the start in exchange time: bar.date
// (yyyymmdd) and bar.minute_of_day. Read-only; one small object per bar.
int barIndex(lua_State* L) {
  const auto* b = static_cast<const LuaBar*>(lua_touserdata(L, 1));
  size_t length = 0;
  const char* key = lua_tolstring(L, 2, &length);
  if (!b || !key) return 0;
  const BarEvent& bar = b->bar;
  switch (key[0]) {
    case 'c':
      if (std::strcmp(key, "close") == 0) return lua_pushnumber(L, bar.close), 1;
      break;
    case 'h':
      if (std::strcmp(key, "high") == 0) return lua_pushnumber(L, bar.high), 1;
      break;
    case 'l':
      if (std::strcmp(key, "low") == 0) return lua_pushnumber(L, bar.low), 1;
      break;
    case 'o':
      if (std::strcmp(key, "open") == 0) return lua_pushnumber(L, bar.open), 1;
      break;
    case 'v':
      if (std::strcmp(key, "volume") == 0) return lua_pushnumber(L, bar.volume), 1;
      if (std::strcmp(key, "vwap") == 0) return lua_pushnumber(L, bar.vwap), 1;
      break;
    case 't':
      if (std::strcmp(key, "time") == 0) return lua_pushinteger(L, bar.start_ns / 1'000'000), 1;
      if (std::strcmp(key, "trades") == 0) return lua_pushinteger(L, static_cast<lua_Integer>(bar.trade_count)), 1;
      break;
    case 's':
      if (std::strcmp(key, "symbol") == 0) {
        auto s = bar.symbol.view();
        return lua_pushlstring(L, s.data(), s.size()), 1;
      }
      break;
    case 'e':
      if (std::strcmp(key, "end_time") == 0) {
        return lua_pushinteger(L, (bar.start_ns + bar.duration_ns) / 1'000'000), 1;
      }
      break;
    case 'd':
      if (std::strcmp(key, "date") == 0) return lua_pushinteger(L, toExchangeTime(bar.start_ns).yyyymmdd), 1;
      break;
    case 'm':
      if (std::strcmp(key, "minute_of_day") == 0) {
        return lua_pushinteger(L, toExchangeTime(bar.start_ns).minute_of_day), 1;
      }
      break;
    default:
      break;
  }
  return luaL_error(
      L,
      "bar.%s: no such field (symbol, time, end_time, date, minute_of_day, open, high, low, close, volume, "
      "vwap, trades)",
      key);
}

int barNewIndex(lua_State* L) { return luaL_error(L, "a bar is read-only"); }

int barToString(lua_State* L) {
  const auto* b = static_cast<const LuaBar*>(lua_touserdata(L, 1));
  auto s = b->bar.symbol.view();
  lua_pushfstring(L, "bar(%s %I O=%f H=%f L=%f C=%f V=%f)", std::string(s).c_str(),
                  static_cast<lua_Integer>(b->bar.start_ns / 1'000'000), b->bar.open, b->bar.high, b->bar.low,
                  b->bar.close, b->bar.volume);
  return 1;
}

void pushCandle(lua_State* L, const Candle& candle) {
  lua_createtable(L, 0, 6);
  setIntField(L, "time", candle.start_ns / 1'000'000);
  setField(L, "open", candle.open);
  setField(L, "high", candle.high);
  setField(L, "low", candle.low);
  setField(L, "close", candle.close);
  setField(L, "volume", candle.volume);
}

uint32_t parseStreams(lua_State* L, int index) {
  if (lua_isnoneornil(L, index)) return TH_STREAM_BARS_1M;
  if (!lua_istable(L, index)) throw ScriptError("ctx:subscribe: streams is a list of \"bars\", \"trades\", \"quotes\"");
  uint32_t mask = 0;
  for (lua_Integer i = 1; lua_rawgeti(L, index, i) != LUA_TNIL; ++i) {
    const char* name = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (name && std::strcmp(name, "bars") == 0) {
      mask |= TH_STREAM_BARS_1M;
    } else if (name && std::strcmp(name, "trades") == 0) {
      mask |= TH_STREAM_TRADES;
    } else if (name && std::strcmp(name, "quotes") == 0) {
      mask |= TH_STREAM_QUOTES;
    } else {
      throw ScriptError(fmt::format("ctx:subscribe: unknown stream '{}' (bars, trades, quotes)", name ? name : "?"));
    }
  }
  lua_pop(L, 1);
  return mask;
}

// ctx:subscribe(symbol [, {"bars", "trades", "quotes"}]): the symbol's
// market data reaches this strategy too (bars of its timeframe by default).
int ctxSubscribe(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol = luaL_checkstring(L, 2);
  return luaGuard(L, [&] {
    if (auto problem = symbolProblem(symbol)) throw ScriptError(fmt::format("ctx:subscribe: symbol {}", *problem));
    uint32_t streams = parseStreams(L, 3);
    const auto& def = instance.definition();
    const bool known = std::ranges::find(def.symbols, symbol) != def.symbols.end() ||
                       (instance.live() && std::ranges::find(instance.entry()->extra_symbols, symbol) !=
                                               instance.entry()->extra_symbols.end());
    if (!known) {
      const size_t used = instance.live() ? instance.entry()->extra_symbols.size() : instance.snapshot()->subscriptions.size();
      instance.checkQuota("ctx:subscribe", "max_subscriptions", used, def.runtime.max_subscriptions);
    }
    if (instance.live()) {
      instance.service().subscribeFor(*instance.entry(), symbol, streams);
    } else {
      instance.snapshot()->subscriptions.emplace_back(symbol, streams);
    }
    return 0;
  });
}

// ctx:skip_bars(symbol, until): no on_bar for the symbol's bars that start
// before `until` (epoch ms); nil or 0 ends the skip.
int ctxSkipBars(lua_State* L) {
  auto& instance = ctxInstance(L);
  size_t length = 0;
  const char* symbol = luaL_checklstring(L, 2, &length);
  return luaGuard(L, [&] {
    if (length == 0 || length > Symbol::kCapacity) {
      throw ScriptError(fmt::format("ctx:skip_bars: '{}' is not a symbol", symbol));
    }
    instance.skipBars(std::string_view(symbol, length), timeArg(L, 3, 0));
    return 0;
  });
}

// ctx:history(symbol [, timeframe [, count]]) → bars {time, open, high, low,
// close, volume}, oldest first: the chart hub's final bars (while warming
// up: the bars being replayed, up to the current one).
int ctxHistory(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol = luaL_checkstring(L, 2);
  const char* tf_name = luaL_optstring(L, 3, nullptr);
  lua_Integer count = luaL_optinteger(L, 4, 100);
  return luaGuard(L, [&] {
    Timeframe timeframe = instance.definition().timeframe;
    if (tf_name) {
      auto parsed = parseTimeframe(tf_name);
      if (!parsed)
        throw ScriptError(
            fmt::format("ctx:history: '{}' is not a timeframe (1m, 3m, 5m, 15m, 30m, 1h, 4h, 1d)", tf_name));
      timeframe = *parsed;
    }
    if (count < 1 || count > 100'000) throw ScriptError("ctx:history: count must be 1 to 100000");
    std::vector<Candle> candles;
    if (instance.live()) {
      candles = instance.service().host().history(symbol, timeframe, static_cast<size_t>(count));
    } else if (timeframe == instance.definition().timeframe) {
      int64_t now = instance.nowNs();
      for (const auto& bar : instance.snapshot()->bars) {
        if (bar.symbol.view() != symbol || bar.start_ns + bar.duration_ns > now) continue;
        candles.push_back(Candle{bar.start_ns, bar.open, bar.high, bar.low, bar.close, bar.volume,
                                 static_cast<uint32_t>(bar.trade_count), kCandleFinal});
      }
      if (candles.size() > static_cast<size_t>(count)) candles.erase(candles.begin(), candles.end() - count);
    }
    lua_createtable(L, static_cast<int>(candles.size()), 0);
    lua_Integer i = 1;
    for (const auto& candle : candles) {
      pushCandle(L, candle);
      lua_rawseti(L, -2, i++);
    }
    return 1;
  });
}

// ctx:option_chain(underlying) → contracts {symbol, right ("call"/"put"),
// expiry (yyyymmdd), strike, bid, ask, last, volume, open_interest, iv,
// delta, gamma, theta, vega, underlying_price}, or nil + reason.
int ctxOptionChain(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* underlying = luaL_checkstring(L, 2);
  return luaGuard(L, [&] {
    if (!instance.live()) {
      lua_pushnil(L);
      lua_pushstring(L, "option chains are not available during warm-up");
      return 2;
    }
    auto chain = [&] {
      Watchdog::HostWait wait(L);  // the provider's answer is not the script's time
      return instance.service().host().optionChain(underlying);
    }();
    if (!chain) {
      lua_pushnil(L);
      lua_pushlstring(L, chain.error().message.data(), chain.error().message.size());
      return 2;
    }
    lua_createtable(L, static_cast<int>(chain->size()), 0);
    lua_Integer i = 1;
    for (const auto& q : *chain) {
      lua_createtable(L, 0, 16);
      setField(L, "symbol", q.symbol);
      setField(L, "underlying", q.underlying);
      setField(L, "right", std::string_view(q.call ? "call" : "put"));
      setIntField(L, "expiry", q.expiry);
      setField(L, "strike", q.strike);
      setField(L, "bid", q.bid);
      setField(L, "ask", q.ask);
      setField(L, "last", q.last);
      setField(L, "volume", q.volume);
      setField(L, "open_interest", q.open_interest);
      setField(L, "iv", q.implied_vol);
      if (q.has_greeks) {
        setField(L, "delta", q.delta);
        setField(L, "gamma", q.gamma);
        setField(L, "theta", q.theta);
        setField(L, "vega", q.vega);
      }
      setField(L, "underlying_price", q.underlying_price);
      lua_rawseti(L, -2, i++);
    }
    return 1;
  });
}

// ctx:checklist(symbol [, "long"|"short"]) → the latest checklist record a
// strategy published for it (ctx:signal{kind = "checklist", ...}), or nil.
int ctxChecklist(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol = luaL_checkstring(L, 2);
  const char* direction = luaL_optstring(L, 3, "long");
  return luaGuard(L, [&] {
    if (std::strcmp(direction, "long") != 0 && std::strcmp(direction, "short") != 0) {
      throw ScriptError(fmt::format("ctx:checklist: direction '{}' is not long or short", direction));
    }
    const nlohmann::json* record = instance.live() ? instance.service().checklist(symbol, direction) : nullptr;
    if (record) {
      pushJson(L, *record);
    } else {
      lua_pushnil(L);
    }
    return 1;
  });
}

}  // namespace

int makeBarMetatable(lua_State* L) {
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, barIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, barNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, barToString);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "bar");
  lua_setfield(L, -2, "__name");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

void pushBar(lua_State* L, const BarEvent& bar, int meta_ref) {
  auto* b = static_cast<LuaBar*>(lua_newuserdatauv(L, sizeof(LuaBar), 0));
  std::memcpy(static_cast<void*>(b), &bar, sizeof(BarEvent));
  lua_rawgeti(L, LUA_REGISTRYINDEX, meta_ref);
  lua_setmetatable(L, -2);
}

void bindData(lua_State* L, StrategyInstance* instance) {
  static constexpr luaL_Reg kFunctions[] = {{"subscribe", ctxSubscribe},
                                            {"history", ctxHistory},
                                            {"skip_bars", ctxSkipBars},
                                            {"option_chain", ctxOptionChain},
                                            {"checklist", ctxChecklist},
                                            {nullptr, nullptr}};
  lua_pushlightuserdata(L, instance);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace th
