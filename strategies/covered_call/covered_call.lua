-- The 0-DTE covered-call screen (STRATEGIES.md, section 3): at run_at and
-- every every_minutes after, screens the calls of each underlying (screen.lua),
-- publishes the best max_results as ranked signals, and with auto_execute
-- sells the top contract to open, one contract per 100 shares the account
-- holds that no call covers yet. On demand, `tradehost screen covered-call`
-- (POST /api/v1/strategies/covered_call/request/screen) runs the same screen
-- and answers with it, publishing and selling nothing.
local screen = require("screen")
local opt = require("th.options")
local time = require("th.time")
local session = require("th.session")

local last = {}  -- symbol → the last trade's price (a price is stale after a restart: not state)

-- "SPY261120C00600000" (or the root padded with spaces) → "SPY", "C", 20261120
local function occ(symbol)
  local root, yymmdd, right = symbol:match("^(%u+) *(%d%d%d%d%d%d)([CP])%d%d%d%d%d%d%d%d$")
  if not root then return nil end
  return root, right, 20000000 + tonumber(yymmdd)
end

-- S: the last trade, else the last 1-minute close, else the chain's
-- underlying price; and where it came from.
local function price_of(ctx, symbol, chain)
  if last[symbol] then return last[symbol], "trade" end
  local bars = ctx:history(symbol, "1m", 1)
  if #bars > 0 then return bars[#bars].close, "bar" end
  local c = chain and chain[1]
  if c and c.underlying_price and c.underlying_price > 0 then return c.underlying_price, "chain" end
  return nil
end

local function run_screen(ctx, symbols)
  local p = ctx.params
  local now, today = ctx:now(), time.date(ctx)
  local inputs = {}
  for _, symbol in ipairs(symbols) do
    local input = {symbol = symbol, today = today}
    local chain, why = ctx:option_chain(symbol)
    if not chain then
      input.error = "no option chain: " .. tostring(why)
    else
      input.chain = chain
      input.price, input.price_source = price_of(ctx, symbol, chain)
      if not input.price then input.error = "no price: no trade, bar or chain price yet" end
      input.years = function(expiry) return opt.years_to_expiry(ctx, expiry, now, p.min_t_minutes) end
    end
    inputs[#inputs + 1] = input
  end
  local out = screen.run(inputs, p)
  for i, u in ipairs(out.underlyings) do u.price_source = inputs[i].price_source end
  out.time = time.format(ctx, now)
  return out
end

-- Contracts of calls on `underlying` the account is short and that have
-- not expired, plus the sells of calls on it this strategy still has working.
local function covering(ctx, account, underlying)
  local today = time.date(ctx)
  local short = 0
  for symbol, qty in pairs(account.positions) do
    local root, right, expiry = occ(symbol)
    if root == underlying and right == "C" and qty < 0 and expiry >= today then short = short - qty end
  end
  for _, o in ipairs(ctx:orders()) do
    local root, right = occ(o.symbol)
    if root == underlying and right == "C" and o.side == "sell" then short = short + o.qty - o.filled_qty end
  end
  return short
end

local function sell_top(ctx, top)
  local account, why = ctx:account()
  if not account then
    ctx:log("warn", "auto_execute: no account: " .. tostring(why))
    return
  end
  local shares = account.positions[top.symbol] or 0
  local short = covering(ctx, account, top.symbol)
  local lots = math.floor(shares / 100) - short
  if lots < 1 then
    ctx:log("info", string.format("auto_execute: %s not sold: the account holds %d %s shares and %d call(s) "
                                  .. "already cover them", top.contract, math.floor(shares), top.symbol, short))
    return
  end
  local order, err = ctx:sell{symbol = top.contract, qty = lots, limit = top.bid}
  if order then
    ctx.state.sold = (ctx.state.sold or 0) + lots
    ctx:log("info", string.format("auto_execute: selling %d %s at %.2f against %d shares", lots, top.contract, top.bid,
                                  math.floor(shares)))
  else
    ctx:log("warn", string.format("auto_execute: %s refused: %s", top.contract, err))
  end
end

local function scheduled(ctx)
  local out = run_screen(ctx, ctx.symbols)
  for _, u in ipairs(out.underlyings) do
    if u.error then ctx:log("warn", string.format("%s: %s", u.symbol, u.error)) end
  end
  for _, r in ipairs(out.results) do
    r.kind = "covered_call"
    r.name = "covered_call"
    ctx:signal(r)
  end
  ctx.state.screened_at = ctx:now()
  ctx.state.last_results = #out.results
  if ctx.params.auto_execute and out.results[1] then sell_top(ctx, out.results[1]) end
end

function on_start(ctx)
  ctx:at(session.next_at(ctx, ctx.params.run_at), "screen")
end

function on_trade(ctx, trade)
  last[trade.symbol] = trade.price
end

function on_timer(ctx, tag)
  if tag ~= "screen" then return end
  session.again(ctx, "screen", ctx.params.run_at, ctx.params.every_minutes)
  scheduled(ctx)
end

-- request "screen", args {symbols = {"SPY", ...} or "SPY,QQQ"}: the screen now.
function on_request(ctx, name, args)
  if name ~= "screen" then
    return nil, string.format("covered_call: no request '%s' (it answers: screen)", tostring(name))
  end
  local symbols = args.symbols or ctx.symbols
  local list = {}
  if type(symbols) == "string" then
    for s in symbols:gmatch("[^,%s]+") do list[#list + 1] = s:upper() end
  elseif type(symbols) == "table" then
    for i, s in ipairs(symbols) do
      if type(s) ~= "string" or s == "" then return nil, string.format("symbols[%d]: expected a symbol", i) end
      list[i] = s:upper()
    end
  end
  if #list == 0 then return nil, "symbols: expected a list of underlyings, e.g. [\"SPY\", \"QQQ\"]" end
  symbols = list
  for k in pairs(args) do
    if k ~= "symbols" then return nil, string.format("%s: unknown argument (the screen takes symbols)", k) end
  end
  return run_screen(ctx, symbols)
end
