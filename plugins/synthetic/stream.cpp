#include "stream.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <queue>
#include <vector>

namespace th::synthetic {
namespace {

// How long the thread sleeps once it has caught up with the host clock:
// short enough that bars arrive within a few ms of their minute's end.
constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr int64_t kFreeRunning = std::numeric_limits<int64_t>::max();

}  // namespace

th_bar toAbiBar(std::string_view symbol, const TapeBar& bar, uint32_t flags) {
  return {sizeof(th_bar),
          symbol.data(),
          static_cast<uint32_t>(symbol.size()),
          flags,
          bar.start_ns,
          kNsPerMinute,
          static_cast<double>(bar.open) / 100.0,
          static_cast<double>(bar.high) / 100.0,
          static_cast<double>(bar.low) / 100.0,
          static_cast<double>(bar.close) / 100.0,
          static_cast<double>(bar.volume),
          bar.vwap,
          bar.trade_count};
}

Streamer::Streamer(const Host& host, const MarketModel& model, const SessionSchedule& schedule)
    : host_(host), model_(model), schedule_(schedule) {}

// Silent: destroy() may run while the host is tearing down, so no callback.
Streamer::~Streamer() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Streamer::start() {
  if (thread_.joinable()) {
    if (!ended_.load()) return;  // already streaming
    thread_.join();              // the previous run ended by itself; start afresh
  }
  stop_.store(false);
  ended_.store(false);
  int64_t now = host_.nowNs();
  int64_t cursor = now == kFreeRunning ? std::numeric_limits<int64_t>::min() : now;
  host_.connection(TH_CONN_CONNECTED, "synthetic: streaming");
  thread_ = std::thread([this, cursor] { run(cursor); });
}

void Streamer::stop() {
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    throw Error(TH_ERR_INTERNAL, "synthetic: disconnect called from inside a data callback");
  }
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  thread_.join();
  if (!ended_.load()) host_.connection(TH_CONN_DISCONNECTED, "synthetic: disconnected");
  ended_.store(true);
}

void Streamer::subscribe(std::string_view symbol, uint32_t streams) {
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(symbol);
  if (it == subscriptions_.end()) it = subscriptions_.emplace(std::string(symbol), 0u).first;
  it->second |= streams;
}

void Streamer::unsubscribe(std::string_view symbol, uint32_t streams) {
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(symbol);
  if (it == subscriptions_.end()) return;
  it->second &= ~streams;
  if (it->second == 0) subscriptions_.erase(it);
}

void Streamer::run(int64_t cursor) {
  try {
    std::optional<Session> session = schedule_.firstClosingAfter(cursor);
    Tapes tapes;
    while (!stopRequested()) {
      if (!session) {
        ended_.store(true);
        host_.connection(TH_CONN_DISCONNECTED, schedule_.limit() != 0 ? "synthetic: end of configured sessions"
                                                                      : "synthetic: end of the supported calendar");
        return;
      }
      int64_t target = std::min(host_.nowNs(), session->close_ns);
      if (target > cursor) {
        // Nothing trades before the open, so no tape is needed until then.
        if (target >= session->open_ns && !emit(*session, cursor, target, tapes)) return;
        cursor = target;
      }
      if (cursor >= session->close_ns) {
        session = schedule_.session(session->index + 1);
        tapes.clear();
        continue;
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kPollInterval, [this] { return stopRequested(); });
    }
  } catch (const std::exception& e) {
    // The thread has no caller to return an error to; the host hears it as
    // a failed link instead of the process terminating.
    ended_.store(true);
    host_.connection(TH_CONN_FAILED, std::string("synthetic: feed stopped: ") + e.what());
  }
}

bool Streamer::emit(const Session& session, int64_t cursor, int64_t target, Tapes& tapes) {
  struct Lane {
    const std::string* symbol;
    uint32_t streams;
    const SessionTape* tape;
    size_t next;
    size_t end;
  };
  std::vector<std::pair<std::string, uint32_t>> subscribed;
  {
    std::lock_guard lock(mutex_);
    subscribed.assign(subscriptions_.begin(), subscriptions_.end());
  }
  std::vector<Lane> lanes;
  lanes.reserve(subscribed.size());
  for (const auto& [symbol, streams] : subscribed) {
    auto found = tapes.find(symbol);
    if (found == tapes.end()) found = tapes.emplace(symbol, model_.tape(symbol, session)).first;
    const auto& events = found->second->events;
    auto by_time = [](const TapeEvent& e, int64_t ts) { return e.ts_ns <= ts; };
    size_t first =
        static_cast<size_t>(std::lower_bound(events.begin(), events.end(), cursor, by_time) - events.begin());
    size_t end = static_cast<size_t>(std::lower_bound(events.begin(), events.end(), target, by_time) - events.begin());
    if (first < end) lanes.push_back({&symbol, streams, found->second.get(), first, end});
  }

  // K-way merge on (timestamp, lane); lanes are in symbol order.
  auto later = [&](size_t a, size_t b) {
    int64_t ta = lanes[a].tape->events[lanes[a].next].ts_ns;
    int64_t tb = lanes[b].tape->events[lanes[b].next].ts_ns;
    return ta != tb ? ta > tb : a > b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < lanes.size(); ++i) heap.push(i);

  while (!heap.empty()) {
    if (stopRequested()) return false;
    size_t i = heap.top();
    heap.pop();
    Lane& lane = lanes[i];
    const TapeEvent& event = lane.tape->events[lane.next];
    const char* symbol = lane.symbol->data();  // valid until the merge ends: `subscribed` owns it
    const auto symbol_len = static_cast<uint32_t>(lane.symbol->size());
    switch (event.kind) {
      case EventKind::Trade:
        if (lane.streams & TH_STREAM_TRADES) {
          const TapeTrade& t = lane.tape->trades[event.index];
          th_trade out{sizeof(th_trade),
                       symbol,
                       symbol_len,
                       t.ts_ns,
                       static_cast<double>(t.price) / 100.0,
                       static_cast<double>(t.size),
                       t.sequence};
          host_.trade(out);
        }
        break;
      case EventKind::Quote:
        if (lane.streams & TH_STREAM_QUOTES) {
          const TapeQuote& q = lane.tape->quotes[event.index];
          th_quote out{sizeof(th_quote),
                       symbol,
                       symbol_len,
                       q.ts_ns,
                       static_cast<double>(q.bid) / 100.0,
                       static_cast<double>(q.ask) / 100.0,
                       static_cast<double>(q.bid_size),
                       static_cast<double>(q.ask_size)};
          host_.quote(out);
        }
        break;
      case EventKind::Bar:
        if (lane.streams & TH_STREAM_BARS_1M) {
          th_bar out = toAbiBar(*lane.symbol, lane.tape->bars[event.index], TH_BAR_FINAL);
          host_.bar(out);
        }
        break;
    }
    if (++lane.next < lane.end) heap.push(i);
  }
  return true;
}

}  // namespace th::synthetic
