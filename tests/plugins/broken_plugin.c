/* One source, several deliberately broken plugins: each build defines one
 * BROKEN_* macro and fails the loader in exactly one way. */
#include <th/plugin.h>

#include <stdio.h>
#include <string.h>

/* Some variants never reach the tables below. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

static th_status noop(th_plugin* p, char* e, uint32_t c) {
  (void)p, (void)e, (void)c;
  return TH_OK;
}
static th_status noop_sub(th_plugin* p, const char* s, uint32_t n, uint32_t st, char* e, uint32_t c) {
  (void)p, (void)s, (void)n, (void)st, (void)e, (void)c;
  return TH_OK;
}
static th_status noop_history(th_plugin* p, const th_history_request* r, th_bar_sink sink, void* sc, char* e, uint32_t c) {
  (void)p, (void)r, (void)sink, (void)sc, (void)e, (void)c;
  return TH_OK;
}

static th_status create(const char* config, uint32_t len, const th_host_api* host, void* ctx, th_plugin** out,
                        char* err, uint32_t cap) {
  (void)config, (void)len, (void)host, (void)ctx;
#ifdef BROKEN_CREATE_ERROR
  (void)out;
  snprintf(err, cap, "config key 'endpoint' is required");
  return TH_ERR_INVALID_ARGUMENT;
#else
  (void)err, (void)cap;
  static int instance;
  *out = (th_plugin*)&instance;
  return TH_OK;
#endif
}
static void destroy(th_plugin* p) { (void)p; }

static th_status list_symbols(th_plugin* p, th_symbol_sink sink, void* sc, char* e, uint32_t c) {
  (void)p, (void)e, (void)c;
  sink(sc, "GHOST", 5);
  return TH_OK;
}

#ifdef BROKEN_CONNECT
/* Loads and creates, but its feed is never reachable. */
static th_status unreachable(th_plugin* p, char* e, uint32_t c) {
  (void)p;
  snprintf(e, c, "cannot reach feed.example.com:443: connection refused");
  return TH_ERR_IO;
}
#define CONNECT unreachable
#else
#define CONNECT noop
#endif

#ifdef BROKEN_OLD_MINOR
/* Built as a 1.1 plugin would be: its table ends before `symbols` (1.2). The
 * function after the end must never be called. */
static const th_data_api data_api = {offsetof(th_data_api, symbols), CONNECT, noop, noop_sub, noop_sub, noop_history,
                                     NULL, NULL, list_symbols};
#else
static const th_data_api data_api = {sizeof(th_data_api), CONNECT, noop, noop_sub, noop_sub, noop_history, NULL, NULL,
                                     list_symbols};
#endif

#ifdef BROKEN_NO_ENTRY
/* Exports something, but not th_plugin_entry. */
TH_EXPORT int th_plugin_entry_point_misspelled(void) { return 0; }
#else
TH_EXPORT th_status th_plugin_entry(const th_host_api* host, th_plugin_descriptor* out, char* err, uint32_t cap) {
  (void)host;
#ifdef BROKEN_INIT_ERROR
  (void)out;
  snprintf(err, cap, "license file /opt/vendor/license.key is missing");
  return TH_ERR_INTERNAL;
#else
  (void)err, (void)cap;
  th_plugin_descriptor d;
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.abi_major = TH_ABI_VERSION_MAJOR;
  d.abi_minor = TH_ABI_VERSION_MINOR;
  d.kind = TH_KIND_DATA;
  d.id = PLUGIN_ID;
  d.name = "Broken test plugin";
  d.version = "0.0.1";
  d.description = "";
  d.create = create;
  d.destroy = destroy;
  d.data = &data_api;
#ifdef BROKEN_ABI_MAJOR
  d.abi_major = TH_ABI_VERSION_MAJOR + 1;
  d.abi_minor = 0;
#endif
#ifdef BROKEN_OLD_MINOR
  d.abi_minor = 1;
#endif
#ifdef BROKEN_SMALL_DESCRIPTOR
  /* Claims a descriptor that ends before the function table pointers. */
  memcpy(out, &d, 24);
  out->struct_size = 24;
  return TH_OK;
#endif
  memcpy(out, &d, out->struct_size < sizeof d ? out->struct_size : sizeof d);
  return TH_OK;
#endif
}
#endif
