// The sandbox's string.find, match, gmatch, gsub, rep and table.sort: the
// same answers and errors as Lua's own library, and stopped by the watchdog
// where Lua's own would hold the core thread for hours.
#include <gtest/gtest.h>
#include <lua.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "script/lua_engine.h"

namespace th {
namespace {

class NoModules : public ModuleSource {
 public:
  Result<std::pair<std::string, std::string>> find(const std::string& module) const override {
    return fail(ErrorCode::NotFound, "no module " + module);
  }
};

// Runs `return show(<expression>)` and gives what it returned, or "error: "
// and the message.
constexpr const char* kShow = R"(local function show(...)
  local out = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    out[#out + 1] = type(v) .. ':' .. tostring(v)
  end
  return table.concat(out, ',')
end
local function each(...)
  local out = {}
  for a, b, c in ... do out[#out + 1] = show(a, b, c) end
  return table.concat(out, ';')
end
return show()";

std::string evaluate(lua_State* L, const std::string& expression) {
  std::string code = std::string(kShow) + expression + ")";
  if (luaL_loadbufferx(L, code.data(), code.size(), "=case", "t") != LUA_OK) return "load: " + std::string(lua_tostring(L, -1));
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)";
    lua_pop(L, 1);
    return "error: " + message;
  }
  std::string out = lua_tostring(L, -1);
  lua_pop(L, 1);
  return out;
}

class LuaStrings : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = LuaSandbox::create(64u << 20, modules_);
    ASSERT_TRUE(created) << created.error().message;
    box_ = std::move(*created);
    stock_ = luaL_newstate();
    luaL_openlibs(stock_);
  }
  void TearDown() override { lua_close(stock_); }

  // Calls `function f() body end` under the watchdog; the error (or "") and
  // how long it took.
  std::pair<std::string, std::chrono::milliseconds> timed(const std::string& body, int64_t budget_ms) {
    auto defined = box_->run("function f() " + body + " end", "test.lua");
    EXPECT_TRUE(defined) << defined.error().message;
    lua_State* L = box_->state();
    lua_getglobal(L, "f");
    auto start = std::chrono::steady_clock::now();
    auto ran = callLua(L, 0, 0, "on_bar", &watchdog_, budget_ms);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return {ran ? "" : ran.error().message, took};
  }

  NoModules modules_;
  std::unique_ptr<LuaSandbox> box_;
  lua_State* stock_ = nullptr;
  Watchdog watchdog_;
};

TEST_F(LuaStrings, AnswerAsLuasOwnLibraryDoes) {
  const std::vector<std::string> cases = {
      // find: plain, patterns, init, anchors, captures
      "string.find('hello world', 'o w')", "string.find('hello world', 'o', 6)", "string.find('hello', 'l', -2)",
      "string.find('hello', 'xyz')", "string.find('hello', '', 10)", "string.find('hello', '', 6)",
      "string.find('a.b', '.', 1, true)", "string.find('a+b', '+', 1, true)", "string.find('hello', '^h')",
      "string.find('hello', '^e')", "string.find('hello', 'o$')", "string.find('hel$lo', 'l$l')",
      "string.find('key = value', '(%w+)%s*=%s*(%w+)')", "string.find('abc', '()b()')", "string.find('', '')",
      "string.find('abc', '', -10)", "string.find('a\\0b', '\\0')", "string.find('a\\0b', '%z')",
      // match: classes, sets, complements, quantifiers
      "string.match('  trim  ', '^%s*(.-)%s*$')", "string.match('2024-01-31', '(%d+)-(%d+)-(%d+)')",
      "string.match('abc123DEF', '%a+')", "string.match('abc123DEF', '%u+')", "string.match('abc123', '%D+')",
      "string.match('x=[a]]', '[]]')", "string.match('a-b', '[a-]+')", "string.match('hex: 0x1F', '0x(%x+)')",
      "string.match('A1 b2', '[^%s]+', 3)", "string.match('aaa', 'a-')", "string.match('aaa', 'a-$')",
      "string.match('aaab', 'a*b')", "string.match('b', 'a?b')", "string.match('ab', 'a?b')",
      "string.match('%', '%%')", "string.match('a.b', '%.')", "string.match('Ünï', '[\\128-\\255]+')",
      "string.match('punct!?', '%p+')", "string.match('ctl\\1x', '%c')", "string.match('a b', '%S+%s%S+')",
      "string.match('word', '%w-')", "string.match('hello', '.-(l+)(.*)')", "string.match('abc', '((a)(b))')",
      // balance, frontier, back references
      "string.match('f(a(b)c)d', '%b()')", "string.match('no parens', '%b()')",
      "string.match('THE (quick) fox', '%f[%a]%a+')", "string.gsub('THE (quick) fox', '%f[%a]%a+', 'W')",
      "string.match('say \"hi\" or \\'yo\\'', '([\"\\'])(.-)%1')", "string.match('aa', '(a)%1')",
      // gmatch
      "each(string.gmatch('one two  three', '%a+'))", "each(string.gmatch('k=v, a=b', '(%w+)=(%w+)'))",
      "each(string.gmatch('abc', ''))", "each(string.gmatch('abc', 'x*'))", "each(string.gmatch('a,b,,c', '([^,]*)'))",
      "each(string.gmatch('hello', 'l', 4))", "each(string.gmatch('^a^b', '^.'))", "each(string.gmatch('abc', '()'))",
      // gsub: string, table, function, %0-%9, limits, anchors
      "string.gsub('hello world', 'o', '0')", "string.gsub('hello world', '(%w+)', '<%1>')",
      "string.gsub('hello', '', '-')", "string.gsub('abc', '%w', '%0%0')", "string.gsub('abc', 'b', '%%')",
      "string.gsub('hello world', '%w+', '%0 %0', 1)", "string.gsub('abc', '^a', 'X')", "string.gsub('aaa', '^a', 'X')",
      "string.gsub('$name is $age', '%$(%w+)', {name = 'Ann', age = 30})", "string.gsub('x y', '%w', {})",
      "string.gsub('1 2 3', '%d', function(d) return d * 2 end)", "string.gsub('a b', '%w', function() end)",
      "string.gsub('abc', '()', '%1')", "string.gsub('abc', 'b', 7)", "string.gsub('abc', 'x', 'y')",
      "string.gsub('abc', '.', {a = false, b = 'B'})", "string.gsub('abc', '%w', '%1')", "string.gsub('', '', 'e')",
      // rep and sort
      "string.rep('ab', 3)", "string.rep('ab', 3, ', ')", "string.rep('x', 0)", "string.rep('x', -1)",
      "string.rep('', 5, '-')", "(('ab'):rep(2))", "(function() local t = {3, 1, 2} table.sort(t) return table.concat(t) end)()",
      "(function() local t = {'b', 'a', 'c'} table.sort(t, function(a, b) return a > b end) return table.concat(t) end)()",
      // errors
      "string.find('a', '%')", "string.find('a', '[a')", "string.find('a', '(a')", "string.find('a', 'a)')",
      "string.match('a', '%1')", "string.find('a', '%f')", "string.find('a', '%b')", "string.gsub('a', 'a', '%2')",
      "string.gsub('a', 'a', '%x')", "string.gsub('a', 'a', true)", "string.gsub('a', 'a', function() return {} end)",
      "string.rep()", "string.find()", "string.match('a', string.rep('(', 40))",
      "(function() local t = {1, 'a'} table.sort(t) end)()", "string.match(string.rep('a', 300), string.rep('a?', 300))",
  };
  for (const auto& c : cases) {
    EXPECT_EQ(evaluate(box_->state(), c), evaluate(stock_, c)) << c;
  }
}

TEST_F(LuaStrings, APathologicalPatternIsStoppedWithinItsBudget) {
  for (const char* body : {"local s = ('a'):rep(1e5) s:find('.-.-.-.-.-.-b')",
                           "local s = ('a'):rep(1e5) s:match('(.-)(.-)(.-)(.-)b')",
                           "local s = ('a'):rep(1e5) s:gsub('.-.-.-.-b', 'x')",
                           "local s = ('a'):rep(1e5) for w in s:gmatch('a*a*a*a*b') do end",
                           "local s = ('('):rep(1e5) s:find('%b()%b()%b()x')"}) {
    auto [error, took] = timed(body, 50);
    EXPECT_NE(error.find("budget of 50 ms"), std::string::npos) << body << ": " << error;
    EXPECT_LT(took.count(), 2000) << body;
  }
}

TEST_F(LuaStrings, ARepeatThatCannotFitIsRefusedBeforeItCopies) {
  auto [error, took] = timed("local s = ('x'):rep(1.5e9)", 1000);
  EXPECT_NE(error.find("string.rep: the result (1500000000 copies of 1 bytes) does not fit"), std::string::npos)
      << error;
  EXPECT_NE(error.find("runtime.memory_mb"), std::string::npos) << error;
  EXPECT_LT(took.count(), 500);
  // What fits is made.
  EXPECT_EQ(timed("assert(#('ab'):rep(1e6, ',') == 2999999)", 1000).first, "");
}

TEST_F(LuaStrings, ALongSortWithoutAComparatorIsStoppedWithinItsBudget) {
  ASSERT_TRUE(box_->run("t = {} for i = 1, 1e6 do t[i] = (i * 7919) % 1000003 end", "fill.lua"));
  auto [error, took] = timed("table.sort(t)", 20);
  EXPECT_NE(error.find("budget of 20 ms"), std::string::npos) << error;
  EXPECT_LT(took.count(), 2000);
}

}  // namespace
}  // namespace th
