/*
 * results: recording, collecting and merging what a load run measured (see results.h).
 *
 * Invariant kept by results_record(): per route, the classes add up to the requests finished,
 * and classes[ERROR] equals the sum of errors[] — a status outside 100..599 is counted as a
 * protocol error (its code in codes[0]), so every finished request is in exactly one class.
 * Every request that got a status is ok, an unexpected status or a body mismatch, so failures
 * are classes[ERROR] + unexpected_status + body_mismatch.
 */
#include "results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[LG_CLASS_COUNT] = {"1xx", "2xx", "3xx", "4xx", "5xx", "error"};
static const char *const protocol_names[LG_PROTO_COUNT] = {"unknown", "http/1.0", "http/1.1",
                                                           "h2",      "h2c",      "h3"};
static const char *const error_names[LG_ERR_COUNT] = {"connect", "timeout", "reset", "protocol",
                                                      "other"};

const char *results_class_name(enum lg_class c)
{
    return (unsigned)c < LG_CLASS_COUNT ? class_names[c] : "unknown";
}

const char *results_protocol_name(enum lg_protocol p)
{
    return (unsigned)p < LG_PROTO_COUNT ? protocol_names[p] : "unknown";
}

enum lg_protocol results_protocol_of(const char *name)
{
    for (int p = 0; p < LG_PROTO_COUNT; p++)
        if (name && !strcmp(name, protocol_names[p]))
            return (enum lg_protocol)p;
    return LG_PROTO_UNKNOWN;
}

const char *results_error_name(enum lg_error_kind k)
{
    return (unsigned)k < LG_ERR_COUNT ? error_names[k] : "unknown";
}

enum lg_class results_class_of(int status)
{
    if (status < 100 || status > 599)
        return LG_CLASS_ERROR;
    return (enum lg_class)(LG_CLASS_1XX + (status / 100 - 1));
}

void results_init(struct lg_results *r)
{
    memset(r, 0, sizeof(*r));
    r->runs = 1;
}

void results_free(struct lg_results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nroutes; i++)
        for (size_t c = 0; c < LG_CLASS_COUNT; c++)
            free(r->routes[i].views[c]);
    free(r->routes);
    r->routes = NULL;
    r->nroutes = r->routes_cap = 0;
    free(r->series);
    r->series = NULL;
    r->series_len = r->series_cap = 0;
}

int results_route_find(const struct lg_results *r, const char *name)
{
    for (size_t i = 0; i < r->nroutes; i++)
        if (!strcmp(r->routes[i].name, name))
            return (int)i;
    return -1;
}

int results_route_add(struct lg_results *r, const char *name, const char *method, const char *route)
{
    int found = results_route_find(r, name);
    if (found >= 0)
        return found;
    if (r->nroutes == LG_ROUTES_MAX)
        return -1;
    if (r->nroutes == r->routes_cap) {
        size_t cap = r->routes_cap ? 2 * r->routes_cap : 8;
        struct lg_route_stats *routes = realloc(r->routes, cap * sizeof(*routes));
        if (!routes)
            return -1;
        r->routes = routes;
        r->routes_cap = cap;
    }
    struct lg_route_stats *rs = &r->routes[r->nroutes];
    memset(rs, 0, sizeof(*rs));
    snprintf(rs->name, sizeof(rs->name), "%s", name);
    snprintf(rs->method, sizeof(rs->method), "%s", method ? method : "");
    snprintf(rs->route, sizeof(rs->route), "%s", route ? route : "");
    return (int)r->nroutes++;
}

static struct lg_views *views_new(void)
{
    struct lg_views *v = malloc(sizeof(*v));
    if (!v)
        return NULL;
    loghist_reset(&v->corrected);
    loghist_reset(&v->service);
    loghist_reset(&v->lag);
    return v;
}

/* The views of (route, class), allocated on first use; NULL when out of memory. */
static struct lg_views *views_get(struct lg_route_stats *rs, enum lg_class c)
{
    if (!rs->views[c])
        rs->views[c] = views_new();
    return rs->views[c];
}

struct lg_views *results_views_alloc(struct lg_results *r, int route, enum lg_class c)
{
    if (route < 0 || (size_t)route >= r->nroutes || (unsigned)c >= LG_CLASS_COUNT)
        return NULL;
    return views_get(&r->routes[route], c);
}

int results_record(struct lg_results *r, int route, int status, enum lg_error_kind err,
                   enum lg_verdict verdict, uint64_t corrected_ns, uint64_t service_ns,
                   uint64_t lag_ns)
{
    if (route < 0 || (size_t)route >= r->nroutes)
        return -1;
    struct lg_route_stats *rs = &r->routes[route];
    enum lg_class c = results_class_of(status);
    if (status >= 100 && status < LG_STATUS_MAX) {
        rs->codes[status]++;
    } else if (status != 0) {
        rs->codes[0]++; /* a status no HTTP server should send */
        err = LG_ERR_PROTOCOL;
    }
    if (c == LG_CLASS_ERROR)
        rs->errors[(unsigned)err < LG_ERR_COUNT ? err : LG_ERR_OTHER]++;
    else if (verdict == LG_VERDICT_STATUS)
        rs->unexpected_status++;
    else if (verdict == LG_VERDICT_BODY)
        rs->body_mismatch++;
    rs->classes[c]++;
    struct lg_views *v = views_get(rs, c);
    if (!v)
        return -1;
    loghist_record(&v->corrected, corrected_ns);
    loghist_record(&v->service, service_ns);
    loghist_record(&v->lag, lag_ns);
    return 0;
}

const struct lg_views *results_views(const struct lg_results *r, int route, enum lg_class c)
{
    if (route < 0 || (size_t)route >= r->nroutes || (unsigned)c >= LG_CLASS_COUNT)
        return NULL;
    return r->routes[route].views[c];
}

static const struct loghist *view_of(const struct lg_views *v, enum lg_view_kind kind)
{
    switch (kind) {
    case LG_VIEW_SERVICE:
        return &v->service;
    case LG_VIEW_LAG:
        return &v->lag;
    default:
        return &v->corrected;
    }
}

void results_collect(const struct lg_results *r, int route, int class_or_all,
                     enum lg_view_kind view, struct loghist *out)
{
    loghist_reset(out);
    for (int i = 0; i < (int)r->nroutes; i++) {
        if (route >= 0 && route != i)
            continue;
        for (int c = 0; c < LG_CLASS_COUNT; c++) {
            if (class_or_all >= 0 && class_or_all != c)
                continue;
            const struct lg_views *v = r->routes[i].views[c];
            if (v)
                loghist_merge(out, view_of(v, view));
        }
    }
}

uint64_t results_route_completed(const struct lg_results *r, int route)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->nroutes; i++)
        if (route < 0 || (size_t)route == i)
            for (size_t c = 0; c < LG_CLASS_COUNT; c++)
                n += r->routes[i].classes[c];
    return n;
}

uint64_t results_route_failed(const struct lg_results *r, int route)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->nroutes; i++)
        if (route < 0 || (size_t)route == i)
            n += r->routes[i].classes[LG_CLASS_ERROR] + r->routes[i].unexpected_status +
                 r->routes[i].body_mismatch;
    return n;
}

uint64_t results_class_total(const struct lg_results *r, enum lg_class c)
{
    uint64_t n = 0;
    if ((unsigned)c >= LG_CLASS_COUNT)
        return 0;
    for (size_t i = 0; i < r->nroutes; i++)
        n += r->routes[i].classes[c];
    return n;
}

uint64_t results_code_total(const struct lg_results *r, int status)
{
    uint64_t n = 0;
    if (status < 0 || status >= LG_STATUS_MAX)
        return 0;
    for (size_t i = 0; i < r->nroutes; i++)
        n += r->routes[i].codes[status];
    return n;
}

uint64_t results_error_total(const struct lg_results *r)
{
    return results_route_failed(r, -1);
}

double results_achieved_rate(const struct lg_results *r)
{
    if (r->duration_ns == 0)
        return 0;
    return (double)r->completed / ((double)r->duration_ns / 1e9);
}

static int series_reserve(struct lg_results *r, size_t need)
{
    if (need <= r->series_cap)
        return 0;
    size_t cap = r->series_cap ? r->series_cap : 64;
    while (cap < need)
        cap *= 2;
    struct lg_interval *rows = realloc(r->series, cap * sizeof(*rows));
    if (!rows)
        return -1;
    r->series = rows;
    r->series_cap = cap;
    return 0;
}

int results_append_interval(struct lg_results *r, const struct lg_interval *row)
{
    if (series_reserve(r, r->series_len + 1) != 0)
        return -1;
    r->series[r->series_len++] = *row;
    return 0;
}

/* ---- merging ---- */

static int route_merge(struct lg_route_stats *dst, const struct lg_route_stats *src)
{
    dst->unexpected_status += src->unexpected_status;
    dst->body_mismatch += src->body_mismatch;
    for (size_t i = 0; i < LG_STATUS_MAX; i++)
        dst->codes[i] += src->codes[i];
    for (size_t k = 0; k < LG_ERR_COUNT; k++)
        dst->errors[k] += src->errors[k];
    for (size_t c = 0; c < LG_CLASS_COUNT; c++) {
        dst->classes[c] += src->classes[c];
        const struct lg_views *s = src->views[c];
        if (!s)
            continue;
        struct lg_views *d = views_get(dst, (enum lg_class)c);
        if (!d)
            return -1;
        loghist_merge(&d->corrected, &s->corrected);
        loghist_merge(&d->service, &s->service);
        loghist_merge(&d->lag, &s->lag);
    }
    return 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Two runs' rows for the same wall-clock second: counts, rates and in-flight states add (the
 * machines ran side by side). Percentiles cannot be combined exactly from percentiles, so the
 * merged row keeps the worst (highest) of the two: an upper bound, never an understatement. */
static void interval_add(struct lg_interval *dst, const struct lg_interval *src)
{
    dst->target_rate += src->target_rate;
    dst->scheduled += src->scheduled;
    dst->started += src->started;
    dst->completed += src->completed;
    for (size_t c = 0; c < LG_CLASS_COUNT; c++)
        dst->classes[c] += src->classes[c];
    dst->failed += src->failed;
    dst->opened += src->opened;
    dst->closed += src->closed;
    dst->in_flight += src->in_flight;
    dst->backlog += src->backlog;
    dst->corrected_p50_ns = max_u64(dst->corrected_p50_ns, src->corrected_p50_ns);
    dst->corrected_p90_ns = max_u64(dst->corrected_p90_ns, src->corrected_p90_ns);
    dst->corrected_p99_ns = max_u64(dst->corrected_p99_ns, src->corrected_p99_ns);
    dst->corrected_max_ns = max_u64(dst->corrected_max_ns, src->corrected_max_ns);
    dst->service_p99_ns = max_u64(dst->service_p99_ns, src->service_p99_ns);
    dst->lag_p99_ns = max_u64(dst->lag_p99_ns, src->lag_p99_ns);
}

/* The wall-clock second (since the epoch, rounded) a row of a run starting at start_ns covers. */
static int64_t row_second(uint64_t start_ns, const struct lg_interval *row)
{
    double offset_ns = row->t > 0 ? row->t * 1e9 : 0;
    uint64_t abs_ns = start_ns + (uint64_t)llround(offset_ns);
    return (int64_t)((abs_ns + 500000000u) / 1000000000u);
}

/* Appends row (at wall-clock second sec) to out, adding it to the last row if that is the same
 * second. t is re-based on the merged run's start second base. */
static void series_push(struct lg_interval *out, size_t *n, int64_t *last_sec, int64_t sec,
                        int64_t base, const struct lg_interval *row)
{
    if (*n > 0 && *last_sec == sec) {
        interval_add(&out[*n - 1], row);
        return;
    }
    out[*n] = *row;
    out[*n].t = (double)(sec - base);
    *last_sec = sec;
    (*n)++;
}

/* Merges two series (each oldest first) by wall-clock second into a new array. */
static int series_merge(struct lg_results *dst, const struct lg_results *src, uint64_t dst_start,
                        uint64_t merged_start)
{
    size_t total = dst->series_len + src->series_len;
    if (src->series_len == 0 && dst_start == merged_start)
        return 0;
    struct lg_interval *out = malloc((total ? total : 1) * sizeof(*out));
    if (!out)
        return -1;
    int64_t base = (int64_t)((merged_start + 500000000u) / 1000000000u);
    size_t i = 0, j = 0, n = 0;
    int64_t last = 0;
    while (i < dst->series_len || j < src->series_len) {
        int64_t a = i < dst->series_len ? row_second(dst_start, &dst->series[i]) : INT64_MAX;
        int64_t b =
            j < src->series_len ? row_second(src->start_unix_ns, &src->series[j]) : INT64_MAX;
        if (a <= b)
            series_push(out, &n, &last, a, base, &dst->series[i++]);
        else
            series_push(out, &n, &last, b, base, &src->series[j++]);
    }
    free(dst->series);
    dst->series = out;
    dst->series_len = n;
    dst->series_cap = total ? total : 1;
    return 0;
}

static void totals_merge(struct lg_results *dst, const struct lg_results *src)
{
    dst->target_rate += src->target_rate; /* shards split one rate */
    dst->connections += src->connections;
    dst->threads += src->threads;
    dst->runs += src->runs;
    dst->duration_ns = max_u64(dst->duration_ns, src->duration_ns);
    dst->scheduled += src->scheduled;
    dst->started += src->started;
    dst->completed += src->completed;
    dst->not_started += src->not_started;
    dst->cancelled += src->cancelled;
    dst->bytes_received += src->bytes_received;
    dst->connections_opened += src->connections_opened;
    dst->connections_closed += src->connections_closed;
    for (int p = 0; p < LG_PROTO_COUNT; p++)
        dst->protocols[p] += src->protocols[p];
}

int results_merge(struct lg_results *dst, const struct lg_results *src)
{
    uint64_t dst_start = dst->start_unix_ns;
    uint64_t start = dst_start;
    if (src->start_unix_ns < start || start == 0)
        start = src->start_unix_ns;
    if (series_merge(dst, src, dst_start, start) != 0)
        return -1;
    dst->start_unix_ns = start;
    totals_merge(dst, src);
    for (size_t i = 0; i < src->nroutes; i++) {
        const struct lg_route_stats *s = &src->routes[i];
        int d = results_route_add(dst, s->name, s->method, s->route);
        if (d < 0 || route_merge(&dst->routes[d], s) != 0)
            return -1;
    }
    return 0;
}
