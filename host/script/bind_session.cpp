// ctx: the exchange calendar and exchange time. Every time in and out is
// epoch milliseconds; an omitted time means ctx:now().
#include <lua.hpp>

#include "core/time.h"
#include "script/instance.h"
#include "script/lua_util.h"

namespace th {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

void pushSession(lua_State* L, const TradingSession& session) {
  lua_createtable(L, 0, 5);
  setIntField(L, "date", session.date);
  setIntField(L, "open", session.open_ns / kNsPerMs);
  setIntField(L, "close", session.close_ns / kNsPerMs);
  setIntField(L, "regular_close", session.regular_close_ns / kNsPerMs);
  setBoolField(L, "early_close", session.early_close);
}

int pushSessionOrNil(lua_State* L, const std::optional<TradingSession>& session) {
  if (!session) {
    lua_pushnil(L);
  } else {
    pushSession(L, *session);
  }
  return 1;
}

const SessionCalendar& calendarOf(StrategyInstance& instance) { return instance.service().host().calendar(); }

// ctx:session([t]): today's session {date, open, close, early_close}, nil on a day without one.
int ctxSession(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] { return pushSessionOrNil(L, calendarOf(instance).sessionOnDateOf(timeArg(L, 2, instance.nowNs()))); });
}

int ctxNextSession(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] { return pushSessionOrNil(L, calendarOf(instance).nextSession(timeArg(L, 2, instance.nowNs()))); });
}

int ctxPreviousSession(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    return pushSessionOrNil(L, calendarOf(instance).previousSession(timeArg(L, 2, instance.nowNs())));
  });
}

// ctx:is_open([t]): inside a regular session.
int ctxIsOpen(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    lua_pushboolean(L, calendarOf(instance).isOpen(timeArg(L, 2, instance.nowNs())));
    return 1;
  });
}

// ctx:minutes_since_open([t]) and ctx:minutes_to_close([t]): fractional
// minutes within today's session, nil outside it.
int sessionMinutes(lua_State* L, bool since_open) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    int64_t t = timeArg(L, 2, instance.nowNs());
    auto session = calendarOf(instance).sessionOnDateOf(t);
    if (!session || t < session->open_ns || t >= session->close_ns) {
      lua_pushnil(L);
    } else {
      lua_pushnumber(L, static_cast<double>(since_open ? t - session->open_ns : session->close_ns - t) / 60e9);
    }
    return 1;
  });
}
int ctxMinutesSinceOpen(lua_State* L) { return sessionMinutes(L, true); }
int ctxMinutesToClose(lua_State* L) { return sessionMinutes(L, false); }

// ctx:exchange_time([t]): {date=yyyymmdd, year, month, day, hour, minute,
// second, minute_of_day, weekday (1 = Monday … 7 = Sunday)} in New York time.
int ctxExchangeTime(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    auto t = toExchangeTime(timeArg(L, 2, instance.nowNs()));
    int y = t.yyyymmdd / 10000, m = t.yyyymmdd / 100 % 100, d = t.yyyymmdd % 100;
    // Sakamoto's day of week: 0 = Sunday.
    static constexpr int kOffsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    int yy = m < 3 ? y - 1 : y;
    int dow = (yy + yy / 4 - yy / 100 + yy / 400 + kOffsets[m - 1] + d) % 7;
    lua_createtable(L, 0, 9);
    setIntField(L, "date", t.yyyymmdd);
    setIntField(L, "year", y);
    setIntField(L, "month", m);
    setIntField(L, "day", d);
    setIntField(L, "hour", t.minute_of_day / 60);
    setIntField(L, "minute", t.minute_of_day % 60);
    setIntField(L, "second", t.second);
    setIntField(L, "minute_of_day", t.minute_of_day);
    setIntField(L, "weekday", dow == 0 ? 7 : dow);
    return 1;
  });
}

// ctx:time("2026-11-20T09:35") → epoch ms. Exchange time unless the text has
// an offset; a bare date means 09:30 that day.
int ctxTime(lua_State* L) {
  const char* text = luaL_checkstring(L, 2);
  return luaGuard(L, [&] {
    auto parsed = parseTime(text);
    if (!parsed) throw ScriptError("ctx:time: " + parsed.error().message);
    lua_pushinteger(L, *parsed / kNsPerMs);
    return 1;
  });
}

// ctx:format_time([t]) → "2026-11-20T09:35:00-05:00".
int ctxFormatTime(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    auto text = formatExchangeTime(timeArg(L, 2, instance.nowNs()));
    lua_pushlstring(L, text.data(), text.size());
    return 1;
  });
}

}  // namespace

void bindSession(lua_State* L, StrategyInstance* instance) {
  static constexpr luaL_Reg kFunctions[] = {{"session", ctxSession},
                                            {"next_session", ctxNextSession},
                                            {"previous_session", ctxPreviousSession},
                                            {"is_open", ctxIsOpen},
                                            {"minutes_since_open", ctxMinutesSinceOpen},
                                            {"minutes_to_close", ctxMinutesToClose},
                                            {"exchange_time", ctxExchangeTime},
                                            {"time", ctxTime},
                                            {"format_time", ctxFormatTime},
                                            {nullptr, nullptr}};
  lua_pushlightuserdata(L, instance);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace th
