// The API server on a real socket on 127.0.0.1: routing, the bearer token,
// 4xx answers with reasons, size limits, and WebSocket fan-out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "support/http_client.h"
#include "support/ws_client.h"

namespace th {
namespace {

using test::http;

class ApiServerTest : public ::testing::Test {
 protected:
  void startServer(std::string token, size_t max_body = 1024, size_t max_frame = 4096, size_t max_queue = 4096,
                   size_t max_connections = 512) {
    ApiOptions options;
    options.max_connections = max_connections;
    options.port = 0;
    options.token = std::move(token);
    options.max_body_bytes = max_body;
    options.max_frame_bytes = max_frame;
    options.max_queued_messages = max_queue;
    server_ = std::make_unique<ApiServer>(options);
    server_->route("GET", "/api/v1/health",
                   [](const HttpRequest&) { return HttpResponse::json(200, R"({"status":"ok"})"); });
    server_->route("GET", "/api/v1/echo/{name}", [](const HttpRequest& r) {
      nlohmann::json j = {{"name", r.params.at(0)}, {"query", r.query}};
      return HttpResponse::json(200, j.dump());
    });
    server_->route("POST", "/api/v1/things", [this](const HttpRequest& r) {
      ++mutations_;
      return HttpResponse::json(201, nlohmann::json{{"received", r.body.size()}}.dump());
    });
    server_->route("GET", "/api/v1/boom",
                   [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
    ASSERT_TRUE(server_->start());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  std::string reason(const test::HttpResult& r) { return nlohmann::json::parse(r.body).at("error").get<std::string>(); }

  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
  std::atomic<int> mutations_{0};
};

TEST_F(ApiServerTest, RoutesWithParametersAndDecodedQuery) {
  startServer("secret");
  auto r = http(port_, "GET", "/api/v1/echo/SPY?from=2026-11-20&note=a%20b");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["name"], "SPY");
  EXPECT_EQ(j["query"]["note"], "a b");
  EXPECT_NE(r.head.find("Content-Type: application/json"), std::string::npos);
}

// RFC 9112 framing: a request a proxy and the host could frame differently
// (a coding after chunked, two Transfer-Encodings, one with a length) is
// refused before its body is read, so nothing can ride in it as a second
// request. Plain chunked is read.
TEST_F(ApiServerTest, AmbiguousFramingIsRefusedAndChunkedIsRead) {
  startServer("secret");
  const std::string smuggled = "5\r\nhello\r\n0\r\n\r\n";
  for (std::string te : {"Transfer-Encoding: chunked, identity\r\n",
                                "Transfer-Encoding: gzip\r\n",
                                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"}) {
    auto r = test::rawHttp(port_, "POST /api/v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n" + te +
                                      "\r\n" + smuggled);
    EXPECT_EQ(r.status, 400) << te;
    // (With a length as well, the parser refuses it first: "bad Content-Length".)
    EXPECT_TRUE(r.body.find("Transfer-Encoding") != std::string::npos ||
                r.body.find("bad Content-Length") != std::string::npos)
        << r.body;
  }
  EXPECT_EQ(mutations_.load(), 0);
  auto chunked = test::rawHttp(port_, "POST /api/v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n"
                                      "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled);
  EXPECT_EQ(chunked.status, 201) << chunked.body;
  EXPECT_EQ(nlohmann::json::parse(chunked.body)["received"], 5);
}

// Connections are capped: past api.max_connections a request is answered
// 503 at once, while health (and the kill switch) still get through on the
// reserve; when the idle ones close, requests are served again.
TEST_F(ApiServerTest, ConnectionsPastTheCapAre503ButHealthGetsThrough) {
  startServer("secret", 1024, 4096, 4096, 4);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);
  }
  for (int i = 0; i < 100 && server_->connectionsOpen() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(server_->connectionsOpen(), 4u);
  auto refused = http(port_, "GET", "/api/v1/echo/x");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(reason(refused).find("too many connections"), std::string::npos) << refused.body;
  EXPECT_EQ(http(port_, "GET", "/api/v1/health").status, 200);
  EXPECT_EQ(server_->connectionsRefused(), 1u);
  for (int fd : idle) ::close(fd);
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = http(port_, "GET", "/api/v1/echo/x").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
}

TEST_F(ApiServerTest, UnknownPathAndWrongMethodAreExplained) {
  startServer("secret");
  auto missing = http(port_, "GET", "/api/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(reason(missing), "no such endpoint: /api/v1/nothing");
  auto wrong = http(port_, "DELETE", "/api/v1/health", "", {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_NE(wrong.head.find("Allow: GET"), std::string::npos);
}

TEST_F(ApiServerTest, MutatingCallsNeedTheBearerToken) {
  startServer("secret");
  auto none = http(port_, "POST", "/api/v1/things", "{}");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.head.find("WWW-Authenticate: Bearer"), std::string::npos);
  auto wrong = http(port_, "POST", "/api/v1/things", "{}", {{"Authorization", "Bearer secreT"}});
  EXPECT_EQ(wrong.status, 401);
  auto right = http(port_, "POST", "/api/v1/things", "{}", {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(right.status, 201);
  EXPECT_EQ(mutations_.load(), 1);
}

TEST_F(ApiServerTest, WithoutATokenMutationsAreDisabled) {
  startServer("");
  auto r = http(port_, "POST", "/api/v1/things", "{}", {{"Authorization", "Bearer "}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(reason(r).find("TRADEHOST_TOKEN"), std::string::npos);
  EXPECT_EQ(mutations_.load(), 0);
}

TEST_F(ApiServerTest, OversizedBodyIsRefused) {
  startServer("secret", 1024);
  auto r = http(port_, "POST", "/api/v1/things", std::string(5000, 'x'), {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(reason(r), "request body exceeds 1024 bytes");
  EXPECT_EQ(mutations_.load(), 0);
}

TEST_F(ApiServerTest, MalformedRequestsGet400) {
  startServer("secret");
  auto garbage = test::rawHttp(port_, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(reason(garbage).find("malformed HTTP request"), std::string::npos);
  auto bad_escape = http(port_, "GET", "/api/v1/echo/x?y=%zz");
  EXPECT_EQ(bad_escape.status, 400);
  EXPECT_EQ(reason(bad_escape), "malformed query string");
}

TEST_F(ApiServerTest, HandlerExceptionBecomes500AndServerCarriesOn) {
  startServer("secret");
  auto r = http(port_, "GET", "/api/v1/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(reason(r), "internal error: kaboom");
  EXPECT_EQ(http(port_, "GET", "/api/v1/health").status, 200);
}

TEST_F(ApiServerTest, WebSocketClientsGetEveryBroadcastInOrder) {
  startServer("secret");
  test::WsClient a(port_), b(port_);
  EXPECT_NE(a.read().find("hello"), std::string::npos);
  EXPECT_NE(b.read().find("hello"), std::string::npos);
  for (int i = 0; i < 10 && server_->clientCount() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(server_->clientCount(), 2u);
  for (int i = 0; i < 100; ++i) server_->broadcast(R"({"n":)" + std::to_string(i) + "}");
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.read(), R"({"n":)" + std::to_string(i) + "}");
    EXPECT_EQ(b.read(), R"({"n":)" + std::to_string(i) + "}");
  }
  a.write(R"({"op":"ping"})");
  EXPECT_EQ(a.read(), R"({"type":"pong"})");
  a.write("not json");
  EXPECT_NE(a.read().find("expected a JSON object"), std::string::npos);
}

TEST_F(ApiServerTest, OversizedFrameClosesTheConnection) {
  startServer("secret", 1024, 4096);
  test::WsClient client(port_);
  client.read();  // hello
  client.write(std::string(10000, 'x'));
  EXPECT_EQ(client.readUntilClosed(), 1009);  // "message too big"
}

TEST_F(ApiServerTest, ClientThatStopsReadingIsDroppedNotBuffered) {
  startServer("secret", 1024, 4096, 64);
  test::WsClient slow(port_);
  slow.read();  // hello, then never read again
  std::string big(60000, 'x');
  for (int i = 0; i < 2000 && server_->clientsDropped() == 0; ++i) server_->broadcast(big);
  for (int i = 0; i < 100 && server_->clientsDropped() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server_->clientsDropped(), 1u);
  EXPECT_EQ(http(port_, "GET", "/api/v1/health").status, 200);
}

}  // namespace
}  // namespace th
