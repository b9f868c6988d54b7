#include "broker/instrument.h"

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

double contractMultiplier(std::string_view symbol, AssetClass asset_class) {
  return asset_class == AssetClass::Option || isOccSymbol(symbol) ? kOptionMultiplier : 1;
}

}  // namespace th
