// Loading: both CSV formats, gzip, directories, the symbol filter, the config
// and every kind of malformed file; then history() and lookup() on the loaded
// data. Playback is in replay_playback_test.cpp.
#include "replay/replay_support.h"

#include <zlib.h>

#include <fstream>
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
        MalformedCase{"blank_line.csv", "blank_line.csv:3:", "blank line before the end of the file"}),
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
