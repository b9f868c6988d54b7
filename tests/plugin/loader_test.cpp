// The loader against real shared libraries, broken on purpose: every failure
// must name the file and the reason, and a good plugin must load.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "plugin/conformance.h"
#include "plugin/plugin.h"

namespace th {
namespace {

std::string testPlugin(const std::string& name) { return std::string(TH_TEST_PLUGIN_DIR) + "/lib" + name + ".so"; }

class NullSink final : public PluginEventSink {
 public:
  void post(uint16_t, EventPayload&&) override {}
  int64_t nowNs() const override { return 0; }
  void log(const std::string&, int32_t, std::string_view) override {}
};

std::string loadError(const std::string& path) {
  auto result = PluginLibrary::load(path);
  EXPECT_FALSE(result) << path << " loaded but should not have";
  return result ? std::string() : result.error().message;
}

TEST(PluginLoader, MissingFileIsNamed) {
  auto message = loadError("/nonexistent/libnothing.so");
  EXPECT_NE(message.find("/nonexistent/libnothing.so"), std::string::npos) << message;
  EXPECT_NE(message.find("file not found"), std::string::npos) << message;
}

TEST(PluginLoader, TextFileIsNotASharedObject) {
  auto message = loadError(testPlugin("not_elf"));
  EXPECT_NE(message.find("libnot_elf.so"), std::string::npos) << message;
  EXPECT_NE(message.find("not a shared object"), std::string::npos) << message;
}

// A copy cut short, as by a full disk: loading it would map segments past
// the end of the file (a SIGBUS inside dlopen), so the headers are checked
// first and the error says what is missing.
TEST(PluginLoader, TruncatedElfIsRefusedBeforeItIsMapped) {
  std::ifstream in(std::string(TH_PLUGIN_DIR) + "/libpaper.so", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 100'000u);
  auto path = std::filesystem::temp_directory_path() / "th_truncated_plugin.so";
  for (size_t keep : {size_t{40}, size_t{64}, bytes.size() / 2, bytes.size() / 10}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, keep);
    auto message = loadError(path.string());
    EXPECT_NE(message.find("th_truncated_plugin.so"), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << keep << " bytes: " << message;
  }
  std::filesystem::remove(path);
}

TEST(PluginLoader, MissingEntrySymbol) {
  auto message = loadError(testPlugin("broken_no_entry"));
  EXPECT_NE(message.find("libbroken_no_entry.so"), std::string::npos) << message;
  EXPECT_NE(message.find("no th_plugin_entry"), std::string::npos) << message;
}

TEST(PluginLoader, AbiMajorMismatch) {
  auto message = loadError(testPlugin("broken_abi_major"));
  EXPECT_NE(message.find("ABI major mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find("ABI 2.0"), std::string::npos) << message;
}

TEST(PluginLoader, DescriptorTooSmall) {
  auto message = loadError(testPlugin("broken_small_descriptor"));
  EXPECT_NE(message.find("descriptor struct too small: 24 bytes"), std::string::npos) << message;
}

TEST(PluginLoader, PluginsOwnInitError) {
  auto message = loadError(testPlugin("broken_init_error"));
  EXPECT_NE(message.find("license file /opt/vendor/license.key is missing"), std::string::npos) << message;
}

TEST(PluginLoader, PluginsOwnCreateErrorThroughRegistry) {
  NullSink sink;
  PluginRegistry registry(sink);
  auto result = registry.add("feed", testPlugin("broken_create_error"), "{}");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("failed to start"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("config key 'endpoint' is required"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(registry.all().empty());
}

// A data table of ABI 1.2 may list its symbols; one built against 1.1 ends
// before that slot, and the host reads nothing past a table's size.
TEST(PluginLoader, SymbolListIsOfferedOnlyInsideTheTablesSize) {
  NullSink sink;
  PluginRegistry registry(sink);
  auto current = registry.add("current", testPlugin("twin_a"), "{}");
  ASSERT_TRUE(current) << current.error().message;
  auto listed = (*current)->symbols();
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(*listed, std::vector<std::string>{"GHOST"});
  auto old = registry.add("old", testPlugin("broken_old_minor"), "{}");
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ((*old)->info().abi_minor, 1);
  const auto& functions = (*old)->info().functions;
  EXPECT_EQ(std::find(functions.begin(), functions.end(), "symbols"), functions.end());
  auto none = (*old)->symbols();
  ASSERT_FALSE(none) << "read a function past the end of a 1.1 table";
  EXPECT_EQ(none.error().message, "plugin 'old' cannot list its symbols");
}

TEST(PluginLoader, DuplicateIdIsRefused) {
  NullSink sink;
  PluginRegistry registry(sink);
  ASSERT_TRUE(registry.add("twin", testPlugin("twin_a"), "{}"));
  auto same_config_id = registry.add("twin", testPlugin("twin_b"), "{}");
  ASSERT_FALSE(same_config_id);
  EXPECT_NE(same_config_id.error().message.find("duplicate plugin id 'twin'"), std::string::npos);
  auto same_declared_id = registry.add("twin2", testPlugin("twin_b"), "{}");
  ASSERT_FALSE(same_declared_id);
  EXPECT_NE(same_declared_id.error().message.find("duplicate plugin id 'twin'"), std::string::npos);
  EXPECT_NE(same_declared_id.error().message.find("libtwin_a.so"), std::string::npos)
      << same_declared_id.error().message;
  EXPECT_EQ(registry.all().size(), 1u);
}

TEST(PluginLoader, GoodPluginDescribesItself) {
  auto library = PluginLibrary::load(testPlugin("minimal_broker"));
  ASSERT_TRUE(library) << library.error().message;
  const auto& info = (*library)->info();
  EXPECT_EQ(info.id, "minimal_broker");
  EXPECT_EQ(info.kind, TH_KIND_BROKER);
  EXPECT_EQ(info.abi_major, TH_ABI_VERSION_MAJOR);
  EXPECT_EQ(info.descriptor_size, sizeof(th_plugin_descriptor));
}

// The tutorial plugin of docs/plugins.md passes every step of the
// conformance kit that a broker without a market can.
TEST(PluginConformance, TutorialBrokerPasses) {
  auto report = checkPlugin(testPlugin("minimal_broker"), "{}", "SPY", 0);
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& step : report->steps) {
    EXPECT_NE(step.outcome, CheckStep::Outcome::Fail) << step.name << ": " << step.detail;
  }
  EXPECT_TRUE(report->passed());
  EXPECT_GE(report->steps.size(), 9u);
}

TEST(PluginConformance, FailingPluginFailsTheCheck) {
  auto report = checkPlugin(testPlugin("throwing_broker"), "{}", "SPY", 0);
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->passed());
  ASSERT_GE(report->steps.size(), 2u);
  EXPECT_EQ(report->steps[1].name, "connect");
  EXPECT_EQ(report->steps[1].outcome, CheckStep::Outcome::Fail);
  EXPECT_NE(report->steps[1].detail.find("gateway unreachable"), std::string::npos) << report->steps[1].detail;
}

// The tutorial in docs/plugins.md shows the example file verbatim, so the
// code a reader copies is the code this suite compiles and loads.
TEST(PluginDocs, TutorialShowsTheTestedSource) {
  std::ifstream doc(std::string(TH_SOURCE_DIR) + "/docs/plugins.md");
  std::ifstream example(std::string(TH_SOURCE_DIR) + "/docs/examples/minimal_broker.c");
  ASSERT_TRUE(doc && example);
  std::string doc_text((std::istreambuf_iterator<char>(doc)), {});
  std::string example_text((std::istreambuf_iterator<char>(example)), {});
  EXPECT_NE(doc_text.find(example_text), std::string::npos)
      << "docs/plugins.md must contain docs/examples/minimal_broker.c verbatim";
}

}  // namespace
}  // namespace th
