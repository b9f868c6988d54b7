// A blocking WebSocket client for tests, connected to /ws on 127.0.0.1.
// Beast stays in ws_client.cpp, compiled once for every test that uses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace th::test {

class WsClient {
 public:
  explicit WsClient(uint16_t port);
  // With a small receive buffer the kernel holds little for a client that
  // does not read, so the server sees it fall behind sooner.
  WsClient(uint16_t port, int receive_buffer_bytes);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // The next message, or nothing if the connection ends or none arrives
  // within `timeout`. After a timeout the connection is closed: an abandoned
  // read leaves the stream unusable.
  std::optional<std::string> readWithin(std::chrono::milliseconds timeout);
  // The next message; throws when the connection ends.
  std::string read();
  void write(const std::string& text);
  // Reads until the server closes the connection and returns the close code
  // it sent (0 when it closed without one).
  int readUntilClosed();
  // Closes the connection with a normal close frame.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace th::test
