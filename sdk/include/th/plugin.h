/*
 * tradehost plugin ABI — the one contract between the host and a plugin.
 *
 * A plugin is a shared library that exports one C symbol, th_plugin_entry.
 * The host calls it once after loading the library, passing the host API
 * table; the plugin fills a descriptor that names it and points at its
 * function table (data provider or broker).
 *
 * Rules of the boundary
 * - C only: fixed-width integers, doubles, `const char*` + length, opaque
 *   handles. No exceptions may cross it (sdk/cpp catches them for you).
 * - Every struct that crosses starts with `uint32_t struct_size`, set by the
 *   side that fills it to sizeof(the struct it was compiled with). The reader
 *   copies at most that many bytes into a zeroed struct of its own and checks
 *   that a field lies inside struct_size before reading it (TH_HAS_FIELD), so
 *   a newer host runs an older plugin and the reverse. Fields are only ever
 *   appended; each is marked with the ABI minor version that added it.
 * - Version negotiation: a different major version is refused by either side;
 *   an equal or higher minor is accepted. Host functions added in a later minor
 *   are NULL in an older host; a plugin checks before calling them.
 * - Errors are th_status codes. Functions that can fail take `char* err,
 *   uint32_t err_cap`: a buffer owned by the caller into which the callee
 *   writes a NUL-terminated message (truncated to err_cap - 1 bytes). err may
 *   be NULL when err_cap is 0.
 * - Strings passed as `const char*` + length are NOT NUL-terminated unless
 *   stated; they are owned by the caller and valid only during the call. Copy
 *   what you keep.
 * - Timestamps are int64 nanoseconds since the Unix epoch, UTC.
 * - Prices are doubles in the instrument's currency per unit (per share; per
 *   option contract unit — the multiplier is applied by the host).
 *
 * Threads
 * - th_plugin_entry, create and destroy are called on the host's start-up
 *   thread. Every other plugin function may be called from any host thread,
 *   but the host never calls into one plugin instance from two threads at once
 *   unless that function is documented "concurrent" below.
 * - Host callbacks (th_host_api) may be called from any thread the plugin owns
 *   and from inside any plugin function. They copy what they need and never
 *   call back into the plugin. on_order, on_fill, on_connection and log
 *   return at once. on_trade, on_quote and on_bar may wait while the host's
 *   queue is full: that is the back-pressure that slows a replay at full
 *   speed to what the host can process. So do not hold a lock that your
 *   other functions need (disconnect in particular) while delivering data.
 */
#ifndef TH_PLUGIN_H
#define TH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TH_ABI_VERSION_MAJOR 1
#define TH_ABI_VERSION_MINOR 4

#if defined(_WIN32)
#define TH_EXPORT __declspec(dllexport)
#else
#define TH_EXPORT __attribute__((visibility("default")))
#endif

/* True when `field` of struct `type` lies inside the `struct_size` bytes the
 * other side declared for `ptr`. */
#define TH_HAS_FIELD(type, ptr, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---------------------------------------------------------------- status -- */

typedef int32_t th_status;
enum {
  TH_OK = 0,
  TH_ERR_INVALID_ARGUMENT = 1, /* a bad parameter; the message names it */
  TH_ERR_NOT_CONNECTED = 2,    /* call needs connect() first, or the link dropped */
  TH_ERR_NOT_SUPPORTED = 3,    /* the plugin does not offer this */
  TH_ERR_NOT_FOUND = 4,        /* unknown symbol, order, ... */
  TH_ERR_DUPLICATE = 5,        /* e.g. a client order id seen before */
  TH_ERR_REJECTED = 6,         /* the venue refused (the message says why) */
  TH_ERR_IO = 7,               /* network or file failure */
  TH_ERR_INTERNAL = 8,         /* a bug or an unexpected exception */
  TH_ERR_ABI = 9               /* version or struct-size mismatch */
};

enum { TH_LOG_DEBUG = 0, TH_LOG_INFO = 1, TH_LOG_WARN = 2, TH_LOG_ERROR = 3 };

/* ------------------------------------------------------------ market data -- */

enum { TH_ASSET_EQUITY = 1, TH_ASSET_OPTION = 2 };

/* Streams a data subscription can ask for (bit mask). */
enum { TH_STREAM_TRADES = 1u << 0, TH_STREAM_QUOTES = 1u << 1, TH_STREAM_BARS_1M = 1u << 2 };

typedef struct th_trade {
  uint32_t struct_size;
  const char* symbol; /* 1.0 */
  uint32_t symbol_len; /* 1.0 */
  int64_t ts_ns;       /* 1.0 exchange time of the trade */
  double price;        /* 1.0 */
  double size;         /* 1.0 shares or contracts */
  uint64_t sequence;   /* 1.0 provider sequence number, 0 if none */
} th_trade;

typedef struct th_quote {
  uint32_t struct_size;
  const char* symbol; /* 1.0 */
  uint32_t symbol_len; /* 1.0 */
  int64_t ts_ns;       /* 1.0 */
  double bid;          /* 1.0 */
  double ask;          /* 1.0 */
  double bid_size;     /* 1.0 */
  double ask_size;     /* 1.0 */
} th_quote;

/* Bar flags. */
enum {
  TH_BAR_FINAL = 1u << 0,   /* the period is closed; the bar will not change */
  TH_BAR_HISTORY = 1u << 1  /* came from a history request, not the live feed */
};

typedef struct th_bar {
  uint32_t struct_size;
  const char* symbol;  /* 1.0 */
  uint32_t symbol_len; /* 1.0 */
  uint32_t flags;      /* 1.0 TH_BAR_* */
  int64_t start_ns;    /* 1.0 period start */
  int64_t duration_ns; /* 1.0 60e9 for 1-minute bars */
  double open;         /* 1.0 */
  double high;         /* 1.0 */
  double low;          /* 1.0 */
  double close;        /* 1.0 */
  double volume;       /* 1.0 */
  double vwap;         /* 1.0 0 when unknown */
  uint64_t trade_count; /* 1.0 0 when unknown */
} th_bar;

typedef struct th_history_request {
  uint32_t struct_size;
  const char* symbol;  /* 1.0 */
  uint32_t symbol_len; /* 1.0 */
  int64_t from_ns;     /* 1.0 inclusive: first bar start */
  int64_t to_ns;       /* 1.0 exclusive */
  int64_t duration_ns; /* 1.0 bar size; v1 hosts ask for 60e9 only */
} th_history_request;

enum { TH_OPTION_CALL = 1, TH_OPTION_PUT = 2 };

typedef struct th_option_quote {
  uint32_t struct_size;
  const char* symbol;     /* 1.0 OCC symbol, e.g. "SPY261120C00590000" */
  uint32_t symbol_len;    /* 1.0 */
  const char* underlying; /* 1.0 */
  uint32_t underlying_len; /* 1.0 */
  int32_t right;          /* 1.0 TH_OPTION_CALL / TH_OPTION_PUT */
  int32_t expiry_yyyymmdd; /* 1.0 e.g. 20261120 */
  double strike;          /* 1.0 */
  int64_t ts_ns;          /* 1.0 time of the snapshot */
  double bid;             /* 1.0 */
  double ask;             /* 1.0 */
  double last;            /* 1.0 0 when none */
  double volume;          /* 1.0 contracts traded today */
  double open_interest;   /* 1.0 */
  double implied_vol;     /* 1.0 annualised, 0 when unknown */
  double delta;           /* 1.0 NaN when the provider has no greeks */
  double gamma;           /* 1.0 NaN when unknown */
  double theta;           /* 1.0 per calendar day; NaN when unknown */
  double vega;            /* 1.0 per 1.00 of volatility; NaN when unknown */
  double underlying_price; /* 1.0 spot used for the snapshot */
} th_option_quote;

typedef struct th_instrument {
  uint32_t struct_size;
  char symbol[32];       /* 1.0 NUL-terminated */
  char name[96];         /* 1.0 NUL-terminated, may be empty */
  char exchange[16];     /* 1.0 NUL-terminated, may be empty */
  int32_t asset_class;   /* 1.0 TH_ASSET_* */
  double tick_size;      /* 1.0 */
  double multiplier;     /* 1.0 1 for equities, 100 for standard options */
  int32_t shortable;     /* 1.0 0 or 1 */
} th_instrument;

/* ----------------------------------------------------------------- orders -- */

enum { TH_SIDE_BUY = 1, TH_SIDE_SELL = 2 };
enum { TH_ORDER_MARKET = 1, TH_ORDER_LIMIT = 2, TH_ORDER_STOP = 3, TH_ORDER_STOP_LIMIT = 4 };
enum { TH_TIF_DAY = 1, TH_TIF_GTC = 2, TH_TIF_IOC = 3, TH_TIF_FOK = 4 };
enum { TH_CLASS_SIMPLE = 1, TH_CLASS_BRACKET = 2, TH_CLASS_OCO = 3, TH_CLASS_OTO = 4 };

enum {
  TH_STATUS_PENDING_NEW = 1,
  TH_STATUS_ACCEPTED = 2,
  TH_STATUS_PARTIALLY_FILLED = 3,
  TH_STATUS_FILLED = 4,
  TH_STATUS_CANCELED = 5,
  TH_STATUS_REJECTED = 6,
  TH_STATUS_EXPIRED = 7,
  TH_STATUS_PENDING_CANCEL = 8,
  TH_STATUS_PENDING_REPLACE = 9,
  TH_STATUS_REPLACED = 10
};

typedef struct th_order_request {
  uint32_t struct_size;
  const char* client_order_id;  /* 1.0 unique per account; assigned by the host */
  uint32_t client_order_id_len; /* 1.0 */
  const char* symbol;           /* 1.0 equity ticker or OCC option symbol */
  uint32_t symbol_len;          /* 1.0 */
  int32_t asset_class;          /* 1.0 TH_ASSET_* */
  int32_t side;                 /* 1.0 TH_SIDE_* */
  int32_t type;                 /* 1.0 TH_ORDER_* */
  int32_t time_in_force;        /* 1.0 TH_TIF_* */
  int32_t order_class;          /* 1.0 TH_CLASS_*; only sent to brokers with the capability */
  double quantity;              /* 1.0 shares or contracts, > 0 */
  double limit_price;           /* 1.0 LIMIT and STOP_LIMIT */
  double stop_price;            /* 1.0 STOP and STOP_LIMIT */
  double take_profit_price;     /* 1.0 BRACKET / OCO / OTO legs, 0 = none */
  double stop_loss_price;       /* 1.0 */
  double stop_loss_limit_price; /* 1.0 0 = stop-loss leg is a stop-market */
  /* 1.1, BRACKET and OTO at a broker with TH_BROKER_NATIVE_EXITS: legs set
   * from the entry's average fill price instead of a fixed price (0 = none;
   * a leg has a price or an offset, not both). */
  double take_profit_offset; /* 1.1 target = fill + offset (buy entry), fill - offset (sell) */
  double stop_loss_offset;   /* 1.1 stop = fill - offset (buy entry), fill + offset (sell) */
  /* 1.1 time exit: at this time the position is closed at the market and the
   * other legs are canceled. Bar-driven simulators close at the close of the
   * bar that ends at or after it, after that bar's stop and target checks.
   * 0 = none. */
  int64_t exit_at_ns;
  /* 1.1 target at this multiple of the risk taken: fill + m × (fill − stop)
   * for a buy entry (mirrored for a sell); needs a stop-loss. 0 = none. */
  double take_profit_risk_multiple;
} th_order_request;

/* An order's state, as reported by update callbacks and by open_orders(). */
typedef struct th_order_state {
  uint32_t struct_size;
  const char* client_order_id;  /* 1.0 */
  uint32_t client_order_id_len; /* 1.0 */
  const char* broker_order_id;  /* 1.0 the venue's id, may be empty */
  uint32_t broker_order_id_len; /* 1.0 */
  const char* symbol;           /* 1.0 */
  uint32_t symbol_len;          /* 1.0 */
  int32_t asset_class;          /* 1.0 */
  int32_t side;                 /* 1.0 */
  int32_t type;                 /* 1.0 */
  int32_t time_in_force;        /* 1.0 */
  int32_t status;               /* 1.0 TH_STATUS_* */
  double quantity;              /* 1.0 */
  double filled_quantity;       /* 1.0 cumulative */
  double average_fill_price;    /* 1.0 0 before the first fill */
  double limit_price;           /* 1.0 */
  double stop_price;            /* 1.0 */
  int64_t ts_ns;                /* 1.0 time of this state */
  const char* reason;           /* 1.0 why (rejects, cancels, expiry); may be empty */
  uint32_t reason_len;          /* 1.0 */
} th_order_state;

typedef struct th_fill {
  uint32_t struct_size;
  const char* fill_id;          /* 1.0 unique per broker; repeated reports are dropped by it */
  uint32_t fill_id_len;         /* 1.0 */
  const char* client_order_id;  /* 1.0 */
  uint32_t client_order_id_len; /* 1.0 */
  const char* broker_order_id;  /* 1.0 */
  uint32_t broker_order_id_len; /* 1.0 */
  const char* symbol;           /* 1.0 */
  uint32_t symbol_len;          /* 1.0 */
  int32_t asset_class;          /* 1.0 */
  int32_t side;                 /* 1.0 */
  double quantity;              /* 1.0 this fill only */
  double price;                 /* 1.0 */
  double commission;            /* 1.0 in account currency, >= 0 */
  double multiplier;            /* 1.0 1 for equities, 100 for standard options */
  int64_t ts_ns;                /* 1.0 */
  /* 1.3 TH_FILL_*: a trade (0, what every fill of an older plugin reads as),
   * or something the venue books without an order at an option's expiry. An
   * activity has an empty client_order_id, commission 0, and reduces or
   * closes a position that exists; it never opens one in the contract. */
  int32_t activity;
  /* 1.3 for the shares an exercise or assignment delivers: the OCC symbol of
   * the contract that delivered them (empty otherwise). They are reported
   * before the fill that closes the contract, so the holders of the contract
   * are known when the shares arrive. */
  const char* contract;
  uint32_t contract_len; /* 1.3 */
} th_fill;

/* th_fill.activity (1.3). At expiry a contract in the money by 0.01 or more
 * is exercised (held long) or assigned (held short): the shares move at the
 * strike (symbol = the contract's root, asset TH_ASSET_EQUITY, quantity =
 * contracts x multiplier, side buy for a long call or a short put, sell for a
 * long put or a short call), then the contract closes at price 0. Out of the
 * money it expires: the contract closes at price 0. */
enum { TH_FILL_TRADE = 0, TH_FILL_EXPIRED = 1, TH_FILL_EXERCISED = 2, TH_FILL_ASSIGNED = 3 };

typedef struct th_position {
  uint32_t struct_size;
  const char* symbol;   /* 1.0 */
  uint32_t symbol_len;  /* 1.0 */
  int32_t asset_class;  /* 1.0 */
  double quantity;      /* 1.0 signed: negative is short */
  double average_price; /* 1.0 */
  double multiplier;    /* 1.0 */
} th_position;

typedef struct th_account {
  uint32_t struct_size;
  char account_id[64]; /* 1.0 NUL-terminated */
  char currency[8];    /* 1.0 NUL-terminated, e.g. "USD" */
  double cash;         /* 1.0 */
  double equity;       /* 1.0 cash + marked positions */
  double buying_power; /* 1.0 */
  double commissions;  /* 1.0 paid since the account began */
} th_account;

/* Broker capabilities (bit mask). */
enum {
  TH_BROKER_NATIVE_BRACKET = 1u << 0, /* accepts TH_CLASS_BRACKET itself */
  TH_BROKER_NATIVE_OCO = 1u << 1,     /* accepts TH_CLASS_OCO and TH_CLASS_OTO */
  TH_BROKER_OPTIONS = 1u << 2,        /* trades TH_ASSET_OPTION */
  TH_BROKER_SHORTING = 1u << 3,       /* allows selling equities short */
  TH_BROKER_REPLACE = 1u << 4,        /* implements replace() */
  TH_BROKER_MARKET_FEED = 1u << 5,    /* a simulator: wants on_quote/on_trade/on_bar */
  /* 1.1: accepts TH_CLASS_BRACKET and TH_CLASS_OTO itself with the 1.1 exit
   * fields; holds the legs until the entry has filled (all of it, or what
   * filled when the rest ends), sizes them to the fill, and reports each as
   * its own order with the client order id "<entry id>.tp" (take-profit
   * limit), ".sl" (stop-loss) or ".tx" (time exit, market). A leg that fills
   * reduces the others by the same quantity and cancels them at zero. */
  TH_BROKER_NATIVE_EXITS = 1u << 6
};

/* Connection states reported through th_host_api.on_connection. */
enum { TH_CONN_DISCONNECTED = 0, TH_CONN_CONNECTING = 1, TH_CONN_CONNECTED = 2, TH_CONN_FAILED = 3 };

/* One regular session of the exchange, from the host's calendar (1.4). The
 * host writes at most struct_size bytes: set it to sizeof before the call. */
enum { TH_SESSION_EARLY_CLOSE = 1u << 0 };
typedef struct th_session {
  uint32_t struct_size;
  int32_t date;     /* 1.4 exchange date yyyymmdd (America/New_York) */
  int64_t open_ns;  /* 1.4 the open (09:30 New York), UTC */
  int64_t close_ns; /* 1.4 the close (16:00, or 13:00 on an early close), UTC */
  uint32_t flags;   /* 1.4 TH_SESSION_* */
} th_session;

/* ------------------------------------------------------------- host API -- */

/* The host's table, given to th_plugin_entry and to create(). It stays valid
 * until the plugin's last instance is destroyed. `host_ctx` is the value the
 * host passed to create(); hand it back unchanged. All callbacks may be called
 * from any thread and from inside plugin functions, never NULL in a 1.0 host. */
typedef struct th_host_api {
  uint32_t struct_size;
  uint16_t abi_major; /* 1.0 */
  uint16_t abi_minor; /* 1.0 */
  /* Log a message (not NUL-terminated) at a TH_LOG_* level. */
  void (*log)(void* host_ctx, int32_t level, const char* msg, uint32_t len); /* 1.0 */
  /* The host clock: wall time live, simulated time in a simulation. A
   * simulated data plugin emits the events whose time is <= now_ns(). */
  int64_t (*now_ns)(void* host_ctx); /* 1.0 */
  /* Market data from a data provider. */
  void (*on_trade)(void* host_ctx, const th_trade* trade); /* 1.0 */
  void (*on_quote)(void* host_ctx, const th_quote* quote); /* 1.0 */
  void (*on_bar)(void* host_ctx, const th_bar* bar);       /* 1.0 */
  /* Broker events. Every status change of an order is reported once, in
   * order; every fill once with a unique fill_id. */
  void (*on_order)(void* host_ctx, const th_order_state* order); /* 1.0 */
  void (*on_fill)(void* host_ctx, const th_fill* fill);          /* 1.0 */
  /* Link state changes (TH_CONN_*), with a reason that is not NUL-terminated. */
  void (*on_connection)(void* host_ctx, int32_t state, const char* reason, uint32_t reason_len); /* 1.0 */
  /* The exchange calendar the whole host uses (holidays, special closures,
   * early closes, DST), so a plugin never disagrees with the host about when
   * the market trades. Each fills `out` and returns TH_OK, or returns
   * TH_ERR_NOT_FOUND when there is no such session: the exchange does not
   * trade that day, or the date is outside the years the calendar covers.
   * TH_ERR_INVALID_ARGUMENT when out is NULL. Any thread; never calls into
   * the plugin. NULL in a host before 1.4: check before calling. */
  /* The session on an exchange date (yyyymmdd). */
  th_status (*session_on)(void* host_ctx, int32_t yyyymmdd, th_session* out); /* 1.4 */
  /* The first session whose close is after ts_ns (the current one while open). */
  th_status (*next_session)(void* host_ctx, int64_t ts_ns, th_session* out); /* 1.4 */
  /* The last session whose open is at or before ts_ns (the current one while open). */
  th_status (*previous_session)(void* host_ctx, int64_t ts_ns, th_session* out); /* 1.4 */
} th_host_api;

/* ------------------------------------------------------ plugin functions -- */

typedef struct th_plugin th_plugin; /* a plugin instance; opaque to the host */

/* Sinks for functions that return lists. `sink_ctx` is the caller's. The
 * pointed-to struct and its strings are valid only during the sink call.
 * Called on the thread that called the list function, before it returns. */
typedef void (*th_bar_sink)(void* sink_ctx, const th_bar* bar);
typedef void (*th_option_sink)(void* sink_ctx, const th_option_quote* option);
typedef void (*th_order_sink)(void* sink_ctx, const th_order_state* order);
typedef void (*th_position_sink)(void* sink_ctx, const th_position* position);
typedef void (*th_fill_sink)(void* sink_ctx, const th_fill* fill);
typedef void (*th_symbol_sink)(void* sink_ctx, const char* symbol, uint32_t symbol_len);

/* Data provider (kind TH_KIND_DATA). All functions required unless noted. */
typedef struct th_data_api {
  uint32_t struct_size;
  /* Open the link. Streams start flowing after subscribe(). May block. */
  th_status (*connect)(th_plugin* p, char* err, uint32_t err_cap); /* 1.0 */
  /* Stop all streams; no callback arrives after it returns. */
  th_status (*disconnect)(th_plugin* p, char* err, uint32_t err_cap); /* 1.0 */
  /* Start / stop TH_STREAM_* streams for one symbol. The host calls once per
   * symbol however many consumers it has. Subscriptions belong to the
   * instance, not to the link: subscribe may come before connect (the streams
   * start when the link is up — a replay at full speed needs this to deliver
   * its first bar), and they survive disconnect/connect, the plugin resuming
   * them itself; the host never re-subscribes after a reconnect. */
  th_status (*subscribe)(th_plugin* p, const char* symbol, uint32_t symbol_len, uint32_t streams,
                         char* err, uint32_t err_cap); /* 1.0 */
  th_status (*unsubscribe)(th_plugin* p, const char* symbol, uint32_t symbol_len, uint32_t streams,
                           char* err, uint32_t err_cap); /* 1.0 */
  /* Bars of a range, oldest first, through `sink` (flag TH_BAR_HISTORY).
   * Called from a host worker thread, never the core thread; may block.
   * Concurrent: may be called while streams run and from several workers. */
  th_status (*history)(th_plugin* p, const th_history_request* request, th_bar_sink sink,
                       void* sink_ctx, char* err, uint32_t err_cap); /* 1.0 */
  /* Snapshot of an underlying's option chain at `as_of_ns` (0 = now). May be
   * NULL: the provider has no options. Concurrent, like history. */
  th_status (*option_chain)(th_plugin* p, const char* underlying, uint32_t underlying_len,
                            int64_t as_of_ns, th_option_sink sink, void* sink_ctx, char* err,
                            uint32_t err_cap); /* 1.0 */
  /* Describe a symbol. May be NULL. Concurrent. */
  th_status (*lookup)(th_plugin* p, const char* symbol, uint32_t symbol_len, th_instrument* out,
                      char* err, uint32_t err_cap); /* 1.0 */
  /* Every symbol the provider has bars for, each once, in any order, through
   * `sink`. May be NULL: the provider cannot list them (a live feed serves
   * any symbol asked for). A backtest without --symbols plays them all.
   * Concurrent, like history. */
  th_status (*symbols)(th_plugin* p, th_symbol_sink sink, void* sink_ctx, char* err,
                       uint32_t err_cap); /* 1.2 */
} th_data_api;

/* Broker (kind TH_KIND_BROKER). All functions required unless noted. */
typedef struct th_broker_api {
  uint32_t struct_size;
  uint32_t capabilities; /* 1.0 TH_BROKER_* */
  th_status (*connect)(th_plugin* p, char* err, uint32_t err_cap);    /* 1.0 */
  th_status (*disconnect)(th_plugin* p, char* err, uint32_t err_cap); /* 1.0 */
  /* Send an order. TH_OK means the broker took it; its progress arrives
   * through on_order / on_fill (possibly before submit returns). A client
   * order id seen before returns TH_ERR_DUPLICATE and changes nothing. A
   * refusal returns TH_ERR_REJECTED and reports the order REJECTED. */
  th_status (*submit)(th_plugin* p, const th_order_request* order, char* err, uint32_t err_cap); /* 1.0 */
  /* Ask to cancel. TH_OK means the request was taken; the CANCELED state
   * arrives through on_order. TH_ERR_NOT_FOUND for an unknown or closed order. */
  th_status (*cancel)(th_plugin* p, const char* client_order_id, uint32_t client_order_id_len,
                      char* err, uint32_t err_cap); /* 1.0 */
  /* Replace quantity / prices of an open order. NULL without TH_BROKER_REPLACE. */
  th_status (*replace)(th_plugin* p, const char* client_order_id, uint32_t client_order_id_len,
                       const th_order_request* changes, char* err, uint32_t err_cap); /* 1.0 */
  /* Lists, for reconciliation: every order not yet in a final state, every
   * non-zero position, and every fill at or after `since_ns`. */
  th_status (*open_orders)(th_plugin* p, th_order_sink sink, void* sink_ctx, char* err,
                           uint32_t err_cap); /* 1.0 */
  th_status (*positions)(th_plugin* p, th_position_sink sink, void* sink_ctx, char* err,
                         uint32_t err_cap); /* 1.0 */
  th_status (*fills)(th_plugin* p, int64_t since_ns, th_fill_sink sink, void* sink_ctx, char* err,
                     uint32_t err_cap); /* 1.0 */
  th_status (*account)(th_plugin* p, th_account* out, char* err, uint32_t err_cap); /* 1.0 */
  /* Market feed for simulated brokers (TH_BROKER_MARKET_FEED); NULL
   * otherwise. Called in event order from the host's core thread. */
  void (*on_trade)(th_plugin* p, const th_trade* trade); /* 1.0 */
  void (*on_quote)(th_plugin* p, const th_quote* quote); /* 1.0 */
  void (*on_bar)(th_plugin* p, const th_bar* bar);       /* 1.0 */
} th_broker_api;

/* ------------------------------------------------------------ descriptor -- */

enum { TH_KIND_DATA = 1, TH_KIND_BROKER = 2 };

/* Filled by th_plugin_entry. Strings are NUL-terminated, owned by the plugin
 * and valid until the library is unloaded. */
typedef struct th_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major;      /* 1.0 TH_ABI_VERSION_MAJOR the plugin was built with */
  uint16_t abi_minor;      /* 1.0 */
  int32_t kind;            /* 1.0 TH_KIND_* */
  const char* id;          /* 1.0 [a-z0-9_-]+, unique among loaded plugins */
  const char* name;        /* 1.0 human-readable */
  const char* version;     /* 1.0 semver of the plugin */
  const char* description; /* 1.0 one line, may be empty */
  /* Make an instance. `config` is JSON text (an object, not NUL-terminated)
   * from the host configuration; `host` and `host_ctx` are for callbacks.
   * No callback may arrive before create returns TH_OK. */
  th_status (*create)(const char* config, uint32_t config_len, const th_host_api* host,
                      void* host_ctx, th_plugin** out, char* err, uint32_t err_cap); /* 1.0 */
  /* Free an instance: disconnect first if needed; no callback after return. */
  void (*destroy)(th_plugin* p); /* 1.0 */
  const th_data_api* data;       /* 1.0 set for TH_KIND_DATA, else NULL */
  const th_broker_api* broker;   /* 1.0 set for TH_KIND_BROKER, else NULL */
} th_plugin_descriptor;

/* The one exported symbol. The host sets out->struct_size to its own sizeof
 * before the call; the plugin writes at most that many bytes and sets
 * struct_size to the size it filled. Return TH_ERR_ABI with a message when
 * host->abi_major differs from the plugin's. */
typedef th_status (*th_plugin_entry_fn)(const th_host_api* host, th_plugin_descriptor* out,
                                        char* err, uint32_t err_cap);

TH_EXPORT th_status th_plugin_entry(const th_host_api* host, th_plugin_descriptor* out, char* err,
                                    uint32_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* TH_PLUGIN_H */
