/* minimal_broker.c — a complete tradehost broker plugin in plain C.
 *
 * It keeps orders in memory: every valid order is accepted and rests until
 * it is canceled (it never fills — there is no market behind it). That is
 * enough to pass the parts of `tradehost plugin check` a venue-less broker
 * can: submit, duplicate client id, cancel, reject, disconnect, reconnect.
 *
 * Build: cc -shared -fPIC -I sdk/include minimal_broker.c -o libminimal_broker.so
 */
#include <th/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ORDERS 256
#define ID_CAP 64

typedef struct order {
  char client_id[ID_CAP];
  char symbol[32];
  th_order_request request; /* pointers inside are not kept; see copy_order */
  int32_t status;
} order;

/* The instance: th_plugin is opaque to the host, so any struct will do. */
struct th_plugin {
  const th_host_api* host;
  void* host_ctx;
  int connected;
  int count;
  order orders[MAX_ORDERS];
};

static void set_error(char* err, uint32_t cap, const char* message) {
  if (err && cap > 0) snprintf(err, cap, "%s", message);
}

static order* find_order(th_plugin* p, const char* id, uint32_t len) {
  for (int i = 0; i < p->count; ++i) {
    if (strlen(p->orders[i].client_id) == len && memcmp(p->orders[i].client_id, id, len) == 0) return &p->orders[i];
  }
  return NULL;
}

/* Tell the host about an order's state (the host copies what it needs). */
static void report(th_plugin* p, const order* o, const char* reason) {
  th_order_state s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  s.client_order_id = o->client_id;
  s.client_order_id_len = (uint32_t)strlen(o->client_id);
  s.broker_order_id = o->client_id;
  s.broker_order_id_len = s.client_order_id_len;
  s.symbol = o->symbol;
  s.symbol_len = (uint32_t)strlen(o->symbol);
  s.asset_class = o->request.asset_class;
  s.side = o->request.side;
  s.type = o->request.type;
  s.time_in_force = o->request.time_in_force;
  s.status = o->status;
  s.quantity = o->request.quantity;
  s.limit_price = o->request.limit_price;
  s.stop_price = o->request.stop_price;
  s.ts_ns = p->host->now_ns(p->host_ctx);
  s.reason = reason;
  s.reason_len = (uint32_t)strlen(reason);
  p->host->on_order(p->host_ctx, &s);
}

static th_status mb_connect(th_plugin* p, char* err, uint32_t cap) {
  (void)err;
  (void)cap;
  p->connected = 1;
  p->host->on_connection(p->host_ctx, TH_CONN_CONNECTED, "", 0);
  return TH_OK;
}

static th_status mb_disconnect(th_plugin* p, char* err, uint32_t cap) {
  (void)err;
  (void)cap;
  p->connected = 0;
  p->host->on_connection(p->host_ctx, TH_CONN_DISCONNECTED, "", 0);
  return TH_OK;
}

static th_status mb_submit(th_plugin* p, const th_order_request* in, char* err, uint32_t cap) {
  /* Copy by the size the host declared, into a zeroed struct of ours. */
  th_order_request r;
  memset(&r, 0, sizeof r);
  memcpy(&r, in, in->struct_size < sizeof r ? in->struct_size : sizeof r);

  if (!p->connected) {
    set_error(err, cap, "not connected");
    return TH_ERR_NOT_CONNECTED;
  }
  if (r.client_order_id_len == 0 || r.client_order_id_len >= ID_CAP || r.symbol_len == 0 || r.symbol_len >= 32) {
    set_error(err, cap, "client_order_id and symbol are required");
    return TH_ERR_INVALID_ARGUMENT;
  }
  if (find_order(p, r.client_order_id, r.client_order_id_len)) {
    set_error(err, cap, "duplicate client order id");
    return TH_ERR_DUPLICATE;
  }
  if (p->count == MAX_ORDERS) {
    set_error(err, cap, "order table full");
    return TH_ERR_REJECTED;
  }
  order* o = &p->orders[p->count++];
  memcpy(o->client_id, r.client_order_id, r.client_order_id_len);
  o->client_id[r.client_order_id_len] = '\0';
  memcpy(o->symbol, r.symbol, r.symbol_len);
  o->symbol[r.symbol_len] = '\0';
  o->request = r;
  o->request.client_order_id = NULL; /* the host's strings die after the call */
  o->request.symbol = NULL;

  const char* problem = NULL;
  if (r.quantity <= 0) problem = "quantity must be positive";
  else if (r.type == TH_ORDER_MARKET) problem = "market orders need a market; this broker has none";
  else if (r.type == TH_ORDER_LIMIT && r.limit_price <= 0) problem = "limit order without a limit price";
  if (problem) {
    o->status = TH_STATUS_REJECTED;
    report(p, o, problem);
    set_error(err, cap, problem);
    return TH_ERR_REJECTED;
  }
  o->status = TH_STATUS_ACCEPTED;
  report(p, o, "");
  return TH_OK;
}

static th_status mb_cancel(th_plugin* p, const char* id, uint32_t len, char* err, uint32_t cap) {
  if (!p->connected) {
    set_error(err, cap, "not connected");
    return TH_ERR_NOT_CONNECTED;
  }
  order* o = find_order(p, id, len);
  if (!o || o->status != TH_STATUS_ACCEPTED) {
    set_error(err, cap, "no open order with that client order id");
    return TH_ERR_NOT_FOUND;
  }
  o->status = TH_STATUS_CANCELED;
  report(p, o, "canceled on request");
  return TH_OK;
}

static th_status mb_open_orders(th_plugin* p, th_order_sink sink, void* ctx, char* err, uint32_t cap) {
  (void)err;
  (void)cap;
  for (int i = 0; i < p->count; ++i) {
    const order* o = &p->orders[i];
    if (o->status != TH_STATUS_ACCEPTED) continue;
    th_order_state s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.client_order_id = o->client_id;
    s.client_order_id_len = (uint32_t)strlen(o->client_id);
    s.symbol = o->symbol;
    s.symbol_len = (uint32_t)strlen(o->symbol);
    s.side = o->request.side;
    s.type = o->request.type;
    s.status = o->status;
    s.quantity = o->request.quantity;
    s.limit_price = o->request.limit_price;
    sink(ctx, &s);
  }
  return TH_OK;
}

/* Nothing ever fills, so there are no positions and no fills to list. */
static th_status mb_positions(th_plugin* p, th_position_sink sink, void* ctx, char* err, uint32_t cap) {
  (void)p, (void)sink, (void)ctx, (void)err, (void)cap;
  return TH_OK;
}

static th_status mb_fills(th_plugin* p, int64_t since, th_fill_sink sink, void* ctx, char* err, uint32_t cap) {
  (void)p, (void)since, (void)sink, (void)ctx, (void)err, (void)cap;
  return TH_OK;
}

static th_status mb_account(th_plugin* p, th_account* out, char* err, uint32_t cap) {
  (void)p, (void)err, (void)cap;
  th_account a;
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  snprintf(a.account_id, sizeof a.account_id, "minimal");
  snprintf(a.currency, sizeof a.currency, "USD");
  a.cash = a.equity = a.buying_power = 100000.0;
  /* Write no more than the host's struct holds. */
  uint32_t size = out->struct_size < sizeof a ? out->struct_size : (uint32_t)sizeof a;
  memcpy(out, &a, size);
  out->struct_size = size;
  return TH_OK;
}

static th_status mb_create(const char* config, uint32_t config_len, const th_host_api* host, void* host_ctx,
                           th_plugin** out, char* err, uint32_t cap) {
  (void)config;
  (void)config_len;
  th_plugin* p = calloc(1, sizeof *p);
  if (!p) {
    set_error(err, cap, "out of memory");
    return TH_ERR_INTERNAL;
  }
  p->host = host;
  p->host_ctx = host_ctx;
  *out = p;
  return TH_OK;
}

static void mb_destroy(th_plugin* p) { free(p); }

static const th_broker_api broker_api = {
    sizeof(th_broker_api), /* struct_size */
    0,                     /* capabilities: none */
    mb_connect,   mb_disconnect, mb_submit, mb_cancel,
    NULL,                  /* replace: not offered */
    mb_open_orders, mb_positions, mb_fills, mb_account,
    NULL, NULL, NULL       /* no market feed */
};

TH_EXPORT th_status th_plugin_entry(const th_host_api* host, th_plugin_descriptor* out, char* err, uint32_t cap) {
  if (host->abi_major != TH_ABI_VERSION_MAJOR) {
    set_error(err, cap, "minimal_broker is built for ABI major 1");
    return TH_ERR_ABI;
  }
  th_plugin_descriptor d;
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.abi_major = TH_ABI_VERSION_MAJOR;
  d.abi_minor = TH_ABI_VERSION_MINOR;
  d.kind = TH_KIND_BROKER;
  d.id = "minimal_broker";
  d.name = "Minimal broker (tutorial)";
  d.version = "1.0.0";
  d.description = "Accepts orders and holds them until canceled";
  d.create = mb_create;
  d.destroy = mb_destroy;
  d.broker = &broker_api;
  uint32_t size = out->struct_size < sizeof d ? out->struct_size : (uint32_t)sizeof d;
  memcpy(out, &d, size);
  out->struct_size = size;
  return TH_OK;
}
