// A C++ broker built on sdk/cpp whose every call throws: the helpers must
// turn each exception into a status and a message, and nothing may escape
// across the C boundary.
#include <th/plugin.hpp>

#include <stdexcept>

namespace {

class ThrowingBroker final : public th::Broker {
 public:
  ThrowingBroker(th::Host host, std::string_view config) : th::Broker(host) {
    if (config.find("\"fail_create\"") != std::string_view::npos)
      throw std::runtime_error("refusing to start: fail_create set");
  }
  void connect() override { throw std::runtime_error("gateway unreachable"); }
  void disconnect() override {}
  void submit(const th_order_request&) override { throw th::Error(TH_ERR_REJECTED, "insufficient margin"); }
  void cancel(std::string_view) override { throw 42; }  // not even an exception type
  void openOrders(th_order_sink, void*) override { throw std::logic_error("open orders unavailable"); }
  void positions(th_position_sink, void*) override {}
  void fills(int64_t, th_fill_sink, void*) override {}
  void account(th_account&) override { throw std::bad_alloc(); }
};

}  // namespace

TH_BROKER_PLUGIN(ThrowingBroker, "throwing", "Throwing broker (test)", "1.0.0", "Every call throws", 0)
