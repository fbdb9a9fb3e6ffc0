/*
 * Unit tests for loadgen's sharding options: --shards N takes the shard from JOB_COMPLETION_INDEX
 * (0-based, as Kubernetes sets it) and refuses to guess without it; --start-at takes an RFC 3339
 * time; --shard and --shards exclude each other; each refusal is one sentence naming the flag.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "options.h"

static enum options_result parse(struct loadgen_options *o, char *err, const char *a, const char *b)
{
    char *argv[] = {"loadgen", "--rate", "100", (char *)a, (char *)b, "http://127.0.0.1:1", NULL};
    return options_parse(o, 6, argv, err, 256);
}

static void test_shards_reads_the_job_completion_index(void **state)
{
    (void)state;
    struct loadgen_options o;
    char err[256] = "";
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    assert_int_equal(parse(&o, err, "--shards", "4"), OPTIONS_OK);
    assert_int_equal(o.engine.shard_index, 3);
    assert_int_equal(o.engine.shard_count, 4);
    setenv("JOB_COMPLETION_INDEX", "0", 1);
    assert_int_equal(parse(&o, err, "--shards=4", "--threads=1"), OPTIONS_OK);
    assert_int_equal(o.engine.shard_index, 0);
    unsetenv("JOB_COMPLETION_INDEX");
}

static void test_shards_refuses_a_missing_or_foreign_index(void **state)
{
    (void)state;
    struct loadgen_options o;
    char err[256];
    unsetenv("JOB_COMPLETION_INDEX");
    assert_int_equal(parse(&o, err, "--shards", "4"), OPTIONS_ERROR);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX, which is not set"));
    const char *bad[] = {"4", "-1", "", "1x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("JOB_COMPLETION_INDEX", bad[i], 1);
        assert_int_equal(parse(&o, err, "--shards", "4"), OPTIONS_ERROR);
        assert_non_null(strstr(err, "is not a shard of --shards 4 (0 to 3)"));
    }
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    assert_int_equal(parse(&o, err, "--shards", "0"), OPTIONS_ERROR);
    assert_non_null(strstr(err, "--shards '0' is not a whole number from 1 to 10000"));
    assert_int_equal(parse(&o, err, "--shards=2", "--shard=1/2"), OPTIONS_ERROR);
    assert_non_null(strstr(err, "one of --shard and --shards"));
    unsetenv("JOB_COMPLETION_INDEX");
}

static void test_start_at_takes_an_rfc3339_time(void **state)
{
    (void)state;
    struct loadgen_options o;
    char err[256];
    assert_int_equal(parse(&o, err, "--start-at", "2026-12-07T10:00:00.25Z"), OPTIONS_OK);
    assert_true(o.engine.start_unix_ns == UINT64_C(1796637600250000000));
    assert_int_equal(parse(&o, err, "--start-at", "+30s"), OPTIONS_ERROR);
    assert_non_null(strstr(err, "--start-at '+30s' is not an RFC 3339 time"));
    assert_int_equal(parse(&o, err, "--duration", "1s"), OPTIONS_OK);
    assert_true(o.engine.start_unix_ns == 0); /* without it: now */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_reads_the_job_completion_index),
        cmocka_unit_test(test_shards_refuses_a_missing_or_foreign_index),
        cmocka_unit_test(test_start_at_takes_an_rfc3339_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
