// `tradehost run` as an operator runs it: the real binary, the embedded
// configuration (synthetic market + paper broker), RocksDB in a temp dir and
// the API on 127.0.0.1.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <regex>
#include <sstream>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/ws_client.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using test::http;

constexpr const char* kHostToken = "TRADEHOST_TOKEN=integration-secret";

struct Journal {
  int exit_code;
  uint64_t records, last, gaps;
};

Journal verifyJournal(const test::TempDir& dir) {
  auto [code, out] =
      test::runToEnd({test::tradehostBinary(), "journal", "--var", dir.str(), "--verify"}, dir / "verify.log");
  Journal j{code, 0, 0, 0};
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(journal: (\d+) records, last sequence (\d+), (\d+) gap)"))) {
    j.records = std::stoull(m[1]);
    j.last = std::stoull(m[2]);
    j.gaps = std::stoull(m[3]);
  } else {
    ADD_FAILURE() << "unexpected journal --verify output: " << out;
  }
  return j;
}

nlohmann::json healthOf(uint16_t port) { return nlohmann::json::parse(http(port, "GET", "/api/v1/health").body); }

class HostRun {
 public:
  explicit HostRun(const test::TempDir& dir, const std::string& log = "run.log", std::vector<std::string> extra = {})
      : process_(args(dir, std::move(extra)), dir / log, {kHostToken}) {
    auto port = process_.waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
    if (!port) throw std::runtime_error("host did not start:\n" + process_.output());
    port_ = static_cast<uint16_t>(std::stoi(*port));
  }
  uint16_t port() const { return port_; }
  test::Process& process() { return process_; }

 private:
  static std::vector<std::string> args(const test::TempDir& dir, std::vector<std::string> extra) {
    std::vector<std::string> a = {test::tradehostBinary(), "run",     "--var", dir.str(), "--api",
                                  "127.0.0.1:0",           "--speed", "600"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  test::Process process_;
  uint16_t port_ = 0;
};

TEST(HostRun, ServesHealthMetricsAndPluginControlThenStopsCleanly) {
  test::TempDir dir;
  HostRun host(dir);
  auto port = host.port();

  ASSERT_TRUE(test::eventually([&] { return healthOf(port)["journal"]["last_sequence"].get<uint64_t>() > 100; }, 30s))
      << host.process().output();
  auto health_response = http(port, "GET", "/api/v1/health");
  ASSERT_EQ(health_response.status, 200);
  auto health = nlohmann::json::parse(health_response.body);
  EXPECT_EQ(health["status"], "ok") << health.dump();
  EXPECT_EQ(health["clock"]["mode"], "simulated");
  ASSERT_EQ(health["plugins"].size(), 2u);
  for (const auto& p : health["plugins"]) EXPECT_EQ(p["state"], "connected") << p.dump();
  EXPECT_GT(health["uptime_s"].get<double>(), 0);

  auto metrics = http(port, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(metrics.body, m, std::regex(R"(tradehost_events_processed_total\{kind="trade"\} (\d+))")));
  EXPECT_GT(std::stoull(m[1]), 0u);
  EXPECT_NE(metrics.body.find(R"(tradehost_plugin_state{plugin="paper",state="connected"} 1)"), std::string::npos);
  EXPECT_NE(metrics.body.find("tradehost_journal_writes_total"), std::string::npos);

  // Market data reached the journal: bars from the synthetic market.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto page = nlohmann::json::parse(http(port, "GET", "/api/v1/journal?kind=bar&limit=3").body);
        return page["records"].size() == 3 && page["records"][0]["source"] == "synthetic" &&
               page["next_seq"].get<uint64_t>() > page["records"][2]["seq"].get<uint64_t>();
      },
      30s));
  // The journal can be read from the command line while the host runs.
  auto live = verifyJournal(dir);
  EXPECT_EQ(live.exit_code, 0);
  EXPECT_EQ(live.gaps, 0u);
  EXPECT_GT(live.records, 100u);
  EXPECT_EQ(http(port, "GET", "/api/v1/journal?limit=0").status, 400);
  EXPECT_EQ(http(port, "GET", "/api/v1/journal?kind=nonsense").status, 400);

  // Mutations need the token; with it the operator can take a feed down and up.
  EXPECT_EQ(http(port, "POST", "/api/v1/plugins/synthetic/disconnect").status, 401);
  auto down =
      http(port, "POST", "/api/v1/plugins/synthetic/disconnect", "", {{"Authorization", "Bearer integration-secret"}});
  ASSERT_EQ(down.status, 200) << down.body;
  auto degraded = healthOf(port);
  EXPECT_EQ(degraded["status"], "degraded");
  auto up =
      http(port, "POST", "/api/v1/plugins/synthetic/connect", "", {{"Authorization", "Bearer integration-secret"}});
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(healthOf(port)["status"], "ok");
  EXPECT_EQ(
      http(port, "POST", "/api/v1/plugins/nope/connect", "", {{"Authorization", "Bearer integration-secret"}}).status,
      404);

  host.process().signal(SIGTERM);
  auto code = host.process().wait(30s);
  ASSERT_TRUE(code) << "host did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << host.process().output();
  auto journal = verifyJournal(dir);
  EXPECT_EQ(journal.exit_code, 0);
  EXPECT_EQ(journal.gaps, 0u);
  EXPECT_EQ(journal.records, journal.last);
  auto [code2, last] = test::runToEnd(
      {test::tradehostBinary(), "journal", "--var", dir.str(), "--from", std::to_string(journal.last), "--limit", "1"},
      dir / "last.log");
  EXPECT_NE(last.find("\"host_stopped\""), std::string::npos) << last;
  EXPECT_NE(last.find("signal 15"), std::string::npos) << last;
}

// The acceptance test of the store: kill -9 mid-session, restart, and the
// journal continues from where it stopped, with no gap, twice over.
TEST(HostRun, KillNineAndRestartContinuesTheJournalWithoutAGap) {
  test::TempDir dir;
  uint64_t previous_last = 0;
  for (int round = 0; round < 4; ++round) {
    HostRun host(dir, "run" + std::to_string(round) + ".log");
    // Kill at a different point each round, always mid-stream.
    uint64_t target = previous_last + 200 + static_cast<uint64_t>(round) * 373;
    ASSERT_TRUE(test::eventually(
        [&] { return healthOf(host.port())["journal"]["last_sequence"].get<uint64_t>() > target; }, 30s));
    host.process().signal(SIGKILL);
    ASSERT_TRUE(host.process().wait(10s));
    auto journal = verifyJournal(dir);
    ASSERT_EQ(journal.exit_code, 0);
    ASSERT_EQ(journal.gaps, 0u);
    ASSERT_EQ(journal.records, journal.last);
    ASSERT_GT(journal.last, target);
    // The restart's first record follows the old journal directly.
    auto [code, first] = test::runToEnd({test::tradehostBinary(), "journal", "--var", dir.str(), "--from",
                                         std::to_string(previous_last + 1), "--limit", "1"},
                                        dir / "first.log");
    auto record = nlohmann::json::parse(first, nullptr, false);
    ASSERT_FALSE(record.is_discarded()) << first;
    EXPECT_EQ(record["seq"], previous_last + 1) << "round " << round;
    EXPECT_EQ(record["kind"], "host_started") << "round " << round;
    previous_last = journal.last;
  }
}

// A chart client on the WebSocket sees the session's bars as they are
// committed, with their journal sequence, and heartbeats.
TEST(HostRun, WebSocketClientsReceiveCommittedBars) {
  test::TempDir dir;
  HostRun host(dir);
  test::WsClient client(host.port());
  EXPECT_NE(client.read().find("hello"), std::string::npos);
  bool bar = false, heartbeat = false;
  uint64_t last_seq = 0;
  for (int i = 0; i < 5000 && !(bar && heartbeat); ++i) {
    auto message = nlohmann::json::parse(client.read());
    if (message["type"] == "heartbeat") heartbeat = true;
    if (message["type"] == "event") {
      auto seq = message["event"]["seq"].get<uint64_t>();
      EXPECT_GT(seq, last_seq) << "events arrive in journal order";
      last_seq = seq;
      if (message["event"]["kind"] == "bar") {
        bar = true;
        EXPECT_EQ(message["event"]["source"], "synthetic");
        EXPECT_GE(message["event"]["high"].get<double>(), message["event"]["low"].get<double>());
      }
    }
  }
  EXPECT_TRUE(bar);
  EXPECT_TRUE(heartbeat);
}

TEST(HostRun, DurationStopsTheSessionByItself) {
  test::TempDir dir;
  test::Process run({test::tradehostBinary(), "run", "--var", dir.str(), "--api", "127.0.0.1:0", "--duration", "2s"},
                    dir / "run.log");
  auto code = run.wait(60s);
  ASSERT_TRUE(code) << "still running after --duration 2s";
  EXPECT_EQ(*code, 0) << run.output();
  EXPECT_NE(run.output().find("duration elapsed"), std::string::npos) << run.output();
}

TEST(HostRun, BadConfigurationNamesFileLineAndKey) {
  test::TempDir dir;
  { std::ofstream(dir / "host.yaml") << "schema: 1\napi:\n  listen: 127.0.0.1:0\n  colour: blue\n"; }
  auto [code, out] = test::runToEnd({test::tradehostBinary(), "run", "--config", dir / "host.yaml"}, dir / "out.log");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find(dir / "host.yaml" + ":4:3: api.colour: unknown key"), std::string::npos) << out;
}

TEST(HostRun, BrokenPluginInConfigStopsStartupWithTheLoadersReason) {
  test::TempDir dir;
  {
    std::ofstream(dir / "host.yaml") << "schema: 1\nplugins:\n  - id: feed\n    library: " << TH_TEST_PLUGIN_DIR
                                     << "/libbroken_abi_major.so\n";
  }
  auto [code, out] = test::runToEnd(
      {test::tradehostBinary(), "run", "--config", dir / "host.yaml", "--var", dir.str(), "--api", "127.0.0.1:0"},
      dir / "out.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("libbroken_abi_major.so: ABI major mismatch"), std::string::npos) << out;
}

// A feed that cannot connect at start leaves the session running without
// it: the broker, the API and the other feed work, health says degraded and
// names the plugin and why, and the operator can try it again.
TEST(HostRun, AFeedThatCannotConnectLeavesTheSessionRunningDegraded) {
  test::TempDir dir;
  {
    std::ofstream(dir / "host.yaml") << "schema: 1\nclock:\n  mode: simulated\n  start: 2026-11-16T09:29:00\n"
                                        "plugins:\n  - id: synthetic\n    library: synthetic\n"
                                        "  - id: paper\n    library: paper\n"
                                        "    config:\n      state_file: ${var}/paper/account.json\n"
                                        "  - id: feed\n    library: "
                                     << TH_TEST_PLUGIN_DIR
                                     << "/libbroken_connect.so\n"
                                        "subscriptions:\n  - provider: synthetic\n    symbols: [SPY]\n"
                                        "    streams: [trades, bars]\n";
  }
  HostRun host(dir, "run.log", {"--config", dir / "host.yaml"});
  const auto port = host.port();
  EXPECT_NE(host.process().output().find("plugin 'feed' connect failed"), std::string::npos)
      << host.process().output();
  auto health = healthOf(port);
  EXPECT_EQ(health["status"], "degraded") << health.dump();
  std::map<std::string, nlohmann::json> plugins;
  for (const auto& p : health["plugins"]) plugins[p["id"]] = p;
  ASSERT_EQ(plugins.size(), 3u) << health.dump();
  EXPECT_EQ(plugins["feed"]["state"], "failed") << health.dump();
  EXPECT_NE(plugins["feed"].dump().find("cannot reach feed.example.com:443: connection refused"), std::string::npos)
      << health.dump();
  EXPECT_EQ(plugins["synthetic"]["state"], "connected");
  EXPECT_EQ(plugins["paper"]["state"], "connected");

  // The other feed's bars flow, and orders can be placed.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto page = nlohmann::json::parse(http(port, "GET", "/api/v1/journal?kind=bar&limit=1").body);
        return page["records"].size() == 1;
      },
      30s))
      << host.process().output();
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer integration-secret"}};
  // Once past the open (09:29 start), an order is accepted.
  EXPECT_TRUE(test::eventually(
      [&] {
        return http(port, "POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":1})", auth).status ==
               201;
      },
      30s));

  // Trying the feed again says why it still fails.
  auto retry = http(port, "POST", "/api/v1/plugins/feed/connect", "", auth);
  EXPECT_EQ(retry.status, 409) << retry.body;
  EXPECT_NE(retry.body.find("connection refused"), std::string::npos) << retry.body;

  host.process().signal(SIGTERM);
  auto code = host.process().wait(30s);
  ASSERT_TRUE(code) << "host did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << host.process().output();
}

// The synthetic market streams no option quotes: the contracts an order or
// a position is in are quoted from their chain, so a paper option order
// fills and the position is marked, as a stock's would be.
TEST(HostRun, AnOptionOrderFillsAtThePaperBrokerFromItsChainsQuotes) {
  test::TempDir dir;
  // covered_call's screen names a liquid contract.
  HostRun host(dir, "run.log", {"--strategies", std::string(TH_SOURCE_DIR) + "/strategies"});
  const auto port = host.port();
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer integration-secret"}};
  nlohmann::json screen;
  ASSERT_TRUE(test::eventually(
      [&] {
        auto r = http(port, "POST", "/api/v1/strategies/covered_call/request/screen", R"({"symbols":["SPY"]})", auth);
        if (r.status != 200) return false;
        screen = nlohmann::json::parse(r.body);
        return !screen["results"].empty();
      },
      30s))
      << host.process().output();
  const std::string contract = screen["results"][0]["contract"];
  const double ask = screen["results"][0]["ask"];
  nlohmann::json order = {{"symbol", contract}, {"side", "buy"},     {"quantity", 2},
                          {"type", "limit"},    {"limit_price", ask + 5}};
  auto placed = http(port, "POST", "/api/v1/orders", order.dump(), auth);
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string id = nlohmann::json::parse(placed.body)["client_order_id"];

  nlohmann::json filled;
  ASSERT_TRUE(test::eventually(
      [&] {
        filled = nlohmann::json::parse(http(port, "GET", "/api/v1/orders/" + id).body);
        return filled["status"] == "filled";
      },
      30s))
      << filled.dump();
  EXPECT_EQ(filled["filled_quantity"], 2.0);
  EXPECT_GT(filled["average_fill_price"].get<double>(), 0.0);
  EXPECT_LE(filled["average_fill_price"].get<double>(), ask + 5);
  // Marked at the quotes' middle as they keep coming.
  ASSERT_TRUE(test::eventually(
      [&] {
        auto positions = nlohmann::json::parse(http(port, "GET", "/api/v1/positions").body);
        for (const auto& p : positions["account"]) {
          if (p["symbol"] == contract) return p["quantity"] == 2.0 && p["last_price"].get<double>() > 0;
        }
        return false;
      },
      30s));
  // The quotes are in the journal with the feed's other events.
  bool journalled = false;
  for (uint64_t from = 1; !journalled;) {
    auto page = nlohmann::json::parse(
        http(port, "GET", "/api/v1/journal?kind=quote&limit=10000&from_seq=" + std::to_string(from)).body);
    if (page["records"].empty()) break;
    for (const auto& r : page["records"]) journalled = journalled || r.value("symbol", "") == contract;
    from = page["records"].back()["seq"].get<uint64_t>() + 1;
  }
  EXPECT_TRUE(journalled);

  host.process().signal(SIGTERM);
  auto code = host.process().wait(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << host.process().output();
}


// The same --var run twice, as `scripts/demo` is: the second run keeps the
// first's positions and strategy state, so its simulated clock carries on
// after the first's last record instead of playing the same day again. The
// first run passes the 16:00 close (3 s at 9,000× is 7.5 hours from 09:29),
// so the second starts a minute before the next day's open and the
// strategies trade that day.
TEST(HostRun, ASecondRunInTheSameVarCarriesOnTheDayAfterTheFirst) {
  test::TempDir dir;
  auto journal = [&](const std::string& kind) {
    auto [code, out] = test::runToEnd(
        {test::tradehostBinary(), "journal", "--var", dir.str(), "--kind", kind, "--limit", "100000"},
        dir / "journal.log");
    EXPECT_EQ(code, 0) << out;
    std::vector<nlohmann::json> records;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
    return records;
  };
  for (int round = 0; round < 2; ++round) {
    test::Process run({test::tradehostBinary(), "run", "--var", dir.str(), "--api", "127.0.0.1:0", "--duration", "3s",
                       "--speed", "9000", "--strategies", std::string(TH_SOURCE_DIR) + "/strategies"},
                      dir / ("run" + std::to_string(round) + ".log"), {kHostToken});
    auto code = run.wait(60s);
    ASSERT_TRUE(code) << run.output();
    ASSERT_EQ(*code, 0) << run.output();
    if (round == 1) {
      EXPECT_NE(run.output().find("simulated clock resumes at 2026-11-17T09:29:00-05:00"), std::string::npos)
          << run.output();
    }
    // A run shorter than the summary's 30 seconds still ends with what each strategy did.
    const std::string output = run.output();
    const std::regex summary(R"(strategy \w+ running: \d+ signal\(s\), (\d+) order\(s\))");
    std::vector<int> orders;  // a line a strategy, every 30 s (and at 5 s) and as the run stops
    for (auto it = std::sregex_iterator(output.begin(), output.end(), summary); it != std::sregex_iterator(); ++it) {
      orders.push_back(std::stoi((*it)[1].str()));
    }
    ASSERT_GE(orders.size(), 5u) << output;
    EXPECT_EQ(orders.size() % 5, 0u) << "one line a strategy: " << output;
    EXPECT_GT(std::accumulate(orders.end() - 5, orders.end(), 0), 0) << "the last summary counts the orders" << output;
    EXPECT_NE(output.find("account: equity"), std::string::npos);
    // Market time starts once the strategies listen: even at 9,000x ORB sees its opening range.
    EXPECT_EQ(output.find("no trade today: empty range"), std::string::npos) << output;
  }
  const auto started = journal("host_started");
  const auto stopped = journal("host_stopped");
  ASSERT_EQ(started.size(), 2u);
  ASSERT_EQ(stopped.size(), 2u);
  EXPECT_EQ(started[0]["data"]["clock_start"].get<std::string>().substr(0, 10), "2026-11-16");
  EXPECT_GT(stopped[0]["ts"].get<std::string>(), "2026-11-16T21:00:00Z") << "the first run passed the close";
  EXPECT_EQ(started[1]["data"]["clock_start"], "2026-11-17T09:29:00-05:00");
  EXPECT_GE(started[1]["ts"].get<std::string>(), stopped[0]["ts"].get<std::string>()) << "time never goes back";
  std::map<std::string, int> orders_by_day;
  for (const auto& record : journal("order_request")) ++orders_by_day[record["ts"].get<std::string>().substr(0, 10)];
  EXPECT_GT(orders_by_day["2026-11-16"], 0);
  EXPECT_GT(orders_by_day["2026-11-17"], 0) << "the strategies trade the second run's day";
  EXPECT_EQ(orders_by_day.size(), 2u);
}
}  // namespace
}  // namespace th
