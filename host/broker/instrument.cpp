#include "broker/instrument.h"

#include <fmt/format.h>

#include <th/occ.hpp>

#include <algorithm>

namespace th {

bool isOccSymbol(std::string_view symbol) {
  // Asked of every quote a session marks: the compact form needs no copy.
  if (symbol.find(' ') == std::string_view::npos) return parseOccSymbol(symbol).has_value();
  return parseOccSymbol(compactOcc(symbol)).has_value();
}

std::string compactOcc(std::string_view symbol) {
  std::string compact(symbol);
  std::erase(compact, ' ');
  return compact;
}

std::optional<OccParts> parseOcc(std::string_view symbol) {
  const std::string compact = compactOcc(symbol);
  const auto occ = parseOccSymbol(compact);
  if (!occ) return std::nullopt;
  return OccParts{std::string(occ->root), occ->right == TH_OPTION_CALL, occ->expiry_yyyymmdd};
}

std::optional<std::string> symbolProblem(std::string_view symbol) {
  constexpr size_t kMaxEquity = 16;
  auto shown = [&] {
    std::string text;
    for (char c : symbol.substr(0, 24)) {
      const auto u = static_cast<unsigned char>(c);
      text += (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return symbol.size() > 24 ? text + "..." : text;
  };
  if (symbol.empty()) return std::string("missing");
  if (isOccSymbol(symbol)) return std::nullopt;
  if (symbol.size() > kMaxEquity) {
    return fmt::format("'{}' is {} characters: a symbol has at most {} (or is an OCC option symbol)", shown(),
                       symbol.size(), kMaxEquity);
  }
  const std::string_view body = symbol.front() == '^' ? symbol.substr(1) : symbol;
  if (body.empty() || body.front() < 'A' || body.front() > 'Z') {
    return fmt::format("'{}' does not start with a letter A-Z", shown());
  }
  for (char c : body) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/')) {
      return fmt::format("'{}' has a character other than A-Z, 0-9, '.', '-' and '/'", shown());
    }
  }
  return std::nullopt;
}

double contractMultiplier(std::string_view symbol, AssetClass asset_class) {
  return asset_class == AssetClass::Option || isOccSymbol(symbol) ? kOptionMultiplier : 1;
}

}  // namespace th
