// Prometheus text exposition: the HELP and TYPE lines, and whole counters.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace th {

inline void metricHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// A counter without labels: its header and its one sample.
inline void counterMetric(std::string& out, std::string_view name, std::string_view help, uint64_t value) {
  metricHeader(out, name, "counter", help);
  out += fmt::format("{} {}\n", name, value);
}

}  // namespace th
