/*
 * report_json: writing the versioned JSON result (schema in docs/loadgen-json.md).
 *
 * Durations are seconds with nine decimals, so every nanosecond figure reads back exactly;
 * rates are shortest-round-trip doubles. The two 64-bit fields that outgrow a double's 53 bits
 * in practice (start_unix_ns, a histogram's sum_ns) are decimal strings, because JSON readers
 * (cJSON, JavaScript, jq) hold numbers as doubles. Reading lives in report_json_read.c.
 */
#include "report_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "clock.h"
#include "json_writer.h"
#include "version.h"

int report_meta_set(struct report_meta *meta, const char *target, const char *mode)
{
    if (strlen(target) >= sizeof(meta->target))
        return -1;
    if (strcmp(mode, "tasks") != 0 && strcmp(mode, "raw") != 0 && strcmp(mode, "targets") != 0)
        return -1;
    snprintf(meta->target, sizeof(meta->target), "%s", target);
    snprintf(meta->mode, sizeof(meta->mode), "%s", mode);
    snprintf(meta->tool_version, sizeof(meta->tool_version), "%s", taskbench_version());
    return 0;
}

static void put_seconds(struct json_writer *w, uint64_t ns)
{
    jw_fixed(w, (double)ns / 1e9, 9);
}

static void put_seconds_or_null(struct json_writer *w, int present, double ns)
{
    if (present)
        jw_fixed(w, ns / 1e9, 9);
    else
        jw_null(w);
}

static void put_u64_string(struct json_writer *w, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
    jw_string(w, s);
}

static void put_ratio(struct json_writer *w, uint64_t num, uint64_t den)
{
    jw_double(w, den ? (double)num / (double)den : 0);
}

/* {"count":..,"min":s,"mean":s,"p50":s,"p90":s,"p99":s,"p999":s,"max":s}; null when empty. */
static void put_summary(struct json_writer *w, const struct loghist *h)
{
    static const struct {
        const char *key;
        double q;
    } qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
    jw_object_begin(w);
    jw_member_uint(w, "count", h->count);
    jw_key(w, "min");
    put_seconds_or_null(w, h->count > 0, (double)h->min_ns);
    jw_key(w, "mean");
    put_seconds_or_null(w, h->count > 0, loghist_mean_ns(h));
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        jw_key(w, qs[i].key);
        put_seconds_or_null(w, h->count > 0, (double)loghist_quantile(h, qs[i].q));
    }
    jw_key(w, "max");
    put_seconds_or_null(w, h->count > 0, (double)h->max_ns);
    jw_object_end(w);
}

/* The exact histogram: {"count","min_ns","max_ns","sum_ns":"…","buckets":[[index,count],…]}. */
static void put_histogram(struct json_writer *w, const struct loghist *h)
{
    jw_object_begin(w);
    jw_member_uint(w, "count", h->count);
    jw_member_uint(w, "min_ns", h->count ? h->min_ns : 0);
    jw_member_uint(w, "max_ns", h->max_ns);
    jw_key(w, "sum_ns");
    put_u64_string(w, h->sum_ns);
    jw_key(w, "buckets");
    jw_array_begin(w);
    for (size_t i = 0; i < LOGHIST_BUCKETS && !w->failed; i++) {
        if (h->counts[i] == 0)
            continue;
        jw_array_begin(w);
        jw_uint(w, i);
        jw_uint(w, h->counts[i]);
        jw_array_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

static void put_three_summaries(struct json_writer *w, const struct loghist *c,
                                const struct loghist *s, const struct loghist *l)
{
    jw_object_begin(w);
    jw_key(w, "corrected");
    put_summary(w, c);
    jw_key(w, "service");
    put_summary(w, s);
    jw_key(w, "lag");
    put_summary(w, l);
    jw_object_end(w);
}

/* {"2xx":n,…} with only the non-zero classes. */
static void put_classes(struct json_writer *w, const uint64_t classes[LG_CLASS_COUNT])
{
    jw_object_begin(w);
    for (int c = 0; c < LG_CLASS_COUNT; c++) {
        if (!classes[c])
            continue;
        jw_key(w, results_class_name((enum lg_class)c));
        jw_uint(w, classes[c]);
    }
    jw_object_end(w);
}

/* {"201":n,…,"other":n}: non-zero codes; "other" counts statuses outside 100..599. */
static void put_codes(struct json_writer *w, const uint64_t codes[LG_STATUS_MAX])
{
    jw_object_begin(w);
    for (int code = 1; code < LG_STATUS_MAX; code++) {
        if (!codes[code])
            continue;
        char key[8];
        snprintf(key, sizeof(key), "%d", code);
        jw_key(w, key);
        jw_uint(w, codes[code]);
    }
    if (codes[0]) {
        jw_member_uint(w, "other", codes[0]);
    }
    jw_object_end(w);
}

/* {"connect":n,…}: every kind, zeros included, so the shape never changes. */
static void put_errors(struct json_writer *w, const uint64_t errors[LG_ERR_COUNT])
{
    jw_object_begin(w);
    for (int k = 0; k < LG_ERR_COUNT; k++) {
        jw_key(w, results_error_name((enum lg_error_kind)k));
        jw_uint(w, errors[k]);
    }
    jw_object_end(w);
}

static void put_by_class(struct json_writer *w, const struct lg_route_stats *rs)
{
    jw_array_begin(w);
    for (int c = 0; c < LG_CLASS_COUNT; c++) {
        const struct lg_views *v = rs->views[c];
        if (!v)
            continue;
        jw_object_begin(w);
        jw_member_string(w, "class", results_class_name((enum lg_class)c));
        jw_member_uint(w, "count", rs->classes[c]);
        jw_key(w, "latency");
        put_three_summaries(w, &v->corrected, &v->service, &v->lag);
        jw_key(w, "histograms");
        jw_object_begin(w);
        jw_key(w, "corrected");
        put_histogram(w, &v->corrected);
        jw_key(w, "service");
        put_histogram(w, &v->service);
        jw_key(w, "lag");
        put_histogram(w, &v->lag);
        jw_object_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* Scratch histograms for the merged summaries (~660 KiB, so on the heap). */
struct scratch {
    struct loghist corrected, service, lag;
};

static void collect_three(const struct lg_results *r, int route, struct scratch *s)
{
    results_collect(r, route, -1, LG_VIEW_CORRECTED, &s->corrected);
    results_collect(r, route, -1, LG_VIEW_SERVICE, &s->service);
    results_collect(r, route, -1, LG_VIEW_LAG, &s->lag);
}

static void put_route(struct json_writer *w, const struct lg_results *r, int i, uint64_t requests,
                      struct scratch *s)
{
    const struct lg_route_stats *rs = &r->routes[i];
    double seconds = (double)r->duration_ns / 1e9;
    uint64_t failed = results_route_failed(r, i);
    jw_object_begin(w);
    jw_member_string(w, "name", rs->name);
    jw_member_string(w, "method", rs->method);
    jw_member_string(w, "route", rs->route);
    jw_member_uint(w, "requests", requests);
    jw_member_double(w, "rate", seconds > 0 ? (double)requests / seconds : 0);
    jw_key(w, "classes");
    put_classes(w, rs->classes);
    jw_key(w, "codes");
    put_codes(w, rs->codes);
    jw_key(w, "errors");
    put_errors(w, rs->errors);
    jw_member_uint(w, "unexpected_status", rs->unexpected_status);
    jw_member_uint(w, "body_mismatch", rs->body_mismatch);
    jw_member_uint(w, "failed", failed);
    jw_key(w, "error_ratio");
    put_ratio(w, failed, requests);
    jw_key(w, "latency");
    collect_three(r, i, s);
    put_three_summaries(w, &s->corrected, &s->service, &s->lag);
    jw_key(w, "by_class");
    put_by_class(w, rs);
    jw_object_end(w);
}

static void put_routes(struct json_writer *w, const struct lg_results *r, struct scratch *s)
{
    jw_array_begin(w);
    for (int i = 0; i < (int)r->nroutes; i++) {
        uint64_t requests = results_route_completed(r, i);
        if (requests)
            put_route(w, r, i, requests, s);
    }
    jw_array_end(w);
}

static void put_totals(struct json_writer *w, const struct lg_results *r)
{
    uint64_t classes[LG_CLASS_COUNT] = {0}, errors[LG_ERR_COUNT] = {0}, codes[LG_STATUS_MAX] = {0};
    uint64_t unexpected = 0, mismatch = 0;
    for (size_t i = 0; i < r->nroutes; i++) {
        const struct lg_route_stats *rs = &r->routes[i];
        unexpected += rs->unexpected_status;
        mismatch += rs->body_mismatch;
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            classes[c] += rs->classes[c];
        for (int k = 0; k < LG_ERR_COUNT; k++)
            errors[k] += rs->errors[k];
        for (int code = 0; code < LG_STATUS_MAX; code++)
            codes[code] += rs->codes[code];
    }
    static const char *const keys[] = {"scheduled",   "started",   "completed",
                                       "not_started", "cancelled", "bytes_received"};
    const uint64_t values[] = {r->scheduled,   r->started,   r->completed,
                               r->not_started, r->cancelled, r->bytes_received};
    jw_object_begin(w);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        jw_key(w, keys[i]);
        jw_uint(w, values[i]);
    }
    jw_key(w, "classes");
    put_classes(w, classes);
    jw_key(w, "codes");
    put_codes(w, codes);
    jw_key(w, "errors");
    put_errors(w, errors);
    jw_member_uint(w, "unexpected_status", unexpected);
    jw_member_uint(w, "body_mismatch", mismatch);
    jw_member_uint(w, "failed", results_error_total(r));
    jw_key(w, "error_ratio");
    put_ratio(w, results_error_total(r), r->completed);
    jw_key(w, "connections");
    jw_object_begin(w);
    jw_member_uint(w, "opened", r->connections_opened);
    jw_member_uint(w, "closed", r->connections_closed);
    jw_object_end(w);
    jw_key(w, "protocols");
    jw_object_begin(w);
    for (int p = 0; p < LG_PROTO_COUNT; p++)
        if (r->protocols[p])
            jw_member_uint(w, results_protocol_name((enum lg_protocol)p), r->protocols[p]);
    jw_object_end(w);
    jw_object_end(w);
}

static void put_rate(struct json_writer *w, const struct lg_results *r)
{
    double achieved = results_achieved_rate(r);
    int has_target = r->target_rate > 0; /* 0 in the closed model */
    jw_object_begin(w);
    jw_member_double(w, "target", has_target ? r->target_rate : NAN); /* NaN is written as null */
    jw_member_double(w, "achieved", achieved);
    jw_member_double(w, "achieved_ratio", has_target ? achieved / r->target_rate : NAN);
    jw_object_end(w);
}

static void put_series_row(struct json_writer *w, const struct lg_interval *row)
{
    static const char *const keys[] = {"scheduled", "started", "completed", "rate"};
    const uint64_t values[] = {row->scheduled, row->started, row->completed, row->completed};
    jw_object_begin(w);
    jw_member_double(w, "t", row->t);
    jw_member_double(w, "target_rate", row->target_rate);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        jw_key(w, keys[i]); /* a row is one second: its rate is its completions */
        jw_uint(w, values[i]);
    }
    jw_key(w, "classes");
    put_classes(w, row->classes);
    jw_member_uint(w, "failed", row->failed);
    jw_member_uint(w, "connections_opened", row->opened);
    jw_member_uint(w, "connections_closed", row->closed);
    jw_member_uint(w, "in_flight", row->in_flight);
    jw_member_uint(w, "backlog", row->backlog);
    jw_key(w, "latency");
    jw_object_begin(w);
    jw_key(w, "p50");
    put_seconds(w, row->corrected_p50_ns);
    jw_key(w, "p90");
    put_seconds(w, row->corrected_p90_ns);
    jw_key(w, "p99");
    put_seconds(w, row->corrected_p99_ns);
    jw_key(w, "max");
    put_seconds(w, row->corrected_max_ns);
    jw_object_end(w);
    jw_key(w, "service_p99");
    put_seconds(w, row->service_p99_ns);
    jw_key(w, "lag_p99");
    put_seconds(w, row->lag_p99_ns);
    jw_object_end(w);
}

static void put_number(struct json_writer *w, double v, int decimals)
{
    if (decimals >= 0)
        jw_fixed(w, v, decimals);
    else
        jw_double(w, v);
}

static void put_thresholds(struct json_writer *w, const struct threshold_result *th, size_t n)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        jw_object_begin(w);
        jw_member_string(w, "expr", th[i].th.expr);
        jw_member_string(w, "metric", th[i].th.metric);
        /* latency in seconds to the nanosecond, like every duration here; NaN becomes null */
        int decimals = th[i].th.kind == THRESHOLD_LATENCY ? 9 : -1;
        jw_key(w, "value");
        put_number(w, th[i].value, decimals);
        jw_key(w, "limit");
        put_number(w, th[i].th.limit, decimals);
        jw_member_bool(w, "ok", th[i].ok);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void put_head(struct json_writer *w, const struct lg_results *r,
                     const struct report_meta *meta)
{
    char started[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(r->start_unix_ns, started);
    jw_member_string(w, "schema", REPORT_SCHEMA);
    jw_member_uint(w, "version", RESULTS_SCHEMA_VERSION);
    jw_key(w, "tool");
    jw_object_begin(w);
    jw_member_string(w, "name", "loadgen");
    jw_member_string(w, "version", taskbench_version());
    jw_object_end(w);
    jw_member_string(w, "target", meta->target);
    jw_member_string(w, "mode", meta->mode);
    jw_member_string(w, "model", r->model == LG_MODEL_OPEN ? "open" : "closed");
    jw_member_string(w, "started_at", started);
    jw_key(w, "start_unix_ns");
    put_u64_string(w, r->start_unix_ns);
    jw_key(w, "duration_seconds");
    put_seconds(w, r->duration_ns);
    static const char *const keys[] = {"threads", "connections", "runs"};
    const uint64_t values[] = {r->threads, r->connections, r->runs};
    for (size_t i = 0; i < 3; i++) {
        jw_key(w, keys[i]);
        jw_uint(w, values[i]);
    }
}

static void put_layout(struct json_writer *w)
{
    jw_object_begin(w);
    jw_member_string(w, "unit", "ns");
    jw_member_uint(w, "sub_bucket_bits", LOGHIST_SUB_BITS);
    jw_member_uint(w, "max_exponent", LOGHIST_MAX_EXP);
    jw_object_end(w);
}

int report_json_render(const struct lg_results *r, const struct report_meta *meta,
                       const struct threshold_result *th, size_t nth, struct buf *out)
{
    struct scratch *s = malloc(sizeof(*s));
    if (!s)
        return -1;
    struct json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    put_head(&w, r, meta);
    jw_key(&w, "rate");
    put_rate(&w, r);
    jw_key(&w, "totals");
    put_totals(&w, r);
    jw_key(&w, "latency");
    collect_three(r, -1, s);
    put_three_summaries(&w, &s->corrected, &s->service, &s->lag);
    jw_key(&w, "routes");
    put_routes(&w, r, s);
    jw_key(&w, "histogram_layout");
    put_layout(&w);
    jw_key(&w, "series");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->series_len && !w.failed; i++)
        put_series_row(&w, &r->series[i]);
    jw_array_end(&w);
    jw_key(&w, "thresholds");
    put_thresholds(&w, th, nth);
    jw_object_end(&w);
    free(s);
    if (w.failed || buf_putc(out, '\n') != 0)
        return -1;
    return 0;
}

int report_json_write_file(const char *path, const struct lg_results *r,
                           const struct report_meta *meta, const struct threshold_result *th,
                           size_t nth, char *err, size_t errlen)
{
    int rc = -1;
    struct buf b;
    buf_init(&b, REPORT_JSON_LIMIT);
    if (report_json_render(r, meta, th, nth, &b) != 0) {
        snprintf(err, errlen,
                 "cannot write the JSON result to %s: it exceeds %zu MiB or memory ran out", path,
                 REPORT_JSON_LIMIT >> 20);
        goto out;
    }
    if (strcmp(path, "-") == 0) {
        if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
            goto failed;
        rc = 0;
        goto out;
    }
    /* Atomically: a merge step polling for this file never reads half a result. */
    struct atomic_file af;
    if (atomic_file_open(&af, path))
        goto failed;
    fwrite(b.data, 1, b.len, af.f);
    if (atomic_file_commit(&af))
        goto failed;
    rc = 0;
    goto out;
failed:
    snprintf(err, errlen, "cannot write the JSON result to %s: %s", path, strerror(errno));
out:
    buf_free(&b);
    return rc;
}
