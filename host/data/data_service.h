// The data service stands between the data providers and everything that
// consumes market data. It owns the exchange session calendar (is the market
// open, where does a session start), checks every market event for quality
// (out of order, duplicate, crossed or stale quote, bad tick) and flags or
// drops it as configured, keeps provider subscriptions reference-counted so
// one symbol is subscribed once however many consumers want it, and runs
// requests to providers in separate channels (orders, charts, scanner,
// strategies, realtime), each with its own concurrency and rate budget, so
// bulk work never delays the data behind an order. It reports all of this as
// JSON for the API and as Prometheus metrics.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "data/calendar.h"
#include "data/channels.h"
#include "data/quality.h"
#include "data/subscriptions.h"

namespace th {

class DataService {
 public:
  // Loads the calendar `config.calendar` names ("builtin" or a path); a bad
  // calendar file is an error naming its file, line and key.
  static Result<std::unique_ptr<DataService>> create(const DataConfig& config, RequestChannels::Now now = {});
  DataService(const DataConfig& config, SessionCalendar calendar, RequestChannels::Now now = {});
  ~DataService();
  DataService(const DataService&) = delete;
  DataService& operator=(const DataService&) = delete;

  const SessionCalendar& calendar() const { return calendar_; }
  DataQuality& quality() { return quality_; }
  const DataQuality& quality() const { return quality_; }
  RequestChannels& channels() { return channels_; }
  const RequestChannels& channels() const { return channels_; }

  // Core thread: subscription changes go through the service so that the
  // copy the API threads read stays current. Results as SubscriptionTable's.
  uint32_t acquire(std::string_view provider, std::string_view symbol, uint32_t streams, std::string_view consumer);
  [[nodiscard]] Result<uint32_t> release(std::string_view provider, std::string_view symbol, uint32_t streams,
                                         std::string_view consumer);
  std::vector<ProviderStreams> releaseConsumer(std::string_view consumer);
  const SubscriptionTable& subscriptions() const { return subscriptions_; }

  // Any thread.
  std::string channelsJson() const;       // GET /api/v1/data/channels
  std::string qualityJson() const;        // GET /api/v1/data/quality
  std::string subscriptionsJson() const;  // GET /api/v1/data/subscriptions
  std::string metricsText() const;        // Prometheus text, appended to /metrics

  // Stops the channels: queued requests are cancelled, running ones finish.
  void stop() { channels_.stop(); }

 private:
  void publishSubscriptions();

  SessionCalendar calendar_;
  DataQuality quality_;
  RequestChannels channels_;
  SubscriptionTable subscriptions_;  // core thread only
  mutable std::mutex published_mutex_;
  std::vector<SubscriptionEntry> published_;  // subscriptions_ as of its last change
};

}  // namespace th
