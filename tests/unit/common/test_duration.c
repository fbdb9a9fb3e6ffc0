/*
 * Unit tests for common/duration: the one duration syntax of every taskbench binary. Accepted
 * forms are checked to the nanosecond; each refused form (empty, bare number, sign, unknown unit,
 * overflow) gets its own test, and a refusal must leave the output untouched. Printed durations
 * have three significant digits in the right unit (including the roll-over from 999.5µs to
 * 1.00ms).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "duration.h"

#define SENTINEL UINT64_C(0x5A5A5A5A5A5A5A5A)

static uint64_t parsed(const char *s)
{
    uint64_t ns = SENTINEL;
    assert_int_equal(duration_parse(s, &ns), 0);
    return ns;
}

static void assert_refused(const char *s)
{
    uint64_t ns = SENTINEL;
    assert_int_equal(duration_parse(s, &ns), -1);
    assert_true(ns == SENTINEL);
}

static void test_duration_parses_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(parsed("250ms"), UINT64_C(250000000));
}

static void test_duration_parses_decimal_seconds(void **state)
{
    (void)state;
    assert_int_equal(parsed("1.5s"), UINT64_C(1500000000));
    assert_int_equal(parsed("0.1s"), UINT64_C(100000000));
}

static void test_duration_parses_repeated_components(void **state)
{
    (void)state;
    assert_int_equal(parsed("1m30s"), UINT64_C(90000000000));
    assert_int_equal(parsed("1h30m"), UINT64_C(5400000000000));
    assert_int_equal(parsed("1s500ms"), UINT64_C(1500000000));
}

static void test_duration_parses_microseconds(void **state)
{
    (void)state;
    assert_int_equal(parsed("45us"), UINT64_C(45000));
}

static void test_duration_parses_every_unit(void **state)
{
    (void)state;
    assert_int_equal(parsed("7ns"), UINT64_C(7));
    assert_int_equal(parsed("7us"), UINT64_C(7000));
    assert_int_equal(parsed("7ms"), UINT64_C(7000000));
    assert_int_equal(parsed("7s"), UINT64_C(7000000000));
    assert_int_equal(parsed("7m"), UINT64_C(420000000000));
    assert_int_equal(parsed("7h"), UINT64_C(25200000000000));
}

static void test_duration_parses_zero(void **state)
{
    (void)state;
    assert_int_equal(parsed("0s"), 0);
}

static void test_duration_refuses_empty_text(void **state)
{
    (void)state;
    assert_refused("");
}

static void test_duration_refuses_bare_number(void **state)
{
    (void)state;
    assert_refused("30");
    assert_refused("1.5");
}

static void test_duration_refuses_negative_value(void **state)
{
    (void)state;
    assert_refused("-1s");
}

static void test_duration_refuses_unknown_unit(void **state)
{
    (void)state;
    assert_refused("1x");
    assert_refused("1sec");
    assert_refused("1S");
    assert_refused("1msx");
}

static void test_duration_refuses_malformed_numbers(void **state)
{
    (void)state;
    assert_refused("s");
    assert_refused(".5s");
    assert_refused("1.s");
    assert_refused("1.5.5s");
    assert_refused("+1s");
    assert_refused("1e3s");
}

static void test_duration_refuses_surrounding_spaces(void **state)
{
    (void)state;
    assert_refused(" 1s");
    assert_refused("1s ");
    assert_refused("1 s");
}

static void test_duration_refuses_trailing_number_without_unit(void **state)
{
    (void)state;
    assert_refused("1s1");
}

static void test_duration_refuses_overflow(void **state)
{
    (void)state;
    assert_refused("10000000h");
    assert_refused("18446744073709551616ns");
    assert_refused("99999999999999999999999999999999999999s");
    assert_refused("5000000h5000000h");
}

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

static void assert_duration(uint64_t ns, const char *expected)
{
    char out[DURATION_TEXT_LEN];
    assert_string_equal(duration_format(ns, out), expected);
}

static void test_duration_format_below_a_microsecond_is_whole_ns(void **state)
{
    (void)state;
    assert_duration(0, "0ns");
    assert_duration(7, "7ns");
    assert_duration(999, "999ns");
}

static void test_duration_format_has_three_significant_digits(void **state)
{
    (void)state;
    assert_duration(1000, "1.00µs");
    assert_duration(12345, "12.3µs");
    assert_duration(123456, "123µs");
    assert_duration(1500000, "1.50ms");
    assert_duration(73249000, "73.2ms");
    assert_duration(250 * MS, "250ms");
    assert_duration(1234 * MS, "1.23s");
    assert_duration(61 * SEC, "61.0s");
}

static void test_duration_format_rounds_up_into_the_next_unit(void **state)
{
    (void)state;
    assert_duration(999499, "999µs");
    assert_duration(999500, "1.00ms");
    assert_duration(9995, "10.0µs");
    assert_duration(99950, "100µs");
    assert_duration(999999999, "1.00s");
}

static void test_duration_format_beyond_999s_keeps_whole_seconds(void **state)
{
    (void)state;
    assert_duration(4210 * SEC, "4210s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parses_milliseconds),
        cmocka_unit_test(test_duration_parses_decimal_seconds),
        cmocka_unit_test(test_duration_parses_repeated_components),
        cmocka_unit_test(test_duration_parses_microseconds),
        cmocka_unit_test(test_duration_parses_every_unit),
        cmocka_unit_test(test_duration_parses_zero),
        cmocka_unit_test(test_duration_refuses_empty_text),
        cmocka_unit_test(test_duration_refuses_bare_number),
        cmocka_unit_test(test_duration_refuses_negative_value),
        cmocka_unit_test(test_duration_refuses_unknown_unit),
        cmocka_unit_test(test_duration_refuses_malformed_numbers),
        cmocka_unit_test(test_duration_refuses_surrounding_spaces),
        cmocka_unit_test(test_duration_refuses_trailing_number_without_unit),
        cmocka_unit_test(test_duration_refuses_overflow),
        cmocka_unit_test(test_duration_format_below_a_microsecond_is_whole_ns),
        cmocka_unit_test(test_duration_format_has_three_significant_digits),
        cmocka_unit_test(test_duration_format_rounds_up_into_the_next_unit),
        cmocka_unit_test(test_duration_format_beyond_999s_keeps_whole_seconds),
    };
    return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
