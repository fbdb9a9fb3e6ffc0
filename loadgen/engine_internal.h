/*
 * engine_internal: the engine's own types, shared by engine.c (the loop, libcurl transfers,
 * results) and engine_direct.c (the direct path for --raw over http://). Not for other modules.
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
#include "http1.h"
#include "pacer.h"

#define INTERVAL_RING 4
#define RESPONSE_KEEP 512 /* enough of a body to read a created task's id */
#define URL_MAX 2048
#define DRAIN_MAX_NS 2000000000ull
#define WAKE_MAX_NS 20000000ull /* notice engine_stop() within 20 ms */
#define BACKLOG_EVERY_NS 10000000ull
#define DEFAULT_TIMEOUT_NS 10000000000ull
#define DEFAULT_OPEN_INFLIGHT 256
#define EPOLL_BATCH 64
#define T0_LEAD_NS 20000000ull /* threads up and settled before the first arrival */
#define SPIN_NS 20000ull       /* closer deadlines are polled for, not slept on */

struct interval_acc {
    int64_t second; /* -1: free */
    uint64_t started, completed, classes[LG_CLASS_COUNT];
    struct loghist corrected, service, lag;
};

struct worker;

struct slot {
    struct worker *w;
    CURL *easy;
    struct workload_request req;
    uint64_t intended_ns, sent_ns;
    char url[URL_MAX];
    char response[RESPONSE_KEEP];
    size_t response_len;
    uint64_t response_bytes;
    /* The direct path: libcurl connected (CONNECT_ONLY); loadgen sends and parses itself. */
    enum { DIRECT_NONE, DIRECT_CONNECTING, DIRECT_READY } conn;
    int fd;       /* the connection's socket while DIRECT_READY */
    int busy;     /* a request is in flight on this slot */
    int want_out; /* EPOLLOUT registered: the request is partly sent */
    size_t sent_len;
    struct http1_response parser;
};

struct worker {
    struct engine *e;
    unsigned index;
    pthread_t thread;
    int thread_started;
    CURLM *multi;
    int epfd;
    uint64_t curl_deadline_ns;
    struct slot *slots;
    unsigned nslots;
    unsigned *free_slots;
    unsigned nfree;
    struct pacer pacer;
    struct workload_state workload;
    uint64_t backlog_checked_ns;

    pthread_mutex_t lock; /* guards results and ring against the collector */
    struct lg_results results;
    struct interval_acc *ring;
    uint64_t measured_started, measured_cancelled;

    _Atomic uint64_t started, completed, errors, in_flight, backlog;
    uint64_t not_started; /* set when the worker ends */
    char error[256];
    uint64_t timeouts_checked_ns; /* direct path: last scan for requests past --timeout */
};

struct engine {
    struct engine_config cfg;
    struct pacer_plan plan;
    unsigned shards;
    struct curl_slist *json_headers, *raw_headers;
    struct worker *workers;
    unsigned nworkers;
    uint64_t t0_ns, measure_start_ns, end_ns, drain_ns, timeout_ns;
    uint64_t unix_at_t0_ns;
    _Atomic uint64_t stop_ns; /* UINT64_MAX until engine_stop() */
    _Atomic unsigned workers_running;
    uint64_t finished_ns;

    pthread_t collector;
    int collector_started;
    pthread_mutex_t lock; /* series, last row, collector wake-up */
    pthread_cond_t wake;
    struct lg_results series; /* only series rows are used */
    struct lg_interval last_row;
    int have_last_row;
    struct client_metrics metrics;
    int direct;                /* --raw over http://: engine_direct.c frames the requests */
    struct buf direct_request; /* the request's bytes, built once */
    int direct_head;           /* HEAD: responses carry no body */
};

/* engine.c, for engine_direct.c */
uint64_t engine_min_u64(uint64_t a, uint64_t b);
void engine_record(struct worker *w, const struct slot *s, int status, enum lg_error_kind err,
                   uint64_t done_ns);
void engine_release_slot(struct worker *w, struct slot *s);

/* engine_direct.c */
#define DIRECT_TAG (1ull << 63) /* epoll data of a direct connection: tag | slot index */
int direct_usable(const struct engine_config *cfg);
int direct_build_request(struct engine *e, char *err, size_t errlen);
void direct_start(struct worker *w, struct slot *s);
void direct_connected(struct worker *w, struct slot *s, CURLcode rc);
void direct_event(struct worker *w, struct slot *s, uint32_t events);
void direct_check_timeouts(struct worker *w, uint64_t now);
void direct_cancel(struct worker *w, struct slot *s);

#endif
