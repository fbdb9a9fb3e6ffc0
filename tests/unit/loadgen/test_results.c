/*
 * Unit tests for loadgen/results: the route table, status codes in the right class and counter,
 * transport errors and impossible statuses as errors, failures as the success rule says, views
 * allocated only where something was recorded, collection of the right views, and
 * results_merge adding runs (routes matched by name) the way shards
 * split one — series rows aligned by wall-clock second, percentiles of a shared second the
 * highest of the two.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

#define SEC UINT64_C(1000000000)
#define ROUTE_RAW 5

/* A run with the task mix's five routes and "raw", as the engine names them. */
static void init_routes(struct lg_results *r)
{
    static const char *const names[] = {"create", "read", "update", "delete", "list", "raw"};
    results_init(r);
    for (int i = 0; i < 6; i++)
        assert_int_equal(results_route_add(r, names[i], "GET", "/x"), i);
}

/* Records with the default rule: 2xx is a success, any other status a failure. */
static int record(struct lg_results *r, int route, int status, enum lg_error_kind err,
                  uint64_t corrected, uint64_t service, uint64_t lag)
{
    enum lg_verdict v = status >= 200 && status < 300 ? LG_VERDICT_OK : LG_VERDICT_STATUS;
    return results_record(r, route, status, err, v, corrected, service, lag);
}

static void test_results_class_of_maps_status_ranges(void **state)
{
    (void)state;
    assert_int_equal(results_class_of(0), LG_CLASS_ERROR);
    assert_int_equal(results_class_of(-1), LG_CLASS_ERROR);
    assert_int_equal(results_class_of(99), LG_CLASS_ERROR);
    assert_int_equal(results_class_of(100), LG_CLASS_1XX);
    assert_int_equal(results_class_of(199), LG_CLASS_1XX);
    assert_int_equal(results_class_of(200), LG_CLASS_2XX);
    assert_int_equal(results_class_of(201), LG_CLASS_2XX);
    assert_int_equal(results_class_of(308), LG_CLASS_3XX);
    assert_int_equal(results_class_of(404), LG_CLASS_4XX);
    assert_int_equal(results_class_of(500), LG_CLASS_5XX);
    assert_int_equal(results_class_of(599), LG_CLASS_5XX);
    assert_int_equal(results_class_of(600), LG_CLASS_ERROR);
}

static void test_results_route_table_keeps_order_and_names(void **state)
{
    (void)state;
    struct lg_results r;
    results_init(&r);
    assert_int_equal(results_route_add(&r, "login", "POST", "/api/login"), 0);
    assert_int_equal(results_route_add(&r, "search", "GET", "/s?q={{data.q}}"), 1);
    assert_int_equal(results_route_add(&r, "login", "GET", "/other"), 0); /* the same name */
    assert_int_equal(r.nroutes, 2);
    assert_string_equal(r.routes[1].route, "/s?q={{data.q}}");
    assert_int_equal(results_route_find(&r, "search"), 1);
    assert_int_equal(results_route_find(&r, "nope"), -1);
    assert_int_equal(results_record(&r, 2, 200, 0, LG_VERDICT_OK, 1, 1, 0), -1); /* no route 2 */
    for (int i = 2; i < LG_ROUTES_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "t%d", i);
        assert_int_equal(results_route_add(&r, name, "GET", "/"), i);
    }
    assert_int_equal(results_route_add(&r, "one-too-many", "GET", "/"), -1);
    results_free(&r);
}

static void test_results_names_of_classes_and_errors(void **state)
{
    (void)state;
    assert_string_equal(results_class_name(LG_CLASS_2XX), "2xx");
    assert_string_equal(results_class_name(LG_CLASS_ERROR), "error");
    assert_string_equal(results_error_name(LG_ERR_TIMEOUT), "timeout");
    assert_string_equal(results_error_name(LG_ERR_OTHER), "other");
}

static void test_results_record_counts_code_class_and_views(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    assert_int_equal(record(&r, LG_ROUTE_CREATE, 201, LG_ERR_OTHER, 3000, 2000, 1000), 0);
    const struct lg_route_stats *rs = &r.routes[LG_ROUTE_CREATE];
    assert_int_equal(rs->codes[201], 1);
    assert_int_equal(rs->classes[LG_CLASS_2XX], 1);
    assert_int_equal(rs->errors[LG_ERR_OTHER], 0);
    const struct lg_views *v = results_views(&r, LG_ROUTE_CREATE, LG_CLASS_2XX);
    assert_non_null(v);
    assert_int_equal(v->corrected.max_ns, 3000);
    assert_int_equal(v->service.max_ns, 2000);
    assert_int_equal(v->lag.max_ns, 1000);
    results_free(&r);
}

static void test_results_views_exist_only_where_recorded(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    record(&r, LG_ROUTE_READ, 200, 0, 1, 1, 0);
    record(&r, LG_ROUTE_READ, 404, 0, 1, 1, 0);
    int allocated = 0;
    for (size_t i = 0; i < r.nroutes; i++)
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            allocated += r.routes[i].views[c] != NULL;
    assert_int_equal(allocated, 2);
    assert_null(results_views(&r, LG_ROUTE_READ, LG_CLASS_5XX));
    assert_null(results_views(&r, LG_ROUTE_CREATE, LG_CLASS_2XX));
    results_free(&r);
}

static void test_results_transport_error_counts_kind_not_code(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    record(&r, LG_ROUTE_READ, 0, LG_ERR_TIMEOUT, 10 * SEC, 10 * SEC, 0);
    const struct lg_route_stats *rs = &r.routes[LG_ROUTE_READ];
    assert_int_equal(rs->errors[LG_ERR_TIMEOUT], 1);
    assert_int_equal(rs->classes[LG_CLASS_ERROR], 1);
    for (int code = 0; code < LG_STATUS_MAX; code++)
        assert_int_equal(rs->codes[code], 0);
    assert_non_null(results_views(&r, LG_ROUTE_READ, LG_CLASS_ERROR));
    results_free(&r);
}

static void test_results_impossible_status_is_a_protocol_error(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    record(&r, ROUTE_RAW, 700, LG_ERR_OTHER, 5, 5, 0);
    record(&r, ROUTE_RAW, 42, LG_ERR_OTHER, 5, 5, 0);
    const struct lg_route_stats *rs = &r.routes[ROUTE_RAW];
    assert_int_equal(rs->codes[0], 2);
    assert_int_equal(rs->errors[LG_ERR_PROTOCOL], 2);
    assert_int_equal(rs->errors[LG_ERR_OTHER], 0);
    assert_int_equal(rs->classes[LG_CLASS_ERROR], 2);
    results_free(&r);
}

static void test_results_collect_merges_routes_and_classes(void **state)
{
    (void)state;
    struct lg_results r;
    struct loghist *h = malloc(sizeof(*h));
    init_routes(&r);
    record(&r, LG_ROUTE_CREATE, 201, 0, 100, 10, 1);
    record(&r, LG_ROUTE_CREATE, 500, 0, 200, 20, 2);
    record(&r, LG_ROUTE_READ, 200, 0, 300, 30, 3);
    results_collect(&r, -1, -1, LG_VIEW_CORRECTED, h);
    assert_int_equal(h->count, 3);
    assert_int_equal(h->sum_ns, 600);
    results_collect(&r, LG_ROUTE_CREATE, -1, LG_VIEW_SERVICE, h);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->sum_ns, 30);
    results_collect(&r, -1, LG_CLASS_2XX, LG_VIEW_LAG, h);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->sum_ns, 4);
    results_collect(&r, LG_ROUTE_DELETE, -1, LG_VIEW_CORRECTED, h);
    assert_int_equal(h->count, 0);
    free(h);
    results_free(&r);
}

static void test_results_failures_are_what_the_rule_says(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    record(&r, LG_ROUTE_CREATE, 503, 0, 1, 1, 0);
    record(&r, LG_ROUTE_READ, 500, 0, 1, 1, 0);
    record(&r, LG_ROUTE_READ, 429, 0, 1, 1, 0);
    record(&r, LG_ROUTE_READ, 0, LG_ERR_CONNECT, 1, 1, 0);
    record(&r, LG_ROUTE_READ, 200, 0, 1, 1, 0);
    results_record(&r, LG_ROUTE_READ, 404, 0, LG_VERDICT_OK, 1, 1, 0); /* an expected 404 */
    results_record(&r, LG_ROUTE_READ, 200, 0, LG_VERDICT_BODY, 1, 1, 0);
    assert_int_equal(results_error_total(&r), 5);
    assert_int_equal(results_route_failed(&r, LG_ROUTE_READ), 4);
    assert_int_equal(results_route_completed(&r, LG_ROUTE_READ), 6);
    assert_int_equal(r.routes[LG_ROUTE_READ].unexpected_status, 2);
    assert_int_equal(r.routes[LG_ROUTE_READ].body_mismatch, 1);
    assert_int_equal(results_class_total(&r, LG_CLASS_5XX), 2);
    assert_int_equal(results_class_total(&r, LG_CLASS_4XX), 2);
    assert_int_equal(results_code_total(&r, 429), 1);
    results_free(&r);
}

static void test_results_achieved_rate_is_completed_per_second(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    assert_true(results_achieved_rate(&r) == 0);
    r.completed = 2500;
    r.duration_ns = 2 * SEC + SEC / 2;
    assert_true(results_achieved_rate(&r) == 1000.0);
    results_free(&r);
}

static void test_results_append_interval_grows_past_its_first_allocation(void **state)
{
    (void)state;
    struct lg_results r;
    init_routes(&r);
    for (int i = 0; i < 1000; i++) {
        struct lg_interval row = {.t = i, .completed = (uint64_t)i};
        assert_int_equal(results_append_interval(&r, &row), 0);
    }
    assert_int_equal(r.series_len, 1000);
    assert_int_equal(r.series[999].completed, 999);
    assert_true(r.series[500].t == 500);
    results_free(&r);
    assert_null(r.series);
}

static void test_results_free_accepts_null_and_zeroed(void **state)
{
    (void)state;
    struct lg_results r;
    memset(&r, 0, sizeof(r));
    results_free(&r);
    results_free(NULL);
}

static void fill_run(struct lg_results *r, uint64_t start_ns, double rate)
{
    init_routes(r);
    r->model = LG_MODEL_OPEN;
    r->target_rate = rate;
    r->connections = 50;
    r->threads = 2;
    r->start_unix_ns = start_ns;
    r->duration_ns = 3 * SEC;
    r->scheduled = 300;
    r->started = 299;
    r->completed = 298;
    r->not_started = 1;
    r->cancelled = 1;
    r->bytes_received = 1000;
    r->connections_opened = 10;
    r->connections_closed = 2;
}

static void test_results_merge_matches_routes_by_name(void **state)
{
    (void)state;
    struct lg_results a, b;
    results_init(&a);
    results_init(&b);
    assert_int_equal(results_route_add(&a, "login", "POST", "/login"), 0);
    assert_int_equal(results_route_add(&b, "search", "GET", "/s"), 0);
    assert_int_equal(results_route_add(&b, "login", "POST", "/login"), 1);
    results_record(&a, 0, 200, 0, LG_VERDICT_OK, 10, 10, 0);
    results_record(&b, 1, 401, 0, LG_VERDICT_STATUS, 10, 10, 0);
    results_record(&b, 0, 200, 0, LG_VERDICT_BODY, 10, 10, 0);
    assert_int_equal(results_merge(&a, &b), 0);
    assert_int_equal(a.nroutes, 2);
    assert_string_equal(a.routes[1].name, "search");
    assert_string_equal(a.routes[1].route, "/s");
    assert_int_equal(a.routes[0].codes[200], 1);
    assert_int_equal(a.routes[0].codes[401], 1);
    assert_int_equal(a.routes[0].unexpected_status, 1);
    assert_int_equal(a.routes[1].body_mismatch, 1);
    results_free(&a);
    results_free(&b);
}

static void test_results_merge_adds_totals_and_split_rates(void **state)
{
    (void)state;
    struct lg_results a, b;
    fill_run(&a, 1000 * SEC, 100);
    fill_run(&b, 999 * SEC, 50);
    b.duration_ns = 4 * SEC;
    record(&a, LG_ROUTE_CREATE, 201, 0, 1000, 900, 100);
    record(&b, LG_ROUTE_CREATE, 201, 0, 3000, 900, 2100);
    record(&b, LG_ROUTE_READ, 0, LG_ERR_RESET, 5000, 5000, 0);
    assert_int_equal(results_merge(&a, &b), 0);
    assert_true(a.target_rate == 150);
    assert_int_equal(a.connections, 100);
    assert_int_equal(a.threads, 4);
    assert_int_equal(a.runs, 2);
    assert_int_equal(a.duration_ns, 4 * SEC);
    assert_int_equal(a.start_unix_ns, 999 * SEC);
    assert_int_equal(a.scheduled, 600);
    assert_int_equal(a.started, 598);
    assert_int_equal(a.completed, 596);
    assert_int_equal(a.not_started, 2);
    assert_int_equal(a.cancelled, 2);
    assert_int_equal(a.bytes_received, 2000);
    assert_int_equal(a.routes[LG_ROUTE_CREATE].codes[201], 2);
    assert_int_equal(a.routes[LG_ROUTE_READ].errors[LG_ERR_RESET], 1);
    assert_int_equal(a.connections_opened, 20);
    assert_int_equal(a.connections_closed, 4);
    const struct lg_views *v = results_views(&a, LG_ROUTE_CREATE, LG_CLASS_2XX);
    assert_int_equal(v->corrected.count, 2);
    assert_int_equal(v->corrected.min_ns, 1000);
    assert_int_equal(v->corrected.max_ns, 3000);
    assert_non_null(results_views(&a, LG_ROUTE_READ, LG_CLASS_ERROR));
    results_free(&a);
    results_free(&b);
}

static struct lg_interval row_at(double t, uint64_t completed, uint64_t p99_ns)
{
    struct lg_interval row = {.t = t,
                              .target_rate = 100,
                              .scheduled = 100,
                              .started = completed,
                              .completed = completed,
                              .in_flight = 3,
                              .backlog = 1,
                              .corrected_p50_ns = p99_ns / 2,
                              .corrected_p90_ns = p99_ns / 2,
                              .corrected_p99_ns = p99_ns,
                              .corrected_max_ns = p99_ns,
                              .service_p99_ns = p99_ns,
                              .lag_p99_ns = 1};
    row.classes[LG_CLASS_2XX] = completed;
    return row;
}

static void test_results_merge_aligns_series_by_wall_clock_second(void **state)
{
    (void)state;
    struct lg_results a, b;
    fill_run(&a, 1000 * SEC, 100);
    fill_run(&b, 1001 * SEC, 100); /* one second later */
    for (int t = 0; t < 3; t++) {
        struct lg_interval ra = row_at(t, 10, 1000), rb = row_at(t, 20, 5000);
        results_append_interval(&a, &ra);
        results_append_interval(&b, &rb);
    }
    assert_int_equal(results_merge(&a, &b), 0);
    assert_int_equal(a.series_len, 4); /* seconds 1000..1003 */
    static const uint64_t completed[] = {10, 30, 30, 20};
    static const uint64_t p99[] = {1000, 5000, 5000, 5000};
    for (size_t i = 0; i < 4; i++) {
        assert_true(a.series[i].t == (double)i);
        assert_int_equal(a.series[i].completed, completed[i]);
        assert_int_equal(a.series[i].classes[LG_CLASS_2XX], completed[i]);
        assert_int_equal(a.series[i].corrected_p99_ns, p99[i]);
    }
    assert_true(a.series[1].target_rate == 200);
    assert_int_equal(a.series[1].in_flight, 6);
    assert_int_equal(a.series[1].backlog, 2);
    assert_int_equal(a.series[1].corrected_p50_ns, 2500); /* the higher of 500 and 2500 */
    assert_int_equal(a.series[0].lag_p99_ns, 1);
    results_free(&a);
    results_free(&b);
}

static void test_results_merge_rebases_t_on_the_earlier_start(void **state)
{
    (void)state;
    struct lg_results a, b;
    fill_run(&a, 1002 * SEC + SEC / 10, 100);     /* 1002.1 s: rows at seconds 1002, 1003 */
    fill_run(&b, 1000 * SEC + 6 * SEC / 10, 100); /* 1000.6 s: rows at seconds 1001, 1002 */
    for (int t = 0; t < 2; t++) {
        struct lg_interval ra = row_at(t, 1, 10), rb = row_at(t, 2, 20);
        results_append_interval(&a, &ra);
        results_append_interval(&b, &rb);
    }
    assert_int_equal(results_merge(&a, &b), 0);
    assert_int_equal(a.start_unix_ns, 1000 * SEC + 6 * SEC / 10);
    assert_int_equal(a.series_len, 3);
    static const uint64_t completed[] = {2, 3, 1};
    for (size_t i = 0; i < 3; i++) {
        assert_true(a.series[i].t == (double)i);
        assert_int_equal(a.series[i].completed, completed[i]);
    }
    results_free(&a);
    results_free(&b);
}

static void test_results_merge_of_one_run_keeps_its_series(void **state)
{
    (void)state;
    struct lg_results a, empty;
    fill_run(&a, 1000 * SEC + SEC / 3, 100);
    results_init(&empty);
    empty.runs = 0;
    empty.start_unix_ns = a.start_unix_ns;
    for (int t = 0; t < 5; t++) {
        struct lg_interval row = row_at(t, (uint64_t)t, 10);
        results_append_interval(&a, &row);
    }
    struct lg_interval before[5];
    memcpy(before, a.series, sizeof(before));
    assert_int_equal(results_merge(&a, &empty), 0);
    assert_int_equal(a.series_len, 5);
    assert_memory_equal(a.series, before, sizeof(before));
    assert_int_equal(a.runs, 1);
    results_free(&a);
    results_free(&empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_class_of_maps_status_ranges),
        cmocka_unit_test(test_results_route_table_keeps_order_and_names),
        cmocka_unit_test(test_results_names_of_classes_and_errors),
        cmocka_unit_test(test_results_record_counts_code_class_and_views),
        cmocka_unit_test(test_results_views_exist_only_where_recorded),
        cmocka_unit_test(test_results_transport_error_counts_kind_not_code),
        cmocka_unit_test(test_results_impossible_status_is_a_protocol_error),
        cmocka_unit_test(test_results_collect_merges_routes_and_classes),
        cmocka_unit_test(test_results_failures_are_what_the_rule_says),
        cmocka_unit_test(test_results_achieved_rate_is_completed_per_second),
        cmocka_unit_test(test_results_append_interval_grows_past_its_first_allocation),
        cmocka_unit_test(test_results_free_accepts_null_and_zeroed),
        cmocka_unit_test(test_results_merge_adds_totals_and_split_rates),
        cmocka_unit_test(test_results_merge_matches_routes_by_name),
        cmocka_unit_test(test_results_merge_aligns_series_by_wall_clock_second),
        cmocka_unit_test(test_results_merge_rebases_t_on_the_earlier_start),
        cmocka_unit_test(test_results_merge_of_one_run_keeps_its_series),
    };
    return cmocka_run_group_tests_name("results", tests, NULL, NULL);
}
