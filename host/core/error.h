// Errors as values. Hot paths return Result<T>; exceptions are reserved for
// start-up and configuration loading, where failing the process is right.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace th {

enum class ErrorCode {
  InvalidArgument,
  NotFound,
  AlreadyExists,
  Io,
  Corruption,
  Plugin,
  Abi,
  Unavailable,
  Internal,
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace th
