// Internals of ApiServer shared by its two halves: api_server.cpp (listening,
// HTTP routing) and api_server_ws.cpp (WebSocket sessions, topics). Only
// host/api includes this; Beast and Asio stay behind api_server.h.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/api_server.h"

namespace th {

// Short names for the two files behind ApiServer, and nowhere else.
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class WsSession;

struct ApiRoute {
  std::string method;
  std::vector<std::string> segments;
  ApiServer::Handler handler;     // either this,
  ApiServer::AsyncHandler async;  // or this
};

struct ApiServer::Impl {
  explicit Impl(ApiOptions o) : options(std::move(o)) {}

  // Routes the request; `respond` is called exactly once, now or later.
  void handle(const boost::beast::http::request<boost::beast::http::string_body>& request,
              ApiServer::Responder respond);
  void accept();
  // Takes over an upgraded connection (api_server_ws.cpp).
  void startWebSocket(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> request);
  // After the I/O threads have stopped: closes the clients' sockets, so
  // sessions whose handlers will never run do not keep them open.
  void abandonWebSockets();

  ApiOptions options;
  std::vector<ApiRoute> routes;
  boost::asio::io_context ioc{2};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> resynced{0};
  std::atomic<size_t> client_count{0};
  std::atomic<size_t> connections{0};
  std::atomic<uint64_t> refused_connections{0};
  std::atomic<bool> accept_failing{false};  // HTTP sessions alive (WebSocket ones leave it at the upgrade)
  std::optional<boost::asio::steady_timer> accept_pause;  // after a failed accept (out of descriptors)
  std::atomic<WsClientId> next_client_id{1};

  std::function<void(WsClientId, std::string_view)> on_ws_message;
  std::function<void(WsClientId)> on_ws_closed;
  std::function<void(WsClientId, const std::string&)> on_ws_resync;

  // Every call that addresses WebSocket clients (sendTo, subscribe,
  // unsubscribe, publish, broadcast) is posted to this one strand: that is
  // what orders them per calling thread, and it lets the maps below go
  // without a lock on the publish path.
  boost::asio::strand<boost::asio::io_context::executor_type> hub{ioc.get_executor()};
  std::unordered_map<WsClientId, std::shared_ptr<WsSession>> ws_clients;            // hub only
  std::unordered_map<std::string, std::vector<std::shared_ptr<WsSession>>> topics;  // hub only
  mutable std::mutex subscriber_counts_mutex;
  std::unordered_map<std::string, size_t> subscriber_counts;  // written by the hub, read anywhere

  // Every session that completed its handshake, for abandonWebSockets().
  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<WsSession>> sessions;
};

}  // namespace th
