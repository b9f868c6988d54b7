#include "replay_provider.hpp"

#include "bar_loader.hpp"
#include "replay_config.hpp"
#include "text.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace th::replay {
namespace {

constexpr uint32_t kKnownStreams = TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M;
// Longest pause playback will schedule (about 31 years): keeps a tiny speed
// over a long gap from overflowing the clock arithmetic.
constexpr double kMaxDelayNs = 1e18;

th_bar toBar(const std::string& symbol, const StoredBar& stored, uint32_t flags) {
  th_bar bar{};
  bar.struct_size = sizeof bar;
  bar.symbol = symbol.data();
  bar.symbol_len = static_cast<uint32_t>(symbol.size());
  bar.flags = flags;
  bar.start_ns = stored.startNs();
  bar.duration_ns = kNsPerMinute;
  bar.open = stored.open;
  bar.high = stored.high;
  bar.low = stored.low;
  bar.close = stored.close;
  bar.volume = stored.volume;
  bar.vwap = 0;  // neither file format carries one
  bar.trade_count = stored.tradeCount;
  return bar;
}

void checkStreams(std::string_view operation, std::string_view symbol, uint32_t streams) {
  if (streams == 0 || (streams & ~kKnownStreams) != 0) {
    throw Error(TH_ERR_INVALID_ARGUMENT,
                concat("replay: ", operation, " '", symbol, "': streams ", std::to_string(streams),
                       " is not a non-empty mask of TH_STREAM_* bits"));
  }
}

}  // namespace

ReplayProvider::ReplayProvider(Host host, std::string_view configText) : DataProvider(host) {
  auto started = std::chrono::steady_clock::now();
  ReplayConfig config = parseConfig(configText);
  speed_ = config.speed;
  fileCount_ = config.files.size();
  store_ = loadBars(config.files, config.symbols);
  subscriptions_ = std::make_unique<std::atomic<uint32_t>[]>(store_.symbolCount());
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  this->host().log(
      TH_LOG_INFO,
      concat("replay: loaded ", std::to_string(store_.barCount()), " bars of ", std::to_string(store_.symbolCount()),
             " symbols from ", std::to_string(fileCount_), " files in ", std::to_string(elapsed.count()), " ms"));
}

ReplayProvider::~ReplayProvider() { disconnect(); }

void ReplayProvider::connect() {
  if (thread_.joinable()) {
    if (playing_.load()) return;  // already playing: connect is idempotent
    thread_.join();               // playback reached its end (the thread may be finishing its report)
  }
  stop_.store(false);
  playing_.store(true);
  host().connection(TH_CONN_CONNECTED, concat("replay: playing ", std::to_string(store_.barCount()), " bars from ",
                                              std::to_string(fileCount_), " files"));
  thread_ = std::thread([this] { play(); });
}

void ReplayProvider::disconnect() {
  if (!thread_.joinable()) return;
  {
    // Set under the lock so a thread about to sleep cannot miss the wake-up.
    std::lock_guard lock(sleepMutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  thread_.join();
}

bool ReplayProvider::sleepUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(sleepMutex_);
  return !wake_.wait_until(lock, deadline, [this] { return stop_.load(); });
}

void ReplayProvider::play() {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point began = Clock::now();
  MergedCursor cursor(store_);
  std::optional<int64_t> firstStartNs;
  uint64_t delivered = 0;

  while (std::optional<MergedCursor::Entry> entry = cursor.next()) {
    if (stop_.load(std::memory_order_relaxed)) return;
    const StoredBar& stored = *entry->bar;
    if (!firstStartNs) firstStartNs = stored.startNs();
    if (speed_ > 0) {
      // A bar exists once its minute is over, so it is released at its end,
      // scaled from the start of the first bar.
      double delayNs =
          std::min(static_cast<double>(stored.startNs() + kNsPerMinute - *firstStartNs) / speed_, kMaxDelayNs);
      Clock::time_point release =
          began + std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(static_cast<int64_t>(delayNs)));
      if (Clock::now() < release && !sleepUntil(release)) return;
    }
    // Read per bar, so a subscription made during playback applies from the
    // next bar on.
    if ((subscriptions_[entry->symbol].load(std::memory_order_relaxed) & TH_STREAM_BARS_1M) == 0) continue;
    th_bar bar = toBar(store_.symbol(entry->symbol), stored, TH_BAR_FINAL);
    host().bar(bar);
    ++delivered;
  }
  // Cleared before the report: a host that reconnects as soon as it sees the
  // end must find playback over, or its connect() would be taken for a no-op.
  playing_.store(false);
  host().connection(TH_CONN_DISCONNECTED, concat("replay: end of data (", std::to_string(delivered), " bars)"));
}

uint32_t ReplayProvider::symbolIndex(std::string_view symbol, std::string_view operation) const {
  std::optional<uint32_t> index = store_.find(symbol);
  if (!index) {
    throw Error(TH_ERR_NOT_FOUND,
                concat("replay: ", operation, ": unknown symbol '", symbol, "' (not in the replay files)"));
  }
  return *index;
}

void ReplayProvider::subscribe(std::string_view symbol, uint32_t streams) {
  checkStreams("subscribe", symbol, streams);
  uint32_t index = symbolIndex(symbol, "subscribe");
  subscriptions_[index].fetch_or(streams);
  if ((streams & (TH_STREAM_TRADES | TH_STREAM_QUOTES)) != 0) {
    host().log(TH_LOG_INFO,
               concat("replay: '", symbol,
                      "' trades/quotes subscribed, but bar files have none; only 1-minute bars are played"));
  }
}

void ReplayProvider::unsubscribe(std::string_view symbol, uint32_t streams) {
  checkStreams("unsubscribe", symbol, streams);
  subscriptions_[symbolIndex(symbol, "unsubscribe")].fetch_and(~streams);
}

void ReplayProvider::history(const th_history_request& request, th_bar_sink sink, void* sink_ctx) {
  std::string_view symbol = view(request.symbol, request.symbol_len);
  uint32_t index = symbolIndex(symbol, "history");
  if (request.duration_ns != kNsPerMinute) {
    throw Error(TH_ERR_NOT_SUPPORTED,
                concat("replay: history: only 1-minute bars (duration_ns 60000000000), asked for ",
                       std::to_string(request.duration_ns)));
  }
  if (request.from_ns > request.to_ns) {
    throw Error(TH_ERR_INVALID_ARGUMENT, concat("replay: history: from_ns ", std::to_string(request.from_ns),
                                                " is after to_ns ", std::to_string(request.to_ns)));
  }
  const std::string& name = store_.symbol(index);
  for (const StoredBar& stored : store_.range(index, request.from_ns, request.to_ns)) {
    th_bar bar = toBar(name, stored, TH_BAR_FINAL | TH_BAR_HISTORY);
    sink(sink_ctx, &bar);
  }
}

void ReplayProvider::lookup(std::string_view symbol, th_instrument& out) {
  uint32_t index = symbolIndex(symbol, "lookup");
  copyField(out.symbol, store_.symbol(index));
  copyField(out.name, "");
  copyField(out.exchange, "REPLAY");
  out.asset_class = TH_ASSET_EQUITY;
  out.tick_size = 0.01;
  out.multiplier = 1;
  // Replays feed simulations, where short selling is the broker's decision.
  out.shortable = 1;
}

// The files' symbols (those the `symbols` setting kept): the store holds
// every one of them and never changes after load.
void ReplayProvider::listSymbols(th_symbol_sink sink, void* sink_ctx) {
  for (uint32_t index = 0; index < store_.symbolCount(); ++index) {
    const std::string& symbol = store_.symbol(index);
    sink(sink_ctx, symbol.data(), static_cast<uint32_t>(symbol.size()));
  }
}

}  // namespace th::replay

TH_DATA_PLUGIN(
    th::replay::ReplayProvider, "replay", "CSV bar replay", "0.1.0",
    "Plays 1-minute bar CSV files (native or Polygon/Massive flat files) at full speed or a real-time multiple")
