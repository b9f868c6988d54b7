// Helpers for the ctx bindings. Lua raises errors with longjmp, which would
// skip the destructors of C++ objects; so a binding does its work inside
// luaGuard, throws ScriptError (or lets a std::exception escape), and the
// Lua error is raised only after every C++ object of the body is gone.
//
// Inside a body nothing raises a Lua error: the memory limit is not
// enforced until the body returns (then the script's next allocation is
// refused), and fields are read raw, so no metamethod (Lua code, which the
// watchdog may stop) runs while C++ objects are alive.
#pragma once

#include <lua.hpp>

#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "script/lua_engine.h"

namespace th {

class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class Body>
int luaGuard(lua_State* L, Body&& body) {
  LuaHeap& heap = luaHeap(L);
  int results = -1;
  heap.deferring++;
  {
    std::string message;
    try {
      results = body();
    } catch (const std::exception& e) {
      message = e.what();
    }
    if (results < 0) lua_pushlstring(L, message.data(), message.size());
  }
  heap.deferring--;
  // What the body did stands and its answer is returned even past the
  // limit (an order sent must reach the script with its id); the next
  // allocation in Lua is refused instead, and reads as the memory limit.
  return results < 0 ? lua_error(L) : results;
}

// Pushes t[field] of the table at `index` without metamethods.
inline int rawField(lua_State* L, int index, const char* field) {
  index = lua_absindex(L, index);
  lua_pushstring(L, field);
  return lua_rawget(L, index);
}

// A field of the options table at `index`: nullopt when absent, ScriptError
// naming `where.field` when of the wrong type.
inline std::optional<double> numberField(lua_State* L, int index, const char* field, const char* where) {
  int type = rawField(L, index, field);
  std::optional<double> out;
  if (type == LUA_TNUMBER) {
    out = lua_tonumber(L, -1);
  } else if (type != LUA_TNIL) {
    lua_pop(L, 1);
    throw ScriptError(fmt::format("{}: {} must be a number, not a {}", where, field, lua_typename(L, type)));
  }
  lua_pop(L, 1);
  return out;
}

inline std::optional<std::string> stringField(lua_State* L, int index, const char* field, const char* where) {
  int type = rawField(L, index, field);
  std::optional<std::string> out;
  if (type == LUA_TSTRING) {
    size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    out.emplace(text, length);
  } else if (type != LUA_TNIL) {
    lua_pop(L, 1);
    throw ScriptError(fmt::format("{}: {} must be a string, not a {}", where, field, lua_typename(L, type)));
  }
  lua_pop(L, 1);
  return out;
}

// An optional time argument in epoch milliseconds → ns; `fallback` when absent.
inline int64_t timeArg(lua_State* L, int index, int64_t fallback_ns) {
  if (lua_isnoneornil(L, index)) return fallback_ns;
  if (!lua_isnumber(L, index)) throw ScriptError(fmt::format("argument {}: expected epoch milliseconds", index - 1));
  return static_cast<int64_t>(lua_tonumber(L, index)) * 1'000'000;
}

inline void setField(lua_State* L, const char* name, double value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, name);
}
inline void setField(lua_State* L, const char* name, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, name);
}
inline void setField(lua_State* L, const char* name, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, name);
}
inline void setIntField(lua_State* L, const char* name, int64_t value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, name);
}
inline void setBoolField(lua_State* L, const char* name, bool value) {
  lua_pushboolean(L, value);
  lua_setfield(L, -2, name);
}

}  // namespace th
