// Option chains of the synthetic market: OCC symbols, the expiry and strike
// grids, a volatility smile, Black-Scholes values and greeks, and quotes,
// volume and open interest around them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar.h"
#include "config.h"

namespace th::synthetic {

class MarketModel;

// An OCC option symbol, compact form: root (1-6 of A-Z, 0-9), YYMMDD, C or P,
// strike in thousandths as 8 digits, e.g. "SPY261120C00590000".
struct OccContract {
  std::string root;
  int64_t expiry_day;
  int32_t right;         // TH_OPTION_CALL / TH_OPTION_PUT
  int64_t strike_milli;  // strike in thousandths of a dollar
};

bool isOccSymbol(std::string_view symbol);
std::optional<OccContract> parseOcc(std::string_view symbol);
std::string occSymbol(std::string_view root, int64_t expiry_day, int32_t right, int64_t strike_milli);

struct BlackScholesValue {
  double price;
  double delta;
  double gamma;
  double theta;  // per calendar day
  double vega;   // per 1.00 of volatility
};

// European option, zero rate, no dividends; `years` and `vol` must be > 0.
BlackScholesValue blackScholes(int32_t right, double spot, double strike, double years, double vol);

// Strike spacing for an underlying price, in thousandths of a dollar.
int64_t strikeStepMilli(double spot);

// Expiry dates listed at `as_of_ns`: `daily` consecutive sessions starting
// with today while today's session has not closed, then `monthly` standard
// third-Friday expiries (the Thursday before when that Friday is a holiday).
std::vector<int64_t> listedExpiries(const TradingCalendar& calendar, int64_t as_of_ns, int daily, int monthly);

struct OptionRow {
  std::string symbol;
  int32_t right;
  int64_t expiry_day;
  double strike;
  double theoretical;
  double bid, ask, last;
  double volume, open_interest;
  double implied_vol;
  double delta, gamma, theta, vega;
};

struct ChainSnapshot {
  double spot;
  int64_t as_of_ns;
  std::vector<OptionRow> rows;  // by expiry, then strike, call before put
};

ChainSnapshot buildChain(const Config& config, const TradingCalendar& calendar, const MarketModel& model,
                         std::string_view underlying, int64_t as_of_ns);

}  // namespace th::synthetic
