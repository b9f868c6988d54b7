// A map keyed by symbols (tickers, OCC option symbols), for what is looked up
// on every market event. Symbols are short, so the hash reads them eight
// bytes at a time; the table is open-addressed, so a lookup is the hash, a
// probe or two, and one inline comparison; lookups take a std::string_view
// (a th_bar's symbol) without building a string.
//
// Entries live in one array in insertion order and are never erased one by
// one (clear() empties the map). Inserting may move them: keep no pointer or
// reference to a value across an insertion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace th {

struct SymbolHash {
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

// a == b, compared inline: a call to memcmp costs more than comparing a symbol.
inline bool sameSymbol(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

template <class T>
class SymbolMap {
 public:
  using value_type = std::pair<std::string, T>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    hashes_.clear();
    slots_.clear();
  }

  iterator find(std::string_view symbol) { return entries_.begin() + static_cast<std::ptrdiff_t>(indexOf(symbol)); }
  const_iterator find(std::string_view symbol) const {
    return entries_.begin() + static_cast<std::ptrdiff_t>(indexOf(symbol));
  }
  bool contains(std::string_view symbol) const { return indexOf(symbol) != entries_.size(); }

  // Adds `symbol` with T(args...) unless it is there; the entry and whether it was added.
  template <class... Args>
  std::pair<iterator, bool> try_emplace(std::string_view symbol, Args&&... args) {
    const size_t hash = SymbolHash{}(symbol);
    if (size_t at = indexOf(symbol, hash); at != entries_.size()) {
      return {entries_.begin() + static_cast<std::ptrdiff_t>(at), false};
    }
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    entries_.emplace_back(std::piecewise_construct, std::forward_as_tuple(symbol),
                          std::forward_as_tuple(std::forward<Args>(args)...));
    hashes_.push_back(hash);
    place(entries_.size() - 1);
    return {entries_.end() - 1, true};
  }
  T& operator[](std::string_view symbol) { return try_emplace(symbol).first->second; }

 private:
  size_t indexOf(std::string_view symbol) const { return indexOf(symbol, SymbolHash{}(symbol)); }
  size_t indexOf(std::string_view symbol, size_t hash) const {
    if (slots_.empty()) return entries_.size();
    const size_t mask = slots_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const uint32_t entry = slots_[slot];
      if (entry == 0) return entries_.size();
      if (hashes_[entry - 1] == hash && sameSymbol(entries_[entry - 1].first, symbol)) return entry - 1;
    }
  }
  void place(size_t index) {
    const size_t mask = slots_.size() - 1;
    size_t slot = hashes_[index] & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = static_cast<uint32_t>(index + 1);
  }
  void grow() {
    slots_.assign(slots_.empty() ? 16 : slots_.size() * 2, 0);
    for (size_t i = 0; i < entries_.size(); ++i) place(i);
  }

  std::vector<value_type> entries_;
  std::vector<size_t> hashes_;   // SymbolHash of each entry's symbol
  std::vector<uint32_t> slots_;  // entry index + 1 (0: empty); a power of two, at most half full
};

}  // namespace th
