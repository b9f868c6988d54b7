// Orders that cannot be lost: the real binary on the embedded configuration
// (synthetic market, paper broker), a driver submitting and canceling orders
// through the API, and SIGKILL at a random moment — fifty times. After every
// restart the host has reconciled with the paper broker, and the test checks
// against the broker's own state file: no order lost, none duplicated, none
// orphaned, positions equal, and the journal without a gap.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <cmath>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using test::http;

constexpr const char* kCrashToken = "TRADEHOST_TOKEN=crash-secret";
const std::map<std::string, std::string> kCrashAuth = {{"Authorization", "Bearer crash-secret"}};
// TH_CRASH_CYCLES shortens the loop while working on it; the test's claim is fifty.
const int kCycles = std::getenv("TH_CRASH_CYCLES") ? std::atoi(std::getenv("TH_CRASH_CYCLES")) : 50;

std::unique_ptr<test::Process> startHost(const test::TempDir& dir, int cycle, uint16_t& port) {
  auto process = std::make_unique<test::Process>(
      std::vector<std::string>{test::tradehostBinary(), "run", "--var", dir.str(), "--api", "127.0.0.1:0", "--speed",
                               "300"},
      dir / fmt::format("run-{}.log", cycle), std::vector<std::string>{kCrashToken});
  auto found = process->waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", 60s);
  if (!found) throw std::runtime_error(fmt::format("cycle {}: host did not start:\n{}", cycle, process->output()));
  port = static_cast<uint16_t>(std::stoi(*found));
  return process;
}

Json getJson(uint16_t port, const std::string& target) {
  auto reply = http(port, "GET", target);
  if (reply.status != 200) throw std::runtime_error(fmt::format("GET {}: {} {}", target, reply.status, reply.body));
  return Json::parse(reply.body);
}

// The close of the symbol's newest 1-minute bar, or 0 without one.
double lastClose(uint16_t port, const std::string& symbol) {
  const Json chart = getJson(port, "/api/v1/chart/" + symbol + "/1m?limit=1");
  const Json& bars = chart["bars"];
  return bars.empty() ? 0.0 : bars.back()["close"].get<double>();
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// What the paper broker itself holds, from its state file.
struct Broker {
  std::map<std::string, Json> orders;
  std::map<std::string, double> positions;
  size_t order_records = 0;
};

Broker readBroker(const test::TempDir& dir) {
  std::ifstream in(dir / "paper/account.json");
  Broker broker;
  if (!in) return broker;
  Json state = Json::parse(in);
  for (const auto& o : state["orders"]) {
    ++broker.order_records;
    broker.orders[o["client_order_id"].get<std::string>()] = o;
  }
  for (const auto& p : state["positions"]) {
    double q = p["quantity"].get<double>();
    if (std::abs(q) > 1e-9) broker.positions[p["symbol"].get<std::string>()] = q;
  }
  return broker;
}

uint64_t journalGaps(const test::TempDir& dir, int cycle) {
  auto [code, out] = test::runToEnd({test::tradehostBinary(), "journal", "--var", dir.str(), "--verify"},
                                    dir / fmt::format("verify-{}.log", cycle));
  std::smatch m;
  if (code != 0 || !std::regex_search(out, m, std::regex(R"(journal: (\d+) records, last sequence (\d+), (\d+) gap)"))) {
    ADD_FAILURE() << "journal --verify failed: " << out;
    return 1;
  }
  return std::stoull(m[3]);
}

// The checks after a restart, with the market feed stopped so neither side moves.
// `posts`: the order requests made so far, answered or cut off by a kill.
void checkConsistent(const test::TempDir& dir, uint16_t port, int cycle, const std::set<std::string>& acknowledged,
                     const std::set<std::string>& sent, size_t posts) {
  SCOPED_TRACE(fmt::format("cycle {}", cycle));
  Json health = getJson(port, "/api/v1/health");
  ASSERT_EQ(health["trading"]["reconcile"].size(), 1u) << health.dump();
  const Json& report = health["trading"]["reconcile"][0];
  EXPECT_TRUE(report["ok"].get<bool>()) << report.dump();
  EXPECT_EQ(report["orphans_adopted"], 0) << report.dump();
  EXPECT_EQ(health["trading"]["state"], "ACTIVE") << health["trading"].dump();

  std::map<std::string, Json> host;
  const Json listed = getJson(port, "/api/v1/orders?status=all&limit=10000");
  for (const auto& o : listed["orders"]) {
    host[o["client_order_id"].get<std::string>()] = o;
  }
  Broker broker = readBroker(dir);
  // The list holds the newest 10,000 (by the simulated clock, which starts
  // again each run); fifty busy cycles may send more, so look the rest up.
  auto lookUp = [&](const std::string& id) {
    if (host.contains(id)) return;
    auto reply = http(port, "GET", "/api/v1/orders/" + id);
    if (reply.status == 200) host[id] = Json::parse(reply.body);
  };
  for (const auto& [id, theirs] : broker.orders) lookUp(id);
  for (const auto& id : acknowledged) lookUp(id);
  if (std::getenv("TH_CRASH_DEBUG")) {
    std::cerr << fmt::format("cycle {}: host {} orders, broker {} orders, dir {}\n", cycle, host.size(),
                             broker.orders.size(), dir.str());
    std::ifstream log(dir / fmt::format("run-{}.log", cycle));
    for (std::string line; std::getline(log, line);) {
      if (line.find("broker service") != std::string::npos || line.find("reconcil") != std::string::npos ||
          line.find("store") != std::string::npos) {
        std::cerr << line << "\n";
      }
    }
  }
  // Never sent twice: each id once at the broker, and no more orders (legs
  // aside) than were ever asked for — a host that sent one request twice
  // under two ids would have more.
  EXPECT_EQ(broker.order_records, broker.orders.size());
  std::set<std::string> roots;  // the request each broker order came from (the shipped strategies' aside)
  for (const auto& [id, theirs] : broker.orders) {
    std::string root = id;
    for (auto it = host.find(root); it != host.end() && !it->second["parent_id"].get<std::string>().empty();
         it = host.find(root)) {
      root = it->second["parent_id"].get<std::string>();
    }
    auto it = host.find(root);
    if (it == host.end() || it->second["strategy"].get<std::string>().empty()) roots.insert(root);
  }
  EXPECT_LE(roots.size(), posts) << "the broker has orders from more requests than were made";
  // No orphan: every broker order is the host's, in the same state.
  for (const auto& [id, theirs] : broker.orders) {
    auto it = host.find(id);
    if (it == host.end()) {
      ADD_FAILURE() << "orphan at the broker: " << theirs.dump();
      continue;
    }
    EXPECT_EQ(upper(it->second["status"].get<std::string>()), theirs["status"].get<std::string>()) << id;
    EXPECT_DOUBLE_EQ(it->second["filled_quantity"].get<double>(), theirs["filled_quantity"].get<double>()) << id;
  }
  // None lost: every order the API answered as sent is at the broker; one the
  // host stored but a kill kept from the broker is closed as not sent;
  // nothing is left pending; every id the API answered is known.
  for (const auto& [id, ours] : host) {
    // Pending only as a bracket's leg the broker holds until its entry,
    // still unfilled (the feed is stopped), fills.
    if (ours["status"] == "pending_new") {
      const auto entry = host.find(ours["parent_id"].get<std::string>());
      EXPECT_TRUE(ours["native_leg"].get<bool>() && entry != host.end() &&
                  entry->second["filled_quantity"].get<double>() == 0.0)
          << ours.dump() << (entry != host.end() ? "\nits entry: " + entry->second.dump() : "");
    }
    if (broker.orders.contains(id) || !ours["reason_code"].get<std::string>().empty()) continue;
    if (const std::string parent = ours["parent_id"]; !parent.empty() && ours["status"] == "canceled") {
      // A bracket's leg is sent once its entry fills: one whose entry ended
      // without a fill is canceled with it, never sent.
      const auto entry = host.find(parent);
      ASSERT_NE(entry, host.end()) << ours.dump();
      EXPECT_EQ(entry->second["filled_quantity"], 0.0) << entry->second.dump();
      EXPECT_FALSE(sent.contains(id)) << ours.dump();
      continue;
    }
    EXPECT_EQ(ours["status"], "rejected") << ours.dump();
    EXPECT_NE(ours["reason"].get<std::string>().find("not sent"), std::string::npos) << ours.dump();
    EXPECT_FALSE(sent.contains(id)) << "answered as sent, but the broker never had it: " << ours.dump();
  }
  for (const auto& id : acknowledged) EXPECT_TRUE(host.contains(id)) << "acknowledged then lost: " << id;
  for (const auto& id : sent) EXPECT_TRUE(broker.orders.contains(id)) << "sent then lost: " << id;
  // Positions equal the broker's.
  std::map<std::string, double> ours;
  const Json positions = getJson(port, "/api/v1/positions");
  for (const auto& p : positions["account"]) {
    double q = p["quantity"].get<double>();
    if (std::abs(q) > 1e-9) ours[p["symbol"].get<std::string>()] = q;
  }
  EXPECT_EQ(ours, broker.positions);
  EXPECT_EQ(journalGaps(dir, cycle), 0u);
}

TEST(CrashLoop, NoOrderLostDuplicatedOrOrphanedAcrossFiftyKills) {
  test::TempDir dir;
  std::mt19937 random(20261121);
  std::set<std::string> acknowledged, sent;
  size_t total_sent = 0, total_canceled = 0, total_refused = 0, posts = 0;
  const std::vector<std::string> symbols = {"SPY", "QQQ", "IWM", "AAPL"};

  size_t repairs = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    uint16_t port = 0;
    auto host = startHost(dir, cycle, port);
    // What reconciliation repaired at this start is checked against the
    // broker by checkConsistent below; an order the broker has that the host
    // never recorded (adopted) would be an order sent before it was stored.
    const std::regex reconciled(R"(reconciled with 'paper': (\d+) open order\(s\), (\d+) fill\(s\) added, )"
                                R"((\d+) order\(s\) updated, (\d+) closed, (\d+) adopted)");
    std::smatch m;
    const std::string output = host->output();
    ASSERT_TRUE(std::regex_search(output, m, reconciled)) << "cycle " << cycle << ": no reconciliation\n" << output;
    EXPECT_EQ(m[5].str(), "0") << "cycle " << cycle << ": the broker had orders the host never stored: " << m[0];
    repairs += std::stoul(m[2].str()) + std::stoul(m[3].str()) + std::stoul(m[4].str());
    // Quiet the market, let the queue drain, and compare with the broker.
    auto down = http(port, "POST", "/api/v1/plugins/synthetic/disconnect", "", kCrashAuth);
    ASSERT_EQ(down.status, 200) << down.body;
    std::this_thread::sleep_for(150ms);
    checkConsistent(dir, port, cycle, acknowledged, sent, posts);
    if (HasFatalFailure()) return;
    auto up = http(port, "POST", "/api/v1/plugins/synthetic/connect", "", kCrashAuth);
    ASSERT_EQ(up.status, 200) << up.body;
    // Resting limits sit 2 % from where the market is now, inside the price
    // collar, so they rest and can be canceled.
    std::map<std::string, double> level;
    for (const auto& symbol : symbols) {
      level[symbol] = lastClose(port, symbol);
      ASSERT_GT(level[symbol], 0.0) << symbol << ": no 1m bar on the chart";
    }

    // Busy order flow until a SIGKILL at a random moment.
    std::atomic<bool> killed{false};
    int64_t kill_after_ms = std::uniform_int_distribution<int>(100, 700)(random);
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
      host->signal(SIGKILL);
      killed = true;
    });
    std::vector<std::string> open;
    while (!killed) {
      try {
        int action = std::uniform_int_distribution<int>(0, 99)(random);
        const auto& symbol = symbols[std::uniform_int_distribution<size_t>(0, symbols.size() - 1)(random)];
        if (action < 15 && !open.empty()) {
          size_t pick = std::uniform_int_distribution<size_t>(0, open.size() - 1)(random);
          auto reply = http(port, "DELETE", "/api/v1/orders/" + open[pick], "", kCrashAuth);
          if (reply.status == 200) ++total_canceled;
          open.erase(open.begin() + static_cast<long>(pick));
          continue;
        }
        Json order = {{"symbol", symbol},
                      {"side", std::uniform_int_distribution<int>(0, 1)(random) ? "buy" : "sell"},
                      {"quantity", std::uniform_int_distribution<int>(1, 9)(random)}};
        if (action < 45) {  // resting limits a little away from the market
          order["type"] = "limit";
          order["limit_price"] = std::round(level[symbol] * (order["side"] == "buy" ? 0.98 : 1.02) * 100) / 100;
          order["time_in_force"] = "gtc";
        }
        ++posts;
        auto reply = http(port, "POST", "/api/v1/orders", order.dump(), kCrashAuth);
        if (reply.status == 201 || reply.status == 422) {
          Json answer = Json::parse(reply.body);
          auto id = answer["client_order_id"].get<std::string>();
          acknowledged.insert(id);
          if (reply.status == 201) {
            ++total_sent;
            sent.insert(id);
            if (order.contains("limit_price")) open.push_back(id);
          } else {
            ++total_refused;
          }
        }
      } catch (const std::exception&) {
        // The host died mid-request: that is the point.
      }
    }
    killer.join();
    // It died of the SIGKILL (128 + 9), not of anything else first (a crash
    // or an exit would be a failure of its own, hidden by the kill).
    auto status = host->wait(10s);
    ASSERT_TRUE(status) << "cycle " << cycle;
    EXPECT_EQ(*status, 128 + SIGKILL) << "cycle " << cycle << "\n" << host->output();
  }

  // A last start, then a clean stop: everything still agrees.
  uint16_t port = 0;
  auto host = startHost(dir, kCycles, port);
  ASSERT_EQ(http(port, "POST", "/api/v1/plugins/synthetic/disconnect", "", kCrashAuth).status, 200);
  std::this_thread::sleep_for(150ms);
  checkConsistent(dir, port, kCycles, acknowledged, sent, posts);
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(30s), 0);
  EXPECT_EQ(journalGaps(dir, kCycles + 1), 0u);
  // The flow was busy enough to mean something.
  EXPECT_GT(total_sent, 4u * kCycles) << "refused " << total_refused;
  EXPECT_GT(total_canceled, static_cast<size_t>(kCycles) / 5);
  std::cout << fmt::format("crash loop: {} cycles, {} orders sent, {} refused by risk, {} canceled, {} repaired "
                           "at restarts\n",
                           kCycles, total_sent, total_refused, total_canceled, repairs);
}

}  // namespace
}  // namespace th

namespace th {
namespace {

// The kill switch as an operator uses it: through the API of a running host.
TEST(KillSwitch, ThroughTheApiCancelsFlattensHaltsAndSurvivesARestart) {
  test::TempDir dir;
  uint16_t port = 0;
  auto host = startHost(dir, 0, port);
  // Past the open (09:29 start, 300x): orders are accepted.
  Json bought;
  ASSERT_TRUE(test::eventually(
      [&] {
        auto reply = http(port, "POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":5})", kCrashAuth);
        if (reply.status == 201) bought = Json::parse(reply.body);
        return reply.status == 201;
      },
      30s));
  // A buy 3 % under the market rests (inside the 5 % price collar).
  const double last = getJson(port, "/api/v1/chart/QQQ/1m?limit=1")["bars"][0]["close"];
  auto resting = http(port, "POST", "/api/v1/orders",
                      fmt::format(R"({{"symbol":"QQQ","side":"buy","quantity":2,"type":"limit","limit_price":{:.2f},)"
                                  R"("time_in_force":"gtc"}})",
                                  std::floor(last * 97) / 100),
                      kCrashAuth);
  ASSERT_EQ(resting.status, 201) << resting.body;
  const auto resting_id = Json::parse(resting.body)["client_order_id"].get<std::string>();
  ASSERT_TRUE(test::eventually(
      [&] {
        auto order = getJson(port, "/api/v1/orders/" + bought["client_order_id"].get<std::string>());
        return order["status"] == "filled";
      },
      30s));

  EXPECT_EQ(http(port, "POST", "/api/v1/risk/kill", R"({"flatten":true})").status, 401);
  auto killed = http(port, "POST", "/api/v1/risk/kill", R"({"flatten":true,"reason":"test"})", kCrashAuth);
  ASSERT_EQ(killed.status, 200) << killed.body;
  Json kill = Json::parse(killed.body);
  EXPECT_EQ(kill["state"], "HALTED");
  EXPECT_EQ(kill["canceled"], Json::array({resting_id}));
  EXPECT_EQ(kill["flatten"].size(), 1u);
  ASSERT_TRUE(test::eventually(
      [&] {
        const Json positions = getJson(port, "/api/v1/positions");
        for (const auto& p : positions["account"]) {
          if (p["symbol"] == "SPY" && p["quantity"].get<double>() != 0) return false;
        }
        return getJson(port, "/api/v1/orders/" + resting_id)["status"] == "canceled";
      },
      30s));
  auto refused = http(port, "POST", "/api/v1/orders", R"({"symbol":"SPY","side":"buy","quantity":1})", kCrashAuth);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(Json::parse(refused.body)["reason_code"], "HALTED");

  // HALTED is kept across a restart, until the operator resumes.
  host->signal(SIGTERM);
  ASSERT_EQ(host->wait(30s), 0);
  host = startHost(dir, 1, port);
  EXPECT_EQ(getJson(port, "/api/v1/risk")["state"], "HALTED");
  auto resumed = http(port, "POST", "/api/v1/risk/resume", "{}", kCrashAuth);
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(Json::parse(resumed.body)["state"], "ACTIVE");
  EXPECT_EQ(getJson(port, "/api/v1/risk")["state"], "ACTIVE");
}

}  // namespace
}  // namespace th
