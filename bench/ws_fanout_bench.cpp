// Topic fan-out through ApiServer to many WebSocket clients on 127.0.0.1: one
// thread publishes numbered, timestamped updates to one topic at a fixed rate
// (as the core thread publishes a chart series), every client is subscribed,
// and each records how long an update took from publish() to arriving in it,
// and any gap in the numbers.
//
// A plain program rather than Google Benchmark: this is one long scenario
// (connect the clients, publish for a while, wait for delivery) measured as a
// rate and a latency distribution, not a loop timed per iteration.
//
// The clients are a load generator, not Beast clients: each is a socket on
// one of a few io_context threads that parses server frames itself, so that
// the clients cost as little as possible of the CPU the server is measured on.
//
//   ws_fanout_bench [--clients=1000] [--rate=500] [--duration=10] [--warmup=1]
//                   [--bytes=128] [--client-threads=1]
#include <fmt/format.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/api_server.h"

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Options {
  int clients = 1000;
  int rate = 500;  // updates published per second
  double duration = 10;
  double warmup = 1;  // seconds of updates left out of the latency figures
  int bytes = 128;    // size of one update
  int client_threads = 1;
};

Options parseOptions(int argc, char** argv) {
  Options o;
  const std::map<std::string_view, std::function<void(const std::string&)>> setters = {
      {"--clients", [&](const std::string& v) { o.clients = std::stoi(v); }},
      {"--rate", [&](const std::string& v) { o.rate = std::stoi(v); }},
      {"--duration", [&](const std::string& v) { o.duration = std::stod(v); }},
      {"--warmup", [&](const std::string& v) { o.warmup = std::stod(v); }},
      {"--bytes", [&](const std::string& v) { o.bytes = std::stoi(v); }},
      {"--client-threads", [&](const std::string& v) { o.client_threads = std::stoi(v); }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto eq = arg.find('=');
    auto setter = setters.find(arg.substr(0, eq));
    if (setter == setters.end() || eq == std::string_view::npos)
      throw std::invalid_argument(fmt::format("unknown option {} (see the comment at the top of the source)", arg));
    setter->second(std::string(arg.substr(eq + 1)));
  }
  return o;
}

// Latency in 10 µs buckets up to 2 s.
class Histogram {
 public:
  void record(int64_t ns) {
    auto bucket = static_cast<size_t>(std::max<int64_t>(ns, 0) / kBucketNs);
    ++buckets_[std::min(bucket, buckets_.size() - 1)];
    max_ns_ = std::max(max_ns_, ns);
    ++count_;
  }
  void merge(const Histogram& other) {
    for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    max_ns_ = std::max(max_ns_, other.max_ns_);
    count_ += other.count_;
  }
  // The upper edge of the bucket holding the p-th fraction of samples.
  double percentileMs(double p) const {
    auto target = static_cast<uint64_t>(p * static_cast<double>(count_));
    uint64_t seen = 0;
    size_t i = 0;
    for (; i < buckets_.size() - 1; ++i) {
      seen += buckets_[i];
      if (seen > target) break;
    }
    return static_cast<double>((i + 1) * kBucketNs) / 1e6;
  }
  double maxMs() const { return static_cast<double>(max_ns_) / 1e6; }
  uint64_t count() const { return count_; }

 private:
  static constexpr int64_t kBucketNs = 10'000;
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(200'000);
  int64_t max_ns_ = 0;
  uint64_t count_ = 0;
};

// What one client thread saw; only that thread writes it.
struct ThreadStats {
  Histogram latency;
  uint64_t delivered = 0;
  uint64_t gaps = 0;        // updates missing while in sync
  uint64_t disordered = 0;  // an update at or below the last one
  uint64_t resyncs = 0;
  uint64_t ignored = 0;  // updates between a resync and its snapshot
  int64_t last_delivery_ns = 0;
};

struct Shared {
  std::atomic<int> subscribed{0};  // clients that got their first snapshot
  std::atomic<int> finished{0};    // clients that got the last update
  std::atomic<int> failed{0};      // connections that failed or were closed
  int64_t last_seq = 0;
  int64_t warmup_seq = 0;
};

int64_t field(std::string_view text, std::string_view name) {
  auto at = text.find(name);
  if (at == std::string_view::npos) return -1;
  int64_t value = -1;
  std::from_chars(text.data() + at + name.size(), text.data() + text.size(), value);
  return value;
}

// A masked client frame (RFC 6455 requires clients to mask); the mask is
// fixed, which the server cannot tell from a random one.
std::string clientFrame(uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x80 | opcode);
  frame += static_cast<char>(0x80 | payload.size());  // short control and subscribe frames only
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

class LoadClient {
 public:
  LoadClient(net::io_context& ioc, ThreadStats& stats, Shared& shared, uint16_t port)
      : socket_(ioc), stats_(stats), shared_(shared), port_(port), buffer_(64 * 1024) {}

  void start() {
    socket_.async_connect({net::ip::make_address("127.0.0.1"), port_}, [this](boost::system::error_code ec) {
      if (ec) return fail();
      out_ =
          "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      write();
      read();
    });
  }

 private:
  void write() {
    net::async_write(socket_, net::buffer(out_), [this](boost::system::error_code ec, size_t) {
      if (ec) fail();
    });
  }

  void read() {
    socket_.async_read_some(net::buffer(buffer_.data() + end_, buffer_.size() - end_),
                            [this](boost::system::error_code ec, size_t n) {
                              if (ec) return fail();
                              end_ += n;
                              if (!upgraded_ && !parseUpgrade()) return read();
                              parseFrames(nowNs());
                              read();
                            });
  }

  bool parseUpgrade() {
    std::string_view head(buffer_.data(), end_);
    auto blank = head.find("\r\n\r\n");
    if (blank == std::string_view::npos) return false;
    if (!head.starts_with("HTTP/1.1 101")) return fail(), false;
    upgraded_ = true;
    begin_ = blank + 4;
    out_ = clientFrame(0x1, R"({"op":"subscribe"})");
    write();
    return true;
  }

  // Every frame in the buffer was received by the same read, at `now`.
  void parseFrames(int64_t now) {
    for (;;) {
      size_t available = end_ - begin_;
      if (available < 2) break;
      auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + begin_);
      uint64_t length = p[1] & 0x7f;
      size_t header = 2;
      if (length == 126) {
        header = 4;
        if (available < header) break;
        length = (uint64_t{p[2]} << 8) | p[3];
      } else if (length == 127) {
        header = 10;
        if (available < header) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      }
      if (header + length > buffer_.size()) buffer_.resize(header + length);
      if (available < header + length) break;
      onFrame(p[0] & 0x0f, std::string_view(buffer_.data() + begin_ + header, length), now);
      begin_ += header + length;
    }
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (end_ > buffer_.size() / 2) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
  }

  void onFrame(int opcode, std::string_view text, int64_t now) {
    if (opcode == 0x9) {  // the server's keep-alive ping
      out_ = clientFrame(0xA, text);
      return write();
    }
    if (opcode == 0x8) return fail();
    if (text.starts_with(R"({"type":"update")")) {
      int64_t seq = field(text, R"("seq":)");
      if (!synced_) {
        ++stats_.ignored;
        return;
      }
      if (seq > last_ + 1) stats_.gaps += static_cast<uint64_t>(seq - last_ - 1);
      if (seq <= last_) ++stats_.disordered;
      last_ = seq;
      ++stats_.delivered;
      stats_.last_delivery_ns = now;
      if (seq > shared_.warmup_seq) stats_.latency.record(now - field(text, R"("ts":)"));
      if (seq == shared_.last_seq) shared_.finished.fetch_add(1);
    } else if (text.starts_with(R"({"type":"snapshot")")) {
      last_ = field(text, R"("seq":)");
      if (!subscribed_) shared_.subscribed.fetch_add(1);
      subscribed_ = synced_ = true;
    } else if (text.starts_with(R"({"type":"resync")")) {
      ++stats_.resyncs;
      synced_ = false;
    }
  }

  void fail() {
    if (!failed_) shared_.failed.fetch_add(1);
    failed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  ThreadStats& stats_;
  Shared& shared_;
  uint16_t port_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  std::string out_;
  bool upgraded_ = false, subscribed_ = false, synced_ = false, failed_ = false;
  int64_t last_ = 0;
};

void raiseFileLimit(int needed) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= static_cast<rlim_t>(needed)) return;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(needed));
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(needed))
    fmt::print(stderr, "warning: open files limited to {} (need {})\n", limit.rlim_cur, needed);
}

double cpuSeconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

bool waitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parseOptions(argc, argv);
  raiseFileLimit(2 * options.clients + 256);  // both ends of every connection live in this process
  const std::string topic = "chart:SPY:1m";
  Shared shared;
  shared.last_seq = static_cast<int64_t>(options.rate * options.duration);
  shared.warmup_seq = static_cast<int64_t>(options.rate * options.warmup);

  th::ApiOptions api;
  api.port = 0;
  api.max_clients = static_cast<size_t>(options.clients) + 100;
  th::ApiServer server(api);
  // The topic's owner is the publishing thread: subscription and resync
  // requests wait for it, as they would for the core thread.
  std::mutex requests_mutex;
  std::vector<th::WsClientId> requests;
  auto request = [&](th::WsClientId id) {
    std::lock_guard lock(requests_mutex);
    requests.push_back(id);
  };
  server.onWsMessage([&](th::WsClientId id, std::string_view) { request(id); });
  server.onWsResync([&](th::WsClientId id, const std::string&) { request(id); });
  int64_t seq = 0;
  auto answerRequests = [&] {
    std::vector<th::WsClientId> pending;
    {
      std::lock_guard lock(requests_mutex);
      pending.swap(requests);
    }
    auto snapshot = std::make_shared<const std::string>(fmt::format(R"({{"type":"snapshot","seq":{}}})", seq));
    for (auto id : pending) {
      server.sendTo(id, snapshot);
      server.subscribe(id, topic);
    }
  };
  if (auto started = server.start(); !started) {
    fmt::print(stderr, "{}\n", started.error().message);
    return 1;
  }

  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<std::unique_ptr<ThreadStats>> stats;
  std::vector<std::unique_ptr<LoadClient>> clients;
  for (int t = 0; t < options.client_threads; ++t) {
    contexts.push_back(std::make_unique<net::io_context>(1));
    stats.push_back(std::make_unique<ThreadStats>());
  }
  for (int i = 0; i < options.clients; ++i) {
    auto t = static_cast<size_t>(i % options.client_threads);
    clients.push_back(std::make_unique<LoadClient>(*contexts[t], *stats[t], shared, server.port()));
    clients.back()->start();
  }
  std::vector<std::thread> threads;
  for (auto& ioc : contexts)
    threads.emplace_back([&ioc] {
      auto guard = net::make_work_guard(*ioc);
      ioc->run();
    });

  bool all_subscribed = waitFor(
      [&] {
        answerRequests();
        return shared.subscribed.load() + shared.failed.load() >= options.clients;
      },
      std::chrono::seconds(120));
  if (!all_subscribed || shared.failed.load() > 0) {
    fmt::print(stderr, "only {} of {} clients subscribed ({} failed)\n", shared.subscribed.load(), options.clients,
               shared.failed.load());
    return 1;
  }

  std::vector<clockid_t> client_clocks;
  for (auto& t : threads) {
    clockid_t c{};
    pthread_getcpuclockid(t.native_handle(), &c);
    client_clocks.push_back(c);
  }
  auto clientCpu = [&] {
    double total = 0;
    for (auto c : client_clocks) total += cpuSeconds(c);
    return total;
  };
  const double process_cpu_start = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double client_cpu_start = clientCpu();

  // Publish at a fixed rate from this thread, the way the core thread would.
  const std::string padding(static_cast<size_t>(std::max(0, options.bytes - 90)), 'x');
  const int64_t start_ns = nowNs();
  const auto start = Clock::now();
  const auto interval = std::chrono::nanoseconds(1'000'000'000LL / options.rate);
  while (seq < shared.last_seq) {
    std::this_thread::sleep_until(start + interval * (seq + 1));
    answerRequests();
    ++seq;
    server.publish(
        topic, std::make_shared<const std::string>(fmt::format(
                   R"({{"type":"update","topic":"{}","seq":{},"ts":{},"data":"{}"}})", topic, seq, nowNs(), padding)));
  }
  const int64_t published_ns = nowNs();
  bool all_finished = waitFor([&] { return shared.finished.load() >= options.clients; }, std::chrono::seconds(30));
  const double process_cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_start;
  const double client_cpu = clientCpu() - client_cpu_start;

  for (auto& ioc : contexts) ioc->stop();
  for (auto& t : threads) t.join();

  ThreadStats total;
  for (auto& s : stats) {
    total.latency.merge(s->latency);
    total.delivered += s->delivered;
    total.gaps += s->gaps;
    total.disordered += s->disordered;
    total.resyncs += s->resyncs;
    total.ignored += s->ignored;
    total.last_delivery_ns = std::max(total.last_delivery_ns, s->last_delivery_ns);
  }
  const double elapsed = static_cast<double>(total.last_delivery_ns - start_ns) / 1e9;
  const double wall = static_cast<double>(nowNs() - start_ns) / 1e9;
  fmt::print("clients {}  rate {}/s  duration {}s  update {} bytes  client threads {}\n", options.clients, options.rate,
             options.duration, options.bytes, options.client_threads);
  fmt::print("published {} updates in {:.2f}s; offered {:.0f} deliveries/s\n", shared.last_seq,
             static_cast<double>(published_ns - start_ns) / 1e9, static_cast<double>(options.rate) * options.clients);
  fmt::print("delivered {} updates in {:.2f}s: {:.0f} updates/s{}\n", total.delivered, elapsed,
             static_cast<double>(total.delivered) / elapsed,
             all_finished ? "" : fmt::format(" (only {} clients got the last update)", shared.finished.load()));
  fmt::print(
      "latency publish->client (after {}s warm-up, {} samples): p50 {:.2f} ms  p99 {:.2f} ms  p99.9 {:.2f} ms  "
      "max {:.2f} ms\n",
      options.warmup, total.latency.count(), total.latency.percentileMs(0.50), total.latency.percentileMs(0.99),
      total.latency.percentileMs(0.999), total.latency.maxMs());
  fmt::print("gaps {}  out of order {}  resyncs {} (server {})  updates ignored awaiting snapshot {}  dropped {}\n",
             total.gaps, total.disordered, total.resyncs, server.clientsResynced(), total.ignored,
             server.clientsDropped());
  fmt::print("CPU over {:.2f}s: process {:.2f} cores, of which load-generator clients {:.2f}\n", wall,
             process_cpu / wall, client_cpu / wall);
  return all_finished && total.gaps == 0 && total.disordered == 0 ? 0 : 2;
}
