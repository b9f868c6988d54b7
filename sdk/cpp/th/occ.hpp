// tradehost C++ helper for OCC option symbols (header-only, C++17 or later).
//
// The compact form the ABI uses for option contracts: the root (1 to 6 of
// A-Z and 0-9), the expiry as YYMMDD, C or P, and the strike in thousandths
// of a dollar as 8 digits. "SPY261120C00590000" is the SPY call of
// 2026-11-20 at 590.00.
#ifndef TH_OCC_HPP
#define TH_OCC_HPP

#include <th/plugin.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace th {

struct OccSymbol {
  std::string_view root;    // the underlying's ticker for standard contracts
  int32_t expiry_yyyymmdd;  // e.g. 20261120
  int32_t right;            // TH_OPTION_CALL or TH_OPTION_PUT
  int64_t strike_milli;     // the strike in thousandths of a dollar

  double strike() const { return static_cast<double>(strike_milli) / 1000.0; }
};

// The parts of `symbol`, or nothing when it is not an OCC symbol (a stock
// ticker, say). The root views `symbol`'s characters.
inline std::optional<OccSymbol> parseOccSymbol(std::string_view symbol) {
  if (symbol.size() < 16 || symbol.size() > 21) return std::nullopt;
  const size_t root_len = symbol.size() - 15;
  auto digits = [&](size_t from, size_t count, int64_t& out) {
    out = 0;
    for (size_t i = from; i < from + count; ++i) {
      if (symbol[i] < '0' || symbol[i] > '9') return false;
      out = out * 10 + (symbol[i] - '0');
    }
    return true;
  };
  for (size_t i = 0; i < root_len; ++i) {
    const char c = symbol[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return std::nullopt;
  }
  int64_t yy = 0, mm = 0, dd = 0, strike = 0;
  if (!digits(root_len, 2, yy) || !digits(root_len + 2, 2, mm) || !digits(root_len + 4, 2, dd) ||
      !digits(root_len + 7, 8, strike)) {
    return std::nullopt;
  }
  const char right = symbol[root_len + 6];
  if ((right != 'C' && right != 'P') || mm < 1 || mm > 12 || dd < 1 || dd > 31) return std::nullopt;
  return OccSymbol{symbol.substr(0, root_len), static_cast<int32_t>((2000 + yy) * 10000 + mm * 100 + dd),
                   right == 'C' ? TH_OPTION_CALL : TH_OPTION_PUT, strike};
}

}  // namespace th

#endif  // TH_OCC_HPP
