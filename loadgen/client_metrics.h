/*
 * client_metrics: loadgen's own Prometheus metrics, the client's side of the RED picture.
 *
 * Counters and fixed-bucket histograms (common/histogram, the same buckets as taskd's) are
 * updated with relaxed atomics by every engine thread and rendered by --metrics-listen, so a
 * dashboard can put the client's view (which includes queueing and transport errors) beside
 * the server's. Unlike the results, these cover the whole run, warm-up included.
 */
#ifndef LOADGEN_CLIENT_METRICS_H
#define LOADGEN_CLIENT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "histogram.h"
#include "results.h"

struct client_metrics {
    _Atomic uint64_t requests[LG_ROUTE_COUNT][LG_CLASS_COUNT];
    _Atomic uint64_t errors[LG_ERR_COUNT];
    struct histogram corrected[LG_ROUTE_COUNT];
    struct histogram service[LG_ROUTE_COUNT];
    struct histogram lag;
};

/* Gauges sampled by the engine at render time. */
struct client_gauges {
    double target_rate, achieved_rate;
    uint64_t in_flight, backlog, not_started;
};

void client_metrics_init(struct client_metrics *m);
void client_metrics_record(struct client_metrics *m, enum lg_route route, enum lg_class c,
                           enum lg_error_kind err, uint64_t corrected_ns, uint64_t service_ns,
                           uint64_t lag_ns);
void client_metrics_render(struct client_metrics *m, const struct client_gauges *g,
                           struct buf *out);

#endif
