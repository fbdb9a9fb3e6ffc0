/*
 * Unit tests for common/loghist: bucket boundaries round-trip exactly, every value is known to
 * within 0.1 %, quantiles follow the ceil(q * count) rank rule on known distributions, merging
 * equals recording everything in one histogram byte for byte, and the edges (empty, huge
 * values, min and max) behave as the header says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loghist.h"

#define MAX_TRACKED (UINT64_C(1) << LOGHIST_MAX_EXP)

static struct loghist *hist_new(void)
{
    struct loghist *h = malloc(sizeof(*h));
    assert_non_null(h);
    loghist_reset(h);
    return h;
}

/* A small deterministic generator (splitmix64), so failures reproduce. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void assert_within(double actual, double expected, double rel)
{
    if (fabs(actual - expected) > rel * expected)
        fail_msg("%.0f is not within %.3g%% of %.0f", actual, rel * 100, expected);
}

static void test_loghist_has_27648_buckets(void **state)
{
    (void)state;
    assert_int_equal(LOGHIST_BUCKETS, 2048 + 25 * 1024);
}

static void test_loghist_values_below_2048_have_their_own_bucket(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 2048; v++) {
        assert_int_equal(loghist_index(v), v);
        assert_int_equal(loghist_bucket_low(v), v);
        assert_int_equal(loghist_bucket_high(v), v);
    }
}

static void test_loghist_index_at_the_first_log_boundaries(void **state)
{
    (void)state;
    assert_int_equal(loghist_index(2048), 2048); /* width 2 from here */
    assert_int_equal(loghist_index(2049), 2048);
    assert_int_equal(loghist_index(2050), 2049);
    assert_int_equal(loghist_index(4095), 3071);
    assert_int_equal(loghist_index(4096), 3072); /* width 4 from here */
    assert_int_equal(loghist_index(4099), 3072);
    assert_int_equal(loghist_index(4100), 3073);
    assert_int_equal(loghist_bucket_low(2048), 2048);
    assert_int_equal(loghist_bucket_high(2048), 2049);
    assert_int_equal(loghist_bucket_low(3072), 4096);
    assert_int_equal(loghist_bucket_high(3072), 4099);
}

static void test_loghist_every_bucket_round_trips_through_its_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i + 1 < LOGHIST_BUCKETS; i++) {
        uint64_t low = loghist_bucket_low(i), high = loghist_bucket_high(i);
        assert_true(low <= high);
        assert_int_equal(loghist_index(low), i);
        assert_int_equal(loghist_index(high), i);
        assert_int_equal(loghist_bucket_low(i + 1), high + 1);
    }
}

static void test_loghist_last_tracked_value_is_in_the_last_bucket(void **state)
{
    (void)state;
    assert_int_equal(loghist_index(MAX_TRACKED - 1), LOGHIST_BUCKETS - 1);
    assert_int_equal(loghist_bucket_low(LOGHIST_BUCKETS - 1), MAX_TRACKED - (MAX_TRACKED >> 11));
    assert_true(loghist_bucket_high(LOGHIST_BUCKETS - 1) == UINT64_MAX);
}

static void test_loghist_values_from_2_to_the_36_are_clamped_to_the_last_bucket(void **state)
{
    (void)state;
    assert_int_equal(loghist_index(MAX_TRACKED), LOGHIST_BUCKETS - 1);
    assert_int_equal(loghist_index(MAX_TRACKED * 1000), LOGHIST_BUCKETS - 1);
    assert_int_equal(loghist_index(UINT64_MAX), LOGHIST_BUCKETS - 1);
}

static void test_loghist_bucket_of_a_random_value_is_within_0_1_percent(void **state)
{
    (void)state;
    uint64_t rng = 42;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = next_random(&rng) % MAX_TRACKED;
        size_t idx = loghist_index(v);
        uint64_t low = loghist_bucket_low(idx), high = loghist_bucket_high(idx);
        if (idx == LOGHIST_BUCKETS - 1)
            high = MAX_TRACKED - 1; /* open-ended for clamped values; exact below 2^36 */
        assert_true(low <= v && v <= high);
        assert_true((double)(high - low) <= (double)v * 0.001);
    }
}

static void test_loghist_single_value_quantiles_are_that_value(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    loghist_record(h, 123456789);
    assert_int_equal(loghist_quantile(h, 0.5), 123456789); /* capped at max */
    assert_int_equal(loghist_quantile(h, 0), 123456789);
    assert_int_equal(loghist_quantile(h, 1), 123456789);
    free(h);
}

static void test_loghist_quantiles_of_1_to_100_ns_are_exact(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    for (uint64_t v = 1; v <= 100; v++)
        loghist_record(h, v);
    assert_int_equal(loghist_quantile(h, 0.5), 50);
    assert_int_equal(loghist_quantile(h, 0.9), 90);
    assert_int_equal(loghist_quantile(h, 0.99), 99);
    assert_int_equal(loghist_quantile(h, 0.07), 7);  /* 0.07 * 100 is 7.000000000000001 */
    assert_int_equal(loghist_quantile(h, 0.001), 1); /* rank at least 1 */
    assert_int_equal(loghist_quantile(h, 0.995), 100);
    assert_int_equal(loghist_quantile(h, 1), 100);
    assert_int_equal(loghist_quantile(h, 0), 1);
    assert_int_equal(loghist_quantile(h, -1), 1);
    assert_int_equal(loghist_quantile(h, 2), 100);
    free(h);
}

static void test_loghist_uniform_1_to_10000_us_quantiles_within_0_1_percent(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    for (uint64_t us = 1; us <= 10000; us++)
        loghist_record(h, us * 1000);
    assert_within((double)loghist_quantile(h, 0.5), 5000e3, 0.001);
    assert_within((double)loghist_quantile(h, 0.9), 9000e3, 0.001);
    assert_within((double)loghist_quantile(h, 0.99), 9900e3, 0.001);
    assert_within((double)loghist_quantile(h, 0.999), 9990e3, 0.001);
    assert_true(loghist_quantile(h, 0.5) >= 5000000); /* the bucket's top, never below */
    assert_int_equal(loghist_quantile(h, 1), 10000000);
    assert_int_equal(loghist_quantile(h, 0), 1000);
    assert_true(loghist_mean_ns(h) == 5000500.0);
    free(h);
}

static void test_loghist_bimodal_quantiles_fall_in_the_right_mode(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    loghist_record_n(h, 1000000, 990);  /* 990 at 1 ms */
    loghist_record_n(h, 500000000, 10); /* 10 at 500 ms */
    assert_within((double)loghist_quantile(h, 0.99), 1e6, 0.001);
    assert_int_equal(loghist_quantile(h, 0.991), 500000000);
    assert_int_equal(h->count, 1000);
    free(h);
}

static void test_loghist_merge_equals_recording_everything_in_one(void **state)
{
    (void)state;
    struct loghist *a = hist_new(), *b = hist_new(), *all = hist_new();
    uint64_t rng = 7;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = next_random(&rng) % (UINT64_C(1) << (next_random(&rng) % 40));
        loghist_record(i % 3 ? a : b, v);
        loghist_record(all, v);
    }
    loghist_merge(a, b);
    assert_memory_equal(a, all, sizeof(*all));
    free(a);
    free(b);
    free(all);
}

static void test_loghist_merge_of_an_empty_histogram_changes_nothing(void **state)
{
    (void)state;
    struct loghist *a = hist_new(), *empty = hist_new(), *copy = hist_new();
    loghist_record(a, 5000);
    memcpy(copy, a, sizeof(*a));
    loghist_merge(a, empty);
    assert_memory_equal(a, copy, sizeof(*a));
    loghist_merge(empty, a);
    assert_memory_equal(empty, copy, sizeof(*a));
    free(a);
    free(empty);
    free(copy);
}

static void test_loghist_min_and_max_are_exact(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    loghist_record(h, 987654321);
    loghist_record(h, 123456789);
    loghist_record(h, 555555555);
    assert_int_equal(h->min_ns, 123456789);
    assert_int_equal(h->max_ns, 987654321);
    assert_int_equal(loghist_quantile(h, 1), 987654321);
    assert_int_equal(loghist_quantile(h, 0), 123456789);
    assert_int_equal(h->sum_ns, 987654321 + 123456789 + 555555555);
    free(h);
}

static void test_loghist_huge_values_are_counted_with_exact_max(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    uint64_t huge = UINT64_C(1) << 40; /* ~18 minutes */
    loghist_record(h, 1000);
    loghist_record(h, huge);
    assert_int_equal(h->counts[LOGHIST_BUCKETS - 1], 1);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->max_ns, huge);
    assert_int_equal(loghist_quantile(h, 1), huge);
    assert_int_equal(loghist_quantile(h, 0.9), huge);
    free(h);
}

static void test_loghist_record_n_equals_n_records(void **state)
{
    (void)state;
    struct loghist *a = hist_new(), *b = hist_new();
    loghist_record_n(a, 777777, 5);
    loghist_record_n(a, 1, 0); /* nothing */
    for (int i = 0; i < 5; i++)
        loghist_record(b, 777777);
    assert_memory_equal(a, b, sizeof(*a));
    free(a);
    free(b);
}

static void test_loghist_empty_histogram_reports_zero(void **state)
{
    (void)state;
    struct loghist *h = hist_new();
    assert_int_equal(h->count, 0);
    assert_true(h->min_ns == UINT64_MAX);
    assert_int_equal(h->max_ns, 0);
    assert_int_equal(loghist_quantile(h, 0.5), 0);
    assert_int_equal(loghist_quantile(h, 0), 0);
    assert_int_equal(loghist_quantile(h, 1), 0);
    assert_true(loghist_mean_ns(h) == 0);
    free(h);
}

static void test_loghist_struct_is_about_220_kib(void **state)
{
    (void)state;
    assert_true(sizeof(struct loghist) < 225 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loghist_has_27648_buckets),
        cmocka_unit_test(test_loghist_values_below_2048_have_their_own_bucket),
        cmocka_unit_test(test_loghist_index_at_the_first_log_boundaries),
        cmocka_unit_test(test_loghist_every_bucket_round_trips_through_its_bounds),
        cmocka_unit_test(test_loghist_last_tracked_value_is_in_the_last_bucket),
        cmocka_unit_test(test_loghist_values_from_2_to_the_36_are_clamped_to_the_last_bucket),
        cmocka_unit_test(test_loghist_bucket_of_a_random_value_is_within_0_1_percent),
        cmocka_unit_test(test_loghist_single_value_quantiles_are_that_value),
        cmocka_unit_test(test_loghist_quantiles_of_1_to_100_ns_are_exact),
        cmocka_unit_test(test_loghist_uniform_1_to_10000_us_quantiles_within_0_1_percent),
        cmocka_unit_test(test_loghist_bimodal_quantiles_fall_in_the_right_mode),
        cmocka_unit_test(test_loghist_merge_equals_recording_everything_in_one),
        cmocka_unit_test(test_loghist_merge_of_an_empty_histogram_changes_nothing),
        cmocka_unit_test(test_loghist_min_and_max_are_exact),
        cmocka_unit_test(test_loghist_huge_values_are_counted_with_exact_max),
        cmocka_unit_test(test_loghist_record_n_equals_n_records),
        cmocka_unit_test(test_loghist_empty_histogram_reports_zero),
        cmocka_unit_test(test_loghist_struct_is_about_220_kib),
    };
    return cmocka_run_group_tests_name("loghist", tests, NULL, NULL);
}
