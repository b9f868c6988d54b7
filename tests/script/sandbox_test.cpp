// The strategy sandbox: every way out is refused with an error that says
// what was refused, and runaway scripts are stopped.
#include <gtest/gtest.h>
#include <lua.hpp>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "core/json.h"
#include "script/lua_engine.h"

namespace th {
namespace {

class Modules : public ModuleSource {
 public:
  Result<std::pair<std::string, std::string>> find(const std::string& module) const override {
    if (module == "helper") return std::pair<std::string, std::string>{"return {answer = 42}", "strategy/helper.lua"};
    return fail(ErrorCode::NotFound, "module '" + module + "' not found: require looks only in the strategy's folder "
                                     "and in sdk/lua");
  }
};

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = LuaSandbox::create(8u << 20, modules_);
    ASSERT_TRUE(created) << created.error().message;
    box_ = std::move(*created);
  }
  // The error a chunk raises ("" when it runs).
  std::string error(const std::string& code) {
    auto ran = box_->run(code, "test.lua");
    return ran ? "" : ran.error().message;
  }
  // Defines `function f()` and calls it under the watchdog.
  Result<void> callF(const std::string& body, int64_t budget_ms) {
    if (auto ok = box_->run("function f() " + body + " end", "test.lua"); !ok) return ok;
    lua_State* L = box_->state();
    lua_getglobal(L, "f");
    return callLua(L, 0, 0, "on_bar", &watchdog_, budget_ms);
  }
  Modules modules_;
  std::unique_ptr<LuaSandbox> box_;
  Watchdog watchdog_;
};

TEST_F(Sandbox, IoOsExecuteDebugAndPackageAreNotThere) {
  EXPECT_NE(error("io.open('/etc/passwd')").find("'io' is not available in the strategy sandbox"), std::string::npos);
  EXPECT_NE(error("os.execute('touch /tmp/pwned')").find("os.execute is not available in the strategy sandbox"),
            std::string::npos);
  EXPECT_NE(error("os.remove('x')").find("os.remove is not available"), std::string::npos);
  EXPECT_NE(error("local d = debug.getinfo(1)").find("'debug' is not available"), std::string::npos);
  EXPECT_NE(error("package.path = '/'").find("'package' is not available"), std::string::npos);
  EXPECT_NE(error("dofile('/etc/passwd')").find("'dofile' is not available"), std::string::npos);
  EXPECT_NE(error("loadfile('/etc/passwd')").find("'loadfile' is not available"), std::string::npos);
  // What is allowed works.
  EXPECT_EQ(error("assert(type(os.time()) == 'number' and os.clock() >= 0 and os.date('%Y') ~= nil)"), "");
  EXPECT_EQ(error("assert(math.floor(2.5) == 2 and string.format('%d', 3) == '3' and #table.pack(1, 2) == 2)"), "");
  EXPECT_EQ(error("assert(('abc'):upper() == 'ABC' and utf8.len('é') == 1)"), "");
}

TEST_F(Sandbox, BytecodeIsRefused) {
  EXPECT_NE(error("string.dump(function() end)").find("string.dump is not available"), std::string::npos);
  // A binary chunk, however it was made: load only takes text.
  EXPECT_EQ(error("local f, err = load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10'); "
                  "assert(f == nil and err:find('attempt to load a binary chunk'), err)"),
            "");
  EXPECT_NE(error("load('return 1', 'x', 'b')").find("mode 'b' refused"), std::string::npos);
  EXPECT_NE(error("load(function() return nil end)").find("only a string of Lua source"), std::string::npos);
  EXPECT_EQ(error("assert(load('return 1 + 1')() == 2)"), "");
  // A chunk made by load sees the sandbox, not a wider global table.
  EXPECT_NE(error("load('io.open(\"/etc/passwd\")')()").find("'io' is not available"), std::string::npos);
  // The host itself loads text only.
  auto binary = box_->run(std::string("\x1bLua\x54", 5), "evil.luac");
  ASSERT_FALSE(binary);
  EXPECT_NE(binary.error().message.find("binary chunk"), std::string::npos);
}

TEST_F(Sandbox, RequireResolvesOnlyTheStrategyAndTheSdk) {
  EXPECT_EQ(error("assert(require('helper').answer == 42)"), "");
  EXPECT_NE(error("require('socket')").find("module 'socket' not found"), std::string::npos);
  EXPECT_NE(error("require('../../etc/passwd')").find("module names are words separated by dots"), std::string::npos);
  EXPECT_NE(error("require('/etc/passwd')").find("module names are words separated by dots"), std::string::npos);
}

TEST_F(Sandbox, TheHostsGlobalsCannotBeReplaced) {
  EXPECT_NE(error("require = function() end").find("cannot replace the global 'require'"), std::string::npos);
  EXPECT_NE(error("print = nil").find("cannot replace the global 'print'"), std::string::npos);
  EXPECT_NE(error("_G.pcall = error").find("cannot replace the global 'pcall'"), std::string::npos);
  EXPECT_NE(error("rawset(_G, 'pairs', nil)").find("cannot replace the global 'pairs'"), std::string::npos);
  EXPECT_NE(error("string.rep = function() return '' end").find("the string library is read-only"),
            std::string::npos);
  EXPECT_NE(error("math.huge = 1").find("the math library is read-only"), std::string::npos);
  EXPECT_NE(error("setmetatable(_G, {})").find("cannot change a protected metatable"), std::string::npos);
  EXPECT_NE(error("getmetatable('').__index = {}").find("attempt to index"), std::string::npos);
  // A script's own globals are its business.
  EXPECT_EQ(error("counter = 1; counter = counter + 1; assert(counter == 2)"), "");
  EXPECT_EQ(error("local n = 0; for k in pairs(math) do n = n + 1 end; assert(n > 10)"), "");
}

TEST_F(Sandbox, AMemoryBombHitsTheCap) {
  auto bomb = callF("local s = string.rep('x', 64 * 1024 * 1024)", 1000);
  ASSERT_FALSE(bomb);
  EXPECT_NE(bomb.error().message.find("out of memory: the strategy's limit of 8 MiB was reached"), std::string::npos)
      << bomb.error().message;
  auto growing = callF("local t = {} for i = 1, 1e9 do t[i] = i end", 5000);
  ASSERT_FALSE(growing);
  EXPECT_NE(growing.error().message.find("limit of 8 MiB"), std::string::npos) << growing.error().message;
  EXPECT_LE(box_->heap().peak, 8u << 20);
  // The state is usable afterwards.
  EXPECT_TRUE(callF("local x = 1 + 1", 1000));
}

TEST_F(Sandbox, TheWatchdogStopsARunawayCallback) {
  auto started = std::chrono::steady_clock::now();
  auto spun = callF("while true do end", 50);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(spun);
  EXPECT_NE(spun.error().message.find("stopped after running longer than its budget of 50 ms"), std::string::npos)
      << spun.error().message;
  EXPECT_LT(took, std::chrono::seconds(2));
  // Catching the error does not help: the hook fires again until the call returns.
  auto stubborn = callF("while true do pcall(function() while true do end end) end", 50);
  ASSERT_FALSE(stubborn);
  EXPECT_NE(stubborn.error().message.find("budget of 50 ms"), std::string::npos);
  // The next call is not stopped by a late hook.
  EXPECT_TRUE(callF("local s = 0 for i = 1, 1000 do s = s + i end", 50));
  EXPECT_GE(watchdog_.interruptions(), 2u);
}

// The budget is the CPU time of the thread running the callback. A thread
// that is not running — descheduled on a busy machine, blocked in a call
// into the host — spends none of it: 150 ms blocked under a 50 ms budget
// return normally, and the script's own loop after them is still stopped.
TEST_F(Sandbox, TheBudgetIsTheCallbacksCpuTimeNotTheTimeItWasNotRunning) {
  lua_State* L = box_->state();
  lua_pushcfunction(L, [](lua_State*) -> int {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return 0;
  });
  lua_setglobal(L, "blocked");
  EXPECT_TRUE(callF("blocked()", 50));
  auto spun = callF("blocked() while true do end", 50);
  ASSERT_FALSE(spun);
  EXPECT_NE(spun.error().message.find("budget of 50 ms"), std::string::npos) << spun.error().message;
}

TEST_F(Sandbox, TheWatchdogStopsALoopInsideACoroutine) {
  // A hook belongs to one Lua thread: the loop runs in the coroutine's.
  auto wrapped = callF("coroutine.wrap(function() while true do end end)()", 50);
  ASSERT_FALSE(wrapped);
  EXPECT_NE(wrapped.error().message.find("budget of 50 ms"), std::string::npos) << wrapped.error().message;
  auto resumed = callF("local co = coroutine.create(function() while true do end end)\n"
                       "while true do coroutine.resume(co) end",
                       50);
  ASSERT_FALSE(resumed);
  EXPECT_NE(resumed.error().message.find("budget of 50 ms"), std::string::npos) << resumed.error().message;
  auto ping_pong = callF("local g = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
                         "while true do g() end",
                         50);
  ASSERT_FALSE(ping_pong);
  EXPECT_NE(ping_pong.error().message.find("budget of 50 ms"), std::string::npos) << ping_pong.error().message;
  // Coroutines still work as the manual says, errors included.
  EXPECT_TRUE(callF("local g = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
                    "assert(g(1) == 2) assert(g(5) == 10)\n"
                    "local co = coroutine.create(function() coroutine.yield(7) end)\n"
                    "local ok, v = coroutine.resume(co) assert(ok and v == 7)",
                    50));
  auto boom = callF("coroutine.wrap(function() error('boom') end)()", 50);
  ASSERT_FALSE(boom);
  EXPECT_NE(boom.error().message.find("test.lua:1: boom"), std::string::npos) << boom.error().message;
  // After a stopped call, coroutines run normally in the next one.
  ASSERT_FALSE(callF("local g = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
                     "while true do g() end",
                     50));
  EXPECT_TRUE(callF("local g = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)\n"
                    "for _ = 1, 100000 do end assert(g() == 1 and g() == 2)",
                    50));
}

// The kill switch and a shutdown do not wait for a callback's budget (up to
// a minute): another thread sees what runs and preempts it, in a Lua loop
// and in a pattern match alike.
TEST_F(Sandbox, TheOperatorPreemptsACallbackWhateverItsBudget) {
  luaHeap(box_->state()).label = "spin 1.0.0";
  for (const char* body : {"while true do end", "local s = ('a'):rep(1e5) s:find('.-.-.-.-.-.-b')"}) {
    std::string seen;
    std::thread operator_thread([&] {
      for (int i = 0; i < 5000 && seen.empty(); ++i) {
        if (auto current = watchdog_.current(); current && current->ms >= 50) seen = current->label;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      watchdog_.preempt("the kill switch");
    });
    auto start = std::chrono::steady_clock::now();
    auto stopped = callF(body, 60'000);
    auto took = std::chrono::steady_clock::now() - start;
    operator_thread.join();
    EXPECT_EQ(seen, "spin 1.0.0 on_bar") << body;
    ASSERT_FALSE(stopped) << body;
    EXPECT_NE(stopped.error().message.find("on_bar: interrupted: the kill switch took the core thread"),
              std::string::npos)
        << stopped.error().message;
    EXPECT_LT(took, std::chrono::seconds(5)) << body << ": the budget was 60 s";
  }
  EXPECT_FALSE(watchdog_.current()) << "nothing runs between calls";
  // The next call runs whole.
  EXPECT_TRUE(callF("local x = 0 for i = 1, 1000 do x = x + i end", 1000));
}

TEST_F(Sandbox, ErrorsCarryFileLineAndATraceback) {
  ASSERT_TRUE(box_->run("local function inner() error('bad level') end\nfunction f() inner() end", "orb.lua"));
  lua_State* L = box_->state();
  lua_getglobal(L, "f");
  auto failed = callLua(L, 0, 0, "on_bar", &watchdog_, 100);
  ASSERT_FALSE(failed);
  const auto& message = failed.error().message;
  EXPECT_EQ(message.substr(0, 30), "on_bar: orb.lua:1: bad level\ns") << message;
  EXPECT_NE(message.find("stack traceback:"), std::string::npos);
  EXPECT_NE(message.find("orb.lua:2: in function 'f'"), std::string::npos) << message;
}

TEST_F(Sandbox, StateIsPlainDataOnly) {
  lua_State* L = box_->state();
  ASSERT_TRUE(box_->run("s = {n = 3, x = 1.5, name = 'orb', flags = {true, false}, nested = {a = {1, 2}}}", "t.lua"));
  lua_getglobal(L, "s");
  auto json = luaToJson(L, -1, "ctx.state");
  lua_pop(L, 1);
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ((*json)["n"], 3);
  EXPECT_TRUE((*json)["n"].is_number_integer());
  EXPECT_EQ((*json)["x"], 1.5);
  EXPECT_EQ((*json)["nested"]["a"][1], 2);
  pushJson(L, *json);
  lua_setglobal(L, "copy");
  EXPECT_EQ(error("assert(math.type(copy.n) == 'integer' and copy.flags[2] == false and copy.nested.a[2] == 2)"), "");
  for (auto [code, expected] : std::initializer_list<std::pair<const char*, const char*>>{
           {"bad = {f = print}", "ctx.state.f: a function cannot be stored"},
           {"bad = {levels = {1, 2, print}}", "ctx.state.levels[3]: a function cannot be stored"},
           {"bad = {1, 2, x = 3}", "either as an array"},
           {"bad = {v = 0/0}", "only finite numbers"},
       }) {
    ASSERT_TRUE(box_->run(code, "t.lua"));
    lua_getglobal(L, "bad");
    auto refused = luaToJson(L, -1, "ctx.state");
    lua_pop(L, 1);
    ASSERT_FALSE(refused) << code;
    EXPECT_NE(refused.error().message.find(expected), std::string::npos) << refused.error().message;
  }
  ASSERT_TRUE(box_->run("bad = {} bad.self = bad", "t.lua"));
  lua_getglobal(L, "bad");
  auto cycle = luaToJson(L, -1, "ctx.state");
  lua_pop(L, 1);
  ASSERT_FALSE(cycle);
  EXPECT_NE(cycle.error().message.find("nested too deep"), std::string::npos);
}

// The state stored before every order is written as text directly: it must
// be exactly the text of the document, key order, escapes and numbers alike,
// and refuse the same values with the same words.
// Both JSON writers (the document and the text) write a table marked with
// json.array() as an array even when it is empty, and an unmarked empty
// table as {}; an empty array read back keeps its mark.
TEST_F(Sandbox, AnEmptyTableIsAnObjectUnlessMarkedAnArray) {
  ASSERT_EQ(error("v = {list = json.array(), record = {}, filled = json.array({1, 2}), fresh = json.array({})}"), "");
  lua_State* L = box_->state();
  lua_getglobal(L, "v");
  auto document = luaToJson(L, -1, "v");
  std::string text;
  ASSERT_TRUE(luaToJsonText(L, -1, "v", text));
  lua_pop(L, 1);
  ASSERT_TRUE(document) << document.error().message;
  EXPECT_EQ(jsonText(*document), R"({"filled":[1,2],"fresh":[],"list":[],"record":{}})");
  EXPECT_EQ(text, jsonText(*document));
  pushJson(L, nlohmann::json::parse(R"({"a":[],"b":{}})"));
  auto round = luaToJson(L, -1, "back");
  lua_pop(L, 1);
  ASSERT_TRUE(round);
  EXPECT_EQ(jsonText(*round), R"({"a":[],"b":{}})");
  EXPECT_NE(error("json.array(5)").find("table expected"), std::string::npos);
  EXPECT_NE(error("json = 1").find("cannot replace the global 'json'"), std::string::npos);
}

TEST_F(Sandbox, StateTextIsTheDocumentsText) {
  lua_State* L = box_->state();
  // Runs `code`, then reads its global v both ways.
  struct Both {
    Result<nlohmann::json> document;
    Result<void> written;
    std::string text;
  };
  auto both = [&](const char* code) {
    Both out;
    EXPECT_TRUE(box_->run(code, "t.lua"));
    lua_getglobal(L, "v");
    out.document = luaToJson(L, -1, "ctx.state");
    out.written = luaToJsonText(L, -1, "ctx.state", out.text);
    lua_pop(L, 1);
    return out;
  };
  for (const char* code : {
           "v = {n = 3, x = 1.5, name = 'orb', flags = {true, false}, nested = {a = {1, 2}, b = {}}}",
           "v = {Zeta = 1, alpha = 2, ['a b'] = 3, ['\\xC3\\xA9t\\xC3\\xA9'] = 4, ['\\xFF'] = 5, [''] = 6, _ = 7}",
           "v = {s = 'quote \" back \\\\ tab \\t nl \\n bell \\7 bad \\xFF end', u = '\\xE2\\x82\\xAC'}",
           "v = {0.1 + 0.2, 1e-7, 1e21, -0.0, 5.0, 2^53, -2^63, math.mininteger, math.maxinteger, 123456789}",
           "v = {days = {SPY = {date = 20261120, high = 101.25, skip = false}, QQQ = {date = 20261120}}, list = {{a = 1}, {}, {2}}}",
           "v = 'just a string'",
           "v = nil",
           "v = true",
           "v = {}",
           "v = {} for i = 1, 300 do v[string.rep('long key ', 8) .. i] = {i, {x = i / 7}} end",
       }) {
    SCOPED_TRACE(code);
    auto read = both(code);
    ASSERT_TRUE(read.document) << read.document.error().message;
    ASSERT_TRUE(read.written) << read.written.error().message;
    EXPECT_EQ(read.text, jsonText(*read.document));
  }
  for (const char* code : {"v = {f = print}", "v = {levels = {1, 2, {x = print}}}", "v = {1, 2, x = 3}",
                           "v = {a = {v = 0/0}}", "v = {1, nil, 3, n = nil}", "v = {} v.self = v"}) {
    SCOPED_TRACE(code);
    auto read = both(code);
    ASSERT_FALSE(read.document);
    ASSERT_FALSE(read.written);
    EXPECT_EQ(read.written.error().message, read.document.error().message);
  }
}

}  // namespace
}  // namespace th
