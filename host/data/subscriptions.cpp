#include "data/subscriptions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <th/plugin.h>

#include <bit>

namespace th {
namespace {

uint32_t maskOf(const std::array<uint32_t, 32>& counts) {
  uint32_t mask = 0;
  for (uint32_t bit = 0; bit < counts.size(); ++bit) {
    if (counts[bit] > 0) mask |= 1u << bit;
  }
  return mask;
}

template <typename Fn>
void forEachBit(uint32_t streams, Fn&& fn) {
  while (streams != 0) {
    auto bit = static_cast<uint32_t>(std::countr_zero(streams));
    fn(bit);
    streams &= streams - 1;
  }
}

}  // namespace

std::vector<std::string> streamNames(uint32_t streams) {
  std::vector<std::string> names;
  forEachBit(streams, [&](uint32_t bit) {
    switch (1u << bit) {
      case TH_STREAM_TRADES:
        names.emplace_back("trades");
        break;
      case TH_STREAM_QUOTES:
        names.emplace_back("quotes");
        break;
      case TH_STREAM_BARS_1M:
        names.emplace_back("bars");
        break;
      default:
        names.push_back(fmt::format("stream{}", bit));
    }
  });
  return names;
}

SubscriptionTable::Entry* SubscriptionTable::find(std::string_view provider, std::string_view symbol) {
  auto p = providers_.find(provider);
  if (p == providers_.end()) return nullptr;
  auto s = p->second.find(symbol);
  return s == p->second.end() ? nullptr : &s->second;
}

void SubscriptionTable::eraseIfEmpty(std::string_view provider, std::string_view symbol) {
  auto p = providers_.find(provider);
  if (p == providers_.end()) return;
  auto s = p->second.find(symbol);
  if (s != p->second.end() && s->second.consumers.empty()) p->second.erase(s);
  if (p->second.empty()) providers_.erase(p);
}

uint32_t SubscriptionTable::acquire(std::string_view provider, std::string_view symbol, uint32_t streams,
                                    std::string_view consumer) {
  if (streams == 0) return 0;
  auto p = providers_.find(provider);
  if (p == providers_.end()) p = providers_.emplace(std::string(provider), Symbols{}).first;
  auto s = p->second.find(symbol);
  if (s == p->second.end()) s = p->second.emplace(std::string(symbol), Entry{}).first;
  Entry& entry = s->second;
  auto c = entry.consumers.find(consumer);
  if (c == entry.consumers.end()) c = entry.consumers.emplace(std::string(consumer), Counts{}).first;
  uint32_t added = 0;
  forEachBit(streams, [&](uint32_t bit) {
    if (entry.total[bit]++ == 0) added |= 1u << bit;
    ++c->second[bit];
  });
  return added;
}

Result<uint32_t> SubscriptionTable::release(std::string_view provider, std::string_view symbol, uint32_t streams,
                                            std::string_view consumer) {
  Entry* entry = find(provider, symbol);
  Counts* mine = nullptr;
  if (entry) {
    if (auto c = entry->consumers.find(consumer); c != entry->consumers.end()) mine = &c->second;
  }
  uint32_t held = mine ? maskOf(*mine) : 0;
  if ((streams & ~held) != 0) {
    return fail(ErrorCode::NotFound, fmt::format("consumer '{}' does not hold {} of {} at {}", consumer,
                                                 fmt::join(streamNames(streams & ~held), ", "), symbol, provider));
  }
  if (streams == 0) return 0;
  uint32_t removed = 0;
  forEachBit(streams, [&](uint32_t bit) {
    --(*mine)[bit];
    if (--entry->total[bit] == 0) removed |= 1u << bit;
  });
  if (maskOf(*mine) == 0) entry->consumers.erase(entry->consumers.find(consumer));
  eraseIfEmpty(provider, symbol);
  return removed;
}

std::vector<ProviderStreams> SubscriptionTable::releaseConsumer(std::string_view consumer) {
  std::vector<ProviderStreams> out;
  for (auto p = providers_.begin(); p != providers_.end();) {
    for (auto s = p->second.begin(); s != p->second.end();) {
      Entry& entry = s->second;
      auto c = entry.consumers.find(consumer);
      if (c != entry.consumers.end()) {
        uint32_t removed = 0;
        for (uint32_t bit = 0; bit < kStreamBits; ++bit) {
          if (c->second[bit] == 0) continue;
          entry.total[bit] -= c->second[bit];
          if (entry.total[bit] == 0) removed |= 1u << bit;
        }
        entry.consumers.erase(c);
        if (removed != 0) out.push_back({p->first, s->first, removed});
      }
      s = entry.consumers.empty() ? p->second.erase(s) : std::next(s);
    }
    p = p->second.empty() ? providers_.erase(p) : std::next(p);
  }
  return out;
}

uint32_t SubscriptionTable::streams(std::string_view provider, std::string_view symbol) const {
  auto p = providers_.find(provider);
  if (p == providers_.end()) return 0;
  auto s = p->second.find(symbol);
  return s == p->second.end() ? 0 : maskOf(s->second.total);
}

std::vector<SubscriptionEntry> SubscriptionTable::snapshot() const {
  std::vector<SubscriptionEntry> out;
  for (const auto& [provider, symbols] : providers_) {
    for (const auto& [symbol, entry] : symbols) {
      SubscriptionEntry e{provider, symbol, maskOf(entry.total), {}};
      for (const auto& [consumer, counts] : entry.consumers) {
        ConsumerHold hold{consumer, maskOf(counts), {}};
        forEachBit(hold.streams, [&](uint32_t bit) { hold.counts.push_back({1u << bit, counts[bit]}); });
        e.consumers.push_back(std::move(hold));
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace th
