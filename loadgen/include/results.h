/*
 * results: what a load run measured, in a form that merges exactly.
 *
 * Per route (an operation of the task mix, or a named target) and per status class, three
 * latency views are kept without coordinated omission: corrected (intended start -> done),
 * service (sent -> done) and lag (intended start -> sent), each a loghist. Views are allocated
 * on first use, so a run that only sees 2xx on two routes holds six histograms, never the full
 * table. Exact status codes, transport errors by kind and failures of the success rule are
 * counted per route; a failure is a transport error, an unexpected status or a failed body
 * check, and that is what error ratios count. A per-second series (one row per second of the
 * run, ~200 bytes each) holds rates, failures, connections and interval percentiles.
 *
 * Everything here adds up: results_merge() of two runs equals one run that did both, which is
 * what per-thread recording, `loadgen merge` and `--shard` rely on.
 */
#ifndef LOADGEN_RESULTS_H
#define LOADGEN_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "loghist.h"

#define RESULTS_SCHEMA_VERSION 2

/* The task workload's routes, at these indexes of its route table (workload.h names them).
 * Other workloads name their own routes: --raw has one, "raw"; a targets file one per target. */
enum lg_route {
    LG_ROUTE_CREATE, /* POST /tasks */
    LG_ROUTE_READ,   /* GET /tasks/{id} */
    LG_ROUTE_UPDATE, /* PUT /tasks/{id} */
    LG_ROUTE_DELETE, /* DELETE /tasks/{id} */
    LG_ROUTE_LIST,   /* GET /tasks?limit=… */
    LG_TASK_ROUTES
};

#define LG_ROUTE_NAME_MAX 64
#define LG_ROUTE_METHOD_MAX 24
#define LG_ROUTE_TEMPLATE_MAX 256
#define LG_ROUTES_MAX 1024

/* Status classes; ERROR is a transport failure (no HTTP status). Names: "1xx" … "5xx", "error". */
enum lg_class {
    LG_CLASS_1XX,
    LG_CLASS_2XX,
    LG_CLASS_3XX,
    LG_CLASS_4XX,
    LG_CLASS_5XX,
    LG_CLASS_ERROR,
    LG_CLASS_COUNT
};

/* Transport errors by kind. Names: "connect", "timeout", "reset", "protocol", "other". */
enum lg_error_kind {
    LG_ERR_CONNECT,
    LG_ERR_TIMEOUT,
    LG_ERR_RESET,
    LG_ERR_PROTOCOL,
    LG_ERR_OTHER,
    LG_ERR_COUNT
};

/* The HTTP protocol a response came over, as negotiated. Names: results_protocol_name(). */
enum lg_protocol {
    LG_PROTO_UNKNOWN,
    LG_PROTO_HTTP10, /* "http/1.0" */
    LG_PROTO_HTTP11, /* "http/1.1" */
    LG_PROTO_H2,     /* "h2": HTTP/2 over TLS */
    LG_PROTO_H2C,    /* "h2c": HTTP/2 in cleartext */
    LG_PROTO_H3,     /* "h3" */
    LG_PROTO_COUNT
};

#define LG_STATUS_MAX 600 /* codes[] index; other values are counted in codes[0] */

/* How a response that arrived measured up to the success rule (expect.h). A transport error
 * (no status) is a failure whatever the verdict says. */
enum lg_verdict {
    LG_VERDICT_OK,     /* a status the rule expects, and the body check (if any) passed */
    LG_VERDICT_STATUS, /* a status outside the rule */
    LG_VERDICT_BODY    /* an expected status, but the body lacks the text the rule wants */
};

struct lg_views {
    struct loghist corrected;
    struct loghist service;
    struct loghist lag;
};

struct lg_route_stats {
    char name[LG_ROUTE_NAME_MAX];      /* "create", "raw", a target's name */
    char method[LG_ROUTE_METHOD_MAX];  /* "POST" */
    char route[LG_ROUTE_TEMPLATE_MAX]; /* "/tasks/{id}", a target's URL as written */
    uint64_t unexpected_status;        /* responses whose status the rule does not expect */
    uint64_t body_mismatch;            /* expected statuses whose body failed the check */
    uint64_t codes[LG_STATUS_MAX];
    uint64_t errors[LG_ERR_COUNT];
    uint64_t classes[LG_CLASS_COUNT];
    struct lg_views *views[LG_CLASS_COUNT]; /* NULL until the first response of that class */
};

/* One second of the run: counts by completion time, percentiles of what completed in it. */
struct lg_interval {
    double t;           /* seconds since the run started (start of this second) */
    double target_rate; /* scheduled arrivals per second (0 in the closed model) */
    uint64_t scheduled; /* arrivals that fell due in this second (open model) */
    uint64_t started;   /* requests sent */
    uint64_t completed; /* responses and transport errors */
    uint64_t classes[LG_CLASS_COUNT];
    uint64_t failed; /* completions that failed the success rule (transport errors included) */
    uint64_t opened, closed; /* connections opened and closed in this second */
    uint64_t in_flight;      /* at the end of the second */
    uint64_t backlog;        /* due but not yet sent, at the end of the second */
    uint64_t corrected_p50_ns, corrected_p90_ns, corrected_p99_ns, corrected_max_ns;
    uint64_t service_p99_ns;
    uint64_t lag_p99_ns;
};

enum lg_model { LG_MODEL_CLOSED, LG_MODEL_OPEN };

struct lg_results {
    /* What was asked for (echoed in the JSON; merge sums rates and connections). */
    enum lg_model model;
    double target_rate;   /* mean scheduled rate over the measured period; 0 when closed */
    uint64_t connections; /* closed model; or the in-flight bound in the open model */
    uint64_t threads;
    uint64_t runs;          /* 1, or how many results were merged */
    uint64_t start_unix_ns; /* wall clock at the start of the measured period */
    uint64_t duration_ns;   /* measured period (after warm-up) */

    /* What happened in the measured period. */
    uint64_t scheduled;   /* open model: arrivals due */
    uint64_t started;     /* requests sent */
    uint64_t completed;   /* finished (any outcome) */
    uint64_t not_started; /* due but never sent when the run ended (target could not keep up) */
    uint64_t cancelled;   /* still in flight when the run ended */
    uint64_t bytes_received;
    uint64_t connections_opened, connections_closed; /* in the measured period */
    uint64_t protocols[LG_PROTO_COUNT];              /* responses by the protocol they came over */
    struct lg_route_stats *routes; /* the route table, in the order routes were added */
    size_t nroutes, routes_cap;

    struct lg_interval *series; /* series_len rows, one per second, oldest first */
    size_t series_len, series_cap;
};

const char *results_class_name(enum lg_class c);
const char *results_error_name(enum lg_error_kind k);
const char *results_protocol_name(enum lg_protocol p);  /* "http/1.1", "h2", … */
enum lg_protocol results_protocol_of(const char *name); /* LG_PROTO_UNKNOWN when none */
enum lg_class results_class_of(int status);             /* 0 or out of range: LG_CLASS_ERROR */

void results_init(struct lg_results *r); /* an empty run: no route yet */
void results_free(struct lg_results *r); /* routes, views and series; accepts a zeroed struct */

/* Adds a route to the table (name, method and route template are cut to their fields' sizes)
 * and returns its index; a name already in the table returns that route's index. -1 when out
 * of memory or past LG_ROUTES_MAX routes. */
int results_route_add(struct lg_results *r, const char *name, const char *method,
                      const char *route);
int results_route_find(const struct lg_results *r, const char *name); /* index or -1 */

/* Records one finished request on route index `route` (from results_route_add). status 0 means
 * a transport error of kind `err`; a status outside 100..599 is counted in codes[0] and as a
 * protocol error (so classes[ERROR] always equals the sum of errors[]). `verdict` says how a
 * response met the success rule. Returns 0, or -1 when the route is not in the table or a view
 * could not be allocated (the counts are then still recorded). */
int results_record(struct lg_results *r, int route, int status, enum lg_error_kind err,
                   enum lg_verdict verdict, uint64_t corrected_ns, uint64_t service_ns,
                   uint64_t lag_ns);

/* The views of (route, class); NULL when nothing was recorded there. */
const struct lg_views *results_views(const struct lg_results *r, int route, enum lg_class c);

/* The views of (route, class), allocated (all three empty) when missing: for readers that
 * rebuild results from a file. NULL when out of memory or out of range. */
struct lg_views *results_views_alloc(struct lg_results *r, int route, enum lg_class c);

/* dst += src: counts, histograms and series (rows aligned by wall-clock second); routes are
 * matched by name, and routes only src has are added. Returns 0 or -1 (out of memory; dst is
 * then partly merged and must be freed).
 * Run-level fields: target_rate, connections, threads and runs add (shards split a rate);
 * duration is the longest, start the earliest (0 counts as unset). Series rows of the same
 * wall-clock second (start_unix_ns + t, rounded to the second) add their counts, rates and
 * in-flight figures; their percentiles cannot be combined exactly, so a merged row keeps the
 * highest of each (an upper bound). Whole-run percentiles stay exact: the histograms add.
 * dst is a run (runs >= 1), not an empty accumulator: merging A into B counts two runs. */
int results_merge(struct lg_results *dst, const struct lg_results *src);

/* Merges one view of route `route` (every route when < 0) and class `class_or_all` (every
 * class when < 0) into out, which is reset first. */
enum lg_view_kind { LG_VIEW_CORRECTED, LG_VIEW_SERVICE, LG_VIEW_LAG };
void results_collect(const struct lg_results *r, int route, int class_or_all,
                     enum lg_view_kind view, struct loghist *out);

/* Requests of one route (every route when route < 0) that completed, and that failed: a
 * transport error, an unexpected status or a failed body check. */
uint64_t results_route_completed(const struct lg_results *r, int route);
uint64_t results_route_failed(const struct lg_results *r, int route);

/* Totals across routes. */
uint64_t results_class_total(const struct lg_results *r, enum lg_class c);
uint64_t results_code_total(const struct lg_results *r, int status); /* 100..599; 0: "other" */
uint64_t results_error_total(const struct lg_results *r); /* failed requests, every route */
double results_achieved_rate(const struct lg_results *r); /* completed / duration */

/* Appends one series row (grows the array). Returns 0 or -1. */
int results_append_interval(struct lg_results *r, const struct lg_interval *row);

#endif
