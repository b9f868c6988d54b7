// tradehost plugin list | inspect | check.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/json.h"
#include "core/time.h"
#include "plugin/conformance.h"
#include "plugin/plugin.h"

namespace th {
namespace {

nlohmann::json infoJson(const PluginInfo& info) {
  nlohmann::json j = {{"path", info.path},
                      {"id", info.id},
                      {"name", info.name},
                      {"version", info.version},
                      {"description", info.description},
                      {"kind", kindName(info.kind)},
                      {"abi", fmt::format("{}.{}", info.abi_major, info.abi_minor)},
                      {"descriptor_size", info.descriptor_size},
                      {"table_size", info.table_size},
                      {"functions", info.functions}};
  if (info.kind == TH_KIND_BROKER) j["capabilities"] = capabilityNames(info.capabilities);
  return j;
}

// 10:00 exchange time on the most recent weekday before now: a time when a
// simulated market is open and has 30 minutes of history behind it.
int64_t defaultCheckTime() {
  int64_t now = WallClock().nowNs();
  for (int back = 1; back <= 7; ++back) {
    int64_t day = now - back * 86'400'000'000'000LL;
    auto local = toExchangeTime(day);
    int32_t ymd = local.yyyymmdd;
    int64_t ten = fromExchangeTime(ymd, 10, 0);
    // Day of week from the epoch day (1970-01-01 was a Thursday).
    int64_t epoch_day = ten / 86'400'000'000'000LL;
    int weekday = static_cast<int>((epoch_day + 4) % 7);  // 0 = Sunday
    if (weekday != 0 && weekday != 6) return ten;
  }
  return now;
}

}  // namespace

int pluginListCommand(const PluginListOptions& options) {
  auto dir = options.dir.empty() ? defaultPluginDir() : options.dir;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so") files.push_back(entry.path().string());
  }
  if (ec) {
    std::cerr << fmt::format("tradehost: cannot read plugin directory {}: {}\n", dir, ec.message());
    return 1;
  }
  std::sort(files.begin(), files.end());
  auto list = nlohmann::json::array();
  int failures = 0;
  if (!options.json) std::cout << fmt::format("{:<12} {:<7} {:<9} {:<5} {}\n", "ID", "KIND", "VERSION", "ABI", "FILE");
  for (const auto& file : files) {
    auto library = PluginLibrary::load(file);
    if (!library) {
      ++failures;
      if (options.json)
        list.push_back({{"path", file}, {"error", library.error().message}});
      else
        std::cout << fmt::format("{:<12} {}\n", "(error)", library.error().message);
      continue;
    }
    const auto& info = (*library)->info();
    if (options.json)
      list.push_back(infoJson(info));
    else
      std::cout << fmt::format("{:<12} {:<7} {:<9} {:<5} {}\n", info.id, kindName(info.kind), info.version,
                               fmt::format("{}.{}", info.abi_major, info.abi_minor), file);
  }
  if (options.json) std::cout << jsonText(list, 2) << "\n";
  return failures ? 1 : 0;
}

int pluginInspectCommand(const PluginInspectOptions& options) {
  auto library = PluginLibrary::load(options.file);
  if (!library) {
    std::cerr << "tradehost: " << library.error().message << "\n";
    return 1;
  }
  const auto& info = (*library)->info();
  if (options.json) {
    std::cout << jsonText(infoJson(info), 2) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "id:          {}\nname:        {}\nversion:     {}\nkind:        {}\nABI:         {}.{} (host {}.{})\n"
      "description: {}\nfile:        {}\ndescriptor:  {} bytes, function table {} bytes\nfunctions:   {}\n",
      info.id, info.name, info.version, kindName(info.kind), info.abi_major, info.abi_minor, TH_ABI_VERSION_MAJOR,
      TH_ABI_VERSION_MINOR, info.description, info.path, info.descriptor_size, info.table_size,
      fmt::join(info.functions, ", "));
  if (info.kind == TH_KIND_BROKER) std::cout << fmt::format("capabilities: {}\n", capabilityNames(info.capabilities));
  return 0;
}

int pluginCheckCommand(const PluginCheckOptions& options) {
  std::string config = options.config.empty() ? "{}" : options.config;
  if (config.starts_with("@")) {
    auto text = readWholeFile(config.substr(1), 1u << 20);
    if (!text) {
      std::cerr << fmt::format("tradehost: --config: {}\n", text.error().message);
      return 2;
    }
    config = std::move(*text);
  }
  if (!nlohmann::json::accept(config)) {
    std::cerr << "tradehost: --config: not valid JSON\n";
    return 2;
  }
  int64_t at = defaultCheckTime();
  if (!options.at.empty()) {
    auto parsed = parseTime(options.at);
    if (!parsed) {
      std::cerr << "tradehost: --at: " << parsed.error().message << "\n";
      return 2;
    }
    at = *parsed;
  }
  auto report = checkPlugin(options.file, config, options.symbol, at);
  if (!report) {
    std::cerr << "tradehost: " << report.error().message << "\n";
    return 1;
  }
  if (options.json) {
    auto steps = nlohmann::json::array();
    for (const auto& s : report->steps)
      steps.push_back({{"step", s.name}, {"result", toString(s.outcome)}, {"detail", s.detail}});
    std::cout
        << jsonText(nlohmann::json{{"plugin", infoJson(report->info)}, {"steps", steps}, {"passed", report->passed()}}, 2)
        << "\n";
  } else {
    const auto& info = report->info;
    std::cout << fmt::format("{} {} ({} plugin '{}', ABI {}.{})\n", info.name, info.version, kindName(info.kind),
                             info.id, info.abi_major, info.abi_minor);
    if (info.kind == TH_KIND_DATA) std::cout << fmt::format("simulated clock from {}\n", formatExchangeTime(at));
    size_t pass = 0, fail = 0, skip = 0;
    for (const auto& s : report->steps) {
      std::cout << fmt::format("  {}  {}{}\n", toString(s.outcome), s.name, s.detail.empty() ? "" : "  — " + s.detail);
      (s.outcome == CheckStep::Outcome::Pass ? pass : s.outcome == CheckStep::Outcome::Fail ? fail : skip)++;
    }
    std::cout << fmt::format("{} passed, {} failed, {} skipped\n", pass, fail, skip);
  }
  return report->passed() ? 0 : 1;
}

}  // namespace th
