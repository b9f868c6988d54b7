// Reads a CSV file line by line, plain or gzip-compressed.
//
// zlib's gz* functions read an uncompressed file unchanged, so one reader
// handles both: Polygon/Massive flat files ship as .csv.gz and are read without
// unpacking them to disk first. Lines are handed out as views into an internal
// buffer, so a file of any size is read with constant memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct gzFile_s;

namespace th::replay {

class LineReader {
 public:
  // Opens `path`; throws th::Error(TH_ERR_IO) naming the file when it cannot.
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its "\n" or "\r\n"; false at the end of the file.
  // The view stays valid until the next call. Throws th::Error(TH_ERR_IO) on a
  // read error or a truncated gzip stream, and TH_ERR_INVALID_ARGUMENT on a
  // line longer than kMaxLineBytes (a binary file, not a CSV).
  bool next(std::string_view& line);

  // 1-based number of the line last returned by next().
  uint64_t lineNumber() const { return lineNumber_; }
  const std::string& path() const { return path_; }

  static constexpr size_t kMaxLineBytes = 1 << 20;
  // The error for line `line` of `path` being longer than kMaxLineBytes.
  [[noreturn]] static void lineTooLong(const std::string& path, uint64_t line);

 private:
  // Reads more bytes after the unconsumed tail; false when nothing was added.
  bool fill();

  std::string path_;
  gzFile_s* file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last byte read
  bool endOfFile_ = false;
  uint64_t lineNumber_ = 0;
};

}  // namespace th::replay
