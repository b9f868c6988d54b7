// Host configuration: strict YAML. Every key is known; an unknown key, a
// missing required key or a bad value is an error that names the file, the
// line and the key. Defaults live here and nowhere else.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"

namespace th {

struct PluginConfig {
  std::string id;
  std::string library;      // a name (lib<name>.so in the plugin dir) or a path
  std::string config_json;  // the `config:` mapping as JSON, ${var} expanded
};

struct SubscriptionConfig {
  std::string provider;
  std::vector<std::string> symbols;
  uint32_t streams = 0;  // TH_STREAM_* mask
};

struct HostConfig {
  std::string source = "<embedded config/host.yaml>";
  std::string var_dir = "var";
  std::string log_level = "info";
  bool simulated = true;
  int64_t clock_start_ns = 0;  // simulated start; 0 = now
  double speed = 60;
  std::string api_host = "127.0.0.1";
  uint16_t api_port = 8080;
  size_t max_body_bytes = 1 << 20;
  size_t max_frame_bytes = 64 << 10;
  size_t max_clients = 256;
  std::string store_dir = "store";
  bool sync_orders = true;
  std::vector<PluginConfig> plugins;
  std::vector<SubscriptionConfig> subscriptions;
};

// Parses YAML text; `source` names it in errors ("config/host.yaml").
// Throws ConfigError.
HostConfig parseHostConfig(const std::string& text, const std::string& source);
HostConfig loadHostConfig(const std::string& path);
// The default compiled into the binary (config/host.yaml at build time).
const std::string& embeddedHostConfig();

// Replaces ${var} in plugin configs with the var directory. Done after
// command-line overrides so --var moves plugin state files too.
void expandVariables(HostConfig& config);

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "host:port" → parts; throws ConfigError naming `what`.
std::pair<std::string, uint16_t> parseListen(const std::string& text, const std::string& what);

}  // namespace th
