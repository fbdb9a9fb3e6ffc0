/*
 * Unit tests for common/clock's RFC 3339 formatting and parsing: a formatted time parses back,
 * fractions and offsets are honoured, and malformed or impossible times are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"

#define SEC UINT64_C(1000000000)

static uint64_t parsed(const char *s)
{
    uint64_t ns = 42;
    if (clock_parse_rfc3339(s, &ns) != 0)
        fail_msg("%s did not parse", s);
    return ns;
}

static void test_a_formatted_time_parses_back(void **state)
{
    (void)state;
    char text[CLOCK_RFC3339_LEN];
    uint64_t t = UINT64_C(1764219662345000000);
    clock_format_rfc3339(t, text);
    assert_string_equal(text, "2025-11-27T05:01:02.345Z");
    assert_true(parsed(text) == t);
}

static void test_fractions_and_offsets(void **state)
{
    (void)state;
    assert_true(parsed("1970-01-01T00:00:00Z") == 0);
    assert_true(parsed("2026-12-07T10:00:00Z") == UINT64_C(1796637600) * SEC);
    assert_true(parsed("2026-12-07t10:00:00.5z") == UINT64_C(1796637600) * SEC + SEC / 2);
    assert_true(parsed("2026-12-07T10:00:00.123456789123Z") ==
                UINT64_C(1796637600) * SEC + 123456789);
    assert_true(parsed("2026-12-07T12:00:00+02:00") == UINT64_C(1796637600) * SEC);
    assert_true(parsed("2026-12-07T05:30:00-04:30") == UINT64_C(1796637600) * SEC);
    assert_true(parsed("2024-02-29T00:00:00Z") == UINT64_C(1709164800) * SEC);
}

static void test_malformed_times_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "2026-12-07",
                         "2026-12-07T10:00:00",
                         "2026-12-07 10:00:00Z",
                         "2026-12-07T10:00Z",
                         "2026-12-07T10:00:00.Z",
                         "2026-12-07T10:00:00Zjunk",
                         "2026-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-12-07T24:00:00Z",
                         "2026-12-07T10:00:00+0200",
                         "1969-12-31T23:59:59Z",
                         "+2026-12-07T10:00:00Z",
                         "1764219662"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ns = 42;
        if (clock_parse_rfc3339(bad[i], &ns) == 0)
            fail_msg("%s parsed", bad[i]);
        assert_true(ns == 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_formatted_time_parses_back),
        cmocka_unit_test(test_fractions_and_offsets),
        cmocka_unit_test(test_malformed_times_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
