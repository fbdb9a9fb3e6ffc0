/*
 * Unit tests for loadgen/threshold: every part of [ROUTE.][VIEW.]METRIC OP VALUE parses to the
 * right fields, each malformed expression is refused with a sentence that names it, and
 * evaluation against known results gives the exact value, the right verdict at the boundary,
 * a failure when nothing could be measured, and the message loadgen prints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "threshold.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

static struct threshold parsed(const char *expr)
{
    struct threshold th;
    char err[512] = "";
    if (threshold_parse(expr, &th, err, sizeof(err)) != 0)
        fail_msg("\"%s\" was refused: %s", expr, err);
    return th;
}

/* Asserts expr is refused with a message naming it and containing `why`. */
static void assert_refused(const char *expr, const char *why)
{
    struct threshold th;
    char err[512] = "";
    assert_int_equal(threshold_parse(expr, &th, err, sizeof(err)), -1);
    if (!strstr(err, why))
        fail_msg("the refusal of \"%s\" says \"%s\", not \"%s\"", expr, err, why);
    assert_non_null(strstr(err, "threshold \""));
}

static void test_threshold_parses_default_p99(void **state)
{
    (void)state;
    struct threshold th = parsed("p99<50ms");
    assert_int_equal(th.kind, THRESHOLD_LATENCY);
    assert_int_equal(th.stat, THRESHOLD_QUANTILE);
    assert_true(th.quantile == 0.99);
    assert_string_equal(th.route, "");
    assert_int_equal(th.view, LG_VIEW_CORRECTED);
    assert_int_equal(th.op, THRESHOLD_LT);
    assert_true(th.limit == 0.05);
    assert_string_equal(th.expr, "p99<50ms");
    assert_string_equal(th.subject, "p99");
    assert_string_equal(th.metric, "corrected.p99");
}

static void test_threshold_parses_route_view_and_dotted_quantile(void **state)
{
    (void)state;
    struct threshold th = parsed("  create.service.p99.9 <= 1.5s ");
    assert_string_equal(th.route, "create");
    assert_int_equal(th.view, LG_VIEW_SERVICE);
    assert_true(th.quantile == 0.999);
    assert_int_equal(th.op, THRESHOLD_LE);
    assert_true(th.limit == 1.5);
    assert_string_equal(th.expr, "create.service.p99.9 <= 1.5s");
    assert_string_equal(th.subject, "create.service.p99.9");
    assert_string_equal(th.metric, "create.service.p99.9");
}

static void test_threshold_p999_is_p99_9(void **state)
{
    (void)state;
    struct threshold th = parsed("lag.p999<200us");
    assert_true(th.quantile == 0.999);
    assert_int_equal(th.view, LG_VIEW_LAG);
    assert_true(th.limit == 0.0002);
    assert_string_equal(th.metric, "lag.p99.9");
}

static void test_threshold_parses_max_mean_and_min(void **state)
{
    (void)state;
    assert_int_equal(parsed("max<2s").stat, THRESHOLD_MAX);
    assert_int_equal(parsed("read.mean<10ms").stat, THRESHOLD_MEAN);
    assert_string_equal(parsed("read.mean<10ms").route, "read");
    assert_int_equal(parsed("min>1us").stat, THRESHOLD_MIN);
    assert_int_equal(parsed("min>1us").op, THRESHOLD_GT);
}

static void test_threshold_parses_error_ratio_as_ratio_or_percent(void **state)
{
    (void)state;
    struct threshold a = parsed("error_ratio<0.01"), b = parsed("error_ratio < 1%");
    assert_int_equal(a.kind, THRESHOLD_ERROR_RATIO);
    assert_true(a.limit == 0.01);
    assert_true(b.limit == 0.01);
    assert_string_equal(parsed("delete.error_ratio<=5%").metric, "delete.error_ratio");
}

static void test_threshold_parses_rate_achieved_ratio_and_not_started(void **state)
{
    (void)state;
    struct threshold rate = parsed("rate>=950/s"), ratio = parsed("achieved_ratio>0.99"),
                     ns = parsed("not_started<=0");
    assert_int_equal(rate.kind, THRESHOLD_RATE);
    assert_true(rate.limit == 950);
    assert_int_equal(rate.op, THRESHOLD_GE);
    assert_true(parsed("list.rate>10").limit == 10);
    assert_int_equal(ratio.kind, THRESHOLD_ACHIEVED_RATIO);
    assert_true(ratio.limit == 0.99);
    assert_true(parsed("achieved_ratio>=99%").limit == 0.99);
    assert_int_equal(ns.kind, THRESHOLD_NOT_STARTED);
    assert_true(ns.limit == 0);
}

static void test_threshold_refuses_missing_operator(void **state)
{
    (void)state;
    assert_refused("p99=50ms", "has no comparison");
    assert_refused("p99", "has no comparison");
}

static void test_threshold_refuses_missing_sides(void **state)
{
    (void)state;
    assert_refused("<50ms", "needs a metric before and a value after");
    assert_refused("p99<  ", "needs a metric before and a value after");
}

static void test_threshold_refuses_unknown_metric_and_route(void **state)
{
    (void)state;
    assert_refused("p99x<50ms", "unknown metric \"p99x\"");
    assert_refused("a.b.p99<50ms", "unknown metric \"a.b.p99\"");
    assert_refused("lo gin.p99<50ms", "unknown metric");
    assert_refused("status.99<1", "unknown metric");
    assert_refused("status.4xx<1", "unknown metric");
    assert_refused("6xx_ratio<1", "unknown metric");
    assert_refused("p100<50ms", "unknown metric");
    assert_refused("p0<50ms", "unknown metric");
    assert_refused("latency<50ms", "unknown metric");
}

/* Any route name parses; the run's route table decides whether it exists. */
static void test_threshold_route_must_be_one_of_the_runs(void **state)
{
    (void)state;
    struct lg_results routes;
    results_init(&routes);
    assert_int_equal(results_route_add(&routes, "login", "POST", "/login"), 0);
    assert_int_equal(results_route_add(&routes, "search", "GET", "/s"), 1);
    struct threshold ok = parsed("login.p99<50ms"), typo = parsed("logon.p99<50ms");
    char err[512] = "";
    assert_int_equal(threshold_check_route(&ok, &routes, err, sizeof(err)), 0);
    assert_int_equal(threshold_check_route(&typo, &routes, err, sizeof(err)), -1);
    assert_string_equal(err, "threshold \"logon.p99<50ms\": this run has no route logon; its "
                             "routes are login, search");
    struct threshold whole = parsed("p99<50ms");
    assert_int_equal(threshold_check_route(&whole, &routes, err, sizeof(err)), 0);
    results_free(&routes);
}

static void test_threshold_parses_statuses_and_classes(void **state)
{
    (void)state;
    struct threshold th = parsed("status.429<10");
    assert_int_equal(th.kind, THRESHOLD_STATUS);
    assert_int_equal(th.status, 429);
    assert_true(th.limit == 10);
    assert_string_equal(th.metric, "status.429");
    th = parsed("login.status.401_ratio<=1%");
    assert_int_equal(th.kind, THRESHOLD_STATUS_RATIO);
    assert_string_equal(th.route, "login");
    assert_true(th.limit == 0.01);
    assert_string_equal(th.metric, "login.status.401_ratio");
    th = parsed("4xx_ratio<0.5%");
    assert_int_equal(th.kind, THRESHOLD_CLASS_RATIO);
    assert_int_equal(th.class_, LG_CLASS_4XX);
    th = parsed("search.5xx<1");
    assert_int_equal(th.kind, THRESHOLD_CLASS);
    assert_int_equal(th.class_, LG_CLASS_5XX);
    th = parsed("errors<=0");
    assert_int_equal(th.kind, THRESHOLD_ERRORS);
    th = parsed("connections_opened<=16");
    assert_int_equal(th.kind, THRESHOLD_CONNECTIONS_OPENED);
    assert_refused("status.429<1.5", "is not a count");
    assert_refused("login.connections_opened<2", "applies to the whole run");
}

static void test_threshold_refuses_unit_less_latency(void **state)
{
    (void)state;
    assert_refused("p99<50", "the value \"50\" needs a unit, e.g. 50ms");
    assert_refused("p99<fast", "is not a duration like 50ms");
}

static void test_threshold_refuses_bad_values(void **state)
{
    (void)state;
    assert_refused("error_ratio<1ms", "is not a ratio like 0.01 or 1%");
    assert_refused("error_ratio<-1", "is not a ratio");
    assert_refused("rate>fast", "is not a rate in requests per second");
    assert_refused("not_started<1.5", "is not a count of requests");
}

static void test_threshold_refuses_view_on_non_latency(void **state)
{
    (void)state;
    assert_refused("service.error_ratio<1%", "a view (service) applies only to latency metrics");
}

static void test_threshold_refuses_route_on_whole_run_metrics(void **state)
{
    (void)state;
    assert_refused("create.achieved_ratio>0.9", "applies to the whole run, not to one route");
    assert_refused("read.not_started<1", "applies to the whole run");
}

static void test_threshold_refuses_two_comparisons(void **state)
{
    (void)state;
    assert_refused("10ms<p99<50ms", "more than one comparison");
}

static void test_threshold_refuses_overlong_expression(void **state)
{
    (void)state;
    char expr[300];
    memset(expr, 'p', sizeof(expr) - 1);
    expr[sizeof(expr) - 1] = '\0';
    struct threshold th;
    char err[512];
    assert_int_equal(threshold_parse(expr, &th, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is longer than 127 characters"));
}

/* 100 creates of 1..100 ms (90 of them 201, 10 of them 500) and 50 reads of 1 ms (40 of them
 * 200, 10 of them an expected 404): the task mix's routes, create and read used. */
static void build_results(struct lg_results *r)
{
    static const char *const names[] = {"create", "read", "update", "delete", "list"};
    results_init(r);
    for (int i = 0; i < 5; i++)
        assert_int_equal(results_route_add(r, names[i], "GET", "/"), i);
    r->model = LG_MODEL_OPEN;
    r->target_rate = 100;
    r->duration_ns = 2 * SEC;
    r->completed = 150;
    r->not_started = 3;
    r->connections_opened = 20;
    for (uint64_t i = 1; i <= 100; i++)
        results_record(r, LG_ROUTE_CREATE, i <= 90 ? 201 : 500, 0,
                       i <= 90 ? LG_VERDICT_OK : LG_VERDICT_STATUS, i * MS, i * MS / 2, i * 1000);
    for (uint64_t i = 1; i <= 50; i++)
        results_record(r, LG_ROUTE_READ, i <= 40 ? 200 : 404, 0, LG_VERDICT_OK, 1 * MS, 1 * MS, 0);
}

static struct threshold_result evaluated(const char *expr, const struct lg_results *r)
{
    struct threshold th = parsed(expr);
    struct threshold_result res;
    threshold_eval(&th, r, &res);
    return res;
}

static void test_threshold_eval_latency_quantile(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    struct threshold_result res = evaluated("create.p90<100ms", &r);
    assert_true(res.value * 1e9 >= 90e6 && res.value * 1e9 <= 90e6 * 1.001);
    assert_true(res.ok);
    assert_false(evaluated("create.p90<80ms", &r).ok);
    assert_true(evaluated("create.max<=100ms", &r).ok); /* exactly at the limit */
    assert_false(evaluated("create.max<100ms", &r).ok);
    assert_true(evaluated("create.service.max<=50ms", &r).ok);
    assert_true(evaluated("create.lag.max<=100us", &r).ok);
    assert_true(evaluated("create.min>=1ms", &r).value == 0.001);
    assert_true(fabs(evaluated("create.mean<1s", &r).value - 0.0505) < 1e-12);
    results_free(&r);
}

static void test_threshold_eval_whole_run_latency_includes_every_route(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    /* 150 values: 51 at 1 ms (50 reads + create 1), then 2..100 ms; p50 is rank 75 = 25 ms */
    struct threshold_result res = evaluated("p50<1s", &r);
    assert_true(res.value * 1e9 >= 25e6 && res.value * 1e9 <= 25e6 * 1.001);
    results_free(&r);
}

static void test_threshold_eval_statuses_classes_and_connections(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    assert_true(evaluated("status.404<100", &r).value == 10);
    assert_true(evaluated("read.status.404_ratio<1", &r).value == 10.0 / 50);
    assert_true(evaluated("create.status.404<1", &r).value == 0);
    assert_true(evaluated("4xx_ratio<1", &r).value == 10.0 / 150);
    assert_true(evaluated("5xx<=10", &r).ok);
    assert_false(evaluated("5xx<10", &r).ok);
    assert_true(evaluated("2xx>=130", &r).ok);
    assert_true(evaluated("errors<=10", &r).ok); /* the expected 404s are not failures */
    assert_true(evaluated("connections_opened<=20", &r).value == 20);
    assert_true(isnan(evaluated("nothere.errors<1", &r).value));
    results_free(&r);
}

static void test_threshold_eval_error_ratio_counts_failures(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    struct threshold_result route = evaluated("create.error_ratio<=10%", &r);
    assert_true(route.value == 0.1);
    assert_true(route.ok);
    assert_false(evaluated("create.error_ratio<10%", &r).ok);
    assert_true(evaluated("error_ratio<1", &r).value == 10.0 / 150);
    results_free(&r);
}

static void test_threshold_eval_rates_and_not_started(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    assert_true(evaluated("rate>0", &r).value == 75);      /* 150 completed / 2 s */
    assert_true(evaluated("read.rate>0", &r).value == 25); /* 50 / 2 s */
    struct threshold_result ratio = evaluated("achieved_ratio>0.99", &r);
    assert_true(ratio.value == 0.75);
    assert_false(ratio.ok);
    struct threshold_result ns = evaluated("not_started<=0", &r);
    assert_true(ns.value == 3);
    assert_false(ns.ok);
    assert_true(evaluated("not_started<=3", &r).ok);
    results_free(&r);
}

static void test_threshold_unmeasurable_metric_fails(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    struct threshold_result res = evaluated("delete.p99<1s", &r);
    assert_true(isnan(res.value));
    assert_false(res.ok);
    r.model = LG_MODEL_CLOSED;
    r.target_rate = 0;
    assert_false(evaluated("achieved_ratio>0", &r).ok);
    results_free(&r);
}

static void test_threshold_eval_all_counts_failures(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    struct threshold th[3] = {parsed("p99<1s"), parsed("not_started<1"), parsed("rate<1")};
    struct threshold_result res[3];
    assert_int_equal(threshold_eval_all(th, 3, &r, res), 2);
    assert_true(res[0].ok);
    assert_false(res[1].ok);
    results_free(&r);
}

static void test_threshold_format_failure_message(void **state)
{
    (void)state;
    struct lg_results r;
    build_results(&r);
    char msg[256];
    struct threshold_result res = evaluated("create.p99<50ms", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold failed: create.p99<50ms (create.p99 was 99.0ms)");
    res = evaluated("error_ratio < 1%", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold failed: error_ratio < 1% (error_ratio was 6.67%)");
    res = evaluated("rate>=100/s", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold failed: rate>=100/s (rate was 75.0/s)");
    res = evaluated("not_started<1", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold failed: not_started<1 (not_started was 3)");
    res = evaluated("achieved_ratio>0.5", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold passed: achieved_ratio>0.5 (achieved_ratio was 0.75)");
    res = evaluated("delete.p99<1s", &r);
    threshold_format(&res, msg, sizeof(msg));
    assert_string_equal(msg, "threshold failed: delete.p99<1s (delete.p99 could not be measured: "
                             "no request on this route completed (or the run has no such "
                             "route))");
    results_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_parses_default_p99),
        cmocka_unit_test(test_threshold_parses_route_view_and_dotted_quantile),
        cmocka_unit_test(test_threshold_p999_is_p99_9),
        cmocka_unit_test(test_threshold_parses_max_mean_and_min),
        cmocka_unit_test(test_threshold_parses_error_ratio_as_ratio_or_percent),
        cmocka_unit_test(test_threshold_parses_rate_achieved_ratio_and_not_started),
        cmocka_unit_test(test_threshold_refuses_missing_operator),
        cmocka_unit_test(test_threshold_refuses_missing_sides),
        cmocka_unit_test(test_threshold_refuses_unknown_metric_and_route),
        cmocka_unit_test(test_threshold_route_must_be_one_of_the_runs),
        cmocka_unit_test(test_threshold_parses_statuses_and_classes),
        cmocka_unit_test(test_threshold_refuses_unit_less_latency),
        cmocka_unit_test(test_threshold_refuses_bad_values),
        cmocka_unit_test(test_threshold_refuses_view_on_non_latency),
        cmocka_unit_test(test_threshold_refuses_route_on_whole_run_metrics),
        cmocka_unit_test(test_threshold_refuses_two_comparisons),
        cmocka_unit_test(test_threshold_refuses_overlong_expression),
        cmocka_unit_test(test_threshold_eval_latency_quantile),
        cmocka_unit_test(test_threshold_eval_whole_run_latency_includes_every_route),
        cmocka_unit_test(test_threshold_eval_statuses_classes_and_connections),
        cmocka_unit_test(test_threshold_eval_error_ratio_counts_failures),
        cmocka_unit_test(test_threshold_eval_rates_and_not_started),
        cmocka_unit_test(test_threshold_unmeasurable_metric_fails),
        cmocka_unit_test(test_threshold_eval_all_counts_failures),
        cmocka_unit_test(test_threshold_format_failure_message),
    };
    return cmocka_run_group_tests_name("threshold", tests, NULL, NULL);
}
