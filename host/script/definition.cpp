#include "script/definition.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_reader.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/text.h"

namespace th {
namespace {

constexpr size_t kMaxFiles = 256;
constexpr size_t kMaxBytes = 4u << 20;

// "09:30" → minutes since midnight; -1 when malformed.
int32_t parseClock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  int hour = 0, minute = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + 2, hour);
  auto [p2, e2] = std::from_chars(text.data() + 3, text.data() + 5, minute);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + 2 || p2 != text.data() + 5) return -1;
  if (hour > 23 || minute > 59) return -1;
  return hour * 60 + minute;
}

std::optional<double> parseNumber(const std::string& text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) return {};
  return value;
}

std::optional<int64_t> parseInteger(const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return {};
  return value;
}

// Converts `text` to the parameter's type and checks bounds and choices;
// the message does not name the parameter (the caller adds where).
Result<ParamValue> convertParam(const ParamSpec& spec, const std::string& text) {
  auto bounds = [&](double v) -> Result<void> {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{} is outside [{}, {}]", text, spec.min ? fmt::format("{}", *spec.min) : "-inf",
                              spec.max ? fmt::format("{}", *spec.max) : "inf"));
    }
    return {};
  };
  switch (spec.type) {
    case ParamType::Number: {
      auto v = parseNumber(text);
      if (!v) return fail(ErrorCode::InvalidArgument, fmt::format("expected a number, got '{}'", text));
      if (auto ok = bounds(*v); !ok) return std::unexpected(ok.error());
      return ParamValue(*v);
    }
    case ParamType::Integer: {
      auto v = parseInteger(text);
      if (!v) return fail(ErrorCode::InvalidArgument, fmt::format("expected a whole number, got '{}'", text));
      if (auto ok = bounds(static_cast<double>(*v)); !ok) return std::unexpected(ok.error());
      return ParamValue(*v);
    }
    case ParamType::Boolean:
      if (text == "true") return ParamValue(true);
      if (text == "false") return ParamValue(false);
      return fail(ErrorCode::InvalidArgument, fmt::format("expected true or false, got '{}'", text));
    case ParamType::String:
      return ParamValue(text);
    case ParamType::Choice:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        std::string list;
        for (const auto& c : spec.choices) list += fmt::format("{}{}", list.empty() ? "" : ", ", c);
        return fail(ErrorCode::InvalidArgument, fmt::format("'{}' is not one of: {}", text, list));
      }
      return ParamValue(text);
  }
  return fail(ErrorCode::InvalidArgument, "unknown parameter type");
}

ParamSpec parseParam(const YAML::Node& node, const std::string& name, const std::string& path,
                     const std::string& source) {
  MapReader reader(node, path, source, {"type", "default", "min", "max", "values", "description"});
  ParamSpec spec;
  spec.name = name;
  auto type = reader.oneOf("type", "number", {"number", "integer", "boolean", "string", "choice"});
  spec.type = type == "integer"   ? ParamType::Integer
              : type == "boolean" ? ParamType::Boolean
              : type == "string"  ? ParamType::String
              : type == "choice"  ? ParamType::Choice
                                  : ParamType::Number;
  spec.description = reader.string("description", "");
  bool numeric = spec.type == ParamType::Number || spec.type == ParamType::Integer;
  for (const char* key : {"min", "max"}) {
    if (!reader.has(key)) continue;
    if (!numeric) throw reader.error(reader.node(key), reader.qualified(key), fmt::format("only for number and integer"));
    double v = reader.number(key, 0, -1e300, 1e300);
    (std::string_view(key) == "min" ? spec.min : spec.max) = v;
  }
  if (spec.min && spec.max && *spec.min > *spec.max) {
    throw reader.error(reader.node("max"), reader.qualified("max"), "is below min");
  }
  if (reader.has("values")) {
    if (spec.type != ParamType::Choice) {
      throw reader.error(reader.node("values"), reader.qualified("values"), "only for type: choice");
    }
    auto values = reader.node("values");
    if (!values.IsSequence() || values.size() == 0) {
      throw reader.error(values, reader.qualified("values"), "expected a non-empty list of strings");
    }
    for (const auto& v : values) {
      if (!v.IsScalar()) throw reader.error(v, reader.qualified("values"), "expected strings");
      spec.choices.push_back(v.Scalar());
    }
  } else if (spec.type == ParamType::Choice) {
    throw reader.error(node, reader.qualified("values"), "required key is missing (the allowed values)");
  }
  if (!reader.has("default")) throw reader.error(node, reader.qualified("default"), "required key is missing");
  auto def = reader.node("default");
  if (!def.IsScalar()) throw reader.error(def, reader.qualified("default"), "expected a single value");
  auto value = convertParam(spec, def.Scalar());
  if (!value) throw reader.error(def, reader.qualified("default"), value.error().message);
  spec.value = std::move(*value);
  return spec;
}

}  // namespace

std::string_view toString(ParamType type) {
  switch (type) {
    case ParamType::Number:
      return "number";
    case ParamType::Integer:
      return "integer";
    case ParamType::Boolean:
      return "boolean";
    case ParamType::String:
      return "string";
    case ParamType::Choice:
      return "choice";
  }
  return "number";
}

const ParamSpec* StrategyDefinition::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool isSemver(std::string_view text) {
  auto pre = text.find('-');
  auto core = text.substr(0, pre);
  int parts = 0;
  size_t start = 0;
  while (start <= core.size()) {
    auto dot = core.find('.', start);
    auto part = core.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 9 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    if (part.size() > 1 && part[0] == '0') return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts != 3) return false;
  if (pre == std::string_view::npos) return true;
  auto rest = text.substr(pre + 1);
  return !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
  });
}

int compareSemver(std::string_view a, std::string_view b) {
  auto split = [](std::string_view v) {
    std::array<long, 3> n{};
    auto pre = v.find('-');
    auto core = v.substr(0, pre);
    size_t i = 0, start = 0;
    while (i < 3 && start <= core.size()) {
      auto dot = core.find('.', start);
      auto part = core.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      std::from_chars(part.data(), part.data() + part.size(), n[i++]);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return std::pair{n, pre == std::string_view::npos ? std::string_view() : v.substr(pre + 1)};
  };
  auto [na, pa] = split(a);
  auto [nb, pb] = split(b);
  if (na != nb) return na < nb ? -1 : 1;
  if (pa == pb) return 0;
  if (pa.empty()) return 1;  // a release ranks above its pre-releases
  if (pb.empty()) return -1;
  return pa < pb ? -1 : 1;
}

Result<StrategyDefinition> parseDefinition(const std::string& text, const std::string& source) {
  try {
    auto root = loadYaml(text, source);
    MapReader top(root, "", source,
                  {"schema", "id", "name", "version", "description", "script", "symbols", "timeframe", "broker",
                   "params", "risk", "schedule", "enabled", "runtime"});
    StrategyDefinition def;
    def.schema = static_cast<int32_t>(top.integer("schema", 0, 1, 1));
    if (!top.has("schema")) throw top.error(root, "schema", "required key is missing (schema: 1)");
    def.id = top.requiredString("id");
    if (!isSafeId(def.id)) {
      throw top.error(top.node("id"), "id", fmt::format("'{}' must be 1-64 characters of a-z, 0-9, _ and -", def.id));
    }
    auto expected = std::filesystem::path(source).stem().string();
    if (!source.empty() && source.front() != '<' && expected != def.id) {
      throw top.error(top.node("id"), "id", fmt::format("'{}' does not match the file name {}.yaml", def.id, expected));
    }
    def.name = top.string("name", def.id);
    def.description = top.string("description", "");
    def.version = top.requiredString("version");
    if (!isSemver(def.version)) {
      throw top.error(top.node("version"), "version", fmt::format("'{}' is not a semantic version (1.2.3)", def.version));
    }
    def.script = top.string("script", def.id + ".lua");
    if (def.script.empty() || def.script.find("..") != std::string::npos || def.script.front() == '/' ||
        !def.script.ends_with(".lua")) {
      throw top.error(top.node("script"), "script", "must be a .lua file inside the strategy's folder");
    }
    if (!top.has("symbols")) throw top.error(root, "symbols", "required key is missing");
    auto symbols = top.node("symbols");
    if (!symbols.IsSequence() || symbols.size() == 0) {
      throw top.error(symbols, "symbols", "expected a non-empty list of symbols");
    }
    for (const auto& s : symbols) {
      if (!s.IsScalar() || s.Scalar().empty() || s.Scalar().size() > 31) {
        throw top.error(s, "symbols", "each symbol is a ticker or an OCC option symbol");
      }
      if (std::find(def.symbols.begin(), def.symbols.end(), s.Scalar()) != def.symbols.end()) {
        throw top.error(s, "symbols", fmt::format("'{}' is listed twice", s.Scalar()));
      }
      def.symbols.push_back(s.Scalar());
    }
    auto tf = top.oneOf("timeframe", "1m", {"1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d"});
    def.timeframe = *parseTimeframe(tf);
    def.broker = top.string("broker", "");
    def.enabled = top.boolean("enabled", true);
    if (top.has("params")) {
      auto params = top.node("params");
      if (!params.IsMap()) throw top.error(params, "params", "expected a mapping of parameter name to its spec");
      for (auto it = params.begin(); it != params.end(); ++it) {
        auto name = it->first.IsScalar() ? it->first.Scalar() : std::string();
        if (!isSafeId(name) || name.find('-') != std::string::npos) {
          throw top.error(it->first, "params", fmt::format("'{}' is not a valid parameter name (a-z, 0-9, _)", name));
        }
        // YAML readers disagree on which of two equal keys wins; it is an error here.
        if (def.param(name)) throw top.error(it->first, "params." + name, "the key appears twice in this mapping");
        def.params.push_back(parseParam(it->second, name, "params." + name, source));
      }
    }
    if (top.has("risk")) def.risk = parseRiskLimits(top.node("risk"), "risk", source);
    if (top.has("schedule")) {
      MapReader schedule(top.node("schedule"), "schedule", source, {"start", "end"});
      for (const char* key : {"start", "end"}) {
        if (!schedule.has(key)) continue;
        auto value = schedule.string(key, "");
        int32_t minute = parseClock(value);
        if (minute < 0) {
          throw schedule.error(schedule.node(key), schedule.qualified(key),
                               fmt::format("'{}' is not an exchange time HH:MM", value));
        }
        (std::string_view(key) == "start" ? def.schedule.start_minute : def.schedule.end_minute) = minute;
      }
      if (def.schedule.start_minute >= 0 && def.schedule.end_minute >= 0 &&
          def.schedule.start_minute >= def.schedule.end_minute) {
        throw schedule.error(schedule.node("end"), "schedule.end", "must be after schedule.start");
      }
    }
    if (top.has("runtime")) {
      MapReader rt(top.node("runtime"), "runtime", source,
                   {"memory_mb", "callback_budget_ms", "max_errors", "error_window_s", "max_consecutive_errors",
                    "max_subscriptions", "max_timers", "max_signals_per_minute", "max_signal_bytes",
                    "max_marks_per_minute", "on_fault", "warmup_bars"});
      def.runtime.memory_bytes = static_cast<size_t>(rt.integer("memory_mb", 64, 1, 4096)) << 20;
      def.runtime.budget_ms = rt.integer("callback_budget_ms", def.runtime.budget_ms, 1, 60'000);
      def.runtime.max_errors = static_cast<uint32_t>(rt.integer("max_errors", def.runtime.max_errors, 1, 1'000'000));
      def.runtime.error_window_s = rt.integer("error_window_s", def.runtime.error_window_s, 1, 86'400);
      def.runtime.max_consecutive_errors = static_cast<uint32_t>(
          rt.integer("max_consecutive_errors", def.runtime.max_consecutive_errors, 1, 1'000'000));
      auto quota = [&](const char* key, uint32_t& value, int64_t max) {
        value = static_cast<uint32_t>(rt.integer(key, value, 0, max));
      };
      quota("max_subscriptions", def.runtime.max_subscriptions, 10'000);
      quota("max_timers", def.runtime.max_timers, 100'000);
      quota("max_signals_per_minute", def.runtime.max_signals_per_minute, 100'000);
      quota("max_signal_bytes", def.runtime.max_signal_bytes, 1 << 20);
      quota("max_marks_per_minute", def.runtime.max_marks_per_minute, 100'000);
      def.runtime.on_fault = rt.oneOf("on_fault", "cancel", {"cancel", "keep"}) == "keep" ? FaultPolicy::Keep
                                                                                            : FaultPolicy::Cancel;
      def.runtime.warmup_bars = static_cast<uint32_t>(rt.integer("warmup_bars", def.runtime.warmup_bars, 0, 100'000));
    }
    return def;
  } catch (const ConfigError& e) {
    return fail(ErrorCode::InvalidArgument, e.what());
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

Result<void> setParam(StrategyDefinition& definition, const std::string& name, const std::string& text) {
  for (auto& spec : definition.params) {
    if (spec.name != name) continue;
    auto value = convertParam(spec, text);
    if (!value) return fail(ErrorCode::InvalidArgument, fmt::format("params.{}: {}", name, value.error().message));
    spec.value = std::move(*value);
    return {};
  }
  return fail(ErrorCode::InvalidArgument, fmt::format("params.{}: {} has no such parameter", name, definition.id));
}

std::string sourceDigest(const std::map<std::string, std::string>& files) {
  std::string all;
  for (const auto& [name, text] : files) {
    all += fmt::format("{}\n{}\n", name, text.size());
    all += text;
  }
  return sha256Hex(all);
}

std::string StrategySource::origin(const std::string& name) const {
  if (!dir.empty()) return (std::filesystem::path(dir) / name).string();
  return fmt::format("{}@{}/{}", id, sha256.substr(0, 12), name);
}

Result<StrategySource> readStrategyFolder(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path yaml = path;
  if (fs::is_directory(yaml, ec)) yaml = yaml / (yaml.filename().string() + ".yaml");
  if (yaml.filename().empty()) yaml = fs::path(path).parent_path() / (fs::path(path).parent_path().filename().string() + ".yaml");
  if (!fs::is_regular_file(yaml, ec)) {
    return fail(ErrorCode::NotFound, fmt::format("{}: no such strategy definition", yaml.string()));
  }
  StrategySource source;
  source.dir = yaml.parent_path().string();
  if (source.dir.empty()) source.dir = ".";
  source.id = yaml.stem().string();
  source.definition_name = yaml.filename().string();
  size_t total = 0;
  auto read = [&](const fs::path& file, const std::string& name) -> Result<void> {
    auto text = readWholeFile(file, kMaxBytes);
    if (!text) return std::unexpected(text.error());
    total += text->size();
    if (total > kMaxBytes || source.files.size() >= kMaxFiles) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{}: the strategy's files exceed {} files or {} MiB", source.dir, kMaxFiles, kMaxBytes >> 20));
    }
    source.files[name] = std::move(*text);
    return {};
  };
  if (auto ok = read(yaml, source.definition_name); !ok) return std::unexpected(ok.error());
  for (auto it = fs::recursive_directory_iterator(source.dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".lua") continue;
    auto name = fs::relative(it->path(), source.dir).generic_string();
    if (auto ok = read(it->path(), name); !ok) return std::unexpected(ok.error());
  }
  if (ec) return fail(ErrorCode::Io, fmt::format("{}: {}", source.dir, ec.message()));
  source.sha256 = sourceDigest(source.files);
  return source;
}

}  // namespace th
