#include "core/error.h"

namespace th {

std::string_view toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "invalid_argument";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::AlreadyExists:
      return "already_exists";
    case ErrorCode::Io:
      return "io";
    case ErrorCode::Corruption:
      return "corruption";
    case ErrorCode::Plugin:
      return "plugin";
    case ErrorCode::Abi:
      return "abi";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::Internal:
      return "internal";
  }
  return "internal";
}

}  // namespace th
