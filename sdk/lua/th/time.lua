-- th.time: exchange-time helpers for strategies.
--
-- Every time is epoch milliseconds, as ctx:now() and bar.time give it;
-- clock times ("09:35") are New York exchange time. The functions take ctx
-- because the exchange calendar and time zone live in the host.
local time = {}

time.SECOND = 1000
time.MINUTE = 60 * 1000
time.HOUR = 60 * 60 * 1000

-- "09:35" → 575 (minutes after midnight). Errors on anything else.
function time.hhmm(text)
  local h, m = string.match(text, "^(%d%d):(%d%d)$")
  h, m = tonumber(h), tonumber(m)
  if not h or h > 23 or m > 59 then
    error(string.format("th.time.hhmm: '%s' is not a time HH:MM", tostring(text)), 2)
  end
  return h * 60 + m
end

-- Minutes after exchange midnight of t (default: now).
function time.minute_of_day(ctx, t)
  return ctx:exchange_time(t).minute_of_day
end

-- True when t (default: now) is at or after `from` and before `to`, both "HH:MM".
function time.between(ctx, from, to, t)
  local m = time.minute_of_day(ctx, t)
  return m >= time.hhmm(from) and m < time.hhmm(to)
end

-- Epoch ms of "HH:MM" exchange time on the exchange date of t (default: now).
function time.today_at(ctx, hhmm, t)
  time.hhmm(hhmm)
  local e = ctx:exchange_time(t)
  return ctx:time(string.format("%04d-%02d-%02dT%s", e.year, e.month, e.day, hhmm))
end

-- Epoch ms of "HH:MM" on the session of t (default: now), with the rule
-- for early closes: a time after the session's close moves earlier by as
-- much as the session closes early (on a 13:00 close, 15:55 is 12:55 and
-- 15:30 is 12:30); earlier times, and every time on a full day, stay.
function time.session_at(ctx, hhmm, t)
  local at = time.today_at(ctx, hhmm, t)
  local s = ctx:session(t)
  if s and s.early_close and at > s.close then at = at - (s.regular_close - s.close) end
  return at
end

-- The same as minutes after exchange midnight: for comparing with a bar's
-- minute_of_day.
function time.session_minute(ctx, hhmm, t)
  local m = time.hhmm(hhmm)
  local s = ctx:session(t)
  if s and s.early_close then
    local close = ctx:exchange_time(s.close).minute_of_day
    if m > close then m = m - (s.regular_close - s.close) // time.MINUTE end
  end
  return m
end

-- The exchange date of t as yyyymmdd (an integer), default now.
function time.date(ctx, t)
  return ctx:exchange_time(t).date
end

-- "2026-11-20T09:35:00-05:00"
function time.format(ctx, t)
  return ctx:format_time(t)
end

return time
