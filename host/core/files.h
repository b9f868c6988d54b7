// Reading a whole file the host was pointed at (a configuration, a
// calendar, a strategy's file). It must be what it claims: a regular file
// (not a FIFO that never ends, a device such as /dev/zero, a directory or a
// symlink loop) of at most `max_bytes`; else the error names the path and
// the reason, and nothing is read.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"

namespace th {

inline Result<std::string> readWholeFile(const std::filesystem::path& path, uintmax_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec) return fail(ErrorCode::Io, fmt::format("{}: {}", path.string(), ec.message()));
  if (!fs::is_regular_file(status)) {
    return fail(ErrorCode::InvalidArgument, fmt::format("{}: not a regular file", path.string()));
  }
  const auto size = fs::file_size(path, ec);
  if (ec) return fail(ErrorCode::Io, fmt::format("{}: {}", path.string(), ec.message()));
  if (size > max_bytes) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}: {} bytes, more than the {} this file may have", path.string(), size, max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > max_bytes) {  // it grew while being read
    return fail(ErrorCode::InvalidArgument, fmt::format("{}: more than {} bytes", path.string(), max_bytes));
  }
  return text.str();
}

}  // namespace th
