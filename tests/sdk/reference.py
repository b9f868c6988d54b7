#!/usr/bin/env python3
"""Writes reference.json: inputs and expected values for sdk_test.

An independent implementation of the STRATEGIES.md definitions (Python 3,
float64, math.erf for the normal distribution), written from the text of
STRATEGIES.md and not from the Lua library. Run it from this folder:
    python3 reference.py > reference.json
"""
import json
import math

# 80 bars of a deterministic walk (a linear congruential generator), prices in cents.
state = 12345
def rand():
    global state
    state = (1103515245 * state + 12345) % 2**31
    return state / 2**31

bars = []
close = 100.0
for i in range(80):
    open_ = round(close + (rand() - 0.5) * 1.0, 2)
    close = round(open_ + (rand() - 0.5) * 3.0, 2)
    high = round(max(open_, close) + rand() * 1.5, 2)
    low = round(min(open_, close) - rand() * 1.5, 2)
    volume = float(int(1000 + rand() * 9000))
    bars.append({"open": open_, "high": high, "low": low, "close": close, "volume": volume})
closes = [b["close"] for b in bars]

def sma(values, n):
    return [None if i + 1 < n else sum(values[i + 1 - n:i + 1]) / n for i in range(len(values))]

def ema(values, n):
    out, value, alpha = [], None, 2 / (n + 1)
    for i, x in enumerate(values):
        if i + 1 == n:
            value = sum(values[:n]) / n
        elif i + 1 > n:
            value = alpha * x + (1 - alpha) * value
        out.append(value)
    return out

def rsi(values, n):
    out = [None]
    gains = [max(values[i] - values[i - 1], 0) for i in range(1, len(values))]
    losses = [max(values[i - 1] - values[i], 0) for i in range(1, len(values))]
    ag = al = None
    for i in range(len(gains)):
        if i + 1 < n:
            out.append(None)
            continue
        if i + 1 == n:
            ag, al = sum(gains[:n]) / n, sum(losses[:n]) / n
        else:
            ag = (ag * (n - 1) + gains[i]) / n
            al = (al * (n - 1) + losses[i]) / n
        out.append(100.0 if al == 0 else 100 - 100 / (1 + ag / al))
    return out

def atr(bars, n):
    trs = []
    for i, b in enumerate(bars):
        tr = b["high"] - b["low"]
        if i > 0:
            pc = bars[i - 1]["close"]
            tr = max(tr, abs(b["high"] - pc), abs(b["low"] - pc))
        trs.append(tr)
    out, value = [], None
    for i, tr in enumerate(trs):
        if i + 1 == n:
            value = sum(trs[:n]) / n
        elif i + 1 > n:
            value = (value * (n - 1) + tr) / n
        out.append(value)
    return out

def vwap(bars):
    out, pv, vol = [], 0.0, 0.0
    for b in bars:
        price = (b["high"] + b["low"] + b["close"]) / 3
        pv += price * b["volume"]
        vol += b["volume"]
        out.append(pv / vol)
    return out

def rolling(values, n, pick):
    return [pick(values[max(0, i + 1 - n):i + 1]) for i in range(len(values))]

def N(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))

def n_pdf(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

def bs(S, K, T, sigma, r):
    d1 = (math.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    call = S * N(d1) - K * math.exp(-r * T) * N(d2)
    put = K * math.exp(-r * T) * N(-d2) - S * N(-d1)
    gamma = n_pdf(d1) / (S * sigma * math.sqrt(T))
    vega = S * n_pdf(d1) * math.sqrt(T)
    call_theta = -S * n_pdf(d1) * sigma / (2 * math.sqrt(T)) - r * K * math.exp(-r * T) * N(d2)
    put_theta = -S * n_pdf(d1) * sigma / (2 * math.sqrt(T)) + r * K * math.exp(-r * T) * N(-d2)
    return {"d1": d1, "d2": d2, "call": call, "put": put, "call_delta": N(d1), "put_delta": N(d1) - 1,
            "gamma": gamma, "vega": vega, "call_theta": call_theta, "put_theta": put_theta}

cases = [
    # Hull, Options, Futures and Other Derivatives, example 15.6: call 4.76, put 0.81.
    {"S": 42, "K": 40, "T": 0.5, "sigma": 0.2, "r": 0.1},
    # 0-DTE shapes as the covered-call screen meets them (r = 0).
    {"S": 590, "K": 592, "T": 4 * 60 / (365 * 24 * 60), "sigma": 0.14, "r": 0},
    {"S": 590, "K": 593, "T": 30 / (365 * 24 * 60), "sigma": 0.25, "r": 0},
    {"S": 228.4, "K": 200, "T": 30 / 365, "sigma": 0.35, "r": 0.04},
    {"S": 100, "K": 130, "T": 2.0, "sigma": 0.6, "r": 0},
]
for case in cases:
    case.update(bs(case["S"], case["K"], case["T"], case["sigma"], case["r"]))

cdf_points = [-8, -5, -3, -1.96, -1, -0.5, -1e-3, 0, 0.3, 1, 1.645, 2, 2.5, 3, 6]


def main():
    reference = {
        "source": "tests/sdk/reference.py: Python 3 float64, math.erf; Hull example 15.6 for the first option case",
        "bars": bars,
        "sma5": sma(closes, 5),
        "ema10": ema(closes, 10),
        "rsi14": rsi(closes, 14),
        "atr14": atr(bars, 14),
        "vwap": vwap(bars),
        "highest20": rolling([b["high"] for b in bars], 20, max),
        "lowest20": rolling([b["low"] for b in bars], 20, min),
        "norm_cdf": [[x, N(x)] for x in cdf_points],
        "options": cases,
    }
    print(json.dumps(reference, indent=1))


if __name__ == "__main__":
    main()
