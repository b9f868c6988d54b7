// The sandbox's string.find, match, gmatch, gsub and rep, and table.sort.
//
// Lua's own versions run inside one C call: the watchdog's hook, which
// fires only between Lua instructions, cannot stop them, and a pattern such
// as ".-.-.-.-.-.-b" on a long subject backtracks for hours. These are the
// same functions with the same results and errors (Lua 5.4's reference
// manual, §6.4.1 on patterns), written so that the matcher counts its steps
// and, every 1,024 of them, asks the watchdog whether the call has overrun
// its budget (or the operator has taken the core thread): then it stops with
// the watchdog's error. string.rep checks the size of its result against
// the heap the strategy has left before it copies a byte; table.sort
// without a comparator compares with one that asks the watchdog too.
//
// Every frame of the matcher holds plain data only: a Lua error raised in
// it (a malformed pattern, an overrun, a gsub callback's error) unwinds no
// C++ object.
#include <lua.hpp>

#include <cctype>
#include <cstring>

#include "script/lua_engine.h"

namespace th {
namespace {

constexpr int kMaxCaptures = 32;
constexpr ptrdiff_t kUnfinished = -1;
constexpr ptrdiff_t kPosition = -2;
constexpr int kMaxDepth = 200;  // nested match calls before "pattern too complex"
constexpr char kEsc = '%';
constexpr uint32_t kStepsPerLook = 1024;

inline unsigned char uc(char c) { return static_cast<unsigned char>(c); }

struct Capture {
  const char* init;
  ptrdiff_t len;
};

struct MatchState {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  uint32_t steps;
  int depth;  // match calls left
  int level;  // captures open or closed
  Capture capture[kMaxCaptures];
};

void prepare(MatchState& ms, lua_State* L, const char* s, size_t ls, const char* p, size_t lp) {
  ms.L = L;
  ms.src_init = s;
  ms.src_end = s + ls;
  ms.p_end = p + lp;
  ms.steps = 0;
}

void restart(MatchState& ms) {
  ms.level = 0;
  ms.depth = kMaxDepth;
}

void tick(MatchState& ms) {
  if (++ms.steps % kStepsPerLook == 0 && callOverrun(ms.L)) stopOverrun(ms.L);
}

const char* classEnd(MatchState& ms, const char* p) {
  if (*p++ == kEsc) {
    if (p == ms.p_end) luaL_error(ms.L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (*(p - 1) == '[') {
    if (*p == '^') p++;
    do {  // the first ']' of a set is a member
      if (p == ms.p_end) luaL_error(ms.L, "malformed pattern (missing ']')");
      if (*(p++) == kEsc && p < ms.p_end) p++;
    } while (*p != ']');
    return p + 1;
  }
  return p;
}

bool classMatches(int c, int cl) {
  bool result;
  switch (std::tolower(cl)) {
    case 'a': result = std::isalpha(c); break;
    case 'c': result = std::iscntrl(c); break;
    case 'd': result = std::isdigit(c); break;
    case 'g': result = std::isgraph(c); break;
    case 'l': result = std::islower(c); break;
    case 'p': result = std::ispunct(c); break;
    case 's': result = std::isspace(c); break;
    case 'u': result = std::isupper(c); break;
    case 'w': result = std::isalnum(c); break;
    case 'x': result = std::isxdigit(c); break;
    case 'z': result = c == 0; break;  // deprecated in Lua, still understood
    default: return cl == c;
  }
  return std::isupper(cl) ? !result : result;
}

// `p` at the set's '[', `ec` at its closing ']'.
bool setMatches(int c, const char* p, const char* ec) {
  bool member = true;
  if (*(p + 1) == '^') {
    member = false;
    p++;
  }
  while (++p < ec) {
    if (*p == kEsc) {
      p++;
      if (classMatches(c, uc(*p))) return member;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uc(*(p - 2)) <= c && c <= uc(*p)) return member;
    } else if (uc(*p) == c) {
      return member;
    }
  }
  return !member;
}

bool singleMatches(const MatchState& ms, const char* s, const char* p, const char* ep) {
  if (s >= ms.src_end) return false;
  int c = uc(*s);
  switch (*p) {
    case '.': return true;
    case kEsc: return classMatches(c, uc(*(p + 1)));
    case '[': return setMatches(c, p, ep - 1);
    default: return uc(*p) == c;
  }
}

const char* match(MatchState& ms, const char* s, const char* p);

const char* matchBalance(MatchState& ms, const char* s, const char* p) {
  if (p >= ms.p_end - 1) luaL_error(ms.L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms.src_end || *s != *p) return nullptr;
  char open = *p, close = *(p + 1);
  int depth = 1;
  while (++s < ms.src_end) {
    tick(ms);
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      depth++;
    }
  }
  return nullptr;
}

const char* maxExpand(MatchState& ms, const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (singleMatches(ms, s + i, p, ep)) {
    tick(ms);
    i++;
  }
  for (; i >= 0; i--) {  // the longest first
    if (const char* res = match(ms, s + i, ep + 1)) return res;
  }
  return nullptr;
}

const char* minExpand(MatchState& ms, const char* s, const char* p, const char* ep) {
  for (;;) {
    if (const char* res = match(ms, s, ep + 1)) return res;
    if (!singleMatches(ms, s, p, ep)) return nullptr;
    s++;
  }
}

const char* startCapture(MatchState& ms, const char* s, const char* p, ptrdiff_t what) {
  if (ms.level >= kMaxCaptures) luaL_error(ms.L, "too many captures");
  ms.capture[ms.level].init = s;
  ms.capture[ms.level].len = what;
  ms.level++;
  const char* res = match(ms, s, p);
  if (!res) ms.level--;
  return res;
}

const char* endCapture(MatchState& ms, const char* s, const char* p) {
  int open = ms.level - 1;
  while (open >= 0 && ms.capture[open].len != kUnfinished) open--;
  if (open < 0) luaL_error(ms.L, "invalid pattern capture");
  ms.capture[open].len = s - ms.capture[open].init;
  const char* res = match(ms, s, p);
  if (!res) ms.capture[open].len = kUnfinished;
  return res;
}

const char* matchBackReference(MatchState& ms, const char* s, int digit) {
  int index = digit - '1';
  if (index < 0 || index >= ms.level || ms.capture[index].len == kUnfinished) {
    luaL_error(ms.L, "invalid capture index %%%d", index + 1);
  }
  size_t len = static_cast<size_t>(ms.capture[index].len);
  if (static_cast<size_t>(ms.src_end - s) >= len && std::memcmp(ms.capture[index].init, s, len) == 0) return s + len;
  return nullptr;
}

const char* match(MatchState& ms, const char* s, const char* p) {
  if (ms.depth-- == 0) luaL_error(ms.L, "pattern too complex");
  for (;;) {
    tick(ms);
    if (p == ms.p_end) break;
    if (*p == '(') {
      s = *(p + 1) == ')' ? startCapture(ms, s, p + 2, kPosition) : startCapture(ms, s, p + 1, kUnfinished);
      break;
    }
    if (*p == ')') {
      s = endCapture(ms, s, p + 1);
      break;
    }
    if (*p == '$' && p + 1 == ms.p_end) {
      s = s == ms.src_end ? s : nullptr;
      break;
    }
    if (*p == kEsc && *(p + 1) == 'b') {
      s = matchBalance(ms, s, p + 2);
      if (!s) break;
      p += 4;
      continue;
    }
    if (*p == kEsc && *(p + 1) == 'f') {
      p += 2;
      if (*p != '[') luaL_error(ms.L, "missing '[' after '%%f' in pattern");
      const char* ep = classEnd(ms, p);
      int previous = s == ms.src_init ? '\0' : uc(*(s - 1));
      if (!setMatches(previous, p, ep - 1) && setMatches(uc(*s), p, ep - 1)) {
        p = ep;
        continue;
      }
      s = nullptr;
      break;
    }
    if (*p == kEsc && std::isdigit(uc(*(p + 1)))) {
      s = matchBackReference(ms, s, uc(*(p + 1)));
      if (!s) break;
      p += 2;
      continue;
    }
    // A single character class, perhaps with a repetition after it.
    const char* ep = classEnd(ms, p);
    if (!singleMatches(ms, s, p, ep)) {
      if (*ep == '*' || *ep == '?' || *ep == '-') {  // may match nothing
        p = ep + 1;
        continue;
      }
      s = nullptr;
      break;
    }
    if (*ep == '?') {
      if (const char* res = match(ms, s + 1, ep + 1)) {
        s = res;
        break;
      }
      p = ep + 1;
      continue;
    }
    if (*ep == '+') {
      s = maxExpand(ms, s + 1, p, ep);
      break;
    }
    if (*ep == '*') {
      s = maxExpand(ms, s, p, ep);
      break;
    }
    if (*ep == '-') {
      s = minExpand(ms, s, p, ep);
      break;
    }
    s++;
    p = ep;
  }
  ms.depth++;
  return s;
}

// Capture `i` (the whole match when there are none and i is 0).
void pushCapture(MatchState& ms, int i, const char* s, const char* e) {
  if (i >= ms.level) {
    if (i != 0) luaL_error(ms.L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(ms.L, s, static_cast<size_t>(e - s));
    return;
  }
  ptrdiff_t len = ms.capture[i].len;
  if (len == kUnfinished) luaL_error(ms.L, "unfinished capture");
  if (len == kPosition) {
    lua_pushinteger(ms.L, (ms.capture[i].init - ms.src_init) + 1);
  } else {
    lua_pushlstring(ms.L, ms.capture[i].init, static_cast<size_t>(len));
  }
}

// Every capture, or the whole match (when `s` is given and there are none).
int pushCaptures(MatchState& ms, const char* s, const char* e) {
  int count = (ms.level == 0 && s) ? 1 : ms.level;
  luaL_checkstack(ms.L, count, "too many captures");
  for (int i = 0; i < count; i++) pushCapture(ms, i, s, e);
  return count;
}

bool hasSpecials(const char* p, size_t lp) {
  for (size_t i = 0; i < lp; i++) {
    if (std::strchr("^$*+?.([%-", p[i]) && p[i] != '\0') return true;
  }
  return false;
}

// A relative initial position (negative from the end) as an absolute one, 1-based.
size_t startPosition(lua_Integer pos, size_t len) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<size_t>(pos) + 1;
}

int findOrMatch(lua_State* L, bool find) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = startPosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    lua_pushnil(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !hasSpecials(p, lp))) {
    const void* found = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
    if (found) {
      auto at = static_cast<const char*>(found) - s;
      lua_pushinteger(L, at + 1);
      lua_pushinteger(L, at + static_cast<lua_Integer>(lp));
      return 2;
    }
  } else {
    MatchState ms;
    bool anchor = *p == '^';
    if (anchor) {
      p++;
      lp--;
    }
    prepare(ms, L, s, ls, p, lp);
    const char* s1 = s + init;
    do {
      restart(ms);
      if (const char* e = match(ms, s1, p)) {
        if (find) {
          lua_pushinteger(L, (s1 - s) + 1);
          lua_pushinteger(L, e - s);
          return pushCaptures(ms, nullptr, nullptr) + 2;
        }
        return pushCaptures(ms, s1, e);
      }
    } while (s1++ < ms.src_end && !anchor);
  }
  lua_pushnil(L);
  return 1;
}

int stringFind(lua_State* L) { return findOrMatch(L, true); }
int stringMatch(lua_State* L) { return findOrMatch(L, false); }

struct GmatchState {
  const char* src;        // where the next search starts
  const char* p;          // the pattern
  const char* lastmatch;  // the end of the last match
  MatchState ms;
};

int gmatchNext(lua_State* L) {
  auto* gm = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  gm->ms.L = L;  // the iterator may run in another coroutine than the one that made it
  for (const char* src = gm->src; src <= gm->ms.src_end; src++) {
    restart(gm->ms);
    const char* e = match(gm->ms, src, gm->p);
    if (e && e != gm->lastmatch) {
      gm->src = gm->lastmatch = e;
      return pushCaptures(gm->ms, src, e);
    }
  }
  return 0;
}

int stringGmatch(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = startPosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;  // no match at all
  lua_settop(L, 2);
  auto* gm = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  prepare(gm->ms, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->lastmatch = nullptr;
  lua_pushcclosure(L, gmatchNext, 3);  // the subject and the pattern stay alive as upvalues
  return 1;
}

void appendReplacement(MatchState& ms, luaL_Buffer& b, const char* s, const char* e) {
  lua_State* L = ms.L;
  size_t l = 0;
  const char* news = lua_tolstring(L, 3, &l);
  const char* p;
  while ((p = static_cast<const char*>(std::memchr(news, kEsc, l))) != nullptr) {
    luaL_addlstring(&b, news, static_cast<size_t>(p - news));
    p++;
    if (*p == kEsc) {
      luaL_addchar(&b, *p);
    } else if (*p == '0') {
      luaL_addlstring(&b, s, static_cast<size_t>(e - s));
    } else if (std::isdigit(uc(*p))) {
      pushCapture(ms, *p - '1', s, e);
      luaL_tolstring(L, -1, nullptr);
      lua_remove(L, -2);
      luaL_addvalue(&b);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", kEsc);
    }
    l -= static_cast<size_t>(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(&b, news, l);
}

// Adds the replacement of the match s..e; false when the match stays as it was.
bool addValue(MatchState& ms, luaL_Buffer& b, const char* s, const char* e, int kind) {
  lua_State* L = ms.L;
  if (kind == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = pushCaptures(ms, s, e);
    lua_call(L, n, 1);
  } else if (kind == LUA_TTABLE) {
    pushCapture(ms, 0, s, e);
    lua_gettable(L, 3);
  } else {
    appendReplacement(ms, b, s, e);
    return true;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(&b, s, static_cast<size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(&b);
  return true;
}

int stringGsub(lua_State* L) {
  size_t srcl = 0, lp = 0;
  const char* src = luaL_checklstring(L, 1, &srcl);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* lastmatch = nullptr;
  int kind = lua_type(L, 3);
  lua_Integer max_s = luaL_optinteger(L, 4, static_cast<lua_Integer>(srcl) + 1);
  bool anchor = *p == '^';
  lua_Integer n = 0;
  bool changed = false;
  luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE, 3,
                   "string/function/table");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  MatchState ms;
  prepare(ms, L, src, srcl, p, lp);
  while (n < max_s) {
    restart(ms);
    tick(ms);
    const char* e = match(ms, src, p);
    if (e && e != lastmatch) {
      n++;
      changed = addValue(ms, b, src, e, kind) || changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, static_cast<size_t>(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

// string.rep(s, n [, sep]): refused before any copying when the result
// would not fit in what is left of the strategy's heap.
int stringRep(lua_State* L) {
  size_t l = 0, lsep = 0;
  const char* s = luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  const char* sep = luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  const auto count = static_cast<unsigned long long>(n);
  const unsigned long long unit = static_cast<unsigned long long>(l) + lsep;
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  auto* heap = static_cast<LuaHeap*>(ud);
  const unsigned long long left = heap->limit > heap->used ? heap->limit - heap->used : 0;
  if (unit > left || count > left / unit) {
    heap->refused = true;  // reported as the memory limit, like any refused allocation
    return luaL_error(L,
                      "string.rep: the result (%I copies of %I bytes) does not fit in the %I bytes left of the "
                      "strategy's memory (runtime.memory_mb)",
                      n, static_cast<lua_Integer>(l), static_cast<lua_Integer>(left));
  }
  const size_t total = static_cast<size_t>(count * l + (count - 1) * lsep);
  luaL_Buffer b;
  char* out = luaL_buffinitsize(L, &b, total);
  for (unsigned long long i = 0; i < count; i++) {
    if (i % kStepsPerLook == kStepsPerLook - 1 && callOverrun(L)) stopOverrun(L);
    std::memcpy(out, s, l);
    out += l;
    if (lsep > 0 && i + 1 < count) {
      std::memcpy(out, sep, lsep);
      out += lsep;
    }
  }
  luaL_pushresultsize(&b, total);
  return 1;
}

// The comparison table.sort makes when given no comparator: Lua's "<",
// asking the watchdog every 1,024 comparisons (the sort runs in C, where the
// hook never fires).
int budgetedLess(lua_State* L) {
  thread_local uint32_t comparisons = 0;
  if (++comparisons % kStepsPerLook == 0 && callOverrun(L)) stopOverrun(L);
  lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
  return 1;
}

// table.sort(t [, comparator]); Lua's own sort is upvalue 1.
int tableSort(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_pushcfunction(L, budgetedLess);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

}  // namespace

void installBudgetedLibraries(lua_State* L, int string_table, int table_table) {
  const luaL_Reg strings[] = {{"find", stringFind},   {"match", stringMatch}, {"gmatch", stringGmatch},
                              {"gsub", stringGsub},   {"rep", stringRep},     {nullptr, nullptr}};
  for (const auto* r = strings; r->name; r++) {
    lua_pushcfunction(L, r->func);
    lua_setfield(L, string_table, r->name);
  }
  lua_getfield(L, table_table, "sort");
  lua_pushcclosure(L, tableSort, 1);
  lua_setfield(L, table_table, "sort");
}

}  // namespace th
