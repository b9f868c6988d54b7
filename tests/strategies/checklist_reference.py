#!/usr/bin/env python3
"""Writes checklist_reference.json: a 60-session daily fixture, an option
chain, and the 8-point checklist of STRATEGIES.md (section 4) computed for
both directions by this independent implementation (Python 3, float64),
written from the text of STRATEGIES.md and the conventions stated in
strategies/entry_checklist/checklist.lua (20-session windows end with the
last bar; close is the given price; nearest expiry on or after today; the
lower strike on a tie; ranges inclusive). Run from this folder:
    python3 checklist_reference.py > checklist_reference.json
"""
import json
import os
import sys

# EMA, RSI and ATR as tests/sdk/reference.py defines them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk"))
from reference import atr as atr_series, ema as ema_series, rsi as rsi_series  # noqa: E402

# 60 sessions of a steady uptrend with a wobble, volume rising at the end.
bars = []
for i in range(60):
    base = 400 + i * 1.5 + (3 if i % 4 == 0 else -2 if i % 4 == 2 else 0)
    open_ = round(base - 0.8, 2)
    close = round(base + 0.6, 2)
    bars.append({"time": 1790000000000 + i * 86400000, "open": open_, "high": round(close + 2.1, 2),
                 "low": round(open_ - 1.9, 2), "close": close,
                 "volume": float(200000 + (i % 7) * 15000 + (120000 if i == 59 else 0))})
price = 490.10  # the live quote's mid
today = 20261120
chain = []
for expiry in (20261119, 20261120, 20261127):
    for strike in (485, 490, 490.2, 495):
        for right in ("call", "put"):
            # The 490.2 call of the nearest live expiry is the one criterion 6 reads.
            oi = 2400 if (strike == 490.2 and right == "call") else 300
            bid, ask = (4.10, 4.40) if right == "call" else (3.00, 3.50)
            chain.append({"symbol": f"X{expiry}{right[0].upper()}{strike}", "right": right, "expiry": expiry,
                          "strike": strike, "bid": bid, "ask": ask, "open_interest": oi})
params = {"min_days": 50, "lookback_days": 60, "slope_days": 5, "rsi_lo": 50, "rsi_hi": 70, "rvol_min": 1.0,
          "min_dollar_volume": 50000000, "min_option_oi": 500, "max_option_spread": 10, "atr_lo": 1, "atr_hi": 5,
          "room_atr": 1.0}

def score(direction, price=price, today=today):
    long = direction == "long"
    closes = [b["close"] for b in bars]
    e21, e50 = ema_series(closes, 21), ema_series(closes, 50)
    close = price
    last20 = bars[-20:]
    out = {}
    out["trend"] = (close > e21[-1] > e50[-1]) if long else (close < e21[-1] < e50[-1])
    then = e21[-1 - params["slope_days"]]
    out["slope"] = e21[-1] > then if long else e21[-1] < then
    r = rsi_series(closes, 14)[-1]
    lo, hi = (params["rsi_lo"], params["rsi_hi"]) if long else (100 - params["rsi_hi"], 100 - params["rsi_lo"])
    out["momentum"] = lo <= r <= hi
    rvol = bars[-1]["volume"] / (sum(b["volume"] for b in last20) / 20)
    out["participation"] = rvol >= params["rvol_min"]
    dollar = sum(b["close"] * b["volume"] for b in last20) / 20
    out["stock_liquidity"] = dollar >= params["min_dollar_volume"]
    right = "call" if long else "put"
    expiry = min(c["expiry"] for c in chain if c["right"] == right and c["expiry"] >= today)
    candidates = [c for c in chain if c["right"] == right and c["expiry"] == expiry]
    option = min(candidates, key=lambda c: (abs(c["strike"] - close), c["strike"]))
    mid = (option["bid"] + option["ask"]) / 2
    spread = (option["ask"] - option["bid"]) / mid * 100
    out["option_liquidity"] = option["open_interest"] >= params["min_option_oi"] and spread <= params["max_option_spread"]
    a = atr_series(bars, 14)[-1]
    atr_pct = a / close * 100
    out["volatility"] = params["atr_lo"] <= atr_pct <= params["atr_hi"]
    room = (max(b["high"] for b in last20) - close) if long else (close - min(b["low"] for b in last20))
    out["room"] = room >= params["room_atr"] * a
    values = {"trend": close, "slope": e21[-1], "slope_then": then, "ema21": e21[-1], "ema50": e50[-1],
              "momentum": r, "participation": rvol, "stock_liquidity": dollar, "option": option["symbol"],
              "spread_pct": spread, "volatility": atr_pct, "atr": a, "room": room}
    score = sum(1 for v in out.values() if v)
    grade = {8: "A+", 7: "A", 6: "B", 5: "C", 4: "D"}.get(score, "F")
    return {"pass": out, "values": values, "score": score, "grade": grade}

print(json.dumps({"source": "tests/strategies/checklist_reference.py (independent Python implementation)",
                  "input": {"symbol": "XYZ", "bars": bars, "price": price, "chain": chain, "today": today},
                  "params": params, "long": score("long"), "short": score("short"),
                  # No quote (close is the last daily close), scored on 2026-11-16.
                  "no_quote": {"today": 20261116, "long": score("long", bars[-1]["close"], 20261116),
                               "short": score("short", bars[-1]["close"], 20261116)}}, indent=1))
