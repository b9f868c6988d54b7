// ASCII case for symbols, enum names and query values.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace th {

inline std::string uppercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

inline std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The order std::less<> gives text (byte by byte as unsigned char, a prefix
// first), compared inline: maps keyed by symbols, which are short and looked
// up on every bar, spend more on calling memcmp than on comparing.
struct TextLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
    }
    return a.size() < b.size();
  }
};

}  // namespace th
