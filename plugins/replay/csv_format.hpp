// The two CSV bar formats replay reads, told apart by their header line.
//
// - Native: `ts_ms,symbol,open,high,low,close,volume`, ts_ms the bar start in
//   epoch milliseconds UTC.
// - Polygon/Massive flat-file minute aggregates:
//   `ticker,volume,open,close,high,low,window_start,transactions`,
//   window_start the bar start in epoch nanoseconds UTC.
//
// Every data line is validated in full, and an error names the file, the
// 1-based line and the column, so a bad row in a million-line file is found
// without a hex editor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace th::replay {

enum class CsvFormat { Native, Polygon };

inline constexpr std::string_view kNativeHeader = "ts_ms,symbol,open,high,low,close,volume";
inline constexpr std::string_view kPolygonHeader = "ticker,volume,open,close,high,low,window_start,transactions";

// The instrument struct holds a symbol in char[32]; longer ones would be cut.
inline constexpr size_t kMaxSymbolLength = 31;

// The format whose header is exactly `header` (a UTF-8 byte order mark is
// ignored, as spreadsheet exports add one).
std::optional<CsvFormat> detectFormat(std::string_view header);

// Where a line came from, for error messages.
struct LineLocation {
  const std::string& path;
  uint64_t line;
};

// Throws th::Error(TH_ERR_INVALID_ARGUMENT, "<path>:<line>: <message>").
[[noreturn]] void failAt(const LineLocation& where, std::string_view message);

// One validated data line. `symbol` points into the line.
struct ParsedBar {
  std::string_view symbol;
  int32_t minute = 0;  // bar start in minutes since the Unix epoch
  uint32_t tradeCount = 0;
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
};

// Parses and validates one data line: column count, every number parsed in
// full and finite, high >= max(open, close), low <= min(open, close),
// volume >= 0, start on a whole minute. Throws through failAt.
ParsedBar parseLine(CsvFormat format, std::string_view line, const LineLocation& where);

// "2024-01-02T14:30:00Z", for messages about bar times.
std::string formatMinute(int32_t minute);

}  // namespace th::replay
