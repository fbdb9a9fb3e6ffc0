/*
 * Unit tests for loadgen/report_json: a rendered result reads back into exactly the struct it
 * came from (histograms byte for byte, 64-bit fields beyond 2^53 included), through a string
 * and through a file; the document carries the schema's fields with the right values; and the
 * reader refuses other schemas, versions and layouts, and damaged fields, naming what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_json.h"
#include "temp_names.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define START_NS UINT64_C(1764219662123456789) /* beyond 2^53: a double would lose it */
#define ROUTE_RAW 5

/* The task mix's five routes and "raw", as the engine names them. */
static void init_routes(struct lg_results *r)
{
    static const char *const names[] = {"create", "read", "update", "delete", "list", "raw"};
    static const char *const methods[] = {"POST", "GET", "PUT", "DELETE", "GET", "GET"};
    static const char *const templates[] = {"/tasks",      "/tasks/{id}", "/tasks/{id}",
                                            "/tasks/{id}", "/tasks",      "http://h/x"};
    results_init(r);
    for (int i = 0; i < 6; i++)
        assert_int_equal(results_route_add(r, names[i], methods[i], templates[i]), i);
}

/* 2xx and 3xx succeed, other statuses fail (the default rule). */
static void record(struct lg_results *r, int route, int status, enum lg_error_kind err,
                   uint64_t corrected, uint64_t service, uint64_t lag)
{
    enum lg_verdict v = status >= 200 && status < 400 ? LG_VERDICT_OK : LG_VERDICT_STATUS;
    results_record(r, route, status, err, v, corrected, service, lag);
}

static void record_many(struct lg_results *r)
{
    for (uint64_t i = 1; i <= 3000; i++) {
        enum lg_route route = (enum lg_route)(i % 5);
        int status = i % 97 == 0 ? 503 : i % 31 == 0 ? 404 : route == LG_ROUTE_CREATE ? 201 : 200;
        record(r, route, status, 0, i * 7919 % (200 * MS) + 1, i * 3 % (50 * MS), i % 1000);
    }
    record(r, LG_ROUTE_READ, 0, LG_ERR_TIMEOUT, 10 * SEC, 10 * SEC, 0);
    record(r, LG_ROUTE_READ, 0, LG_ERR_CONNECT, 3 * MS, 2 * MS, 0);
    record(r, ROUTE_RAW, 777, 0, 42, 41, 0); /* an impossible status: codes "other" */
    record(r, LG_ROUTE_UPDATE, 200, 0, UINT64_C(1) << 40, 5, 0); /* clamped */
    /* 10000 values of 1000 s: a sum of 10^16 ns, beyond 2^53 */
    for (int i = 0; i < 10000; i++)
        record(r, LG_ROUTE_LIST, 302, 0, 1000 * SEC, 1000 * SEC, 0);
}

static void build(struct lg_results *r)
{
    init_routes(r);
    r->model = LG_MODEL_OPEN;
    r->target_rate = 1000.0 / 3;
    r->connections = 64;
    r->threads = 3;
    r->start_unix_ns = START_NS;
    r->duration_ns = 30 * SEC + 7;
    r->scheduled = 13010;
    r->started = 13004;
    r->completed = 13004;
    r->not_started = 6;
    r->cancelled = 2;
    r->bytes_received = UINT64_C(123456789012);
    r->connections_opened = 70;
    r->connections_closed = 6;
    record_many(r);
    record(r, LG_ROUTE_READ, 200, 0, MS, MS, 0);
    results_record(r, LG_ROUTE_READ, 200, 0, LG_VERDICT_BODY, MS, MS, 0);
    for (int t = 0; t < 30; t++) {
        struct lg_interval row = {.t = t,
                                  .target_rate = 1000.0 / 3 + t,
                                  .scheduled = 333,
                                  .started = 330,
                                  .completed = 329 + (uint64_t)t % 2,
                                  .in_flight = 4,
                                  .backlog = (uint64_t)t,
                                  .corrected_p50_ns = 12345678,
                                  .corrected_p90_ns = 23456789,
                                  .corrected_p99_ns = 987654321,
                                  .corrected_max_ns = 10 * SEC,
                                  .service_p99_ns = 1,
                                  .lag_p99_ns = (uint64_t)t * 1000};
        row.classes[LG_CLASS_2XX] = 320;
        row.classes[LG_CLASS_5XX] = 9;
        row.classes[LG_CLASS_ERROR] = (uint64_t)t % 2;
        row.failed = 9 + (uint64_t)t % 2;
        row.opened = (uint64_t)t / 10;
        row.closed = (uint64_t)t / 20;
        assert_int_equal(results_append_interval(r, &row), 0);
    }
}

static void assert_views_equal(const struct lg_views *a, const struct lg_views *b)
{
    if (!a || !b) {
        assert_true(a == b);
        return;
    }
    assert_memory_equal(a, b, sizeof(*a));
}

static void assert_results_equal(const struct lg_results *a, const struct lg_results *b)
{
    assert_int_equal(a->model, b->model);
    assert_true(a->target_rate == b->target_rate);
    assert_int_equal(a->connections, b->connections);
    assert_int_equal(a->threads, b->threads);
    assert_int_equal(a->runs, b->runs);
    assert_true(a->start_unix_ns == b->start_unix_ns);
    assert_int_equal(a->duration_ns, b->duration_ns);
    assert_int_equal(a->scheduled, b->scheduled);
    assert_int_equal(a->started, b->started);
    assert_int_equal(a->completed, b->completed);
    assert_int_equal(a->not_started, b->not_started);
    assert_int_equal(a->cancelled, b->cancelled);
    assert_int_equal(a->bytes_received, b->bytes_received);
    assert_int_equal(a->connections_opened, b->connections_opened);
    assert_int_equal(a->connections_closed, b->connections_closed);
    size_t used = 0; /* routes without requests are not written */
    for (size_t i = 0; i < a->nroutes; i++) {
        const struct lg_route_stats *x = &a->routes[i];
        if (!results_route_completed(a, (int)i))
            continue;
        assert_true(used < b->nroutes);
        const struct lg_route_stats *y = &b->routes[used++];
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->method, y->method);
        assert_string_equal(x->route, y->route);
        assert_int_equal(x->unexpected_status, y->unexpected_status);
        assert_int_equal(x->body_mismatch, y->body_mismatch);
        assert_memory_equal(x->codes, y->codes, sizeof(x->codes));
        assert_memory_equal(x->errors, y->errors, sizeof(x->errors));
        assert_memory_equal(x->classes, y->classes, sizeof(x->classes));
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            assert_views_equal(x->views[c], y->views[c]);
    }
    assert_int_equal(used, b->nroutes);
    assert_int_equal(a->series_len, b->series_len);
    if (a->series_len)
        assert_memory_equal(a->series, b->series, a->series_len * sizeof(*a->series));
}

static struct report_meta meta_for(const char *target, const char *mode)
{
    struct report_meta m;
    assert_int_equal(report_meta_set(&m, target, mode), 0);
    return m;
}

/* Renders r; the caller frees the text. */
static char *render(const struct lg_results *r, const struct threshold_result *th, size_t nth)
{
    struct report_meta m = meta_for("http://127.0.0.1:8080", "tasks");
    struct buf b;
    buf_init(&b, REPORT_JSON_LIMIT);
    assert_int_equal(report_json_render(r, &m, th, nth, &b), 0);
    return buf_detach(&b, NULL);
}

static const cJSON *at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        fail_msg("no member \"%s\"", key);
    return v;
}

static void test_report_json_round_trip_is_exact(void **state)
{
    (void)state;
    struct lg_results r, back;
    struct report_meta meta;
    char err[512] = "";
    build(&r);
    char *text = render(&r, NULL, 0);
    int rc = report_json_parse(text, strlen(text), &back, &meta, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    assert_results_equal(&r, &back);
    assert_string_equal(meta.target, "http://127.0.0.1:8080");
    assert_string_equal(meta.mode, "tasks");
    assert_true(meta.tool_version[0] != '\0');
    /* and rendering what was read gives the same document */
    char *again = render(&back, NULL, 0);
    assert_string_equal(text, again);
    free(again);
    free(text);
    results_free(&r);
    results_free(&back);
}

static void test_report_json_round_trip_through_a_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_report_json." MKSTEMP_SUFFIX;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct lg_results r, back;
    struct report_meta meta = meta_for("http://example.test/x?y=1", "raw"), got;
    char err[512] = "";
    build(&r);
    r.model = LG_MODEL_CLOSED;
    r.target_rate = 0;
    assert_int_equal(report_json_write_file(path, &r, &meta, NULL, 0, err, sizeof(err)), 0);
    int rc = report_json_read_file(path, &back, &got, err, sizeof(err));
    unlink(path);
    if (rc != 0)
        fail_msg("%s", err);
    assert_results_equal(&r, &back);
    assert_string_equal(got.target, "http://example.test/x?y=1");
    assert_string_equal(got.mode, "raw");
    results_free(&r);
    results_free(&back);
}

static void test_report_json_empty_result_round_trips(void **state)
{
    (void)state;
    struct lg_results r, back;
    char err[512] = "";
    init_routes(&r);
    char *text = render(&r, NULL, 0);
    assert_int_equal(report_json_parse(text, strlen(text), &back, NULL, err, sizeof(err)), 0);
    assert_results_equal(&r, &back);
    cJSON *doc = cJSON_Parse(text);
    cJSON *corrected = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "latency"), "corrected");
    assert_int_equal(cJSON_GetObjectItem(corrected, "count")->valuedouble, 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(corrected, "p99")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "routes")), 0);
    assert_true(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "totals"), "error_ratio")->valuedouble == 0);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
    results_free(&back);
}

static void test_report_json_head_and_rate_fields(void **state)
{
    (void)state;
    struct lg_results r;
    build(&r);
    char *text = render(&r, NULL, 0);
    cJSON *doc = cJSON_Parse(text);
    assert_string_equal(at(doc, "schema")->valuestring, "taskbench.loadgen.result");
    assert_int_equal(at(doc, "version")->valuedouble, 2);
    assert_string_equal(at(at(doc, "tool"), "name")->valuestring, "loadgen");
    assert_string_equal(at(doc, "target")->valuestring, "http://127.0.0.1:8080");
    assert_string_equal(at(doc, "mode")->valuestring, "tasks");
    assert_string_equal(at(doc, "model")->valuestring, "open");
    assert_string_equal(at(doc, "started_at")->valuestring, "2025-11-27T05:01:02.123Z");
    assert_string_equal(at(doc, "start_unix_ns")->valuestring, "1764219662123456789");
    assert_non_null(strstr(text, "\"duration_seconds\":30.000000007,"));
    assert_int_equal(at(doc, "threads")->valuedouble, 3);
    assert_int_equal(at(doc, "connections")->valuedouble, 64);
    assert_int_equal(at(doc, "runs")->valuedouble, 1);
    const cJSON *rate = at(doc, "rate");
    assert_true(at(rate, "target")->valuedouble == 1000.0 / 3);
    assert_true(at(rate, "achieved")->valuedouble == 13004 / 30.000000007);
    assert_true(at(rate, "achieved_ratio")->valuedouble == (13004 / 30.000000007) / (1000.0 / 3));
    const cJSON *layout = at(doc, "histogram_layout");
    assert_string_equal(at(layout, "unit")->valuestring, "ns");
    assert_int_equal(at(layout, "sub_bucket_bits")->valuedouble, 10);
    assert_int_equal(at(layout, "max_exponent")->valuedouble, 36);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
}

static void test_report_json_closed_model_has_null_target(void **state)
{
    (void)state;
    struct lg_results r;
    build(&r);
    r.model = LG_MODEL_CLOSED;
    r.target_rate = 0;
    char *text = render(&r, NULL, 0);
    assert_non_null(strstr(text, "\"model\":\"closed\""));
    assert_non_null(strstr(text, "\"rate\":{\"target\":null,"));
    assert_non_null(strstr(text, "\"achieved_ratio\":null}"));
    free(text);
    results_free(&r);
}

static void test_report_json_totals_count_classes_codes_and_errors(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    r.completed = 6;
    r.connections_opened = 3;
    r.duration_ns = SEC;
    record(&r, LG_ROUTE_CREATE, 201, 0, MS, MS, 0);
    record(&r, LG_ROUTE_CREATE, 201, 0, MS, MS, 0);
    record(&r, LG_ROUTE_READ, 503, 0, MS, MS, 0);
    record(&r, LG_ROUTE_READ, 0, LG_ERR_RESET, MS, MS, 0);
    record(&r, LG_ROUTE_READ, 999, 0, MS, MS, 0);
    results_record(&r, LG_ROUTE_READ, 200, 0, LG_VERDICT_BODY, MS, MS, 0);
    char *text = render(&r, NULL, 0);
    assert_non_null(strstr(text, "\"classes\":{\"2xx\":3,\"5xx\":1,\"error\":2},"
                                 "\"codes\":{\"200\":1,\"201\":2,\"503\":1,\"other\":1},"
                                 "\"errors\":{\"connect\":0,\"timeout\":0,\"reset\":1,"
                                 "\"protocol\":1,\"other\":0},\"unexpected_status\":1,"
                                 "\"body_mismatch\":1,\"failed\":4,\"error_ratio\":"));
    assert_non_null(strstr(text, "\"connections\":{\"opened\":3,\"closed\":0}"));
    cJSON *doc = cJSON_Parse(text);
    assert_true(at(at(doc, "totals"), "error_ratio")->valuedouble == 4.0 / 6);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
}

static void test_report_json_route_latency_and_histograms(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    r.completed = 3;
    r.duration_ns = 2 * SEC;
    record(&r, LG_ROUTE_DELETE, 204, 0, 10 * MS, 8 * MS, 2 * MS);
    record(&r, LG_ROUTE_DELETE, 204, 0, 20 * MS, 9 * MS, 11 * MS);
    record(&r, LG_ROUTE_DELETE, 404, 0, 1000, 900, 100);
    char *text = render(&r, NULL, 0);
    cJSON *doc = cJSON_Parse(text);
    const cJSON *routes = at(doc, "routes");
    assert_int_equal(cJSON_GetArraySize(routes), 1); /* only routes with requests */
    const cJSON *del = cJSON_GetArrayItem(routes, 0);
    assert_string_equal(at(del, "name")->valuestring, "delete");
    assert_string_equal(at(del, "method")->valuestring, "DELETE");
    assert_string_equal(at(del, "route")->valuestring, "/tasks/{id}");
    assert_int_equal(at(del, "requests")->valuedouble, 3);
    assert_true(at(del, "rate")->valuedouble == 1.5);
    const cJSON *corrected = at(at(del, "latency"), "corrected");
    assert_true(at(corrected, "max")->valuedouble == 0.02);
    assert_true(at(corrected, "min")->valuedouble == 0.000001);
    const cJSON *by_class = at(del, "by_class");
    assert_int_equal(cJSON_GetArraySize(by_class), 2);
    const cJSON *c2 = cJSON_GetArrayItem(by_class, 0);
    assert_string_equal(at(c2, "class")->valuestring, "2xx");
    assert_int_equal(at(c2, "count")->valuedouble, 2);
    const cJSON *lag = at(at(c2, "histograms"), "lag");
    assert_int_equal(at(lag, "count")->valuedouble, 2);
    assert_int_equal(at(lag, "min_ns")->valuedouble, 2 * MS);
    assert_int_equal(at(lag, "max_ns")->valuedouble, 11 * MS);
    assert_string_equal(at(lag, "sum_ns")->valuestring, "13000000");
    const cJSON *buckets = at(lag, "buckets");
    assert_int_equal(cJSON_GetArraySize(buckets), 2);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(buckets, 0), 0)->valuedouble,
                     loghist_index(2 * MS));
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(buckets, 0), 1)->valuedouble, 1);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
}

static void test_report_json_series_row_fields(void **state)
{
    (void)state;
    struct lg_results r;
    build(&r);
    char *text = render(&r, NULL, 0);
    cJSON *doc = cJSON_Parse(text);
    const cJSON *row = cJSON_GetArrayItem(at(doc, "series"), 1);
    assert_true(at(row, "t")->valuedouble == 1);
    assert_true(at(row, "target_rate")->valuedouble == 1000.0 / 3 + 1);
    cJSON_Delete(doc);
    assert_non_null(strstr(text, "\"target_rate\":334.3333333333333"));
    assert_non_null(strstr(text, "\"scheduled\":333,"
                                 "\"started\":330,\"completed\":330,\"rate\":330,"
                                 "\"classes\":{\"2xx\":320,\"5xx\":9,\"error\":1},\"failed\":10,"
                                 "\"connections_opened\":0,\"connections_closed\":0,"
                                 "\"in_flight\":4,\"backlog\":1,\"latency\":{\"p50\":0.012345678,"
                                 "\"p90\":0.023456789,\"p99\":0.987654321,\"max\":10.000000000},"
                                 "\"service_p99\":0.000000001,\"lag_p99\":0.000001000}"));
    free(text);
    results_free(&r);
}

static void test_report_json_thresholds_array(void **state)
{
    (void)state;
    struct lg_results r;
    build(&r);
    struct threshold parsed[2];
    struct threshold_result th[2];
    char err[256];
    assert_int_equal(threshold_parse("p99 < 50ms", &parsed[0], err, sizeof(err)), 0);
    assert_int_equal(threshold_parse("p99<1h", &parsed[1], err, sizeof(err)), 0);
    assert_int_equal(threshold_eval_all(parsed, 2, &r, th), 1);
    char *text = render(&r, th, 2);
    cJSON *doc = cJSON_Parse(text);
    const cJSON *arr = at(doc, "thresholds");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    const cJSON *t0 = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(at(t0, "expr")->valuestring, "p99 < 50ms");
    assert_string_equal(at(t0, "metric")->valuestring, "corrected.p99");
    assert_true(at(t0, "value")->valuedouble == th[0].value);
    assert_true(at(t0, "limit")->valuedouble == 0.05);
    assert_non_null(strstr(text, "\"limit\":0.050000000,\"ok\":false}"));
    assert_true(cJSON_IsFalse(at(t0, "ok")));
    assert_true(cJSON_IsTrue(at(cJSON_GetArrayItem(arr, 1), "ok")));
    cJSON_Delete(doc);
    free(text);
    text = render(&r, NULL, 0);
    assert_non_null(strstr(text, "\"thresholds\":[]}\n"));
    free(text);
    results_free(&r);
}

/* Renders build(), lets edit() damage the document, and returns the parse error. */
static void assert_parse_refused(void (*edit)(cJSON *doc), const char *why)
{
    struct lg_results r, back;
    char err[512] = "";
    build(&r);
    char *text = render(&r, NULL, 0);
    cJSON *doc = cJSON_Parse(text);
    edit(doc);
    char *damaged = cJSON_PrintUnformatted(doc);
    assert_int_equal(report_json_parse(damaged, strlen(damaged), &back, NULL, err, sizeof(err)),
                     -1);
    if (!strstr(err, why))
        fail_msg("the error \"%s\" does not say \"%s\"", err, why);
    cJSON_free(damaged);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
    results_free(&back);
}

static void set_schema(cJSON *doc)
{
    cJSON_ReplaceItemInObject(doc, "schema", cJSON_CreateString("k6.summary"));
}

static void set_version(cJSON *doc)
{
    cJSON_ReplaceItemInObject(doc, "version", cJSON_CreateNumber(3));
}

static void set_layout(cJSON *doc)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(doc, "histogram_layout"), "sub_bucket_bits",
                              cJSON_CreateNumber(8));
}

static void drop_completed(cJSON *doc)
{
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(doc, "totals"), "completed");
}

static cJSON *first_lag_histogram(cJSON *doc)
{
    cJSON *route = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "routes"), 0);
    cJSON *cls = cJSON_GetArrayItem(cJSON_GetObjectItem(route, "by_class"), 0);
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cls, "histograms"), "lag");
}

static void bump_histogram_count(cJSON *doc)
{
    cJSON *lag = first_lag_histogram(doc);
    double n = cJSON_GetObjectItem(lag, "count")->valuedouble;
    cJSON_ReplaceItemInObject(lag, "count", cJSON_CreateNumber(n + 1));
}

static void bucket_beyond_layout(cJSON *doc)
{
    cJSON *buckets = cJSON_GetObjectItem(first_lag_histogram(doc), "buckets");
    cJSON *pair = cJSON_GetArrayItem(buckets, cJSON_GetArraySize(buckets) - 1);
    cJSON_ReplaceItemInArray(pair, 0, cJSON_CreateNumber(LOGHIST_BUCKETS));
}

static void repeat_route(cJSON *doc)
{
    cJSON *route = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "routes"), 1);
    cJSON_ReplaceItemInObject(route, "name", cJSON_CreateString("create"));
}

static void too_many_failures(cJSON *doc)
{
    cJSON *route = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "routes"), 0);
    cJSON_ReplaceItemInObject(route, "unexpected_status", cJSON_CreateNumber(1e6));
}

static void fractional_count(cJSON *doc)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(doc, "totals"), "started",
                              cJSON_CreateNumber(1.5));
}

static void test_report_json_refuses_another_schema(void **state)
{
    (void)state;
    assert_parse_refused(set_schema, "it is not a loadgen result (schema is \"k6.summary\"");
}

static void test_report_json_refuses_another_version(void **state)
{
    (void)state;
    assert_parse_refused(set_version, "it is version 3 of the loadgen result and this loadgen "
                                      "reads versions 1 and 2");
}

static void test_report_json_refuses_another_histogram_layout(void **state)
{
    (void)state;
    assert_parse_refused(set_layout, "its histogram layout (unit ns, sub_bucket_bits 8, "
                                     "max_exponent 36) differs from this loadgen's (ns, 10, 36)");
}

static void test_report_json_refuses_damaged_fields_by_path(void **state)
{
    (void)state;
    assert_parse_refused(drop_completed, "totals.completed is missing or not a whole number");
    assert_parse_refused(fractional_count, "totals.started is missing or not a whole number");
    assert_parse_refused(bump_histogram_count,
                         "routes[0].by_class[0].histograms.lag: its buckets hold");
    assert_parse_refused(bucket_beyond_layout, "out of order or beyond 27647");
    assert_parse_refused(repeat_route, "routes[1] repeats the route create");
    assert_parse_refused(too_many_failures,
                         "routes[0]: unexpected_status and body_mismatch add up");
}

/* A version 1 file (before targets and success rules) reads as it meant: its failures were its
 * 5xx and transport errors, and it counted no connections. */
static void test_report_json_reads_version_1(void **state)
{
    (void)state;
    struct lg_results r, back;
    char err[512] = "";
    build(&r);
    char *text = render(&r, NULL, 0);
    cJSON *doc = cJSON_Parse(text);
    cJSON_ReplaceItemInObject(doc, "version", cJSON_CreateNumber(1));
    cJSON *totals = cJSON_GetObjectItem(doc, "totals");
    cJSON_DeleteItemFromObject(totals, "connections");
    cJSON *route;
    cJSON_ArrayForEach(route, cJSON_GetObjectItem(doc, "routes"))
    {
        cJSON_DeleteItemFromObject(route, "unexpected_status");
        cJSON_DeleteItemFromObject(route, "body_mismatch");
    }
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(doc, "series"))
    {
        cJSON_DeleteItemFromObject(row, "failed");
        cJSON_DeleteItemFromObject(row, "connections_opened");
    }
    char *v1 = cJSON_PrintUnformatted(doc);
    int rc = report_json_parse(v1, strlen(v1), &back, NULL, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(back.connections_opened, 0);
    assert_int_equal(results_error_total(&back), results_class_total(&r, LG_CLASS_5XX) +
                                                     results_class_total(&r, LG_CLASS_ERROR));
    assert_int_equal(back.series[1].failed, 9 + 1);
    cJSON_free(v1);
    cJSON_Delete(doc);
    free(text);
    results_free(&r);
    results_free(&back);
}

static void test_report_json_refuses_text_that_is_not_json(void **state)
{
    (void)state;
    struct lg_results back;
    char err[256];
    const char *text = "Requests/sec: 1234";
    assert_int_equal(report_json_parse(text, strlen(text), &back, NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "it is not a JSON object (a loadgen --json result was expected)");
    results_free(&back);
}

static void test_report_json_read_file_names_a_missing_file(void **state)
{
    (void)state;
    struct lg_results back;
    char err[256];
    assert_int_equal(report_json_read_file("/nonexistent/run.json", &back, NULL, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "cannot read the loadgen result /nonexistent/run.json: No such file "
                             "or directory");
    results_free(&back);
}

static void test_report_json_write_file_names_an_unwritable_path(void **state)
{
    (void)state;
    struct lg_results r;
    struct report_meta m = meta_for("http://x", "tasks");
    char err[256];
    init_routes(&r);
    assert_int_equal(
        report_json_write_file("/nonexistent/run.json", &r, &m, NULL, 0, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot write the JSON result to /nonexistent/run.json: No such "
                             "file or directory");
    results_free(&r);
}

static void test_report_meta_set_refuses_bad_mode_and_long_target(void **state)
{
    (void)state;
    struct report_meta m;
    assert_int_equal(report_meta_set(&m, "http://x", "grpc"), -1);
    char *long_target = malloc(REPORT_TARGET_MAX + 1);
    memset(long_target, 'a', REPORT_TARGET_MAX);
    long_target[REPORT_TARGET_MAX] = '\0';
    assert_int_equal(report_meta_set(&m, long_target, "raw"), -1);
    long_target[REPORT_TARGET_MAX - 1] = '\0';
    assert_int_equal(report_meta_set(&m, long_target, "raw"), 0);
    free(long_target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_json_round_trip_is_exact),
        cmocka_unit_test(test_report_json_round_trip_through_a_file),
        cmocka_unit_test(test_report_json_empty_result_round_trips),
        cmocka_unit_test(test_report_json_head_and_rate_fields),
        cmocka_unit_test(test_report_json_closed_model_has_null_target),
        cmocka_unit_test(test_report_json_totals_count_classes_codes_and_errors),
        cmocka_unit_test(test_report_json_route_latency_and_histograms),
        cmocka_unit_test(test_report_json_series_row_fields),
        cmocka_unit_test(test_report_json_thresholds_array),
        cmocka_unit_test(test_report_json_refuses_another_schema),
        cmocka_unit_test(test_report_json_refuses_another_version),
        cmocka_unit_test(test_report_json_refuses_another_histogram_layout),
        cmocka_unit_test(test_report_json_refuses_damaged_fields_by_path),
        cmocka_unit_test(test_report_json_reads_version_1),
        cmocka_unit_test(test_report_json_refuses_text_that_is_not_json),
        cmocka_unit_test(test_report_json_read_file_names_a_missing_file),
        cmocka_unit_test(test_report_json_write_file_names_an_unwritable_path),
        cmocka_unit_test(test_report_meta_set_refuses_bad_mode_and_long_target),
    };
    return cmocka_run_group_tests_name("report_json", tests, NULL, NULL);
}
