/*
 * Unit tests for loadgen/report_text: the summary says "target not reached" exactly when the
 * open model fell below 99 % of its target or left requests unsent. (How durations print is
 * common/duration's, tested in test_duration.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_text.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

static void open_run(struct lg_results *r, double target, uint64_t completed, uint64_t not_started)
{
    static const char *const names[] = {"create", "read", "update", "delete", "list"};
    static const char *const methods[] = {"POST", "GET", "PUT", "DELETE", "GET"};
    static const char *const templates[] = {"/tasks", "/tasks/{id}", "/tasks/{id}", "/tasks/{id}",
                                            "/tasks"};
    results_init(r);
    for (int i = 0; i < 5; i++)
        assert_int_equal(results_route_add(r, names[i], methods[i], templates[i]), i);
    r->model = LG_MODEL_OPEN;
    r->target_rate = target;
    r->duration_ns = 10 * SEC;
    r->connections = 64;
    r->threads = 2;
    r->start_unix_ns = UINT64_C(1764219662) * SEC;
    r->completed = completed;
    r->started = completed;
    r->not_started = not_started;
    r->connections_opened = 66;
    r->connections_closed = 2;
    for (uint64_t i = 0; i < 100; i++)
        results_record(r, LG_ROUTE_CREATE, i < 98 ? 201 : 503, 0,
                       i < 98 ? LG_VERDICT_OK : LG_VERDICT_STATUS, (i + 1) * MS, MS, 1000);
    results_record(r, LG_ROUTE_READ, 0, LG_ERR_CONNECT, LG_VERDICT_OK, 5 * MS, 5 * MS, 0);
}

/* The summary as text (caller frees). */
static char *summary(const struct lg_results *r)
{
    struct report_meta meta;
    assert_int_equal(report_meta_set(&meta, "http://127.0.0.1:8080", "tasks"), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(report_text_write(f, r, &meta), 0);
    fclose(f);
    return text;
}

static void test_report_text_says_target_not_reached_below_99_percent(void **state)
{
    (void)state;
    struct lg_results r;
    open_run(&r, 1000, 9890, 0); /* 989/s of 1000/s */
    assert_true(report_text_target_missed(&r));
    char *text = summary(&r);
    assert_non_null(strstr(text, "target not reached: achieved 989.0/s of 1000.0/s, 0 requests "
                                 "not started"));
    free(text);
    results_free(&r);
}

static void test_report_text_says_target_not_reached_when_requests_were_not_started(void **state)
{
    (void)state;
    struct lg_results r;
    open_run(&r, 1000, 10000, 4500);
    assert_true(report_text_target_missed(&r));
    char *text = summary(&r);
    assert_non_null(strstr(text, "target not reached: achieved 1000.0/s of 1000.0/s, 4500 "
                                 "requests not started"));
    free(text);
    results_free(&r);
}

static void test_report_text_is_quiet_when_the_target_was_reached(void **state)
{
    (void)state;
    struct lg_results r;
    open_run(&r, 1000, 9900, 0); /* exactly 99 % */
    assert_false(report_text_target_missed(&r));
    char *text = summary(&r);
    assert_null(strstr(text, "not reached"));
    assert_non_null(strstr(text, "990.0/s achieved of 1000.0/s target (99.00%)"));
    free(text);
    results_free(&r);
}

static void test_report_text_closed_model_has_no_target(void **state)
{
    (void)state;
    struct lg_results r;
    open_run(&r, 0, 5000, 0);
    r.model = LG_MODEL_CLOSED;
    assert_false(report_text_target_missed(&r));
    char *text = summary(&r);
    assert_null(strstr(text, "not reached"));
    assert_non_null(strstr(text, "closed model, 64 connections"));
    assert_non_null(strstr(text, "500.0/s achieved\n"));
    free(text);
    results_free(&r);
}

static void test_report_text_names_targets_and_cuts_long_routes(void **state)
{
    (void)state;
    struct lg_results r;
    results_init(&r);
    r.duration_ns = SEC;
    r.completed = 3;
    assert_int_equal(results_route_add(&r, "login", "POST", "/api/login"), 0);
    assert_int_equal(results_route_add(&r, "search_by_name", "GET",
                                       "http://127.0.0.1:8080/api/search?q={{data.name | url}}"),
                     1);
    results_record(&r, 0, 401, 0, LG_VERDICT_STATUS, MS, MS, 0);
    results_record(&r, 1, 200, 0, LG_VERDICT_OK, MS, MS, 0);
    results_record(&r, 1, 200, 0, LG_VERDICT_BODY, MS, MS, 0);
    char *text = summary(&r);
    assert_non_null(strstr(text, "failed    2 of 3 (66.67%): unexpected status 1, body check 1\n"));
    assert_non_null(strstr(text, "  login          POST /api/login "));
    /* the route column is cut at 44 columns with an ellipsis */
    assert_non_null(
        strstr(text, "  search_by_name GET http://127.0.0.1:8080/ap\xE2\x80\xA6         2 "));
    assert_non_null(strstr(text, "POST /api/login                       1       1.0  100.00%"));
    free(text);
    results_free(&r);
}

static void test_report_text_lists_errors_codes_and_routes(void **state)
{
    (void)state;
    struct lg_results r;
    open_run(&r, 1000, 10000, 0);
    char *text = summary(&r);
    assert_non_null(strstr(text, "loadgen: http://127.0.0.1:8080 (tasks workload)"));
    assert_non_null(strstr(text, "failed    3 of 10000 (0.03%): unexpected status 2, transport 1 "
                                 "(connect 1)\n"));
    assert_non_null(strstr(text, "status    201: 98, 503: 2\n"));
    assert_non_null(strstr(text, "connections 66 opened, 2 closed while measuring\n"));
    /* create: 100 requests over 10 s, 2 % errors, p50 50 ms, max 100 ms */
    assert_non_null(strstr(text, "create POST /tasks"));
    assert_non_null(strstr(text, "      100      10.0    2.00%   50.0ms"));
    assert_non_null(strstr(text, "100ms\n"));
    assert_non_null(
        strstr(text, "   1.00µs   1.00µs   1.00µs   1.00µs   1.00µs\n")); /* lag, aligned */
    assert_non_null(strstr(text, "read   GET /tasks/{id}"));
    assert_non_null(strstr(text, "all (corrected)"));
    assert_non_null(strstr(text, "all (service)"));
    assert_non_null(strstr(text, "all (lag)"));
    assert_null(strstr(text, "DELETE"));
    free(text);
    results_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_text_says_target_not_reached_below_99_percent),
        cmocka_unit_test(test_report_text_says_target_not_reached_when_requests_were_not_started),
        cmocka_unit_test(test_report_text_is_quiet_when_the_target_was_reached),
        cmocka_unit_test(test_report_text_closed_model_has_no_target),
        cmocka_unit_test(test_report_text_lists_errors_codes_and_routes),
        cmocka_unit_test(test_report_text_names_targets_and_cuts_long_routes),
    };
    return cmocka_run_group_tests_name("report_text", tests, NULL, NULL);
}
