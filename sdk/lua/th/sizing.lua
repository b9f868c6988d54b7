-- th.sizing: position sizes from the broker account.
local sizing = {}

-- Shares that risk `risk_pct` percent of the account's equity between
-- `price` (the expected entry) and `stop`, worth at most `max_position_pct`
-- percent of equity (default 100), and that the account's buying power pays
-- for at `price`:
--   floor(min(equity × risk_pct / 100 / |price − stop|,
--             equity × max_position_pct / 100 / price, buying_power / price))
-- A tight stop makes the risk term large; the position cap keeps one trade
-- from taking the whole account from every other strategy.
-- Returns the count (0 when nothing fits) and, when it is 0, why.
function sizing.shares_for_risk(ctx, risk_pct, price, stop, max_position_pct)
  local account, why = ctx:account()
  if not account then return 0, "no account: " .. tostring(why) end
  local risk = math.abs(price - stop)
  if not (risk > 0) or not (price > 0) then
    return 0, string.format("no risk per share between %.2f and stop %.2f", price, stop)
  end
  local cap = account.equity * (max_position_pct or 100) / 100 / price
  local qty = math.floor(math.min(account.equity * risk_pct / 100 / risk, cap, account.buying_power / price))
  if qty < 1 then
    return 0, string.format("size 0: equity %.2f, buying power %.2f, risk %.2f per share", account.equity,
                            account.buying_power, risk)
  end
  return qty
end

return sizing
