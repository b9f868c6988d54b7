// Listening, HTTP sessions and routing. WebSocket sessions and topics are in
// api_server_ws.cpp.
#include "api/api_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "api/api_server_impl.h"
#include "core/json.h"

#include <optional>

namespace th {

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view reason) {
  return json(status, jsonText(nlohmann::json{{"error", reason}}));
}

HttpResponse HttpResponse::fromError(const Error& error) {
  switch (error.code) {
    case ErrorCode::InvalidArgument:
      return HttpResponse::error(400, error.message);
    case ErrorCode::NotFound:
      return HttpResponse::error(404, error.message);
    case ErrorCode::AlreadyExists:
      return HttpResponse::error(409, error.message);
    case ErrorCode::Unavailable:
      return HttpResponse::error(503, error.message);
    default:
      return HttpResponse::error(500, error.message);
  }
}

namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::optional<std::string> urlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Comparison whose time does not depend on where the strings differ.
bool sameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

// One HTTP connection: read a request, answer it, repeat while keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, ApiServer::Impl& server) : stream_(std::move(socket)), server_(server) {
    server_.connections.fetch_add(1);
  }
  ~HttpSession() {
    if (counted_) server_.connections.fetch_sub(1);
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  // The framing is checked before any body is read (RFC 9112 §6): one
  // Transfer-Encoding, and only "chunked"; not both it and Content-Length.
  // A request the host and a proxy in front of it would frame differently
  // is refused rather than guessed at.
  void onHeader(beast::error_code ec) {
    if (ec) return onRead(ec);
    const auto& header = parser_->get();
    const size_t codings = header.count(http::field::transfer_encoding);
    if (codings > 0) {
      const auto field = header[http::field::transfer_encoding];
      std::string_view coding(field.data(), field.size());
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
      if (codings > 1 || !beast::iequals(beast::string_view(coding.data(), coding.size()), "chunked")) {
        return reply(HttpResponse::error(400, fmt::format("Transfer-Encoding: only 'chunked' is understood, got '{}'",
                                                          std::string(coding))),
                     11, false);
      }
      if (header.count(http::field::content_length) > 0) {
        return reply(HttpResponse::error(400, "Transfer-Encoding and Content-Length together"), 11, false);
      }
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof) return shutdown();
    if (ec == http::error::body_limit) {
      return reply(
          HttpResponse::error(413, fmt::format("request body exceeds {} bytes", server_.options.max_body_bytes)), 11,
          false);
    }
    if (ec == http::error::header_limit) return reply(HttpResponse::error(431, "request headers too large"), 11, false);
    if (ec && ec.category() == beast::http::make_error_code(http::error::bad_method).category()) {
      return reply(HttpResponse::error(400, fmt::format("malformed HTTP request: {}", ec.message())), 11, false);
    }
    if (ec) return shutdown();

    auto request = parser_->release();
    const size_t connections = server_.connections.load();
    if (connections > server_.options.max_connections) {
      std::string_view target(request.target().data(), request.target().size());
      const bool reserved = target.starts_with("/api/v1/health") || target.starts_with("/metrics") ||
                            target.starts_with("/api/v1/risk/kill");
      if (!reserved || connections > server_.options.max_connections + ApiOptions::kReservedConnections) {
        server_.refused_connections.fetch_add(1);
        return reply(HttpResponse::error(503, fmt::format("too many connections ({} open; api.max_connections is {})",
                                                          connections, server_.options.max_connections)),
                     request.version(), false);
      }
    }
    if (websocket::is_upgrade(request)) {
      if (request.target() != "/ws") return reply(HttpResponse::error(404, "WebSocket endpoint is /ws"), 11, false);
      if (server_.client_count.load() >= server_.options.max_clients) {
        return reply(HttpResponse::error(503, "too many WebSocket clients"), request.version(), false);
      }
      stream_.expires_never();
      counted_ = false;  // WebSocket clients have their own cap (max_clients)
      server_.connections.fetch_sub(1);
      server_.startWebSocket(stream_.release_socket(), std::move(request));
      return;
    }
    server_.requests.fetch_add(1);
    unsigned version = request.version();
    bool keep_alive = request.keep_alive();
    // No further request is read on this connection until this one is answered.
    server_.handle(request, [self = shared_from_this(), version, keep_alive](HttpResponse response) {
      net::dispatch(self->stream_.get_executor(),
                    [self, response = std::move(response), version, keep_alive]() mutable {
                      self->reply(std::move(response), version, keep_alive);
                    });
    });
  }

  void reply(HttpResponse response, unsigned version, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version);
    res->set(http::field::server, "tradehost");
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
      if (!ec && keep_alive) return self->read();
      self->shutdown();
    });
  }

  void shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  ApiServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool counted_ = true;
};

void ApiServer::Impl::handle(const http::request<http::string_body>& request, ApiServer::Responder respond) {
  std::string_view target(request.target().data(), request.target().size());
  auto question = target.find('?');
  auto raw_path = target.substr(0, question);
  auto path = urlDecode(raw_path);
  if (!path || raw_path.empty() || raw_path[0] != '/')
    return respond(HttpResponse::error(400, "malformed request target"));

  HttpRequest req;
  req.method = std::string(request.method_string());
  req.path = *path;
  req.body = request.body();
  if (question != std::string_view::npos) {
    auto query = target.substr(question + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      auto eq = pair.find('=');
      auto key = urlDecode(pair.substr(0, eq));
      auto value = urlDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!key || !value) return respond(HttpResponse::error(400, "malformed query string"));
      if (!key->empty()) req.query[*key] = *value;
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }

  auto segments = splitPath(req.path);
  std::string allowed;
  for (const auto& route : routes) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const auto& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params.push_back(segments[i]);
      } else {
        match = want == segments[i];
      }
    }
    if (!match) continue;
    if (route.method != req.method) {
      if (!allowed.empty()) allowed += ", ";
      allowed += route.method;
      continue;
    }
    bool mutating = req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
    if (mutating) {
      if (options.token.empty()) {
        return respond(
            HttpResponse::error(403, "mutating endpoints are disabled: start the host with TRADEHOST_TOKEN set"));
      }
      auto header = request[http::field::authorization];
      std::string_view auth(header.data(), header.size());
      if (!auth.starts_with("Bearer ") || !sameSecret(auth.substr(7), options.token)) {
        auto r = HttpResponse::error(401, "missing or wrong bearer token (Authorization: Bearer $TRADEHOST_TOKEN)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return respond(std::move(r));
      }
    }
    req.params = std::move(params);
    // A handler that throws gets a 500; an async one must throw only
    // before it has answered.
    try {
      if (route.async) return route.async(req, respond);
      return respond(route.handler(req));
    } catch (const std::exception& e) {
      return respond(HttpResponse::error(500, fmt::format("internal error: {}", e.what())));
    }
  }
  if (!allowed.empty()) {
    auto r = HttpResponse::error(
        405, fmt::format("method {} not allowed on {} (allowed: {})", req.method, req.path, allowed));
    r.headers.emplace_back("Allow", allowed);
    return respond(std::move(r));
  }
  respond(HttpResponse::error(404, fmt::format("no such endpoint: {}", req.path)));
}

void ApiServer::Impl::accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      std::make_shared<HttpSession>(std::move(socket), *this)->run();
      return accept();
    }
    // Out of file descriptors (or another failure that would recur at
    // once): accepting again straight away would spin a core. Pause, so the
    // connections that hold them can finish.
    if (!accept_failing.exchange(true)) spdlog::warn("API: cannot accept connections: {}; retrying", ec.message());
    accept_pause.emplace(ioc, std::chrono::milliseconds(100));
    accept_pause->async_wait([this](beast::error_code wait_ec) {
      if (wait_ec == net::error::operation_aborted) return;
      accept();
    });
  });
}

ApiServer::ApiServer(ApiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  impl_->routes.push_back(ApiRoute{method, splitPath(pattern), std::move(handler), nullptr});
}

void ApiServer::asyncRoute(const std::string& method, const std::string& pattern, AsyncHandler handler) {
  impl_->routes.push_back(ApiRoute{method, splitPath(pattern), nullptr, std::move(handler)});
}

Result<void> ApiServer::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec)
    return fail(ErrorCode::InvalidArgument,
                fmt::format("api: bad listen address '{}': {}", impl_->options.host, ec.message()));
  tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.emplace(impl_->ioc);
  impl_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(endpoint, ec);
  if (!ec) impl_->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::Io,
                fmt::format("api: cannot listen on {}:{}: {}", impl_->options.host, impl_->options.port, ec.message()));
  }
  impl_->bound_port = impl_->acceptor->local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < 2; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return {};
}

void ApiServer::stop() {
  if (impl_->threads.empty()) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->abandonWebSockets();
}

uint16_t ApiServer::port() const { return impl_->bound_port; }
size_t ApiServer::connectionsOpen() const { return impl_->connections.load(); }
uint64_t ApiServer::connectionsRefused() const { return impl_->refused_connections.load(); }

size_t ApiServer::clientCount() const { return impl_->client_count.load(); }
uint64_t ApiServer::requestsServed() const { return impl_->requests.load(); }
uint64_t ApiServer::clientsDropped() const { return impl_->dropped.load(); }

}  // namespace th
