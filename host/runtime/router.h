// The runtime: the one event router of the host. Every event of a live or
// simulated session (`tradehost run`) and of a backtest takes this path, in
// this order, so a strategy sees the same thing in both and a backtest's
// trades are the ones the session would make:
//
//   1. the host records it (a session journals it; a backtest counts it);
//   2. data quality judges market data, and what it drops goes no further
//      (a bar or trade on a day the exchange was closed is always dropped);
//   3. the chart hub builds candles from the market source's data and puts
//      every fill on the chart;
//   4. simulated brokers get the market data, and what they report while
//      they get it (a stop or target hit inside the bar) is routed before
//      the event goes on: within a bar the exit happens first;
//   5. the broker service books broker reports and marks positions;
//   6. the strategies get the market source's data and every report.
//
// What differs between live and backtest — the clock, when the store
// commits, what is journalled — stays with the RouterHost; the router only
// routes. Core thread only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "data/quality.h"

namespace th {

class BrokerService;
class ChartHub;
class PluginInstance;
class PluginRegistry;
class StrategyService;

class RouterHost {
 public:
  virtual ~RouterHost() = default;
  // The host clock: how old a quote is, is judged against it.
  virtual int64_t nowNs() const = 0;
  // Records an event before anything acts on it and returns the sequence
  // number the strategies get with it. A session journals it; a backtest
  // numbers it.
  virtual uint64_t record(const Event& event) = 0;
  // From holdReports() to takeReports(), what plugins post on this thread
  // is held for the router rather than queued: what a simulated broker
  // reports while it is fed an event. takeReports ends the hold and moves
  // the held events into `out`.
  virtual void holdReports() = 0;
  virtual void takeReports(std::vector<Event>& out) = 0;
  // After an event has taken the whole path (not for dropped ones).
  virtual void routed(const Event& event) { (void)event; }
};

// The services an event reaches. Pointers left null are parts a host does
// not have (a backtest has no chart hub).
struct RouterParts {
  DataQuality* quality = nullptr;
  ChartHub* chart = nullptr;
  BrokerService* broker = nullptr;
  StrategyService* strategies = nullptr;
  const PluginRegistry* registry = nullptr;
  // The data plugin whose market data the chart and the strategies get
  // (others are journalled and marked, not charted or traded on).
  const PluginInstance* market = nullptr;
};

class EventRouter {
 public:
  explicit EventRouter(RouterHost& host) : host_(host) {}

  // The parts may be set one by one as a host brings them up.
  RouterParts& parts() { return parts_; }

  // Routes one event along the whole path; a TaskEvent is run. Returns the
  // data quality verdict (drop: the event went no further than the record).
  QualityVerdict route(const Event& event);

 private:
  QualityVerdict judge(const Event& event);
  void chart(const Event& event);
  void feedBrokers(const Event& event);
  void trade(const Event& event);
  bool fromMarket(const Event& event) const;

  RouterHost& host_;
  RouterParts parts_;
};

}  // namespace th
