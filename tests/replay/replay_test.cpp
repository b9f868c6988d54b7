// Loading: both CSV formats, gzip, directories, the symbol filter, the config
// and every kind of malformed file; then history() and lookup() on the loaded
// data. Playback is in replay_playback_test.cpp.
#include "replay/replay_support.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace th::test::replay {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeGzip(const std::string& path, const std::string& content) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())), static_cast<int>(content.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

void expectSameBars(const std::vector<BarRecord>& expected, const std::vector<BarRecord>& actual) {
  ASSERT_EQ(keys(expected), keys(actual));
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(key(expected[i]));
    EXPECT_EQ(expected[i].open, actual[i].open);
    EXPECT_EQ(expected[i].high, actual[i].high);
    EXPECT_EQ(expected[i].low, actual[i].low);
    EXPECT_EQ(expected[i].close, actual[i].close);
    EXPECT_EQ(expected[i].volume, actual[i].volume);
    EXPECT_EQ(expected[i].duration_ns, actual[i].duration_ns);
    EXPECT_EQ(expected[i].flags, actual[i].flags);
  }
}

TEST(ReplayFormats, NativeAndPolygonFilesGiveTheSameBars) {
  Replay native(json{{"files", {fixture("native_basic.csv")}}});
  Replay polygon(json{{"files", {fixture("polygon_basic.csv")}}});
  for (const std::string symbol : {"QQQ", "SPY"}) {
    SCOPED_TRACE(symbol);
    std::vector<BarRecord> fromNative = native.allHistory(symbol);
    std::vector<BarRecord> fromPolygon = polygon.allHistory(symbol);
    ASSERT_EQ(fromNative.size(), 3u);
    expectSameBars(fromNative, fromPolygon);
    // Only the Polygon format has a trade count (its transactions column).
    for (const BarRecord& bar : fromNative) EXPECT_EQ(bar.trade_count, 0u);
  }
  std::vector<BarRecord> spy = polygon.allHistory("SPY");
  EXPECT_EQ(spy[0].trade_count, 1500u);
  EXPECT_EQ(spy[2].trade_count, 1100u);
  EXPECT_EQ(spy[0].start_ns, kOpenNs);
  EXPECT_EQ(spy[0].open, 475.1);
  EXPECT_EQ(spy[0].high, 475.5);
  EXPECT_EQ(spy[0].low, 474.9);
  EXPECT_EQ(spy[0].close, 475.3);
  EXPECT_EQ(spy[0].volume, 120000);
}

TEST(ReplayFormats, GzipFilesAreReadLikePlainOnes) {
  TempDir dir;
  writeGzip(dir.file("2024-01-02.csv.gz"), readFile(fixture("polygon_basic.csv")));
  Replay plain(json{{"files", {fixture("polygon_basic.csv")}}});
  Replay gzipped(json{{"files", {dir.file("2024-01-02.csv.gz")}}});
  Replay directory(json{{"files", {dir.path()}}});
  for (const std::string symbol : {"QQQ", "SPY"}) {
    SCOPED_TRACE(symbol);
    expectSameBars(plain.allHistory(symbol), gzipped.allHistory(symbol));
    expectSameBars(plain.allHistory(symbol), directory.allHistory(symbol));
  }
}

TEST(ReplayFormats, TruncatedGzipFailsNamingTheFile) {
  TempDir dir;
  std::string path = dir.file("cut.csv.gz");
  writeGzip(path, readFile(fixture("polygon_basic.csv")));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 12);
  CreateResult result = tryCreate(json{{"files", {path}}});
  EXPECT_EQ(result.status, TH_ERR_IO);
  EXPECT_NE(result.message.find(path), std::string::npos) << result.message;
}

TEST(ReplayFormats, WindowsLineEndingsAndByteOrderMarkAreAccepted) {
  TempDir dir;
  std::string text = readFile(fixture("native_basic.csv"));
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::ofstream(dir.file("crlf.csv"), std::ios::binary) << crlf;
  Replay plain(json{{"files", {fixture("native_basic.csv")}}});
  Replay windows(json{{"files", {dir.file("crlf.csv")}}});
  expectSameBars(plain.allHistory("SPY"), windows.allHistory("SPY"));
}

// A native file of `minutes` minutes from kOpenNs for three interleaved
// symbols (three lines a minute), each price a function of symbol and minute.
std::vector<std::string> bigFileLines(int minutes) {
  std::vector<std::string> lines{"ts_ms,symbol,open,high,low,close,volume"};
  const char* symbols[] = {"AAA", "BBB", "CCC"};
  for (int m = 0; m < minutes; ++m) {
    for (int s = 0; s < 3; ++s) {
      const double open = 100 + s * 50 + (m % 997) * 0.01;
      lines.push_back(std::to_string(kOpenNs / 1'000'000 + int64_t{m} * 60'000) + "," + symbols[s] + "," +
                      std::to_string(open) + "," + std::to_string(open + 0.25) + "," + std::to_string(open - 0.25) +
                      "," + std::to_string(open + 0.05) + "," + std::to_string(1000 + m));
    }
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// Large plain files are read in slices on parallel threads: the bars, the
// symbol filter and every error must be exactly those of reading the file in
// one piece (a gzip file is always read in one piece).
TEST(ReplayFormats, LargePlainFilesGiveTheSameBarsAndErrorsAsOnePieceReading) {
  TempDir dir;
  const int minutes = 30'000;  // 90,001 lines, about 5 MB
  auto lines = bigFileLines(minutes);
  const std::string text = joined(lines);
  ASSERT_GT(text.size(), size_t{4} << 20);
  std::ofstream(dir.file("big.csv"), std::ios::binary) << text;
  writeGzip(dir.file("big.csv.gz"), text);
  {
    Replay sliced(json{{"files", {dir.file("big.csv")}}});
    Replay whole(json{{"files", {dir.file("big.csv.gz")}}});
    for (const std::string symbol : {"AAA", "BBB", "CCC"}) {
      SCOPED_TRACE(symbol);
      auto bars = sliced.allHistory(symbol);
      ASSERT_EQ(bars.size(), static_cast<size_t>(minutes));
      EXPECT_EQ(bars.back().start_ns, kOpenNs + int64_t{minutes - 1} * kMinuteNs);
      expectSameBars(whole.allHistory(symbol), bars);
    }
    Replay filtered(json{{"files", {dir.file("big.csv")}}, {"symbols", {"BBB"}}});
    EXPECT_EQ(filtered.allHistory("BBB").size(), static_cast<size_t>(minutes));
    th_instrument instrument{};
    EXPECT_EQ(filtered.lookup("AAA", instrument), TH_ERR_NOT_FOUND);
  }

  struct Broken {
    std::string name;
    size_t line;  // 1-based line to replace
    std::string text;
    std::string expected;
  };
  // A bar of the same symbol 997 minutes (2,991 lines) earlier: back in
  // time, and of the same length, so the slices fall where they did.
  auto earlier = [&](size_t line) { return lines[line - 1 - 2991]; };
  const size_t late = lines.size() - 1000;  // in the last slice, however many there are
  // The first line after the middle, where two slices meet.
  const size_t middle =
      static_cast<size_t>(std::count(
          text.begin(),
          text.begin() + static_cast<std::ptrdiff_t>(
                             text.find('\n', lines[0].size() + 1 + (text.size() - lines[0].size() - 1) / 2) + 1),
          '\n')) +
      1;
  const std::vector<Broken> cases{
      {"bad number", late, lines[late - 1].substr(0, lines[late - 1].rfind(',')) + ",lots",
       "column 'volume': 'lots' is not a number"},
      {"back in time", late, earlier(late),
       "on line " + std::to_string(late - 3) + " (bars of a symbol must be in time order)"},
      {"back in time where slices meet", middle, earlier(middle),
       "on line " + std::to_string(middle - 3) + " (bars of a symbol must be in time order)"},
      {"blank line", late, "", "blank line before the end of the file"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto broken = lines;
    broken[c.line - 1] = c.text;
    std::ofstream(dir.file("broken.csv"), std::ios::binary | std::ios::trunc) << joined(broken);
    CreateResult result = tryCreate(json{{"files", {dir.file("broken.csv")}}});
    EXPECT_EQ(result.status, TH_ERR_INVALID_ARGUMENT);
    EXPECT_NE(result.message.find(dir.file("broken.csv") + ":" + std::to_string(c.line) + ": "), std::string::npos)
        << result.message;
    EXPECT_NE(result.message.find(c.expected), std::string::npos) << result.message;
  }
}

// A plain decimal is read on a fast path; written with an exponent the same
// number takes the library's reader. Both must give the very same doubles,
// for short prices, 15-digit ones and longer ones alike.
TEST(ReplayFormats, PlainDecimalsReadExactlyAsTheLibraryReadsThem) {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::string plain = "ts_ms,symbol,open,high,low,close,volume\n";
  std::string exponent = plain;
  auto number = [&rng](int decimals) {
    std::string text = std::to_string(rng() % 100000) + (decimals ? "." : "");
    for (int d = 0; d < decimals; ++d) text += static_cast<char>('0' + rng() % 10);
    return text;
  };
  const int minutes = 3000;
  for (int m = 0; m < minutes; ++m) {
    // open = low = high = close: any reading passes the range checks.
    const std::string price = m == 0 ? "0.1" : m == 1 ? "123.456789012345" : m == 2 ? "100.1234567890123456"
                                                                               : number(m % 10);
    const std::string volume = number(m % 3);
    const std::string ts = std::to_string(kOpenNs / 1'000'000 + int64_t{m} * 60'000);
    plain += ts + ",SPY," + price + "," + price + "," + price + "," + price + "," + volume + "\n";
    const std::string e = price + "e0";
    exponent += ts + ",SPY," + e + "," + e + "," + e + "," + e + "," + volume + "e0\n";
  }
  std::ofstream(dir.file("plain.csv"), std::ios::binary) << plain;
  std::ofstream(dir.file("exponent.csv"), std::ios::binary) << exponent;
  Replay fast(json{{"files", {dir.file("plain.csv")}}});
  Replay library(json{{"files", {dir.file("exponent.csv")}}});
  auto bars = fast.allHistory("SPY");
  ASSERT_EQ(bars.size(), static_cast<size_t>(minutes));
  EXPECT_EQ(bars[0].close, 0.1);
  EXPECT_EQ(bars[1].close, 123.456789012345);
  expectSameBars(library.allHistory("SPY"), bars);
}

// Each malformed fixture fails creation with its file, line and the reason.
struct MalformedCase {
  std::string file;
  std::string location;  // "<file>:<line>:"
  std::string detail;
  // Names the case in failure output instead of dumping its bytes.
  // NOLINTNEXTLINE(readability-identifier-naming): GoogleTest looks up this exact name.
  friend void PrintTo(const MalformedCase& c, std::ostream* out) { *out << c.file; }
};

class ReplayMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ReplayMalformed, FailsCreationNamingFileAndLine) {
  const MalformedCase& c = GetParam();
  // A good file first: the error must still name the bad one.
  CreateResult result = tryCreate(json{{"files", {fixture("native_basic.csv"), fixture(c.file)}}});
  EXPECT_EQ(result.status, TH_ERR_INVALID_ARGUMENT);
  EXPECT_NE(result.message.find(fixture(c.location)), std::string::npos) << result.message;
  EXPECT_NE(result.message.find(c.detail), std::string::npos) << result.message;
}

INSTANTIATE_TEST_SUITE_P(
    Files, ReplayMalformed,
    ::testing::Values(
        MalformedCase{"bad_columns.csv", "bad_columns.csv:3:", "expected 7 columns"},
        MalformedCase{"bad_number.csv", "bad_number.csv:3:", "column 'close': 'abc' is not a number"},
        MalformedCase{"high_below_low.csv", "high_below_low.csv:2:", "column 'high': 99.00 is below max(open, close)"},
        MalformedCase{"unaligned.csv", "unaligned.csv:4:", "column 'ts_ms': 1704205890000 is not on a whole minute"},
        MalformedCase{"polygon_unaligned.csv", "polygon_unaligned.csv:2:", "column 'window_start'"},
        MalformedCase{"out_of_order.csv", "out_of_order.csv:5:",
                      "'QQQ' bar at 2024-01-02T14:30:00Z is earlier than its bar at 2024-01-02T14:31:00Z on line 3"},
        MalformedCase{"unknown_header.csv",
                      "unknown_header.csv:1:", "unknown header 'time,symbol,open,high,low,close,volume'"},
        MalformedCase{"blank_line.csv", "blank_line.csv:3:", "blank line before the end of the file"},
        MalformedCase{"header_only.csv", "header_only.csv:2:", "no bars after the header"},
        MalformedCase{"zero_price.csv", "zero_price.csv:3:", "column 'open': 0 is not a price (prices are above 0)"},
        MalformedCase{"huge_price.csv", "huge_price.csv:2:",
                      "column 'high': 1e300 is not a price (prices are at most 1000000000)"}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) {
      std::string name = info.param.file.substr(0, info.param.file.find('.'));
      std::erase(name, '_');
      return name;
    });

TEST(ReplayConfig, RejectsUnknownKeysAndBadValues) {
  struct Case {
    json config;
    std::string message;
  };
  const std::vector<Case> cases = {
      {json{{"files", {fixture("native_basic.csv")}}, {"sped", 2}}, "replay: config key 'sped': unknown key"},
      {json{{"files", {fixture("native_basic.csv")}}, {"speed", -1}},
       "replay: config key 'speed': must be a number >= 0"},
      {json{{"files", {fixture("native_basic.csv")}}, {"speed", "fast"}}, "replay: config key 'speed'"},
      {json{{"files", {fixture("native_basic.csv")}}, {"symbols", "SPY"}}, "replay: config key 'symbols'"},
      {json::object(), "replay: config key 'files': required"},
      {json{{"files", json::array()}}, "replay: config key 'files': must be a non-empty array"},
      {json{{"files", {fixture("missing.csv")}}},
       "replay: config key 'files': '" + fixture("missing.csv") + "' does not exist"},
      {json{{"files", {fixture("native_basic.csv"), fixture("native_basic.csv")}}}, "is listed more than once"},
      {json::array(), "replay: config must be a JSON object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config.dump());
    CreateResult result = tryCreate(c.config);
    EXPECT_EQ(result.status, TH_ERR_INVALID_ARGUMENT);
    EXPECT_NE(result.message.find(c.message), std::string::npos) << result.message;
  }
}

TEST(ReplayConfig, DirectoryWithoutCsvFilesIsAnError) {
  TempDir dir;
  std::ofstream(dir.file("readme.txt")) << "no bars here\n";
  CreateResult result = tryCreate(json{{"files", {dir.path()}}});
  EXPECT_EQ(result.status, TH_ERR_INVALID_ARGUMENT);
  EXPECT_NE(result.message.find("has no *.csv or *.csv.gz files"), std::string::npos) << result.message;
}

TEST(ReplaySymbols, FilterKeepsOnlyTheListedSymbols) {
  Replay replay(json{{"files", {fixture("merge")}}, {"symbols", {"SPY", "AAPL"}}});
  EXPECT_EQ(replay.allHistory("SPY").size(), 3u);
  EXPECT_EQ(replay.allHistory("AAPL").size(), 2u);
  th_status status = TH_OK;
  replay.history("QQQ", INT64_MIN, INT64_MAX, status);
  EXPECT_EQ(status, TH_ERR_NOT_FOUND);
  th_instrument instrument;
  EXPECT_EQ(replay.lookup("QQQ", instrument), TH_ERR_NOT_FOUND);
  EXPECT_EQ(replay.subscribe("QQQ"), TH_ERR_NOT_FOUND);
}

// A backtest without --symbols plays what this lists: every symbol of the
// files, once, however a file orders them (interleaved, grouped, one
// appearing late), in either format, and only those a filter keeps.
TEST(ReplaySymbols, ListsEverySymbolOfTheFilesOnce) {
  TempDir dir;
  std::ofstream(dir.file("native.csv")) << "ts_ms,symbol,open,high,low,close,volume\n"
                                        << "0,SPY,1,1,1,1,1\n0,QQQ,1,1,1,1,1\n60000,SPY,1,1,1,1,1\n60000,QQQ,1,1,1,1,1\n"
                                        << "120000,SPY,1,1,1,1,1\n120000,IWM,1,1,1,1,1\n120000,QQQ,1,1,1,1,1\n"
                                        << "180000,SPY,1,1,1,1,1\n180000,QQQ,1,1,1,1,1\n240000,AAPL,1,1,1,1,1\n";
  std::filesystem::create_directory(dir.file("flat"));
  std::ofstream(dir.file("flat/day.csv")) << "ticker,volume,open,close,high,low,window_start,transactions\n"
                                          << "AMD,1,1,1,1,1,0,1\nAMD,1,1,1,1,1,60000000000,1\n"
                                          << "MSFT,1,1,1,1,1,0,1\nZ,1,1,1,1,1,0,1\nMSFT,1,1,1,1,1,60000000000,1\n";
  auto sorted = [](std::vector<std::string> symbols) {
    std::sort(symbols.begin(), symbols.end());
    return symbols;
  };
  th_status status = TH_ERR_INTERNAL;
  Replay native(json{{"files", {dir.file("native.csv")}}});
  EXPECT_EQ(sorted(native.symbols(status)), (std::vector<std::string>{"AAPL", "IWM", "QQQ", "SPY"}));
  EXPECT_EQ(status, TH_OK) << native.error();
  Replay flat(json{{"files", {dir.file("flat")}}});
  EXPECT_EQ(sorted(flat.symbols(status)), (std::vector<std::string>{"AMD", "MSFT", "Z"}));
  EXPECT_EQ(status, TH_OK) << flat.error();
  Replay filtered(json{{"files", {dir.file("native.csv")}}, {"symbols", {"QQQ", "AAPL"}}});
  EXPECT_EQ(filtered.symbols(status), (std::vector<std::string>{"AAPL", "QQQ"})) << "in name order";
  EXPECT_EQ(status, TH_OK) << filtered.error();
}

TEST(ReplaySymbols, FilterNamingAnAbsentSymbolIsAnError) {
  CreateResult result = tryCreate(json{{"files", {fixture("merge")}}, {"symbols", {"SPY", "SPYY"}}});
  EXPECT_EQ(result.status, TH_ERR_INVALID_ARGUMENT);
  EXPECT_NE(result.message.find("replay: config key 'symbols': 'SPYY' is in none of the files"), std::string::npos)
      << result.message;
}

TEST(ReplayHistory, RangeIncludesFromAndExcludesTo) {
  Replay replay(json{{"files", {fixture("native_basic.csv")}}});
  th_status status = TH_OK;
  auto bars = replay.history("SPY", kOpenNs + kMinuteNs, kOpenNs + 2 * kMinuteNs, status);
  ASSERT_EQ(status, TH_OK) << replay.error();
  EXPECT_EQ(keys(bars), std::vector<std::string>{"SPY@1"});
  EXPECT_EQ(bars[0].flags, static_cast<uint32_t>(TH_BAR_FINAL | TH_BAR_HISTORY));
  EXPECT_EQ(bars[0].duration_ns, kMinuteNs);
  EXPECT_EQ(bars[0].vwap, 0);

  // One nanosecond past a bar's start leaves it out; one past `to` takes the next.
  EXPECT_EQ(keys(replay.history("SPY", kOpenNs + 1, kOpenNs + 2 * kMinuteNs + 1, status)),
            (std::vector<std::string>{"SPY@1", "SPY@2"}));
  EXPECT_EQ(keys(replay.history("SPY", kOpenNs, kOpenNs, status)), std::vector<std::string>{});
  EXPECT_EQ(keys(replay.history("SPY", kOpenNs - kMinuteNs, kOpenNs + 1, status)), std::vector<std::string>{"SPY@0"});
}

TEST(ReplayHistory, UnknownSymbolAndOtherBarSizesAreRefused) {
  Replay replay(json{{"files", {fixture("native_basic.csv")}}});
  th_status status = TH_OK;
  replay.history("IWM", kOpenNs, kOpenNs + kMinuteNs, status);
  EXPECT_EQ(status, TH_ERR_NOT_FOUND);
  EXPECT_NE(replay.error().find("unknown symbol 'IWM'"), std::string::npos) << replay.error();
  replay.history("SPY", kOpenNs, kOpenNs + kMinuteNs, status, 5 * kMinuteNs);
  EXPECT_EQ(status, TH_ERR_NOT_SUPPORTED);
  replay.history("SPY", kOpenNs + kMinuteNs, kOpenNs, status);
  EXPECT_EQ(status, TH_ERR_INVALID_ARGUMENT);
}

TEST(ReplayLookup, DescribesKnownSymbolsOnly) {
  Replay replay(json{{"files", {fixture("native_basic.csv")}}});
  th_instrument instrument;
  ASSERT_EQ(replay.lookup("SPY", instrument), TH_OK) << replay.error();
  EXPECT_STREQ(instrument.symbol, "SPY");
  EXPECT_STREQ(instrument.exchange, "REPLAY");
  EXPECT_EQ(instrument.asset_class, TH_ASSET_EQUITY);
  EXPECT_EQ(instrument.tick_size, 0.01);
  EXPECT_EQ(instrument.multiplier, 1);
  EXPECT_EQ(replay.lookup("IWM", instrument), TH_ERR_NOT_FOUND);
  EXPECT_NE(replay.error().find("unknown symbol 'IWM'"), std::string::npos) << replay.error();
}

}  // namespace
}  // namespace th::test::replay
