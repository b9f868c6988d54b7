// WebSocket clients by id and topics, on a real server on 127.0.0.1 with real
// WebSocket clients: messages reach the owner with the client's id, a
// snapshot sent before the subscribe comes before every update, unsubscribed
// clients get nothing, subscribers share one text, closes are reported, and a
// subscriber that stops reading is resynced and then dropped while another
// subscriber of the same topic misses nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "api/api_server.h"
#include "support/ws_client.h"

namespace th {
namespace {

using namespace std::chrono_literals;

// Generous: only a broken server makes a test wait this long.
constexpr auto kWait = 30s;

SharedText text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

std::string update(int64_t seq, size_t pad = 0) {
  return nlohmann::json{{"type", "update"}, {"seq", seq}, {"pad", std::string(pad, 'x')}}.dump();
}
std::string snapshot(int64_t seq) { return nlohmann::json{{"type", "snapshot"}, {"seq", seq}}.dump(); }

bool waitUntil(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// What the server's handlers reported, for the test thread to wait on.
class Reported {
 public:
  void message(WsClientId id, std::string_view text) {
    add([&] { messages_.emplace_back(id, std::string(text)); });
  }
  void closed(WsClientId id) {
    add([&] { closed_.push_back(id); });
  }
  void resync(WsClientId id, const std::string& topic) {
    add([&] { resyncs_.emplace_back(id, topic); });
  }

  // The id of the client that sent `text`.
  std::optional<WsClientId> senderOf(const std::string& text) {
    std::unique_lock lock(mutex_);
    std::optional<WsClientId> id;
    cv_.wait_for(lock, kWait, [&] {
      for (const auto& [from, t] : messages_) {
        if (t == text) id = from;
      }
      return id.has_value();
    });
    return id;
  }
  bool waitClosed(WsClientId id) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return std::ranges::count(closed_, id) > 0; });
  }
  std::vector<std::pair<WsClientId, std::string>> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<std::pair<WsClientId, std::string>> resyncs() {
    std::lock_guard lock(mutex_);
    return resyncs_;
  }
  std::vector<WsClientId> closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  template <typename F>
  void add(F f) {
    {
      std::lock_guard lock(mutex_);
      f();
    }
    cv_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<WsClientId, std::string>> messages_;
  std::vector<WsClientId> closed_;
  std::vector<std::pair<WsClientId, std::string>> resyncs_;
};

// Reads one client (past its hello) on its own thread until the text "end",
// checking that it gets a snapshot, then every update after it without a gap.
class GaplessReader {
 public:
  explicit GaplessReader(test::WsClient& ws) : thread_([this, &ws] { run(ws); }) {}
  ~GaplessReader() { join(); }
  // False if `seq` did not arrive or something else went wrong first.
  bool waitFor(int64_t seq) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return last_ >= seq || !problem_.empty(); }) && problem_.empty();
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  int64_t last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  std::string problem() {
    std::lock_guard lock(mutex_);
    return problem_;
  }

 private:
  void run(test::WsClient& ws) {
    for (;;) {
      auto message = ws.readWithin(kWait);
      if (message == "end") return;
      std::lock_guard lock(mutex_);
      if (!message) {
        problem_ = "no message within the wait";
      } else {
        auto j = nlohmann::json::parse(*message);
        int64_t seq = j.value("seq", int64_t{-1});
        if (j["type"] == "snapshot" && last_ < 0) {
          last_ = seq;
        } else if (j["type"] != "update" || seq != last_ + 1) {
          problem_ = "after " + std::to_string(last_) + " got " + message->substr(0, 80);
        } else {
          last_ = seq;
        }
      }
      cv_.notify_all();
      if (!problem_.empty()) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t last_ = -1;
  std::string problem_;
  std::thread thread_;
};

class WsTopicsTest : public ::testing::Test {
 protected:
  void startServer(size_t max_queue = 4096, size_t max_resyncs = 3, size_t max_bytes = 16 << 20) {
    ApiOptions options;
    options.port = 0;
    options.max_queued_messages = max_queue;
    options.max_queued_bytes = max_bytes;
    options.max_resyncs_per_minute = max_resyncs;
    server_ = std::make_unique<ApiServer>(options);
    server_->onWsMessage([this](WsClientId id, std::string_view t) { reported_.message(id, t); });
    server_->onWsClosed([this](WsClientId id) { reported_.closed(id); });
    server_->onWsResync([this](WsClientId id, const std::string& topic) { reported_.resync(id, topic); });
    ASSERT_TRUE(server_->start());
  }

  struct Client {
    std::unique_ptr<test::WsClient> ws;
    WsClientId id = 0;
  };

  // A client past its hello, with the id the server gave it.
  Client connect(int receive_buffer_bytes = 0) {
    Client c;
    c.ws = receive_buffer_bytes ? std::make_unique<test::WsClient>(server_->port(), receive_buffer_bytes)
                                : std::make_unique<test::WsClient>(server_->port());
    EXPECT_NE(c.ws->read().find("hello"), std::string::npos);
    auto name = "client " + std::to_string(++clients_);
    c.ws->write(name);
    auto id = reported_.senderOf(name);
    EXPECT_TRUE(id.has_value());
    c.id = id.value_or(0);
    return c;
  }

  std::string read(Client& c) { return c.ws->readWithin(kWait).value_or("(nothing)"); }

  // Publishes updates of `pad` bytes to topic "t" as its owner would, from
  // this thread: never more than 32 ahead of `pacer` (so that client keeps up
  // whatever the machine), answering each resync with a fresh snapshot.
  // Returns the last sequence published once `done()` or after `limit`.
  int64_t publishUntil(GaplessReader& pacer, const std::function<bool()>& done, int64_t limit, size_t pad) {
    size_t resyncs_answered = 0;
    int64_t seq = 0;
    while (seq < limit && !done()) {
      if (!pacer.waitFor(seq - 32)) break;
      server_->publish("t", text(update(++seq, pad)));
      auto resyncs = reported_.resyncs();
      for (; resyncs_answered < resyncs.size(); ++resyncs_answered) {
        server_->sendTo(resyncs[resyncs_answered].first, text(snapshot(seq)));
      }
    }
    return seq;
  }

  // Declared first so it outlives the server, whose threads call into it.
  Reported reported_;
  std::unique_ptr<ApiServer> server_;
  int clients_ = 0;
};

TEST_F(WsTopicsTest, MessagesReachTheHandlerWithTheSendersId) {
  startServer();
  auto a = connect();
  auto b = connect();
  EXPECT_NE(a.id, b.id);
  a.ws->write(R"({"op":"chart","symbol":"SPY"})");
  server_->sendTo(b.id, text("for b"));
  EXPECT_EQ(read(b), "for b");
  EXPECT_EQ(reported_.senderOf(R"({"op":"chart","symbol":"SPY"})"), a.id);
  // The server still answers pings itself; they never reach the handler.
  a.ws->write(R"({"op":"ping"})");
  EXPECT_EQ(read(a), R"({"type":"pong"})");
  for (const auto& [id, t] : reported_.messages()) EXPECT_EQ(t.find("ping"), std::string::npos);
}

TEST_F(WsTopicsTest, SnapshotThenSubscribeThenPublishArriveInOrder) {
  startServer();
  auto c = connect();
  server_->publish("t", text(update(7)));  // before the subscribe: never delivered
  server_->sendTo(c.id, text(snapshot(7)));
  server_->subscribe(c.id, "t");
  for (int seq = 8; seq < 108; ++seq) server_->publish("t", text(update(seq)));
  EXPECT_EQ(read(c), snapshot(7));
  for (int seq = 8; seq < 108; ++seq) ASSERT_EQ(read(c), update(seq));
  EXPECT_EQ(server_->topicSubscribers("t"), 1u);
}

// The chart hub's case: a client asks for a series while its owner is
// publishing it; it must get the snapshot and then every later update,
// without a gap or a repeat, wherever in the stream it joined.
TEST_F(WsTopicsTest, ClientJoiningALiveTopicContinuesFromItsSnapshot) {
  startServer();
  auto c = connect();
  constexpr int64_t kJoinAt = 1000, kLast = 3000;
  // The owner's thread, as the core thread would be; the server's strand is
  // still busy with earlier updates when the client joins.
  std::jthread owner([&] {
    for (int64_t seq = 1; seq <= kLast; ++seq) {
      server_->publish("t", text(update(seq)));
      if (seq == kJoinAt) {
        server_->sendTo(c.id, text(snapshot(seq)));
        server_->subscribe(c.id, "t");
      }
    }
  });
  EXPECT_EQ(read(c), snapshot(kJoinAt));
  for (int64_t seq = kJoinAt + 1; seq <= kLast; ++seq) ASSERT_EQ(read(c), update(seq));
  owner.join();
}

TEST_F(WsTopicsTest, OnlySubscribersGetPublishedUpdates) {
  startServer();
  auto subscriber = connect();
  auto other = connect();
  server_->subscribe(subscriber.id, "t");
  server_->subscribe(other.id, "u");
  server_->publish("t", text(update(1)));
  // Calls from one thread reach a client in order, so if the marker comes
  // next, the update did not come at all.
  server_->sendTo(other.id, text("marker"));
  EXPECT_EQ(read(subscriber), update(1));
  EXPECT_EQ(read(other), "marker");
}

TEST_F(WsTopicsTest, UnsubscribeStopsUpdates) {
  startServer();
  auto c = connect();
  server_->subscribe(c.id, "t");
  server_->publish("t", text(update(1)));
  server_->unsubscribe(c.id, "t");
  server_->publish("t", text(update(2)));
  server_->sendTo(c.id, text("marker"));
  EXPECT_EQ(read(c), update(1));
  EXPECT_EQ(read(c), "marker");
  EXPECT_TRUE(waitUntil([&] { return server_->topicSubscribers("t") == 0; }));
}

TEST_F(WsTopicsTest, SubscribersOfATopicGetTheSameTextInterleavedWithBroadcasts) {
  startServer();
  auto a = connect();
  auto b = connect();
  server_->subscribe(a.id, "t");
  server_->subscribe(b.id, "t");
  server_->subscribe(b.id, "t");  // twice is once
  for (int seq = 1; seq <= 50; ++seq) {
    server_->publish("t", text(update(seq, 300)));
    if (seq == 25) server_->broadcast(R"({"type":"heartbeat"})");
  }
  for (auto* c : {&a, &b}) {
    for (int seq = 1; seq <= 50; ++seq) {
      ASSERT_EQ(read(*c), update(seq, 300));
      if (seq == 25) {
        ASSERT_EQ(read(*c), R"({"type":"heartbeat"})");
      }
    }
  }
  EXPECT_EQ(server_->topicSubscribers("t"), 2u);
}

TEST_F(WsTopicsTest, ClosingAClientIsReportedAndEndsItsSubscriptions) {
  startServer();
  auto c = connect();
  auto id = c.id;
  server_->subscribe(id, "t");
  ASSERT_TRUE(waitUntil([&] { return server_->topicSubscribers("t") == 1; }));
  c.ws->close();
  EXPECT_TRUE(reported_.waitClosed(id));
  EXPECT_TRUE(waitUntil([&] { return server_->topicSubscribers("t") == 0 && server_->clientCount() == 0; }));
  server_->sendTo(id, text("to nobody"));  // ignored, not an error
  EXPECT_EQ(std::ranges::count(reported_.closed(), id), 1);
  EXPECT_EQ(server_->clientsDropped(), 0u);
}

TEST_F(WsTopicsTest, SubscriberThatStopsReadingIsResyncedWhileAnotherGetsEveryUpdate) {
  startServer(/*max_queue=*/64, /*max_resyncs=*/1000);
  auto fast = connect();
  auto slow = connect(4096);
  for (auto* c : {&fast, &slow}) {
    server_->sendTo(c->id, text(snapshot(0)));
    server_->subscribe(c->id, "t");
  }
  GaplessReader reader(*fast.ws);
  // The slow client reads nothing until well after its first resync.
  int64_t first_resync_at = 0;
  int64_t last = publishUntil(
      reader,
      [&] {
        if (first_resync_at == 0 && !reported_.resyncs().empty()) first_resync_at = reader.last();
        return first_resync_at > 0 && reader.last() > first_resync_at + 200;
      },
      200'000, 1000);
  ASSERT_GT(first_resync_at, 0) << "no resync after " << last << " updates; " << reader.problem();
  server_->sendTo(fast.id, text("end"));
  server_->sendTo(slow.id, text("end"));
  reader.join();
  EXPECT_EQ(reader.problem(), "");
  EXPECT_EQ(reader.last(), last);

  for (const auto& [id, topic] : reported_.resyncs()) {
    EXPECT_EQ(id, slow.id);
    EXPECT_EQ(topic, "t");
  }
  EXPECT_EQ(server_->clientsResynced(), reported_.resyncs().size());
  EXPECT_EQ(server_->clientsDropped(), 0u);

  // The slow client's stream, read now: a snapshot, updates without a gap,
  // the resync notice, then (ignoring updates) a fresh snapshot and updates
  // without a gap again, possibly several times over.
  EXPECT_EQ(read(slow), snapshot(0));
  bool synced = true;
  int64_t seq = 0;
  int resyncs = 0, fresh_snapshots = 0;
  for (;;) {
    auto message = read(slow);
    if (message == "end") break;
    auto j = nlohmann::json::parse(message);
    if (j["type"] == "resync") {
      ++resyncs;
      synced = false;
      EXPECT_EQ(j["topics"], nlohmann::json::array({"t"}));
      EXPECT_TRUE(j["reason"].get<std::string>().starts_with("slow consumer: "));
      EXPECT_TRUE(j["reason"].get<std::string>().ends_with(" updates discarded"));
    } else if (j["type"] == "snapshot") {
      synced = true;
      ++fresh_snapshots;
      seq = j["seq"];
    } else if (synced) {
      ASSERT_EQ(j["seq"], seq + 1) << "gap after " << seq;
      seq = j["seq"];
    }
  }
  EXPECT_GE(resyncs, 1);
  EXPECT_GE(fresh_snapshots, 1);
  EXPECT_EQ(static_cast<uint64_t>(resyncs), server_->clientsResynced());
}

TEST_F(WsTopicsTest, SubscriberThatKeepsFallingBehindIsDroppedAndOthersMissNothing) {
  startServer(/*max_queue=*/64, /*max_resyncs=*/3);
  auto fast = connect();
  auto slow = connect(4096);  // never reads again
  for (auto* c : {&fast, &slow}) {
    server_->sendTo(c->id, text(snapshot(0)));
    server_->subscribe(c->id, "t");
  }
  GaplessReader reader(*fast.ws);
  int64_t last = publishUntil(
      reader, [&] { return server_->clientsDropped() > 0; }, 200'000, 1000);
  ASSERT_EQ(server_->clientsDropped(), 1u) << "not dropped after " << last << " updates; " << reader.problem();
  // Three resyncs within a minute are allowed; the next overflow closes it.
  EXPECT_GE(server_->clientsResynced(), 3u);
  for (const auto& [id, topic] : reported_.resyncs()) EXPECT_EQ(id, slow.id);
  EXPECT_TRUE(reported_.waitClosed(slow.id));
  EXPECT_TRUE(waitUntil([&] { return server_->topicSubscribers("t") == 1 && server_->clientCount() == 1; }));

  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(reader.waitFor(last - 32)) << reader.problem();
    server_->publish("t", text(update(++last, 1000)));
  }
  server_->sendTo(fast.id, text("end"));
  reader.join();
  EXPECT_EQ(reader.problem(), "");
  EXPECT_EQ(reader.last(), last);
}

// The queue is bounded in bytes as well as in messages: a client that
// never reads while large answers (snapshots) are sent to it is closed once
// they would pass max_queued_bytes, long before the message count is
// reached, and the host holds no more of them.
TEST_F(WsTopicsTest, AClientThatNeverReadsLargeAnswersIsClosedAtTheByteCap) {
  startServer(/*max_queue=*/4096, /*max_resyncs=*/3, /*max_bytes=*/256 << 10);
  auto slow = connect(4096);  // never reads again
  const std::string big(64 << 10, 'x');
  int sent = 0;
  for (; sent < 1000 && server_->clientsDropped() == 0; ++sent) {
    server_->sendTo(slow.id, text(R"({"type":"snapshot","pad":")" + big + R"("})"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(server_->clientsDropped(), 1u) << "still open after " << sent << " answers of 64 KiB";
  EXPECT_LT(sent, 200) << "closed only at the message count";
  EXPECT_TRUE(reported_.waitClosed(slow.id));
}

}  // namespace
}  // namespace th
