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

TEST(HostConfig, YamlSyntaxErrorHasALine) {
  auto message = errorOf("api:\n  listen: [unclosed\n");
  EXPECT_NE(message.find("host.yaml:"), std::string::npos);
  EXPECT_NE(message.find("YAML syntax error"), std::string::npos) << message;
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

TEST(ParseListen, SplitsHostAndPort) {
  EXPECT_EQ(parseListen("127.0.0.1:0", "x"), std::make_pair(std::string("127.0.0.1"), uint16_t(0)));
  EXPECT_THROW(parseListen("127.0.0.1:70000", "x"), ConfigError);
  EXPECT_THROW(parseListen(":80", "x"), ConfigError);
}

}  // namespace
}  // namespace th
