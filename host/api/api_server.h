// The HTTP and WebSocket server (Boost.Beast underneath; nothing Beast leaks
// through this header, so other services register routes without paying for
// its headers).
//
// Routes are registered before start(). Handlers run on the server's I/O
// thread and must not touch trading state directly: they read snapshots or
// post work to the core thread and wait for its answer. POST, PUT and DELETE
// routes require `Authorization: Bearer <token>`; with no token configured
// they are refused outright. Malformed requests, oversized bodies, unknown
// paths and wrong methods get a 4xx JSON body {"error": "..."} with a reason.
// WebSocket clients at /ws receive every broadcast message; a client that
// falls too far behind is dropped rather than allowed to grow memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace th {

struct HttpRequest {
  std::string method;
  std::string path;                          // without the query string
  std::map<std::string, std::string> query;  // decoded
  std::vector<std::string> params;           // values of the {name} path segments, in order
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, std::string body);
  // {"error": reason} with the status.
  static HttpResponse error(int status, std::string_view reason);
};

struct ApiOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port
  size_t max_body_bytes = 1 << 20;
  size_t max_frame_bytes = 64 << 10;
  size_t max_clients = 256;
  size_t max_queued_messages = 4096;  // per WebSocket client
  std::string token;                  // empty: mutating routes are disabled
};

class ApiServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Answers later, from any thread, exactly once.
  using Responder = std::function<void(HttpResponse)>;
  using AsyncHandler = std::function<void(const HttpRequest&, Responder)>;

  explicit ApiServer(ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // `pattern` is a path with {name} segments, e.g. /api/v1/plugins/{id}/connect.
  void route(const std::string& method, const std::string& pattern, Handler handler);
  // For handlers that would block (a plugin call): the I/O thread moves on
  // and the response is written when the handler calls its Responder.
  void asyncRoute(const std::string& method, const std::string& pattern, AsyncHandler handler);

  [[nodiscard]] Result<void> start();
  void stop();
  uint16_t port() const;

  // Sends `message` (serialised once, shared by all) to every WebSocket client.
  void broadcast(std::string message);
  size_t clientCount() const;
  uint64_t requestsServed() const;
  uint64_t clientsDropped() const;

  struct Impl;  // defined in api_server.cpp; public so its sessions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace th
