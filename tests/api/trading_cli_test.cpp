// `tradehost order|positions|account|risk|kill|resume` as an operator runs
// them: the real binary against a real API server (in this process) over a
// fake trading service. What is printed, on which stream, the exit codes,
// and what reached the service.
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "api/trading_support.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th::test {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs tradehost to the end with stdout and stderr apart, and
// TRADEHOST_TOKEN set to `token` (unset when empty) whatever the test's
// environment holds.
CliRun runCli(std::vector<std::string> args, const std::string& token = kToken) {
  TempDir dir;
  std::string out = dir / "out", err = dir / "err";
  args.insert(args.begin(), tradehostBinary());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (!std::string_view(*e).starts_with("TRADEHOST_TOKEN=")) env.emplace_back(*e);
  }
  if (!token.empty()) env.push_back(fmt::format("TRADEHOST_TOKEN={}", token));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot start {}", args[0]));
  CliRun run;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run.out = readFile(out);
  run.err = readFile(err);
  return run;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A port on 127.0.0.1 that nothing listens on.
uint16_t closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class TradingCli : public ::testing::Test {
 protected:
  CliRun run(std::vector<std::string> args, const std::string& token = kToken) {
    args.push_back("--api");
    args.push_back(fmt::format("127.0.0.1:{}", api_.port));
    return runCli(std::move(args), token);
  }
  FakeTradingService::Calls calls() const { return api_.service.calls(); }

  TradingServer api_;
};

TEST_F(TradingCli, SubmitSendsTheOrderAndPrintsItAsATable) {
  auto r = run({"order", "submit", "spy", "buy", "10", "--limit", "500.5", "--strategy", "sma_cross", "--broker",
                "paper", "--tif", "gtc"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  // A header and one row, the columns lined up under their names.
  std::istringstream lines(r.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_TRUE(std::regex_search(header, std::regex("^ID +STRATEGY +SYMBOL +SIDE +QTY +TYPE +PRICE +STATUS +FILLED "
                                                   "+AVG +REASON$")))
      << r.out;
  EXPECT_TRUE(std::regex_search(row, std::regex("^TH-1 +sma_cross +SPY +buy +10 +limit +500.5 +pending_new +4 "
                                                "+500.25$")))
      << r.out;
  EXPECT_EQ(header.find("STATUS"), row.find("pending_new")) << r.out;
  auto seen = calls();
  ASSERT_EQ(seen.names, std::vector<std::string>{"submit"});
  EXPECT_EQ(seen.intent.symbol, "SPY");
  EXPECT_EQ(seen.intent.side, OrderSide::Buy);
  EXPECT_EQ(seen.intent.quantity, 10);
  EXPECT_EQ(seen.intent.type, OrderType::Limit) << "--limit alone makes a limit order";
  EXPECT_EQ(seen.intent.limit_price, 500.5);
  EXPECT_EQ(seen.intent.time_in_force, TimeInForce::Gtc);
  EXPECT_EQ(seen.intent.strategy, "sma_cross");
  EXPECT_EQ(seen.broker, "paper");
}

TEST_F(TradingCli, SubmitJsonPrintsTheHostsJson) {
  auto r = run({"order", "submit", "SPY", "sell", "3", "--type", "stop_limit", "--stop", "499", "--limit", "498",
                "--class", "bracket", "--take-profit", "480", "--stop-loss", "510", "--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(orderJson("TH-1", "pending_new")));
  auto intent = calls().intent;
  EXPECT_EQ(intent.type, OrderType::StopLimit);
  EXPECT_EQ(intent.order_class, OrderClass::Bracket);
  EXPECT_EQ(intent.take_profit_price, 480);
  EXPECT_EQ(intent.stop_loss_price, 510);
}

TEST_F(TradingCli, ARiskRejectionExits2WithTheReasonOnStderr) {
  api_.service.answer("submit", rejectedOrderJson());
  auto r = run({"order", "submit", "SPY", "buy", "500"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(r.err, "rejected: MAX_ORDER_QUANTITY: quantity 500 exceeds max_order_quantity 100 (global)\n");
  EXPECT_TRUE(contains(r.out, "rejected")) << r.out;
  r = run({"order", "submit", "SPY", "buy", "500", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(nlohmann::json::parse(r.out)["reason_code"], "MAX_ORDER_QUANTITY");
  EXPECT_TRUE(contains(r.err, "rejected: MAX_ORDER_QUANTITY")) << r.err;
}

TEST_F(TradingCli, BadInputExits2AndNamesTheField) {
  auto r = run({"order", "submit", "SPY", "buy", "ten"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "tradehost: QTY: expected a number, got 'ten'\n");
  r = run({"order", "submit", "SPY", "buy", "1", "--type", "limit"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "tradehost: limit_price: required for a limit order (HTTP 400)\n");
  r = run({"order", "submit", "SPY", "buy"});
  EXPECT_EQ(r.code, 2) << "a missing argument is bad input too";
  EXPECT_TRUE(calls().names.empty());
}

TEST_F(TradingCli, OrderListPrintsOneRowPerOrderAndSendsTheFilters) {
  auto r = run({"order", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_TRUE(rows[1].starts_with("TH-2  ")) << r.out;
  EXPECT_TRUE(rows[2].starts_with("TH-1000  ")) << r.out;
  EXPECT_EQ(rows[1].find("accepted"), rows[0].find("STATUS")) << r.out;
  EXPECT_EQ(rows[2].find("partially_filled"), rows[0].find("STATUS")) << r.out;
  EXPECT_TRUE(calls().query.open_only);

  r = run({"order", "list", "--all", "--symbol", "spy", "--strategy", "sma cross", "--limit", "5"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto query = calls().query;
  EXPECT_FALSE(query.open_only);
  EXPECT_EQ(query.symbol, "SPY");
  EXPECT_EQ(query.strategy, "sma cross");
  EXPECT_EQ(query.limit, 5u);

  r = run({"order", "list", "--limit", "0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "limit: '0' must be 1..10000")) << r.err;

  api_.service.answer("list", R"({"orders":[]})");
  r = run({"order", "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no open orders\n");
}

TEST_F(TradingCli, OrderShowAndCancel) {
  auto r = run({"order", "show", "TH-1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "status:          partially_filled")) << r.out;
  EXPECT_TRUE(contains(r.out, "filled:          4 @ 500.25")) << r.out;
  EXPECT_EQ(calls().id, "TH-1");

  r = run({"order", "cancel", "TH-1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "pending_cancel")) << r.out;
  EXPECT_EQ(calls().names.back(), "cancel");

  api_.service.answer("order", fail(ErrorCode::NotFound, "no order 'TH-404'"));
  r = run({"order", "show", "TH-404"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "tradehost: no order 'TH-404' (HTTP 404)\n");
}

TEST_F(TradingCli, KillFlattenAndResume) {
  auto r = run({"kill", "--flatten", "--reason", "feed looks wrong"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(calls().flatten);
  EXPECT_EQ(calls().reason, "feed looks wrong");
  EXPECT_TRUE(contains(r.out, "state:           HALTED")) << r.out;
  EXPECT_TRUE(contains(r.out, "canceled:        2 orders: TH-2, TH-3")) << r.out;
  EXPECT_TRUE(contains(r.out, "flatten:         1 order: TH-4")) << r.out;

  api_.service.answer("kill", R"({"state":"HALTED","canceled":[],"flatten":[],"errors":["TH-9: broker paper is )"
                              R"(disconnected"]})");
  r = run({"kill"});
  EXPECT_EQ(r.code, 0);
  EXPECT_FALSE(calls().flatten);
  EXPECT_TRUE(contains(r.out, "canceled:        none")) << r.out;
  EXPECT_TRUE(contains(r.out, "error:           TH-9: broker paper is disconnected")) << r.out;

  api_.service.answer("resume", R"({"state":"REDUCING"})");
  r = run({"resume", "--reducing", "--reason", "checked the feed"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(calls().state, "reducing");
  EXPECT_EQ(calls().reason, "checked the feed");
  EXPECT_EQ(r.out, "state:           REDUCING\n");
  r = run({"resume", "--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(calls().state, "active");
  EXPECT_EQ(nlohmann::json::parse(r.out)["state"], "REDUCING");
}

TEST_F(TradingCli, PositionsAccountAndRisk) {
  auto r = run({"positions", "--strategy", "sma_cross"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(calls().strategy, "sma_cross");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("SYMBOL +QTY +AVG COST +LAST +UNREALISED +REALISED +COMMISSIONS")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("SPY +10 +500.25 +501 +7.50 +0.00 +1.00"))) << r.out;
  EXPECT_TRUE(contains(r.out, "strategy sma_cross")) << r.out;
  EXPECT_TRUE(contains(r.out, "net 6.50  gross exposure 5010.00")) << r.out;

  r = run({"account"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "buying power:    94997.50")) << r.out;

  r = run({"risk"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "state:           ACTIVE")) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("max_order_quantity +100"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("max_open_orders +none"))) << r.out;
}

TEST_F(TradingCli, WithoutTheTokenChangesAreRefusedBeforeCallingTheHost) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"order", "submit", "SPY", "buy", "1"},
        std::vector<std::string>{"order", "cancel", "TH-1"}, std::vector<std::string>{"kill", "--flatten"},
        std::vector<std::string>{"resume"}}) {
    auto r = run(args, "");
    EXPECT_EQ(r.code, 2) << args[0];
    EXPECT_EQ(r.err, "tradehost: TRADEHOST_TOKEN is not set: the host refuses orders without its bearer token\n");
  }
  EXPECT_TRUE(calls().names.empty());
  // Reading needs no token.
  EXPECT_EQ(run({"risk"}, "").code, 0);
}

TEST_F(TradingCli, AWrongTokenExits2) {
  auto r = run({"kill"}, "not-the-token");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "(HTTP 401)")) << r.err;
  EXPECT_TRUE(calls().names.empty());
}

TEST_F(TradingCli, HostFailuresExit1) {
  api_.service.answer("account", fail(ErrorCode::Unavailable, "broker paper is disconnected"));
  auto r = run({"account"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "tradehost: broker paper is disconnected (HTTP 503)\n");

  auto port = closedPort();
  r = runCli({"positions", "--api", fmt::format("127.0.0.1:{}", port)});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, fmt::format("tradehost: cannot reach tradehost at 127.0.0.1:{}: connection refused (is `tradehost "
                               "run` running? --api HOST:PORT)\n",
                               port));

  r = runCli({"positions", "--api", "localhost"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--api: expected HOST:PORT")) << r.err;
}

}  // namespace
}  // namespace th::test
