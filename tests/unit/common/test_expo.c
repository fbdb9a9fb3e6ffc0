/*
 * Unit tests for common/expo: the Prometheus text format written byte for byte (HELP/TYPE lines,
 * label and help escaping, histogram _bucket/_sum/_count series), and, when promtool is
 * installed, a rendered exposition checked by `promtool check metrics` as Prometheus would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "expo.h"
#include "histogram.h"
#include "promtool.h"
#include "skip.h"

static const struct histogram_bounds small_bounds = {
    .count = 3,
    .upper = {0.1, 0.5, 1},
};

static int setup(void **state)
{
    static struct buf out;
    buf_init(&out, 64 * 1024);
    *state = &out;
    return 0;
}

static int teardown(void **state)
{
    buf_free(*state);
    return 0;
}

/* A snapshot with 2 observations <= 0.1, 1 in (0.1, 0.5], none in (0.5, 1], 1 above; sum 2.5 s. */
static struct histogram_snapshot sample_snapshot(void)
{
    struct histogram_snapshot snap;
    memset(&snap, 0, sizeof(snap));
    snap.bounds = &small_bounds;
    snap.count = 3;
    snap.cumulative[0] = 2;
    snap.cumulative[1] = 3;
    snap.cumulative[2] = 3;
    snap.cumulative[3] = 4;
    snap.total = 4;
    snap.sum_seconds = 2.5;
    return snap;
}

static void test_expo_family_writes_help_then_type(void **state)
{
    struct buf *out = *state;
    expo_family(out, "demo_requests_total", "counter", "Requests served.");
    assert_string_equal(out->data, "# HELP demo_requests_total Requests served.\n"
                                   "# TYPE demo_requests_total counter\n");
}

static void test_expo_help_escapes_backslash_and_newline_but_not_quote(void **state)
{
    struct buf *out = *state;
    expo_family(out, "x", "gauge", "a\\b \"q\"\nc");
    assert_string_equal(out->data, "# HELP x a\\\\b \"q\"\\nc\n# TYPE x gauge\n");
}

static void test_expo_sample_without_labels_has_no_braces(void **state)
{
    struct buf *out = *state;
    expo_sample_u64(out, "up", NULL, 0, 1);
    assert_string_equal(out->data, "up 1\n");
}

static void test_expo_sample_writes_labels_in_order(void **state)
{
    struct buf *out = *state;
    struct expo_label labels[] = {{"method", "GET"}, {"code", "200"}};
    expo_sample_u64(out, "hits_total", labels, 2, 18446744073709551615u);
    assert_string_equal(out->data,
                        "hits_total{method=\"GET\",code=\"200\"} 18446744073709551615\n");
}

static void test_expo_label_value_escapes_backslash_quote_and_newline(void **state)
{
    struct buf *out = *state;
    struct expo_label label = {"v", "a\\b\"c\nd"};
    expo_sample_u64(out, "x", &label, 1, 1);
    assert_string_equal(out->data, "x{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

static void test_expo_double_sample_writes_shortest_exact_value(void **state)
{
    struct buf *out = *state;
    expo_sample_double(out, "a", NULL, 0, 0.5);
    expo_sample_double(out, "b", NULL, 0, 12345);
    expo_sample_double(out, "c", NULL, 0, -3.25);
    assert_string_equal(out->data, "a 0.5\nb 12345\nc -3.25\n");
}

static void test_expo_double_sample_writes_nan_and_infinities(void **state)
{
    struct buf *out = *state;
    expo_sample_double(out, "a", NULL, 0, NAN);
    expo_sample_double(out, "b", NULL, 0, INFINITY);
    expo_sample_double(out, "c", NULL, 0, -INFINITY);
    assert_string_equal(out->data, "a NaN\nb +Inf\nc -Inf\n");
}

static void test_expo_gauge_writes_family_and_one_sample(void **state)
{
    struct buf *out = *state;
    expo_gauge(out, "demo_up", "1 when up.", 1);
    assert_string_equal(out->data, "# HELP demo_up 1 when up.\n# TYPE demo_up gauge\ndemo_up 1\n");
}

static void test_expo_histogram_writes_cumulative_buckets_sum_and_count(void **state)
{
    struct buf *out = *state;
    struct histogram_snapshot snap = sample_snapshot();
    struct expo_label label = {"op", "get"};
    expo_histogram(out, "lat_seconds", &label, 1, &snap);
    assert_string_equal(out->data, "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
                                   "lat_seconds_bucket{op=\"get\",le=\"0.5\"} 3\n"
                                   "lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
                                   "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
                                   "lat_seconds_sum{op=\"get\"} 2.5\n"
                                   "lat_seconds_count{op=\"get\"} 4\n");
}

static void test_expo_histogram_without_labels_has_only_le(void **state)
{
    struct buf *out = *state;
    struct histogram_snapshot snap = sample_snapshot();
    expo_histogram(out, "lat_seconds", NULL, 0, &snap);
    assert_string_equal(out->data, "lat_seconds_bucket{le=\"0.1\"} 2\n"
                                   "lat_seconds_bucket{le=\"0.5\"} 3\n"
                                   "lat_seconds_bucket{le=\"1\"} 3\n"
                                   "lat_seconds_bucket{le=\"+Inf\"} 4\n"
                                   "lat_seconds_sum 2.5\n"
                                   "lat_seconds_count 4\n");
}

static void test_expo_histogram_renders_latency_bounds_without_float_noise(void **state)
{
    struct buf *out = *state;
    struct histogram h;
    histogram_init(&h, &histogram_latency_bounds);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    expo_histogram(out, "l", NULL, 0, &snap);
    static const char *const le[] = {"2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
                                     "0.0025",  "0.005", "0.01",   "0.025",   "0.05",   "0.1",
                                     "0.25",    "0.5",   "1",      "2.5",     "5",      "10"};
    const char *p = out->data;
    for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "l_bucket{le=\"%s\"} 0\n", le[i]);
        assert_memory_equal(p, line, strlen(line));
        p += strlen(line);
    }
    assert_string_equal(p, "l_bucket{le=\"+Inf\"} 0\nl_sum 0\nl_count 0\n");
}

static void test_expo_sets_overflowed_when_output_exceeds_limit(void **state)
{
    (void)state;
    struct buf small;
    buf_init(&small, 16);
    expo_family(&small, "a_rather_long_metric_name", "gauge", "help");
    assert_int_equal(small.overflowed, 1);
    buf_free(&small);
}

static void test_expo_output_passes_promtool_check_metrics(void **state)
{
    struct buf *out = *state;
    if (!promtool_installed())
        skip_because("%s is not installed (make deps installs prometheus)", PROMTOOL_PATH);
    struct expo_label labels[] = {{"path", "C:\\dir \"quoted\"\nnext"}, {"code", "200"}};
    expo_family(out, "demo_requests_total", "counter", "Requests with a \\ and a\nnewline.");
    expo_sample_u64(out, "demo_requests_total", labels, 2, 3);
    expo_gauge(out, "demo_temperature_celsius", "A gauge.", -1.5);
    expo_family(out, "demo_duration_seconds", "histogram", "A histogram.");
    struct histogram_snapshot snap = sample_snapshot();
    struct expo_label op = {"op", "get"};
    expo_histogram(out, "demo_duration_seconds", &op, 1, &snap);
    struct histogram h;
    histogram_init(&h, &histogram_latency_bounds);
    histogram_observe_ns(&h, 1000000);
    histogram_snapshot(&h, &snap);
    struct expo_label op2 = {"op", "put"};
    expo_histogram(out, "demo_duration_seconds", &op2, 1, &snap);
    assert_int_equal(out->overflowed, 0);
    char report[4096];
    int status = promtool_check_metrics(out->data, out->len, report, sizeof(report));
    if (status != 0 || report[0])
        print_error("promtool said: %s\n", report);
    assert_int_equal(status, 0);
    assert_string_equal(report, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expo_family_writes_help_then_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expo_help_escapes_backslash_and_newline_but_not_quote,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expo_sample_without_labels_has_no_braces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expo_sample_writes_labels_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expo_label_value_escapes_backslash_quote_and_newline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expo_double_sample_writes_shortest_exact_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expo_double_sample_writes_nan_and_infinities, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expo_gauge_writes_family_and_one_sample, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expo_histogram_writes_cumulative_buckets_sum_and_count,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expo_histogram_without_labels_has_only_le, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_expo_histogram_renders_latency_bounds_without_float_noise, setup, teardown),
        cmocka_unit_test(test_expo_sets_overflowed_when_output_exceeds_limit),
        cmocka_unit_test_setup_teardown(test_expo_output_passes_promtool_check_metrics, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("expo", tests, NULL, NULL);
}
