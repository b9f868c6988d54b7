// A blocking HTTP/1.1 client for the command line's calls to a running host
// (`tradehost order ...`, `kill`, `positions`). One request per connection;
// Beast stays in api_client.cpp, so the CLI does not pay for its headers.
#pragma once

#include <chrono>
#include <string>

#include "core/error.h"

namespace th {

struct ApiReply {
  int status = 0;
  std::string body;
};

// Sends one request to `host_port` ("127.0.0.1:8080") and returns the reply
// whatever its status; an Error only when no reply arrived. `token`, when
// not empty, goes in `Authorization: Bearer`; a non-empty `body` is sent as
// application/json. `timeout` bounds the whole exchange (connect, send,
// read). Errors: InvalidArgument for a malformed `host_port`, Unavailable
// when the host cannot be reached or does not answer in time (the message
// says how to start it or point at it), Io for anything else.
[[nodiscard]] Result<ApiReply> apiRequest(const std::string& host_port, const std::string& method,
                                          const std::string& target, const std::string& body, const std::string& token,
                                          std::chrono::milliseconds timeout);

}  // namespace th
