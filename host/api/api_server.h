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
//
// WebSocket clients at /ws receive every broadcast message, messages sent to
// them by id, and the updates of the topics they are subscribed to. Those
// calls may come from any thread (the core thread above all) and never wait
// for the network: they are handed, in call order, to one I/O strand that owns
// the topic subscriptions, which queues a shared reference to the same text for
// each recipient. A client that falls behind has its queued topic updates
// discarded and is told to resync; one that keeps falling behind, or whose
// queue is full of messages that cannot be discarded, is closed rather than
// allowed to grow memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
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
  // {"error": message} with the status the error stands for: InvalidArgument
  // 400, NotFound 404, AlreadyExists 409, Unavailable 503, anything else 500.
  static HttpResponse fromError(const Error& error);
};

struct ApiOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port
  size_t max_body_bytes = 1 << 20;
  size_t max_frame_bytes = 64 << 10;
  size_t max_clients = 256;           // WebSocket clients
  // Open HTTP connections; beyond it a request is answered 503, except
  // health, metrics and the kill switch, which keep kReservedConnections
  // more so the operator can still look and halt.
  size_t max_connections = 512;
  static constexpr size_t kReservedConnections = 16;
  size_t max_queued_messages = 4096;  // per WebSocket client, not yet handed to its socket
  size_t max_queued_bytes = 16 << 20;  // the same in bytes
  size_t max_resyncs_per_minute = 3;  // per WebSocket client; one more and it is closed
  std::string token;                  // empty: mutating routes are disabled
};

// Unique for the server's lifetime, never reused.
using WsClientId = uint64_t;
// One serialised message, shared by every client it goes to.
using SharedText = std::shared_ptr<const std::string>;

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
  // HTTP connections open now, and those answered 503 for being one too many.
  size_t connectionsOpen() const;
  uint64_t connectionsRefused() const;

  // Sends `message` (serialised once, shared by all) to every WebSocket client.
  void broadcast(std::string message);
  size_t clientCount() const;
  uint64_t requestsServed() const;
  // WebSocket clients closed for falling behind.
  uint64_t clientsDropped() const;

  // WebSocket clients by id, and topics. The handlers are set before start()
  // and run on an I/O thread, so they must be quick (post to the core thread)
  // and must not throw.
  //
  // Every text message a client sends, except {"op":"ping"}, which the server
  // answers itself. Without this handler clients get an "unknown op" error;
  // if it throws, the client gets an "internal error". A message over
  // max_frame_bytes is not passed on: it closes the client (code 1009).
  void onWsMessage(std::function<void(WsClientId, std::string_view text)> handler);
  // Once per client that completed the WebSocket handshake, however it ended.
  void onWsClosed(std::function<void(WsClientId)> handler);
  // A client fell more than max_queued_messages behind and its queued topic
  // updates were discarded; it has been sent {"type":"resync",...} and will
  // ignore updates of `topic` until a fresh snapshot, which the topic's owner
  // sends with sendTo. It stays subscribed. Called once per topic it has.
  void onWsResync(std::function<void(WsClientId, const std::string& topic)> handler);

  // From any thread; they never block on the network. For each client,
  // messages go out in the order of the calls (sendTo, subscribe, unsubscribe,
  // publish and broadcast made from one thread are ordered among themselves),
  // so sendTo(c, snapshot) then subscribe(c, t) then publish(t, update) gives
  // c the snapshot first and no update published before the subscribe.
  // Calls naming a client that has gone are ignored.
  void sendTo(WsClientId client, SharedText message);
  void subscribe(WsClientId client, std::string topic);
  void unsubscribe(WsClientId client, const std::string& topic);
  // To every subscriber of `topic`; O(1) on the calling thread.
  void publish(const std::string& topic, SharedText message);
  // Approximate: calls still on their way to the I/O strand are not counted.
  size_t topicSubscribers(const std::string& topic) const;
  // Times a client was told to resync (once per overflow, whatever its topics).
  uint64_t clientsResynced() const;

  struct Impl;  // defined in api_server_impl.h; public so its sessions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace th
