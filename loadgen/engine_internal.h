/*
 * engine_internal: the engine's own types, shared by engine.c (the loop, libcurl transfers,
 * results) and engine_direct.c (the direct HTTP/1.1 path for plain http://). Not for other
 * modules.
 */
#ifndef LOADGEN_ENGINE_INTERNAL_H
#define LOADGEN_ENGINE_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "client_metrics.h"
#include "engine.h"
#include "expect.h"
#include "http1.h"
#include "pacer.h"
#include "requests_out.h"
#include "workload.h"

#define INTERVAL_RING 4
#define RESPONSE_KEEP 8192 /* of a create's answer: enough to find the created id in */
#define LOCATION_KEEP 1024
#define HEAD_MAX 131072 /* a request head the direct path renders */
#define DRAIN_MAX_NS 2000000000ull
#define WAKE_MAX_NS 20000000ull /* notice engine_stop() within 20 ms */
#define BACKLOG_EVERY_NS 10000000ull
#define DEFAULT_TIMEOUT_NS 10000000000ull
#define DEFAULT_OPEN_INFLIGHT 256
#define EPOLL_BATCH 64
#define T0_LEAD_NS 20000000ull /* threads up and settled before the first arrival */
#define SPIN_NS 20000ull       /* closer deadlines are polled for, not slept on */
#define NO_ORIGIN ((size_t)-1)
#define URL_MAX 65536     /* a full URL the libcurl path builds */
#define BASE_URL_MAX 1848 /* the run's URL (reports keep 2048 bytes of it) */

struct interval_acc {
    int64_t second; /* -1: free */
    uint64_t started, completed, failed, opened, closed, classes[LG_CLASS_COUNT];
    struct loghist corrected, service, lag;
};

struct worker;

struct slot {
    struct worker *w;
    CURL *easy;
    struct workload_request req;
    int render_failed; /* workload_next() could not render the request */
    uint64_t intended_ns, sent_ns, first_byte_ns;
    uint64_t bytes_sent;
    int new_connection;              /* this request opened its connection */
    struct buf url;                  /* libcurl path: origin + request-target */
    struct curl_slist *curl_headers; /* libcurl path: this request's headers */
    char response[RESPONSE_KEEP];
    size_t response_len;
    uint64_t response_bytes;
    int keep_body;                /* copy the body's first bytes into response[] */
    char location[LOCATION_KEEP]; /* the answer's Location, when the API names ids there */
    enum lg_protocol protocol;    /* of the answer, set before engine_record() */
    int h2c_opened, h2c_retried;  /* h2c prior knowledge on an old libcurl (transport_h2c) */
    struct expect_scan scan;      /* the body check */
    /* The direct path: libcurl connected (CONNECT_ONLY); loadgen sends and parses itself. */
    enum { DIRECT_NONE, DIRECT_CONNECTING, DIRECT_READY } conn;
    size_t conn_origin; /* the origin the connection goes to (NO_ORIGIN: none) */
    int fd;             /* the connection's socket while DIRECT_READY */
    int busy;           /* a request is in flight on this slot */
    int in_use;         /* taken from the free slots (either path) */
    unsigned group;     /* its slot group: the origin it serves (direct path), else 0 */
    int want_out;       /* EPOLLOUT registered: the request is partly sent */
    struct buf head;    /* a rendered request head */
    const char *out_head, *out_body; /* what goes on the wire: head, then body */
    size_t out_head_len, out_body_len, sent_len;
    struct http1_response parser;
};

struct worker {
    struct engine *e;
    unsigned index;
    pthread_t thread;
    int thread_started;
    int looping; /* inside the load loop: connection events count in the results */
    CURLM *multi;
    int epfd;
    uint64_t curl_deadline_ns;
    /* Slots: `capacity` requests may be in flight. On the direct path with several origins each
     * origin has its own group of `capacity` slots (connections kept per server, as an HTTP
     * client's pool would), so a slot never leaves its server; otherwise there is one group.
     * Group g's free slots are free_slots[g * capacity .. + nfree[g]). */
    struct slot *slots;
    unsigned nslots, capacity, groups;
    unsigned nconnections;    /* capacity / the engine's streams per connection, rounded up */
    struct transport_h2c h2c; /* h2c prior knowledge on an old libcurl */
    unsigned *free_slots;
    unsigned *nfree; /* per group */
    unsigned active; /* requests in flight */
    struct pacer pacer;
    struct workload_state workload;
    struct workload_request spare; /* multi-origin direct path: rendered before a slot is chosen */
    uint64_t backlog_checked_ns;
    uint64_t quota; /* -n: measured requests this worker may still start (UINT64_MAX: no count) */
    struct requests_out_buf out; /* --requests-out */

    pthread_mutex_t lock; /* guards results and ring against the collector */
    struct lg_results results;
    struct interval_acc *ring;
    uint64_t measured_started, measured_cancelled;

    _Atomic uint64_t started, completed, errors, in_flight, backlog;
    _Atomic uint64_t opened, closed; /* connections, whole run */
    uint64_t not_started;            /* set when the worker ends */
    char error[256];
    uint64_t timeouts_checked_ns; /* direct path: last scan for requests past --timeout */
};

/* Where requests go: one per distinct scheme://host:port of the workload. */
struct origin {
    char *url;       /* "http://host:port" (what libcurl connects to) */
    char *authority; /* "host:port": the Host header */
};

struct engine {
    struct engine_config cfg;
    struct pacer_plan plan;
    unsigned shards;
    struct worker *workers;
    unsigned nworkers;
    uint64_t t0_ns, measure_start_ns, end_ns, drain_ns, timeout_ns;
    uint64_t unix_at_t0_ns;
    _Atomic uint64_t stop_ns; /* UINT64_MAX until engine_stop() */
    _Atomic unsigned workers_running;
    uint64_t finished_ns;
    int prepared_workload; /* engine_start prepared cfg.workload: engine_free releases it */
    int ledger_creates;    /* a target records creates in the ledger (keeps their answers) */

    pthread_t collector;
    int collector_started;
    _Atomic int collector_failed; /* it could not start, or not allocate: no per-second series */
    pthread_mutex_t lock;         /* series, last row, collector wake-up */
    pthread_cond_t wake;
    struct lg_results series; /* only series rows are used */
    struct lg_interval last_row;
    int have_last_row;
    struct client_metrics metrics;
    struct lg_results routes; /* the route table (names), no counts */

    struct origin *origins;
    size_t norigins;
    char *path_prefix;          /* task mix: the base URL's path, put before every request-target */
    int direct;                 /* requests take the direct path (engine_direct.c) */
    int close_connections;      /* no keep-alive: "Connection: close", one request per connection */
    struct transport transport; /* built from cfg.transport; applied to every easy handle */
    unsigned streams;           /* requests in flight per connection (HTTP/2 multiplexing) */
    int h2c_workaround;         /* transport_h2c_workaround(): see transport.h */
    struct buf *static_heads;   /* direct path: per target, the head of a static target */
};

/* engine.c, for engine_direct.c */
uint64_t engine_min_u64(uint64_t a, uint64_t b);
void engine_release_slot(struct worker *w, struct slot *s);

/* engine_record.c */
uint64_t engine_run_end(const struct engine *e); /* end of the measured period */
uint64_t engine_unix_ns(const struct engine *e, uint64_t mono_ns);
struct interval_acc *engine_interval_at(struct worker *w, uint64_t mono_ns); /* under w->lock */
void engine_on_body(void *slot, const char *data, size_t n); /* an http1 on_body callback */
void engine_on_location(struct slot *s, const char *value, size_t n); /* keeps it for the id */
int engine_wants_location(const struct engine *e); /* the task mix's ids come from Location */
void engine_connection_event(struct worker *w, int opened);
void engine_write_ledger(struct worker *w, const struct slot *s, int status, uint64_t done_ns,
                         const char *created_id);
/* A finished request: status, or 0 and the transport error's kind. engine_complete() also
 * feeds the outcome back to the workload (ids) and the ledger; engine_record() only records. */
void engine_record(struct worker *w, struct slot *s, int status, enum lg_error_kind err,
                   uint64_t done_ns);
void engine_complete(struct worker *w, struct slot *s, int status, enum lg_error_kind err,
                     uint64_t done_ns);

/* engine_direct.c */
#define DIRECT_TAG (1ull << 63) /* epoll data of a direct connection: tag | slot index */
int direct_usable(const struct engine *e);
int direct_prepare(struct engine *e, char *err, size_t errlen);
void direct_free(struct engine *e);
void direct_start(struct worker *w, struct slot *s);
void direct_connected(struct worker *w, struct slot *s, CURLcode rc);
void direct_event(struct worker *w, struct slot *s, uint32_t events);
void direct_check_timeouts(struct worker *w, uint64_t now);
void direct_cancel(struct worker *w, struct slot *s);

#endif
