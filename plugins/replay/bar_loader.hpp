// Loads and validates every replay file into a BarStore at plugin creation,
// so a bad file fails create() with the file and line instead of surfacing
// halfway through a session.
#pragma once

#include "bar_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace th::replay {

// Reads `files` in order. With `symbols`, only those symbols are kept (every
// line is still validated), and each of them must occur in some file.
// Throws th::Error: TH_ERR_INVALID_ARGUMENT for bad content ("<path>:<line>:
// ..."), TH_ERR_IO when a file cannot be read.
BarStore loadBars(const std::vector<std::string>& files, const std::optional<std::vector<std::string>>& symbols);

}  // namespace th::replay
