// Instruments: what the host knows of a symbol from its text alone. An
// option is named by its OCC symbol (SPY261120C00590000; the strict form
// pads the root to six characters with spaces, the compact form used
// everywhere here has none) and is 100 shares a contract. The one place
// the order path, risk, the broker service, the strategies and the router
// ask; parsing itself is the SDK's (sdk/cpp/th/occ.hpp), shared with plugins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/order.h"

namespace th {

// Shares per option contract.
inline constexpr double kOptionMultiplier = 100;

// True for an OCC option symbol (root padded or not: roots of 1-6
// characters, yymmdd, C or P, strike × 1000 in 8 digits).
bool isOccSymbol(std::string_view symbol);
// The compact form: the padding spaces removed.
std::string compactOcc(std::string_view symbol);

// The underlying root of an OCC symbol ("SPY" for SPY261120C00590000),
// whether it is a call, and its expiry; nullopt for anything that is not an
// OCC symbol.
struct OccParts {
  std::string underlying;
  bool call = false;
  int32_t expiry = 0;  // yyyymmdd
};
std::optional<OccParts> parseOcc(std::string_view symbol);

// What is wrong with a symbol as the host takes it at its edges (orders,
// subscriptions, chart requests), or nullopt: an equity is 1-16 of A-Z, 0-9,
// '.', '-' and '/' starting with a letter (SPY, BRK.B, BF-B, BTC/USD), or
// with '^' for an index (^SPX); an option is an OCC symbol. Nothing else (a newline, a NUL, 10 KB) enters
// the host's keys, files and logs.
std::optional<std::string> symbolProblem(std::string_view symbol);

// The largest quantity and price an order may carry; beyond them a number
// is a unit or scaling error.
inline constexpr double kMaxOrderQuantity = 1e9;
inline constexpr double kMaxPrice = 1e9;
// Fractional equity quantities go to nine decimal places, no finer.
inline constexpr double kQuantityStep = 1e-9;

// The multiplier of a symbol: kOptionMultiplier for options (by asset
// class or by an OCC symbol), 1 otherwise.
double contractMultiplier(std::string_view symbol, AssetClass asset_class);

}  // namespace th
