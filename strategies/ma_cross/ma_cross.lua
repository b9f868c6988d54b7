-- Moving-average crossover: see ma_cross.yaml for the rules and parameters.
local time = require("th.time")
local session = require("th.session")

-- The averages live in Lua locals: a new version rebuilds them from the
-- bars replayed during its warm-up. Only ctx.state carries over as is.
local closes = {}

local function sma(n)
  if #closes < n then return nil end
  local sum = 0
  for i = #closes - n + 1, #closes do sum = sum + closes[i] end
  return sum / n
end

local function flatten(ctx)
  ctx:cancel_all()
  local position = ctx:position()
  if position.qty > 0 then
    ctx:sell{qty = position.qty}
  elseif position.qty < 0 then
    ctx:buy{qty = -position.qty}
  end
end

function on_start(ctx)
  ctx.state.trades_today = ctx.state.trades_today or 0
  ctx.state.crosses = ctx.state.crosses or 0
  ctx:at(ctx.params.flatten_at, "flatten")
end

function on_bar(ctx, bar)
  if session.new_day(ctx, ctx.state, bar.time) then ctx.state.trades_today = 0 end
  local fast_before, slow_before = sma(ctx.params.fast), sma(ctx.params.slow)
  closes[#closes + 1] = bar.close
  if #closes > ctx.params.slow + 1 then table.remove(closes, 1) end
  local fast, slow = sma(ctx.params.fast), sma(ctx.params.slow)
  if not (fast_before and slow_before and fast and slow) then return end
  if fast_before <= slow_before and fast > slow then
    ctx.state.crosses = ctx.state.crosses + 1
    ctx:mark{price = bar.close, text = "fast above slow", kind = "signal", side = "buy"}
    local late = time.minute_of_day(ctx, bar.end_time) >= time.hhmm(ctx.params.flatten_at)
    if late or ctx.state.trades_today >= ctx.params.max_trades_per_day then return end
    if ctx:position().qty ~= 0 or #ctx:orders() > 0 then return end
    local order, err = ctx:bracket{
      side = "buy",
      qty = ctx.params.qty,
      take_profit = bar.close * (1 + ctx.params.target_pct / 100),
      stop_loss = bar.close * (1 - ctx.params.stop_pct / 100),
    }
    if order then
      ctx.state.trades_today = ctx.state.trades_today + 1
      ctx:signal{symbol = bar.symbol, name = "cross_up", price = bar.close, order = order.id}
    else
      ctx:log("warn", "entry refused:", err)
    end
  end
end

function on_timer(ctx, tag)
  if tag == "flatten" then
    flatten(ctx)
    ctx:at(ctx.params.flatten_at, "flatten")  -- the next session's
  end
end

function on_fill(ctx, fill)
  ctx:log(fill.side, fill.qty, fill.symbol, "at", fill.price)
end
