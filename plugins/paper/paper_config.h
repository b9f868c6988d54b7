// Configuration of one paper broker instance, parsed strictly from the JSON
// object the host passes to create(). Every default lives here; an unknown
// key or a bad value is an error that names the key.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace th::paper {

struct PaperConfig {
  std::string state_file;  // empty: an in-memory account that is not persisted
  std::string account_id = "paper";
  double starting_cash = 100000;
  int64_t latency_ns = 0;  // from latency_ms
  double commission_per_share = 0;
  double commission_per_contract = 0.65;
  double slippage_ticks = 0;
  double tick_size = 0.01;
  double participation = 1.0;
  bool allow_short = true;
  std::set<std::string, std::less<>> reject_symbols;

  double slippage() const { return slippage_ticks * tick_size; }
};

// Throws th::Error(TH_ERR_INVALID_ARGUMENT, "paper: config key 'x': ...").
PaperConfig parsePaperConfig(std::string_view json_text);

}  // namespace th::paper
