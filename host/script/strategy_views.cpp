// The strategy service's read side: JSON for the API and CLI, and the
// offline validation of a strategy folder.
#include <fmt/format.h>

#include <filesystem>

#include "core/json.h"
#include "core/time.h"
#include "script/instance.h"
#include "script/lua_engine.h"
#include "script/strategy_service.h"

namespace th {

// ------------------------------------------------------------------- views --

nlohmann::json StrategyService::entryJson(const StrategyEntry& entry) const {
  nlohmann::json j = {{"id", entry.id},
                      {"status", toString(entry.status)},
                      {"enabled", entry.enabled},
                      {"reloading", entry.reloading != nullptr},
                      {"handled", entry.handled},
                      {"handled_total", entry.handled_total},
                      {"errors", entry.errors_total},
                      {"reloads", entry.reloads},
                      {"open_timers", entry.timers.size()}};
  if (!entry.reason.empty()) j["reason"] = entry.reason;
  if (!entry.last_error.empty()) j["last_error"] = entry.last_error.substr(0, entry.last_error.find('\n'));
  if (!entry.definition.version.empty()) {
    const auto& def = entry.definition;
    j["name"] = def.name;
    j["version"] = def.version;
    j["sha256"] = entry.source.sha256;
    j["version_number"] = entry.version_number;
    j["pinned"] = entry.pinned;
    j["symbols"] = def.symbols;
    j["timeframe"] = timeframeName(def.timeframe);
    j["loaded_at"] = entry.loaded_ns ? formatExchangeTime(entry.loaded_ns) : "";
    auto params = nlohmann::json::object();
    for (const auto& p : def.params) {
      std::visit([&](const auto& v) { params[p.name] = v; }, p.value);
    }
    j["params"] = std::move(params);
  }
  if (entry.instance) {
    j["memory_bytes"] = entry.instance->memoryUsed();
    j["memory_limit_bytes"] = entry.definition.runtime.memory_bytes;
  }
  return j;
}

std::string StrategyService::signalsJson(const std::string& strategy, const std::string& symbol, size_t limit) const {
  auto list = nlohmann::json::array();
  for (const auto& signal : recent_signals_) {
    if (list.size() >= limit) break;
    if (!strategy.empty() && signal.value("strategy", std::string()) != strategy) continue;
    if (!symbol.empty() && signal.value("symbol", std::string()) != symbol) continue;
    list.push_back(signal);
  }
  return jsonText(nlohmann::json{{"signals", std::move(list)}});
}

std::array<size_t, kStrategyStatusCount> StrategyService::statusCounts() const {
  std::array<size_t, kStrategyStatusCount> counts{};
  for (const auto& [id, entry] : entries_) ++counts[static_cast<size_t>(entry->status)];
  return counts;
}

std::vector<std::string> StrategyService::summaryLines() const {
  std::vector<std::string> lines;
  auto* broker = host_.broker();
  for (const auto& [id, entry] : entries_) {
    // Counters, not a scan of the orders: this runs on the core thread.
    const double pnl = broker ? broker->book(entry->definition.broker).strategySummary(id).net : 0;
    lines.push_back(fmt::format("strategy {} {}: {} signal(s), {} order(s), {} fill(s), P&L {:+.2f}{}", id,
                                toString(entry->status), entry->signals, entry->orders, entry->fills, pnl,
                                entry->status == StrategyStatus::Running ? "" : " (" + entry->reason + ")"));
  }
  if (!checklists_.empty()) {
    std::string grades;
    for (const auto& [key, record] : checklists_) {
      grades += fmt::format("{}{} {}", grades.empty() ? "" : ", ", key, record.value("grade", std::string("?")));
    }
    lines.push_back("checklist grades: " + grades);
  }
  return lines;
}

std::string StrategyService::listJson() const {
  auto list = nlohmann::json::array();
  for (const auto& [id, entry] : entries_) list.push_back(entryJson(*entry));
  return jsonText(nlohmann::json{{"strategies", std::move(list)}});
}

Result<std::string> StrategyService::strategyJson(const std::string& id) const {
  auto* entry = find(id);
  if (!entry) return fail(ErrorCode::NotFound, fmt::format("no strategy '{}'", id));
  auto j = entryJson(*entry);
  if (entry->instance) {
    auto state = entry->instance->state();
    j["state"] = state ? *state : nlohmann::json(state.error().message);
  }
  auto timers = nlohmann::json::array();
  for (const auto& t : entry->timers) {
    timers.push_back({{"id", t.id}, {"at", formatExchangeTime(t.at_ns)}, {"tag", t.tag}});
  }
  j["timers"] = std::move(timers);
  return jsonText(j);
}

}  // namespace th

namespace th {

std::string defaultSdkLuaDir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/bin/tradehost in a source tree; <prefix>/bin/tradehost installed.
    for (const auto& candidate : {exe.parent_path().parent_path().parent_path() / "sdk" / "lua",
                                  exe.parent_path().parent_path() / "share" / "tradehost" / "sdk" / "lua"}) {
      if (fs::is_directory(candidate / "th", ec)) return candidate.string();
    }
  }
  return "sdk/lua";
}

Result<StrategyValidation> validateStrategy(const std::string& path, const std::string& sdk_dir,
                                            const RiskLimits& global_limits) {
  auto source = readStrategyFolder(path);
  if (!source) return std::unexpected(source.error());
  auto origin = source->origin(source->definition_name);
  auto definition = parseDefinition(source->definitionText(), origin);
  if (!definition) return std::unexpected(definition.error());
  if (definition->id != source->id) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}: id: '{}' is not the file's name '{}'", origin, definition->id, source->id));
  }
  if (auto ok = checkTighter(global_limits, definition->risk, origin + ": risk"); !ok) return std::unexpected(ok.error());
  SdkModules sdk(sdk_dir);
  Watchdog watchdog;
  auto instance = StrategyInstance::create(nullptr, *definition, *source, sdk, &watchdog);
  if (!instance) return std::unexpected(instance.error());
  StrategyValidation report;
  report.definition = std::move(*definition);
  report.sha256 = source->sha256;
  for (size_t i = 0; i < kCallbackCount; ++i) {
    if ((*instance)->has(static_cast<Callback>(i))) report.callbacks.emplace_back(callbackName(static_cast<Callback>(i)));
  }
  for (const auto& [name, text] : source->files) report.files.push_back(name);
  report.memory_bytes = (*instance)->memoryUsed();
  return report;
}

}  // namespace th
