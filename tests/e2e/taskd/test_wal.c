/*
 * test_wal: the write-ahead log stays bounded under continuous writes. taskd turns SQLite's
 * automatic checkpoints off and runs its own between group commits; a checkpoint that cannot
 * catch up (run from another thread, or held back by the reader's snapshot) lets the -wal grow
 * without bound, which costs disk and a long recovery at the next start. This drives thousands
 * of single-write transactions (one connection, so every write is its own commit) and checks the
 * -wal stays near SQLite's 1000-frame checkpoint size instead of holding every frame.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"
#include "scratch.h"

#define WRITES 6000
#define PAGE 4096
/* 1000 frames between checkpoints, plus what a few batches add before the next one runs. */
#define WAL_BOUND (4 * 1000 * (PAGE + 24))

static long long wal_size(const struct fixture *fx)
{
    char path[400];
    struct stat st;
    snprintf(path, sizeof(path), "%s-wal", fx->proc.db_path);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void test_wal_stays_bounded_under_continuous_writes(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "first");
    /* A read first: its snapshot must not hold the checkpoints back. */
    fx_expect_status(fx_request(fx, "GET", "/tasks/1", NULL, NULL), 200);
    long long largest = 0;
    for (int i = 1; i < WRITES; i++) {
        struct http_response *res =
            fx_request(fx, "POST", "/tasks", fx_json_headers, "{\"task\":\"keep the log short\"}");
        if (res->status != 201)
            fx_expect_status(res, 201);
        scratch_drop(res);
        if (i % 500 == 0) {
            long long size = wal_size(fx);
            if (size > largest)
                largest = size;
        }
    }
    if (largest <= 0 || largest > WAL_BOUND)
        fx_fail_at(__FILE__, __LINE__, "the -wal reached %lld bytes over %d writes (bound %d)",
                   largest, WRITES, WAL_BOUND);
    struct scrape *sc = fx_scrape(fx);
    assert_true(fx_metric(sc, "taskd_tasks", NULL) == WRITES);
}

static void test_every_write_survives_the_checkpoints(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 3000; i++)
        scratch_drop(fx_request(fx, "POST", "/tasks", fx_json_headers, "{\"task\":\"t\"}"));
    int status;
    assert_int_equal(taskd_proc_kill9(&fx->proc, &status), 0);
    http_close(fx->conn);
    fx->conn = NULL;
    assert_int_equal(taskd_proc_restart(&fx->proc), 0);
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=1&after=2999", NULL, NULL);
    fx_expect_status(res, 200);
    cJSON *page = fx_json(res);
    assert_int_equal(cJSON_GetArraySize(page), 1);
    assert_int_equal(fx_json_int(cJSON_GetArrayItem(page, 0), "id"), 3000);
    assert_null(http_header(res, "Link"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_wal_stays_bounded_under_continuous_writes),
        T(test_every_write_survives_the_checkpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
