-- The 8-point entry checklist of STRATEGIES.md as a pure function: daily
-- bars, a price and an option chain in, a scored record out. The strategy
-- (entry_checklist.lua) gathers the inputs and publishes the record.
--
-- Conventions where the rules leave a choice:
-- - "20-session" windows (mean volume, mean dollar volume, high, low) end
--   with the last daily bar, inclusive;
-- - close is `price` when given (the live quote's mid during a session),
--   else the last daily bar's close; EMA, RSI and ATR are of the daily closes;
-- - the option is a call for long and a put for short, of the nearest expiry
--   on or after `today`, with the strike closest to close (the lower on a tie);
-- - every range is inclusive at both ends.
local ind = require("th.indicators")

local checklist = {}

local GRADES = {[8] = "A+", [7] = "A", [6] = "B", [5] = "C", [4] = "D"}

function checklist.grade(score)
  return GRADES[score] or "F"
end

local function mean(list, from, to, f)
  local sum = 0
  for i = from, to do sum = sum + f(list[i]) end
  return sum / (to - from + 1)
end

-- The contract criterion 6 looks at, or nil and why.
function checklist.option_for(chain, direction, close, today)
  if not chain or #chain == 0 then return nil, "no option chain" end
  local right = direction == "long" and "call" or "put"
  local expiry
  for _, c in ipairs(chain) do
    if c.right == right and c.expiry >= today and (not expiry or c.expiry < expiry) then expiry = c.expiry end
  end
  if not expiry then return nil, string.format("no %s expiring on or after %d", right, today) end
  local best
  for _, c in ipairs(chain) do
    if c.right == right and c.expiry == expiry then
      local d, bd = math.abs(c.strike - close), best and math.abs(best.strike - close)
      if not best or d < bd or (d == bd and c.strike < best.strike) then best = c end
    end
  end
  return best
end

-- EMA21 (each session's), EMA50, RSI14 and ATR14 of daily bars, computed
-- once for both directions of the same bars.
local computed = setmetatable({}, {__mode = "k"})
local function indicators(bars)
  local found = computed[bars]
  if found then return found end
  local ema21, ema50, rsi14, atr14 = ind.ema(21), ind.ema(50), ind.rsi(14), ind.atr(14)
  local e21 = {}
  for i, b in ipairs(bars) do
    e21[i] = ema21:update(b.close)
    ema50:update(b.close)
    rsi14:update(b.close)
    atr14:update(b.high, b.low, b.close)
  end
  found = {e21 = e21, e50 = ema50.value, rsi = rsi14.value, atr = atr14.value}
  computed[bars] = found
  return found
end

-- input = {symbol, bars (daily, oldest first), price (optional), chain
-- (optional), today (yyyymmdd)}; direction "long" or "short"; p the params.
-- Returns the record, or nil and why when there are too few bars.
function checklist.score(input, direction, p)
  local bars = input.bars
  local n = #bars
  if n < p.min_days then
    return nil, string.format("%s: %d daily bar(s), min_days is %d", input.symbol, n, p.min_days)
  end
  local long = direction == "long"
  local series = indicators(bars)
  local e21 = series.e21
  local last = bars[n]
  local close = input.price or last.close
  local from20 = math.max(1, n - 19)
  local criteria = {}
  local function add(name, pass, value, threshold, detail)
    criteria[#criteria + 1] = {name = name, pass = pass and true or false, value = value, threshold = threshold,
                               detail = detail}
  end

  -- 1. Trend
  local e50 = series.e50
  local trend
  if long then trend = close > e21[n] and e21[n] > e50 else trend = close < e21[n] and e21[n] < e50 end
  add("trend", trend, close, e21[n], string.format("close %.2f %s EMA21 %.2f %s EMA50 %.2f", close,
      long and ">" or "<", e21[n], long and ">" or "<", e50))

  -- 2. Slope
  local then_ = e21[n - p.slope_days]
  local slope = then_ ~= nil and (long and e21[n] > then_ or not long and e21[n] < then_)
  add("slope", slope, e21[n], then_ or false, then_ and
      string.format("EMA21 %.4f now, %.4f %d sessions ago", e21[n], then_, p.slope_days) or
      string.format("EMA21 %d sessions ago is not defined", p.slope_days))

  -- 3. Momentum
  local lo, hi = p.rsi_lo, p.rsi_hi
  if not long then lo, hi = 100 - p.rsi_hi, 100 - p.rsi_lo end
  local r = series.rsi
  add("momentum", r >= lo and r <= hi, r, {lo, hi}, string.format("RSI14 %.2f in [%g, %g]", r, lo, hi))

  -- 4. Participation
  local mean_volume = mean(bars, from20, n, function(b) return b.volume end)
  local rvol = mean_volume > 0 and last.volume / mean_volume or 0
  add("participation", rvol >= p.rvol_min, rvol, p.rvol_min,
      string.format("volume %.0f is %.2f x the 20-session mean %.0f", last.volume, rvol, mean_volume))

  -- 5. Stock liquidity
  local dollar = mean(bars, from20, n, function(b) return b.close * b.volume end)
  add("stock_liquidity", dollar >= p.min_dollar_volume, dollar, p.min_dollar_volume,
      string.format("20-session mean dollar volume %.0f", dollar))

  -- 6. Option liquidity
  local option, why = checklist.option_for(input.chain, direction, close, input.today)
  if option then
    local mid = (option.bid + option.ask) / 2
    local spread = mid > 0 and (option.ask - option.bid) / mid * 100 or math.huge
    local pass = option.open_interest >= p.min_option_oi and spread <= p.max_option_spread
    add("option_liquidity", pass, {open_interest = option.open_interest, spread_pct = spread < math.huge and spread or false},
        {open_interest = p.min_option_oi, spread_pct = p.max_option_spread},
        string.format("%s: open interest %.0f, spread %.2f%% of mid", option.symbol, option.open_interest, spread))
  else
    add("option_liquidity", false, false, {open_interest = p.min_option_oi, spread_pct = p.max_option_spread}, why)
  end

  -- 7. Volatility
  local atr = series.atr
  local atr_pct = atr / close * 100
  add("volatility", atr_pct >= p.atr_lo and atr_pct <= p.atr_hi, atr_pct, {p.atr_lo, p.atr_hi},
      string.format("ATR14 %.4f is %.2f%% of close", atr, atr_pct))

  -- 8. Room
  local room, extreme
  if long then
    extreme = bars[from20].high
    for i = from20, n do extreme = math.max(extreme, bars[i].high) end
    room = extreme - close
  else
    extreme = bars[from20].low
    for i = from20, n do extreme = math.min(extreme, bars[i].low) end
    room = close - extreme
  end
  add("room", room >= p.room_atr * atr, room, p.room_atr * atr,
      string.format("%.2f to the 20-session %s %.2f; needs %g x ATR14 = %.2f", room, long and "high" or "low",
                    extreme, p.room_atr, p.room_atr * atr))

  local score = 0
  for _, c in ipairs(criteria) do if c.pass then score = score + 1 end end
  return {kind = "checklist", symbol = input.symbol, direction = direction, score = score,
          grade = checklist.grade(score), price = close, bars = n, inputs_time = last.time, criteria = criteria}
end

return checklist
