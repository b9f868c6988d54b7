// The data service's endpoints: GET /api/v1/data/channels (each request
// lane's stats), /api/v1/data/quality (issue counts per symbol) and
// /api/v1/data/subscriptions (what is subscribed at each provider, and for
// whom). They run on I/O threads and read only what DataService offers to
// any thread.
#pragma once

#include "api/api_server.h"

namespace th {

class DataService;

// `data` must outlive the server.
void registerDataRoutes(ApiServer& server, const DataService& data);

}  // namespace th
