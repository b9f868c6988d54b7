// A blocking WebSocket client for tests (Boost.Beast), connected to /ws on
// 127.0.0.1.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

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
