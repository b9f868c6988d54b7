#include "support/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace th::test {

namespace beast = boost::beast;
namespace net = boost::asio;

struct WsClient::Impl {
  net::io_context ioc;
  beast::websocket::stream<net::ip::tcp::socket> ws{ioc};
};

WsClient::WsClient(uint16_t port) : impl_(std::make_unique<Impl>()) {
  net::ip::tcp::resolver resolver(impl_->ioc);
  net::connect(impl_->ws.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
  impl_->ws.handshake("127.0.0.1", "/ws");
}

WsClient::WsClient(uint16_t port, int receive_buffer_bytes) : impl_(std::make_unique<Impl>()) {
  auto& socket = impl_->ws.next_layer();
  socket.open(net::ip::tcp::v4());
  socket.set_option(net::socket_base::receive_buffer_size(receive_buffer_bytes));
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  impl_->ws.handshake("127.0.0.1", "/ws");
}

WsClient::~WsClient() = default;

std::optional<std::string> WsClient::readWithin(std::chrono::milliseconds timeout) {
  beast::flat_buffer buffer;
  bool done = false;
  beast::error_code result;
  impl_->ws.async_read(buffer, [&](beast::error_code ec, size_t) {
    result = ec;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (!done) {
    beast::error_code ignored;
    impl_->ws.next_layer().close(ignored);
    impl_->ioc.restart();
    impl_->ioc.run();
  }
  if (!done || result) return std::nullopt;
  return beast::buffers_to_string(buffer.data());
}

std::string WsClient::read() {
  beast::flat_buffer buffer;
  impl_->ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

void WsClient::write(const std::string& text) { impl_->ws.write(net::buffer(text)); }

int WsClient::readUntilClosed() {
  for (;;) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    impl_->ws.read(buffer, ec);
    if (ec) return static_cast<int>(impl_->ws.reason().code);
  }
}

void WsClient::close() { impl_->ws.close(beast::websocket::close_code::normal); }

}  // namespace th::test
