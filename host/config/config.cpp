#include "config/config.h"

#include <fmt/format.h>
#include <th/plugin.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/json.h"
#include <set>
#include <sstream>

#include "core/time.h"

namespace th {
namespace {

// Reads one YAML mapping strictly: unknown keys are errors, every error names
// the file, the line and the dotted key path.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, const std::string& source,
            std::initializer_list<std::string_view> allowed)
      : node_(node), path_(std::move(path)), source_(source) {
    if (!node.IsMap()) throw error(node, path_.empty() ? "the document" : path_, "expected a mapping");
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) throw error(it->first, path_.empty() ? "the document" : path_, "keys must be plain strings");
      auto key = it->first.Scalar();
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

nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      auto object = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) object[it->first.as<std::string>()] = toJson(it->second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      auto array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(toJson(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      // A quoted scalar ("7") stays a string; a plain one is typed the way a
      // YAML reader would expect.
      if (node.Tag() == "!") return text;
      if (text == "true" || text == "false") return text == "true";
      int64_t integer = 0;
      auto [iptr, iec] = std::from_chars(text.data(), text.data() + text.size(), integer);
      if (!text.empty() && iec == std::errc() && iptr == text.data() + text.size()) return integer;
      double real = 0;
      auto [dptr, dec] = std::from_chars(text.data(), text.data() + text.size(), real);
      if (!text.empty() && dec == std::errc() && dptr == text.data() + text.size()) return real;
      return text;
    }
    default:
      return nullptr;
  }
}

uint32_t parseStreams(const MapReader& reader, const std::string& key) {
  if (!reader.has(key)) return TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M;
  auto n = reader.node(key);
  if (!n.IsSequence()) throw reader.error(n, reader.qualified(key), "expected a list of trades, quotes, bars");
  uint32_t mask = 0;
  for (const auto& item : n) {
    auto s = item.IsScalar() ? item.Scalar() : std::string();
    if (s == "trades")
      mask |= TH_STREAM_TRADES;
    else if (s == "quotes")
      mask |= TH_STREAM_QUOTES;
    else if (s == "bars")
      mask |= TH_STREAM_BARS_1M;
    else
      throw reader.error(item, reader.qualified(key), fmt::format("unknown stream '{}' (trades, quotes, bars)", s));
  }
  return mask;
}

}  // namespace

std::pair<std::string, uint16_t> parseListen(const std::string& text, const std::string& what) {
  auto colon = text.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon > 0) {
    auto digits = std::string_view(text).substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) port = -1;
  }
  if (port < 0 || port > 65535) {
    throw ConfigError(fmt::format("{}: expected HOST:PORT (e.g. 127.0.0.1:8080), got '{}'", what, text));
  }
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

namespace {
HostConfig parseHostConfigUnchecked(const std::string& text, const std::string& source);
}  // namespace

HostConfig parseHostConfig(const std::string& text, const std::string& source) {
  // Every yaml-cpp failure, including conversions the checks above missed,
  // still reaches the user with the file, line and column.
  try {
    return parseHostConfigUnchecked(text, source);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

namespace {
HostConfig parseHostConfigUnchecked(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        fmt::format("{}:{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  HostConfig config;
  config.source = source;
  MapReader top(root, "", source, {"schema", "host", "clock", "api", "store", "plugins", "subscriptions"});
  if (top.number("schema", 1, 1, 1) != 1) throw top.error(root["schema"], "schema", "only schema 1 is known");

  if (top.has("host")) {
    MapReader host(top.node("host"), "host", source, {"var_dir", "log_level"});
    config.var_dir = host.string("var_dir", config.var_dir);
    config.log_level = host.oneOf("log_level", config.log_level, {"trace", "debug", "info", "warn", "error"});
  }
  if (top.has("clock")) {
    MapReader clock(top.node("clock"), "clock", source, {"mode", "start", "speed"});
    config.simulated = clock.oneOf("mode", "simulated", {"simulated", "live"}) == "simulated";
    if (clock.has("start")) {
      auto start = parseTime(clock.string("start", ""));
      if (!start) throw clock.error(clock.node("start"), "clock.start", start.error().message);
      config.clock_start_ns = *start;
    }
    config.speed = clock.number("speed", config.speed, 0, 1e7);
  }
  if (top.has("api")) {
    MapReader api(top.node("api"), "api", source, {"listen", "max_body_bytes", "max_frame_bytes", "max_clients"});
    if (api.has("listen")) {
      try {
        std::tie(config.api_host, config.api_port) = parseListen(api.string("listen", ""), "api.listen");
      } catch (const ConfigError&) {
        throw api.error(api.node("listen"), "api.listen",
                        fmt::format("expected HOST:PORT (e.g. 127.0.0.1:8080), got '{}'", api.string("listen", "")));
      }
    }
    config.max_body_bytes =
        static_cast<size_t>(api.number("max_body_bytes", double(config.max_body_bytes), 1024, 1 << 30));
    config.max_frame_bytes =
        static_cast<size_t>(api.number("max_frame_bytes", double(config.max_frame_bytes), 1024, 1 << 30));
    config.max_clients = static_cast<size_t>(api.number("max_clients", double(config.max_clients), 1, 100000));
  }
  if (top.has("store")) {
    MapReader store(top.node("store"), "store", source, {"dir", "sync_orders"});
    config.store_dir = store.string("dir", config.store_dir);
    config.sync_orders = store.boolean("sync_orders", config.sync_orders);
  }
  std::set<std::string> ids;
  if (top.has("plugins")) {
    auto list = top.node("plugins");
    if (!list.IsSequence()) throw top.error(list, "plugins", "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], fmt::format("plugins[{}]", i), source, {"id", "library", "config"});
      PluginConfig plugin;
      plugin.id = entry.requiredString("id");
      plugin.library = entry.string("library", plugin.id);
      if (!ids.insert(plugin.id).second) {
        throw entry.error(entry.node("id"), entry.qualified("id"), fmt::format("duplicate plugin id '{}'", plugin.id));
      }
      auto body = entry.has("config") ? toJson(entry.node("config")) : nlohmann::json::object();
      if (!body.is_object()) throw entry.error(entry.node("config"), entry.qualified("config"), "expected a mapping");
      plugin.config_json = jsonText(body);
      config.plugins.push_back(std::move(plugin));
    }
  }
  if (top.has("subscriptions")) {
    auto list = top.node("subscriptions");
    if (!list.IsSequence()) throw top.error(list, "subscriptions", "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], fmt::format("subscriptions[{}]", i), source, {"provider", "symbols", "streams"});
      SubscriptionConfig sub;
      sub.provider = entry.requiredString("provider");
      if (!ids.contains(sub.provider)) {
        throw entry.error(entry.node("provider"), entry.qualified("provider"),
                          fmt::format("no plugin with id '{}' is configured", sub.provider));
      }
      auto symbols = entry.node("symbols");
      if (!symbols.IsSequence() || symbols.size() == 0) {
        throw entry.error(symbols.IsDefined() ? symbols : list[i], entry.qualified("symbols"),
                          "expected a non-empty list");
      }
      for (const auto& s : symbols) {
        if (!s.IsScalar() || s.Scalar().empty()) {
          throw entry.error(s, entry.qualified("symbols"), "each symbol must be a plain, non-empty string");
        }
        sub.symbols.push_back(s.Scalar());
      }
      sub.streams = parseStreams(entry, "streams");
      config.subscriptions.push_back(std::move(sub));
    }
  }
  return config;
}
}  // namespace

HostConfig loadHostConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the configuration file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseHostConfig(buffer.str(), path);
}

void expandVariables(HostConfig& config) {
  for (auto& plugin : config.plugins) {
    std::string& text = plugin.config_json;
    for (size_t pos = text.find("${var}"); pos != std::string::npos; pos = text.find("${var}", pos)) {
      // The JSON is re-escaped so a var dir with quotes cannot break it.
      std::string escaped = jsonText(nlohmann::json(config.var_dir));
      escaped = escaped.substr(1, escaped.size() - 2);
      text.replace(pos, 6, escaped);
      pos += escaped.size();
    }
  }
}

}  // namespace th
