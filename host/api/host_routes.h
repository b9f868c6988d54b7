// The host's own endpoints: health, metrics, plugins and the journal. The
// session provides the data through HostView; these routes only shape it.
#pragma once

#include <functional>
#include <string>

#include "api/api_server.h"
#include "core/error.h"

namespace th {

class HostView {
 public:
  virtual ~HostView() = default;
  virtual std::string healthJson() const = 0;   // GET /api/v1/health
  virtual std::string metricsText() const = 0;  // GET /metrics (Prometheus text format)
  virtual std::string pluginsJson() const = 0;  // GET /api/v1/plugins
  // POST /api/v1/plugins/{id}/connect|disconnect. The call may block on the
  // plugin, so it answers through `done` (any thread); the error names what failed.
  virtual void setPluginConnected(const std::string& id, bool connected,
                                  std::function<void(Result<std::string>)> done) = 0;
  // GET /api/v1/journal?from_seq=&limit=&kind=
  virtual Result<std::string> journalJson(uint64_t from_seq, size_t limit, const std::string& kind) const = 0;
};

void registerHostRoutes(ApiServer& server, HostView& host);

}  // namespace th
