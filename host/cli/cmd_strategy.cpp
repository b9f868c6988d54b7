// tradehost strategy list|show|validate|reload|rollback|history|enable|disable,
// and tradehost checklist.
// validate works offline on the files; the others call a running host.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>

#include "cli/api_call.h"
#include "cli/commands.h"
#include "core/text.h"
#include "config/config.h"
#include "script/strategy_service.h"

namespace th {
namespace {

// Reloads warm a version up before they answer.
constexpr std::chrono::milliseconds kReloadTimeout{120'000};

std::string target(const std::string& id, std::string_view action = {}) {
  return fmt::format("/api/v1/strategies/{}{}{}", urlEncode(id), action.empty() ? "" : "/", action);
}

std::string memory(const json& strategy) {
  auto used = numberOf(strategy, "memory_bytes");
  auto limit = numberOf(strategy, "memory_limit_bytes");
  if (!used) return "-";
  // A strategy's heap is often a few dozen KiB against a limit of tens of MiB.
  auto used_text = *used < 1048576 ? fmt::format("{:.0f} KiB", *used / 1024.0) : fmt::format("{:.1f} MiB", *used / 1048576.0);
  return fmt::format("{} of {:.0f} MiB", used_text, limit.value_or(0) / 1048576.0);
}

void printList(const json& reply) {
  Table table({"ID", "VERSION", "STATUS", "SYMBOLS", "TF", "HANDLED", "ERRORS", "RELOADS", "MEMORY", "REASON"},
              {false, false, false, false, false, true, true, true, true, false});
  for (const auto& s : reply.value("strategies", json::array())) {
    std::string symbols;
    for (const auto& symbol : s.value("symbols", json::array())) {
      if (!symbols.empty()) symbols += ',';
      symbols += symbol.get<std::string>();
    }
    std::string status = text(s, "status") + (s.value("reloading", false) ? " (reloading)" : "") +
                         (s.value("pinned", false) ? " (pinned)" : "");
    table.add({text(s, "id"), orDash(text(s, "version")), status, orDash(symbols), orDash(text(s, "timeframe")),
               text(s, "handled_total"), text(s, "errors"), text(s, "reloads"), memory(s),
               text(s, "reason").substr(0, 80)});
  }
  table.print(std::cout);
}

void printStrategy(const json& s) {
  printField("id", text(s, "id"));
  printField("name", orDash(text(s, "name")));
  printField("version", fmt::format("{} (#{}, sha256 {})", orDash(text(s, "version")), text(s, "version_number"),
                                    text(s, "sha256").substr(0, 12)));
  printField("status", text(s, "status") + (s.contains("reason") ? " — " + text(s, "reason") : ""));
  printField("symbols", s.contains("symbols") ? s["symbols"].dump() : "-");
  printField("timeframe", orDash(text(s, "timeframe")));
  printField("loaded", orDash(text(s, "loaded_at")));
  printField("handled", fmt::format("{} by this version, {} since the host started", text(s, "handled"),
                                    text(s, "handled_total")));
  printField("errors", text(s, "errors") + (s.contains("last_error") ? " (last: " + text(s, "last_error") + ")" : ""));
  printField("memory", memory(s));
  if (s.contains("changed")) {
    printField("changed", s.value("changed", false) ? "yes" : "no (the files are those of the running version)");
  }
  if (s.contains("swap_pause_us")) {
    printField("swap", fmt::format("core thread paused {} µs; reload took {:.1f} ms", text(s, "swap_pause_us"),
                                   numberOf(s, "total_ms").value_or(0)));
  }
  if (s.contains("params")) printField("params", s["params"].dump());
  if (s.contains("state")) printField("state", s["state"].dump());
  if (s.contains("timers")) {
    for (const auto& t : s["timers"]) printField("timer", fmt::format("{} {}", text(t, "at"), text(t, "tag")));
  }
}

void printHistory(const json& reply) {
  Table table({"#", "VERSION", "SHA256", "RECORDED", "ACTIVE", "FILES"}, {true, false, false, false, false, false});
  for (const auto& v : reply.value("versions", json::array())) {
    std::string files;
    for (const auto& f : v.value("files", json::array())) {
      if (!files.empty()) files += ", ";
      files += f.get<std::string>();
    }
    table.add({text(v, "number"), text(v, "version"), text(v, "sha256").substr(0, 12), text(v, "recorded_at"),
               v.value("active", false) ? "*" : "", files});
  }
  table.print(std::cout);
}

// A criterion's value or threshold: a number, a [lo, hi] range, or named numbers.
std::string measure(const json& value) {
  if (value.is_number()) return number(value.get<double>(), 2);
  if (value.is_array() && value.size() == 2) return fmt::format("{}..{}", measure(value[0]), measure(value[1]));
  if (value.is_object()) {
    std::string out;
    for (const auto& [key, item] : value.items()) {
      if (!out.empty()) out += ", ";
      out += key + " " + measure(item);
    }
    return out;
  }
  return "-";
}

void printChecklist(const json& record) {
  printField("symbol", fmt::format("{} {}", text(record, "symbol"), text(record, "direction")));
  printField("grade", fmt::format("{} ({} of 8)", text(record, "grade"), text(record, "score")));
  printField("price", text(record, "price"));
  printField("scored", fmt::format("{} by {} {}, from {} daily bars", text(record, "time"), text(record, "strategy"),
                                   text(record, "version"), text(record, "bars")));
  Table table({"", "CRITERION", "VALUE", "THRESHOLD", "DETAIL"}, {false, false, true, true, false});
  for (const auto& c : record.value("criteria", json::array())) {
    table.add({c.value("pass", false) ? "pass" : "FAIL", text(c, "name"), measure(c.value("value", json())),
               measure(c.value("threshold", json())), text(c, "detail")});
  }
  table.print(std::cout);
}

int mutate(const StrategyCommandOptions& options, std::string_view action, const std::string& body) {
  bool slow = action == "reload" || action == "rollback";
  auto reply = call(options.call, "POST", target(options.id, action), body, false, slow ? kReloadTimeout : kCallTimeout);
  if (!reply) return reply.error();
  return show(options.call, *reply, printStrategy);
}

}  // namespace

int strategyListCommand(const ApiCallOptions& options) {
  auto reply = call(options, "GET", "/api/v1/strategies");
  if (!reply) return reply.error();
  return show(options, *reply, printList);
}

int strategyShowCommand(const StrategyCommandOptions& options) {
  auto reply = call(options.call, "GET", target(options.id));
  if (!reply) return reply.error();
  return show(options.call, *reply, printStrategy);
}

int strategyHistoryCommand(const StrategyCommandOptions& options) {
  auto reply = call(options.call, "GET", target(options.id, "history"));
  if (!reply) return reply.error();
  return show(options.call, *reply, printHistory);
}

int strategyReloadCommand(const StrategyCommandOptions& options) { return mutate(options, "reload", ""); }

int strategyRollbackCommand(const StrategyCommandOptions& options) {
  return mutate(options, "rollback", options.version.empty() ? "" : jsonText(json{{"version", options.version}}));
}

int strategyEnableCommand(const StrategyCommandOptions& options, bool enabled) {
  return mutate(options, enabled ? "enable" : "disable",
                options.reason.empty() ? "" : jsonText(json{{"reason", options.reason}}));
}

int strategyValidateCommand(const StrategyValidateOptions& options) {
  RiskLimits limits;
  if (!options.config.empty()) {
    try {
      limits = loadHostConfig(options.config).risk.limits;
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  } else {
    limits = parseHostConfig(embeddedHostConfig(), "<embedded config/host.yaml>").risk.limits;
  }
  auto report = validateStrategy(options.path, options.sdk.empty() ? defaultSdkLuaDir() : options.sdk, limits);
  if (!report) {
    std::cerr << report.error().message << "\n";
    return report.error().code == ErrorCode::NotFound || report.error().code == ErrorCode::Io ? 1 : 2;
  }
  const auto& def = report->definition;
  std::cout << fmt::format("{}: ok — {} {} ({}), sha256 {}\n", options.path, def.id, def.version, def.name,
                           report->sha256.substr(0, 12));
  std::cout << fmt::format("  symbols {} on {}; callbacks {}; {} parameter(s); files {}\n", fmt::join(def.symbols, ","),
                           timeframeName(def.timeframe), fmt::join(report->callbacks, ", "), def.params.size(),
                           fmt::join(report->files, ", "));
  return 0;
}

int checklistCommand(const ChecklistCommandOptions& options) {
  auto reply = call(options.call, "GET",
                    fmt::format("/api/v1/checklist/{}?dir={}", urlEncode(uppercase(options.symbol)), options.direction));
  if (!reply) return reply.error();
  return show(options.call, *reply, printChecklist);
}

}  // namespace th
