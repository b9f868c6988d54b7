// The Lua side of a strategy instance: a sandboxed lua_State, the one helper
// every call into Lua goes through, the watchdog that stops a callback that
// runs too long, and the conversion of plain Lua data to and from JSON.
//
// The sandbox. The global table holds only what a script defines; the
// libraries it may use (base functions, string, table, math, utf8,
// coroutine, os.time/clock/date) sit read-only behind it, so assigning to
// `print`, `string.rep` or `require` is an error, as is naming io, debug,
// package, dofile or loadfile. `load` takes text only (bytecode is refused)
// and `require` resolves modules only from the strategy's own files and
// sdk/lua. Every allocation is counted against the instance's memory cap.
#pragma once

#include <atomic>
#include <chrono>
#include <ctime>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

struct lua_State;

namespace th {

class Watchdog;

// Where `require` finds modules: the strategy's files (by relative path,
// in memory, so an old version loads after the files changed) and the SDK
// folder on disk.
class ModuleSource {
 public:
  virtual ~ModuleSource() = default;
  // The module's text and the name it is reported under, or NotFound with
  // the places looked in.
  [[nodiscard]] virtual Result<std::pair<std::string, std::string>> find(const std::string& module) const = 0;
};

// sdk/lua on disk; files are read once and kept. Thread-safe.
class SdkModules {
 public:
  explicit SdkModules(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  // "th.time" → the text of <dir>/th/time.lua, or nullopt.
  std::optional<std::string> read(const std::string& relative_path) const;

 private:
  std::string dir_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::optional<std::string>> cache_;
};

struct LuaHeap {
  size_t used = 0, peak = 0, limit = 0;
  bool refused = false;  // an allocation was refused since the last call began
  int deferring = 0;     // inside a binding's body (luaGuard): granted now, refused when it returns
  std::string label;     // who runs in the state ("orb 1.2.0"), for reports of what holds the core thread
};

// The heap of a state made by LuaSandbox.
LuaHeap& luaHeap(lua_State* L);

class LuaSandbox {
 public:
  // A fresh sandboxed state whose heap may not grow beyond `memory_bytes`.
  [[nodiscard]] static Result<std::unique_ptr<LuaSandbox>> create(size_t memory_bytes, const ModuleSource& modules);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() const { return L_; }
  const LuaHeap& heap() const { return *heap_; }
  size_t memoryLimit() const { return heap_->limit; }

  // Compiles and runs a chunk of text in the sandbox, under `watchdog`
  // when given (a script's top level may loop too); the error reads
  // "name:line: message" with a traceback.
  [[nodiscard]] Result<void> run(const std::string& text, const std::string& chunk_name, Watchdog* watchdog = nullptr,
                                 int64_t budget_ms = 0);

 private:
  LuaSandbox() = default;
  lua_State* L_ = nullptr;
  std::unique_ptr<LuaHeap> heap_;
};

// Stops a callback that overruns its budget, counted in CPU time of the
// thread running it (a busy machine or a slow disk does not stop a script):
// the core thread marks each call's start and end (a few relaxed stores); a
// background thread looks a few times per budget and, for a call that is
// still running past it, sets a
// count hook on its state, which raises an error at the next instruction
// and at every one after until the call returns. Nothing runs in Lua while
// no call overruns.
class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Core thread, around each call; `what` names the callback ("on_bar").
  void enter(lua_State* L, int64_t budget_ms, const char* what = "");
  void leave(lua_State* L);

  // Any thread: stops the call running now, if any, as an overrun would;
  // `reason` (a literal) says who took the thread ("the kill switch").
  void preempt(const char* reason);
  // Core thread, after a stopped call: who preempted it (nullptr: it overran).
  const char* preemptedBy() const { return preempted_by_.load(std::memory_order_acquire); }

  // Any thread: the call running now ("orb 1.2.0 on_bar": the state's
  // LuaHeap::label and the callback) and for how many ms of wall time, or
  // nullopt between calls.
  struct Current {
    std::string label;
    int64_t ms = 0;
  };
  std::optional<Current> current() const;
  // Core thread: coroutine.resume switches the running Lua thread (and back).
  void running(lua_State* L);
  uint64_t interruptions() const { return interruptions_.load(std::memory_order_relaxed); }
  // For the hook: whether the call it was set for is still the running one
  // (a hook set just as that call ended must not stop the next).
  bool overrunning() const { return call_.load(std::memory_order_acquire) == flagged_.load(std::memory_order_acquire); }

  // Core thread, inside a call: the CPU time the host spends on what the
  // callback asked (an order or a cancel going to the store and the broker,
  // an option chain from its provider) is not the script's and does not
  // count against its budget (time blocked never counts); the script's own
  // time before and after does. Does nothing for a state that runs under no
  // watchdog.
  class HostWait {
   public:
    explicit HostWait(lua_State* L);
    ~HostWait();
    HostWait(const HostWait&) = delete;
    HostWait& operator=(const HostWait&) = delete;

   private:
    Watchdog* watchdog_;
    int64_t since_ns_;  // this thread's CPU time at the start
  };

 private:
  void run();
  // With mutex_ held: hooks the running state so `call` stops at its next
  // instruction, unless it has ended meanwhile.
  void stopCall(uint64_t call);

  std::atomic<lua_State*> state_{nullptr};
  std::atomic<uint64_t> call_{0};  // odd while a call runs
  std::atomic<uint64_t> flagged_{0};  // the call the hook was set for
  std::atomic<int64_t> budget_ms_{0};
  std::atomic<uint64_t> interruptions_{0};
  std::atomic<bool> hooked_{false};
  std::atomic<int> waiting_{0};         // HostWaits open in the running call
  std::atomic<int64_t> waited_ns_{0};   // and the CPU time the ended ones took
  std::atomic<clockid_t> cpu_clock_{CLOCK_THREAD_CPUTIME_ID};  // the running call's thread's CPU clock
  std::atomic<const char*> preempted_by_{nullptr};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;

  mutable std::mutex current_mutex_;
  // The running call, for current(). Both point at what outlives the call
  // (its state's LuaHeap::label, callLua's `what`): leave() clears them
  // before either can go.
  const std::string* current_label_ = nullptr;  // guarded by current_mutex_; null between calls
  const char* current_what_ = "";               // guarded by current_mutex_
  int64_t current_since_ns_ = 0;                // steady clock; guarded by current_mutex_
  std::thread thread_;
};

// For the sandbox's C functions that may run long (pattern matching,
// string.rep): whether the running call has overrun its budget, and the
// error that stops it, the one the watchdog's hook raises.
bool callOverrun(lua_State* L);
int stopOverrun(lua_State* L);

// Replaces string.find, match, gmatch, gsub and rep and table.sort (in the
// tables at these stack indices) with versions the watchdog can stop
// (lua_strings.cpp).
void installBudgetedLibraries(lua_State* L, int string_table, int table_table);

// Calls the function on top of the stack (below it: its arguments) with a
// traceback handler; on error the stack is restored and the error carries
// "what: file:line: message\nstack traceback: ...". A refused allocation
// reads as the memory limit, an interruption as the time budget.
[[nodiscard]] Result<void> callLua(lua_State* L, int nargs, int nresults, const char* what, Watchdog* watchdog,
                                   int64_t budget_ms);

// json.array(t) in the sandbox: marks a table as a JSON array, so that an
// empty one is written [] rather than {} (a list with nothing in it, not an
// empty record). Whether the table at `index` carries the mark.
bool isMarkedArray(lua_State* L, int index);

// Plain data: nil, booleans, numbers, strings, and tables of them whose
// keys are all strings or form an array 1..n. Anything else (functions,
// userdata, cycles, mixed keys, NaN) is an error naming the path
// ("state.levels[3]: a function cannot be stored").
[[nodiscard]] Result<nlohmann::json> luaToJson(lua_State* L, int index, const std::string& path);
// The same value as JSON text, appended to `out`: byte for byte
// jsonText(luaToJson(...)) (keys sorted), without building the document first.
// On an error `out` holds a partial text.
[[nodiscard]] Result<void> luaToJsonText(lua_State* L, int index, std::string_view path, std::string& out);
void pushJson(lua_State* L, const nlohmann::json& value);

}  // namespace th
