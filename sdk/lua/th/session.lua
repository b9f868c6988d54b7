-- th.session: the regular session around a bar or an instant.
--
-- Sessions come from the host's exchange calendar (holidays and early
-- closes included): ctx:session(t) is {date, open, close, early_close} in
-- epoch ms, or nil on a day the market does not trade.
local session = {}

-- Epoch ms of today's open / close, or nil on a closed day.
function session.open(ctx, t)
  local s = ctx:session(t)
  return s and s.open
end

function session.close(ctx, t)
  local s = ctx:session(t)
  return s and s.close
end

-- The first bar of the session (its period starts at the open).
function session.is_first_bar(ctx, bar)
  local s = ctx:session(bar.time)
  return s ~= nil and bar.time == s.open
end

-- The bar that ends at (or after) the close.
function session.is_last_bar(ctx, bar)
  local s = ctx:session(bar.time)
  return s ~= nil and bar.end_time >= s.close
end

-- True while t is within the first `minutes` of the session.
function session.in_opening_range(ctx, minutes, t)
  local since = ctx:minutes_since_open(t)
  return since ~= nil and since < minutes
end

-- Epoch ms of the first `run_at` ("09:40", exchange time) of a trading
-- day that is after t (default now): today's if it is still to come, else
-- the next session's, skipping weekends and holidays.
function session.next_at(ctx, run_at, t)
  t = t or ctx:now()
  local s = ctx:next_session(t)
  while s do
    local at = ctx:time(string.format("%04d-%02d-%02dT%s", s.date // 10000, s.date // 100 % 100, s.date % 100,
                                      run_at))
    if at > t then return at end
    s = ctx:next_session(s.close)
  end
  error(string.format("th.session.next_at: no trading day after %s in the calendar", ctx:format_time(t)), 2)
end

-- For a timer `tag` that runs at `run_at` and then every `every_minutes`
-- until the close: sets the next one. Call it first in on_timer, so that an
-- error in the work does not stop the repeats.
--   function on_timer(ctx, tag) session.again(ctx, tag, p.run_at, p.every_minutes); ... end
function session.again(ctx, tag, run_at, every_minutes)
  local next_at = ctx:now() + every_minutes * 60 * 1000
  if next_at < (session.close(ctx) or 0) then
    ctx:at(next_at, tag)
  else
    ctx:at(session.next_at(ctx, run_at), tag)
  end
end

-- Remembers the exchange date in tbl.date and returns true when t starts a
-- new one: the place to reset per-day counters kept in ctx.state.
--   if session.new_day(ctx, ctx.state, bar.time) then ctx.state.trades = 0 end
function session.new_day(ctx, tbl, t)
  local date = ctx:exchange_time(t).date
  if tbl.date ~= date then
    tbl.date = date
    return true
  end
  return false
end

return session
