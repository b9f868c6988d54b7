// Lua values as JSON: one walk over the value checks that it is plain data
// and hands its parts, in order, to an output that either builds a document
// or writes the text directly (the strategy state is stored before every
// order, so its text is written without the document in between).
#include <fmt/format.h>
#include <lua.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "script/lua_engine.h"

namespace th {
namespace {

// Where a value sits ("ctx.state.days.SPY"), spelled out only for an error:
// most values never fail.
struct Where {
  const Where* parent;
  std::string_view root, key;
  lua_Integer index;
  std::string text() const {
    if (!parent) return std::string(root);
    return index > 0 ? fmt::format("{}[{}]", parent->text(), index) : fmt::format("{}.{}", parent->text(), key);
  }
};

// `Out` receives null(), boolean(), integer(), number(), string(),
// beginArray()/endArray(), beginObject()/key()/endObject(); an object's keys
// come sorted, as JSON text prints them.
template <class Out>
struct Walker {
  lua_State* L;
  Out& out;
  int depth = 0;

  Result<void> walk(int at, const Where& where) {
    switch (lua_type(L, at)) {
      case LUA_TNIL:
        out.null();
        return {};
      case LUA_TBOOLEAN:
        out.boolean(lua_toboolean(L, at) != 0);
        return {};
      case LUA_TNUMBER: {
        if (lua_isinteger(L, at)) {
          out.integer(static_cast<int64_t>(lua_tointeger(L, at)));
          return {};
        }
        double v = lua_tonumber(L, at);
        if (!std::isfinite(v)) {
          return fail(ErrorCode::InvalidArgument,
                      fmt::format("{}: {} cannot be stored (only finite numbers)", where.text(), v));
        }
        out.number(v);
        return {};
      }
      case LUA_TSTRING: {
        size_t n = 0;
        const char* s = lua_tolstring(L, at, &n);
        out.string(std::string_view(s, n));
        return {};
      }
      case LUA_TTABLE:
        return table(at, where);
      default:
        return fail(ErrorCode::InvalidArgument,
                    fmt::format("{}: a {} cannot be stored (only nil, booleans, numbers, strings and tables of them)",
                                where.text(), luaL_typename(L, at)));
    }
  }

  Result<void> table(int at, const Where& where) {
    if (++depth > 64) return fail(ErrorCode::InvalidArgument, fmt::format("{}: nested too deep (a cycle?)", where.text()));
    if (!lua_checkstack(L, 4)) return fail(ErrorCode::Internal, "Lua stack exhausted");
    const auto length = static_cast<lua_Integer>(lua_rawlen(L, at));
    size_t count = 0;
    bool other_keys = false, stack_full = false;
    // The string keys stay on the stack, below the iteration, so that
    // visiting them in order allocates nothing: the walk may run outside a
    // protected call (storing the state), where a Lua error or a collection
    // step running a finalizer must not happen.
    const int base = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, at)) {
      lua_pop(L, 1);
      ++count;
      if (lua_type(L, -1) == LUA_TSTRING) {
        if (!stack_full && lua_checkstack(L, 2)) {
          lua_pushvalue(L, -1);
          lua_insert(L, -2);
        } else {
          stack_full = true;
        }
      } else if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > length) {
        other_keys = true;
      }
    }
    const int kept = lua_gettop(L) - base;
    struct Unwind {
      lua_State* L;
      int kept;
      ~Unwind() { lua_pop(L, kept); }
    } unwind{L, kept};
    if (stack_full) return fail(ErrorCode::Internal, fmt::format("{}: too many keys for the Lua stack", where.text()));
    if (other_keys || (kept > 0 && length > 0)) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{}: a table is stored either as an array (keys 1..n) or with string keys, not both",
                              where.text()));
    }
    if (count == 0 && isMarkedArray(L, at)) {
      out.beginArray();
      out.endArray();
    } else if (count == 0) {
      out.beginObject();
      out.endObject();
    } else if (kept == 0) {
      if (static_cast<size_t>(length) != count) {
        return fail(ErrorCode::InvalidArgument, fmt::format("{}: an array with holes cannot be stored", where.text()));
      }
      out.beginArray();
      for (lua_Integer i = 1; i <= length; ++i) {
        lua_rawgeti(L, at, i);
        auto item = walk(lua_gettop(L), Where{&where, {}, {}, i});
        lua_pop(L, 1);
        if (!item) return item;
      }
      out.endArray();
    } else {
      std::vector<std::pair<std::string_view, int>> keys;  // the text and the stack slot of each key
      keys.reserve(static_cast<size_t>(kept));
      for (int slot = base + 1; slot <= base + kept; ++slot) {
        size_t n = 0;
        const char* key = lua_tolstring(L, slot, &n);
        keys.emplace_back(std::string_view(key, n), slot);
      }
      std::sort(keys.begin(), keys.end());
      out.beginObject();
      for (const auto& [key, slot] : keys) {
        out.key(key);
        lua_pushvalue(L, slot);
        lua_rawget(L, at);
        auto item = walk(lua_gettop(L), Where{&where, {}, key, 0});
        lua_pop(L, 1);
        if (!item) return item;
      }
      out.endObject();
    }
    --depth;
    return {};
  }
};

// Builds the document. Only the innermost open container grows, so the
// pointers to the open ones stay valid.
struct DocumentOut {
  nlohmann::json root;
  std::vector<nlohmann::json*> open;
  std::string key_;

  nlohmann::json& place(nlohmann::json value) {
    if (open.empty()) return root = std::move(value);
    nlohmann::json& top = *open.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return top.back();
    }
    return top[key_] = std::move(value);
  }
  void null() { place(nullptr); }
  void boolean(bool v) { place(v); }
  void integer(int64_t v) { place(v); }
  void number(double v) { place(v); }
  void string(std::string_view v) { place(std::string(v)); }
  void beginArray() { open.push_back(&place(nlohmann::json::array())); }
  void endArray() { open.pop_back(); }
  void beginObject() { open.push_back(&place(nlohmann::json::object())); }
  void key(std::string_view k) { key_.assign(k); }
  void endObject() { open.pop_back(); }
};

// Writes the text: what jsonText prints for the document.
struct TextOut {
  std::string& out;
  bool first = true;   // nothing written yet in the innermost open container (or at all)
  bool keyed = false;  // a key was written: its value follows without a comma

  void separate() {
    if (keyed) {
      keyed = false;
    } else if (!first) {
      out += ',';
    }
    first = false;
  }
  void null() {
    separate();
    out += "null";
  }
  void boolean(bool v) {
    separate();
    out += v ? "true" : "false";
  }
  void integer(int64_t v) {
    separate();
    appendJsonInteger(out, v);
  }
  void number(double v) {
    separate();
    appendJsonNumber(out, v);
  }
  void string(std::string_view v) {
    separate();
    appendJsonString(out, v);
  }
  // A container's first item needs no comma; after the container, the next
  // item of the enclosing one does (it is not empty any more).
  void beginArray() {
    separate();
    out += '[';
    first = true;
  }
  void endArray() {
    out += ']';
    first = false;
  }
  void beginObject() {
    separate();
    out += '{';
    first = true;
  }
  void key(std::string_view k) {
    separate();
    appendJsonString(out, k);
    out += ':';
    keyed = true;
  }
  void endObject() {
    out += '}';
    first = false;
  }
};

}  // namespace

Result<nlohmann::json> luaToJson(lua_State* L, int index, const std::string& path) {
  DocumentOut out;
  Walker<DocumentOut> walker{L, out};
  if (auto ok = walker.walk(lua_absindex(L, index), Where{nullptr, path, {}, 0}); !ok) return std::unexpected(ok.error());
  return std::move(out.root);
}

Result<void> luaToJsonText(lua_State* L, int index, std::string_view path, std::string& out) {
  TextOut text{out};
  Walker<TextOut> walker{L, text};
  return walker.walk(lua_absindex(L, index), Where{nullptr, path, {}, 0});
}

}  // namespace th
