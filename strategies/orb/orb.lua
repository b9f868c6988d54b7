-- The 5-minute opening range breakout (STRATEGIES.md, section 1), per symbol
-- and day. The rules in plain words, with a worked example, are in
-- docs/strategies/orb.md. Orders are brackets whose legs the broker places
-- when the entry fills (paper broker: judged from that bar on, the stop first
-- when a bar reaches both), with the target as an offset from the fill and a
-- time exit at the close of the exit_time bar.
local time = require("th.time")
local sizing = require("th.sizing")

-- One symbol's day: the range, then the wait, the breakout and the trade.
local function new_day(date, prev_close)
  return {date = date, prev_close = prev_close, high = nil, low = nil, volume = 0, bars = 0,
          first_open = nil, skip = nil, traded = false, marked = false}
end

local function fmt(x) return string.format("%.2f", x) end

-- The nearest expiry on or after today, the strike closest to `price` (the
-- lower on a tie), of the right kind.
local function pick_option(chain, call, price, today)
  local best
  for _, c in ipairs(chain) do
    if (c.right == "call") == call and c.expiry >= today and c.ask > 0 then
      local d = math.abs(c.strike - price)
      if not best or c.expiry < best.expiry or
         (c.expiry == best.expiry and (d < best.d or (d == best.d and c.strike < best.c.strike))) then
        best = {c = c, expiry = c.expiry, d = d}
      end
    end
  end
  return best and best.c
end

local function mark_range(ctx, symbol, day)
  ctx:mark{symbol = symbol, price = day.high, text = "OR high " .. fmt(day.high), kind = "level"}
  ctx:mark{symbol = symbol, price = day.low, text = "OR low " .. fmt(day.low), kind = "level"}
end

local function enter(ctx, bar, day, long)
  local p = ctx.params
  local height = day.high - day.low
  local stop
  if p.stop_mode == "mid" then stop = (day.high + day.low) / 2 else stop = long and day.low or day.high end
  local exit_at = time.session_at(ctx, p.exit_time, bar.time) + time.MINUTE
  local side = long and "buy" or "sell"
  day.traded = true
  ctx:mark{symbol = bar.symbol, time = bar.time, price = bar.close, kind = "signal", side = side,
           text = (long and "breakout above " or "breakout below ") .. fmt(long and day.high or day.low)}
  local signal = {symbol = bar.symbol, name = long and "orb_long" or "orb_short", price = bar.close,
                  range_high = day.high, range_low = day.low, stop = stop,
                  target_offset = p.reward_multiple * height}

  if p.instrument == "option" then
    local chain, why = ctx:option_chain(bar.symbol)
    local c = chain and pick_option(chain, long, bar.close, time.date(ctx, bar.time))
    if not c then
      ctx:log("warn", string.format("%s: no %s to buy (%s)", bar.symbol, long and "call" or "put",
                                    why or "no contract with an ask"))
      return
    end
    signal.option = c.symbol
    ctx:signal(signal)
    local order, err = ctx:buy{symbol = c.symbol, qty = p.contracts, limit = c.ask,
                               take_profit_offset = p.tp_premium,
                               stop_loss_offset = p.sl_premium > 0 and p.sl_premium or nil,
                               exit_at = exit_at}
    if not order then ctx:log("warn", string.format("%s: option entry refused: %s", c.symbol, err)) end
    return
  end

  -- Sized on the breakout close: the order goes out before the next bar opens.
  local qty, why = sizing.shares_for_risk(ctx, p.risk_pct, bar.close, stop, p.max_position_pct)
  signal.qty = qty
  ctx:signal(signal)
  if qty < 1 then
    ctx:log("info", string.format("%s: no entry: %s", bar.symbol, why))
    return
  end
  local order, err = ctx:bracket{symbol = bar.symbol, side = side, qty = qty,
                                 take_profit_offset = p.reward_multiple * height,
                                 stop_loss = stop, exit_at = exit_at}
  if not order then ctx:log("warn", string.format("%s: entry refused: %s", bar.symbol, err)) end
end

local OPEN, CLOSE = time.hhmm("09:30"), time.hhmm("16:00")

-- The parameters' clock times in minutes of the exchange day, worked out once
-- (on_bar runs for every bar of every symbol).
local windows
local function windows_of(p)
  if not windows or windows.params ~= p then
    local range_end = OPEN + p.range_minutes
    windows = {params = p, range_end = range_end, entry_from = range_end + p.confirm_minutes,
               deadline = time.hhmm(p.entry_deadline)}
  end
  return windows
end

function on_start(ctx)
  local state = ctx.state
  state.days = state.days or {}
  state.closes = state.closes or {}      -- the last regular-session close per symbol
  state.closed_at = state.closed_at or {}  -- and its bar's time
  state.rested = state.rested or {}      -- the bar time until which on_bar was skipped
end

-- Done with the symbol for the day: the host skips on_bar until the
-- session's last bar, whose close is tomorrow's previous close.
local function rest(ctx, symbol, day)
  if day.last_bar then
    ctx:skip_bars(symbol, day.last_bar)
    ctx.state.rested[symbol] = day.last_bar
  end
end

-- The previous regular-session close. When the day's last bar never came
-- after a rest (a gap in the data), the chart has the one that did.
local function previous_close(ctx, symbol, date)
  local state = ctx.state
  local rested = state.rested[symbol]
  local at = state.closed_at[symbol]
  if not rested or (at and at >= rested) then return state.closes[symbol] end
  local bars = ctx:history(symbol, "1m", 1000)
  for i = #bars, 1, -1 do
    local e = ctx:exchange_time(bars[i].time)
    if e.date < date and e.minute_of_day >= OPEN and e.minute_of_day < CLOSE then return bars[i].close end
  end
  -- Not charted (or not that far back): the last close seen, said so.
  ctx:log("warn", string.format("%s: the previous session's last bar is not on the chart; the gap check uses " ..
                                "the close of the bar at %s", symbol, at and ctx:format_time(at) or "(none)"))
  return state.closes[symbol]
end

function on_bar(ctx, bar)
  local minute = bar.minute_of_day
  if minute < OPEN or minute >= CLOSE then return end

  local symbol, state = bar.symbol, ctx.state
  local days = state.days
  local day = days[symbol]
  local date = bar.date
  if not day or day.date ~= date then
    day = new_day(date, previous_close(ctx, symbol, date))
    local session = ctx:session(bar.time)
    day.last_bar = session and session.close - time.MINUTE
    -- On an early close a deadline after 13:00 moves earlier with the close.
    day.deadline = time.session_minute(ctx, ctx.params.entry_deadline, bar.time)
    days[symbol] = day
    state.rested[symbol] = nil
  end
  state.closes[symbol] = bar.close
  state.closed_at[symbol] = bar.time

  local w = windows_of(ctx.params)
  if minute < w.range_end then
    -- 1. The range.
    if not day.first_open then day.first_open = bar.open end
    day.high = day.high and math.max(day.high, bar.high) or bar.high
    day.low = day.low and math.min(day.low, bar.low) or bar.low
    day.volume = day.volume + bar.volume
    day.bars = day.bars + 1
    return
  end
  if day.skip or day.traded then return rest(ctx, symbol, day) end
  local p = ctx.params
  if not day.marked then
    day.marked = true
    if not day.high or day.high <= day.low then
      day.skip = "empty range"
    elseif day.prev_close and day.prev_close > 0 and
           math.abs(day.first_open - day.prev_close) / day.prev_close * 100 > p.max_gap_pct then
      day.skip = string.format("gap %.2f%% over %.2f%%", math.abs(day.first_open - day.prev_close) /
                               day.prev_close * 100, p.max_gap_pct)
    end
    if day.skip then
      ctx:log("info", string.format("%s %d: no trade today: %s", symbol, date, day.skip))
      return rest(ctx, symbol, day)
    end
    mark_range(ctx, symbol, day)
  end
  -- 2. The wait, 3. the breakout window.
  if minute < w.entry_from then return end
  if minute >= (day.deadline or w.deadline) then return rest(ctx, symbol, day) end
  local close = bar.close
  local long = close > day.high
  local short = close < day.low
  if not (long or short) then return end
  if p.volume_multiple > 0 and bar.volume < p.volume_multiple * day.volume / day.bars then return end
  enter(ctx, bar, day, long)
  if day.traded then rest(ctx, symbol, day) end
end

function on_fill(ctx, fill)
  -- A contract held to its expiry is settled with no order: fill.activity
  -- says how ("expired", "exercised" or "assigned").
  local o = not fill.activity and ctx:order(fill.order_id)
  local exit = o and o.parent ~= nil
  ctx:mark{symbol = fill.symbol, time = fill.time, price = fill.price, kind = "signal", side = fill.side,
           text = (fill.activity and (fill.activity .. " ") or
                   exit and ((o.role == "stop_loss" and "stop ") or (o.role == "take_profit" and "target ")
                             or (o.role == "time_exit" and "time exit ") or "exit ") or "entry ") ..
                  fmt(fill.price)}
end
