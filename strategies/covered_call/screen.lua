-- The 0-DTE covered-call screen of STRATEGIES.md (section 3) as pure
-- functions: an underlying's price and option chain in, filtered, measured
-- and ranked calls out. The strategy (covered_call.lua) gathers the inputs,
-- publishes the results and, when asked, sells the top contract.
--
-- Conventions where the rules leave a choice:
-- - every range is inclusive at both ends; otm_pct bounds are percent
--   (3 = 3 %), max_spread_to_mid a ratio (0.5 = half the mid);
-- - a contract without an implied volatility (iv 0 or missing) takes the
--   volatility its mid implies (Black-Scholes, r = 0); one whose mid implies
--   none is left out and counted under "iv";
-- - delta is the provider's when the chain has greeks, else N(d1);
-- - filters apply in the order of the rules (expiry, OTM, delta, bid, open
--   interest, spread); a contract left out is counted under the first one it
--   fails;
-- - ties in the ranking go to the contract symbol, ascending.
local opt = require("th.options")

local screen = {}

-- Days since 1970-01-01 of a civil date yyyymmdd.
function screen.days(yyyymmdd)
  local y, m, d = yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
  return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end

-- P(S_T > X) for a lognormal S_T with volatility iv over T years, r = 0.
local function prob_above(S, X, T, iv)
  if X <= 0 then return 1 end
  local v = iv * math.sqrt(T)
  return opt.norm_cdf((math.log(S / X) - v * v / 2) / v)
end

-- The metrics and the confidence score of selling call `c` against shares
-- at S, T years before expiry, with volatility iv (all per share).
function screen.metrics(c, S, T, iv)
  local bid, ask, K = c.bid, c.ask, c.strike
  local m = {}
  m.premium_yield = bid / S
  m.breakeven = S - bid
  m.max_profit = K - S + bid
  m.pop = prob_above(S, m.breakeven, T, iv)
  m.prob_otm = 1 - prob_above(S, K, T, iv)  -- N(-d2) at K
  m.fair_value = opt.call(S, K, T, iv)
  m.ev = bid - m.fair_value
  local spread = ask - bid
  local volume, oi = c.volume or 0, c.open_interest or 0
  local liquidity = 10 * math.min(1, math.log(volume + 1, 10) / 3) + 5 * math.min(1, math.log(oi + 1, 10) / 4) +
                    math.max(0, 5 - 10 * spread / bid)
  m.confidence_parts = {yield = math.min(40, m.premium_yield * 20000), pop = 40 * m.pop, liquidity = liquidity}
  m.confidence = m.confidence_parts.yield + m.confidence_parts.pop + liquidity
  local warnings = json.array()  -- [] in JSON when there are none
  if m.premium_yield < 0.001 then
    warnings[#warnings + 1] = string.format("yield %.3f%% below 0.1%%", m.premium_yield * 100)
  end
  if m.pop < 0.5 then warnings[#warnings + 1] = string.format("probability of profit %.1f%% below 50%%", m.pop * 100) end
  if volume < 100 then warnings[#warnings + 1] = string.format("volume %d below 100", math.floor(volume)) end
  if oi < 1000 then warnings[#warnings + 1] = string.format("open interest %d below 1000", math.floor(oi)) end
  if spread / bid > 0.2 then
    warnings[#warnings + 1] = string.format("spread %.1f%% of the bid above 20%%", spread / bid * 100)
  end
  m.warnings = warnings
  return m
end

-- One contract through the filters of rule 2: the record, or nil and the
-- name of the filter it failed. T is its years to expiry.
function screen.evaluate(c, S, T, p)
  if c.right ~= "call" then return nil, "put" end
  local K = c.strike
  local otm = (K - S) / S
  if otm < p.min_otm_pct / 100 or otm > p.max_otm_pct / 100 then return nil, "otm" end
  local bid, ask = c.bid or 0, c.ask or 0
  local mid = (bid + ask) / 2
  local iv, iv_source = c.iv, "provider"
  if not iv or iv <= 0 then
    iv = mid > 0 and opt.implied_vol("call", mid, S, K, T) or nil
    iv_source = "mid"
    if not iv then return nil, "iv" end
  end
  local delta, delta_source = c.delta, "provider"
  if not delta then
    delta, delta_source = opt.greeks("call", S, K, T, iv).delta, "black_scholes"
  end
  if delta < p.delta_lo or delta > p.delta_hi then return nil, "delta" end
  if bid < p.min_bid then return nil, "bid" end
  if (c.open_interest or 0) < p.min_open_interest then return nil, "open_interest" end
  if ask < bid or mid <= 0 or (ask - bid) / mid > p.max_spread_to_mid then return nil, "spread" end
  local r = screen.metrics(c, S, T, iv)
  r.contract, r.expiry, r.strike, r.bid, r.ask, r.mid = c.symbol, c.expiry, K, bid, ask, mid
  r.volume, r.open_interest = c.volume or 0, c.open_interest or 0
  r.iv, r.iv_source, r.delta, r.delta_source = iv, iv_source, delta, delta_source
  r.otm_pct = otm * 100
  r.spread_to_mid = (ask - bid) / mid
  r.price = S
  r.t_years = T
  return r
end

local SORT_KEYS = {confidence = "confidence", yield = "premium_yield", pop = "pop", ev = "ev"}

-- Every underlying of `inputs` ({symbol, price, chain, today (yyyymmdd),
-- years = function(expiry) → T, error (why there is no chain or price)}),
-- ranked together by p.sort_by, the best p.max_results kept.
-- Returns {results, underlyings}: results carry `symbol` (the underlying)
-- and `rank`; underlyings say, per symbol, the price, how many contracts the
-- chain had, how many passed and how many each filter left out.
function screen.run(inputs, p)
  local key = SORT_KEYS[p.sort_by]
  if not key then error(string.format("sort_by '%s' is not confidence, yield, pop or ev", tostring(p.sort_by)), 2) end
  local all, underlyings = {}, {}
  for _, input in ipairs(inputs) do
    local summary = {symbol = input.symbol, price = input.price, contracts = 0, passed = 0, rejected = {}}
    underlyings[#underlyings + 1] = summary
    if input.error then
      summary.error = input.error
    else
      local S = input.price
      local first, last = screen.days(input.today), screen.days(input.today) + p.max_days
      local years = {}  -- per expiry
      for _, c in ipairs(input.chain) do
        summary.contracts = summary.contracts + 1
        local record, why
        local day = screen.days(c.expiry)
        if day < first or day > last then
          why = "expiry"
        else
          years[c.expiry] = years[c.expiry] or input.years(c.expiry)
          record, why = screen.evaluate(c, S, years[c.expiry], p)
        end
        if record then
          record.symbol = input.symbol
          summary.passed = summary.passed + 1
          all[#all + 1] = record
        else
          summary.rejected[why] = (summary.rejected[why] or 0) + 1
        end
      end
    end
  end
  table.sort(all, function(a, b)
    if a[key] ~= b[key] then return a[key] > b[key] end
    return a.contract < b.contract
  end)
  local results = json.array()  -- [] in JSON when nothing passed
  for i = 1, math.min(#all, p.max_results) do
    all[i].rank = i
    results[i] = all[i]
  end
  return {results = results, underlyings = underlyings, sort_by = p.sort_by}
end

return screen
