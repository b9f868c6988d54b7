-- The 8-point entry checklist (STRATEGIES.md, section 4): scores each symbol
-- for long (calls) and short (puts) from its daily bars, its latest quote
-- and its option chain, and publishes the result as a checklist signal,
-- which the API (GET /api/v1/checklist/{symbol}), the CLI (tradehost
-- checklist) and other strategies (ctx:checklist) read. It places no orders.
local checklist = require("checklist")
local time = require("th.time")
local session = require("th.session")

local mids = {}  -- the latest quote's mid per symbol (not state: a quote is stale after a restart)
local warned = {}  -- symbol → the day its "too few daily bars" was logged

local function score_all(ctx)
  local p = ctx.params
  local today = time.date(ctx)
  for _, symbol in ipairs(ctx.symbols) do
    local bars = ctx:history(symbol, "1d", p.lookback_days)
    local chain, chain_error = ctx:option_chain(symbol)
    local input = {symbol = symbol, bars = bars, price = mids[symbol], chain = chain, today = today}
    for _, direction in ipairs(p.directions == "both" and {"long", "short"} or {p.directions}) do
      local record, why = checklist.score(input, direction, p)
      if not record then
        -- Too few daily bars (the same for the other direction): said once a day.
        if warned[symbol] ~= today then ctx:log("warn", why) end
        warned[symbol] = today
        break
      end
      if not chain then record.chain_error = chain_error end
      ctx:signal(record)
    end
  end
  ctx.state.scored_at = ctx:now()
end

function on_start(ctx)
  ctx:at(session.next_at(ctx, ctx.params.run_at), "score")
end

function on_quote(ctx, quote)
  if quote.bid > 0 and quote.ask >= quote.bid then mids[quote.symbol] = (quote.bid + quote.ask) / 2 end
end

function on_timer(ctx, tag)
  if tag ~= "score" then return end
  -- Again every_minutes until the close, then at run_at the next trading day.
  session.again(ctx, "score", ctx.params.run_at, ctx.params.every_minutes)
  score_all(ctx)
end
