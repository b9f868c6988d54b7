// Message building for replay's errors and logs.
#pragma once

#include <string>
#include <string_view>

namespace th::replay {

// Joins string-like pieces into one string with a single allocation. Used for
// every message instead of chains of `"..." + std::string(...)`, which GCC 12
// at -O3 misreports under -Wrestrict (GCC bug 105329) and -Werror turns into
// a build failure.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ...));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace th::replay
