/*
 * Unit tests for common/utf8: strict RFC 3629 decoding. Each test feeds one class of sequence
 * (valid lengths, overlongs, surrogates, code points above U+10FFFF, truncations, stray bytes)
 * and checks the exact length and code point, or the refusal; then utf8_count over whole strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

/* Decodes s (given as a C string) over n bytes; returns the length and stores the code point. */
static size_t decode(const char *s, size_t n, uint32_t *cp)
{
    *cp = 0xDEADBEEF;
    return utf8_decode((const unsigned char *)s, n, cp);
}

static void assert_rejected(const char *s)
{
    uint32_t cp;
    assert_int_equal(decode(s, strlen(s), &cp), 0);
}

static void test_utf8_decodes_ascii_as_one_byte(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(decode("\x7F", 1, &cp), 1);
    assert_int_equal(cp, 0x7F);
}

static void test_utf8_decodes_nul_byte_when_length_includes_it(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\0", 1, &cp), 1);
    assert_int_equal(cp, 0);
}

static void test_utf8_decodes_two_byte_sequences(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\xC2\x80", 2, &cp), 2);
    assert_int_equal(cp, 0x80);
    assert_int_equal(decode("\xC3\xA9", 2, &cp), 2); /* é */
    assert_int_equal(cp, 0xE9);
    assert_int_equal(decode("\xDF\xBF", 2, &cp), 2);
    assert_int_equal(cp, 0x7FF);
}

static void test_utf8_decodes_three_byte_sequences(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\xE0\xA0\x80", 3, &cp), 3);
    assert_int_equal(cp, 0x800);
    assert_int_equal(decode("\xE2\x82\xAC", 3, &cp), 3); /* € */
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(decode("\xEF\xBF\xBF", 3, &cp), 3);
    assert_int_equal(cp, 0xFFFF);
}

static void test_utf8_decodes_four_byte_sequences(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\xF0\x90\x80\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x10000);
    assert_int_equal(decode("\xF0\x9F\x98\x80", 4, &cp), 4); /* 😀 */
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
}

static void test_utf8_decodes_only_the_first_code_point(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\xC3\xA9xyz", 5, &cp), 2);
    assert_int_equal(cp, 0xE9);
}

static void test_utf8_rejects_overlong_two_byte_sequences(void **state)
{
    (void)state;
    assert_rejected("\xC0\x80"); /* NUL */
    assert_rejected("\xC0\xAF"); /* '/' */
    assert_rejected("\xC1\xBF"); /* U+007F */
}

static void test_utf8_rejects_overlong_three_byte_sequences(void **state)
{
    (void)state;
    assert_rejected("\xE0\x80\x80");
    assert_rejected("\xE0\x80\xAF");
    assert_rejected("\xE0\x9F\xBF"); /* U+07FF */
}

static void test_utf8_rejects_overlong_four_byte_sequences(void **state)
{
    (void)state;
    assert_rejected("\xF0\x80\x80\x80");
    assert_rejected("\xF0\x80\x80\xAF");
    assert_rejected("\xF0\x8F\xBF\xBF"); /* U+FFFF */
}

static void test_utf8_rejects_surrogates(void **state)
{
    (void)state;
    assert_rejected("\xED\xA0\x80"); /* U+D800 */
    assert_rejected("\xED\xAD\xBF"); /* U+DB7F */
    assert_rejected("\xED\xB0\x80"); /* U+DC00 */
    assert_rejected("\xED\xBF\xBF"); /* U+DFFF */
}

static void test_utf8_accepts_code_points_next_to_surrogates(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("\xED\x9F\xBF", 3, &cp), 3);
    assert_int_equal(cp, 0xD7FF);
    assert_int_equal(decode("\xEE\x80\x80", 3, &cp), 3);
    assert_int_equal(cp, 0xE000);
}

static void test_utf8_rejects_code_points_above_10ffff(void **state)
{
    (void)state;
    assert_rejected("\xF4\x90\x80\x80"); /* U+110000 */
    assert_rejected("\xF5\x80\x80\x80");
    assert_rejected("\xF7\xBF\xBF\xBF");
}

static void test_utf8_rejects_bytes_that_never_start_a_sequence(void **state)
{
    (void)state;
    assert_rejected("\x80");
    assert_rejected("\xBF");
    assert_rejected("\xF8\x88\x80\x80\x80");
    assert_rejected("\xFC\x84\x80\x80\x80\x80");
    assert_rejected("\xFE");
    assert_rejected("\xFF");
}

static void test_utf8_rejects_sequences_with_a_bad_continuation_byte(void **state)
{
    (void)state;
    assert_rejected("\xC3\x28");
    assert_rejected("\xE2\x28\xA1");
    assert_rejected("\xE2\x82\x28");
    assert_rejected("\xF0\x9F\x98\x28");
    assert_rejected("\xC3\xC3\xA9");
}

static void test_utf8_rejects_truncated_sequences(void **state)
{
    (void)state;
    assert_rejected("\xC3");
    assert_rejected("\xE2\x82");
    assert_rejected("\xF0\x9F\x98");
    assert_rejected("\xF0");
}

static void test_utf8_never_reads_past_the_given_length(void **state)
{
    (void)state;
    uint32_t cp;
    /* The bytes after n would complete the sequence: they must not be looked at. */
    assert_int_equal(decode("\xE2\x82\xAC", 2, &cp), 0);
    assert_int_equal(decode("\xF0\x9F\x98\x80", 3, &cp), 0);
    assert_int_equal(decode("\xC3\xA9", 1, &cp), 0);
}

static void test_utf8_decode_of_zero_bytes_is_refused(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(decode("A", 0, &cp), 0);
}

static void test_utf8_count_counts_code_points_not_bytes(void **state)
{
    (void)state;
    const char *s = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"; /* "héllo € 😀" */
    assert_int_equal(strlen(s), 15);
    assert_int_equal(utf8_count(s, strlen(s)), 9);
}

static void test_utf8_count_of_empty_text_is_zero(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("", 0), 0);
}

static void test_utf8_count_counts_embedded_nul(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("a\0b", 3), 3);
}

static void test_utf8_count_rejects_any_invalid_sequence(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("abc\xFF", 4), -1);
    assert_int_equal(utf8_count("\xC0\x80", 2), -1);
    assert_int_equal(utf8_count("a\xED\xA0\x80z", 5), -1);
    assert_int_equal(utf8_count("a\xF4\x90\x80\x80", 5), -1);
    assert_int_equal(utf8_count("ok\xE2\x82", 4), -1);
}

static void test_utf8_count_stops_at_the_given_length(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("ab\xFF", 2), 2);
    assert_int_equal(utf8_count("\xE2\x82\xAC", 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decodes_ascii_as_one_byte),
        cmocka_unit_test(test_utf8_decodes_nul_byte_when_length_includes_it),
        cmocka_unit_test(test_utf8_decodes_two_byte_sequences),
        cmocka_unit_test(test_utf8_decodes_three_byte_sequences),
        cmocka_unit_test(test_utf8_decodes_four_byte_sequences),
        cmocka_unit_test(test_utf8_decodes_only_the_first_code_point),
        cmocka_unit_test(test_utf8_rejects_overlong_two_byte_sequences),
        cmocka_unit_test(test_utf8_rejects_overlong_three_byte_sequences),
        cmocka_unit_test(test_utf8_rejects_overlong_four_byte_sequences),
        cmocka_unit_test(test_utf8_rejects_surrogates),
        cmocka_unit_test(test_utf8_accepts_code_points_next_to_surrogates),
        cmocka_unit_test(test_utf8_rejects_code_points_above_10ffff),
        cmocka_unit_test(test_utf8_rejects_bytes_that_never_start_a_sequence),
        cmocka_unit_test(test_utf8_rejects_sequences_with_a_bad_continuation_byte),
        cmocka_unit_test(test_utf8_rejects_truncated_sequences),
        cmocka_unit_test(test_utf8_never_reads_past_the_given_length),
        cmocka_unit_test(test_utf8_decode_of_zero_bytes_is_refused),
        cmocka_unit_test(test_utf8_count_counts_code_points_not_bytes),
        cmocka_unit_test(test_utf8_count_of_empty_text_is_zero),
        cmocka_unit_test(test_utf8_count_counts_embedded_nul),
        cmocka_unit_test(test_utf8_count_rejects_any_invalid_sequence),
        cmocka_unit_test(test_utf8_count_stops_at_the_given_length),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
