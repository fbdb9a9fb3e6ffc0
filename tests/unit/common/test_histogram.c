/*
 * Unit tests for common/histogram: bucket lookup follows Prometheus's "less than or equal" rule
 * at every boundary, snapshots are cumulative with +Inf equal to the total, and the sum is kept
 * in nanoseconds and reported in seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "histogram.h"

static const struct histogram_bounds small_bounds = {
    .count = 3,
    .upper = {0.1, 0.5, 1},
};

static void assert_seconds(double actual, double expected)
{
    assert_true(fabs(actual - expected) < 1e-12);
}

static void test_histogram_value_on_a_bound_falls_in_that_bucket(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_index(&small_bounds, 0.1), 0);
    assert_int_equal(histogram_bucket_index(&small_bounds, 0.5), 1);
    assert_int_equal(histogram_bucket_index(&small_bounds, 1), 2);
}

static void test_histogram_value_just_above_a_bound_falls_in_the_next_bucket(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_index(&small_bounds, nextafter(0.1, 1)), 1);
    assert_int_equal(histogram_bucket_index(&small_bounds, nextafter(0.5, 1)), 2);
}

static void test_histogram_value_below_first_bound_falls_in_first_bucket(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_index(&small_bounds, 0), 0);
    assert_int_equal(histogram_bucket_index(&small_bounds, 0.05), 0);
}

static void test_histogram_value_above_last_bound_falls_in_inf_bucket(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_index(&small_bounds, nextafter(1, 2)), 3);
    assert_int_equal(histogram_bucket_index(&small_bounds, 1e9), 3);
}

static void test_histogram_latency_bounds_run_from_25us_to_10s(void **state)
{
    (void)state;
    const struct histogram_bounds *b = &histogram_latency_bounds;
    assert_int_equal(b->count, 18);
    assert_true(b->upper[0] == 0.000025);
    assert_true(b->upper[17] == 10);
    for (size_t i = 1; i < b->count; i++)
        assert_true(b->upper[i - 1] < b->upper[i]);
}

static void test_histogram_latency_bounds_are_less_than_or_equal(void **state)
{
    (void)state;
    const struct histogram_bounds *b = &histogram_latency_bounds;
    for (size_t i = 0; i < b->count; i++) {
        assert_int_equal(histogram_bucket_index(b, b->upper[i]), i);
        assert_int_equal(histogram_bucket_index(b, nextafter(b->upper[i], 100)), i + 1);
    }
}

static void test_histogram_observation_of_exactly_1ms_counts_in_le_0_001(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &histogram_latency_bounds);
    histogram_observe_ns(&h, 1000000);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    assert_true(histogram_latency_bounds.upper[5] == 0.001);
    assert_int_equal(snap.cumulative[4], 0);
    assert_int_equal(snap.cumulative[5], 1);
}

static void test_histogram_snapshot_counts_are_cumulative(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &small_bounds);
    histogram_observe_ns(&h, 50000000);   /* 0.05 s */
    histogram_observe_ns(&h, 100000000);  /* 0.1 s, on the bound */
    histogram_observe_ns(&h, 300000000);  /* 0.3 s */
    histogram_observe_ns(&h, 2000000000); /* 2 s, above every bound */
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    assert_ptr_equal(snap.bounds, &small_bounds);
    assert_int_equal(snap.count, 3);
    assert_int_equal(snap.cumulative[0], 2);
    assert_int_equal(snap.cumulative[1], 3);
    assert_int_equal(snap.cumulative[2], 3);
    assert_int_equal(snap.cumulative[3], 4);
}

static void test_histogram_snapshot_inf_bucket_equals_total(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &small_bounds);
    for (uint64_t i = 0; i < 10; i++)
        histogram_observe_ns(&h, i * 250000000);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    assert_int_equal(snap.total, 10);
    assert_int_equal(snap.cumulative[snap.count], snap.total);
}

static void test_histogram_snapshot_sums_observations_in_seconds(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &small_bounds);
    histogram_observe_ns(&h, 50000000);
    histogram_observe_ns(&h, 100000000);
    histogram_observe_ns(&h, 300000000);
    histogram_observe_ns(&h, 2000000000);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    assert_seconds(snap.sum_seconds, 2.45);
}

static void test_histogram_snapshot_of_unused_histogram_is_all_zero(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &small_bounds);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    for (size_t i = 0; i <= snap.count; i++)
        assert_int_equal(snap.cumulative[i], 0);
    assert_int_equal(snap.total, 0);
    assert_true(snap.sum_seconds == 0);
}

static void test_histogram_init_clears_previous_observations(void **state)
{
    (void)state;
    struct histogram h;
    histogram_init(&h, &small_bounds);
    histogram_observe_ns(&h, 1);
    histogram_init(&h, &small_bounds);
    struct histogram_snapshot snap;
    histogram_snapshot(&h, &snap);
    assert_int_equal(snap.total, 0);
    assert_true(snap.sum_seconds == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_value_on_a_bound_falls_in_that_bucket),
        cmocka_unit_test(test_histogram_value_just_above_a_bound_falls_in_the_next_bucket),
        cmocka_unit_test(test_histogram_value_below_first_bound_falls_in_first_bucket),
        cmocka_unit_test(test_histogram_value_above_last_bound_falls_in_inf_bucket),
        cmocka_unit_test(test_histogram_latency_bounds_run_from_25us_to_10s),
        cmocka_unit_test(test_histogram_latency_bounds_are_less_than_or_equal),
        cmocka_unit_test(test_histogram_observation_of_exactly_1ms_counts_in_le_0_001),
        cmocka_unit_test(test_histogram_snapshot_counts_are_cumulative),
        cmocka_unit_test(test_histogram_snapshot_inf_bucket_equals_total),
        cmocka_unit_test(test_histogram_snapshot_sums_observations_in_seconds),
        cmocka_unit_test(test_histogram_snapshot_of_unused_histogram_is_all_zero),
        cmocka_unit_test(test_histogram_init_clears_previous_observations),
    };
    return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
