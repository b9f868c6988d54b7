#!/usr/bin/env python3
"""Writes covered_call_reference.json: an option chain around an underlying
at 500.00, 350 minutes before the 16:00 expiry, and the covered-call screen
of STRATEGIES.md (section 3) computed by this independent implementation
(Python 3, float64, the normal CDF from math.erfc, implied volatility by
bisection), written from the text of STRATEGIES.md and the conventions
stated in strategies/covered_call/screen.lua (inclusive ranges, the
provider's delta when given, a missing IV implied from the mid, filters in
the order of the rules, ties by contract symbol). Run from this folder:
    python3 covered_call_reference.py > covered_call_reference.json
"""
import json
import math

S = 500.0
TODAY = 20261120
MINUTES = 350.0  # 10:10 to 16:00
YEARS = {20261119: 0.0, 20261120: MINUTES / (365 * 24 * 60), 20261123: (MINUTES + 3 * 1440) / (365 * 24 * 60)}
YEARS[20261119] = 1.0 / (365 * 24 * 60)  # expired: at least min_t_minutes
PARAMS = {"max_days": 0, "min_otm_pct": 0, "max_otm_pct": 3, "delta_lo": 0.15, "delta_hi": 0.35, "min_bid": 0.05,
          "min_open_interest": 100, "max_spread_to_mid": 0.5, "sort_by": "confidence", "max_results": 10,
          "min_t_minutes": 1}


def N(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def d1d2(s, k, t, iv):
    v = iv * math.sqrt(t)
    d1 = (math.log(s / k) + iv * iv * t / 2) / v
    return d1, d1 - v


def call_value(s, k, t, iv):
    d1, d2 = d1d2(s, k, t, iv)
    return s * N(d1) - k * N(d2)


def implied(price, s, k, t):
    lo, hi = 1e-6, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if call_value(s, k, t, mid) > price:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def contract(expiry, right, strike, bid, ask, volume, oi, iv, delta=None):
    c = {"symbol": "SPY%d%s%08d" % (expiry % 1000000, right[0].upper(), round(strike * 1000)), "right": right,
         "expiry": expiry, "strike": strike, "bid": bid, "ask": ask, "volume": volume, "open_interest": oi, "iv": iv}
    if delta is not None:
        c["delta"] = delta
    return c


chain = [
    contract(20261120, "call", 498, 3.60, 3.70, 5000, 20000, 0.48),   # in the money: otm
    contract(20261120, "call", 500, 2.30, 2.36, 8000, 30000, 0.45),   # delta ~0.50: delta
    contract(20261120, "call", 501.5, 1.50, 1.58, 300, 90, 0.43, 0.30),     # open interest 90: open_interest
    contract(20261120, "call", 502.25, 1.00, 1.70, 300, 5000, 0.43, 0.30),  # spread 0.70 / 1.35: spread
    contract(20261120, "call", 502.5, 1.18, 1.24, 4200, 12000, 0.42),  # survivor
    contract(20261120, "call", 503, 0.97, 1.03, 900, 800, 0.0),        # no IV: implied from the mid 1.00
    contract(20261120, "call", 503.5, 0.70, 0.90, 60, 150, 0.40, 0.25),  # survivor with the provider's delta 0.25
    contract(20261120, "call", 504, 0.62, 0.66, 2500, 9000, 0.41),     # survivor
    contract(20261120, "call", 504.5, 0.04, 0.06, 300, 5000, 0.20, 0.20),  # bid below 0.05
    contract(20261120, "call", 507, 0.10, 0.12, 300, 5000, 0.40),      # delta ~0.08: delta
    contract(20261120, "call", 516, 0.10, 0.12, 300, 5000, 0.66, 0.20),  # 3.2 % out: otm
    contract(20261120, "put", 500, 2.25, 2.31, 8000, 30000, 0.45),     # put
    contract(20261123, "call", 505, 2.00, 2.10, 800, 3000, 0.30),      # a later expiry: expiry
    contract(20261119, "call", 502, 0.01, 0.02, 10, 100, 0.18),        # expired: expiry
]


def evaluate(c):
    if c["right"] != "call":
        return None, "put"
    if c["expiry"] < TODAY or c["expiry"] > TODAY + PARAMS["max_days"]:
        return None, "expiry"
    k, bid, ask = c["strike"], c["bid"], c["ask"]
    t = YEARS[c["expiry"]]
    otm = (k - S) / S
    if otm < PARAMS["min_otm_pct"] / 100 or otm > PARAMS["max_otm_pct"] / 100:
        return None, "otm"
    mid = (bid + ask) / 2
    iv = c["iv"] if c["iv"] > 0 else implied(mid, S, k, t)
    delta = c["delta"] if "delta" in c else N(d1d2(S, k, t, iv)[0])
    if delta < PARAMS["delta_lo"] or delta > PARAMS["delta_hi"]:
        return None, "delta"
    if bid < PARAMS["min_bid"]:
        return None, "bid"
    if c["open_interest"] < PARAMS["min_open_interest"]:
        return None, "open_interest"
    if (ask - bid) / mid > PARAMS["max_spread_to_mid"]:
        return None, "spread"
    breakeven = S - bid
    pop = N(d1d2(S, breakeven, t, iv)[1])
    prob_otm = N(-d1d2(S, k, t, iv)[1])
    ev = bid - call_value(S, k, t, iv)
    yld = bid / S
    spread = ask - bid
    liquidity = (10 * min(1, math.log10(c["volume"] + 1) / 3) + 5 * min(1, math.log10(c["open_interest"] + 1) / 4)
                 + max(0, 5 - 10 * spread / bid))
    confidence = min(40, yld * 20000) + 40 * pop + liquidity
    warnings = (yld < 0.001) + (pop < 0.5) + (c["volume"] < 100) + (c["open_interest"] < 1000) + (spread / bid > 0.2)
    return {"contract": c["symbol"], "iv": iv, "delta": delta, "premium_yield": yld, "breakeven": breakeven,
            "max_profit": k - S + bid, "pop": pop, "prob_otm": prob_otm, "ev": ev, "confidence": confidence,
            "liquidity": liquidity, "warnings": int(warnings)}, None


survivors, rejected = [], {}
for c in chain:
    record, why = evaluate(c)
    if record:
        survivors.append(record)
    else:
        rejected[why] = rejected.get(why, 0) + 1
ranked = sorted(survivors, key=lambda r: (-r["confidence"], r["contract"]))
json.dump({"price": S, "today": TODAY, "years": {str(k): v for k, v in YEARS.items()}, "params": PARAMS,
           "chain": chain, "ranked": ranked, "rejected": rejected}, __import__("sys").stdout, indent=1)
print()
