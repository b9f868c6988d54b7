// WebSocket sessions at /ws and the hub that owns topic subscriptions.
//
// Outgoing data frames bypass Beast's per-message write: a session takes what
// is queued for it (up to kMaxBatch messages), frames it and hands it to the
// socket in one gathered write, so a client receiving many small updates costs
// one system call per batch rather than one per message, and no copy of the
// shared text. Beast still does the handshake, reads client messages and
// writes its own control frames; WsSocket, Beast's next layer, takes turns
// between the two writers.
#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <span>

#include "api/api_server_impl.h"
#include "core/json.h"

namespace th {

namespace {

// Messages per gathered write: two buffers each (frame header and text), and
// Asio passes at most 64 buffers to one writev.
constexpr size_t kMaxBatch = 32;
// Batches one drain writes before it yields the thread to other clients.
constexpr int kRoundsPerDrain = 8;
// A client closed for being too slow gets this long to take the close frame
// before its socket is closed under it; it is not reading, so it rarely does.
constexpr auto kCloseGrace = std::chrono::seconds(5);
constexpr auto kResyncWindow = std::chrono::minutes(1);

SharedText sharedText(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// RFC 6455 header of an unmasked, unfragmented text frame (server to client).
size_t textFrameHeader(uint64_t length, std::array<uint8_t, 10>& out) {
  out[0] = 0x81;  // FIN, opcode text
  if (length < 126) {
    out[1] = static_cast<uint8_t>(length);
    return 2;
  }
  if (length <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(length >> 8);
    out[3] = static_cast<uint8_t>(length);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(length >> (56 - 8 * i));
  return 10;
}

// Beast's next layer: the client's TCP socket with two writers, Beast (the
// handshake answer, pongs, close frames, keep-alive pings) and the session's
// batches of frames. Each write goes to the socket whole and one at a time, so
// frames never interleave; Beast, which has at most one write outstanding,
// goes first when both wait. The state lives on in pending operations, which
// can complete after Beast has destroyed this object.
class WsSocket {
 public:
  using executor_type = tcp::socket::executor_type;
  using FramesDone = std::move_only_function<void(beast::error_code)>;

  explicit WsSocket(tcp::socket&& socket) : state_(std::make_shared<State>(std::move(socket))) {
    // So that writeFrames can try the socket and fall back to waiting;
    // Asio's asynchronous operations work the same either way.
    beast::error_code ignored;
    state_->socket.non_blocking(true, ignored);
  }
  WsSocket(WsSocket&&) = default;
  WsSocket& operator=(WsSocket&&) = default;
  ~WsSocket() {
    // Cancels whatever is pending, so no operation keeps the socket open.
    beast::error_code ignored;
    if (state_) state_->socket.close(ignored);
  }

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  tcp::socket& next_layer() noexcept { return state_->socket; }
  const tcp::socket& next_layer() const noexcept { return state_->socket; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return state_->socket.async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return net::async_initiate<Handler, void(beast::error_code, size_t)>(
        [state = state_](auto completion, const ConstBuffers& buffers) {
          BOOST_ASSERT(!state->control_done);
          state->control_buffers.clear();
          for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it)
            state->control_buffers.emplace_back(*it);
          state->control_done = std::move(completion);
          pump(state);
        },
        handler, buffers);
  }

  // Writes `messages` as text frames. Returns true if the socket took them
  // at once; otherwise calls `makeDone()` for a completion that is called on
  // the socket's executor once they are written, and the texts must stay
  // alive until then.
  template <class MakeDone>
  bool writeFrames(std::span<const SharedText> messages, MakeDone&& makeDone) {
    auto& state = *state_;
    BOOST_ASSERT(!state.frames_done);
    state.headers.resize(messages.size());
    state.frame_buffers.clear();
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string& text = *messages[i];
      state.frame_buffers.emplace_back(state.headers[i].data(), textFrameHeader(text.size(), state.headers[i]));
      state.frame_buffers.emplace_back(text.data(), text.size());
    }
    if (!state.writing && !state.control_done) {
      // A client that keeps up has room in its socket: one writev, without
      // the allocation, completion and strand hand-off of an async write.
      beast::error_code ec;
      size_t written = state.socket.write_some(std::span<const net::const_buffer>(state.frame_buffers), ec);
      if (!ec || ec == net::error::would_block) {
        if (consume(state.frame_buffers, written)) return true;
      }
      // Otherwise the asynchronous write below finishes the rest or reports the error.
    }
    state.frames_done = makeDone();
    pump(state_);
    return false;
  }

  // Only once the I/O threads have stopped: drops the completions waiting for
  // their turn, which may hold the session that owns this socket.
  void abandon() {
    beast::error_code ignored;
    state_->socket.close(ignored);
    state_->control_done = nullptr;
    state_->frames_done = nullptr;
  }

 private:
  struct State {
    explicit State(tcp::socket&& s) : socket(std::move(s)) {}
    tcp::socket socket;
    bool writing = false;
    std::vector<net::const_buffer> control_buffers;
    std::move_only_function<void(beast::error_code, size_t)> control_done;  // set while Beast's write waits
    std::vector<net::const_buffer> frame_buffers;
    std::vector<std::array<uint8_t, 10>> headers;
    FramesDone frames_done;  // set while a batch waits
  };

  // Drops the first `bytes` from `buffers`; true if nothing is left.
  static bool consume(std::vector<net::const_buffer>& buffers, size_t bytes) {
    size_t done = 0;
    while (done < buffers.size() && bytes >= buffers[done].size()) bytes -= buffers[done++].size();
    buffers.erase(buffers.begin(), buffers.begin() + static_cast<ptrdiff_t>(done));
    if (!buffers.empty()) buffers.front() += bytes;
    return buffers.empty();
  }

  static void pump(const std::shared_ptr<State>& state) {
    if (state->writing) return;
    if (state->control_done) {
      state->writing = true;
      net::async_write(state->socket, std::span<const net::const_buffer>(state->control_buffers),
                       [state, done = std::move(state->control_done)](beast::error_code ec, size_t n) mutable {
                         state->writing = false;
                         pump(state);
                         done(ec, n);
                       });
      state->control_done = nullptr;
    } else if (state->frames_done) {
      state->writing = true;
      // A span, not the vector: the write operation copies its buffer sequence.
      net::async_write(state->socket, std::span<const net::const_buffer>(state->frame_buffers),
                       [state, done = std::move(state->frames_done)](beast::error_code ec, size_t) mutable {
                         state->writing = false;
                         pump(state);
                         done(ec);
                       });
      state->frames_done = nullptr;
    }
  }

  std::shared_ptr<State> state_;
};

// Beast shuts a connection down through these, found by argument lookup.
[[maybe_unused]] void teardown(beast::role_type role, WsSocket& socket, beast::error_code& ec) {
  websocket::teardown(role, socket.next_layer(), ec);
}

template <class Handler>
void async_teardown(beast::role_type role, WsSocket& socket, Handler&& handler) {
  websocket::async_teardown(role, socket.next_layer(), std::forward<Handler>(handler));
}

const SharedText& helloText() {
  static const SharedText text = sharedText(R"({"type":"hello","protocol":"tradehost.events.v1"})");
  return text;
}

const SharedText& pongText() {
  static const SharedText text = sharedText(R"({"type":"pong"})");
  return text;
}

bool isPing(std::string_view text) {
  if (text.find("ping") == std::string_view::npos) return false;
  auto message = parseExternalJson(text);
  return message.is_object() && message.contains("op") && message["op"] == "ping";
}

std::string resyncText(const std::vector<std::string>& topics, size_t discarded) {
  std::string out = R"({"type":"resync","topics":[)";
  for (size_t i = 0; i < topics.size(); ++i) {
    if (i > 0) out += ',';
    out += jsonText(nlohmann::json(topics[i]));
  }
  out += R"(],"reason":)";
  out += jsonText(nlohmann::json(fmt::format("slow consumer: {} updates discarded", discarded)));
  out += '}';
  return out;
}

}  // namespace

// One WebSocket client. Messages for it queue here from any thread; its
// strand takes them in batches and writes them. The queue is bounded: on
// overflow the topic updates in it are discarded and the client is told to
// resync, and a client that cannot be helped that way is closed.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, ApiServer::Impl& server)
      : executor_(socket.get_executor()),
        ws_(std::move(socket)),
        server_(server),
        id_(server.next_client_id.fetch_add(1)),
        close_timer_(executor_) {
    batch_.reserve(kMaxBatch);
  }

  WsClientId id() const { return id_; }

  void run(http::request<http::string_body> request) {
    // Batches are already as large as the backlog allows; Nagle's algorithm
    // would only hold a small update back until the previous one is acked.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ignored);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(server_.options.max_frame_bytes);
    request_ = std::move(request);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) { self->onAccept(ec); });
  }

  // Any thread. An `update` (a topic message) may be discarded if the client
  // falls behind; anything else is delivered or the client is closed.
  void enqueue(const SharedText& text, bool update) {
    std::vector<std::string> resync_topics;
    bool drop = false;
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      // Bounded in messages and in bytes: a client asking for snapshots it
      // never reads would otherwise hold gigabytes of them.
      auto fits = [&] {
        return queue_.size() < server_.options.max_queued_messages &&
               queued_bytes_ + text->size() <= server_.options.max_queued_bytes;
      };
      if (fits()) {
        queue_.push_back(Queued{text, update});
        queued_bytes_ += text->size();
      } else {
        size_t discarded = std::erase_if(queue_, [](const Queued& q) { return q.update; }) + (update ? 1 : 0);
        queued_bytes_ = 0;
        for (const auto& q : queue_) queued_bytes_ += q.text->size();
        auto now = std::chrono::steady_clock::now();
        while (!resyncs_.empty() && now - resyncs_.front() >= kResyncWindow) resyncs_.pop_front();
        bool freed = fits();
        if (!freed || (!topics_.empty() && resyncs_.size() >= server_.options.max_resyncs_per_minute)) {
          drop = true;
          closing_ = true;
          queue_.clear();
        } else {
          if (!topics_.empty()) {
            resyncs_.push_back(now);
            resync_topics = topics_;
            queue_.push_back(Queued{sharedText(resyncText(topics_, discarded)), false});
            queued_bytes_ += queue_.back().text->size();
          }
          if (!update) {
            queue_.push_back(Queued{text, false});
            queued_bytes_ += text->size();
          }
        }
      }
      if (!drop && idle_) {
        idle_ = false;
        wake = true;
      }
    }
    if (drop) {
      server_.dropped.fetch_add(1);
      net::post(executor_, [self = shared_from_this()] {
        self->startClose(websocket::close_code::policy_error, "client too slow: message queue full");
      });
      return;
    }
    if (!resync_topics.empty()) {
      server_.resynced.fetch_add(1);
      if (server_.on_ws_resync) {
        for (const auto& topic : resync_topics) server_.on_ws_resync(id_, topic);
      }
    }
    if (wake) net::post(executor_, [self = shared_from_this()] { self->drain(); });
  }

  // The hub's copy of this client's topics, kept here so that an overflow,
  // found on whichever thread queued the message, can name them. Hub only.
  bool addTopic(const std::string& topic) {
    std::lock_guard lock(mutex_);
    if (std::ranges::find(topics_, topic) != topics_.end()) return false;
    topics_.push_back(topic);
    return true;
  }
  bool removeTopic(const std::string& topic) {
    std::lock_guard lock(mutex_);
    return std::erase(topics_, topic) > 0;
  }
  std::vector<std::string> topics() {
    std::lock_guard lock(mutex_);
    return topics_;
  }

  // Only once the I/O threads have stopped (see Impl::abandonWebSockets).
  void abandon() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      queue_.clear();
    }
    ws_.next_layer().abandon();
  }

 private:
  struct Queued {
    SharedText text;
    bool update = false;
  };

  void onAccept(beast::error_code ec) {
    if (ec) return;
    accepted_ = true;
    server_.client_count.fetch_add(1);
    {
      std::lock_guard lock(server_.sessions_mutex);
      std::erase_if(server_.sessions, [](const std::weak_ptr<WsSession>& w) { return w.expired(); });
      server_.sessions.push_back(weak_from_this());
    }
    // Before the first read, so the hub knows this client before anyone can
    // learn its id from a message and address it.
    net::post(server_.hub, [self = shared_from_this()] { self->server_.ws_clients.emplace(self->id_, self); });
    enqueue(helloText(), false);
    read();
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec) {
      // A frame over the size limit makes Beast fail the connection with
      // close code 1009; anything else is the client going away.
      finish();
      return;
    }
    auto data = buffer_.data();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (!ws_.got_text()) {
      reply(nlohmann::json{{"type", "error"}, {"error", "binary messages are not supported"}});
    } else if (isPing(text)) {
      enqueue(pongText(), false);
    } else if (server_.on_ws_message) {
      // The handler is the owner's code; an exception from it must not take
      // down an I/O thread.
      try {
        server_.on_ws_message(id_, text);
      } catch (const std::exception& e) {
        reply(nlohmann::json{{"type", "error"}, {"error", fmt::format("internal error: {}", e.what())}});
      }
    } else {
      auto message = parseExternalJson(text);
      if (message.is_discarded() || !message.is_object() || !message.contains("op")) {
        reply(nlohmann::json{{"type", "error"}, {"error", "expected a JSON object with an \"op\" field"}});
      } else {
        reply(nlohmann::json{{"type", "error"}, {"error", fmt::format("unknown op {}", jsonText(message["op"]))}});
      }
    }
    buffer_.consume(buffer_.size());
    read();
  }

  void reply(const nlohmann::json& message) { enqueue(sharedText(jsonText(message)), false); }

  // On the strand, while a drain is posted or a batch is being written;
  // `idle_` says when neither is, and whoever queues next posts a drain.
  void drain() {
    for (int round = 0;; ++round) {
      batch_.clear();
      {
        std::lock_guard lock(mutex_);
        if (closing_ || queue_.empty()) {
          idle_ = true;
          return;
        }
        if (round == kRoundsPerDrain) break;
        size_t n = std::min(queue_.size(), kMaxBatch);
        for (size_t i = 0; i < n; ++i) {
          queued_bytes_ -= queue_.front().text->size();
          batch_.push_back(std::move(queue_.front().text));
          queue_.pop_front();
        }
      }
      bool written = ws_.next_layer().writeFrames(batch_, [this] {
        return [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->finish();
          self->drain();
        };
      });
      if (!written) return;
    }
    // A client whose queue refills as fast as it is written would keep this
    // thread from the others; let them run first.
    net::post(executor_, [self = shared_from_this()] { self->drain(); });
  }

  void startClose(websocket::close_code code, const char* reason) {
    if (close_started_ || finished_) return;
    close_started_ = true;
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      queue_.clear();
    }
    close_timer_.expires_after(kCloseGrace);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->closeSocket();
    });
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = shared_from_this()](beast::error_code) { self->finish(); });
  }

  void closeSocket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      queue_.clear();
    }
    close_timer_.cancel();
    // Whatever ended the session, nothing more is read or written; closing
    // ends the operations still pending, and with them the session.
    closeSocket();
    if (!accepted_) return;
    server_.client_count.fetch_sub(1);
    net::post(server_.hub, [self = shared_from_this()] { self->unregister(); });
    if (server_.on_ws_closed) server_.on_ws_closed(id_);
  }

  // Hub only.
  void unregister();

  net::any_io_executor executor_;  // this client's strand
  websocket::stream<WsSocket> ws_;
  ApiServer::Impl& server_;
  const WsClientId id_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  net::steady_timer close_timer_;
  std::vector<SharedText> batch_;  // being written
  bool accepted_ = false;
  bool close_started_ = false;
  bool finished_ = false;

  std::mutex mutex_;  // guards what follows: it is shared with the hub and other queuing threads
  std::deque<Queued> queue_;
  bool idle_ = true;
  bool closing_ = false;
  std::vector<std::string> topics_;
  std::deque<std::chrono::steady_clock::time_point> resyncs_;  // within kResyncWindow
  size_t queued_bytes_ = 0;  // of the texts in queue_; guarded by mutex_
};

namespace {

// Hub only. The count is what topicSubscribers() reads from other threads.
void setSubscriberCount(ApiServer::Impl& impl, const std::string& topic, size_t count) {
  std::lock_guard lock(impl.subscriber_counts_mutex);
  if (count == 0) {
    impl.subscriber_counts.erase(topic);
  } else {
    impl.subscriber_counts[topic] = count;
  }
}

// Hub only.
void removeSubscriber(ApiServer::Impl& impl, const std::string& topic, const std::shared_ptr<WsSession>& session) {
  auto it = impl.topics.find(topic);
  if (it == impl.topics.end()) return;
  std::erase(it->second, session);
  size_t count = it->second.size();
  if (count == 0) impl.topics.erase(it);
  setSubscriberCount(impl, topic, count);
}

}  // namespace

void WsSession::unregister() {
  server_.ws_clients.erase(id_);
  auto self = shared_from_this();
  for (const auto& topic : topics()) removeSubscriber(server_, topic, self);
}

void ApiServer::Impl::startWebSocket(tcp::socket socket, http::request<http::string_body> request) {
  std::make_shared<WsSession>(std::move(socket), *this)->run(std::move(request));
}

void ApiServer::Impl::abandonWebSockets() {
  std::vector<std::weak_ptr<WsSession>> all;
  {
    std::lock_guard lock(sessions_mutex);
    all.swap(sessions);
  }
  for (auto& weak : all) {
    if (auto session = weak.lock()) session->abandon();
  }
}

void ApiServer::onWsMessage(std::function<void(WsClientId, std::string_view)> handler) {
  impl_->on_ws_message = std::move(handler);
}

void ApiServer::onWsClosed(std::function<void(WsClientId)> handler) { impl_->on_ws_closed = std::move(handler); }

void ApiServer::onWsResync(std::function<void(WsClientId, const std::string&)> handler) {
  impl_->on_ws_resync = std::move(handler);
}

void ApiServer::broadcast(std::string message) {
  net::post(impl_->hub, [impl = impl_.get(), text = sharedText(std::move(message))] {
    for (const auto& [id, session] : impl->ws_clients) session->enqueue(text, false);
  });
}

void ApiServer::sendTo(WsClientId client, SharedText message) {
  if (!message) return;
  net::post(impl_->hub, [impl = impl_.get(), client, message = std::move(message)] {
    if (auto it = impl->ws_clients.find(client); it != impl->ws_clients.end()) it->second->enqueue(message, false);
  });
}

void ApiServer::subscribe(WsClientId client, std::string topic) {
  net::post(impl_->hub, [impl = impl_.get(), client, topic = std::move(topic)] {
    auto it = impl->ws_clients.find(client);
    if (it == impl->ws_clients.end() || !it->second->addTopic(topic)) return;
    auto& subscribers = impl->topics[topic];
    subscribers.push_back(it->second);
    setSubscriberCount(*impl, topic, subscribers.size());
  });
}

void ApiServer::unsubscribe(WsClientId client, const std::string& topic) {
  net::post(impl_->hub, [impl = impl_.get(), client, topic] {
    auto it = impl->ws_clients.find(client);
    if (it == impl->ws_clients.end() || !it->second->removeTopic(topic)) return;
    removeSubscriber(*impl, topic, it->second);
  });
}

void ApiServer::publish(const std::string& topic, SharedText message) {
  if (!message) return;
  net::post(impl_->hub, [impl = impl_.get(), topic, message = std::move(message)] {
    auto it = impl->topics.find(topic);
    if (it == impl->topics.end()) return;
    for (const auto& session : it->second) session->enqueue(message, true);
  });
}

size_t ApiServer::topicSubscribers(const std::string& topic) const {
  std::lock_guard lock(impl_->subscriber_counts_mutex);
  auto it = impl_->subscriber_counts.find(topic);
  return it == impl_->subscriber_counts.end() ? 0 : it->second;
}

uint64_t ApiServer::clientsResynced() const { return impl_->resynced.load(); }

}  // namespace th
