/*
 * Unit tests for chaos/faults' path safety: chaos touches only paths under its work directory —
 * a path inside is accepted, the directory itself too; one outside, a sibling whose name starts
 * with the directory's, a symlink inside that points outside and a path that climbs out with ..
 * are refused with a sentence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"
#include "temp_names.h"

static char work[PATH_MAX / 2];

static int make_work(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char made[sizeof(work)];
    snprintf(made, sizeof(made), "%s/chaos-unit-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(made) || !realpath(made, work))
        return -1;
    return 0;
}

static int remove_work(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/escape", work);
    unlink(path);
    return rmdir(work);
}

/* WORK/name (a static buffer per call site is enough here: each is used at once). */
static const char *in_work(const char *name)
{
    static char paths[4][PATH_MAX];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", work, name);
    return p;
}

static void test_paths_outside_the_work_dir_are_refused(void **state)
{
    (void)state;
    char err[600];
    assert_int_equal(faults_check_under(work, in_work("a/b/tasks.db"), err, sizeof(err)), 0);
    assert_int_equal(faults_check_under(work, work, err, sizeof(err)), 0);
    assert_int_equal(faults_check_under(work, "/etc/passwd", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "outside the work directory"));
    /* A sibling whose name starts with the work directory's is outside too. */
    char sibling[PATH_MAX + 8];
    snprintf(sibling, sizeof(sibling), "%sx/tasks.db", work);
    assert_int_equal(faults_check_under(work, sibling, err, sizeof(err)), -1);
    /* A symlink inside that points outside is followed, and refused. */
    assert_int_equal(symlink("/etc", in_work("escape")), 0);
    assert_int_equal(faults_check_under(work, in_work("escape/tasks.db"), err, sizeof(err)), -1);
    assert_int_equal(faults_check_under(work, in_work("../tasks.db"), err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paths_outside_the_work_dir_are_refused, make_work,
                                        remove_work),
    };
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
