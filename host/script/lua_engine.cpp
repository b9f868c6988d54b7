#include "script/lua_engine.h"

#include "script/lua_util.h"

#include <fmt/format.h>
#include <lua.hpp>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <time.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace th {
namespace {

// Registry keys (addresses of these statics).
char kModulesKey = 0;   // the ModuleSource*
char kLoadedKey = 0;    // module name → value, what require returned
char kLibraryKey = 0;   // the read-only library table behind _G
char kInterrupted = 0;  // set by the hook: the budget was overrun
char kArrayMetaKey = 0;  // the metatable json.array() sets

constexpr const char* kForbidden[] = {"io", "debug", "package", "dofile", "loadfile", "loadstring", "module"};

void* allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* heap = static_cast<LuaHeap*>(ud);
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    heap->used -= old;
    return nullptr;
  }
  if (nsize > old && heap->used - old + nsize > heap->limit) {
    heap->refused = true;
    if (heap->deferring == 0) return nullptr;  // else luaGuard refuses it once the body's C++ objects are gone
  }
  void* out = std::realloc(ptr, nsize);
  if (!out) return nullptr;
  heap->used = heap->used - old + nsize;
  if (heap->used > heap->peak) heap->peak = heap->used;
  return out;
}

int readOnlyError(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  const char* name = lua_tostring(L, lua_upvalueindex(1));
  return luaL_error(L, "cannot assign %s%s%s: the %s library is read-only in the strategy sandbox", name, key ? "." : "",
                    key ? key : "", name);
}

int forbiddenField(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  const char* name = lua_tostring(L, lua_upvalueindex(1));
  if (!key) return 0;
  return luaL_error(L, "%s.%s is not available in the strategy sandbox", name, key);
}

int proxyPairs(lua_State* L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, [](lua_State* S) -> int {
    lua_settop(S, 2);
    if (lua_next(S, 1)) return 2;
    lua_pushnil(S);
    return 1;
  });
  lua_insert(L, -2);
  lua_pushnil(L);
  return 3;
}

// Replaces the table on top of the stack with a read-only proxy of it.
// `strict`: reading a missing field is an error (os.execute).
void makeReadOnly(lua_State* L, const char* name, bool strict) {
  int real = lua_gettop(L);
  lua_newtable(L);  // proxy
  lua_createtable(L, 0, 5);
  if (strict) {
    // __index: the real table, itself falling back to an error.
    lua_createtable(L, 0, 1);
    lua_pushstring(L, name);
    lua_pushcclosure(L, forbiddenField, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, real);
  }
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, readOnlyError, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, proxyPairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_replace(L, real);
}

bool isLibraryName(lua_State* L, int key_index) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLibraryKey);
  lua_pushvalue(L, key_index);
  bool found = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return found;
}

// _G's __newindex: scripts define their own globals, never replace the sandbox's.
int guardedGlobalSet(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING && isLibraryName(L, 2)) {
    return luaL_error(L, "cannot replace the global '%s': it belongs to the strategy sandbox", lua_tostring(L, 2));
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

// The library table's __index: names that were left out on purpose say so.
int missingGlobal(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  if (key) {
    for (const char* name : kForbidden) {
      if (std::strcmp(key, name) == 0) return luaL_error(L, "'%s' is not available in the strategy sandbox", key);
    }
  }
  return 0;
}

int sandboxRawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushglobaltable(L);
  bool is_globals = lua_rawequal(L, 1, -1);
  lua_pop(L, 1);
  if (is_globals && lua_type(L, 2) == LUA_TSTRING && isLibraryName(L, 2)) {
    return luaL_error(L, "cannot replace the global '%s': it belongs to the strategy sandbox", lua_tostring(L, 2));
  }
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// load(chunk [, name [, mode [, env]]]) with the mode forced to text.
int sandboxLoad(lua_State* L) {
  size_t length = 0;
  const char* text = nullptr;
  if (lua_type(L, 1) == LUA_TSTRING) {
    text = lua_tolstring(L, 1, &length);
  } else {
    return luaL_error(L, "load: only a string of Lua source is accepted in the strategy sandbox");
  }
  const char* name = luaL_optstring(L, 2, "=(load)");
  if (!lua_isnoneornil(L, 3)) {
    const char* mode = luaL_checkstring(L, 3);
    if (std::strcmp(mode, "t") != 0) {
      return luaL_error(L, "load: mode '%s' refused: the strategy sandbox loads text only", mode);
    }
  }
  int status = luaL_loadbufferx(L, text, length, name, "t");
  if (status != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (!lua_isnone(L, 4)) {
    lua_pushvalue(L, 4);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

int sandboxCollect(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") == 0) {
    lua_pushnumber(L, static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNT, 0)) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
  }
  if (std::strcmp(option, "collect") == 0 || std::strcmp(option, "step") == 0) {
    lua_gc(L, std::strcmp(option, "collect") == 0 ? LUA_GCCOLLECT : LUA_GCSTEP, 0);
    lua_pushinteger(L, 0);
    return 1;
  }
  return luaL_error(L, "collectgarbage('%s') is not available in the strategy sandbox", option);
}

// json.array([t]): t (or a new table) marked as a JSON array; returns it.
int jsonArray(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
  lua_setmetatable(L, 1);
  return 1;
}

int sandboxDump(lua_State* L) { return luaL_error(L, "string.dump is not available in the strategy sandbox"); }

int sandboxRequire(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLoadedKey);  // 2
  lua_pushvalue(L, 1);
  if (lua_rawget(L, 2) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  // The module's chunk, loaded with every C++ object gone before Lua runs.
  luaGuard(L, [&] {
    std::string_view module(name);
    bool valid = !module.empty() && module.front() != '.' && module.back() != '.' &&
                 module.find("..") == std::string_view::npos;
    for (char c : module) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
    if (!valid) throw ScriptError(fmt::format("require '{}': module names are words separated by dots", module));
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kModulesKey);
    const auto* modules = static_cast<const ModuleSource*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    auto found = modules->find(std::string(module));
    if (!found) throw ScriptError(found.error().message);
    const auto& [text, origin] = *found;
    const std::string chunk = "@" + origin;
    if (luaL_loadbufferx(L, text.data(), text.size(), chunk.c_str(), "t") != LUA_OK) {
      std::string message = lua_tostring(L, -1);
      lua_pop(L, 1);
      throw ScriptError(message);
    }
    return 1;
  });
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, 2);
  return 1;
}

int traceback(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  if (!message) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, message, 1);
  return 1;
}

void overrunHook(lua_State* L, lua_Debug*) {
  if (!callOverrun(L)) {
    lua_sethook(L, nullptr, 0, 0);
    return;
  }
  stopOverrun(L);
}

// coroutine.resume: a hook belongs to one Lua thread, so the watchdog must
// know which thread runs. The original resume is upvalue 1.
int watchedResume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  auto* watchdog = *static_cast<Watchdog**>(lua_getextraspace(L));
  if (co && watchdog) {
    // A coroutine made in an earlier call may carry another watchdog.
    *static_cast<Watchdog**>(lua_getextraspace(co)) = watchdog;
    watchdog->running(co);
  }
  int nargs = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  if (co && watchdog) watchdog->running(L);
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

// coroutine.wrap on top of the watched resume; an error inside the
// coroutine is raised in the caller, as the library's wrap does.
constexpr const char* kWrap = R"(local create, resume, close, error = ...
local function finish(co, ok, ...)
  if ok then return ... end
  close(co)
  error((...), 0)
end
return function(f)
  local co = create(f)
  return function(...) return finish(co, resume(co, ...)) end
end
)";

// Replaces resume and wrap in the coroutine table on top of the stack.
void watchCoroutines(lua_State* L) {
  int table = lua_gettop(L);
  lua_getfield(L, table, "resume");
  lua_pushcclosure(L, watchedResume, 1);
  lua_setfield(L, table, "resume");
  if (luaL_loadbufferx(L, kWrap, std::strlen(kWrap), "=coroutine.wrap", "t") != LUA_OK) lua_error(L);
  lua_getfield(L, table, "create");
  lua_getfield(L, table, "resume");
  lua_getfield(L, table, "close");
  lua_getglobal(L, "error");
  lua_call(L, 4, 1);
  lua_setfield(L, table, "wrap");
}

}  // namespace

LuaHeap& luaHeap(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<LuaHeap*>(ud);
}

bool isMarkedArray(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
  const bool marked = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return marked;
}

bool callOverrun(lua_State* L) {
  auto* watchdog = *static_cast<Watchdog**>(lua_getextraspace(L));
  return watchdog && watchdog->overrunning();
}

int stopOverrun(lua_State* L) {
  lua_pushboolean(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kInterrupted);
  return luaL_error(L, "stopped by the watchdog: the callback overran its time budget");
}

std::optional<std::string> SdkModules::read(const std::string& relative_path) const {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(relative_path);
  if (it != cache_.end()) return it->second;
  std::optional<std::string> text;
  std::ifstream in(std::filesystem::path(dir_) / relative_path, std::ios::binary);
  if (in) {
    std::ostringstream out;
    out << in.rdbuf();
    text = out.str();
  }
  cache_.emplace(relative_path, text);
  return text;
}

Result<std::unique_ptr<LuaSandbox>> LuaSandbox::create(size_t memory_bytes, const ModuleSource& modules) {
  std::unique_ptr<LuaSandbox> box(new LuaSandbox());
  box->heap_ = std::make_unique<LuaHeap>();
  box->heap_->limit = memory_bytes;
  lua_State* L = lua_newstate(allocate, box->heap_.get());
  if (!L) return fail(ErrorCode::Internal, "cannot create a Lua state (memory limit too small?)");
  box->L_ = L;
  *static_cast<Watchdog**>(lua_getextraspace(L)) = nullptr;
  auto setup = [](lua_State* S) -> int {
    const auto* source = static_cast<const ModuleSource*>(lua_touserdata(S, 1));
    lua_pushlightuserdata(S, const_cast<ModuleSource*>(source));
    lua_rawsetp(S, LUA_REGISTRYINDEX, &kModulesKey);
    lua_newtable(S);
    lua_rawsetp(S, LUA_REGISTRYINDEX, &kLoadedKey);

    luaL_requiref(S, "_G", luaopen_base, 1);
    lua_pop(S, 1);
    struct Lib {
      const char* name;
      lua_CFunction open;
    };
    for (auto lib : {Lib{"string", luaopen_string}, Lib{"table", luaopen_table}, Lib{"math", luaopen_math},
                     Lib{"utf8", luaopen_utf8}, Lib{"coroutine", luaopen_coroutine}, Lib{"os", luaopen_os}}) {
      luaL_requiref(S, lib.name, lib.open, 1);
      lua_pop(S, 1);
    }
    // The library table: what the sandbox offers, read through _G.
    lua_newtable(S);
    int library = lua_gettop(S);
    lua_pushglobaltable(S);
    int globals = lua_gettop(S);
    for (const char* name : {"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
                             "select", "tonumber", "tostring", "type", "xpcall", "setmetatable", "getmetatable",
                             "_VERSION", "print", "warn"}) {
      lua_getfield(S, globals, name);
      lua_setfield(S, library, name);
    }
    lua_pushcfunction(S, sandboxLoad);
    lua_setfield(S, library, "load");
    lua_pushcfunction(S, sandboxRawset);
    lua_setfield(S, library, "rawset");
    lua_pushcfunction(S, sandboxCollect);
    lua_setfield(S, library, "collectgarbage");
    lua_pushcfunction(S, sandboxRequire);
    lua_setfield(S, library, "require");
    // json.array: the mark that writes an empty table as [].
    lua_createtable(S, 0, 1);
    lua_pushliteral(S, "json array");
    lua_setfield(S, -2, "__name");
    lua_rawsetp(S, LUA_REGISTRYINDEX, &kArrayMetaKey);
    lua_createtable(S, 0, 1);
    lua_pushcfunction(S, jsonArray);
    lua_setfield(S, -2, "array");
    makeReadOnly(S, "json", false);
    lua_setfield(S, library, "json");
    // string.dump would hand out bytecode: replaced before the proxy is made,
    // as are the functions that would run long inside one C call.
    lua_getfield(S, globals, "string");
    lua_pushcfunction(S, sandboxDump);
    lua_setfield(S, -2, "dump");
    lua_getfield(S, globals, "table");
    installBudgetedLibraries(S, lua_gettop(S) - 1, lua_gettop(S));
    lua_pop(S, 2);
    // os: only the clock and the calendar.
    lua_getfield(S, globals, "os");
    lua_createtable(S, 0, 3);
    for (const char* name : {"time", "clock", "date", "difftime"}) {
      lua_getfield(S, -2, name);
      lua_setfield(S, -2, name);
    }
    makeReadOnly(S, "os", true);
    lua_setfield(S, library, "os");
    lua_pop(S, 1);
    lua_getfield(S, globals, "coroutine");
    watchCoroutines(S);
    lua_pop(S, 1);
    for (const char* name : {"string", "table", "math", "utf8", "coroutine"}) {
      lua_getfield(S, globals, name);
      makeReadOnly(S, name, false);
      lua_setfield(S, library, name);
    }
    // The string metatable (("x"):upper()) cannot be reached or changed.
    lua_pushliteral(S, "");
    lua_getmetatable(S, -1);
    lua_pushboolean(S, 0);
    lua_setfield(S, -2, "__metatable");
    lua_pop(S, 2);
    // Empty the global table; it keeps only what scripts define.
    lua_pushnil(S);
    while (lua_next(S, globals)) {
      lua_pop(S, 1);
      lua_pushvalue(S, -1);
      lua_pushnil(S);
      lua_rawset(S, globals);
    }
    lua_pushvalue(S, globals);
    lua_setfield(S, library, "_G");
    lua_createtable(S, 0, 1);
    lua_pushcfunction(S, missingGlobal);
    lua_setfield(S, -2, "__index");
    lua_setmetatable(S, library);
    lua_pushvalue(S, library);
    lua_rawsetp(S, LUA_REGISTRYINDEX, &kLibraryKey);
    lua_createtable(S, 0, 3);
    lua_pushvalue(S, library);
    lua_setfield(S, -2, "__index");
    lua_pushcfunction(S, guardedGlobalSet);
    lua_setfield(S, -2, "__newindex");
    lua_pushliteral(S, "the global table of a strategy is protected");
    lua_setfield(S, -2, "__metatable");
    lua_setmetatable(S, globals);
    return 0;
  };
  lua_pushcfunction(L, setup);
  lua_pushlightuserdata(L, const_cast<ModuleSource*>(&modules));
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error";
    return fail(ErrorCode::Internal, "setting up the Lua sandbox failed: " + message);
  }
  // A generational collector suits many short-lived bar objects.
  lua_gc(L, LUA_GCGEN, 0, 0);
  return box;
}

LuaSandbox::~LuaSandbox() {
  if (L_) lua_close(L_);
}

Result<void> LuaSandbox::run(const std::string& text, const std::string& chunk_name, Watchdog* watchdog,
                             int64_t budget_ms) {
  auto chunk = "@" + chunk_name;
  heap_->refused = false;
  if (luaL_loadbufferx(L_, text.data(), text.size(), chunk.c_str(), "t") != LUA_OK) {
    std::string message = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load";
    lua_pop(L_, 1);
    if (heap_->refused) message = fmt::format("{}: the memory limit of {} MiB was reached", chunk_name, heap_->limit >> 20);
    return fail(ErrorCode::InvalidArgument, message);
  }
  return callLua(L_, 0, 0, "loading the script", watchdog, budget_ms);
}

Result<void> callLua(lua_State* L, int nargs, int nresults, const char* what, Watchdog* watchdog, int64_t budget_ms) {
  int base = lua_gettop(L) - nargs;  // the function's index
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  auto* heap = &luaHeap(L);
  heap->refused = false;
  // Lua called from inside a binding's body runs under the limit; and a
  // body an error left early cannot leave the limit lifted beyond the call.
  const int deferring = std::exchange(heap->deferring, 0);
  if (watchdog) watchdog->enter(L, budget_ms, what);
  int status = lua_pcall(L, nargs, nresults, base);
  if (watchdog) watchdog->leave(L);
  heap->deferring = deferring;
  if (status == LUA_OK) {
    lua_remove(L, base);
    return {};
  }
  std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error";
  lua_pop(L, 2);  // the error and the handler
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kInterrupted);
  bool interrupted = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (interrupted) {
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kInterrupted);
    if (const char* by = watchdog ? watchdog->preemptedBy() : nullptr) {
      return fail(ErrorCode::Unavailable, fmt::format("{}: interrupted: {} took the core thread", what, by));
    }
    return fail(ErrorCode::Unavailable, fmt::format("{}: stopped after running longer than its budget of {} ms "
                                                    "(runtime.callback_budget_ms)\n{}",
                                                    what, budget_ms, message));
  }
  if (status == LUA_ERRMEM || heap->refused) {
    lua_gc(L, LUA_GCCOLLECT, 0);
    return fail(ErrorCode::Unavailable,
                fmt::format("{}: out of memory: the strategy's limit of {} MiB was reached (runtime.memory_mb)\n{}", what,
                            heap->limit >> 20, message));
  }
  return fail(ErrorCode::InvalidArgument, fmt::format("{}: {}", what, message));
}

namespace {

int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The CPU time the thread behind `clock` has used, in ns, readable from any
// thread; -1 when it cannot be read.
int64_t cpuNs(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return -1;
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// This thread's CPU clock as other threads name it (looked up once a
// thread). Should the system not give one, the wall clock: the watchdog
// then counts wall time, as it once did, rather than its own CPU time
// (which would never stop a runaway loop).
clockid_t thisThreadCpuClock() {
  thread_local const clockid_t clock = [] {
    clockid_t id{};
    return pthread_getcpuclockid(pthread_self(), &id) == 0 ? id : CLOCK_MONOTONIC;
  }();
  return clock;
}

}  // namespace

Watchdog::Watchdog() : thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::enter(lua_State* L, int64_t budget_ms, const char* what) {
  *static_cast<Watchdog**>(lua_getextraspace(L)) = this;
  {
    // A few stores under an uncontended lock: the label is formatted only
    // when health asks (current()), not on every callback.
    const std::string* label = &luaHeap(L).label;
    const int64_t now = steadyNowNs();
    std::lock_guard lock(current_mutex_);
    current_label_ = label;
    current_what_ = what;
    current_since_ns_ = now;
  }
  preempted_by_.store(nullptr, std::memory_order_relaxed);
  budget_ms_.store(budget_ms, std::memory_order_relaxed);
  state_.store(L, std::memory_order_relaxed);
  cpu_clock_.store(thisThreadCpuClock(), std::memory_order_relaxed);
  waited_ns_.store(0, std::memory_order_relaxed);
  // Each call starts with no wait open: one an error skipped (a longjmp
  // past a HostWait) lifts no budget beyond the call it was in.
  waiting_.store(0, std::memory_order_relaxed);
  call_.fetch_add(1, std::memory_order_release);  // odd: running
}

Watchdog::HostWait::HostWait(lua_State* L)
    : watchdog_(*static_cast<Watchdog**>(lua_getextraspace(L))), since_ns_(cpuNs(thisThreadCpuClock())) {
  if (watchdog_) watchdog_->waiting_.fetch_add(1);
}

Watchdog::HostWait::~HostWait() {
  if (!watchdog_) return;
  // The time first, then the end of the wait: the watchdog never sees the
  // wait over without its time.
  const int64_t now = cpuNs(thisThreadCpuClock());  // the clock the watchdog counts by
  if (since_ns_ >= 0 && now >= since_ns_) watchdog_->waited_ns_.fetch_add(now - since_ns_);
  watchdog_->waiting_.fetch_sub(1);
}

void Watchdog::running(lua_State* L) {
  // With enter()'s and run()'s order (each stores, then loads the other's
  // flag), either the watchdog hooks this thread or this sees hooked_.
  state_.store(L);
  if (hooked_.load()) lua_sethook(L, overrunHook, LUA_MASKCOUNT, 1);
}

void Watchdog::leave(lua_State* L) {
  call_.fetch_add(1, std::memory_order_release);  // even: idle
  waiting_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard lock(current_mutex_);
    current_label_ = nullptr;
  }
  if (hooked_.load(std::memory_order_acquire)) {
    hooked_.store(false, std::memory_order_relaxed);
    lua_sethook(L, nullptr, 0, 0);
  }
}

void Watchdog::preempt(const char* reason) {
  std::lock_guard lock(mutex_);  // one flagger at a time: this and run()
  const uint64_t call = call_.load(std::memory_order_acquire);
  if ((call & 1) == 0 || hooked_.load()) return;
  preempted_by_.store(reason, std::memory_order_release);
  stopCall(call);
}

void Watchdog::stopCall(uint64_t call) {
  // Set asynchronously (lua_sethook is safe to call from another thread);
  // if the call ended meanwhile, leave() or the next one clears it. The
  // flag goes first: a coroutine switch after it hooks its own thread.
  flagged_.store(call);
  hooked_.store(true);
  if (call_.load() != call) {
    hooked_.store(false);
    return;
  }
  lua_sethook(state_.load(), overrunHook, LUA_MASKCOUNT, 1);
  interruptions_.fetch_add(1, std::memory_order_relaxed);
}

std::optional<Watchdog::Current> Watchdog::current() const {
  std::lock_guard lock(current_mutex_);
  if (!current_label_) return std::nullopt;
  std::string label = *current_label_;
  if (*current_what_ != '\0') label += (label.empty() ? "" : " ") + std::string(current_what_);
  return Current{std::move(label), (steadyNowNs() - current_since_ns_) / 1'000'000};
}

void Watchdog::run() {
  uint64_t seen_call = 0;
  int64_t seen_used = -1;  // the running thread's CPU time when the call was first seen
  std::unique_lock lock(mutex_);
  while (!stop_) {
    int64_t budget = std::max<int64_t>(1, budget_ms_.load(std::memory_order_relaxed));
    // Four looks per budget: a call is stopped within 1.25 budgets.
    wake_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(250, budget * 250)));
    if (stop_) break;
    uint64_t call = call_.load(std::memory_order_acquire);
    // The budget is CPU time of the thread running the call: time it is
    // descheduled on a busy machine, or blocked on the disk, is not the script's.
    const int64_t used = cpuNs(cpu_clock_.load(std::memory_order_relaxed));
    if (call != seen_call) {
      seen_call = call;
      seen_used = used;
      continue;
    }
    if ((call & 1) == 0 || hooked_.load(std::memory_order_relaxed)) continue;
    // Waiting on the host is not running: only the script's own time counts.
    if (waiting_.load() > 0) continue;
    if (used < 0 || seen_used < 0) continue;
    if (used - seen_used - waited_ns_.load() < budget * 1'000'000) continue;
    stopCall(call);
  }
}

void pushJson(lua_State* L, const nlohmann::json& value) {
  luaL_checkstack(L, 3, "pushJson");
  switch (value.type()) {
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      lua_pushinteger(L, value.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case nlohmann::json::value_t::string:
      lua_pushlstring(L, value.get_ref<const std::string&>().data(), value.get_ref<const std::string&>().size());
      return;
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      if (value.empty()) {  // stays [] when written back
        lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
        lua_setmetatable(L, -2);
      }
      lua_Integer i = 1;
      for (const auto& item : value) {
        pushJson(L, item);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case nlohmann::json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (const auto& [key, item] : value.items()) {
        pushJson(L, item);
        lua_setfield(L, -2, key.c_str());
      }
      return;
    }
    default:
      lua_pushnil(L);
  }
}

}  // namespace th
