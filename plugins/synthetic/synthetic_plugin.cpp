// The synthetic data provider: a seeded, deterministic simulated market for
// any symbol. This file adapts the model (market.h), the live feed
// (stream.h) and the option chains (options.h) to th::DataProvider and
// exports the plugin. Configuration keys are documented in
// docs/plugins/synthetic.md.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <th/plugin.hpp>

#include "calendar.h"
#include "config.h"
#include "market.h"
#include "options.h"
#include "stream.h"

namespace th::synthetic {
namespace {

constexpr uint32_t kAllStreams = TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M;

// Streams and history exist for equities only; option contracts are quoted
// through option chain snapshots.
void checkEquity(std::string_view symbol, std::string_view what) {
  checkSymbol(symbol);
  if (isOccSymbol(symbol)) {
    throw Error(TH_ERR_NOT_SUPPORTED, "synthetic: " + std::string(what) + " of option '" + std::string(symbol) +
                                          "' is not offered; use option_chain on its underlying");
  }
}

void checkStreams(uint32_t streams) {
  if (streams == 0 || (streams & ~kAllStreams) != 0) {
    throw Error(TH_ERR_INVALID_ARGUMENT,
                "synthetic: streams must be a non-empty mask of TH_STREAM_TRADES, TH_STREAM_QUOTES and "
                "TH_STREAM_BARS_1M, got " +
                    std::to_string(streams));
  }
}

}  // namespace

class SyntheticProvider final : public DataProvider {
 public:
  SyntheticProvider(Host host, std::string_view config_text)
      : DataProvider(host),
        config_(parseConfig(config_text)),
        calendar_(this->host()),
        schedule_(calendar_, config_.start_day, config_.sessions),
        model_(config_, schedule_),
        streamer_(this->host(), model_, schedule_) {}

  void connect() override { streamer_.start(); }
  void disconnect() override { streamer_.stop(); }

  void subscribe(std::string_view symbol, uint32_t streams) override {
    checkEquity(symbol, "streaming");
    checkStreams(streams);
    streamer_.subscribe(symbol, streams);
  }

  void unsubscribe(std::string_view symbol, uint32_t streams) override {
    checkSymbol(symbol);
    checkStreams(streams);
    streamer_.unsubscribe(symbol, streams);
  }

  // The live stream's bars for [from, to), but only those whose minute has
  // ended by the host clock: history never shows the simulated future.
  void history(const th_history_request& request, th_bar_sink sink, void* sink_ctx) override {
    std::string symbol(view(request.symbol, request.symbol_len));
    checkEquity(symbol, "history");
    if (request.duration_ns != kNsPerMinute) {
      throw Error(TH_ERR_NOT_SUPPORTED, "synthetic: history serves 1-minute bars only (duration_ns 60000000000), got " +
                                            std::to_string(request.duration_ns));
    }
    if (request.to_ns < request.from_ns) {
      throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: history range has to_ns before from_ns");
    }
    if (request.to_ns == request.from_ns) return;
    const int64_t now = host().nowNs();
    const int64_t latest_start = std::min(
        request.to_ns - 1, now < std::numeric_limits<int64_t>::min() + kNsPerMinute ? now : now - kNsPerMinute);
    for (std::optional<Session> session = schedule_.firstClosingAfter(request.from_ns);
         session && session->open_ns <= latest_start; session = schedule_.session(session->index + 1)) {
      std::shared_ptr<const SessionTape> tape = model_.tape(symbol, *session);
      for (const TapeBar& bar : tape->bars) {
        if (bar.start_ns < request.from_ns || bar.start_ns > latest_start) continue;
        th_bar out = toAbiBar(symbol, bar, TH_BAR_FINAL | TH_BAR_HISTORY);
        sink(sink_ctx, &out);
      }
    }
  }

  void optionChain(std::string_view underlying, int64_t as_of_ns, th_option_sink sink, void* sink_ctx) override {
    std::string root(underlying);
    checkSymbol(root);
    if (isOccSymbol(root)) {
      throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: option_chain needs an underlying, got option '" + root + "'");
    }
    bool occ_root = root.size() <= 6 && std::all_of(root.begin(), root.end(), [](char c) {
                      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                    });
    if (!occ_root) {
      throw Error(TH_ERR_NOT_SUPPORTED, "synthetic: '" + root + "' has no options (an OCC root is 1-6 of A-Z, 0-9)");
    }
    const int64_t now = host().nowNs();
    const int64_t as_of = as_of_ns == 0 ? now : as_of_ns;
    if (as_of == std::numeric_limits<int64_t>::max()) {
      throw Error(TH_ERR_INVALID_ARGUMENT,
                  "synthetic: option_chain needs an explicit as_of_ns while the host clock is free-running");
    }
    if (as_of > now) {
      throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: option_chain as_of_ns is after the host clock");
    }
    const int64_t first = daysFromCivil(kFirstYear, 1, 1) * kNsPerDay;
    const int64_t last = daysFromCivil(kLastYear, 12, 1) * kNsPerDay;
    if (as_of < first || as_of >= last) {
      throw Error(TH_ERR_INVALID_ARGUMENT, "synthetic: option_chain as_of_ns is outside the simulated calendar (" +
                                               std::to_string(kFirstYear) + "-" + std::to_string(kLastYear) + ")");
    }

    ChainSnapshot chain = buildChain(config_, calendar_, model_, root, as_of);
    for (const OptionRow& row : chain.rows) {
      th_option_quote out{};
      out.struct_size = sizeof out;
      out.symbol = row.symbol.data();
      out.symbol_len = static_cast<uint32_t>(row.symbol.size());
      out.underlying = root.data();
      out.underlying_len = static_cast<uint32_t>(root.size());
      out.right = row.right;
      out.expiry_yyyymmdd = toYyyymmdd(row.expiry_day);
      out.strike = row.strike;
      out.ts_ns = chain.as_of_ns;
      out.bid = row.bid;
      out.ask = row.ask;
      out.last = row.last;
      out.volume = row.volume;
      out.open_interest = row.open_interest;
      out.implied_vol = row.implied_vol;
      out.delta = row.delta;
      out.gamma = row.gamma;
      out.theta = row.theta;
      out.vega = row.vega;
      out.underlying_price = chain.spot;
      sink(sink_ctx, &out);
    }
  }

  void lookup(std::string_view symbol, th_instrument& out) override {
    checkSymbol(symbol);
    copyField(out.symbol, symbol);
    copyField(out.exchange, "SIM");
    out.tick_size = 0.01;
    out.shortable = 1;
    if (std::optional<OccContract> occ = parseOcc(symbol)) {
      char name[96];
      std::snprintf(name, sizeof name, "%s %s %g %s", occ->root.c_str(), formatDate(occ->expiry_day).c_str(),
                    static_cast<double>(occ->strike_milli) / 1000.0, occ->right == TH_OPTION_CALL ? "call" : "put");
      copyField(out.name, name);
      out.asset_class = TH_ASSET_OPTION;
      out.multiplier = 100.0;
    } else {
      copyField(out.name, "Synthetic " + std::string(symbol));
      out.asset_class = TH_ASSET_EQUITY;
      out.multiplier = 1.0;
    }
  }

 private:
  // Declaration order is construction order: each part refers to the ones before it.
  Config config_;
  TradingCalendar calendar_;
  SessionSchedule schedule_;
  MarketModel model_;
  Streamer streamer_;  // last: destroyed first, so its thread stops before the model goes
};

}  // namespace th::synthetic

TH_DATA_PLUGIN(th::synthetic::SyntheticProvider, "synthetic", "Synthetic market", "0.1.0",
               "Seeded, deterministic simulated market: trades, quotes, 1-minute bars and option chains")
