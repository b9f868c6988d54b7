-- th.options: the normal distribution, Black-Scholes prices and greeks,
-- implied volatility, and time to expiry, as STRATEGIES.md defines them.
--
--   local opt = require("th.options")
--   local T = opt.years_to_expiry(ctx, "2026-11-20")           -- now → 16:00 ET that day
--   local price = opt.price("call", 590, 592, T, 0.18)         -- r defaults to 0
--   local g = opt.greeks("call", 590, 592, T, 0.18)            -- g.delta, g.gamma, g.vega, g.theta
--   local iv = opt.implied_vol("call", 1.25, 590, 592, T)
--
-- S spot, K strike, T years, sigma annual volatility (0.18 = 18 %), r the
-- continuously compounded rate (default 0, no dividends).
local options = {}

local SQRT_PI = math.sqrt(math.pi)
local SQRT2 = math.sqrt(2)
local INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

-- erfc(z) for z >= 0, to ~1e-15 relative: 1 - erf from its all-positive
-- series below 2, the continued fraction above (no cancellation either way).
local function erfc_nonneg(z)
  if z < 2 then
    if z == 0 then return 1 end
    local term, sum, n = z, z, 0
    repeat
      n = n + 1
      term = term * 2 * z * z / (2 * n + 1)
      sum = sum + term
    until term <= 1e-17 * sum
    return 1 - 2 / SQRT_PI * math.exp(-z * z) * sum
  end
  local f = z
  for k = 60, 1, -1 do f = z + (k / 2) / f end
  return math.exp(-z * z) / SQRT_PI / f
end

function options.erfc(z)
  if z >= 0 then return erfc_nonneg(z) end
  return 2 - erfc_nonneg(-z)
end

-- N(x), the standard normal cumulative distribution.
function options.norm_cdf(x)
  if x ~= x then return x end
  return 0.5 * options.erfc(-x / SQRT2)
end

-- n(x), the standard normal density.
function options.norm_pdf(x)
  return INV_SQRT_2PI * math.exp(-0.5 * x * x)
end

local function check(name, S, K, T, sigma, r)
  for _, pair in ipairs({{"S", S}, {"K", K}, {"T", T}, {"sigma", sigma}, {"r", r}}) do
    if type(pair[2]) ~= "number" or pair[2] ~= pair[2] then
      error(string.format("th.options.%s: %s must be a number (got %s)", name, pair[1], tostring(pair[2])), 3)
    end
  end
  if S <= 0 or K <= 0 then error(string.format("th.options.%s: S and K must be positive", name), 3) end
end

local function kind_of(name, kind)
  if kind == "call" or kind == "put" then return kind end
  error(string.format("th.options.%s: kind must be \"call\" or \"put\" (got %s)", name, tostring(kind)), 3)
end

-- d1 and d2; nil when T or sigma is 0 (the option is worth its intrinsic value).
function options.d1d2(S, K, T, sigma, r)
  r = r or 0
  check("d1d2", S, K, T, sigma, r)
  if T <= 0 or sigma <= 0 then return nil end
  local v = sigma * math.sqrt(T)
  local d1 = (math.log(S / K) + (r + sigma * sigma / 2) * T) / v
  return d1, d1 - v
end

-- The Black-Scholes value of a European call or put.
function options.price(kind, S, K, T, sigma, r)
  kind = kind_of("price", kind)
  r = r or 0
  local d1, d2 = options.d1d2(S, K, T, sigma, r)
  local discount = math.exp(-r * math.max(T, 0))
  if not d1 then
    local forward = S / discount
    return discount * math.max(0, kind == "call" and forward - K or K - forward)
  end
  local N = options.norm_cdf
  if kind == "call" then return S * N(d1) - K * discount * N(d2) end
  return K * discount * N(-d2) - S * N(-d1)
end

function options.call(S, K, T, sigma, r) return options.price("call", S, K, T, sigma, r) end
function options.put(S, K, T, sigma, r) return options.price("put", S, K, T, sigma, r) end

-- {price, delta, gamma, vega, theta, d1, d2}: vega per 1.00 of volatility
-- (divide by 100 for one point), theta per year (divide by 365 for a day).
function options.greeks(kind, S, K, T, sigma, r)
  kind = kind_of("greeks", kind)
  r = r or 0
  local price = options.price(kind, S, K, T, sigma, r)
  local d1, d2 = options.d1d2(S, K, T, sigma, r)
  if not d1 then
    local itm = kind == "call" and S > K or kind == "put" and S < K
    return {price = price, delta = itm and (kind == "call" and 1 or -1) or 0, gamma = 0, vega = 0, theta = 0}
  end
  local N, n = options.norm_cdf, options.norm_pdf
  local sqrtT = math.sqrt(T)
  local discount = math.exp(-r * T)
  local g = {price = price, d1 = d1, d2 = d2}
  g.gamma = n(d1) / (S * sigma * sqrtT)
  g.vega = S * n(d1) * sqrtT
  if kind == "call" then
    g.delta = N(d1)
    g.theta = -S * n(d1) * sigma / (2 * sqrtT) - r * K * discount * N(d2)
  else
    g.delta = N(d1) - 1
    g.theta = -S * n(d1) * sigma / (2 * sqrtT) + r * K * discount * N(-d2)
  end
  return g
end

-- The volatility at which the model price equals `price`: Newton's method
-- from 20 %, kept inside a bisection bracket [1e-6, 10]. Returns sigma, or
-- nil and the reason when no volatility gives that price (below intrinsic
-- value, above the underlying's price) or T is 0.
function options.implied_vol(kind, price, S, K, T, r)
  kind = kind_of("implied_vol", kind)
  r = r or 0
  check("implied_vol", S, K, T, 0, r)
  if type(price) ~= "number" or price ~= price then return nil, "price must be a number" end
  if T <= 0 then return nil, "no time to expiry" end
  local lo_price = options.price(kind, S, K, T, 0, r)
  local cap = kind == "call" and S or K * math.exp(-r * T)
  if price < lo_price - 1e-12 then
    return nil, string.format("price %.4f is below the intrinsic value %.4f", price, lo_price)
  end
  if price >= cap then return nil, string.format("price %.4f is not below the bound %.4f", price, cap) end
  local lo, hi = 1e-6, 10
  local sigma = 0.2
  for _ = 1, 100 do
    local g = options.greeks(kind, S, K, T, sigma, r)
    local diff = g.price - price
    if math.abs(diff) <= 1e-13 * price then return sigma end
    if diff > 0 then hi = sigma else lo = sigma end
    local step = g.vega > 1e-12 and sigma - diff / g.vega or nil
    if step and step > lo and step < hi then
      sigma = step
    else
      sigma = (lo + hi) / 2
    end
    if hi - lo < 1e-14 then return sigma end
  end
  return sigma
end

-- Years from `now` (epoch ms, default ctx:now()) to the close of the expiry
-- date's session ("2026-11-20" or 20261120) — 16:00 New York time, 13:00 on
-- an early close, from the host's calendar; 16:00 on a date the calendar
-- has no session for — calendar time / 365 days, at least `min_t_minutes`
-- (default 1) minutes.
function options.years_to_expiry(ctx, expiry, now, min_t_minutes)
  now = now or ctx:now()
  local date = expiry
  if math.type(expiry) == "integer" then
    date = string.format("%04d-%02d-%02d", expiry // 10000, expiry // 100 % 100, expiry % 100)
  end
  if type(date) ~= "string" or not date:match("^%d%d%d%d%-%d%d%-%d%d$") then
    error(string.format("th.options.years_to_expiry: expiry '%s' is not a date YYYY-MM-DD", tostring(expiry)), 2)
  end
  local close = ctx:time(date .. "T16:00")
  local session = ctx:session(ctx:time(date .. "T12:00"))
  if session then close = session.close end
  local minutes = math.max((close - now) / 60000, min_t_minutes or 1)
  return minutes / (365 * 24 * 60)
end

return options
