// The replay plugin's JSON configuration, parsed strictly: an unknown key or a
// bad value is an error naming the key, so a typo never silently falls back
// to a default.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace th::replay {

struct ReplayConfig {
  // Every file to load, in order. Directories given in the config have already
  // been replaced by their *.csv and *.csv.gz files in name order.
  std::vector<std::string> files;
  // 0: as fast as possible; N > 0: N times real time.
  double speed = 0;
  // When set, only these symbols are loaded.
  std::optional<std::vector<std::string>> symbols;
};

// Throws th::Error(TH_ERR_INVALID_ARGUMENT, "replay: config key 'x': ...").
ReplayConfig parseConfig(std::string_view json);

}  // namespace th::replay
