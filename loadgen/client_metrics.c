/*
 * client_metrics: renders loadgen's metrics (see client_metrics.h). Families and labels:
 * loadgen_requests_total{route,class}, loadgen_requests_failed_total{route,reason} (reason:
 * unexpected_status, body_mismatch, transport), loadgen_transport_errors_total{kind},
 * loadgen_request_duration_seconds{route} (corrected: intended start to done),
 * loadgen_service_duration_seconds{route} (sent to done), loadgen_lag_seconds,
 * loadgen_connections_opened_total, loadgen_connections_closed_total, and the gauges
 * loadgen_connections_open, loadgen_target_rate, loadgen_achieved_rate,
 * loadgen_requests_in_flight, loadgen_backlog, plus the counter loadgen_not_started_total.
 */
#include "client_metrics.h"

#include <stdlib.h>

#include "expo.h"
#include "version.h"

static const char *const failure_names[CLIENT_FAIL_COUNT] = {"unexpected_status", "body_mismatch",
                                                             "transport"};

int client_metrics_init(struct client_metrics *m, const struct lg_results *routes)
{
    m->nroutes = routes->nroutes;
    m->routes = calloc(m->nroutes ? m->nroutes : 1, sizeof *m->routes);
    if (!m->routes)
        return -1;
    for (size_t r = 0; r < m->nroutes; r++) {
        struct client_route *cr = &m->routes[r];
        cr->name = routes->routes[r].name;
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            atomic_init(&cr->requests[c], 0);
        for (int f = 0; f < CLIENT_FAIL_COUNT; f++)
            atomic_init(&cr->failed[f], 0);
        histogram_init(&cr->corrected, &histogram_latency_bounds);
        histogram_init(&cr->service, &histogram_latency_bounds);
    }
    for (int k = 0; k < LG_ERR_COUNT; k++)
        atomic_init(&m->errors[k], 0);
    atomic_init(&m->opened, 0);
    atomic_init(&m->closed, 0);
    histogram_init(&m->lag, &histogram_latency_bounds);
    return 0;
}

void client_metrics_free(struct client_metrics *m)
{
    free(m->routes);
    m->routes = NULL;
    m->nroutes = 0;
}

void client_metrics_record(struct client_metrics *m, int route, enum lg_class c,
                           enum lg_error_kind err, enum lg_verdict verdict, uint64_t corrected_ns,
                           uint64_t service_ns, uint64_t lag_ns)
{
    if (route < 0 || (size_t)route >= m->nroutes)
        return;
    struct client_route *cr = &m->routes[route];
    atomic_fetch_add_explicit(&cr->requests[c], 1, memory_order_relaxed);
    if (c == LG_CLASS_ERROR) {
        atomic_fetch_add_explicit(&m->errors[err], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&cr->failed[CLIENT_FAIL_TRANSPORT], 1, memory_order_relaxed);
    } else if (verdict != LG_VERDICT_OK) {
        enum client_failure f = verdict == LG_VERDICT_BODY ? CLIENT_FAIL_BODY : CLIENT_FAIL_STATUS;
        atomic_fetch_add_explicit(&cr->failed[f], 1, memory_order_relaxed);
    }
    histogram_observe_ns(&cr->corrected, corrected_ns);
    histogram_observe_ns(&cr->service, service_ns);
    histogram_observe_ns(&m->lag, lag_ns);
}

void client_metrics_connection(struct client_metrics *m, int opened)
{
    atomic_fetch_add_explicit(opened ? &m->opened : &m->closed, 1, memory_order_relaxed);
}

static int route_seen(const struct client_route *cr)
{
    for (int c = 0; c < LG_CLASS_COUNT; c++)
        if (atomic_load_explicit(&cr->requests[c], memory_order_relaxed))
            return 1;
    return 0;
}

static void render_latency(struct client_metrics *m, int service, const char *name,
                           const char *help, struct buf *out)
{
    expo_family(out, name, "histogram", help);
    for (size_t r = 0; r < m->nroutes; r++) {
        struct client_route *cr = &m->routes[r];
        if (!route_seen(cr))
            continue;
        struct histogram_snapshot snap;
        histogram_snapshot(service ? &cr->service : &cr->corrected, &snap);
        struct expo_label label = {"route", cr->name};
        expo_histogram(out, name, &label, 1, &snap);
    }
}

static void render_requests(struct client_metrics *m, struct buf *out)
{
    expo_family(out, "loadgen_requests_total", "counter",
                "Requests loadgen completed, by route and status class (error: no HTTP "
                "response).");
    for (size_t r = 0; r < m->nroutes; r++) {
        struct client_route *cr = &m->routes[r];
        if (!route_seen(cr))
            continue;
        for (int c = 0; c < LG_CLASS_COUNT; c++) {
            struct expo_label labels[] = {{"route", cr->name}, {"class", results_class_name(c)}};
            expo_sample_u64(out, "loadgen_requests_total", labels, 2,
                            atomic_load_explicit(&cr->requests[c], memory_order_relaxed));
        }
    }
    expo_family(out, "loadgen_requests_failed_total", "counter",
                "Requests that failed the success rule, by route and reason (unexpected_status, "
                "body_mismatch, transport).");
    for (size_t r = 0; r < m->nroutes; r++) {
        struct client_route *cr = &m->routes[r];
        if (!route_seen(cr))
            continue;
        for (int f = 0; f < CLIENT_FAIL_COUNT; f++) {
            struct expo_label labels[] = {{"route", cr->name}, {"reason", failure_names[f]}};
            expo_sample_u64(out, "loadgen_requests_failed_total", labels, 2,
                            atomic_load_explicit(&cr->failed[f], memory_order_relaxed));
        }
    }
}

static void render_connections(struct client_metrics *m, struct buf *out)
{
    uint64_t opened = atomic_load_explicit(&m->opened, memory_order_relaxed);
    uint64_t closed = atomic_load_explicit(&m->closed, memory_order_relaxed);
    expo_family(out, "loadgen_connections_opened_total", "counter",
                "Connections loadgen opened (a reconnect storm shows as a steep rate).");
    expo_sample_u64(out, "loadgen_connections_opened_total", NULL, 0, opened);
    expo_family(out, "loadgen_connections_closed_total", "counter",
                "Connections closed, by either side.");
    expo_sample_u64(out, "loadgen_connections_closed_total", NULL, 0, closed);
    expo_gauge(out, "loadgen_connections_open", "Connections open now.",
               (double)(opened > closed ? opened - closed : 0));
}

void client_metrics_render(struct client_metrics *m, const struct client_gauges *g, struct buf *out)
{
    render_requests(m, out);
    expo_family(out, "loadgen_transport_errors_total", "counter",
                "Requests that got no HTTP response, by kind.");
    for (int k = 0; k < LG_ERR_COUNT; k++) {
        struct expo_label label = {"kind", results_error_name(k)};
        expo_sample_u64(out, "loadgen_transport_errors_total", &label, 1,
                        atomic_load_explicit(&m->errors[k], memory_order_relaxed));
    }
    render_latency(m, 0, "loadgen_request_duration_seconds",
                   "Latency from the intended start to the response (corrected for coordinated "
                   "omission).",
                   out);
    render_latency(m, 1, "loadgen_service_duration_seconds",
                   "Latency from sending the request to the response.", out);
    struct histogram_snapshot lag;
    histogram_snapshot(&m->lag, &lag);
    expo_family(out, "loadgen_lag_seconds", "histogram",
                "How late requests were sent after their intended start.");
    expo_histogram(out, "loadgen_lag_seconds", NULL, 0, &lag);
    render_connections(m, out);
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
