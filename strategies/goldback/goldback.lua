-- Goldback (STRATEGIES.md, section 2): time-window sweep-and-reverse and
-- break-and-retest. The rules in plain words, with a worked example, are in
-- docs/strategies/goldback.md.
local time = require("th.time")
local sizing = require("th.sizing")

local OPEN, CLOSE = time.hhmm("09:30"), time.hhmm("16:00")

local function fmt(x) return string.format("%.2f", x) end

-- The window starts of the day, in minutes after midnight, ascending.
local function window_starts(p)
  local starts = {OPEN}
  if p.window == "1d" then return starts end
  if p.window == "4h" then return {OPEN, OPEN + 240} end
  if p.markers ~= "" then
    for hhmm in string.gmatch(p.markers, "%S+") do
      local ok, m = pcall(time.hhmm, hhmm)
      if not ok or m <= OPEN or m >= CLOSE then
        error(string.format("params.markers: '%s' is not a time HH:MM after 09:30 and before 16:00", hhmm), 0)
      end
      if m <= starts[#starts] then
        error(string.format("params.markers: '%s' is not after the marker before it", hhmm), 0)
      end
      starts[#starts + 1] = m
    end
    return starts
  end
  for m = OPEN + p.window_minutes, CLOSE - 1, p.window_minutes do starts[#starts + 1] = m end
  return starts
end

local starts

-- The start (minutes after midnight) of the window holding `minute`.
local function window_of(minute)
  local found = starts[1]
  for _, m in ipairs(starts) do
    if m <= minute then found = m else break end
  end
  return found
end

local function hhmm(m) return string.format("%02d:%02d", m // 60, m % 60) end

-- Per symbol: the window being built, the previous window's levels and the
-- setups in progress against them.
local function reset_setups(s)
  s.sweep_up, s.sweep_down, s.break_up, s.break_down = nil, nil, nil, nil
end

-- The key of the window before the one starting at `start` on the session
-- of `t`: the one before it that day, or for the day's first window the
-- window holding the previous session's last minute.
local function previous_key(ctx, p, date, start, t)
  for i = 2, #starts do
    if starts[i] == start then return date .. " " .. starts[i - 1] end
  end
  local today = ctx:session(t)
  local prev = today and ctx:previous_session(today.open - 1)
  if not prev then return nil end
  if p.window == "1d" then return tostring(prev.date) end
  return prev.date .. " " .. window_of(ctx:exchange_time(prev.close - time.MINUTE).minute_of_day)
end

local function open_window(ctx, s, symbol, key, previous, label, bar_time)
  -- Levels only from the window right before this one: one that had no bars
  -- leaves this window without levels.
  if s.cur and s.cur.high and s.cur.key == previous then
    s.levels = {high = s.cur.high, low = s.cur.low}
  else
    s.levels = nil
  end
  s.cur = {key = key}
  s.bar = 0
  reset_setups(s)
  ctx:mark{symbol = symbol, time = bar_time, kind = "text", text = "window " .. label}
  if s.levels then
    ctx:mark{symbol = symbol, time = bar_time, price = s.levels.high, kind = "level",
             text = "prev high " .. fmt(s.levels.high)}
    ctx:mark{symbol = symbol, time = bar_time, price = s.levels.low, kind = "level",
             text = "prev low " .. fmt(s.levels.low)}
  end
end

local function busy(ctx, symbol)
  if ctx:position(symbol).qty ~= 0 then return true end
  for _, o in ipairs(ctx:orders(symbol)) do
    if o.parent == nil then return true end  -- an entry still working
  end
  return false
end

local function enter(ctx, bar, s, setup)
  local p = ctx.params
  local long = setup.side == "buy"
  local day = ctx.state.days[bar.symbol]
  day.trades = day.trades + 1
  local qty, why = sizing.shares_for_risk(ctx, p.risk_pct, bar.close, setup.stop, p.max_position_pct)
  local signal = {symbol = bar.symbol, name = setup.name, price = bar.close, level = setup.level,
                  stop = setup.stop, target = setup.target, qty = qty}
  ctx:signal(signal)
  ctx:mark{symbol = bar.symbol, time = bar.time, price = bar.close, kind = "signal", side = setup.side,
           text = setup.name:gsub("_", " ")}
  if qty < 1 then
    ctx:log("info", string.format("%s: no entry: %s", bar.symbol, why))
    return
  end
  local order = {symbol = bar.symbol, side = setup.side, qty = qty, stop_loss = setup.stop,
                 exit_at = time.session_at(ctx, p.exit_time, bar.time) + time.MINUTE}
  if setup.target then order.take_profit = setup.target else order.take_profit_r = p.reward_multiple end
  local placed, err = ctx:bracket(order)
  if not placed then ctx:log("warn", string.format("%s: %s refused: %s", bar.symbol, setup.name, err)) end
end

-- The setups of one bar against the levels; returns the first signal.
local function evaluate(p, s, bar)
  local L = s.levels
  local signal
  local tol = p.retest_tolerance / 100

  -- Sweep and reverse: an excursion beyond the level that closes back inside
  -- by its first bar or one of the next reclaim_bars. One that stays out
  -- longer is no sweep; it ends, without a signal, at its first close inside.
  for _, up in ipairs({true, false}) do
    local level = up and L.high or L.low
    local key = up and "sweep_up" or "sweep_down"
    local sw = s[key]
    if not sw and (up and bar.high > level or (not up and bar.low < level)) then
      sw = {start = s.bar, extreme = up and bar.high or bar.low}
    end
    if sw then
      sw.extreme = up and math.max(sw.extreme, bar.high) or math.min(sw.extreme, bar.low)
      if up and bar.close < level or (not up and bar.close > level) then
        if s.bar - sw.start <= p.reclaim_bars and not signal then
          signal = {name = up and "sweep_short" or "sweep_long", side = up and "sell" or "buy", level = level,
                    stop = up and sw.extreme + p.stop_buffer or sw.extreme - p.stop_buffer,
                    target = up and L.low or L.high}
        end
        sw = nil
      end
    end
    s[key] = sw
  end

  -- Break and retest: a bar closes beyond the level; within the next
  -- retest_bars a bar's low (high) comes within the tolerance of the level
  -- and it closes beyond it again. Each close beyond is a break of its own.
  for _, up in ipairs({true, false}) do
    local level = up and L.high or L.low
    local key = up and "break_up" or "break_down"
    local br = s[key]
    if br and s.bar - br.at > p.retest_bars then br = nil end
    local beyond = up and bar.close > level or (not up and bar.close < level)
    if br and beyond and math.abs((up and bar.low or bar.high) - level) <= level * tol and not signal then
      signal = {name = up and "retest_long" or "retest_short", side = up and "buy" or "sell", level = level,
                stop = up and level - p.stop_buffer or level + p.stop_buffer}
    end
    -- A close beyond is a break of its own, the retest bar's too.
    if beyond then br = {at = s.bar} end
    s[key] = br
  end
  return signal
end

function on_start(ctx)
  starts = window_starts(ctx.params)
  ctx.state.days = ctx.state.days or {}
  ctx.state.windows = ctx.state.windows or {}
end

function on_bar(ctx, bar)
  local p = ctx.params
  local minute = bar.minute_of_day
  if minute < OPEN or minute >= CLOSE then return end
  local date = bar.date

  local day = ctx.state.days[bar.symbol]
  if not day or day.date ~= date then
    day = {date = date, trades = 0}
    ctx.state.days[bar.symbol] = day
  end
  local s = ctx.state.windows[bar.symbol]
  if not s then
    s = {}
    ctx.state.windows[bar.symbol] = s
  end
  local start = window_of(minute)
  local key = p.window == "1d" and tostring(date) or (date .. " " .. start)
  if not s.cur or s.cur.key ~= key then
    open_window(ctx, s, bar.symbol, key, previous_key(ctx, p, date, start, bar.time),
                p.window == "1d" and tostring(date) or hhmm(start), bar.time)
  else
    s.bar = s.bar + 1
  end

  local signal
  if s.levels then signal = evaluate(p, s, bar) end
  -- The bar belongs to the current window's range after it was judged.
  s.cur.high = s.cur.high and math.max(s.cur.high, bar.high) or bar.high
  s.cur.low = s.cur.low and math.min(s.cur.low, bar.low) or bar.low

  if not signal then return end
  -- On an early close, end_time moves earlier with the close (15:30 → 12:30).
  if minute < time.hhmm(p.start_time) or minute >= time.session_minute(ctx, p.end_time, bar.time) then return end
  if day.trades >= p.max_trades_per_day or busy(ctx, bar.symbol) then return end
  enter(ctx, bar, s, signal)
end

function on_fill(ctx, fill)
  local o = not fill.activity and ctx:order(fill.order_id)  -- none for an option's expiry
  local role = o and o.role or "entry"
  local what = ({stop_loss = "stop ", take_profit = "target ", time_exit = "time exit "})[role] or "entry "
  ctx:mark{symbol = fill.symbol, time = fill.time, price = fill.price, kind = "signal", side = fill.side,
           text = what .. fmt(fill.price)}
end
