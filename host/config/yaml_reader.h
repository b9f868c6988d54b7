// Strict reading of one YAML mapping, shared by every YAML file the host
// loads (config/host.yaml, config/calendar.yaml): unknown keys are errors,
// and every error names the file, the line, the column and the dotted key
// path ("host.yaml:3:3: api.lisen: unknown key (...)").
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace th {

// The largest YAML file the host reads (a configuration, a calendar).
inline constexpr uintmax_t kMaxYamlBytes = 1u << 20;

// Parses a whole YAML document; a syntax error becomes a ConfigError naming
// `source`, the line and the column.
inline YAML::Node loadYaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        fmt::format("{}:{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, const std::string& source,
            std::initializer_list<std::string_view> allowed)
      : MapReader(node, std::move(path), source, std::vector<std::string_view>(allowed)) {}

  MapReader(const YAML::Node& node, std::string path, const std::string& source,
            const std::vector<std::string_view>& allowed)
      : node_(node), path_(std::move(path)), source_(source) {
    if (!node.IsMap()) throw error(node, path_.empty() ? "the document" : path_, "expected a mapping");
    std::vector<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar())
        throw error(it->first, path_.empty() ? "the document" : path_, "keys must be plain strings");
      auto key = it->first.Scalar();
      // YAML readers disagree on which of two equal keys wins; it is an error here.
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        throw error(it->first, qualified(key), "the key appears twice in this mapping");
      }
      seen.push_back(key);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string expected;
        for (auto a : allowed) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", a);
        throw error(it->first, qualified(key), fmt::format("unknown key (expected one of: {})", expected));
      }
    }
  }

  bool has(const std::string& key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }
  YAML::Node node(const std::string& key) const { return node_[key]; }
  std::string qualified(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  ConfigError error(const YAML::Node& at, const std::string& key, const std::string& message) const {
    auto mark = at.Mark();
    return ConfigError(fmt::format("{}:{}:{}: {}: {}", source_, mark.line + 1, mark.column + 1, key, message));
  }

  std::string string(const std::string& key, std::string fallback) const {
    if (!has(key)) return fallback;
    auto n = node_[key];
    if (!n.IsScalar()) throw error(n, qualified(key), "expected a string");
    return n.as<std::string>();
  }
  std::string requiredString(const std::string& key) const {
    if (!has(key)) throw error(node_, qualified(key), "required key is missing");
    return string(key, "");
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    auto n = node_[key];
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))
      throw error(n, qualified(key), "expected true or false");
    return value;
  }
  double number(const std::string& key, double fallback, double min, double max) const {
    if (!has(key)) return fallback;
    auto n = node_[key];
    auto text = n.IsScalar() ? n.Scalar() : std::string();
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      throw error(n, qualified(key), fmt::format("expected a number, got '{}'", text));
    }
    if (value < min || value > max)
      throw error(n, qualified(key), fmt::format("{} is outside [{}, {}]", text, min, max));
    return value;
  }
  // A number that must be whole (a count, a size, milliseconds).
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
    if (!has(key)) return fallback;
    auto n = node_[key];
    auto text = n.IsScalar() ? n.Scalar() : std::string();
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      throw error(n, qualified(key), fmt::format("expected a whole number, got '{}'", text));
    }
    if (value < min || value > max)
      throw error(n, qualified(key), fmt::format("{} is outside [{}, {}]", text, min, max));
    return value;
  }
  std::string oneOf(const std::string& key, std::string fallback,
                    std::initializer_list<std::string_view> values) const {
    auto value = string(key, fallback);
    if (std::find(values.begin(), values.end(), value) == values.end()) {
      std::string expected;
      for (auto v : values) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", v);
      throw error(node_[key], qualified(key), fmt::format("'{}' is not one of: {}", value, expected));
    }
    return value;
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
};

}  // namespace th
