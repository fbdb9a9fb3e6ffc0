/*
 * Unit tests for common/json_writer: commas and nesting are the writer's job, every string comes
 * out as valid JSON (escapes, U+2028/U+2029, invalid UTF-8 replaced by U+FFFD), and a refused
 * append at the buffer limit makes the writer fail for good. Output is compared byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json_writer.h"
#include "utf8.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

struct fixture {
    struct buf out;
    struct json_writer w;
};

static int setup(void **state)
{
    static struct fixture f;
    buf_init(&f.out, 64 * 1024);
    jw_init(&f.w, &f.out);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    buf_free(&f->out);
    return 0;
}

/* The escaped form of n bytes of s, as json_escape_string writes it. */
static void assert_escapes_to(const char *s, size_t n, const char *expected)
{
    struct buf out;
    buf_init(&out, 4096);
    assert_int_equal(json_escape_string(&out, s, n), 0);
    assert_string_equal(out.data, expected);
    buf_free(&out);
}

static void test_jw_separates_object_members_with_commas(void **state)
{
    struct fixture *f = *state;
    jw_object_begin(&f->w);
    jw_key(&f->w, "a");
    jw_int(&f->w, 1);
    jw_key(&f->w, "b");
    jw_string(&f->w, "x");
    jw_key(&f->w, "c");
    jw_bool(&f->w, 1);
    jw_key(&f->w, "d");
    jw_null(&f->w);
    jw_key(&f->w, "e");
    jw_bool(&f->w, 0);
    jw_object_end(&f->w);
    assert_int_equal(f->w.failed, 0);
    assert_string_equal(f->out.data, "{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":false}");
}

static void test_jw_separates_array_items_with_commas(void **state)
{
    struct fixture *f = *state;
    jw_array_begin(&f->w);
    jw_int(&f->w, 1);
    jw_string(&f->w, "two");
    jw_uint(&f->w, 3);
    jw_array_end(&f->w);
    assert_string_equal(f->out.data, "[1,\"two\",3]");
}

static void test_jw_writes_empty_object_and_array(void **state)
{
    struct fixture *f = *state;
    jw_array_begin(&f->w);
    jw_object_begin(&f->w);
    jw_object_end(&f->w);
    jw_array_begin(&f->w);
    jw_array_end(&f->w);
    jw_array_end(&f->w);
    assert_int_equal(f->w.failed, 0);
    assert_string_equal(f->out.data, "[{},[]]");
}

static void test_jw_nests_containers_with_commas_after_each_close(void **state)
{
    struct fixture *f = *state;
    jw_object_begin(&f->w);
    jw_key(&f->w, "list");
    jw_array_begin(&f->w);
    jw_int(&f->w, 1);
    jw_array_begin(&f->w);
    jw_array_end(&f->w);
    jw_object_begin(&f->w);
    jw_key(&f->w, "k");
    jw_array_begin(&f->w);
    jw_bool(&f->w, 1);
    jw_bool(&f->w, 0);
    jw_array_end(&f->w);
    jw_object_end(&f->w);
    jw_array_end(&f->w);
    jw_key(&f->w, "next");
    jw_object_begin(&f->w);
    jw_object_end(&f->w);
    jw_object_end(&f->w);
    assert_int_equal(f->w.failed, 0);
    assert_int_equal(f->w.depth, 0);
    assert_string_equal(f->out.data, "{\"list\":[1,[],{\"k\":[true,false]}],\"next\":{}}");
}

static void test_jw_writes_integer_extremes(void **state)
{
    struct fixture *f = *state;
    jw_array_begin(&f->w);
    jw_int(&f->w, INT64_MIN);
    jw_int(&f->w, INT64_MAX);
    jw_uint(&f->w, UINT64_MAX);
    jw_int(&f->w, 0);
    jw_array_end(&f->w);
    assert_string_equal(f->out.data,
                        "[-9223372036854775808,9223372036854775807,18446744073709551615,0]");
}

static void test_jw_double_writes_finite_values_and_null_for_others(void **state)
{
    struct fixture *f = *state;
    jw_array_begin(&f->w);
    jw_double(&f->w, 0.5);
    jw_double(&f->w, -2);
    jw_double(&f->w, NAN);
    jw_double(&f->w, INFINITY);
    jw_double(&f->w, -INFINITY);
    jw_array_end(&f->w);
    assert_string_equal(f->out.data, "[0.5,-2,null,null,null]");
}

static void test_jw_fixed_writes_exactly_the_given_decimals(void **state)
{
    struct fixture *f = *state;
    jw_array_begin(&f->w);
    jw_fixed(&f->w, 1.5, 3);
    jw_fixed(&f->w, 2.0 / 3.0, 2);
    jw_fixed(&f->w, 2.6, 0);
    jw_fixed(&f->w, -0.25, 1);
    jw_fixed(&f->w, NAN, 3);
    jw_fixed(&f->w, INFINITY, 3);
    jw_array_end(&f->w);
    assert_string_equal(f->out.data, "[1.500,0.67,3,-0.2,null,null]");
}

static void test_jw_escapes_quote_and_backslash(void **state)
{
    (void)state;
    assert_escapes_to("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
}

static void test_jw_escapes_control_characters_with_short_forms(void **state)
{
    (void)state;
    assert_escapes_to("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
}

static void test_jw_escapes_other_control_characters_as_u_escapes(void **state)
{
    (void)state;
    assert_escapes_to("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
}

static void test_jw_escapes_embedded_nul(void **state)
{
    (void)state;
    assert_escapes_to("a\0b", 3, "\"a\\u0000b\"");
}

static void test_jw_escapes_line_and_paragraph_separators(void **state)
{
    (void)state;
    assert_escapes_to("a\xE2\x80\xA8"
                      "b\xE2\x80\xA9",
                      8, "\"a\\u2028b\\u2029\"");
}

static void test_jw_copies_valid_non_ascii_verbatim(void **state)
{
    (void)state;
    const char *s = "h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF";
    char expected[64];
    snprintf(expected, sizeof(expected), "\"%s\"", s);
    assert_escapes_to(s, strlen(s), expected);
}

static void test_jw_replaces_invalid_bytes_with_u_fffd(void **state)
{
    (void)state;
    assert_escapes_to("a\xFF"
                      "b",
                      3, "\"a" REPLACEMENT "b\"");
    assert_escapes_to("\x80", 1, "\"" REPLACEMENT "\"");
}

static void test_jw_replaces_each_byte_of_an_overlong_sequence(void **state)
{
    (void)state;
    assert_escapes_to("\xC0\x80", 2, "\"" REPLACEMENT REPLACEMENT "\"");
}

static void test_jw_replaces_each_byte_of_a_surrogate(void **state)
{
    (void)state;
    assert_escapes_to("\xED\xA0\x80", 3, "\"" REPLACEMENT REPLACEMENT REPLACEMENT "\"");
}

static void test_jw_replaces_truncated_sequence_at_end_of_string(void **state)
{
    (void)state;
    assert_escapes_to("ok\xE2\x82", 4, "\"ok" REPLACEMENT REPLACEMENT "\"");
}

static void test_jw_output_for_every_byte_value_is_valid_json(void **state)
{
    (void)state;
    char all[255];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1);
    struct buf out;
    buf_init(&out, 8192);
    assert_int_equal(json_escape_string(&out, all, sizeof(all)), 0);
    assert_true(utf8_count(out.data, out.len) >= 0);
    cJSON *parsed = cJSON_ParseWithLength(out.data, out.len);
    assert_non_null(parsed);
    assert_true(cJSON_IsString(parsed));
    /* ASCII comes back unchanged; 0x80..0xFF each became U+FFFD. */
    assert_memory_equal(parsed->valuestring, all, 127);
    assert_int_equal(strlen(parsed->valuestring), 127 + 128 * 3);
    cJSON_Delete(parsed);
    buf_free(&out);
}

static void test_jw_escapes_keys_like_values(void **state)
{
    struct fixture *f = *state;
    jw_object_begin(&f->w);
    jw_key(&f->w, "a\"b\n");
    jw_int(&f->w, 1);
    jw_object_end(&f->w);
    assert_string_equal(f->out.data, "{\"a\\\"b\\n\":1}");
}

static void test_jw_stringn_writes_only_n_bytes(void **state)
{
    struct fixture *f = *state;
    jw_stringn(&f->w, "abcdef", 3);
    assert_string_equal(f->out.data, "\"abc\"");
}

static void test_json_escape_string_refuses_at_buffer_limit(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 5);
    assert_int_equal(json_escape_string(&out, "abcd", 4), -1);
    assert_int_equal(out.overflowed, 1);
    buf_reset(&out);
    assert_int_equal(json_escape_string(&out, "abc", 3), 0);
    assert_string_equal(out.data, "\"abc\"");
    buf_free(&out);
}

static void test_jw_failure_at_buffer_limit_is_sticky(void **state)
{
    (void)state;
    struct buf out;
    struct json_writer w;
    buf_init(&out, 16);
    jw_init(&w, &out);
    jw_object_begin(&w);
    jw_key(&w, "a");
    jw_string(&w, "0123456789abcdef");
    assert_int_equal(w.failed, 1);
    size_t len = out.len;
    jw_key(&w, "b");
    jw_int(&w, 1);
    jw_bool(&w, 1);
    jw_null(&w);
    jw_double(&w, 1.0);
    jw_fixed(&w, 1.0, 1);
    jw_uint(&w, 1);
    jw_string(&w, "");
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_object_end(&w);
    assert_int_equal(w.failed, 1);
    assert_int_equal(out.len, len);
    buf_free(&out);
}

static void test_jw_stays_failed_even_when_space_frees_up(void **state)
{
    (void)state;
    struct buf out;
    struct json_writer w;
    buf_init(&out, 8);
    jw_init(&w, &out);
    jw_array_begin(&w);
    jw_string(&w, "too long for eight");
    assert_int_equal(w.failed, 1);
    buf_reset(&out);
    jw_int(&w, 1);
    assert_int_equal(w.failed, 1);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

static void test_jw_refuses_nesting_deeper_than_max_depth(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
        jw_array_begin(&f->w);
    assert_int_equal(f->w.failed, 0);
    jw_array_begin(&f->w);
    assert_int_equal(f->w.failed, 1);
}

static void test_jw_fails_on_close_without_open(void **state)
{
    struct fixture *f = *state;
    jw_object_end(&f->w);
    assert_int_equal(f->w.failed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jw_separates_object_members_with_commas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_jw_separates_array_items_with_commas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_writes_empty_object_and_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_nests_containers_with_commas_after_each_close,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_writes_integer_extremes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_double_writes_finite_values_and_null_for_others,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_fixed_writes_exactly_the_given_decimals, setup,
                                        teardown),
        cmocka_unit_test(test_jw_escapes_quote_and_backslash),
        cmocka_unit_test(test_jw_escapes_control_characters_with_short_forms),
        cmocka_unit_test(test_jw_escapes_other_control_characters_as_u_escapes),
        cmocka_unit_test(test_jw_escapes_embedded_nul),
        cmocka_unit_test(test_jw_escapes_line_and_paragraph_separators),
        cmocka_unit_test(test_jw_copies_valid_non_ascii_verbatim),
        cmocka_unit_test(test_jw_replaces_invalid_bytes_with_u_fffd),
        cmocka_unit_test(test_jw_replaces_each_byte_of_an_overlong_sequence),
        cmocka_unit_test(test_jw_replaces_each_byte_of_a_surrogate),
        cmocka_unit_test(test_jw_replaces_truncated_sequence_at_end_of_string),
        cmocka_unit_test(test_jw_output_for_every_byte_value_is_valid_json),
        cmocka_unit_test_setup_teardown(test_jw_escapes_keys_like_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jw_stringn_writes_only_n_bytes, setup, teardown),
        cmocka_unit_test(test_json_escape_string_refuses_at_buffer_limit),
        cmocka_unit_test(test_jw_failure_at_buffer_limit_is_sticky),
        cmocka_unit_test(test_jw_stays_failed_even_when_space_frees_up),
        cmocka_unit_test_setup_teardown(test_jw_refuses_nesting_deeper_than_max_depth, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_jw_fails_on_close_without_open, setup, teardown),
    };
    return cmocka_run_group_tests_name("json_writer", tests, NULL, NULL);
}
