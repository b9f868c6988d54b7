// What the commands that talk to a running host share (cmd_trading.cpp,
// cmd_strategy.cpp): the call with its token and exit codes, tables, and
// printing JSON fields as text.
#pragma once

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <expected>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "cli/commands.h"
#include "core/json.h"

namespace th {

using nlohmann::json;

// Long enough for a kill switch that cancels many orders through a slow broker.
inline constexpr std::chrono::milliseconds kCallTimeout{30'000};

// ---- text ----------------------------------------------------------------

// A number without trailing zeros: 100, 0.5, 500.25 (at most `decimals` places).
inline std::string number(double value, int decimals = 4) {
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

inline std::string money(double value) { return value == 0 ? "0.00" : fmt::format("{:.2f}", value); }

// A field as text, whatever its JSON type; "" when missing or null. The
// host's shapes may grow or omit fields, and the CLI prints what is there.
inline std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return number(it->get<double>());
  return it->dump();
}

inline std::optional<double> numberOf(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

inline std::string orDash(std::string value) { return value.empty() ? "-" : value; }

// "label:" padded so that the values of a listing line up.
inline void printField(std::string_view label, const std::string& value) {
  std::cout << fmt::format("{:<17}{}\n", fmt::format("{}:", label), value);
}

inline std::string moneyOf(const json& object, const char* key) {
  auto value = numberOf(object, key);
  return value ? money(*value) : "-";
}

inline std::string urlEncode(std::string_view value) {
  std::string out;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// Columns padded to their widest cell; numeric columns aligned right.
class Table {
 public:
  Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
      : rows_{std::move(headers)}, right_(std::move(right_aligned)) {
    right_.resize(rows_[0].size(), false);
  }
  void add(std::vector<std::string> row) {
    row.resize(rows_[0].size());
    rows_.push_back(std::move(row));
  }
  void print(std::ostream& out) const {
    std::vector<size_t> widths(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        bool last = i + 1 == row.size();
        if (i > 0) line += "  ";
        if (right_[i]) {
          line += fmt::format("{:>{}}", row[i], widths[i]);
        } else {
          line += last ? row[i] : fmt::format("{:<{}}", row[i], widths[i]);
        }
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// ---- calling the host ----------------------------------------------------

inline const char* tokenFromEnvironment() {
  const char* token = std::getenv("TRADEHOST_TOKEN");
  return token && *token ? token : nullptr;
}

inline std::string errorReason(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    return parsed["error"].get<std::string>();
  }
  return body.empty() ? std::string("(no reason given)") : body;
}

// The reply, or the exit code after saying on stderr why there is none.
// With `rejection_is_reply`, a 422 is returned as a reply: it carries a
// rejected order to show.
inline std::expected<ApiReply, int> call(const ApiCallOptions& options, const std::string& method,
                                         const std::string& target, const std::string& body = {},
                                         bool rejection_is_reply = false,
                                         std::chrono::milliseconds timeout = kCallTimeout) {
  bool mutating = method != "GET";
  const char* token = tokenFromEnvironment();
  if (mutating && !token) {
    std::cerr << "tradehost: TRADEHOST_TOKEN is not set: the host refuses orders without its bearer token\n";
    return std::unexpected(2);
  }
  auto reply = apiRequest(options.api, method, target, body, token ? token : "", timeout);
  if (!reply) {
    std::cerr << fmt::format("tradehost: {}\n", reply.error().message);
    return std::unexpected(reply.error().code == ErrorCode::InvalidArgument ? 2 : 1);
  }
  if ((reply->status >= 200 && reply->status < 300) || (rejection_is_reply && reply->status == 422)) return *reply;
  std::cerr << fmt::format("tradehost: {} (HTTP {})\n", errorReason(reply->body), reply->status);
  return std::unexpected(reply->status >= 400 && reply->status < 500 ? 2 : 1);
}

// Prints the reply: its JSON as is with --json, else through `print`.
inline int show(const ApiCallOptions& options, const ApiReply& reply, const std::function<void(const json&)>& print) {
  if (options.json) {
    std::cout << reply.body;
    if (reply.body.empty() || reply.body.back() != '\n') std::cout << '\n';
    return 0;
  }
  json parsed = json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) {
    std::cerr << fmt::format("tradehost: the host's answer is not JSON: {}\n", reply.body.substr(0, 200));
    return 1;
  }
  print(parsed);
  return 0;
}

}  // namespace th
