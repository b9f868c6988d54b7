// ctx: logging, the clock, timers, signals and chart marks.
#include <fmt/format.h>
#include <lua.hpp>
#include <spdlog/spdlog.h>

#include <cstring>

#include "broker/instrument.h"
#include "core/json.h"
#include "core/time.h"
#include "script/instance.h"
#include "script/lua_util.h"

namespace th {
namespace {

// ctx:log([level,] ...): the values joined by spaces; level is debug, info,
// warn or error (default info).
int ctxLog(lua_State* L) {
  auto& instance = ctxInstance(L);
  int first = 2, top = lua_gettop(L);
  auto level = spdlog::level::info;
  if (top >= 3 && lua_type(L, 2) == LUA_TSTRING) {
    const char* name = lua_tostring(L, 2);
    static constexpr std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
        {"debug", spdlog::level::debug}, {"info", spdlog::level::info}, {"warn", spdlog::level::warn},
        {"error", spdlog::level::err}};
    for (auto [n, l] : kLevels) {
      if (std::strcmp(name, n) == 0) {
        level = l;
        first = 3;
      }
    }
  }
  // The pieces become one Lua string first (tostring may call __tostring),
  // so no C++ object is alive while Lua code runs.
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (int i = first; i <= top; ++i) {
    if (i > first) luaL_addchar(&buffer, ' ');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&buffer);
  }
  luaL_pushresult(&buffer);
  size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  std::string_view message(text, length);
  const auto& def = instance.definition();
  if (!instance.live()) {
    spdlog::debug("[strategy {} {} warm-up] {}", def.id, def.version, message);
  } else {
    spdlog::log(level, "[strategy {} {}] {}", def.id, def.version, message);
  }
  return 0;
}

int ctxNow(lua_State* L) {
  lua_pushinteger(L, ctxInstance(L).nowNs() / 1'000'000);
  return 1;
}

uint64_t newTimer(StrategyInstance& instance, int64_t at_ns, const char* tag_text) {
  const size_t used = instance.live() ? instance.entry()->timers.size() : instance.snapshot()->timers.size();
  instance.checkQuota("ctx:at/ctx:after", "max_timers", used, instance.definition().runtime.max_timers);
  std::string tag = tag_text;
  if (instance.live()) return instance.service().addTimer(*instance.entry(), at_ns, std::move(tag));
  uint64_t id = instance.service().nextTimerId();
  instance.snapshot()->timers.push_back(StrategyTimer{id, at_ns, std::move(tag)});
  return id;
}

// Pushes the new timer's id; the tag is argument `tag_index`.
int addTimer(lua_State* L, StrategyInstance& instance, int64_t at_ns, int tag_index) {
  const char* tag_text = luaL_optstring(L, tag_index, "");
  return luaGuard(L, [&] {
    lua_pushinteger(L, static_cast<lua_Integer>(newTimer(instance, at_ns, tag_text)));
    return 1;
  });
}

// ctx:at(when, tag): when is epoch milliseconds, or "HH:MM" exchange time
// (today's, or the next day's when already past). Returns the timer id.
int ctxAt(lua_State* L) {
  auto& instance = ctxInstance(L);
  int64_t now = instance.nowNs();
  int64_t at_ns = 0;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char* text = lua_tostring(L, 2);
    int hour = 0, minute = 0;
    char extra = 0;
    if (std::sscanf(text, "%2d:%2d%c", &hour, &minute, &extra) != 2 || hour > 23 || minute > 59) {
      return luaL_error(L, "ctx:at: '%s' is neither epoch milliseconds nor HH:MM", text);
    }
    // Tomorrow's HH:MM is found on tomorrow's date, not 24 hours on: across
    // a daylight-saving change those differ by an hour.
    auto today = toExchangeTime(now);
    at_ns = fromExchangeTime(today.yyyymmdd, hour, minute);
    if (at_ns <= now) at_ns = fromExchangeTime(addDays(today.yyyymmdd, 1), hour, minute);
  } else {
    lua_Number ms = luaL_checknumber(L, 2);
    at_ns = static_cast<int64_t>(ms) * 1'000'000;
  }
  return addTimer(L, instance, at_ns, 3);
}

// ctx:after(milliseconds, tag)
int ctxAfter(lua_State* L) {
  auto& instance = ctxInstance(L);
  lua_Number ms = luaL_checknumber(L, 2);
  if (ms < 0) return luaL_error(L, "ctx:after: the delay must not be negative");
  int64_t at_ns = instance.nowNs() + static_cast<int64_t>(ms * 1e6);
  return addTimer(L, instance, at_ns, 3);
}

int ctxCancelTimer(lua_State* L) {
  auto& instance = ctxInstance(L);
  auto id = static_cast<uint64_t>(luaL_checkinteger(L, 2));
  bool removed = false;
  if (instance.live()) {
    removed = instance.service().cancelTimer(*instance.entry(), id);
  } else {
    auto& timers = instance.snapshot()->timers;
    removed = std::erase_if(timers, [id](const StrategyTimer& t) { return t.id == id; }) > 0;
  }
  lua_pushboolean(L, removed);
  return 1;
}

// ctx:signal{symbol=..., name=..., direction=..., ...}: any plain fields;
// journalled, pushed to WebSocket clients, readable through the API.
// kind = "checklist" records are what ctx:checklist() returns.
int ctxSignal(lua_State* L) {
  auto& instance = ctxInstance(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  return luaGuard(L, [&] {
    auto signal = luaToJson(L, 2, "ctx:signal");
    if (!signal) throw ScriptError(signal.error().message);
    if (!signal->is_object()) throw ScriptError("ctx:signal: expected a table with named fields");
    if (!signal->contains("symbol") || !(*signal)["symbol"].is_string()) {
      throw ScriptError("ctx:signal: symbol is required (a string)");
    }
    const auto& runtime = instance.definition().runtime;
    if (const size_t bytes = jsonText(*signal).size(); bytes > runtime.max_signal_bytes) {
      instance.checkQuota(fmt::format("ctx:signal: {} bytes of JSON", bytes).c_str(), "max_signal_bytes",
                          runtime.max_signal_bytes, runtime.max_signal_bytes);
    }
    instance.checkQuota("ctx:signal", "max_signals_per_minute",
                        StrategyInstance::inLastMinute(instance.signal_times, instance.nowNs()),
                        runtime.max_signals_per_minute);
    instance.signal_times.push_back(instance.nowNs());
    if (instance.live()) instance.service().publishSignal(*instance.entry(), std::move(*signal));
    return 0;
  });
}

// ctx:mark{symbol=?, price=?, text=, kind="level"|"signal"|"text", side=?, time=?}
int ctxMark(lua_State* L) {
  auto& instance = ctxInstance(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  return luaGuard(L, [&] {
    constexpr const char* kWhere = "ctx:mark";
    Marker marker;
    std::string symbol = stringField(L, 2, "symbol", kWhere).value_or(instance.definition().symbols.front());
    marker.price = numberField(L, 2, "price", kWhere).value_or(0);
    marker.text = stringField(L, 2, "text", kWhere).value_or("");
    marker.side = stringField(L, 2, "side", kWhere).value_or("");
    marker.kind = MarkerKind::Level;
    if (auto kind_name = stringField(L, 2, "kind", kWhere)) {
      auto kind = parseMarkerKind(*kind_name);
      if (!kind || *kind == MarkerKind::Fill) {
        throw ScriptError(fmt::format("ctx:mark: kind '{}' is not one of level, signal, text", *kind_name));
      }
      marker.kind = *kind;
    }
    marker.ts_ns = instance.nowNs();
    if (auto time = numberField(L, 2, "time", kWhere)) marker.ts_ns = static_cast<int64_t>(*time) * 1'000'000;
    if (marker.text.empty() && marker.price == 0) throw ScriptError("ctx:mark: give a text, a price or both");
    if (auto problem = symbolProblem(symbol)) throw ScriptError(fmt::format("ctx:mark: symbol {}", *problem));
    instance.checkQuota("ctx:mark", "max_marks_per_minute",
                        StrategyInstance::inLastMinute(instance.mark_times, instance.nowNs()),
                        instance.definition().runtime.max_marks_per_minute);
    instance.mark_times.push_back(instance.nowNs());
    marker.origin = instance.definition().id;
    if (instance.live()) instance.service().publishMark(*instance.entry(), symbol, std::move(marker));
    return 0;
  });
}

}  // namespace

void bindCore(lua_State* L, StrategyInstance* instance) {
  static constexpr luaL_Reg kFunctions[] = {{"log", ctxLog},       {"now", ctxNow},
                                            {"at", ctxAt},         {"after", ctxAfter},
                                            {"cancel_timer", ctxCancelTimer}, {"signal", ctxSignal},
                                            {"mark", ctxMark},     {nullptr, nullptr}};
  lua_pushlightuserdata(L, instance);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace th
