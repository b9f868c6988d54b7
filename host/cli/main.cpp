// tradehost — the command line front end.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tradehost — a trading host: data, charts, risk, brokers and Lua strategies in one process"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TRADEHOST_VERSION);

  th::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run a live or simulated session from a host configuration");
  run_cmd->add_option("--config", run.config_path, "Host configuration YAML (default: the embedded config/host.yaml)");
  run_cmd->add_option("--var", run.var_dir, "Directory for the store and plugin state (overrides host.var_dir)");
  run_cmd->add_option("--api", run.api_listen, "HOST:PORT for the HTTP/WebSocket API (overrides api.listen)");
  run_cmd->add_option("--duration", run.duration, "Stop after this long, e.g. 30s, 5m (default: until SIGINT/SIGTERM)");
  run_cmd->add_option("--speed", run.speed, "Simulated seconds per real second (overrides clock.speed)");
  run_cmd->add_option("--plugin-dir", run.plugin_dir,
                      "Where plugin names resolve (default: build/plugins beside the binary)");
  run_cmd->add_option("--strategies", run.strategies_dir, "Folder of strategies (overrides strategies.dir)");
  run_cmd->add_flag("--watch-strategies", run.watch_strategies,
                    "Dev mode: reload a strategy as soon as its files change");

  th::BacktestCommandOptions backtest;
  auto* backtest_cmd = app.add_subcommand(
      "backtest", "Run one strategy over recorded or synthetic bars on the live engine; write JSON and HTML reports");
  backtest_cmd->add_option("--strategy", backtest.strategy, "The strategy's id (its folder under --strategies)")
      ->required();
  backtest_cmd->add_option("--symbols", backtest.symbols,
                           "Symbols, comma-separated (default: every symbol of --data; the strategy's with synthetic)");
  backtest_cmd->add_option("--from", backtest.from, "First day, YYYY-MM-DD")->required();
  backtest_cmd->add_option("--to", backtest.to, "Last day, YYYY-MM-DD (inclusive)")->required();
  auto* data_opt = backtest_cmd->add_option("--data", backtest.data, "A bar CSV file or folder (replay formats)");
  auto* seed_opt =
      backtest_cmd->add_option("--synthetic-seed", backtest.synthetic_seed, "Bars from the synthetic market with this seed");
  data_opt->excludes(seed_opt);
  backtest_cmd->add_option("--out", backtest.out, "The JSON report")->required();
  backtest_cmd->add_option("--html", backtest.html, "The HTML report (self-contained)");
  backtest_cmd->add_option("--set", backtest.set, "A parameter, name=value (repeat for more)");
  backtest_cmd->add_option("--hold", backtest.hold,
                           "Shares held from the start, SYMBOL=SHARES, bought at the first minute's open (repeat for more)");
  backtest_cmd->add_option("--strategies", backtest.strategies_dir, "Folder of strategies (default: strategies)");
  backtest_cmd->add_option("--config", backtest.config,
                           "Host configuration for risk limits and paper commissions (default: the embedded one)");
  backtest_cmd->add_option("--plugin-dir", backtest.plugin_dir, "Where paper, replay and synthetic are found");
  backtest_cmd->add_flag("--quiet", backtest.quiet, "No progress bar or summary");

  auto* plugin_cmd = app.add_subcommand("plugin", "Inspect and test plugins");
  plugin_cmd->require_subcommand(1);
  th::PluginListOptions list;
  auto* list_cmd = plugin_cmd->add_subcommand("list", "List the plugins in the plugin directory");
  list_cmd->add_option("--dir", list.dir, "Plugin directory (default: build/plugins beside the binary)");
  list_cmd->add_flag("--json", list.json, "Print JSON");
  th::PluginInspectOptions inspect;
  auto* inspect_cmd = plugin_cmd->add_subcommand("inspect", "Load one plugin and describe what it declares");
  inspect_cmd->add_option("file", inspect.file, "Plugin .so")->required();
  inspect_cmd->add_flag("--json", inspect.json, "Print JSON");
  th::PluginCheckOptions check;
  auto* check_cmd = plugin_cmd->add_subcommand("check", "Drive a plugin through the ABI contract and report each step");
  check_cmd->add_option("file", check.file, "Plugin .so")->required();
  check_cmd->add_option("--config", check.config,
                        "Plugin config as JSON text or @file.json (default: see docs/plugins.md)");
  check_cmd->add_option("--symbol", check.symbol, "Symbol to exercise (default SPY)");
  check_cmd->add_option("--at", check.at,
                        "Simulated start time for data plugins (default: 10:00 ET of the last weekday)");
  check_cmd->add_flag("--json", check.json, "Print JSON");

  th::ConfigValidateOptions validate;
  auto* config_cmd = app.add_subcommand("config", "Work with host configuration files");
  config_cmd->require_subcommand(1);
  auto* validate_cmd = config_cmd->add_subcommand("validate", "Check a host configuration; errors as file:line:column");
  validate_cmd->add_option("file", validate.file, "Host configuration YAML (default: the embedded one)");
  auto* show_cmd = config_cmd->add_subcommand("show-default", "Print the embedded default configuration");

  th::JournalOptions journal;
  auto* journal_cmd =
      app.add_subcommand("journal", "Read the journal of a store, read-only (the host may be running or stopped)");
  journal_cmd->add_option("--var", journal.var_dir, "Var directory holding store/ (default: var)");
  journal_cmd->add_option("--store", journal.store_dir, "The store directory itself, when store.dir is not 'store'");
  journal_cmd->add_option("--from", journal.from, "First sequence to print (default 1)");
  journal_cmd->add_option("--limit", journal.limit, "How many records to print (default 20)");
  journal_cmd->add_option("--kind", journal.kind, "Only records of this kind (trade, quote, bar, order, fill, ...)");
  journal_cmd->add_flag("--verify", journal.verify, "Check the whole journal for gaps and print a summary");

  th::CalendarOptions calendar;
  auto* calendar_cmd = app.add_subcommand(
      "calendar", "Print the exchange calendar: each session's open and close, and each weekday the market is closed");
  calendar_cmd->add_option("--from", calendar.from, "First year, YYYY (1990-2100)")->required();
  calendar_cmd->add_option("--to", calendar.to, "Last year, YYYY (default: --from)");
  calendar_cmd->add_option("--config", calendar.config,
                           "Host configuration whose data.calendar override applies (default: the built-in rules)");
  calendar_cmd->add_flag("--json", calendar.json, "Print JSON");

  // Commands that call a running host's API.
  auto api_options = [](CLI::App* command, th::ApiCallOptions& call) {
    command->add_option("--api", call.api, "HOST:PORT of the running host's API (default 127.0.0.1:8080)");
    command->add_flag("--json", call.json, "Print the host's JSON as is");
  };
  auto* order_cmd = app.add_subcommand("order", "Submit, cancel and list orders on the running host");
  order_cmd->require_subcommand(1);
  th::OrderSubmitOptions submit;
  auto* submit_cmd = order_cmd->add_subcommand(
      "submit", "Submit an order (needs TRADEHOST_TOKEN); a risk rejection prints its reason and exits 2");
  submit_cmd->add_option("symbol", submit.symbol, "Ticker, or OCC symbol for an option")->required();
  submit_cmd->add_option("side", submit.side, "buy or sell")->required();
  submit_cmd->add_option("quantity", submit.quantity, "Shares or contracts")->required();
  submit_cmd->add_option("--type", submit.type,
                         "market, limit, stop or stop_limit (default: from --limit/--stop, else market)");
  submit_cmd->add_option("--limit", submit.limit, "Limit price");
  submit_cmd->add_option("--stop", submit.stop, "Stop price");
  submit_cmd->add_option("--tif", submit.time_in_force, "day, gtc, ioc or fok (default day)");
  submit_cmd->add_option("--class", submit.order_class, "simple, bracket, oco or oto (default simple)");
  submit_cmd->add_option("--take-profit", submit.take_profit, "Take-profit leg price (bracket, oco, oto)");
  submit_cmd->add_option("--stop-loss", submit.stop_loss, "Stop-loss leg price (bracket, oco, oto)");
  submit_cmd->add_option("--stop-loss-limit", submit.stop_loss_limit,
                         "Makes the stop-loss leg a stop-limit order at this price");
  submit_cmd->add_option("--strategy", submit.strategy, "Book the order to this strategy (default: manual)");
  submit_cmd->add_option("--broker", submit.broker, "Broker plugin id (default: the host's default broker)");
  api_options(submit_cmd, submit.call);
  th::OrderIdOptions cancel;
  auto* cancel_cmd =
      order_cmd->add_subcommand("cancel", "Cancel an order by its client order id (needs TRADEHOST_TOKEN)");
  cancel_cmd->add_option("id", cancel.id, "Client order id")->required();
  api_options(cancel_cmd, cancel.call);
  th::OrderListOptions order_list;
  auto* order_list_cmd = order_cmd->add_subcommand("list", "List open orders, newest first");
  order_list_cmd->add_flag("--all", order_list.all, "Every order, not only open ones");
  order_list_cmd->add_option("--strategy", order_list.strategy, "Only this strategy's orders");
  order_list_cmd->add_option("--symbol", order_list.symbol, "Only orders for this symbol");
  order_list_cmd->add_option("--limit", order_list.limit, "At most this many orders, 1-10000 (default 500)");
  api_options(order_list_cmd, order_list.call);
  th::OrderIdOptions order_show;
  auto* order_show_cmd = order_cmd->add_subcommand("show", "Show one order in full");
  order_show_cmd->add_option("id", order_show.id, "Client order id")->required();
  api_options(order_show_cmd, order_show.call);

  th::PositionsOptions positions;
  auto* positions_cmd = app.add_subcommand("positions", "Positions and P&L per account and strategy");
  positions_cmd->add_option("--strategy", positions.strategy, "Only this strategy's positions");
  api_options(positions_cmd, positions.call);
  th::ApiCallOptions account;
  auto* account_cmd = app.add_subcommand("account", "The broker account: cash, equity, buying power, P&L");
  api_options(account_cmd, account);
  th::ApiCallOptions risk;
  auto* risk_cmd = app.add_subcommand("risk", "Trading state, loss figures and risk limits");
  api_options(risk_cmd, risk);
  th::KillOptions kill;
  auto* kill_cmd =
      app.add_subcommand("kill", "Kill switch: HALT trading and cancel open orders (needs TRADEHOST_TOKEN)");
  kill_cmd->add_flag("--flatten", kill.flatten, "Also close every position");
  kill_cmd->add_option("--reason", kill.reason, "Why, for the journal");
  api_options(kill_cmd, kill.call);
  th::ResumeOptions resume;
  auto* resume_cmd =
      app.add_subcommand("resume", "Leave HALTED: resume trading, ACTIVE or REDUCING (needs TRADEHOST_TOKEN)");
  resume_cmd->add_flag("--reducing", resume.reducing, "Only orders that reduce a position");
  resume_cmd->add_option("--reason", resume.reason, "Why, for the journal");
  api_options(resume_cmd, resume.call);

  auto* strategy_cmd = app.add_subcommand("strategy", "Validate, list, reload and roll back strategies");
  strategy_cmd->require_subcommand(1);
  th::ApiCallOptions strategy_list;
  auto* strategy_list_cmd = strategy_cmd->add_subcommand("list", "The strategies of the running host");
  api_options(strategy_list_cmd, strategy_list);
  th::StrategyValidateOptions strategy_validate;
  auto* strategy_validate_cmd = strategy_cmd->add_subcommand(
      "validate", "Check a strategy offline (definition, risk limits, script); errors as file:line: message");
  strategy_validate_cmd->add_option("path", strategy_validate.path, "strategies/<id>/<id>.yaml or the folder")
      ->required();
  strategy_validate_cmd->add_option("--config", strategy_validate.config,
                                    "Host configuration whose risk limits apply (default: the embedded one)");
  strategy_validate_cmd->add_option("--sdk", strategy_validate.sdk, "The sdk/lua folder (default: beside the binary)");
  // One options struct per subcommand: CLI11 binds each to its own fields.
  std::vector<std::pair<CLI::App*, std::unique_ptr<th::StrategyCommandOptions>>> strategy_calls;
  auto strategy_call = [&](const char* name, const char* help) {
    auto options = std::make_unique<th::StrategyCommandOptions>();
    auto* cmd = strategy_cmd->add_subcommand(name, help);
    cmd->add_option("id", options->id, "Strategy id")->required();
    api_options(cmd, options->call);
    strategy_calls.emplace_back(cmd, std::move(options));
    return std::pair{cmd, strategy_calls.back().second.get()};
  };
  auto [strategy_show_cmd, strategy_show] = strategy_call("show", "One strategy: version, status, state, timers");
  auto [strategy_history_cmd, strategy_history] = strategy_call("history", "Every recorded version of a strategy");
  auto [strategy_reload_cmd, strategy_reload] =
      strategy_call("reload", "Load the strategy's files into the running host, keeping state and orders (token)");
  auto [strategy_rollback_cmd, strategy_rollback] =
      strategy_call("rollback", "Go back to a recorded version, keeping state and orders (token)");
  strategy_rollback_cmd->add_option("--to", strategy_rollback->version,
                                    "A version (1.2.0), #number or sha256 prefix (default: the previous one)");
  auto [strategy_enable_cmd, strategy_enable] = strategy_call("enable", "Run a disabled or faulted strategy (token)");
  strategy_enable_cmd->add_option("--reason", strategy_enable->reason, "Why, for the journal");
  auto [strategy_disable_cmd, strategy_disable] =
      strategy_call("disable", "Stop a strategy's callbacks; its orders stay (token)");
  strategy_disable_cmd->add_option("--reason", strategy_disable->reason, "Why, for the journal");
  th::ChecklistCommandOptions checklist;
  auto* checklist_cmd =
      app.add_subcommand("checklist", "The latest 8-point entry checklist of a symbol, criterion by criterion");
  checklist_cmd->add_option("symbol", checklist.symbol, "The symbol, e.g. SPY")->required();
  checklist_cmd->add_option("--dir", checklist.direction, "long (calls, the default) or short (puts)")
      ->check(CLI::IsMember({"long", "short"}));
  api_options(checklist_cmd, checklist.call);
  th::ScreenCommandOptions screen;
  auto* screen_cmd = app.add_subcommand(
      "screen", "Run a strategy's screen now and show the ranked results (token: it runs strategy code)");
  screen_cmd->add_option("kind", screen.kind, "The screen: covered-call")
      ->required()
      ->check(CLI::IsMember({"covered-call"}));
  screen_cmd->add_option("--symbols", screen.symbols, "Underlyings, comma-separated (default: the strategy's)");
  screen_cmd->add_option("--strategy", screen.strategy, "The strategy id that answers (default covered_call)");
  api_options(screen_cmd, screen.call);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; anything else is bad input (exit 2, as
    // every command's own checks do), not CLI11's 1xx codes.
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (run_cmd->parsed()) return th::runCommand(run);
    if (list_cmd->parsed()) return th::pluginListCommand(list);
    if (inspect_cmd->parsed()) return th::pluginInspectCommand(inspect);
    if (check_cmd->parsed()) return th::pluginCheckCommand(check);
    if (validate_cmd->parsed()) return th::configValidateCommand(validate);
    if (show_cmd->parsed()) {
      std::cout << th::embeddedHostConfigText();
      return 0;
    }
    if (journal_cmd->parsed()) return th::journalCommand(journal);
    if (calendar_cmd->parsed()) return th::calendarCommand(calendar);
    if (submit_cmd->parsed()) return th::orderSubmitCommand(submit);
    if (cancel_cmd->parsed()) return th::orderCancelCommand(cancel);
    if (order_list_cmd->parsed()) return th::orderListCommand(order_list);
    if (order_show_cmd->parsed()) return th::orderShowCommand(order_show);
    if (positions_cmd->parsed()) return th::positionsCommand(positions);
    if (account_cmd->parsed()) return th::accountCommand(account);
    if (risk_cmd->parsed()) return th::riskCommand(risk);
    if (kill_cmd->parsed()) return th::killCommand(kill);
    if (resume_cmd->parsed()) return th::resumeCommand(resume);
    if (strategy_list_cmd->parsed()) return th::strategyListCommand(strategy_list);
    if (strategy_validate_cmd->parsed()) return th::strategyValidateCommand(strategy_validate);
    if (strategy_show_cmd->parsed()) return th::strategyShowCommand(*strategy_show);
    if (strategy_history_cmd->parsed()) return th::strategyHistoryCommand(*strategy_history);
    if (strategy_reload_cmd->parsed()) return th::strategyReloadCommand(*strategy_reload);
    if (strategy_rollback_cmd->parsed()) return th::strategyRollbackCommand(*strategy_rollback);
    if (strategy_enable_cmd->parsed()) return th::strategyEnableCommand(*strategy_enable, true);
    if (strategy_disable_cmd->parsed()) return th::strategyEnableCommand(*strategy_disable, false);
    if (checklist_cmd->parsed()) return th::checklistCommand(checklist);
    if (screen_cmd->parsed()) return th::screenCommand(screen);
    if (backtest_cmd->parsed()) return th::backtestCommand(backtest);
  } catch (const std::exception& e) {
    std::cerr << "tradehost: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
