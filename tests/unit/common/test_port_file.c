/*
 * Unit tests for common/port_file: what the writer writes the reader reads back; a file not
 * written yet reads as 0 with ENOENT, a file that is not "PORT\n" (empty, half a line, a word,
 * out of range) as 0 with EINVAL; a failed write leaves nothing at the path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "port_file.h"
#include "temp_names.h"

static char dir[PATH_MAX / 2], path[PATH_MAX];

static int make_dir(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/port-file-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/port", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

static void put(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_what_is_written_reads_back(void **state)
{
    (void)state;
    assert_int_equal(port_file_write(path, 45863), 0);
    assert_int_equal(port_file_read(path), 45863);
    assert_int_equal(port_file_write(path, 1), 0); /* replaced whole */
    assert_int_equal(port_file_read(path), 1);
}

static void test_a_file_not_written_yet_reads_as_zero(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(port_file_read(path), 0);
    assert_int_equal(errno, ENOENT);
}

static void test_anything_but_one_port_line_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",     "4586", "45863", "0\n",    "65536\n",
                                      "-5\n", "x\n",  " 5\n",  "5\n6\n", "5 \n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put(bad[i]);
        errno = 0;
        if (port_file_read(path) != 0 || errno != EINVAL)
            fail_msg("\"%s\" was not refused with EINVAL", bad[i]);
    }
    put("65535\n");
    assert_int_equal(port_file_read(path), 65535);
}

static void test_a_failed_write_leaves_nothing(void **state)
{
    (void)state;
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof(missing), "%s/no-such-dir/port", dir);
    assert_int_equal(port_file_write(missing, 80), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(port_file_read(missing), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_what_is_written_reads_back),
        T(test_a_file_not_written_yet_reads_as_zero),
        T(test_anything_but_one_port_line_is_refused),
        T(test_a_failed_write_leaves_nothing),
    };
    return cmocka_run_group_tests_name("port_file", tests, NULL, NULL);
}
