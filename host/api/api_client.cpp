#include "api/api_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <functional>

namespace th {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Large enough for a full order list (10,000 orders).
constexpr uint64_t kMaxReplyBytes = 64ull << 20;

}  // namespace

Result<ApiReply> apiRequest(const std::string& host_port, const std::string& method, const std::string& target,
                            const std::string& body, const std::string& token, std::chrono::milliseconds timeout) {
  auto colon = host_port.rfind(':');
  int port = 0;
  if (colon != std::string::npos && colon > 0) {
    std::string_view digits = std::string_view(host_port).substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) port = 0;
  }
  if (port < 1 || port > 65535) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("--api: expected HOST:PORT (e.g. 127.0.0.1:8080), got '{}'", host_port));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown)
    return fail(ErrorCode::InvalidArgument, fmt::format("unknown HTTP method '{}'", method));

  net::io_context io;
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    return fail(ErrorCode::Unavailable,
                fmt::format("cannot reach tradehost at {}: cannot resolve '{}': {}", host_port, host, ec.message()));
  }

  // Beast's timeouts apply to asynchronous operations only, so each step is
  // started asynchronously and the context run until it completes; the one
  // deadline covers the whole exchange.
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  auto step = [&io, &ec](const std::function<void()>& start) {
    start();
    io.run();
    io.restart();
    return ec;
  };
  auto unreachable = [&](beast::error_code error) {
    if (error == net::error::connection_refused) {
      return fail(ErrorCode::Unavailable,
                  fmt::format("cannot reach tradehost at {}: connection refused (is `tradehost run` running? "
                              "--api HOST:PORT)",
                              host_port));
    }
    if (error == beast::error::timeout) {
      return fail(ErrorCode::Unavailable,
                  fmt::format("tradehost at {} did not answer within {} ms", host_port, timeout.count()));
    }
    return fail(ErrorCode::Unavailable, fmt::format("cannot reach tradehost at {}: {}", host_port, error.message()));
  };

  if (step([&] { stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; }); })) {
    return unreachable(ec);
  }

  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, host_port);
  request.set(http::field::user_agent, fmt::format("tradehost/{}", TRADEHOST_VERSION));
  request.set(http::field::accept, "application/json");
  if (!token.empty()) request.set(http::field::authorization, fmt::format("Bearer {}", token));
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.keep_alive(false);
  request.prepare_payload();
  if (step([&] { http::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; }); })) {
    if (ec == beast::error::timeout) return unreachable(ec);
    return fail(ErrorCode::Io, fmt::format("request to tradehost at {} failed: {}", host_port, ec.message()));
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  if (step([&] { http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; }); })) {
    if (ec == beast::error::timeout) return unreachable(ec);
    return fail(ErrorCode::Io, fmt::format("no reply from tradehost at {}: {}", host_port, ec.message()));
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  auto response = parser.release();
  return ApiReply{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace th
