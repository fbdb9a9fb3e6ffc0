/*
 * Unit tests for common/buf: the capped growable buffer. They pin the contract of buf.h: an
 * append adds all of its bytes or none, the limit is never exceeded (nor over-allocated), the
 * contents stay NUL-terminated, and detach/reset/free leave the buffer in the documented state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

static void test_buf_init_allocates_nothing(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.limit, 64);
    assert_int_equal(b.overflowed, 0);
}

static void test_buf_append_keeps_contents_nul_terminated(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "abcXYZ", 3), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_puts(&b, "de"), 0);
    assert_int_equal(buf_putc(&b, 'f'), 0);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    buf_free(&b);
}

static void test_buf_append_holds_embedded_nul_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    buf_free(&b);
}

static void test_buf_accepts_append_reaching_limit_exactly(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(buf_puts(&b, "12345"), 0);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(b.overflowed, 0);
    buf_free(&b);
}

static void test_buf_refuses_append_past_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345"), 0);
    assert_int_equal(buf_puts(&b, "6789"), -1);
    assert_int_equal(b.overflowed, 1);
    assert_int_equal(buf_putc(&b, 'x'), 0); /* the refusal is per append, not sticky */
    buf_free(&b);
}

static void test_buf_refused_append_adds_nothing(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    assert_int_equal(buf_append(&b, "6789", 4), -1);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    buf_free(&b);
}

static void test_buf_refuses_first_append_larger_than_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 3);
    assert_int_equal(buf_puts(&b, "abcd"), -1);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.overflowed, 1);
    buf_free(&b);
}

static void test_buf_accepts_empty_append_at_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 2);
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.overflowed, 0);
    buf_free(&b);
}

static void test_buf_never_allocates_past_limit_plus_one(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_putc(&b, 'x'), 0);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap <= 1001);
    assert_int_equal(buf_putc(&b, 'x'), -1);
    buf_free(&b);
}

static void test_buf_printf_formats_short_text(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_puts(&b, ">"), 0);
    assert_int_equal(buf_printf(&b, "%d-%s-%.2f", 42, "x", 1.5), 0);
    assert_string_equal(b.data, ">42-x-1.50");
    assert_int_equal(b.len, strlen(">42-x-1.50"));
    buf_free(&b);
}

static void test_buf_printf_grows_for_long_output(void **state)
{
    (void)state;
    char long_text[1001];
    memset(long_text, 'a', 1000);
    long_text[1000] = '\0';
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, "<"), 0);
    assert_int_equal(buf_printf(&b, "%s|%d", long_text, 7), 0);
    assert_int_equal(b.len, 1 + 1000 + 2);
    assert_int_equal(b.data[0], '<');
    assert_memory_equal(b.data + 1, long_text, 1000);
    assert_string_equal(b.data + 1001, "|7");
    assert_true(b.cap >= b.len + 1);
    buf_free(&b);
}

static void test_buf_printf_refuses_past_limit_and_appends_nothing(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 6);
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(buf_printf(&b, "%d", 12345), -1);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    assert_int_equal(b.overflowed, 1);
    buf_free(&b);
}

static void test_buf_long_printf_refuses_past_limit_and_appends_nothing(void **state)
{
    (void)state;
    char long_text[501];
    memset(long_text, 'z', 500);
    long_text[500] = '\0';
    struct buf b;
    buf_init(&b, 300);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_printf(&b, "%s", long_text), -1);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    buf_free(&b);
}

static void test_buf_detach_hands_over_contents_and_empties(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    size_t len = 0;
    char *s = buf_detach(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.limit, 64);
    free(s);
}

static void test_buf_detach_of_empty_buffer_returns_empty_string(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    size_t len = 99;
    char *s = buf_detach(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

static void test_buf_detach_accepts_null_length(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_puts(&b, "x"), 0);
    char *s = buf_detach(&b, NULL);
    assert_string_equal(s, "x");
    free(s);
}

static void test_buf_reset_keeps_memory_and_clears_overflow(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_puts(&b, "de"), -1);
    char *data = b.data;
    buf_reset(&b);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.overflowed, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.limit, 4);
    assert_int_equal(buf_puts(&b, "wxyz"), 0);
    assert_string_equal(b.data, "wxyz");
    buf_free(&b);
}

static void test_buf_reset_of_unused_buffer_is_harmless(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    buf_reset(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_free_keeps_limit_and_accepts_null(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.limit, 10);
    buf_free(&b);
    buf_free(NULL);
}

static void test_buf_append_file_reads_whole_files_within_the_limit(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/test_buf.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    struct buf b;
    buf_init(&b, 100000);
    assert_int_equal(buf_append_file(&b, path), 0);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[99999], 'a' + 99999 % 26);
    buf_free(&b);
    buf_init(&b, 99999); /* one byte short */
    assert_int_equal(buf_append_file(&b, path), -1);
    assert_int_equal(errno, EFBIG);
    buf_free(&b);
    unlink(path);
    assert_int_equal(buf_append_file(&b, path), -1);
    assert_int_equal(errno, ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_allocates_nothing),
        cmocka_unit_test(test_buf_append_keeps_contents_nul_terminated),
        cmocka_unit_test(test_buf_append_holds_embedded_nul_bytes),
        cmocka_unit_test(test_buf_accepts_append_reaching_limit_exactly),
        cmocka_unit_test(test_buf_refuses_append_past_limit),
        cmocka_unit_test(test_buf_refused_append_adds_nothing),
        cmocka_unit_test(test_buf_refuses_first_append_larger_than_limit),
        cmocka_unit_test(test_buf_accepts_empty_append_at_limit),
        cmocka_unit_test(test_buf_never_allocates_past_limit_plus_one),
        cmocka_unit_test(test_buf_printf_formats_short_text),
        cmocka_unit_test(test_buf_printf_grows_for_long_output),
        cmocka_unit_test(test_buf_printf_refuses_past_limit_and_appends_nothing),
        cmocka_unit_test(test_buf_long_printf_refuses_past_limit_and_appends_nothing),
        cmocka_unit_test(test_buf_detach_hands_over_contents_and_empties),
        cmocka_unit_test(test_buf_detach_of_empty_buffer_returns_empty_string),
        cmocka_unit_test(test_buf_detach_accepts_null_length),
        cmocka_unit_test(test_buf_reset_keeps_memory_and_clears_overflow),
        cmocka_unit_test(test_buf_reset_of_unused_buffer_is_harmless),
        cmocka_unit_test(test_buf_free_keeps_limit_and_accepts_null),
        cmocka_unit_test(test_buf_append_file_reads_whole_files_within_the_limit),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
