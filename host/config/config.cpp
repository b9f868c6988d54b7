#include "config/config.h"

#include <fmt/format.h>
#include <th/plugin.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <sstream>

#include "config/yaml_reader.h"
#include "core/files.h"
#include "core/json.h"
#include "core/time.h"

namespace th {
namespace {

// A scalar (or null) as JSON.
nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
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

// A plugin's `config:` as JSON, which has no aliases: each is expanded, so
// a few lines of YAML aliasing aliases (a "billion laughs") would become
// gigabytes. The conversion stops past kMaxConfigValues values or
// kMaxJsonDepth levels, naming where; a key given twice is an error too.
constexpr size_t kMaxConfigValues = 100'000;

struct ConfigToJson {
  const MapReader& reader;
  size_t values = 0;

  nlohmann::json convert(const YAML::Node& node, const std::string& path, int depth) {
    if (++values > kMaxConfigValues) {
      throw reader.error(node, path,
                         fmt::format("more than {} values (aliases expand in full; is one repeated?)", kMaxConfigValues));
    }
    if (depth > kMaxJsonDepth) throw reader.error(node, path, fmt::format("nested deeper than {} levels", kMaxJsonDepth));
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        auto object = nlohmann::json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          if (!it->first.IsScalar()) throw reader.error(it->first, path, "keys must be plain strings");
          const std::string key = it->first.Scalar();
          if (object.contains(key)) throw reader.error(it->first, path + "." + key, "the key appears twice in this mapping");
          object[key] = convert(it->second, path + "." + key, depth + 1);
        }
        return object;
      }
      case YAML::NodeType::Sequence: {
        auto array = nlohmann::json::array();
        for (size_t i = 0; i < node.size(); ++i) {
          array.push_back(convert(node[i], fmt::format("{}[{}]", path, i), depth + 1));
        }
        return array;
      }
      default:
        return toJson(node);
    }
  }
};


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

QualityAction parseAction(const MapReader& reader, const std::string& key, QualityAction fallback) {
  auto text = reader.oneOf(key, fallback == QualityAction::Drop ? "drop" : "flag", {"flag", "drop"});
  return text == "drop" ? QualityAction::Drop : QualityAction::Flag;
}

QualityConfig parseQuality(const MapReader& data, const std::string& source) {
  QualityConfig q;
  if (!data.has("quality")) return q;
  MapReader r(data.node("quality"), "data.quality", source,
              {"out_of_order", "duplicate", "crossed_quote", "stale_quote", "stale_quote_ms", "bad_tick",
               "bad_tick_jump", "bad_tick_window", "bad_tick_min_move_pct"});
  q.out_of_order = parseAction(r, "out_of_order", q.out_of_order);
  q.duplicate = parseAction(r, "duplicate", q.duplicate);
  q.crossed_quote = parseAction(r, "crossed_quote", q.crossed_quote);
  q.stale_quote = parseAction(r, "stale_quote", q.stale_quote);
  q.bad_tick = parseAction(r, "bad_tick", q.bad_tick);
  q.stale_quote_ms = r.integer("stale_quote_ms", q.stale_quote_ms, 1, 86'400'000);
  q.bad_tick_jump = r.number("bad_tick_jump", q.bad_tick_jump, 1, 1e6);
  // Fewer than five trades cannot tell a jump from the range it jumped out of.
  q.bad_tick_window = static_cast<uint32_t>(r.integer("bad_tick_window", q.bad_tick_window, 5, 10'000));
  q.bad_tick_min_move_pct = r.number("bad_tick_min_move_pct", q.bad_tick_min_move_pct, 0, 100);
  return q;
}

void parseChannels(const MapReader& data, const std::string& source, std::vector<ChannelConfig>& channels) {
  if (!data.has("channels")) return;
  std::vector<std::string_view> names;
  for (const auto& c : channels) names.push_back(c.name);
  MapReader lanes(data.node("channels"), "data.channels", source, names);
  for (auto& channel : channels) {
    if (!lanes.has(channel.name)) continue;
    MapReader r(lanes.node(channel.name), lanes.qualified(channel.name), source,
                {"concurrency", "rate_per_s", "max_queued"});
    channel.concurrency = static_cast<uint32_t>(r.integer("concurrency", channel.concurrency, 1, 64));
    channel.rate_per_s = r.number("rate_per_s", channel.rate_per_s, 0, 1e6);
    channel.max_queued = static_cast<size_t>(r.integer("max_queued", int64_t(channel.max_queued), 1, 1'000'000));
  }
}

DataConfig parseData(const MapReader& top, const std::string& source) {
  DataConfig config;
  if (!top.has("data")) return config;
  MapReader data(top.node("data"), "data", source, {"calendar", "quality", "channels"});
  config.calendar = data.string("calendar", config.calendar);
  if (config.calendar.empty()) throw data.error(data.node("calendar"), "data.calendar", "expected builtin or a path");
  // A relative calendar path belongs to the config file, not to wherever the
  // host happens to be started from. Sources in <angle brackets> are not files.
  if (config.calendar != "builtin" && !source.starts_with('<')) {
    std::filesystem::path path(config.calendar);
    if (path.is_relative()) config.calendar = (std::filesystem::path(source).parent_path() / path).string();
  }
  config.quality = parseQuality(data, source);
  parseChannels(data, source, config.channels);
  return config;
}

ChartConfig parseChart(const MapReader& top, const std::string& source, const std::set<std::string>& plugin_ids) {
  ChartConfig config;
  if (!top.has("chart")) return config;
  MapReader chart(top.node("chart"), "chart", source,
                  {"provider", "capacity", "outside_session", "stale_after_s", "backfill_sessions", "final_grace_ms",
                   "max_symbols"});
  config.provider = chart.string("provider", config.provider);
  if (!config.provider.empty() && !plugin_ids.contains(config.provider)) {
    throw chart.error(chart.node("provider"), "chart.provider",
                      fmt::format("no plugin with id '{}' is configured", config.provider));
  }
  config.capacity = static_cast<size_t>(chart.integer("capacity", int64_t(config.capacity), 10, 10'000'000));
  config.max_symbols = static_cast<size_t>(chart.integer("max_symbols", int64_t(config.max_symbols), 1, 100'000));
  config.outside_session =
      chart.oneOf("outside_session", config.outside_session == OutsideSession::Keep ? "keep" : "drop",
                  {"drop", "keep"}) == "keep"
          ? OutsideSession::Keep
          : OutsideSession::Drop;
  config.stale_after_s = chart.integer("stale_after_s", config.stale_after_s, 1, 86'400);
  config.backfill_sessions = static_cast<int32_t>(chart.integer("backfill_sessions", config.backfill_sessions, 0, 60));
  config.final_grace_ms = chart.integer("final_grace_ms", config.final_grace_ms, 0, 60'000);
  return config;
}

// Every key of a risk limits mapping, in the order of RiskLimits.
const std::vector<std::string_view>& riskLimitKeys() {
  static const std::vector<std::string_view> keys = {
      "max_order_quantity", "max_order_notional",    "max_position_notional", "max_gross_exposure",
      "max_open_orders",    "max_orders_per_minute", "price_collar_pct",      "regular_hours_only",
      "duplicate_window_s", "daily_loss_limit",      "max_drawdown",          "cool_down_after_losses",
      "cool_down_minutes"};
  return keys;
}

// A limit of zero or less would refuse every order (or mean nothing), so it
// is a mistake rather than a way to switch a limit off: leaving the key out
// does that.
std::optional<double> positiveLimit(const MapReader& reader, const std::string& key) {
  if (!reader.has(key)) return std::nullopt;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  double value = reader.number(key, 0, -kInfinity, kInfinity);
  if (!std::isfinite(value) || value <= 0) {
    throw reader.error(reader.node(key), reader.qualified(key),
                       fmt::format("must be a number more than 0, got '{}'", reader.node(key).Scalar()));
  }
  return value;
}

std::optional<uint32_t> countLimit(const MapReader& reader, const std::string& key) {
  if (!reader.has(key)) return std::nullopt;
  return static_cast<uint32_t>(reader.integer(key, 0, 1, 1'000'000));
}

struct LooserKey {
  std::string_view key;
  std::string message;
};

// `more_is_stricter`: a longer duplicate window or cool-down refuses more,
// and so does regular_hours_only true over false.
template <typename T>
std::optional<LooserKey> looser(std::string_view key, const std::optional<T>& global, const std::optional<T>& strategy,
                                bool more_is_stricter = false) {
  if (!global || !strategy) return std::nullopt;
  const bool loose = more_is_stricter ? *strategy < *global : *strategy > *global;
  if (!loose) return std::nullopt;
  return LooserKey{key, fmt::format("{} is looser than the global {}", *strategy, *global)};
}

// The first key of `strategy` that loosens `global`, or a cool-down key
// that would do nothing because its partner is set nowhere.
std::optional<LooserKey> firstLooserKey(const RiskLimits& global, const RiskLimits& strategy) {
  for (auto found : {
           looser("max_order_quantity", global.max_order_quantity, strategy.max_order_quantity),
           looser("max_order_notional", global.max_order_notional, strategy.max_order_notional),
           looser("max_position_notional", global.max_position_notional, strategy.max_position_notional),
           looser("max_gross_exposure", global.max_gross_exposure, strategy.max_gross_exposure),
           looser("max_open_orders", global.max_open_orders, strategy.max_open_orders),
           looser("max_orders_per_minute", global.max_orders_per_minute, strategy.max_orders_per_minute),
           looser("price_collar_pct", global.price_collar_pct, strategy.price_collar_pct),
           looser("regular_hours_only", global.regular_hours_only, strategy.regular_hours_only, true),
           looser("duplicate_window_s", global.duplicate_window_s, strategy.duplicate_window_s, true),
           looser("daily_loss_limit", global.daily_loss_limit, strategy.daily_loss_limit),
           looser("max_drawdown", global.max_drawdown, strategy.max_drawdown),
           looser("cool_down_after_losses", global.cool_down_after_losses, strategy.cool_down_after_losses),
           looser("cool_down_minutes", global.cool_down_minutes, strategy.cool_down_minutes, true),
       }) {
    if (found) return found;
  }
  const bool has_losses = strategy.cool_down_after_losses || global.cool_down_after_losses;
  const bool has_minutes = strategy.cool_down_minutes || global.cool_down_minutes;
  if (strategy.cool_down_after_losses && !has_minutes) {
    return LooserKey{"cool_down_after_losses", "needs cool_down_minutes, here or in the global limits"};
  }
  if (strategy.cool_down_minutes && !has_losses) {
    return LooserKey{"cool_down_minutes", "needs cool_down_after_losses, here or in the global limits"};
  }
  return std::nullopt;
}

LossAction parseLossAction(const MapReader& reader, const std::string& key, LossAction fallback) {
  auto text = reader.oneOf(key, fallback == LossAction::Halted ? "halted" : "reducing", {"reducing", "halted"});
  return text == "halted" ? LossAction::Halted : LossAction::Reducing;
}

RiskConfig parseRisk(const MapReader& top, const std::string& source) {
  RiskConfig config;
  if (!top.has("risk")) return config;
  MapReader risk(
      top.node("risk"), "risk", source,
      {"check_buying_power", "require_covered_calls", "loss_action", "drawdown_action", "limits", "strategies"});
  config.check_buying_power = risk.boolean("check_buying_power", config.check_buying_power);
  config.require_covered_calls = risk.boolean("require_covered_calls", config.require_covered_calls);
  config.loss_action = parseLossAction(risk, "loss_action", config.loss_action);
  config.drawdown_action = parseLossAction(risk, "drawdown_action", config.drawdown_action);
  if (risk.has("limits")) {
    config.limits = parseRiskLimits(risk.node("limits"), "risk.limits", source);
    const auto& limits = config.limits;
    if (limits.cool_down_after_losses.has_value() != limits.cool_down_minutes.has_value()) {
      const std::string key = limits.cool_down_minutes ? "cool_down_minutes" : "cool_down_after_losses";
      MapReader reader(risk.node("limits"), "risk.limits", source, riskLimitKeys());
      throw reader.error(reader.node(key), reader.qualified(key),
                         "cool_down_after_losses and cool_down_minutes go together");
    }
  }
  if (risk.has("strategies")) {
    auto strategies = risk.node("strategies");
    if (!strategies.IsMap()) {
      throw risk.error(strategies, "risk.strategies", "expected a mapping of strategy id to limits");
    }
    for (auto it = strategies.begin(); it != strategies.end(); ++it) {
      if (!it->first.IsScalar() || it->first.Scalar().empty()) {
        throw risk.error(it->first, "risk.strategies", "strategy ids must be plain, non-empty strings");
      }
      const std::string id = it->first.Scalar();
      const std::string path = fmt::format("risk.strategies.{}", id);
      RiskLimits limits = parseRiskLimits(it->second, path, source);
      if (auto found = firstLooserKey(config.limits, limits)) {
        MapReader reader(it->second, path, source, riskLimitKeys());
        const std::string key(found->key);
        throw reader.error(reader.node(key), reader.qualified(key), found->message);
      }
      config.strategies[id] = limits;
    }
  }
  return config;
}

}  // namespace

Result<void> checkTighter(const RiskLimits& global, const RiskLimits& strategy, const std::string& where) {
  if (auto found = firstLooserKey(global, strategy)) {
    return fail(ErrorCode::InvalidArgument, fmt::format("{}.{}: {}", where, found->key, found->message));
  }
  return {};
}

RiskLimits parseRiskLimits(const YAML::Node& node, const std::string& path, const std::string& source) {
  MapReader reader(node, path, source, riskLimitKeys());
  RiskLimits limits;
  limits.max_order_quantity = positiveLimit(reader, "max_order_quantity");
  limits.max_order_notional = positiveLimit(reader, "max_order_notional");
  limits.max_position_notional = positiveLimit(reader, "max_position_notional");
  limits.max_gross_exposure = positiveLimit(reader, "max_gross_exposure");
  limits.max_open_orders = countLimit(reader, "max_open_orders");
  limits.max_orders_per_minute = countLimit(reader, "max_orders_per_minute");
  limits.price_collar_pct = positiveLimit(reader, "price_collar_pct");
  if (reader.has("regular_hours_only")) limits.regular_hours_only = reader.boolean("regular_hours_only", true);
  limits.duplicate_window_s = positiveLimit(reader, "duplicate_window_s");
  limits.daily_loss_limit = positiveLimit(reader, "daily_loss_limit");
  limits.max_drawdown = positiveLimit(reader, "max_drawdown");
  limits.cool_down_after_losses = countLimit(reader, "cool_down_after_losses");
  limits.cool_down_minutes = positiveLimit(reader, "cool_down_minutes");
  return limits;
}

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
  YAML::Node root = loadYaml(text, source);
  HostConfig config;
  config.source = source;
  MapReader top(root, "", source,
                {"schema", "host", "clock", "api", "store", "plugins", "subscriptions", "data", "chart", "risk",
                 "strategies"});
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
    MapReader api(top.node("api"), "api", source,
                  {"listen", "max_body_bytes", "max_frame_bytes", "max_clients", "max_connections",
                   "max_queued_messages", "max_queued_bytes", "max_resyncs_per_minute"});
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
    config.max_connections =
        static_cast<size_t>(api.number("max_connections", double(config.max_connections), 1, 100000));
    config.max_queued_messages =
        static_cast<size_t>(api.number("max_queued_messages", double(config.max_queued_messages), 16, 1 << 20));
    config.max_queued_bytes =
        static_cast<size_t>(api.number("max_queued_bytes", double(config.max_queued_bytes), 64 << 10, 1 << 30));
    config.max_resyncs_per_minute =
        static_cast<size_t>(api.number("max_resyncs_per_minute", double(config.max_resyncs_per_minute), 0, 1000));
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
      auto body = entry.has("config") ? ConfigToJson{entry}.convert(entry.node("config"), entry.qualified("config"), 0)
                                      : nlohmann::json::object();
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
  config.data = parseData(top, source);
  config.chart = parseChart(top, source, ids);
  config.risk = parseRisk(top, source);
  if (top.has("strategies")) {
    MapReader strategies(top.node("strategies"), "strategies", source, {"dir", "sdk", "watch"});
    // Like host.var_dir, relative to the working directory.
    config.strategies.dir = strategies.string("dir", config.strategies.dir);
    if (config.strategies.dir.empty()) {
      throw strategies.error(strategies.node("dir"), "strategies.dir", "expected a folder");
    }
    config.strategies.sdk = strategies.string("sdk", "");
    config.strategies.watch = strategies.boolean("watch", false);
  }
  return config;
}
}  // namespace

HostConfig loadHostConfig(const std::string& path) {
  auto text = readWholeFile(path, kMaxYamlBytes);
  if (!text) throw ConfigError(fmt::format("cannot read the configuration file: {}", text.error().message));
  return parseHostConfig(*text, path);
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
