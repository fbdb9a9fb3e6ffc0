/*
 * client_metrics: renders loadgen's metrics (see client_metrics.h). Families and labels:
 * loadgen_requests_total{route,class}, loadgen_transport_errors_total{kind},
 * loadgen_request_duration_seconds{route} (corrected: intended start to done),
 * loadgen_service_duration_seconds{route} (sent to done), loadgen_lag_seconds, and the gauges
 * loadgen_target_rate, loadgen_achieved_rate, loadgen_requests_in_flight, loadgen_backlog,
 * plus the counter loadgen_not_started_total.
 */
#include "client_metrics.h"

#include "expo.h"
#include "version.h"

void client_metrics_init(struct client_metrics *m)
{
    for (int r = 0; r < LG_ROUTE_COUNT; r++) {
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            atomic_init(&m->requests[r][c], 0);
        histogram_init(&m->corrected[r], &histogram_latency_bounds);
        histogram_init(&m->service[r], &histogram_latency_bounds);
    }
    for (int k = 0; k < LG_ERR_COUNT; k++)
        atomic_init(&m->errors[k], 0);
    histogram_init(&m->lag, &histogram_latency_bounds);
}

void client_metrics_record(struct client_metrics *m, enum lg_route route, enum lg_class c,
                           enum lg_error_kind err, uint64_t corrected_ns, uint64_t service_ns,
                           uint64_t lag_ns)
{
    atomic_fetch_add_explicit(&m->requests[route][c], 1, memory_order_relaxed);
    if (c == LG_CLASS_ERROR)
        atomic_fetch_add_explicit(&m->errors[err], 1, memory_order_relaxed);
    histogram_observe_ns(&m->corrected[route], corrected_ns);
    histogram_observe_ns(&m->service[route], service_ns);
    histogram_observe_ns(&m->lag, lag_ns);
}

static int route_seen(struct client_metrics *m, int r)
{
    for (int c = 0; c < LG_CLASS_COUNT; c++)
        if (atomic_load_explicit(&m->requests[r][c], memory_order_relaxed))
            return 1;
    return 0;
}

static void render_latency(struct client_metrics *m, struct histogram *family, const char *name,
                           const char *help, struct buf *out)
{
    expo_family(out, name, "histogram", help);
    for (int r = 0; r < LG_ROUTE_COUNT; r++) {
        if (!route_seen(m, r))
            continue;
        struct histogram_snapshot snap;
        histogram_snapshot(&family[r], &snap);
        struct expo_label label = {"route", results_route_name(r)};
        expo_histogram(out, name, &label, 1, &snap);
    }
}

void client_metrics_render(struct client_metrics *m, const struct client_gauges *g, struct buf *out)
{
    expo_family(out, "loadgen_requests_total", "counter",
                "Requests loadgen completed, by operation and status class (error: no HTTP "
                "response).");
    for (int r = 0; r < LG_ROUTE_COUNT; r++) {
        if (!route_seen(m, r))
            continue;
        for (int c = 0; c < LG_CLASS_COUNT; c++) {
            struct expo_label labels[] = {{"route", results_route_name(r)},
                                          {"class", results_class_name(c)}};
            expo_sample_u64(out, "loadgen_requests_total", labels, 2,
                            atomic_load_explicit(&m->requests[r][c], memory_order_relaxed));
        }
    }
    expo_family(out, "loadgen_transport_errors_total", "counter",
                "Requests that got no HTTP response, by kind.");
    for (int k = 0; k < LG_ERR_COUNT; k++) {
        struct expo_label label = {"kind", results_error_name(k)};
        expo_sample_u64(out, "loadgen_transport_errors_total", &label, 1,
                        atomic_load_explicit(&m->errors[k], memory_order_relaxed));
    }
    render_latency(m, m->corrected, "loadgen_request_duration_seconds",
                   "Latency from the intended start to the response (corrected for coordinated "
                   "omission).",
                   out);
    render_latency(m, m->service, "loadgen_service_duration_seconds",
                   "Latency from sending the request to the response.", out);
    struct histogram_snapshot lag;
    histogram_snapshot(&m->lag, &lag);
    expo_family(out, "loadgen_lag_seconds", "histogram",
                "How late requests were sent after their intended start.");
    expo_histogram(out, "loadgen_lag_seconds", NULL, 0, &lag);
    expo_gauge(out, "loadgen_target_rate", "Scheduled arrivals per second (0: closed model).",
               g->target_rate);
    expo_gauge(out, "loadgen_achieved_rate", "Requests completed per second over the last second.",
               g->achieved_rate);
    expo_gauge(out, "loadgen_requests_in_flight", "Requests sent and not yet answered.",
               (double)g->in_flight);
    expo_gauge(out, "loadgen_backlog", "Requests due but not sent yet (no free slot).",
               (double)g->backlog);
    expo_family(out, "loadgen_not_started_total", "counter",
                "Requests that fell due and were never sent.");
    expo_sample_u64(out, "loadgen_not_started_total", NULL, 0, g->not_started);
    struct expo_label info = {"version", taskbench_version()};
    expo_family(out, "loadgen_build_info", "gauge", "loadgen's version.");
    expo_sample_u64(out, "loadgen_build_info", &info, 1, 1);
}
