/*
 * Unit tests for loadgen/pacer: arrival times computed from t0 (constant rate, ramps,
 * interleaved streams, Poisson) and the count of arrivals due.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pacer.h"

#define T0 1000000000ull

static void test_constant_rate_arrivals_come_from_t0_not_from_the_last_one(void **state)
{
    (void)state;
    struct pacer_plan plan;
    assert_int_equal(pacer_plan_init(&plan, 1000, 0, NULL, NULL, 0), 0);
    struct pacer pc;
    pacer_init(&pc, &plan, T0, 0, 1, 0, 1);
    assert_true(pc.next_ns == T0);
    for (int i = 1; i <= 100000; i++)
        pacer_advance(&pc);
    /* Arrival 100000 at 1000/s is due exactly 100 s after t0: no drift from adding gaps. */
    assert_true(pc.next_ns == T0 + 100000000000ull);
}

static void test_streams_interleave_into_the_total_rate(void **state)
{
    (void)state;
    struct pacer_plan plan;
    assert_int_equal(pacer_plan_init(&plan, 300, 0, NULL, NULL, 0), 0);
    struct pacer a, b, c;
    pacer_init(&a, &plan, T0, 0, 3, 0, 1);
    pacer_init(&b, &plan, T0, 1, 3, 0, 1);
    pacer_init(&c, &plan, T0, 2, 3, 0, 1);
    /* 300/s over three streams: arrivals 0, 1, 2 at 0, 3.33, 6.67 ms, then 10 ms and so on. */
    assert_true(a.next_ns == T0);
    assert_true(llabs((long long)(b.next_ns - T0) - 3333333) <= 1);
    assert_true(llabs((long long)(c.next_ns - T0) - 6666667) <= 1);
    pacer_advance(&a);
    assert_true(a.next_ns == T0 + 10000000);
    /* Together they make exactly the total schedule over 10 s. */
    uint64_t until = T0 + 10000000000ull;
    assert_int_equal(pacer_count_due(&a, until, UINT64_MAX) + 1 +
                         pacer_count_due(&b, until, UINT64_MAX) +
                         pacer_count_due(&c, until, UINT64_MAX),
                     3000);
}

static void test_a_ramp_integrates_to_its_area(void **state)
{
    (void)state;
    struct pacer_plan plan;
    double len[] = {10, 10}, rate[] = {100, 100};
    /* From 0 to 100/s over 10 s (500 arrivals), then flat at 100/s for 10 s (1000 more). */
    assert_int_equal(pacer_plan_init(&plan, 0, 0, len, rate, 2), 0);
    assert_true(fabs(pacer_count_at(&plan, 10) - 500) < 1e-9);
    assert_true(fabs(pacer_count_at(&plan, 20) - 1500) < 1e-9);
    assert_true(fabs(pacer_rate_at(&plan, 5) - 50) < 1e-9);
    for (double u = 0.5; u < 1500; u += 37.25)
        assert_true(fabs(pacer_count_at(&plan, pacer_time_of(&plan, u)) - u) < 1e-6);
    /* After the last stage the rate stays where it ended. */
    assert_true(fabs(pacer_rate_at(&plan, 100) - 100) < 1e-9);
}

static void test_warmup_holds_the_starting_rate(void **state)
{
    (void)state;
    struct pacer_plan plan;
    double len[] = {10}, rate[] = {300};
    assert_int_equal(pacer_plan_init(&plan, 100, 2, len, rate, 1), 0);
    assert_true(fabs(pacer_rate_at(&plan, 1) - 100) < 1e-9);
    assert_true(fabs(pacer_count_at(&plan, 2) - 200) < 1e-9);
    assert_true(fabs(pacer_rate_at(&plan, 7) - 200) < 1e-9);
}

static void test_poisson_arrivals_keep_the_mean_rate(void **state)
{
    (void)state;
    struct pacer_plan plan;
    assert_int_equal(pacer_plan_init(&plan, 1000, 0, NULL, NULL, 0), 0);
    struct pacer pc;
    pacer_init(&pc, &plan, T0, 0, 1, 1, 42);
    uint64_t n = pacer_count_due(&pc, T0 + 100000000000ull, UINT64_MAX);
    assert_true(n > 99000 && n < 101000); /* 100 s at 1000/s, within 1 % */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_rate_arrivals_come_from_t0_not_from_the_last_one),
        cmocka_unit_test(test_streams_interleave_into_the_total_rate),
        cmocka_unit_test(test_a_ramp_integrates_to_its_area),
        cmocka_unit_test(test_warmup_holds_the_starting_rate),
        cmocka_unit_test(test_poisson_arrivals_keep_the_mean_rate),
    };
    return cmocka_run_group_tests_name("pacer", tests, NULL, NULL);
}
