/*
 * client_metrics: loadgen's own Prometheus metrics, the client's side of the RED picture.
 *
 * Counters and fixed-bucket histograms (common/histogram, the same buckets as taskd's) are
 * updated with relaxed atomics by every engine thread and rendered by --metrics-listen, so a
 * dashboard can put the client's view (which includes queueing, transport errors and the
 * user's own success rule) beside the server's. Unlike the results, these cover the whole
 * run, warm-up included. Routes are the run's route table: the task mix's operations, "raw",
 * or a targets file's target names.
 */
#ifndef LOADGEN_CLIENT_METRICS_H
#define LOADGEN_CLIENT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "histogram.h"
#include "results.h"

/* Why a request failed, as loadgen_requests_failed_total{reason} says it. */
enum client_failure {
    CLIENT_FAIL_STATUS,
    CLIENT_FAIL_BODY,
    CLIENT_FAIL_TRANSPORT,
    CLIENT_FAIL_COUNT
};

struct client_route {
    const char *name;
    _Atomic uint64_t requests[LG_CLASS_COUNT];
    _Atomic uint64_t failed[CLIENT_FAIL_COUNT];
    struct histogram corrected, service;
};

struct client_metrics {
    struct client_route *routes;
    size_t nroutes;
    _Atomic uint64_t errors[LG_ERR_COUNT];
    _Atomic uint64_t opened, closed;
    struct histogram lag;
};

/* Gauges sampled by the engine at render time. */
struct client_gauges {
    double target_rate, achieved_rate;
    uint64_t in_flight, backlog, not_started;
};

/* One series per route of `routes` (its names must outlive m). Returns 0 or -1 (memory). */
int client_metrics_init(struct client_metrics *m, const struct lg_results *routes);
void client_metrics_free(struct client_metrics *m);

/* verdict: LG_VERDICT_OK for a success or a transport error (c == LG_CLASS_ERROR says which). */
void client_metrics_record(struct client_metrics *m, int route, enum lg_class c,
                           enum lg_error_kind err, enum lg_verdict verdict, uint64_t corrected_ns,
                           uint64_t service_ns, uint64_t lag_ns);
void client_metrics_connection(struct client_metrics *m, int opened);
void client_metrics_render(struct client_metrics *m, const struct client_gauges *g,
                           struct buf *out);

#endif
