#include "data/data_service.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/json.h"
#include "core/metrics.h"

namespace th {
namespace {

// Prometheus label values may hold a backslash, a quote or a newline only
// escaped; symbols come from plugins, so nothing is assumed about them.
std::string labelValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<DataService>> DataService::create(const DataConfig& config, RequestChannels::Now now) {
  if (config.calendar == "builtin") return std::make_unique<DataService>(config, SessionCalendar::builtin(), std::move(now));
  auto calendar = SessionCalendar::load(config.calendar);
  if (!calendar) return std::unexpected(calendar.error());
  return std::make_unique<DataService>(config, std::move(*calendar), std::move(now));
}

DataService::DataService(const DataConfig& config, SessionCalendar calendar, RequestChannels::Now now)
    : calendar_(std::move(calendar)), quality_(config.quality, calendar_), channels_(config.channels, std::move(now)) {}

DataService::~DataService() { stop(); }

uint32_t DataService::acquire(std::string_view provider, std::string_view symbol, uint32_t streams,
                              std::string_view consumer) {
  uint32_t added = subscriptions_.acquire(provider, symbol, streams, consumer);
  if (streams != 0) publishSubscriptions();
  return added;
}

Result<uint32_t> DataService::release(std::string_view provider, std::string_view symbol, uint32_t streams,
                                      std::string_view consumer) {
  auto removed = subscriptions_.release(provider, symbol, streams, consumer);
  if (removed && streams != 0) publishSubscriptions();
  return removed;
}

std::vector<ProviderStreams> DataService::releaseConsumer(std::string_view consumer) {
  auto removed = subscriptions_.releaseConsumer(consumer);
  publishSubscriptions();
  return removed;
}

void DataService::publishSubscriptions() {
  // Subscriptions change at human pace (a strategy starts, a chart opens),
  // so copying the whole table each time is cheaper than locking every read.
  auto copy = subscriptions_.snapshot();
  std::lock_guard lock(published_mutex_);
  published_ = std::move(copy);
}

std::string DataService::channelsJson() const {
  auto channels = nlohmann::json::array();
  for (const auto& s : channels_.stats()) {
    channels.push_back(
        {{"name", s.name},
         {"concurrency", s.concurrency},
         {"rate_per_s", s.rate_per_s},
         {"max_queued", s.max_queued},
         {"requests", s.requests},
         {"completed", s.completed},
         {"errors", s.errors},
         {"rejected", s.rejected},
         {"queued", s.queued},
         {"running", s.running},
         {"latency_ms", {{"p50", s.latency_p50_ms}, {"p99", s.latency_p99_ms}, {"max", s.latency_max_ms}}}});
  }
  return jsonText({{"channels", channels}, {"unknown_channel_rejected", channels_.unknownChannelRejections()}});
}

std::string DataService::qualityJson() const {
  auto snapshot = quality_.snapshot();
  auto actions = nlohmann::json::object();
  for (size_t i = 0; i < kQualityIssueCount; ++i) {
    actions[std::string(qualityIssueName(QualityIssue(i)))] = qualityActionName(snapshot.actions[i]);
  }
  auto symbols = nlohmann::json::array();
  for (const auto& s : snapshot.symbols) {
    auto issues = nlohmann::json::object();
    for (size_t i = 0; i < kQualityIssueCount; ++i)
      issues[std::string(qualityIssueName(QualityIssue(i)))] = s.issues[i];
    symbols.push_back({{"symbol", s.symbol},
                       {"events", s.events},
                       {"flagged", s.flagged},
                       {"dropped", s.dropped},
                       {"issues", issues}});
  }
  return jsonText({{"actions", actions},
                   {"events", snapshot.events},
                   {"flagged", snapshot.flagged},
                   {"dropped", snapshot.dropped},
                   {"symbols", symbols}});
}

std::string DataService::subscriptionsJson() const {
  std::vector<SubscriptionEntry> entries;
  {
    std::lock_guard lock(published_mutex_);
    entries = published_;
  }
  auto list = nlohmann::json::array();
  for (const auto& e : entries) {
    auto consumers = nlohmann::json::array();
    for (const auto& c : e.consumers) {
      auto counts = nlohmann::json::object();
      for (const auto& sc : c.counts) counts[streamNames(sc.stream).front()] = sc.count;
      consumers.push_back({{"consumer", c.consumer}, {"streams", counts}});
    }
    list.push_back({{"provider", e.provider},
                    {"symbol", e.symbol},
                    {"streams", streamNames(e.streams)},
                    {"consumers", consumers}});
  }
  return jsonText({{"subscriptions", list}});
}

std::string DataService::metricsText() const {
  std::string out;
  auto stats = channels_.stats();
  auto perChannel = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    metricHeader(out, name, type, help);
    for (const auto& s : stats) out += fmt::format("{}{{channel=\"{}\"}} {}\n", name, labelValue(s.name), value(s));
  };
  perChannel("tradehost_data_channel_requests_total", "counter", "Requests accepted by each data channel.",
             [](const ChannelStats& s) { return s.requests; });
  perChannel("tradehost_data_channel_errors_total", "counter", "Requests that ran and failed, by channel.",
             [](const ChannelStats& s) { return s.errors; });
  perChannel("tradehost_data_channel_rejected_total", "counter",
             "Requests refused because the channel's queue was full or it was stopping.",
             [](const ChannelStats& s) { return s.rejected; });
  metricHeader(out, "tradehost_data_channel_unknown_total", "counter",
               "Requests refused because they named no channel there is.");
  out += fmt::format("tradehost_data_channel_unknown_total {}\n", channels_.unknownChannelRejections());
  perChannel("tradehost_data_channel_queued", "gauge", "Requests waiting for a worker or a rate token.",
             [](const ChannelStats& s) { return s.queued; });
  perChannel("tradehost_data_channel_running", "gauge", "Requests running now.",
             [](const ChannelStats& s) { return s.running; });
  metricHeader(out, "tradehost_data_channel_latency_ms", "gauge",
               "Submit-to-completion latency over the last 1024 requests, by channel and quantile.");
  for (const auto& s : stats) {
    auto channel = labelValue(s.name);
    out += fmt::format("tradehost_data_channel_latency_ms{{channel=\"{}\",quantile=\"0.5\"}} {}\n", channel,
                       s.latency_p50_ms);
    out += fmt::format("tradehost_data_channel_latency_ms{{channel=\"{}\",quantile=\"0.99\"}} {}\n", channel,
                       s.latency_p99_ms);
  }

  auto quality = quality_.snapshot();
  metricHeader(out, "tradehost_data_quality_events_total", "counter",
               "Market events with a quality issue, by symbol, issue and the action configured for it.");
  // Only issues that occurred: a scanner universe of thousands of symbols
  // would otherwise publish five zero series for each.
  for (const auto& s : quality.symbols) {
    auto symbol = labelValue(s.symbol);
    for (size_t i = 0; i < kQualityIssueCount; ++i) {
      if (s.issues[i] == 0) continue;
      out += fmt::format("tradehost_data_quality_events_total{{symbol=\"{}\",issue=\"{}\",action=\"{}\"}} {}\n", symbol,
                         qualityIssueName(QualityIssue(i)), qualityActionName(quality.actions[i]), s.issues[i]);
    }
  }
  return out;
}

}  // namespace th
