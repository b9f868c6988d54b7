// ASCII case for symbols, enum names and query values.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace th {

// An id that becomes a store key, a folder name and log text (a strategy's,
// a plugin's): 1-64 characters of a-z, 0-9, _ and -. Nothing that could
// climb a path (../x), break a line or hide in a log.
inline bool isSafeId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

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
