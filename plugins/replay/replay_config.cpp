#include "replay_config.hpp"

#include "text.hpp"

#include <th/plugin.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

namespace th::replay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void keyError(std::string_view key, std::string_view message) {
  throw Error(TH_ERR_INVALID_ARGUMENT, concat("replay: config key '", key, "': ", message));
}

bool isCsvName(const std::string& name) { return name.ends_with(".csv") || name.ends_with(".csv.gz"); }

// Appends the CSV files of one `files` entry: the file itself, or a
// directory's *.csv / *.csv.gz files sorted by name. Polygon flat files are
// named by date (2024-01-02.csv.gz), so name order is time order.
void addEntry(const std::string& entry, std::vector<std::string>& files) {
  std::error_code error;
  fs::file_status status = fs::status(entry, error);
  if (error || !fs::exists(status)) keyError("files", concat("'", entry, "' does not exist"));
  if (fs::is_regular_file(status)) {
    files.push_back(entry);
    return;
  }
  if (!fs::is_directory(status)) keyError("files", concat("'", entry, "' is neither a file nor a directory"));

  std::vector<fs::path> found;
  for (fs::directory_iterator it(entry, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file(error) && isCsvName(it->path().filename().string())) found.push_back(it->path());
  }
  if (error) keyError("files", concat("cannot list directory '", entry, "': ", error.message()));
  if (found.empty()) keyError("files", concat("directory '", entry, "' has no *.csv or *.csv.gz files"));
  std::sort(found.begin(), found.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  for (const fs::path& path : found) files.push_back(path.string());
}

std::vector<std::string> parseFiles(const json& value) {
  if (!value.is_array() || value.empty()) keyError("files", "must be a non-empty array of file or directory paths");
  std::vector<std::string> files;
  for (const json& entry : value) {
    if (!entry.is_string() || entry.get_ref<const std::string&>().empty()) {
      keyError("files", concat("every entry must be a non-empty string, got ", entry.dump()));
    }
    addEntry(entry.get<std::string>(), files);
  }
  // The same file twice would double every one of its bars.
  std::vector<std::pair<fs::path, std::string>> identities;
  for (const std::string& file : files) {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(file, error);
    identities.emplace_back(error ? fs::path(file) : canonical, file);
  }
  std::sort(identities.begin(), identities.end());
  for (size_t i = 1; i < identities.size(); ++i) {
    if (identities[i].first == identities[i - 1].first) {
      keyError("files", concat("'", identities[i].second, "' is listed more than once"));
    }
  }
  return files;
}

double parseSpeed(const json& value) {
  if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0) {
    keyError("speed",
             concat("must be a number >= 0 (0 = as fast as possible, N = N times real time), got ", value.dump()));
  }
  return value.get<double>();
}

std::vector<std::string> parseSymbols(const json& value) {
  if (!value.is_array() || value.empty()) {
    keyError("symbols", "must be a non-empty array of symbols (leave the key out to replay every symbol)");
  }
  std::vector<std::string> symbols;
  for (const json& entry : value) {
    if (!entry.is_string() || entry.get_ref<const std::string&>().empty()) {
      keyError("symbols", concat("every entry must be a non-empty string, got ", entry.dump()));
    }
    symbols.push_back(entry.get<std::string>());
  }
  return symbols;
}

}  // namespace

ReplayConfig parseConfig(std::string_view text) {
  json root;
  try {
    // An empty config is an empty object, which then lacks 'files'.
    root = text.empty() ? json::object() : json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(TH_ERR_INVALID_ARGUMENT, concat("replay: config is not valid JSON: ", e.what()));
  }
  if (!root.is_object()) throw Error(TH_ERR_INVALID_ARGUMENT, "replay: config must be a JSON object");

  ReplayConfig config;
  bool haveFiles = false;
  for (const auto& [key, value] : root.items()) {
    if (key == "files") {
      config.files = parseFiles(value);
      haveFiles = true;
    } else if (key == "speed") {
      config.speed = parseSpeed(value);
    } else if (key == "symbols") {
      config.symbols = parseSymbols(value);
    } else {
      keyError(key, "unknown key (expected files, speed, symbols)");
    }
  }
  if (!haveFiles) keyError("files", "required: the CSV files or directories to replay");
  return config;
}

}  // namespace th::replay
