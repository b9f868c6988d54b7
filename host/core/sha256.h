// SHA-256 (FIPS 180-4), used to identify a strategy version by its content.
#pragma once

#include <string>
#include <string_view>

namespace th {

// The digest of `data` as 64 lowercase hex characters.
std::string sha256Hex(std::string_view data);

}  // namespace th
