#include "csv_format.hpp"

#include "text.hpp"

#include <th/plugin.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <system_error>

namespace th::replay {
namespace {

constexpr size_t kMaxColumns = 8;
// Above it a value is a unit or scaling error, not a price.
constexpr double kMaxPrice = 1e9;

// Where each value sits in a format's columns; names are the header's own, so
// an error points at the column the user sees in the file.
struct Layout {
  std::string_view header;
  std::array<std::string_view, kMaxColumns> names;
  size_t columns;
  size_t symbol, time, open, high, low, close, volume;
  std::optional<size_t> tradeCount;
  int64_t timeUnitsPerMinute;  // ms for native files, ns for Polygon ones
};

constexpr Layout kNativeLayout{kNativeHeader,
                               {"ts_ms", "symbol", "open", "high", "low", "close", "volume", ""},
                               7,
                               1,
                               0,
                               2,
                               3,
                               4,
                               5,
                               6,
                               std::nullopt,
                               60'000};
constexpr Layout kPolygonLayout{kPolygonHeader,
                                {"ticker", "volume", "open", "close", "high", "low", "window_start", "transactions"},
                                8,
                                0,
                                6,
                                2,
                                4,
                                5,
                                3,
                                1,
                                7,
                                60'000'000'000};

// Printable ASCII without quotes: a quote would mean a quoted CSV field, which neither format uses.
bool symbolCharacter(char c) { return c > ' ' && c < 127 && c != '"' && c != '\''; }

std::string quoted(std::string_view text) {
  // Cap what is echoed back: a garbled field can be a whole binary blob.
  constexpr size_t kMaxEcho = 40;
  return concat("'", text.substr(0, kMaxEcho), text.size() > kMaxEcho ? "...'" : "'");
}

class LineParser {
 public:
  LineParser(const Layout& layout, const LineLocation& where) : layout_(layout), where_(where) {}

  ParsedBar parse(std::string_view line) {
    split(line);
    ParsedBar bar;
    bar.symbol = symbol();
    bar.minute = minute();
    bar.open = price(layout_.open);
    bar.high = price(layout_.high);
    bar.low = price(layout_.low);
    bar.close = price(layout_.close);
    bar.volume = price(layout_.volume);
    if (bar.volume < 0) columnError(layout_.volume, concat(fields_[layout_.volume], " is negative"));
    if (layout_.tradeCount) bar.tradeCount = tradeCount(*layout_.tradeCount);
    checkRange(bar);
    return bar;
  }

 private:
  [[noreturn]] void columnError(size_t column, std::string_view message) const {
    failAt(where_, concat("column '", layout_.names[column], "': ", message));
  }

  void split(std::string_view line) {
    size_t count = 0;
    size_t start = 0;
    for (;;) {
      size_t comma = line.find(',', start);
      if (count < kMaxColumns) fields_[count] = line.substr(start, comma == line.npos ? line.npos : comma - start);
      ++count;
      if (comma == line.npos) break;
      start = comma + 1;
    }
    if (count != layout_.columns) {
      failAt(where_, concat("expected ", std::to_string(layout_.columns), " columns (", layout_.header, "), found ",
                            std::to_string(count)));
    }
  }

  std::string_view symbol() const {
    std::string_view text = fields_[layout_.symbol];
    if (text.empty()) columnError(layout_.symbol, "empty");
    if (text.size() > kMaxSymbolLength) {
      columnError(layout_.symbol,
                  concat(quoted(text), " is longer than ", std::to_string(kMaxSymbolLength), " characters"));
    }
    for (char c : text) {
      if (!symbolCharacter(c)) columnError(layout_.symbol, concat(quoted(text), " is not a valid symbol"));
    }
    return text;
  }

  int32_t minute() const {
    std::string_view text = fields_[layout_.time];
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) columnError(layout_.time, concat(quoted(text), " is out of range"));
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      columnError(layout_.time, concat(quoted(text), " is not an integer"));
    }
    if (value % layout_.timeUnitsPerMinute != 0) {
      columnError(layout_.time, concat(text, " is not on a whole minute"));
    }
    int64_t minutes = value / layout_.timeUnitsPerMinute;
    if (minutes < std::numeric_limits<int32_t>::min() || minutes > std::numeric_limits<int32_t>::max()) {
      columnError(layout_.time, concat(text, " is out of range"));
    }
    return static_cast<int32_t>(minutes);
  }

  double price(size_t column) const {
    std::string_view text = fields_[column];
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) columnError(column, concat(quoted(text), " is out of range"));
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      columnError(column, concat(quoted(text), " is not a number"));
    }
    // from_chars accepts "nan" and "inf"; neither is a price or a volume.
    if (!std::isfinite(value)) columnError(column, concat(quoted(text), " is not a finite number"));
    return value;
  }

  uint32_t tradeCount(size_t column) const {
    std::string_view text = fields_[column];
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) columnError(column, concat(quoted(text), " is out of range"));
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      columnError(column, concat(quoted(text), " is not a whole number >= 0"));
    }
    return value;
  }

  void checkRange(const ParsedBar& bar) const {
    const auto& f = fields_;
    const Layout& l = layout_;
    for (auto [column, value] : {std::pair{l.open, bar.open}, std::pair{l.high, bar.high}, std::pair{l.low, bar.low},
                                 std::pair{l.close, bar.close}}) {
      if (!(value > 0)) columnError(column, concat(f[column], " is not a price (prices are above 0)"));
      if (value > kMaxPrice) columnError(column, concat(f[column], " is not a price (prices are at most 1000000000)"));
    }
    if (bar.high < std::max(bar.open, bar.close)) {
      columnError(l.high,
                  concat(f[l.high], " is below max(open, close) = ", bar.open > bar.close ? f[l.open] : f[l.close]));
    }
    if (bar.low > std::min(bar.open, bar.close)) {
      columnError(l.low,
                  concat(f[l.low], " is above min(open, close) = ", bar.open < bar.close ? f[l.open] : f[l.close]));
    }
  }

  const Layout& layout_;
  const LineLocation& where_;
  std::array<std::string_view, kMaxColumns> fields_{};
};

// The common line in one pass: plain digits for the time and the trade
// count, "digits[.digits]" for prices and volumes, a plain symbol, and every
// check passing. Anything else (a sign, an exponent, a space, a failed check)
// gives false, and LineParser reads the line again and names what is wrong.
// Both read the same numbers: a decimal of at most 15 digits is its digits as
// an integer (exact) divided by a power of ten (exact up to 1e22), and IEEE
// division rounds that quotient exactly as from_chars rounds the text.
bool parseSimple(const Layout& layout, std::string_view line, ParsedBar& bar) {
  static constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                           1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = line.data();
  const char* const end = p + line.size();
  double numbers[kMaxColumns] = {};
  int64_t time = 0;
  for (size_t column = 0; column < layout.columns; ++column) {
    const char* const start = p;
    if (column == layout.symbol) {
      while (p < end && *p != ',') {
        const char c = *p++;
        if (!symbolCharacter(c)) return false;
      }
      if (p == start || static_cast<size_t>(p - start) > kMaxSymbolLength) return false;
      bar.symbol = std::string_view(start, static_cast<size_t>(p - start));
    } else if (column == layout.time || (layout.tradeCount && column == *layout.tradeCount)) {
      uint64_t value = 0;
      while (p < end && *p >= '0' && *p <= '9') value = value * 10 + static_cast<uint64_t>(*p++ - '0');
      if (p == start || p - start > 18) return false;
      if (column == layout.time) {
        time = static_cast<int64_t>(value);
      } else {
        if (value > UINT32_MAX) return false;
        bar.tradeCount = static_cast<uint32_t>(value);
      }
    } else {
      uint64_t digits = 0;
      int count = 0, decimals = 0;
      while (p < end && *p >= '0' && *p <= '9') {
        digits = digits * 10 + static_cast<uint64_t>(*p++ - '0');
        ++count;
      }
      if (count == 0) return false;
      if (p < end && *p == '.') {
        ++p;
        while (p < end && *p >= '0' && *p <= '9') {
          digits = digits * 10 + static_cast<uint64_t>(*p++ - '0');
          ++count;
          ++decimals;
        }
        if (decimals == 0) return false;
      }
      if (count > 15) return false;
      numbers[column] = static_cast<double>(digits) / kPowersOfTen[decimals];
    }
    if (column + 1 < layout.columns) {
      if (p == end || *p != ',') return false;
      ++p;
    } else if (p != end) {
      return false;
    }
  }
  if (time % layout.timeUnitsPerMinute != 0) return false;
  const int64_t minutes = time / layout.timeUnitsPerMinute;
  if (minutes > std::numeric_limits<int32_t>::max()) return false;
  bar.minute = static_cast<int32_t>(minutes);
  bar.open = numbers[layout.open];
  bar.high = numbers[layout.high];
  bar.low = numbers[layout.low];
  bar.close = numbers[layout.close];
  bar.volume = numbers[layout.volume];
  return bar.high >= std::max(bar.open, bar.close) && bar.low <= std::min(bar.open, bar.close) && bar.low > 0 &&
         bar.high <= kMaxPrice;
}

}  // namespace

std::optional<CsvFormat> detectFormat(std::string_view header) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (header.starts_with(kByteOrderMark)) header.remove_prefix(kByteOrderMark.size());
  if (header == kNativeHeader) return CsvFormat::Native;
  if (header == kPolygonHeader) return CsvFormat::Polygon;
  return std::nullopt;
}

void failAt(const LineLocation& where, std::string_view message) {
  throw Error(TH_ERR_INVALID_ARGUMENT, concat(where.path, ":", std::to_string(where.line), ": ", message));
}

ParsedBar parseLine(CsvFormat format, std::string_view line, const LineLocation& where) {
  const Layout& layout = format == CsvFormat::Native ? kNativeLayout : kPolygonLayout;
  ParsedBar bar;
  if (parseSimple(layout, line, bar)) return bar;
  return LineParser(layout, where).parse(line);
}

std::string formatMinute(int32_t minute) {
  using namespace std::chrono;
  sys_time<minutes> time{minutes{minute}};
  auto day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss clock{time - day};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:00Z", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(clock.hours().count()), static_cast<long>(clock.minutes().count()));
  return text;
}

}  // namespace th::replay
