// Hash maps keyed by symbols (tickers, OCC option symbols), for what is looked
// up on every market event. Symbols are short, so the hash reads them eight
// bytes at a time and the comparison stays inline; lookups take a
// std::string_view without building a string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

namespace th {

struct SymbolHash {
  using is_transparent = void;
  size_t operator()(std::string_view symbol) const noexcept {
    constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;
    uint64_t hash = symbol.size() * kMultiplier;
    const char* p = symbol.data();
    size_t left = symbol.size();
    for (; left >= 8; p += 8, left -= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      hash = (hash ^ word) * kMultiplier;
      hash ^= hash >> 29;
    }
    if (left > 0) {
      uint64_t word = 0;
      for (size_t i = 0; i < left; ++i) word |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
      hash = (hash ^ word) * kMultiplier;
      hash ^= hash >> 29;
    }
    return static_cast<size_t>(hash);
  }
};

struct SymbolEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
};

template <class T>
using SymbolMap = std::unordered_map<std::string, T, SymbolHash, SymbolEqual>;

}  // namespace th
