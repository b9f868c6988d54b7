// A fixture for tests of the real `tradehost run` with strategy folders of
// their own: writes strategies, starts the binary on the embedded
// configuration (synthetic market, paper broker) with a token, reads the
// API, and waits for what a test expects.
#pragma once

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace th::test {

// A well-behaved strategy: rests one buy 4% under the market (inside the
// price collar, far from a fill) and counts its bars in ctx.state.bars.
constexpr const char* kRestingBuy = R"(function on_bar(ctx, bar)
  ctx.state.bars = (ctx.state.bars or 0) + 1
  if not ctx.state.order_id then
    local order = ctx:buy{qty = 1, limit = math.floor(bar.close * 96) / 100}
    if order then ctx.state.order_id = order.id end
  end
end
)";

class StrategyHost : public ::testing::Test {
 protected:
  using Json = nlohmann::json;
  static constexpr const char* kTokenEnv = "TRADEHOST_TOKEN=strategy-host-secret";
  const std::map<std::string, std::string> kAuth = {{"Authorization", "Bearer strategy-host-secret"}};

  // strategies/<id>/ with a definition trading SPY on 1m bars (`runtime` is
  // the YAML of its runtime: mapping) and `script`.
  void strategy(const std::string& id, const std::string& runtime, const std::string& script) {
    auto folder = dir_.path() / "strategies" / id;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / (id + ".yaml")) << fmt::format(
        "schema: 1\nid: {0}\nname: {0}\nversion: 1.0.0\nscript: {0}.lua\nsymbols: [SPY]\ntimeframe: 1m\n"
        "risk:\n  max_order_quantity: 10\nruntime: {1}\n",
        id, runtime);
    std::ofstream(folder / (id + ".lua")) << script;
  }
  std::filesystem::path strategiesDir() const { return dir_.path() / "strategies"; }

  // `speed`: market minutes per real second × 60 (300: five bars a second).
  void start(int speed = 300) {
    std::filesystem::create_directories(strategiesDir());
    std::vector<std::string> args = {tradehostBinary(), "run", "--var", dir_.str(), "--api", "127.0.0.1:0",
                                     "--speed", std::to_string(speed), "--strategies", strategiesDir().string()};
    host_ = std::make_unique<Process>(args, dir_ / "run.log", std::vector<std::string>{kTokenEnv});
    auto port = host_->waitForOutput(R"(API listening on http://127\.0\.0\.1:(\d+))", std::chrono::seconds(60));
    ASSERT_TRUE(port) << "host did not start:\n" << host_->output();
    port_ = static_cast<uint16_t>(std::stoi(*port));
  }

  Json get(const std::string& target) {
    auto reply = http(port_, "GET", target);
    if (reply.status != 200) throw std::runtime_error(fmt::format("GET {}: {} {}", target, reply.status, reply.body));
    return Json::parse(reply.body);
  }

  // `tradehost ARGS... --api <the host>` with the token; its exit code (-1
  // if it did not end within 30 s).
  std::pair<int, std::string> cli(std::vector<std::string> args, const std::string& log) {
    std::vector<std::string> command = {tradehostBinary()};
    command.insert(command.end(), args.begin(), args.end());
    command.push_back("--api");
    command.push_back(fmt::format("127.0.0.1:{}", port_));
    Process process(command, dir_ / log, {kTokenEnv});
    auto code = process.wait(std::chrono::seconds(30));
    return {code.value_or(-1), process.output()};
  }

  // GETs `target` every 100 ms for up to `within` until `field` is `value`;
  // true when it was, with the last answer in `last` (for the failure message).
  bool awaitField(const std::string& target, const std::string& field, const Json& value,
                  std::chrono::milliseconds within, Json& last) {
    return eventually(
        [&] {
          last = get(target);
          return last[field] == value;
        },
        within);
  }

  // Polls `check` every 100 ms for up to `within`.
  template <class Check>
  bool eventually(Check check, std::chrono::milliseconds within) {
    for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
      if (check()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return check();
  }

  TempDir dir_;
  std::unique_ptr<Process> host_;
  uint16_t port_ = 0;
};

}  // namespace th::test
