// sdk/cpp catches every exception at the C boundary and turns it into a
// status and a message; the host sees codes, never a throw.
#include <gtest/gtest.h>

#include "support/plugin_harness.h"

namespace th {
namespace {

std::string throwingPlugin() { return std::string(TH_TEST_PLUGIN_DIR) + "/libthrowing_broker.so"; }

TEST(SdkHelpers, ExceptionsBecomeStatusesWithMessages) {
  test::RecordingHost host;
  test::LoadedPlugin plugin(throwingPlugin(), host);
  const auto& d = plugin.descriptor();
  ASSERT_EQ(d.kind, TH_KIND_BROKER);
  th_plugin* p = plugin.create("{}", host);
  char err[256];

  EXPECT_EQ(d.broker->connect(p, err, sizeof err), TH_ERR_INTERNAL);
  EXPECT_STREQ(err, "gateway unreachable");

  th_order_request order{};
  order.struct_size = sizeof order;
  EXPECT_EQ(d.broker->submit(p, &order, err, sizeof err), TH_ERR_REJECTED);
  EXPECT_STREQ(err, "insufficient margin");

  EXPECT_EQ(d.broker->cancel(p, "x", 1, err, sizeof err), TH_ERR_INTERNAL);
  EXPECT_STREQ(err, "unknown exception in plugin");

  th_account account{};
  account.struct_size = sizeof account;
  EXPECT_EQ(d.broker->account(p, &account, err, sizeof err), TH_ERR_INTERNAL);
  EXPECT_NE(std::string(err).find("bad_alloc"), std::string::npos) << err;

  // A message longer than the caller's buffer is truncated, still terminated.
  char tiny[8];
  EXPECT_EQ(d.broker->connect(p, tiny, sizeof tiny), TH_ERR_INTERNAL);
  EXPECT_STREQ(tiny, "gateway");
  d.destroy(p);
}

TEST(SdkHelpers, ConstructorExceptionFailsCreate) {
  test::RecordingHost host;
  test::LoadedPlugin plugin(throwingPlugin(), host);
  th_plugin* p = nullptr;
  char err[256];
  std::string config = R"({"fail_create": true})";
  EXPECT_EQ(plugin.descriptor().create(config.data(), static_cast<uint32_t>(config.size()), host.api(), host.ctx(), &p,
                                       err, sizeof err),
            TH_ERR_INTERNAL);
  EXPECT_EQ(p, nullptr);
  EXPECT_STREQ(err, "refusing to start: fail_create set");
}

TEST(SdkHelpers, EntryRefusesAnotherAbiMajor) {
  test::RecordingHost host;
  th_host_api newer = *host.api();
  newer.abi_major = TH_ABI_VERSION_MAJOR + 1;
  void* handle = dlopen(throwingPlugin().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr);
  auto entry = reinterpret_cast<th_plugin_entry_fn>(dlsym(handle, "th_plugin_entry"));
  th_plugin_descriptor d{};
  d.struct_size = sizeof d;
  char err[256];
  EXPECT_EQ(entry(&newer, &d, err, sizeof err), TH_ERR_ABI);
  EXPECT_NE(std::string(err).find("needs ABI major 1"), std::string::npos) << err;
  dlclose(handle);
}

// An older host with a smaller descriptor gets no more bytes than it has room for.
TEST(SdkHelpers, EntryWritesNoMoreThanTheHostsDescriptor) {
  test::RecordingHost host;
  void* handle = dlopen(throwingPlugin().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr);
  auto entry = reinterpret_cast<th_plugin_entry_fn>(dlsym(handle, "th_plugin_entry"));
  unsigned char buffer[sizeof(th_plugin_descriptor) + 16];
  std::memset(buffer, 0xAB, sizeof buffer);
  auto* d = reinterpret_cast<th_plugin_descriptor*>(buffer);
  d->struct_size = offsetof(th_plugin_descriptor, data);
  char err[256];
  ASSERT_EQ(entry(host.api(), d, err, sizeof err), TH_OK);
  EXPECT_EQ(d->struct_size, offsetof(th_plugin_descriptor, data));
  for (size_t i = offsetof(th_plugin_descriptor, data); i < sizeof buffer; ++i)
    ASSERT_EQ(buffer[i], 0xAB) << "byte " << i;
  dlclose(handle);
}

}  // namespace
}  // namespace th
