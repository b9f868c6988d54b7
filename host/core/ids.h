// Identifiers the host assigns. A client order id is unique per account for
// the life of the store: "<prefix>-<yyyymmdd>-<sequence>", where the sequence
// comes from the store and is persisted before the id is used, so a restart
// can never hand out the same id twice.
#pragma once

#include <cstdint>
#include <string>

namespace th {

// yyyymmdd of a UTC nanosecond time, in America/New_York.
int32_t exchangeDate(int64_t utc_ns);

std::string makeClientOrderId(std::string_view prefix, int32_t yyyymmdd, uint64_t sequence);

}  // namespace th
