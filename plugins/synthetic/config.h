// Configuration of the synthetic market: the JSON object the host passes to
// create(), parsed strictly (unknown keys and bad values are errors naming
// the key), with every default in this one place.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace th::synthetic {

struct SymbolOverride {
  std::optional<double> price;       // first reference price (previous close of session 0)
  std::optional<double> volatility;  // annualised, e.g. 0.25
  std::optional<double> volume;      // mean shares per minute
};

struct Config {
  uint64_t seed = 1;
  int64_t start_day = 0;  // set from kDefaultStartDate by parseConfig
  uint64_t sessions = 0;  // 0 = unlimited
  std::map<std::string, SymbolOverride, std::less<>> symbols;
  double trades_per_minute = 60.0;
  int strike_count = 10;     // strikes each side of the money
  int expiry_days = 5;       // consecutive daily expiries, today's (0-DTE) first
  int monthly_expiries = 3;  // third-Friday expiries after those
  double smile_skew = 0.08;
  double smile_curvature = 0.02;
};

inline constexpr std::string_view kDefaultStartDate = "2026-11-16";

// Parses the config text (empty text means all defaults). Throws th::Error
// (TH_ERR_INVALID_ARGUMENT) with "synthetic: config key '<key>': <reason>".
Config parseConfig(std::string_view text);

// Symbols are 1-21 characters of A-Z, 0-9, '.', '-' and '/'. Throws th::Error
// (TH_ERR_INVALID_ARGUMENT) naming the symbol otherwise.
void checkSymbol(std::string_view symbol);

}  // namespace th::synthetic
