// A blocking WebSocket client for tests (Boost.Beast), connected to /ws on
// 127.0.0.1.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace th::test {

class WsClient {
 public:
  using Stream = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

  explicit WsClient(uint16_t port) : ws_(ioc_) {
    boost::asio::ip::tcp::resolver resolver(ioc_);
    boost::asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.handshake("127.0.0.1", "/ws");
  }
  // With a small receive buffer the kernel holds little for a client that
  // does not read, so the server sees it fall behind sooner.
  WsClient(uint16_t port, int receive_buffer_bytes) : ws_(ioc_) {
    auto& socket = ws_.next_layer();
    socket.open(boost::asio::ip::tcp::v4());
    socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer_bytes));
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1", "/ws");
  }
  // The next message, or nothing if the connection ends or none arrives
  // within `timeout`. After a timeout the connection is closed: an abandoned
  // read leaves the stream unusable.
  std::optional<std::string> readWithin(std::chrono::milliseconds timeout) {
    boost::beast::flat_buffer buffer;
    bool done = false;
    boost::beast::error_code result;
    ws_.async_read(buffer, [&](boost::beast::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      boost::beast::error_code ignored;
      ws_.next_layer().close(ignored);
      ioc_.restart();
      ioc_.run();
    }
    if (!done || result) return std::nullopt;
    return boost::beast::buffers_to_string(buffer.data());
  }
  std::string read() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return boost::beast::buffers_to_string(buffer.data());
  }
  void write(const std::string& text) { ws_.write(boost::asio::buffer(text)); }
  Stream& stream() { return ws_; }

 private:
  boost::asio::io_context ioc_;
  Stream ws_;
};

}  // namespace th::test
