/*
 * test_metrics: /metrics against the DESIGN.md contract, with exact values. A known sequence of
 * requests (successes, 4xx, a 405 for the unknown method BREW, a 413) must show up as exactly
 * those http_requests_total series and counts, histogram counts must agree with them, and the
 * database, build and process families must be present with the right values. A live scrape
 * must pass `promtool check metrics` without a finding.
 *
 * A request is counted when libmicrohttpd reports it complete, just before its log line is
 * written, so the tests wait for the log lines before they scrape; a scrape counts itself only
 * after it has been served.
 */
#include <microhttpd.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "promtool.h"
#include "skip.h"
#include "scratch.h"

#define MAX_SERIES 64

struct series {
    const char *method, *route;
    int code, count;
};

struct expected {
    struct series s[MAX_SERIES];
    size_t n;
    size_t requests;
};

static void count(struct expected *e, const char *method, const char *route, int code)
{
    e->requests++;
    for (size_t i = 0; i < e->n; i++) {
        if (!strcmp(e->s[i].method, method) && !strcmp(e->s[i].route, route) &&
            e->s[i].code == code) {
            e->s[i].count++;
            return;
        }
    }
    assert_true(e->n < MAX_SERIES);
    e->s[e->n++] = (struct series){method, route, code, 1};
}

/* Sends a request that must get `code`, and records the series it must count under. */
static void req(struct fixture *fx, struct expected *e, const char *method, const char *path,
                const char *const *headers, const char *body, const char *label_method,
                const char *route, int code)
{
    fx_context("%s %s", method, path);
    struct http_response *res = fx_request(fx, method, path, headers, body);
    fx_expect_status(res, code);
    scratch_drop(res);
    count(e, label_method, route, code);
    fx_context("%s", "");
}

/* The sequence the counting tests check, on one keep-alive connection where possible. */
static void run_known_sequence(struct fixture *fx, struct expected *e)
{
    static const char *const text_plain[] = {"Content-Type: text/plain", NULL};
    const char *const *json = fx_json_headers;
    for (int i = 0; i < 3; i++)
        req(fx, e, "POST", "/tasks", json, "{\"task\":\"m\"}", "POST", "/tasks", 201);
    req(fx, e, "GET", "/tasks", NULL, NULL, "GET", "/tasks", 200);
    req(fx, e, "GET", "/tasks?limit=0", NULL, NULL, "GET", "/tasks", 400);
    req(fx, e, "GET", "/tasks/1", NULL, NULL, "GET", "/tasks/{id}", 200);
    req(fx, e, "GET", "/tasks/999", NULL, NULL, "GET", "/tasks/{id}", 404);
    req(fx, e, "GET", "/tasks/abc", NULL, NULL, "GET", "/tasks/{id}", 400);
    req(fx, e, "HEAD", "/tasks/1", NULL, NULL, "HEAD", "/tasks/{id}", 200);
    req(fx, e, "PUT", "/tasks/2", json, "{\"done\":true}", "PUT", "/tasks/{id}", 200);
    req(fx, e, "DELETE", "/tasks/3", NULL, NULL, "DELETE", "/tasks/{id}", 204);
    req(fx, e, "POST", "/tasks", json, "{", "POST", "/tasks", 400);
    req(fx, e, "POST", "/tasks", text_plain, "{\"task\":\"m\"}", "POST", "/tasks", 415);
    req(fx, e, "BREW", "/tasks", NULL, NULL, "other", "/tasks", 405);
    req(fx, e, "DELETE", "/tasks", NULL, NULL, "DELETE", "/tasks", 405);
    req(fx, e, "GET", "/nope", NULL, NULL, "GET", "other", 404);
    req(fx, e, "GET", "//tasks", NULL, NULL, "GET", "other", 404);
    req(fx, e, "GET", "/livez", NULL, NULL, "GET", "/livez", 200);
    req(fx, e, "GET", "/readyz", NULL, NULL, "GET", "/readyz", 200);
    req(fx, e, "POST", "/livez", NULL, NULL, "POST", "/livez", 405);
    req(fx, e, "PATCH", "/tasks/1", NULL, NULL, "PATCH", "/tasks/{id}", 405);
    req(fx, e, "OPTIONS", "/metrics", NULL, NULL, "OPTIONS", "/metrics", 405);
    /* a declared body over 64 KiB: answered from the headers, then the connection closes */
    static const char *const big[] = {"Content-Type: application/json", "Content-Length: 100000",
                                      NULL};
    req(fx, e, "POST", "/tasks", big, "", "POST", "/tasks", 413);
    fx_wait_logged(fx, e->requests);
}

static void expect_request_counts(const struct scrape *sc, const struct expected *e)
{
    for (size_t i = 0; i < e->n; i++) {
        char code[8];
        snprintf(code, sizeof(code), "%d", e->s[i].code);
        const char *labels[] = {"method", e->s[i].method, "route", e->s[i].route,
                                "code",   code,           NULL};
        double v = fx_metric(sc, "http_requests_total", labels);
        if (v != e->s[i].count)
            fx_fail_at(__FILE__, __LINE__,
                       "http_requests_total{method=\"%s\",route=\"%s\",code=\"%d\"} is %g, "
                       "expected %d",
                       e->s[i].method, e->s[i].route, e->s[i].code, v, e->s[i].count);
    }
    size_t have = scrape_count(sc, "http_requests_total");
    if (have != e->n) {
        for (size_t i = 0; i < sc->count; i++) {
            const struct scrape_sample *smp = &sc->samples[i];
            if (strcmp(smp->name, "http_requests_total") == 0)
                print_error("#   %s %s %s = %g\n", scrape_label(smp, "method"),
                            scrape_label(smp, "route"), scrape_label(smp, "code"), smp->value);
        }
        fx_fail_at(__FILE__, __LINE__, "%zu http_requests_total series, expected exactly %zu", have,
                   e->n);
    }
}

static void test_request_counts_are_exact_per_method_route_code(void **state)
{
    struct fixture *fx = *state;
    struct expected e = {0};
    run_known_sequence(fx, &e);
    expect_request_counts(fx_scrape(fx), &e);
}

static void test_a_scrape_counts_itself_only_after_it_is_served(void **state)
{
    struct fixture *fx = *state;
    static const char *const metrics_ok[] = {"method", "GET", "route", "/metrics",
                                             "code",   "200", NULL};
    struct scrape *first = fx_scrape(fx);
    assert_null(scrape_find(first, "http_requests_total", metrics_ok));
    assert_int_equal(scrape_count(first, "http_requests_total"), 0);
    fx_wait_logged(fx, 1);
    assert_true(fx_metric(fx_scrape(fx), "http_requests_total", metrics_ok) == 1.0);
    fx_wait_logged(fx, 2);
    assert_true(fx_metric(fx_scrape(fx), "http_requests_total", metrics_ok) == 2.0);
}

/* _count of each (method, route) histogram equals the requests counted for it; buckets are
 * cumulative, end with +Inf == _count, and span 100 µs to 10 s. */
static void test_duration_histograms_agree_with_request_counts(void **state)
{
    struct fixture *fx = *state;
    struct expected e = {0};
    run_known_sequence(fx, &e);
    struct scrape *sc = fx_scrape(fx);
    assert_string_equal(scrape_type(sc, "http_request_duration_seconds"), "histogram");
    size_t histograms = 0;
    for (size_t i = 0; i < e.n; i++) {
        int total = 0, first = 1;
        for (size_t j = 0; j < e.n; j++) {
            if (!strcmp(e.s[j].method, e.s[i].method) && !strcmp(e.s[j].route, e.s[i].route)) {
                first = first && j >= i;
                total += e.s[j].count;
            }
        }
        if (!first)
            continue; /* this (method, route) was checked at its first code */
        histograms++;
        const char *labels[] = {"method", e.s[i].method, "route", e.s[i].route, NULL};
        fx_context("http_request_duration_seconds{method=\"%s\",route=\"%s\"}", e.s[i].method,
                   e.s[i].route);
        double c = fx_metric(sc, "http_request_duration_seconds_count", labels);
        assert_true(c == total);
        assert_true(fx_metric(sc, "http_request_duration_seconds_sum", labels) > 0);
        const char *inf[] = {"method", e.s[i].method, "route", e.s[i].route, "le", "+Inf", NULL};
        assert_true(fx_metric(sc, "http_request_duration_seconds_bucket", inf) == total);
        const char *low[] = {"method", e.s[i].method, "route", e.s[i].route, "le", "0.0001", NULL};
        const char *high[] = {"method", e.s[i].method, "route", e.s[i].route, "le", "10", NULL};
        double at_low = fx_metric(sc, "http_request_duration_seconds_bucket", low);
        double at_high = fx_metric(sc, "http_request_duration_seconds_bucket", high);
        assert_true(at_low <= at_high && at_high <= total);
        double prev = 0;
        for (size_t k = 0; k < sc->count; k++) {
            const struct scrape_sample *smp = &sc->samples[k];
            if (strcmp(smp->name, "http_request_duration_seconds_bucket") != 0 ||
                strcmp(scrape_label(smp, "method"), e.s[i].method) != 0 ||
                strcmp(scrape_label(smp, "route"), e.s[i].route) != 0)
                continue;
            assert_true(smp->value >= prev);
            prev = smp->value;
        }
    }
    fx_context("%s", "");
    assert_int_equal(scrape_count(sc, "http_request_duration_seconds_count"), histograms);
}

static void test_in_flight_is_one_during_a_scrape(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    fx_wait_logged(fx, 1);
    struct scrape *sc = fx_scrape(fx);
    assert_string_equal(scrape_type(sc, "http_requests_in_flight"), "gauge");
    assert_true(fx_metric(sc, "http_requests_in_flight", NULL) == 1.0); /* the scrape itself */
}

static void test_tasks_gauge_counts_the_stored_tasks(void **state)
{
    struct fixture *fx = *state;
    assert_true(fx_metric(fx_scrape(fx), "taskd_tasks", NULL) == 0.0);
    for (int i = 0; i < 5; i++)
        fx_create(fx, "counted");
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/2", NULL, NULL), 204);
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/4", NULL, NULL), 204);
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/4", NULL, NULL), 404);
    fx_expect_status(fx_request(fx, "PUT", "/tasks/1", fx_json_headers, "{\"done\":true}"), 200);
    fx_expect_status(fx_request(fx, "POST", "/tasks", fx_json_headers, "{}"), 400);
    assert_true(fx_metric(fx_scrape(fx), "taskd_tasks", NULL) == 3.0);
}

static void test_database_gauges_report_a_healthy_database(void **state)
{
    struct fixture *fx = *state;
    struct scrape *sc = fx_scrape(fx);
    assert_true(fx_metric(sc, "taskd_db_up", NULL) == 1.0);
    static const char *const states[] = {"ok",       "missing",    "is_directory", "replaced",
                                         "unlinked", "readonly",   "not_a_db",     "corrupt",
                                         "io_error", "older_copy", "stale_wal",    "no_inodes"};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        const char *labels[] = {"state", states[i], NULL};
        fx_context("taskd_db_file_state{state=\"%s\"}", states[i]);
        assert_true(fx_metric(sc, "taskd_db_file_state", labels) == (i == 0 ? 1.0 : 0.0));
    }
    fx_context("%s", "");
    assert_int_equal(scrape_count(sc, "taskd_db_file_state"), 12);
    /* only the persistence-fault codes, all at 0 */
    assert_int_equal(scrape_count(sc, "taskd_db_errors_total"), 9);
    const char *busy[] = {"code", "SQLITE_BUSY", NULL};
    assert_true(fx_metric(sc, "taskd_db_errors_total", busy) == 0.0);
    assert_true(fx_metric(sc, "taskd_db_created_total", NULL) == 1.0); /* a fresh directory */
    assert_true(fx_metric(sc, "taskd_data_dir_free_bytes", NULL) > 0);
    assert_true(fx_metric(sc, "taskd_data_dir_free_inodes", NULL) > 0);
}

static void test_db_query_histograms_count_each_operation(void **state)
{
    struct fixture *fx = *state;
    struct expected e = {0};
    run_known_sequence(fx, &e);
    struct scrape *sc = fx_scrape(fx);
    static const struct {
        const char *op;
        double count;
    } ops[] = {{"create", 3}, {"get", 3}, {"list", 1}, {"update", 1}, {"delete", 1}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        const char *labels[] = {"op", ops[i].op, NULL};
        fx_context("taskd_db_query_duration_seconds_count{op=\"%s\"}", ops[i].op);
        assert_true(fx_metric(sc, "taskd_db_query_duration_seconds_count", labels) == ops[i].count);
    }
}

/* `taskd --version` prints "taskd VERSION". */
static char *taskd_version(void)
{
    static const char *const args[] = {"--version", NULL};
    char *out, *err;
    assert_int_equal(fx_run_taskd(args, NULL, &out, &err), 0);
    assert_true(strncmp(out, "taskd ", 6) == 0);
    out[strcspn(out, "\n")] = '\0';
    return out + 6;
}

static void test_build_info_names_the_versions(void **state)
{
    struct fixture *fx = *state;
    struct scrape *sc = fx_scrape(fx);
    assert_int_equal(scrape_count(sc, "taskd_build_info"), 1);
    const char *labels[] = {"version",
                            taskd_version(),
                            "sqlite_version",
                            sqlite3_libversion(),
                            "mhd_version",
                            MHD_get_version(),
                            NULL};
    assert_true(fx_metric(sc, "taskd_build_info", labels) == 1.0);
}

static void test_process_metrics_are_present(void **state)
{
    struct fixture *fx = *state;
    struct scrape *sc = fx_scrape(fx);
    double now = (double)time(NULL);
    assert_true(fx_metric(sc, "process_cpu_seconds_total", NULL) >= 0);
    double rss = fx_metric(sc, "process_resident_memory_bytes", NULL);
    assert_true(rss > 0);
    assert_true(fx_metric(sc, "process_virtual_memory_bytes", NULL) >= rss);
    double open_fds = fx_metric(sc, "process_open_fds", NULL);
    assert_true(open_fds >= 3);
    assert_true(fx_metric(sc, "process_max_fds", NULL) >= open_fds);
    double start = fx_metric(sc, "process_start_time_seconds", NULL);
    assert_true(start > now - 60 && start <= now + 1);
    assert_string_equal(scrape_type(sc, "process_cpu_seconds_total"), "counter");
    assert_string_equal(scrape_type(sc, "process_open_fds"), "gauge");
}

static void test_metric_types_match_the_contract(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    fx_wait_logged(fx, 1);
    struct scrape *sc = fx_scrape(fx);
    static const char *const types[][2] = {
        {"http_requests_total", "counter"},
        {"http_request_duration_seconds", "histogram"},
        {"http_requests_in_flight", "gauge"},
        {"taskd_db_up", "gauge"},
        {"taskd_db_errors_total", "counter"},
        {"taskd_db_query_duration_seconds", "histogram"},
        {"taskd_tasks", "gauge"},
        {"taskd_db_file_state", "gauge"},
        {"taskd_data_dir_free_bytes", "gauge"},
        {"taskd_build_info", "gauge"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *type = scrape_type(sc, types[i][0]);
        if (!type || strcmp(type, types[i][1]) != 0)
            fx_fail_at(__FILE__, __LINE__, "# TYPE %s is %s, expected %s", types[i][0],
                       type ? type : "missing", types[i][1]);
    }
}

static void test_content_type_is_the_prometheus_text_format(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "GET", "/metrics", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(http_header(res, "Content-Type"),
                        "text/plain; version=0.0.4; charset=utf-8");
}

static void test_live_scrape_passes_promtool_check_metrics(void **state)
{
    struct fixture *fx = *state;
    if (!promtool_installed())
        skip_because("%s is not installed (make deps installs prometheus)", PROMTOOL_PATH);
    struct expected e = {0};
    run_known_sequence(fx, &e);
    fx_scrape(fx); /* so the /metrics series exists too */
    fx_wait_logged(fx, e.requests + 1);
    struct http_response *res = fx_request(fx, "GET", "/metrics", NULL, NULL);
    fx_expect_status(res, 200);
    char report[4096];
    int status = promtool_check_metrics(res->body, res->body_len, report, sizeof(report));
    if (status != 0 || report[0])
        fx_fail_at(__FILE__, __LINE__, "promtool check metrics: exit status %d, output: %s", status,
                   report);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_request_counts_are_exact_per_method_route_code),
        T(test_a_scrape_counts_itself_only_after_it_is_served),
        T(test_duration_histograms_agree_with_request_counts),
        T(test_in_flight_is_one_during_a_scrape),
        T(test_tasks_gauge_counts_the_stored_tasks),
        T(test_database_gauges_report_a_healthy_database),
        T(test_db_query_histograms_count_each_operation),
        T(test_build_info_names_the_versions),
        T(test_process_metrics_are_present),
        T(test_metric_types_match_the_contract),
        T(test_content_type_is_the_prometheus_text_format),
        T(test_live_scrape_passes_promtool_check_metrics),
    };
    return cmocka_run_group_tests_name("e2e_metrics", tests, NULL, NULL);
}
