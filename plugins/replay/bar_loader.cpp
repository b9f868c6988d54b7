#include "bar_loader.hpp"

#include "csv_format.hpp"
#include "line_reader.hpp"
#include "text.hpp"

#include <th/memory.hpp>
#include <th/plugin.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace th::replay {
namespace {

// A plain file is parsed in slices of at least this many bytes, one thread
// each, up to the machine's cores (a year of minute bars for ten symbols is
// about 50 MB).
constexpr size_t kMinSliceBytes = size_t{1} << 20;
constexpr size_t kMaxSlices = 8;
// After this many data lines a slice guesses each symbol's share of the rest
// and reserves room for it, instead of growing by doubling.
constexpr uint64_t kSampleLines = 4096;

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

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// What a stretch of one file showed of a symbol: its bars (when the filter
// keeps it), and its first and last bar, to reject a bar that goes back in
// time and to point at the line it contradicts.
struct SymbolSeen {
  std::string name;
  bool kept = false;
  std::vector<StoredBar> bars;
  int32_t firstMinute = 0, lastMinute = 0;
  uint64_t lastLine = 0;
  uint64_t lines = 0;
  uint32_t next = UINT32_MAX;  // the symbol that followed this one last time
};

std::string expectedHeaders() { return concat("expected '", kNativeHeader, "' or '", kPolygonHeader, "'"); }

// Parses and checks the data lines of one stretch of a file, in order.
// Failures throw through failAt with `path` and the line number given.
// After a sample of lines it reserves each symbol's room for `bytes` of them.
class SliceParser {
 public:
  SliceParser(const std::string& path, CsvFormat format, const SymbolFilter& filter, size_t bytes)
      : path_(path), format_(format), filter_(filter), bytes_(bytes) {}

  void line(std::string_view text, uint64_t number) {
    LineLocation where{path_, number};
    if (text.empty()) {
      if (firstBlankLine_ == 0) firstBlankLine_ = number;
      return;
    }
    // Blank lines are tolerated only at the end, where editors leave them; one
    // in the middle usually means two files were pasted together.
    if (firstBlankLine_ != 0) failAt({path_, firstBlankLine_}, "blank line before the end of the file");
    bytesSeen_ += text.size() + 1;
    ParsedBar bar = parseLine(format_, text, where);
    const uint32_t before = last_;
    SymbolSeen& seen = symbol(bar.symbol);
    switches_ += last_ != before;
    if (seen.lines != 0 && bar.minute < seen.lastMinute) {
      failAt(where, concat("'", bar.symbol, "' bar at ", formatMinute(bar.minute), " is earlier than its bar at ",
                           formatMinute(seen.lastMinute), " on line ", std::to_string(seen.lastLine),
                           " (bars of a symbol must be in time order)"));
    }
    if (seen.lines == 0) seen.firstMinute = bar.minute;
    ++seen.lines;
    seen.lastMinute = bar.minute;
    seen.lastLine = number;
    if (seen.kept) {
      seen.bars.push_back(StoredBar{bar.minute, bar.tradeCount, bar.open, bar.high, bar.low, bar.close, bar.volume});
    }
    if (++dataLines_ == kSampleLines) reserveForTheRest();
  }

  std::vector<SymbolSeen>& symbols() { return symbols_; }
  uint64_t firstBlankLine() const { return firstBlankLine_; }
  bool hasData() const { return dataLines_ > 0; }

 private:
  // Files interleave their symbols in a fixed order (native files, by time
  // then symbol) or group them (Polygon files, by ticker): the line's symbol
  // is nearly always the last one or the one that followed it last time.
  SymbolSeen& symbol(std::string_view name) {
    if (last_ != UINT32_MAX) {
      SymbolSeen& previous = symbols_[last_];
      if (previous.name == name) return previous;
      if (previous.next != UINT32_MAX && symbols_[previous.next].name == name) {
        last_ = previous.next;
        return symbols_[last_];
      }
    }
    auto it = index_.find(name);
    uint32_t found;
    if (it != index_.end()) {
      found = it->second;
    } else {
      found = static_cast<uint32_t>(symbols_.size());
      SymbolSeen fresh;
      fresh.name = std::string(name);
      fresh.kept = filter_.keeps(name);
      symbols_.push_back(std::move(fresh));
      index_.emplace(std::string(name), found);
    }
    if (last_ != UINT32_MAX) symbols_[last_].next = found;
    last_ = found;
    return symbols_[found];
  }

  void reserveForTheRest() {
    // Only a file that interleaves its symbols (by time, then symbol) shows
    // each symbol's share of the rest in the sample. One grouped by symbol
    // (Polygon's, by ticker) shows one group, or the end of one and the
    // start of the next, which says nothing of the rest: it grows as it goes.
    if (symbols_.size() < 2 || switches_ < kSampleLines / 2) return;
    const double lines = static_cast<double>(bytes_) / static_cast<double>(bytesSeen_) * kSampleLines;
    for (SymbolSeen& seen : symbols_) {
      if (!seen.kept) continue;
      const double share = static_cast<double>(seen.lines) / kSampleLines;
      reserveLarge(seen.bars, static_cast<size_t>(share * lines * 1.02) + 16);
    }
  }

  const std::string& path_;
  CsvFormat format_;
  const SymbolFilter& filter_;
  size_t bytes_;
  size_t bytesSeen_ = 0;
  uint64_t dataLines_ = 0;
  uint64_t firstBlankLine_ = 0;
  uint32_t last_ = UINT32_MAX;
  uint64_t switches_ = 0;  // lines whose symbol differs from the line before's
  std::vector<SymbolSeen> symbols_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
};

// Hands the parsed symbols of a file (its slices in order) to the builder.
// False when a symbol's bars go back in time across two slices: the caller
// then parses the file again in one piece, which names the lines.
bool collect(std::vector<SliceParser>& slices, BarStoreBuilder& builder) {
  struct Whole {
    std::vector<SymbolSeen*> parts;
  };
  std::unordered_map<std::string_view, Whole> wholes;
  std::vector<std::string_view> order;  // first appearance
  for (auto& slice : slices) {
    for (SymbolSeen& seen : slice.symbols()) {
      auto [it, fresh] = wholes.try_emplace(seen.name);
      if (fresh) order.push_back(seen.name);
      if (!it->second.parts.empty() && seen.firstMinute < it->second.parts.back()->lastMinute) return false;
      it->second.parts.push_back(&seen);
    }
  }
  for (std::string_view name : order) {
    auto& parts = wholes[name].parts;
    if (!parts.front()->kept) {
      continue;
    }
    const uint32_t index = builder.intern(name);
    if (parts.size() == 1) {
      builder.append(index, std::move(parts.front()->bars));
      continue;
    }
    size_t total = 0;
    for (const SymbolSeen* part : parts) total += part->bars.size();
    // The first slice reserved room for the whole file: the rest goes after it in place.
    std::vector<StoredBar> bars = std::move(parts.front()->bars);
    reserveLarge(bars, total);
    for (size_t i = 1; i < parts.size(); ++i) {
      bars.insert(bars.end(), parts[i]->bars.begin(), parts[i]->bars.end());
      parts[i]->bars = {};
    }
    builder.append(index, std::move(bars));
  }
  return true;
}

// The header's format, or an error naming the file.
CsvFormat headerFormat(const std::string& path, std::string_view header) {
  std::optional<CsvFormat> format = detectFormat(header);
  if (!format) failAt({path, 1}, concat("unknown header '", header.substr(0, 200), "' (", expectedHeaders(), ")"));
  return *format;
}

// Any file (plain or gzip) line by line on this thread.
void loadStreamed(const std::string& path, const SymbolFilter& filter, BarStoreBuilder& builder) {
  LineReader reader(path);
  std::string_view line;
  if (!reader.next(line)) failAt({path, 1}, concat("empty file (", expectedHeaders(), ")"));
  std::vector<SliceParser> slices;
  slices.emplace_back(path, headerFormat(path, line), filter, 0);
  while (reader.next(line)) slices.front().line(line, reader.lineNumber());
  if (!slices.front().hasData()) failAt({path, 2}, "no bars after the header");
  collect(slices, builder);
}

// A plain file mapped into memory, read-only; empty when it cannot be (the
// streamed reader then reports why).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
      void* at = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (at != MAP_FAILED) {
        data_ = static_cast<const char*>(at);
        size_ = static_cast<size_t>(info.st_size);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return {data_, size_}; }
  // gzip's magic number: such files are read through zlib instead.
  bool gzip() const { return size_ >= 2 && data_[0] == '\x1f' && data_[1] == '\x8b'; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Feeds `text` (whole lines) of the file `path` to `parser`, numbering lines from `first`.
void parseLines(const std::string& path, std::string_view text, SliceParser& parser, uint64_t first) {
  uint64_t number = first;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.size() > LineReader::kMaxLineBytes) LineReader::lineTooLong(path, number);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    parser.line(line, number++);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// A plain file parsed in slices on parallel threads. False when the slices
// cannot vouch for the file (a bad line, a blank line before the end, bars
// going back in time across slices): the caller then reads it in one piece,
// whose error names the exact line.
bool loadSliced(const std::string& path, std::string_view text, const SymbolFilter& filter, BarStoreBuilder& builder) {
  size_t headerEnd = text.find('\n');
  if (headerEnd == std::string_view::npos || headerEnd > LineReader::kMaxLineBytes) return false;
  std::string_view header = text.substr(0, headerEnd);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  const CsvFormat format = headerFormat(path, header);
  std::string_view body = text.substr(headerEnd + 1);

  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t count = std::clamp<size_t>(body.size() / kMinSliceBytes, 1, std::min(cores, kMaxSlices));
  std::vector<std::string_view> pieces;
  for (size_t i = 0, from = 0; i < count && from < body.size(); ++i) {
    size_t to = i + 1 == count ? body.size() : std::max(from, body.size() / count * (i + 1));
    if (to < body.size()) {
      const size_t newline = body.find('\n', to);
      to = newline == std::string_view::npos ? body.size() : newline + 1;
    }
    pieces.push_back(body.substr(from, to - from));
    from = to;
  }
  if (pieces.empty()) failAt({path, 2}, "no bars after the header");
  std::vector<SliceParser> slices;
  slices.reserve(pieces.size());
  // The first slice reserves for the whole body, so the others can be appended to it.
  for (auto piece : pieces) slices.emplace_back(path, format, filter, slices.empty() ? body.size() : piece.size());
  std::vector<std::exception_ptr> errors(pieces.size());
  auto run = [&](size_t i) {
    try {
      parseLines(path, pieces[i], slices[i], 2);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> threads;
    std::vector<size_t> here{0};  // the slices parsed on this thread
    for (size_t i = 1; i < pieces.size(); ++i) {
      try {
        threads.emplace_back(run, i);
      } catch (const std::system_error&) {
        here.push_back(i);  // no thread to be had: parsed here instead
      }
    }
    for (size_t i : here) run(i);
  }
  // The first slice numbers its lines truly, so its error stands as it is.
  if (errors.size() > 0 && errors[0]) std::rethrow_exception(errors[0]);
  if (std::none_of(slices.begin(), slices.end(), [](const SliceParser& s) { return s.hasData(); })) {
    failAt({path, 2}, "no bars after the header");
  }
  for (size_t i = 0; i < slices.size(); ++i) {
    if (errors[i]) return false;
    if (slices[i].firstBlankLine() != 0) {
      for (size_t j = i + 1; j < slices.size(); ++j) {
        if (slices[j].hasData()) return false;
      }
    }
  }
  return collect(slices, builder);
}

void loadFile(const std::string& path, const SymbolFilter& filter, BarStoreBuilder& builder) {
  {
    MappedFile mapped(path);
    if (!mapped.text().empty() && !mapped.gzip()) {
      // Parsed into a builder of its own, so a failed attempt leaves nothing behind.
      BarStoreBuilder attempt;
      if (loadSliced(path, mapped.text(), filter, attempt)) {
        builder.take(std::move(attempt));
        return;
      }
    }
  }
  loadStreamed(path, filter, builder);
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
