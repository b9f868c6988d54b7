#include "core/ids.h"

#include <fmt/format.h>

#include "core/time.h"

namespace th {

int32_t exchangeDate(int64_t utc_ns) { return toExchangeTime(utc_ns).yyyymmdd; }

std::string makeClientOrderId(std::string_view prefix, int32_t yyyymmdd, uint64_t sequence) {
  return fmt::format("{}-{}-{:06}", prefix, yyyymmdd, sequence);
}

}  // namespace th
