// The events the core thread processes, in the order they were posted.
// Market events carry symbols inline (no allocation) because they are the
// bulk of the traffic; order events are rare and carry ordinary strings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace th {

// A ticker or an OCC option symbol (21 characters), stored inline.
class Symbol {
 public:
  static constexpr size_t kCapacity = 31;
  Symbol() = default;
  explicit Symbol(std::string_view s) {
    size_ = static_cast<uint8_t>(std::min(s.size(), kCapacity));
    std::memcpy(data_, s.data(), size_);
  }
  std::string_view view() const { return {data_, size_}; }
  bool empty() const { return size_ == 0; }
  friend bool operator==(const Symbol& a, const Symbol& b) { return a.view() == b.view(); }

 private:
  char data_[kCapacity] = {};
  uint8_t size_ = 0;
};

struct TradeEvent {
  Symbol symbol;
  int64_t ts_ns = 0;
  double price = 0, size = 0;
  uint64_t sequence = 0;
};

struct QuoteEvent {
  Symbol symbol;
  int64_t ts_ns = 0;
  double bid = 0, ask = 0, bid_size = 0, ask_size = 0;
};

struct BarEvent {
  Symbol symbol;
  uint32_t flags = 0;
  int64_t start_ns = 0, duration_ns = 0;
  double open = 0, high = 0, low = 0, close = 0, volume = 0, vwap = 0;
  uint64_t trade_count = 0;
};

struct OrderEvent {
  std::string client_order_id, broker_order_id, symbol, reason;
  int32_t asset_class = 0, side = 0, type = 0, time_in_force = 0, status = 0;
  double quantity = 0, filled_quantity = 0, average_fill_price = 0, limit_price = 0, stop_price = 0;
  int64_t ts_ns = 0;
};

struct FillEvent {
  std::string fill_id, client_order_id, broker_order_id, symbol;
  int32_t asset_class = 0, side = 0;
  double quantity = 0, price = 0, commission = 0, multiplier = 1;
  int64_t ts_ns = 0;
  int32_t activity = 0;  // TH_FILL_* or kFillOffset: an option's expiry, exercise or assignment has no order
  std::string contract;  // for an exercise's or assignment's shares: the contract that delivered them
};

struct ConnectionEvent {
  int32_t state = 0;  // TH_CONN_*
  std::string reason;
};

// Work that must run on the core thread (reading or changing trading state
// on behalf of another thread, such as an API request).
struct TaskEvent {
  std::function<void()> run;
};

using EventPayload = std::variant<TradeEvent, QuoteEvent, BarEvent, OrderEvent, FillEvent, ConnectionEvent, TaskEvent>;
inline constexpr size_t kEventKindCount = std::variant_size_v<EventPayload>;
// "trade", "quote", ... for EventPayload::index(), as metrics label them.
std::string_view eventKindName(size_t index);
// A fill no broker reported: the broker service closed two books' opposite
// positions in an expired contract against each other (the account held
// none, so the broker settled nothing). Not an ABI value: a plugin's fill
// with it is refused like any other unknown activity.
inline constexpr int32_t kFillOffset = 64;
// "trade", "expired", "exercised", "assigned" or "offset" for FillEvent::activity.
std::string_view fillActivityName(int32_t activity);

struct Event {
  uint16_t source = 0;  // index of the plugin instance that produced it; 0 = host
  EventPayload payload;

  int64_t timestamp() const;
  bool isMarketData() const {
    return std::holds_alternative<TradeEvent>(payload) || std::holds_alternative<QuoteEvent>(payload) ||
           std::holds_alternative<BarEvent>(payload);
  }
  // Order and fill events must reach the disk before anything acts on them.
  bool needsSync() const {
    return std::holds_alternative<OrderEvent>(payload) || std::holds_alternative<FillEvent>(payload);
  }
};

}  // namespace th
