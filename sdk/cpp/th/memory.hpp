// tradehost C++ helper for large arrays (header-only, C++17 or later).
//
// An array of tens of megabytes that is filled once and then read (a year of
// minute bars) costs a page fault per 4 KiB as it fills: about 12,000 for
// 50 MB. Backed by 2 MiB pages it costs 25. Linux gives a process such pages
// where it asks for them (transparent huge pages in "madvise" mode, the
// usual default); elsewhere the advice is ignored and nothing changes.
#ifndef TH_MEMORY_HPP
#define TH_MEMORY_HPP

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace th {

// Advises huge pages for the whole 2 MiB pages inside [data, data + bytes).
// Pages already touched keep their size: advise before filling.
inline void preferHugePages(const void* data, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto at = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (at + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (at + bytes) & ~(kHuge - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

// list.reserve(count), with the new room advised before the elements move in.
template <class T>
void reserveLarge(std::vector<T>& list, std::size_t count) {
  if (count <= list.capacity()) return;
  std::vector<T> fresh;
  fresh.reserve(count);
  preferHugePages(fresh.data(), fresh.capacity() * sizeof(T));
  fresh.insert(fresh.end(), std::make_move_iterator(list.begin()), std::make_move_iterator(list.end()));
  list.swap(fresh);
}

}  // namespace th

#endif  // TH_MEMORY_HPP
