// Reference-counted market-data subscriptions: however many consumers
// (strategies, chart clients, the scanner) want a symbol's streams, the
// provider is asked once. The table answers, for every acquire and release,
// which TH_STREAM_* bits must now be subscribed or unsubscribed at the
// provider; it never talks to a provider itself. Core thread only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace th {

// "trades", "quotes", "bars" for the TH_STREAM_* bits of `streams`, lowest
// bit first; unknown bits as "stream<N>".
std::vector<std::string> streamNames(uint32_t streams);

struct StreamCount {
  uint32_t stream = 0;  // one TH_STREAM_* bit
  uint32_t count = 0;   // acquisitions not yet released
};

struct ConsumerHold {
  std::string consumer;
  uint32_t streams = 0;  // the bits this consumer holds
  std::vector<StreamCount> counts;
};

struct SubscriptionEntry {
  std::string provider, symbol;
  uint32_t streams = 0;  // what is subscribed at the provider
  std::vector<ConsumerHold> consumers;
};

// Streams to unsubscribe at a provider for one symbol.
struct ProviderStreams {
  std::string provider, symbol;
  uint32_t streams = 0;
  friend bool operator==(const ProviderStreams&, const ProviderStreams&) = default;
};

class SubscriptionTable {
 public:
  // Counts one more hold of each bit of `streams` by `consumer`; returns the
  // bits nobody held before, which the caller must now subscribe.
  uint32_t acquire(std::string_view provider, std::string_view symbol, uint32_t streams, std::string_view consumer);
  // Undoes one acquire of each bit; returns the bits nobody holds any more,
  // which the caller must now unsubscribe. Releasing a bit the consumer does
  // not hold is a NotFound error naming it, and changes nothing.
  [[nodiscard]] Result<uint32_t> release(std::string_view provider, std::string_view symbol, uint32_t streams,
                                         std::string_view consumer);
  // Drops every hold of a consumer (a strategy stopped, a client went away);
  // returns what must be unsubscribed, ordered by provider and symbol.
  std::vector<ProviderStreams> releaseConsumer(std::string_view consumer);

  // The bits subscribed at the provider for a symbol (0 when none).
  uint32_t streams(std::string_view provider, std::string_view symbol) const;
  // Ordered by provider, symbol, consumer.
  std::vector<SubscriptionEntry> snapshot() const;
  bool empty() const { return providers_.empty(); }

 private:
  static constexpr size_t kStreamBits = 32;
  using Counts = std::array<uint32_t, kStreamBits>;  // by bit index
  struct Entry {
    Counts total{};
    std::map<std::string, Counts, std::less<>> consumers;
  };
  using Symbols = std::map<std::string, Entry, std::less<>>;

  Entry* find(std::string_view provider, std::string_view symbol);
  void eraseIfEmpty(std::string_view provider, std::string_view symbol);

  std::map<std::string, Symbols, std::less<>> providers_;
};

}  // namespace th
