#include "paper_config.h"

#include <th/plugin.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

namespace th::paper {
namespace {

using Json = nlohmann::json;

[[noreturn]] void badKey(std::string_view key, const std::string& what) {
  throw Error(TH_ERR_INVALID_ARGUMENT, "paper: config key '" + std::string(key) + "': " + what);
}

// The offending value in the message, cut short so a huge value stays readable.
std::string shown(const Json& value) {
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

double number(std::string_view key, const Json& value, double min, double max, bool min_inclusive = true) {
  if (!value.is_number()) badKey(key, "must be a number, got " + shown(value));
  double x = value.get<double>();
  bool above = min_inclusive ? x >= min : x > min;
  if (!std::isfinite(x) || !above || x > max) {
    std::string range = std::string(min_inclusive ? "[" : "(") + Json(min).dump() + ", " + Json(max).dump() + "]";
    badKey(key, "must be in " + range + ", got " + shown(value));
  }
  return x;
}

std::string text(std::string_view key, const Json& value, size_t max_length) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    badKey(key, "must be a non-empty string, got " + shown(value));
  }
  const auto& s = value.get_ref<const std::string&>();
  if (s.size() > max_length) badKey(key, "must be at most " + std::to_string(max_length) + " characters");
  return s;
}

}  // namespace

PaperConfig parsePaperConfig(std::string_view json_text) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw Error(TH_ERR_INVALID_ARGUMENT, std::string("paper: config is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw Error(TH_ERR_INVALID_ARGUMENT, "paper: config must be a JSON object");

  constexpr double kHuge = 1e15;
  PaperConfig config;
  for (const auto& [key, value] : root.items()) {
    if (key == "state_file") {
      config.state_file = text(key, value, 4096);
    } else if (key == "account_id") {
      // th_account.account_id holds 63 characters and a NUL.
      config.account_id = text(key, value, 63);
    } else if (key == "starting_cash") {
      config.starting_cash = number(key, value, 0, kHuge);
    } else if (key == "latency_ms") {
      // Capped at a day so that submit time + latency cannot overflow.
      config.latency_ns = std::llround(number(key, value, 0, 86'400'000) * 1e6);
    } else if (key == "commission_per_share") {
      config.commission_per_share = number(key, value, 0, 1e6);
    } else if (key == "commission_per_contract") {
      config.commission_per_contract = number(key, value, 0, 1e6);
    } else if (key == "slippage_ticks") {
      config.slippage_ticks = number(key, value, 0, 1e6);
    } else if (key == "tick_size") {
      config.tick_size = number(key, value, 0, 1e6, false);
    } else if (key == "participation") {
      config.participation = number(key, value, 0, 1, false);
    } else if (key == "allow_short") {
      if (!value.is_boolean()) badKey(key, "must be true or false, got " + shown(value));
      config.allow_short = value.get<bool>();
    } else if (key == "reject_symbols") {
      if (!value.is_array()) badKey(key, "must be an array of symbols, got " + shown(value));
      for (const auto& symbol : value) config.reject_symbols.insert(text(key, symbol, 64));
    } else {
      badKey(key,
             "unknown key (known: state_file, account_id, starting_cash, latency_ms, "
             "commission_per_share, commission_per_contract, slippage_ticks, tick_size, "
             "participation, allow_short, reject_symbols)");
    }
  }
  return config;
}

}  // namespace th::paper
