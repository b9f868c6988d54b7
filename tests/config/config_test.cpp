#include <fmt/format.h>
#include <gtest/gtest.h>

#include <th/plugin.h>

#include "config/config.h"
#include "core/time.h"

namespace th {
namespace {

std::string errorOf(const std::string& yaml) {
  try {
    parseHostConfig(yaml, "host.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return {};
}

TEST(HostConfig, EmbeddedDefaultIsValid) {
  auto config = parseHostConfig(embeddedHostConfig(), "embedded");
  EXPECT_TRUE(config.simulated);
  EXPECT_EQ(config.api_host, "127.0.0.1");
  EXPECT_EQ(config.var_dir, "var");
  ASSERT_EQ(config.plugins.size(), 2u);
  EXPECT_EQ(config.plugins[0].id, "synthetic");
  EXPECT_EQ(config.plugins[1].id, "paper");
  EXPECT_EQ(config.speed, 60);
  EXPECT_EQ(config.clock_start_ns, fromExchangeTime(20261116, 9, 29));
  ASSERT_EQ(config.subscriptions.size(), 1u);
  EXPECT_EQ(config.subscriptions[0].streams, uint32_t(TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M));
}

TEST(HostConfig, UnknownKeyNamesFileLineAndKey) {
  auto message = errorOf("api:\n  listen: 127.0.0.1:9000\n  lisen: 1\n");
  EXPECT_EQ(message.rfind("host.yaml:3:3: api.lisen: unknown key", 0), 0u) << message;
  EXPECT_NE(message.find("listen"), std::string::npos) << "the message lists the known keys: " << message;
}

TEST(HostConfig, BadValuesNameTheirKey) {
  EXPECT_EQ(errorOf("clock:\n  speed: fast\n").rfind("host.yaml:2:10: clock.speed: expected a number, got 'fast'", 0),
            0u);
  EXPECT_EQ(errorOf("clock:\n  mode: replay\n").rfind("host.yaml:2:9: clock.mode: 'replay' is not one of", 0), 0u);
  EXPECT_EQ(errorOf("api:\n  listen: localhost\n").rfind("host.yaml:2:11: api.listen: expected HOST:PORT", 0), 0u);
  EXPECT_EQ(
      errorOf("store:\n  sync_orders: maybe\n").rfind("host.yaml:2:16: store.sync_orders: expected true or false", 0),
      0u);
  EXPECT_EQ(errorOf("clock:\n  start: 2026-02-30T25:00\n").rfind("host.yaml:2:10: clock.start: bad time", 0), 0u);
  EXPECT_EQ(errorOf("clock:\n  speed: -1\n").rfind("host.yaml:2:10: clock.speed: -1 is outside", 0), 0u);
}

TEST(HostConfig, PluginsAndSubscriptionsAreChecked) {
  auto missing_id = errorOf("plugins:\n  - library: paper\n");
  EXPECT_NE(missing_id.find("plugins[0].id: required key is missing"), std::string::npos) << missing_id;
  auto duplicate = errorOf("plugins:\n  - id: a\n  - id: a\n");
  EXPECT_NE(duplicate.find("host.yaml:3:9: plugins[1].id: duplicate plugin id 'a'"), std::string::npos) << duplicate;
  auto provider = errorOf("plugins:\n  - id: a\nsubscriptions:\n  - provider: b\n    symbols: [SPY]\n");
  EXPECT_NE(provider.find("host.yaml:4:15: subscriptions[0].provider: no plugin with id 'b'"), std::string::npos)
      << provider;
  auto stream =
      errorOf("plugins:\n  - id: a\nsubscriptions:\n  - provider: a\n    symbols: [SPY]\n    streams: [ticks]\n");
  EXPECT_NE(stream.find("unknown stream 'ticks'"), std::string::npos) << stream;
}

TEST(HostConfig, NonScalarsWhereTextBelongsAreNamed) {
  auto symbol = errorOf("plugins:\n  - id: a\nsubscriptions:\n  - provider: a\n    symbols: [SPY, {x: 1}]\n");
  EXPECT_NE(symbol.find("host.yaml:5:20: subscriptions[0].symbols: each symbol must be a plain"), std::string::npos)
      << symbol;
  auto id = errorOf("plugins:\n  - id: [a, b]\n");
  EXPECT_NE(id.find("host.yaml:2:9: plugins[0].id: expected a string"), std::string::npos) << id;
}

// A plugin's config is JSON to the plugin, and JSON has no aliases: a
// "billion laughs" (each level aliasing the last ten times) is refused
// naming where, instead of being expanded into gigabytes; so are a key
// given twice and a file that is not a regular file.
TEST(HostConfig, APluginConfigThatWouldExpandWithoutBoundIsRefused) {
  std::string yaml = "plugins:\n  - id: synthetic\n    config:\n      a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    yaml += fmt::format("      a{}: &a{} [", i, i);
    for (int j = 0; j < 10; ++j) yaml += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    yaml += "]\n";
  }
  auto message = errorOf(yaml);
  EXPECT_NE(message.find("host.yaml:"), std::string::npos) << message;
  EXPECT_NE(message.find("plugins[0].config.a"), std::string::npos) << message;
  EXPECT_NE(message.find("more than 100000 values (aliases expand in full; is one repeated?)"), std::string::npos)
      << message;
  EXPECT_EQ(errorOf("plugins:\n  - id: synthetic\n    config: {seed: 1, seed: 2}\n"),
            "host.yaml:3:23: plugins[0].config.seed: the key appears twice in this mapping");
  for (const char* special : {"/dev/zero", "/tmp"}) {
    try {
      loadHostConfig(special);
      ADD_FAILURE() << special;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("cannot read the configuration file: {}: not a regular file", special));
    }
  }
}

TEST(HostConfig, YamlSyntaxErrorHasALine) {
  // The flow sequence opened on line 2 is still open at the end (line 3).
  auto message = errorOf("api:\n  listen: [unclosed\n");
  EXPECT_EQ(message.substr(0, 25), "host.yaml:3:1: YAML synta") << message;
  // An error in the middle of a file names its own line, not the last.
  auto tab = errorOf("host:\n  var_dir: var\napi:\n\tlisten: x\nstrategies:\n  dir: s\n");
  EXPECT_EQ(tab.substr(0, 12), "host.yaml:4:") << tab;
}

TEST(HostConfig, PluginConfigBecomesTypedJsonWithVarExpanded) {
  auto config = parseHostConfig(
      "host:\n  var_dir: /tmp/x\"y\nplugins:\n  - id: p\n    config:\n      n: 7\n      f: 0.5\n      b: true\n"
      "      s: \"7\"\n      path: ${var}/state.json\n      list: [1, two]\n",
      "host.yaml");
  expandVariables(config);
  EXPECT_EQ(config.plugins[0].config_json,
            R"({"b":true,"f":0.5,"list":[1,"two"],"n":7,"path":"/tmp/x\"y/state.json","s":"7"})");
}

TEST(HostConfig, EmbeddedDataAndChartSectionsSpellOutTheDefaultsButTheHistoryKept) {
  auto config = parseHostConfig(embeddedHostConfig(), "embedded");
  DataConfig defaults;
  EXPECT_EQ(config.data.calendar, "builtin");
  ASSERT_EQ(config.data.channels.size(), defaults.channels.size());
  for (size_t i = 0; i < defaults.channels.size(); ++i) {
    EXPECT_EQ(config.data.channels[i].name, defaults.channels[i].name);
    EXPECT_EQ(config.data.channels[i].concurrency, defaults.channels[i].concurrency) << defaults.channels[i].name;
    EXPECT_EQ(config.data.channels[i].rate_per_s, defaults.channels[i].rate_per_s) << defaults.channels[i].name;
    EXPECT_EQ(config.data.channels[i].max_queued, defaults.channels[i].max_queued) << defaults.channels[i].name;
  }
  const auto& q = config.data.quality;
  EXPECT_EQ(q.out_of_order, defaults.quality.out_of_order);
  EXPECT_EQ(q.duplicate, defaults.quality.duplicate);
  EXPECT_EQ(q.crossed_quote, defaults.quality.crossed_quote);
  EXPECT_EQ(q.stale_quote, defaults.quality.stale_quote);
  EXPECT_EQ(q.bad_tick, defaults.quality.bad_tick);
  EXPECT_EQ(q.stale_quote_ms, defaults.quality.stale_quote_ms);
  EXPECT_EQ(q.bad_tick_jump, defaults.quality.bad_tick_jump);
  EXPECT_EQ(q.bad_tick_window, defaults.quality.bad_tick_window);
  EXPECT_EQ(q.bad_tick_min_move_pct, defaults.quality.bad_tick_min_move_pct);
  ChartConfig chart;
  EXPECT_EQ(config.chart.provider, "synthetic");  // the default is empty: the first data plugin
  // The simulated session keeps and backfills 60 sessions of minutes: the checklist's daily bars.
  EXPECT_EQ(config.chart.capacity, 30000u);
  EXPECT_EQ(config.chart.outside_session, chart.outside_session);
  EXPECT_EQ(config.chart.stale_after_s, chart.stale_after_s);
  EXPECT_EQ(config.chart.backfill_sessions, 60);
  EXPECT_EQ(config.chart.final_grace_ms, chart.final_grace_ms);
}

TEST(HostConfig, DataSectionOverridesOnlyWhatItNames) {
  auto config = parseHostConfig(
      "data:\n  quality:\n    crossed_quote: drop\n    bad_tick_window: 20\n  channels:\n"
      "    scanner: {rate_per_s: 0.5}\n    orders: {concurrency: 4, max_queued: 10}\n",
      "host.yaml");
  EXPECT_EQ(config.data.quality.crossed_quote, QualityAction::Drop);
  EXPECT_EQ(config.data.quality.bad_tick_window, 20u);
  EXPECT_EQ(config.data.quality.out_of_order, QualityAction::Drop);
  const auto& channels = config.data.channels;
  EXPECT_EQ(channels[0].name, "orders");
  EXPECT_EQ(channels[0].concurrency, 4u);
  EXPECT_EQ(channels[0].rate_per_s, 50);
  EXPECT_EQ(channels[0].max_queued, 10u);
  EXPECT_EQ(channels[2].name, "scanner");
  EXPECT_EQ(channels[2].rate_per_s, 0.5);
  EXPECT_EQ(channels[2].concurrency, 1u);
}

TEST(HostConfig, DataAndChartErrorsNameTheirKey) {
  EXPECT_EQ(
      errorOf("data:\n  qualty: {}\n").rfind("host.yaml:2:3: data.qualty: unknown key (expected one of: calendar,", 0),
      0u);
  EXPECT_EQ(errorOf("data:\n  quality:\n    bad_tick: ignore\n")
                .rfind("host.yaml:3:15: data.quality.bad_tick: 'ignore' is not one of: flag, drop", 0),
            0u);
  EXPECT_EQ(errorOf("data:\n  quality:\n    stale_quote_ms: 1.5\n")
                .rfind("host.yaml:3:21: data.quality.stale_quote_ms: expected a whole number, got '1.5'", 0),
            0u);
  EXPECT_EQ(errorOf("data:\n  quality:\n    bad_tick_window: 2\n")
                .rfind("host.yaml:3:22: data.quality.bad_tick_window: 2 is outside [5, 10000]", 0),
            0u);
  auto lane = errorOf("data:\n  channels:\n    bulk: {concurrency: 1}\n");
  EXPECT_EQ(lane.rfind("host.yaml:3:5: data.channels.bulk: unknown key (expected one of: orders, charts, scanner, "
                       "strategies, realtime)",
                       0),
            0u)
      << lane;
  EXPECT_EQ(errorOf("data:\n  channels:\n    orders: {concurrency: 0}\n")
                .rfind("host.yaml:3:27: data.channels.orders.concurrency: 0 is outside [1, 64]", 0),
            0u);
  EXPECT_EQ(errorOf("data:\n  channels:\n    orders: {rate: 5}\n")
                .rfind("host.yaml:3:14: data.channels.orders.rate: unknown key", 0),
            0u);
  EXPECT_EQ(errorOf("chart:\n  capacity: lots\n").rfind("host.yaml:2:13: chart.capacity: expected a whole number", 0),
            0u);
  EXPECT_EQ(errorOf("chart:\n  outside_session: maybe\n")
                .rfind("host.yaml:2:20: chart.outside_session: 'maybe' is not one of: drop, keep", 0),
            0u);
  EXPECT_EQ(errorOf("chart:\n  provider: polygon\n")
                .rfind("host.yaml:2:13: chart.provider: no plugin with id 'polygon' is configured", 0),
            0u);
  EXPECT_EQ(errorOf("chart:\n  colour: red\n").rfind("host.yaml:2:3: chart.colour: unknown key", 0), 0u);
}

TEST(HostConfig, ChartSectionIsRead) {
  auto config = parseHostConfig(
      "plugins:\n  - id: replay\nchart:\n  provider: replay\n  capacity: 500\n  outside_session: keep\n"
      "  stale_after_s: 30\n  backfill_sessions: 3\n  final_grace_ms: 0\n",
      "host.yaml");
  EXPECT_EQ(config.chart.provider, "replay");
  EXPECT_EQ(config.chart.capacity, 500u);
  EXPECT_EQ(config.chart.outside_session, OutsideSession::Keep);
  EXPECT_EQ(config.chart.stale_after_s, 30);
  EXPECT_EQ(config.chart.backfill_sessions, 3);
  EXPECT_EQ(config.chart.final_grace_ms, 0);
  EXPECT_EQ(parseHostConfig("schema: 1\n", "host.yaml").chart.provider, "") << "empty means the first data plugin";
}

TEST(HostConfig, ACalendarPathIsRelativeToTheConfigFile) {
  EXPECT_EQ(parseHostConfig("data:\n  calendar: cal.yaml\n", "/etc/tradehost/host.yaml").data.calendar,
            "/etc/tradehost/cal.yaml");
  EXPECT_EQ(parseHostConfig("data:\n  calendar: /srv/cal.yaml\n", "/etc/tradehost/host.yaml").data.calendar,
            "/srv/cal.yaml");
  EXPECT_EQ(parseHostConfig("data:\n  calendar: builtin\n", "/etc/tradehost/host.yaml").data.calendar, "builtin");
  EXPECT_EQ(parseHostConfig("data:\n  calendar: cal.yaml\n", "<embedded config/host.yaml>").data.calendar, "cal.yaml");
}

TEST(HostConfig, EmbeddedRiskSectionIsRead) {
  const auto risk = parseHostConfig(embeddedHostConfig(), "embedded").risk;
  EXPECT_TRUE(risk.check_buying_power);
  EXPECT_TRUE(risk.require_covered_calls);
  EXPECT_EQ(risk.loss_action, LossAction::Halted);
  EXPECT_EQ(risk.drawdown_action, LossAction::Reducing);
  EXPECT_EQ(risk.limits.max_order_quantity, 10000);
  EXPECT_EQ(risk.limits.max_order_notional, 250000);
  EXPECT_EQ(risk.limits.max_position_notional, 500000);
  EXPECT_EQ(risk.limits.max_gross_exposure, 1000000);
  EXPECT_EQ(risk.limits.max_open_orders, 200u);
  EXPECT_EQ(risk.limits.max_orders_per_minute, 120u);
  EXPECT_EQ(risk.limits.price_collar_pct, 5);
  EXPECT_EQ(risk.limits.regular_hours_only, true);
  EXPECT_EQ(risk.limits.duplicate_window_s, 2);
  EXPECT_EQ(risk.limits.daily_loss_limit, 5000);
  EXPECT_EQ(risk.limits.max_drawdown, 8000);
  EXPECT_EQ(risk.limits.cool_down_after_losses, 3u);
  EXPECT_EQ(risk.limits.cool_down_minutes, 15);
  EXPECT_TRUE(risk.strategies.empty());
}

TEST(HostConfig, WithoutARiskSectionNothingIsLimited) {
  const auto risk = parseHostConfig("schema: 1\n", "host.yaml").risk;
  EXPECT_FALSE(risk.limits.max_order_quantity);
  EXPECT_FALSE(risk.limits.regular_hours_only) << "unset: no restriction";
  EXPECT_FALSE(risk.limits.daily_loss_limit);
  EXPECT_TRUE(risk.check_buying_power);
  EXPECT_EQ(risk.loss_action, LossAction::Halted);
  const auto only_actions = parseHostConfig("risk:\n  loss_action: reducing\n  drawdown_action: halted\n", "h.yaml");
  EXPECT_EQ(only_actions.risk.loss_action, LossAction::Reducing);
  EXPECT_EQ(only_actions.risk.drawdown_action, LossAction::Halted);
}

TEST(HostConfig, RiskStrategiesMayTightenTheGlobalLimits) {
  const auto risk =
      parseHostConfig(
          "risk:\n  limits:\n    max_order_quantity: 100\n    regular_hours_only: true\n"
          "  strategies:\n    orb: {max_order_quantity: 50, regular_hours_only: true, max_open_orders: 3}\n"
          "    gap: {}\n",
          "host.yaml")
          .risk;
  ASSERT_EQ(risk.strategies.size(), 2u);
  EXPECT_EQ(risk.strategies.at("orb").max_order_quantity, 50);
  EXPECT_EQ(risk.strategies.at("orb").max_open_orders, 3u);
  EXPECT_FALSE(risk.strategies.at("gap").max_order_quantity);
}

TEST(HostConfig, RiskErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf("risk:\n  limits:\n    max_qty: 1\n")
                .rfind("host.yaml:3:5: risk.limits.max_qty: unknown key (expected one of: max_order_quantity,", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limit: {}\n").rfind("host.yaml:2:3: risk.limit: unknown key", 0), 0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    max_order_notional: -5\n")
                .rfind("host.yaml:3:25: risk.limits.max_order_notional: must be a number more than 0, got '-5'", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    price_collar_pct: 0\n")
                .rfind("host.yaml:3:23: risk.limits.price_collar_pct: must be a number more than 0, got '0'", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    daily_loss_limit: .nan\n")
                .rfind("host.yaml:3:23: risk.limits.daily_loss_limit: expected a number, got '.nan'", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    max_open_orders: 0\n")
                .rfind("host.yaml:3:22: risk.limits.max_open_orders: 0 is outside [1, 1000000]", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    max_orders_per_minute: 2.5\n")
                .rfind("host.yaml:3:28: risk.limits.max_orders_per_minute: expected a whole number, got '2.5'", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    regular_hours_only: sometimes\n")
                .rfind("host.yaml:3:25: risk.limits.regular_hours_only: expected true or false", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  loss_action: stop\n")
                .rfind("host.yaml:2:16: risk.loss_action: 'stop' is not one of: reducing, halted", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    cool_down_after_losses: 3\n")
                .rfind("host.yaml:3:29: risk.limits.cool_down_after_losses: cool_down_after_losses and "
                       "cool_down_minutes go together",
                       0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  strategies: [orb]\n")
                .rfind("host.yaml:2:15: risk.strategies: expected a mapping of strategy id to limits", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  strategies:\n    orb: {max_qty: 1}\n")
                .rfind("host.yaml:3:11: risk.strategies.orb.max_qty: unknown key", 0),
            0u);
}

TEST(HostConfig, ALooserStrategyLimitIsAnErrorAtItsLine) {
  EXPECT_EQ(errorOf("risk:\n  limits:\n    max_order_quantity: 100\n  strategies:\n"
                    "    orb: {max_order_quantity: 500}\n")
                .rfind("host.yaml:5:31: risk.strategies.orb.max_order_quantity: 500 is looser than the global 100", 0),
            0u);
  EXPECT_EQ(
      errorOf("risk:\n  limits:\n    regular_hours_only: true\n  strategies:\n    orb:\n"
              "      max_order_quantity: 5\n      regular_hours_only: false\n")
          .rfind("host.yaml:7:27: risk.strategies.orb.regular_hours_only: false is looser than the global true", 0),
      0u);
  EXPECT_EQ(errorOf("risk:\n  limits:\n    duplicate_window_s: 2\n  strategies:\n"
                    "    orb: {duplicate_window_s: 0.5}\n")
                .rfind("host.yaml:5:31: risk.strategies.orb.duplicate_window_s: 0.5 is looser than the global 2", 0),
            0u);
  EXPECT_EQ(errorOf("risk:\n  strategies:\n    orb: {cool_down_minutes: 5}\n")
                .rfind("host.yaml:3:30: risk.strategies.orb.cool_down_minutes: needs cool_down_after_losses", 0),
            0u);
}

TEST(CheckTighter, NamesTheKeyThatWouldLoosen) {
  RiskLimits global;
  global.max_open_orders = 10;
  global.cool_down_after_losses = 3;
  global.cool_down_minutes = 15;
  RiskLimits strategy;
  strategy.max_open_orders = 10;
  strategy.cool_down_minutes = 30;
  EXPECT_TRUE(checkTighter(global, strategy, "orb.risk"));
  strategy.cool_down_minutes = 10;
  auto shorter = checkTighter(global, strategy, "orb.risk");
  ASSERT_FALSE(shorter);
  EXPECT_EQ(shorter.error().message, "orb.risk.cool_down_minutes: 10 is looser than the global 15");
  strategy.cool_down_minutes.reset();
  strategy.max_open_orders = 11;
  auto more = checkTighter(global, strategy, "orb.risk");
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().message, "orb.risk.max_open_orders: 11 is looser than the global 10");
  EXPECT_TRUE(checkTighter(RiskLimits{}, strategy, "orb.risk")) << "no global limit: anything is tighter";
}

TEST(ParseListen, SplitsHostAndPort) {
  EXPECT_EQ(parseListen("127.0.0.1:0", "x"), std::make_pair(std::string("127.0.0.1"), uint16_t(0)));
  EXPECT_THROW(parseListen("127.0.0.1:70000", "x"), ConfigError);
  EXPECT_THROW(parseListen(":80", "x"), ConfigError);
}

}  // namespace
}  // namespace th
