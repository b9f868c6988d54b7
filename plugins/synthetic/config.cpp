#include "config.h"

#include <nlohmann/json.hpp>
#include <th/plugin.hpp>

#include "calendar.h"
#include "options.h"

namespace th::synthetic {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(std::string_view key, std::string_view reason) {
  throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: config key '" + std::string(key) + "': " + std::string(reason));
}

double number(const Json& value, std::string_view key, double min, double max, bool min_inclusive) {
  if (!value.is_number()) fail(key, "must be a number");
  double x = value.get<double>();
  if ((min_inclusive ? x < min : x <= min) || x > max) {
    fail(key, std::string("must be ") + (min_inclusive ? ">= " : "> ") + Json(min).dump() +
                  " and <= " + Json(max).dump() + ", got " + value.dump());
  }
  return x;
}

int64_t integer(const Json& value, std::string_view key, int64_t min, int64_t max) {
  if (!value.is_number_integer()) fail(key, "must be an integer");
  // Non-negative literals parse as unsigned; both fit int64 within the bounds checked.
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max)) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + value.dump());
  }
  int64_t x = value.get<int64_t>();
  if (x < min || x > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + value.dump());
  }
  return x;
}

int64_t date(const Json& value, std::string_view key) {
  if (!value.is_string()) fail(key, "must be a date string \"YYYY-MM-DD\"");
  std::optional<int64_t> day = parseDate(value.get<std::string>());
  if (!day) {
    fail(key, "must be a real date \"YYYY-MM-DD\" in " + std::to_string(kFirstYear) + ".." + std::to_string(kLastYear) +
                  ", got " + value.dump());
  }
  return *day;
}

SymbolOverride symbolOverride(const Json& value, const std::string& key) {
  if (!value.is_object()) fail(key, "must be an object with price, volatility and/or volume");
  SymbolOverride out;
  for (const auto& [name, item] : value.items()) {
    std::string item_key = key + "." + name;
    if (name == "price") {
      out.price = number(item, item_key, 0.01, 1e6, true);
    } else if (name == "volatility") {
      out.volatility = number(item, item_key, 0.0, 5.0, false);
    } else if (name == "volume") {
      out.volume = number(item, item_key, 0.0, 1e9, false);
    } else {
      fail(item_key, "unknown key (expected price, volatility or volume)");
    }
  }
  return out;
}

}  // namespace

void checkSymbol(std::string_view symbol) {
  bool ok = !symbol.empty() && symbol.size() <= 21;
  for (char c : symbol) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/');
  }
  if (!ok) {
    throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: symbol '" + std::string(symbol) +
                                             "' is not valid (1-21 characters of A-Z, 0-9, '.', '-', '/')");
  }
}

Config parseConfig(std::string_view text) {
  Config config;
  config.start_day = *parseDate(kDefaultStartDate);
  bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) return config;

  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw Error(TH_ERR_INVALID_ARGUMENT, std::string("synthetic: config is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: config must be a JSON object");

  for (const auto& [key, value] : root.items()) {
    if (key == "seed") {
      if (!value.is_number_unsigned()) fail(key, "must be an unsigned 64-bit integer");
      config.seed = value.get<uint64_t>();
    } else if (key == "start_date") {
      config.start_day = date(value, key);
    } else if (key == "sessions") {
      config.sessions = static_cast<uint64_t>(integer(value, key, 0, 1'000'000));
    } else if (key == "symbols") {
      if (!value.is_object()) fail(key, "must be an object keyed by symbol");
      for (const auto& [symbol, item] : value.items()) {
        std::string item_key = key + "." + symbol;
        try {
          checkSymbol(symbol);
        } catch (const Error& e) {
          fail(item_key, e.what());
        }
        if (isOccSymbol(symbol)) fail(item_key, "option symbols are priced from their underlying");
        config.symbols[symbol] = symbolOverride(item, item_key);
      }
    } else if (key == "trades_per_minute") {
      config.trades_per_minute = number(value, key, 0.0, 1000.0, false);
    } else if (key == "strike_count") {
      config.strike_count = static_cast<int>(integer(value, key, 1, 200));
    } else if (key == "expiry_days") {
      config.expiry_days = static_cast<int>(integer(value, key, 0, 60));
    } else if (key == "monthly_expiries") {
      config.monthly_expiries = static_cast<int>(integer(value, key, 0, 24));
    } else if (key == "smile_skew") {
      config.smile_skew = number(value, key, 0.0, 1.0, true);
    } else if (key == "smile_curvature") {
      config.smile_curvature = number(value, key, 0.0, 1.0, true);
    } else {
      fail(key,
           "unknown key (expected seed, start_date, sessions, symbols, trades_per_minute, strike_count, "
           "expiry_days, monthly_expiries, smile_skew, smile_curvature)");
    }
  }
  return config;
}

}  // namespace th::synthetic
