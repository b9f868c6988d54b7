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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
  } catch (const std::exception& e) {
    std::cerr << "tradehost: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
