/*
 * engine: runs load — threads, each with its own libcurl multi handle, epoll loop and slots.
 *
 * Closed model: every slot (connection) sends its next request as soon as the last completes.
 * Open model: arrivals are scheduled from absolute time (t0 + i/rate, or Poisson gaps, or
 * ramps over stages), independently of completions; an arrival that finds no free slot waits
 * in a backlog (a counter, not a queue) and its lag counts in the corrected latency, so a slow
 * target shows as latency and as "not started" — the rate is never quietly lowered.
 *
 * The engine is a library: loadgen's CLI and chaos both drive it. Results for the measured
 * period (after warm-up) come back from engine_wait(); a live view is available meanwhile.
 */
#ifndef LOADGEN_ENGINE_H
#define LOADGEN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "transport.h"
#include "workload.h"

struct ledger;
struct requests_out;

struct lg_stage {
    uint64_t duration_ns;
    double rate; /* ramp linearly to this rate over duration */
};

#define ENGINE_MAX_STAGES 32

struct engine_config {
    const char *url; /* task workload: base URL (http://host:port); raw: the URL; targets: the
                        base of relative target URLs (may be NULL when every URL is absolute) */
    struct workload_config workload;
    enum lg_model model;
    unsigned connections; /* closed model: total connections (split over threads) */
    double rate;          /* open model: total arrivals/s; with stages, the starting rate */
    struct lg_stage stages[ENGINE_MAX_STAGES];
    size_t nstages;        /* 0: constant rate for duration */
    int poisson;           /* exponential inter-arrival gaps instead of fixed ones */
    uint64_t seed;         /* RNG seed (0: from the clock) */
    unsigned max_inflight; /* open model: total in-flight bound (0: connections) */
    unsigned threads;
    uint64_t duration_ns;   /* measured period; 0 with model open+stages: sum of stages;
                               0 otherwise: until engine_stop() or `requests` */
    uint64_t requests;      /* -n: the run ends after this many measured requests (this shard's
                               share of them; 0: no count) */
    uint64_t warmup_ns;     /* run before measuring; not in results (still in the ledger) */
    uint64_t timeout_ns;    /* per request (0: 10 s) */
    unsigned shard_index;   /* --shard i/N: this process runs share i of N (0-based) */
    unsigned shard_count;   /* 0 or 1: no sharding */
    uint64_t start_unix_ns; /* 0: start now; else t0 is this wall-clock time (--start-at), so
                               shards in separate processes share one schedule; it must lie in
                               the future */
    struct ledger *ledger;  /* NULL: no ledger */
    struct transport_config transport; /* TLS, HTTP version, overrides (zeroed: HTTP/1.1) */
    struct requests_out *requests_out; /* NULL: no per-request records */
    int force_libcurl; /* full libcurl transfers even where the direct path could go */
};

struct engine;

/* Starts the threads. A targets workload not yet prepared (workload.h) is prepared here, and
 * freed by engine_free(). Returns 0, or -1 with a sentence in err (bad URL or targets,
 * libcurl init). */
int engine_start(struct engine **out, const struct engine_config *cfg, char *err, size_t errlen);

/* Live counters (whole run including warm-up), cheap; any thread may call. */
struct engine_live {
    double elapsed_s;   /* since start, warm-up included */
    double remaining_s; /* -1 when open-ended */
    int warming_up;
    double target_rate;                  /* current scheduled rate (0 closed) */
    uint64_t started, completed, errors; /* errors: transport + 5xx */
    uint64_t in_flight, backlog;
    uint64_t connections_opened, connections_closed; /* whole run */
    uint64_t last_second_p99_ns;                     /* corrected p99 of the last complete second */
    double last_second_rate;
};
void engine_live(struct engine *e, struct engine_live *out);

/* Copies series rows [from, from+max) completed so far (measured period). Returns how many. */
size_t engine_series(struct engine *e, size_t from, struct lg_interval *rows, size_t max);

/* 1 when the run's requests take the direct HTTP/1.1 path (libcurl only connects). */
int engine_direct_path(const struct engine *e);

/* Client-side metrics for --metrics-listen, appended in Prometheus text format. */
struct buf;
void engine_write_metrics(struct engine *e, struct buf *out);

/* 1 once every thread has ended (the run is over; engine_wait will not block). */
int engine_finished(struct engine *e);

/* Asks the run to end now (Ctrl-C, chaos). Safe from any thread, not from a signal handler. */
void engine_stop(struct engine *e);

/* Waits for the end of the run and fills `out` (results_init'ed by the engine; free it with
 * results_free, also after a failure). Returns 0, or -1 with a sentence in err when the results
 * are incomplete: the thread that collects the per-second series could not start or allocate,
 * or memory ran out merging the threads' results. The load threads themselves cannot fail:
 * a request that fails is a result (a transport error), not an error of the engine. */
int engine_wait(struct engine *e, struct lg_results *out, char *err, size_t errlen);

void engine_free(struct engine *e);

#endif
