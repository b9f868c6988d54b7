// tradehost run, config validate and journal.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/session.h"
#include "config/config.h"
#include "store/journal_codec.h"

namespace th {
namespace {

std::atomic<int> g_signal{0};
extern "C" void onSignal(int signal) { g_signal.store(signal); }

}  // namespace

int64_t parseDurationMs(const std::string& text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || value < 0) return -1;
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  double scale = unit.empty() || unit == "s" ? 1000
                 : unit == "ms"              ? 1
                 : unit == "m"               ? 60'000
                 : unit == "h"               ? 3'600'000
                                             : -1;
  if (scale < 0) return -1;
  return static_cast<int64_t>(value * scale);
}

const std::string& embeddedHostConfigText() { return embeddedHostConfig(); }

int runCommand(const RunOptions& options) {
  HostConfig config;
  try {
    config = options.config_path.empty() ? parseHostConfig(embeddedHostConfig(), "<embedded config/host.yaml>")
                                         : loadHostConfig(options.config_path);
    if (!options.var_dir.empty()) config.var_dir = options.var_dir;
    if (!options.api_listen.empty())
      std::tie(config.api_host, config.api_port) = parseListen(options.api_listen, "--api");
    if (options.speed >= 0) config.speed = options.speed;
    if (!options.strategies_dir.empty()) config.strategies.dir = options.strategies_dir;
    if (options.watch_strategies) config.strategies.watch = true;
    expandVariables(config);
  } catch (const ConfigError& e) {
    std::cerr << "tradehost: " << e.what() << "\n";
    return 2;
  }
  int64_t duration_ms = 0;
  if (!options.duration.empty()) {
    duration_ms = parseDurationMs(options.duration);
    if (duration_ms <= 0) {
      std::cerr << "tradehost: --duration: expected a time such as 30s, 5m or 1h, got '" << options.duration << "'\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");

  const char* token = std::getenv("TRADEHOST_TOKEN");
  Session session(config, options.plugin_dir.empty() ? defaultPluginDir() : options.plugin_dir, token ? token : "");
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  if (auto started = session.start(); !started) {
    spdlog::error("cannot start: {}", started.error().message);
    session.stop("start-up failed");
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
  while (g_signal.load() == 0 && (duration_ms == 0 || std::chrono::steady_clock::now() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int signal = g_signal.load();
  session.stop(signal ? fmt::format("signal {}", signal) : "duration elapsed");
  return 0;
}

int configValidateCommand(const ConfigValidateOptions& options) {
  try {
    auto config = options.file.empty() ? parseHostConfig(embeddedHostConfig(), "<embedded config/host.yaml>")
                                       : loadHostConfig(options.file);
    std::cout << fmt::format("{}: ok ({} plugin(s), {} subscription list(s))\n", config.source, config.plugins.size(),
                             config.subscriptions.size());
    return 0;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}

int journalCommand(const JournalOptions& options) {
  auto dir = options.store_dir.empty() ? (std::filesystem::path(options.var_dir) / "store").string() : options.store_dir;
  auto store = Store::openReadOnly(dir);
  if (!store) {
    std::cerr << "tradehost: " << store.error().message << "\n";
    return 1;
  }
  if (options.verify) {
    uint64_t expected = 1, count = 0, gaps = 0;
    for (;;) {
      auto records = (*store)->readJournal(expected, 10000);
      if (!records) {
        std::cerr << "tradehost: " << records.error().message << "\n";
        return 1;
      }
      if (records->empty()) break;
      for (const auto& r : *records) {
        if (r.sequence != expected) {
          ++gaps;
          std::cout << fmt::format("gap: expected sequence {}, found {}\n", expected, r.sequence);
        }
        expected = r.sequence + 1;
        ++count;
      }
    }
    std::cout << fmt::format("journal: {} records, last sequence {}, {} gap(s)\n", count, (*store)->lastSequence(),
                             gaps);
    return gaps == 0 ? 0 : 1;
  }
  uint16_t kind = 0;
  if (!options.kind.empty() && (kind = journalKindFromName(options.kind)) == 0) {
    std::cerr << fmt::format("tradehost: --kind: unknown journal kind '{}' (host_started, host_stopped, trade, quote, "
                             "bar, order, fill, connection)\n",
                             options.kind);
    return 2;
  }
  size_t printed = 0;
  uint64_t next = options.from;
  while (printed < options.limit && next <= (*store)->lastSequence()) {
    auto page = readJournalPage(**store, next, options.limit - printed, kind, 100'000);
    if (!page) {
      std::cerr << "tradehost: " << page.error().message << "\n";
      return 1;
    }
    for (const auto& r : page->records) std::cout << journalRecordJson(r) << "\n";
    printed += page->records.size();
    if (page->next_seq == next) break;
    next = page->next_seq;
  }
  return 0;
}

}  // namespace th
