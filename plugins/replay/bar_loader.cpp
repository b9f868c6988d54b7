#include "bar_loader.hpp"

#include "csv_format.hpp"
#include "line_reader.hpp"
#include "text.hpp"

#include <th/plugin.hpp>

#include <algorithm>
#include <unordered_map>

namespace th::replay {
namespace {

// Keeps only the symbols of the `symbols` config key, when it is given.
class SymbolFilter {
 public:
  explicit SymbolFilter(const std::optional<std::vector<std::string>>& symbols) : filtering_(symbols.has_value()) {
    if (!symbols) return;
    wanted_ = *symbols;
    std::sort(wanted_.begin(), wanted_.end());
  }
  bool keeps(std::string_view symbol) const {
    return !filtering_ || std::binary_search(wanted_.begin(), wanted_.end(), symbol, std::less<>());
  }

 private:
  bool filtering_;
  std::vector<std::string> wanted_;
};

// What one file has shown of a symbol so far: enough to reject a bar that goes
// back in time, and to point at the line it contradicts.
struct SymbolInFile {
  std::optional<uint32_t> storeIndex;  // empty when the filter drops the symbol
  int32_t lastMinute = 0;
  uint64_t lastLine = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

std::string expectedHeaders() { return concat("expected '", kNativeHeader, "' or '", kPolygonHeader, "'"); }

void loadFile(const std::string& path, const SymbolFilter& filter, BarStoreBuilder& builder) {
  LineReader reader(path);
  std::string_view line;
  if (!reader.next(line)) failAt({path, 1}, concat("empty file (", expectedHeaders(), ")"));
  std::optional<CsvFormat> format = detectFormat(line);
  if (!format) failAt({path, 1}, concat("unknown header '", line.substr(0, 200), "' (", expectedHeaders(), ")"));

  std::unordered_map<std::string, SymbolInFile, StringHash, std::equal_to<>> seen;
  // Polygon files are sorted by ticker, so most lines repeat the previous
  // symbol; remembering it skips the hash lookup. Map nodes never move.
  std::string_view lastSymbol;
  SymbolInFile* last = nullptr;
  uint64_t firstBlankLine = 0;

  while (reader.next(line)) {
    LineLocation where{path, reader.lineNumber()};
    if (line.empty()) {
      if (firstBlankLine == 0) firstBlankLine = where.line;
      continue;
    }
    // Blank lines are tolerated only at the end, where editors leave them; one
    // in the middle usually means two files were pasted together.
    if (firstBlankLine != 0) failAt({path, firstBlankLine}, "blank line before the end of the file");

    ParsedBar bar = parseLine(*format, line, where);
    if (!last || bar.symbol != lastSymbol) {
      auto it = seen.find(bar.symbol);
      if (it == seen.end()) {
        SymbolInFile fresh;
        if (filter.keeps(bar.symbol)) fresh.storeIndex = builder.intern(bar.symbol);
        it = seen.emplace(std::string(bar.symbol), fresh).first;
      }
      last = &it->second;
      lastSymbol = it->first;
    }
    if (last->lastLine != 0 && bar.minute < last->lastMinute) {
      failAt(where, concat("'", bar.symbol, "' bar at ", formatMinute(bar.minute), " is earlier than its bar at ",
                           formatMinute(last->lastMinute), " on line ", std::to_string(last->lastLine),
                           " (bars of a symbol must be in time order)"));
    }
    last->lastMinute = bar.minute;
    last->lastLine = where.line;
    if (last->storeIndex) {
      builder.append(*last->storeIndex,
                     StoredBar{bar.minute, bar.tradeCount, bar.open, bar.high, bar.low, bar.close, bar.volume});
    }
  }
}

}  // namespace

BarStore loadBars(const std::vector<std::string>& files, const std::optional<std::vector<std::string>>& symbols) {
  SymbolFilter filter(symbols);
  BarStoreBuilder builder;
  for (const std::string& path : files) loadFile(path, filter, builder);
  BarStore store = std::move(builder).build();
  if (symbols) {
    for (const std::string& symbol : *symbols) {
      if (!store.find(symbol)) {
        throw Error(TH_ERR_INVALID_ARGUMENT,
                    concat("replay: config key 'symbols': '", symbol, "' is in none of the files"));
      }
    }
  }
  return store;
}

}  // namespace th::replay
