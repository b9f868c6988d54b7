// The subcommands of the tradehost executable. Each returns the process exit
// code: 0 on success, 1 on a runtime failure, 2 on bad input.
#pragma once

#include <cstdint>
#include <string>

namespace th {

struct RunOptions {
  std::string config_path, var_dir, api_listen, duration, plugin_dir;
  double speed = -1;  // < 0: from the config
};
int runCommand(const RunOptions& options);

struct PluginListOptions {
  std::string dir;
  bool json = false;
};
int pluginListCommand(const PluginListOptions& options);

struct PluginInspectOptions {
  std::string file;
  bool json = false;
};
int pluginInspectCommand(const PluginInspectOptions& options);

struct PluginCheckOptions {
  std::string file, config, symbol = "SPY", at;
  bool json = false;
};
int pluginCheckCommand(const PluginCheckOptions& options);

struct ConfigValidateOptions {
  std::string file;
};
int configValidateCommand(const ConfigValidateOptions& options);
const std::string& embeddedHostConfigText();

struct JournalOptions {
  std::string var_dir = "var", store_dir, kind;
  uint64_t from = 1;
  size_t limit = 20;
  bool verify = false;
};
int journalCommand(const JournalOptions& options);

// "30s", "5m", "1h", "250ms", "90" (seconds) → milliseconds; -1 when malformed.
int64_t parseDurationMs(const std::string& text);

}  // namespace th
