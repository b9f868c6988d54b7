-- th.indicators: incremental indicators, one value in, the current value out.
--
--   local ind = require("th.indicators")
--   local ema = ind.ema(21)
--   function on_bar(ctx, bar)
--     local e = ema:update(bar.close)     -- nil until 21 closes were seen
--   end
--
-- Every indicator has :update(...) returning the current value (nil while
-- it is not yet defined), a `value` field with the same, and :reset().
-- The definitions are those of STRATEGIES.md ("Shared definitions"), so a
-- result can be checked against any other implementation of them.
--
-- Indicators are objects with methods, so they live in script locals, not in
-- ctx.state: after a reload or a restart the warm-up bars rebuild them.
local indicators = {}

local function period(name, n)
  if math.type(n) ~= "integer" or n < 1 then
    error(string.format("th.indicators.%s: the period must be a positive integer (got %s)", name, tostring(n)), 3)
  end
  return n
end

local function number(name, x)
  if type(x) ~= "number" or x ~= x then
    error(string.format("th.indicators.%s: update needs a number (got %s)", name, tostring(x)), 3)
  end
  return x
end

-- SMA(n): the mean of the last n values.
local SMA = {}
SMA.__index = SMA

function indicators.sma(n)
  return setmetatable({n = period("sma", n), values = {}, next = 1, count = 0, sum = 0, value = nil}, SMA)
end

function SMA:update(x)
  number("sma", x)
  local n, at = self.n, self.next
  if self.count < n then
    self.count = self.count + 1
  else
    self.sum = self.sum - self.values[at]
  end
  self.values[at] = x
  self.sum = self.sum + x
  if at == n then
    -- Once per period the sum is taken afresh, so rounding never drifts.
    local sum = 0
    for i = 1, self.count do sum = sum + self.values[i] end
    self.sum = sum
    self.next = 1
  else
    self.next = at + 1
  end
  if self.count == n then self.value = self.sum / n end
  return self.value
end

function SMA:reset()
  self.values, self.next, self.count, self.sum, self.value = {}, 1, 0, 0, nil
end

-- EMA(n): alpha = 2/(n+1), seeded with the simple mean of the first n values.
local EMA = {}
EMA.__index = EMA

function indicators.ema(n)
  period("ema", n)
  return setmetatable({n = n, alpha = 2 / (n + 1), count = 0, sum = 0, value = nil}, EMA)
end

function EMA:update(x)
  number("ema", x)
  if self.value == nil then
    self.count = self.count + 1
    self.sum = self.sum + x
    if self.count == self.n then self.value = self.sum / self.n end
  else
    self.value = self.alpha * x + (1 - self.alpha) * self.value
  end
  return self.value
end

function EMA:reset()
  self.count, self.sum, self.value = 0, 0, nil
end

-- RSI(n), Wilder: the first average gain and loss are the means of the
-- first n changes, then avg = (avg*(n-1) + x)/n; RSI = 100 - 100/(1 + gain/loss),
-- 100 when the average loss is 0. Needs n + 1 values.
local RSI = {}
RSI.__index = RSI

function indicators.rsi(n)
  return setmetatable({n = period("rsi", n), prev = nil, count = 0, gain = 0, loss = 0, value = nil}, RSI)
end

function RSI:update(close)
  number("rsi", close)
  local prev = self.prev
  self.prev = close
  if prev == nil then return self.value end
  local d = close - prev
  local up, down = d > 0 and d or 0, d < 0 and -d or 0
  local n = self.n
  if self.count < n then
    self.count = self.count + 1
    self.gain = self.gain + up
    self.loss = self.loss + down
    if self.count < n then return nil end
    self.gain, self.loss = self.gain / n, self.loss / n
  else
    self.gain = (self.gain * (n - 1) + up) / n
    self.loss = (self.loss * (n - 1) + down) / n
  end
  self.value = self.loss == 0 and 100 or 100 - 100 / (1 + self.gain / self.loss)
  return self.value
end

function RSI:reset()
  self.prev, self.count, self.gain, self.loss, self.value = nil, 0, 0, 0, nil
end

-- ATR(n), Wilder: TR = max(h - l, |h - previous close|, |l - previous close|),
-- h - l for the first bar (it has no previous close); the first ATR is the
-- mean of the first n TRs, then atr = (atr*(n-1) + tr)/n.
-- update(bar) or update(high, low, close).
local ATR = {}
ATR.__index = ATR

function indicators.atr(n)
  return setmetatable({n = period("atr", n), prev_close = nil, count = 0, sum = 0, value = nil}, ATR)
end

function ATR:update(high, low, close)
  if type(high) ~= "number" then high, low, close = high.high, high.low, high.close end
  number("atr", high)
  number("atr", low)
  number("atr", close)
  local tr = high - low
  local pc = self.prev_close
  if pc ~= nil then tr = math.max(tr, math.abs(high - pc), math.abs(low - pc)) end
  self.prev_close = close
  self.tr = tr
  local n = self.n
  if self.value == nil then
    self.count = self.count + 1
    self.sum = self.sum + tr
    if self.count == n then self.value = self.sum / n end
  else
    self.value = (self.value * (n - 1) + tr) / n
  end
  return self.value
end

function ATR:reset()
  self.prev_close, self.count, self.sum, self.value, self.tr = nil, 0, 0, nil, nil
end

-- VWAP: sum(price * volume) / sum(volume) since the last reset, where price
-- is the bar's own vwap when it carries one (> 0) and (high + low + close)/3
-- otherwise. update(bar, day) resets by itself when `day` (any value, e.g.
-- ctx:exchange_time(bar.time).date) differs from the previous bar's.
local VWAP = {}
VWAP.__index = VWAP

function indicators.vwap()
  return setmetatable({pv = 0, volume = 0, day = nil, value = nil}, VWAP)
end

function VWAP:update(bar, day)
  if day ~= nil and day ~= self.day then
    self:reset()
    self.day = day
  end
  local volume = number("vwap", bar.volume)
  local price = bar.vwap
  if type(price) ~= "number" or price <= 0 then price = (bar.high + bar.low + bar.close) / 3 end
  if volume > 0 then
    self.pv = self.pv + price * volume
    self.volume = self.volume + volume
    self.value = self.pv / self.volume
  end
  return self.value
end

function VWAP:reset()
  self.pv, self.volume, self.value = 0, 0, nil
end

-- The highest high / lowest low of the last n bars (a rolling window).
local Extreme = {}
Extreme.__index = Extreme

local function extreme(name, n, field, better)
  return setmetatable({n = period(name, n), field = field, better = better, values = {}, next = 1, count = 0,
                       value = nil}, Extreme)
end

function indicators.highest(n, field)
  return extreme("highest", n, field or "high", function(a, b) return a > b end)
end

function indicators.lowest(n, field)
  return extreme("lowest", n, field or "low", function(a, b) return a < b end)
end

-- update(bar) reads bar[field]; update(x) takes the number itself.
function Extreme:update(x)
  if type(x) ~= "number" then x = x[self.field] end
  number("highest/lowest", x)
  self.values[self.next] = x
  self.next = self.next % self.n + 1
  if self.count < self.n then self.count = self.count + 1 end
  local best = self.values[1]
  for i = 2, self.count do
    if self.better(self.values[i], best) then best = self.values[i] end
  end
  self.value = best
  return best
end

function Extreme:reset()
  self.values, self.next, self.count, self.value = {}, 1, 0, nil
end

-- Runs a fresh indicator over a list of values (or bars) and returns its
-- values, nil where undefined, with the count in `n`:
--   ind.series(ind.ema(3), {1, 2, 3, 4}) --> {nil, nil, 2.0, 3.0, n = 4}
function indicators.series(indicator, values)
  local out = {n = #values}
  for i = 1, #values do out[i] = indicator:update(values[i]) end
  return out
end

return indicators
