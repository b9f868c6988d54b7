#include "line_reader.hpp"

#include "text.hpp"

#include <th/plugin.hpp>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace th::replay {
namespace {

// Large reads keep the per-call overhead of gzread negligible next to parsing.
constexpr size_t kChunkBytes = size_t{256} * 1024;

[[noreturn]] void ioError(const std::string& path, std::string_view what) {
  throw Error(TH_ERR_IO, concat(path, ": ", what));
}

}  // namespace

LineReader::LineReader(std::string path) : path_(std::move(path)), buffer_(kChunkBytes) {
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  if (!file_) ioError(path_, concat("cannot open: ", errno ? std::strerror(errno) : "out of memory"));
  gzbuffer(file_, kChunkBytes);
}

LineReader::~LineReader() {
  if (file_) gzclose(file_);
}

bool LineReader::fill() {
  if (endOfFile_) return false;
  // Move the partial line to the front so the buffer only grows for long lines.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kChunkBytes / 2) buffer_.resize(buffer_.size() * 2);
  int room = static_cast<int>(buffer_.size() - end_);
  int got = gzread(file_, buffer_.data() + end_, static_cast<unsigned>(room));
  int code = Z_OK;
  const char* message = gzerror(file_, &code);
  if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    // Z_BUF_ERROR at the end of input means the gzip stream was cut short.
    ioError(path_, code == Z_BUF_ERROR ? std::string("truncated gzip data")
                                       : concat("read error: ", code == Z_ERRNO ? std::strerror(errno) : message));
  }
  if (got == 0) {
    endOfFile_ = true;
    return false;
  }
  end_ += static_cast<size_t>(got);
  return true;
}

void LineReader::lineTooLong(const std::string& path, uint64_t line) {
  throw Error(TH_ERR_INVALID_ARGUMENT, concat(path, ":", std::to_string(line), ": line longer than ",
                                              std::to_string(kMaxLineBytes), " bytes; is this a CSV file?"));
}

bool LineReader::next(std::string_view& line) {
  size_t scanFrom = begin_;
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(buffer_.data() + scanFrom, '\n', end_ - scanFrom);
    size_t length = 0;
    if (newline) {
      length = static_cast<size_t>(static_cast<const char*>(newline) - start);
      begin_ += length + 1;
    } else {
      if (end_ - begin_ > kMaxLineBytes) {
        lineTooLong(path_, lineNumber_ + 1);
      }
      size_t scanned = end_ - begin_;
      if (fill()) {
        scanFrom = begin_ + scanned;
        continue;
      }
      // The last line of a file need not end with a newline.
      if (begin_ == end_) return false;
      start = buffer_.data() + begin_;
      length = end_ - begin_;
      begin_ = end_;
    }
    if (length > 0 && start[length - 1] == '\r') --length;
    line = std::string_view(start, length);
    ++lineNumber_;
    return true;
  }
}

}  // namespace th::replay
