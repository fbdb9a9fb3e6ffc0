/*
 * test_store_memory: the memory taskd's database may use, and reads through a memory map that
 * still fail closed. --cache-size and --mmap-size are shown in the listening line and in
 * /metrics (the page cache in use per connection too). Reads map the file once it has not
 * changed for a second, and stop at the next write. With the map, a page that can no longer be
 * read (here: the file truncated under taskd, as a backup copied over it in place does) is a
 * SIGBUS that SQLite cannot catch; taskd must answer 503 and recover once the file is whole
 * again, exactly as it does without a map, instead of dying.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "logfile.h"
#include "scratch.h"
#include "task_fill.h"

#define TASKS 3000
#define WAIT_MS 10000

static int setup_sized(void **state)
{
    static const char *const args[] = {"--cache-size",     "16MiB", "--mmap-size", "64MiB",
                                       "--check-interval", "50ms",  NULL};
    const struct taskd_opts opts = {.args = args};
    return fx_setup_with(state, &opts);
}

/* Reads (GET /tasks/{id}) until taskd_db_reads_mapped is `mapped`; fails after WAIT_MS. */
static void read_until_mapped(struct fixture *fx, const char *path, int mapped)
{
    double deadline = fx_now_ms() + WAIT_MS;
    for (;;) {
        fx_expect_status(fx_request(fx, "GET", path, NULL, NULL), 200);
        if (fx_metric(fx_scrape(fx), "taskd_db_reads_mapped", NULL) == mapped)
            return;
        if (fx_now_ms() > deadline)
            fx_fail_at(__FILE__, __LINE__, "taskd_db_reads_mapped never became %d", mapped);
        fx_sleep_ms(50);
    }
}

static void test_cache_and_mmap_sizes_in_listening_line_and_metrics(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "read me");
    fx_expect_status(fx_request(fx, "GET", "/tasks/1", NULL, NULL), 200);
    struct logfile *lf;
    assert_int_equal(logfile_read(fx->proc.log_path, 0, &lf), 0);
    const cJSON *listening = NULL;
    for (size_t i = 0; i < lf->count && !listening; i++) {
        const char *msg = fx_json_str(lf->lines[i].json, "msg");
        if (msg && strcmp(msg, "listening") == 0)
            listening = lf->lines[i].json;
    }
    assert_non_null(listening);
    assert_int_equal(fx_json_int(listening, "cache_size_bytes"), 16 << 20);
    assert_int_equal(fx_json_int(listening, "mmap_size_bytes"), 64 << 20);
    logfile_free(lf);

    struct scrape *sc = fx_scrape(fx);
    assert_int_equal(fx_metric(sc, "taskd_db_cache_limit_bytes", NULL), 16 << 20);
    assert_int_equal(fx_metric(sc, "taskd_db_mmap_limit_bytes", NULL), 64 << 20);
    /* Sampled by the monitor: wait for a check after the reads above. */
    static const char *const writer[] = {"connection", "writer", NULL};
    static const char *const reader[] = {"connection", "reader", NULL};
    double deadline = fx_now_ms() + WAIT_MS;
    while (fx_metric(sc, "taskd_db_cache_used_bytes", reader) == 0 && fx_now_ms() < deadline) {
        fx_sleep_ms(20);
        sc = fx_scrape(fx);
    }
    assert_true(fx_metric(sc, "taskd_db_cache_used_bytes", writer) > 0);
    assert_true(fx_metric(sc, "taskd_db_cache_used_bytes", reader) > 0);
    assert_true(fx_metric(sc, "taskd_db_cache_used_bytes", writer) <= 16 << 20);
}

/* Unchanged for a second, the file is read through the map; a write stops it, since SQLite
 * drops the map at every commit anyway. */
static void test_reads_map_the_file_only_while_it_is_not_written(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "read me");
    assert_int_equal(fx_metric(fx_scrape(fx), "taskd_db_reads_mapped", NULL), 0);
    read_until_mapped(fx, "/tasks/1", 1);
    fx_create(fx, "a write");
    fx_expect_status(fx_request(fx, "GET", "/tasks/2", NULL, NULL), 200);
    assert_int_equal(fx_metric(fx_scrape(fx), "taskd_db_reads_mapped", NULL), 0);
}

/* Adds TASKS rows to taskd's database file directly (taskd stopped), so they live in the file
 * itself, where the reader's map reads them, rather than in the -wal. */
static void fill_database(const char *path)
{
    char error[512];
    if (task_fill(path, TASKS, error, sizeof(error)) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot fill %s: %s", path, error);
}

static char *read_file(const char *path, size_t *len)
{
    char *data = taskd_proc_read_file(path, len);
    if (!data)
        fx_fail_at(__FILE__, __LINE__, "cannot read %s", path);
    return scratch_keep(data, free);
}

/* Writes `data` over the file in place (same inode, as `cp` over a file does). */
static void write_in_place(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void wait_ready(struct fixture *fx)
{
    double deadline = fx_now_ms() + WAIT_MS;
    while (fx_request(fx, "GET", "/readyz", NULL, NULL)->status != 200) {
        if (fx_now_ms() > deadline)
            fx_fail_at(__FILE__, __LINE__, "taskd did not become ready again");
        fx_sleep_ms(20);
    }
}

/* The database file is cut to two pages under a running taskd, then put back. With the map
 * (`mmap_size`) the cut read is a SIGBUS; without it a short read. Either way: 503, still
 * serving, the data whole once the file is back. */
static void truncated_under_reads_fails_closed_and_recovers(struct fixture *fx,
                                                            const char *mmap_size,
                                                            const char *expected_code)
{
    assert_int_equal(taskd_proc_stop(&fx->proc, NULL), 0);
    fill_database(fx->proc.db_path);
    const char *const args[] = {"--mmap-size", mmap_size, "--check-interval", "50ms", NULL};
    assert_int_equal(taskd_proc_set_args(&fx->proc, args), 0);
    assert_int_equal(taskd_proc_restart(&fx->proc), 0);
    http_close(fx->conn);
    fx->conn = NULL;

    /* One commit, so the -wal says how large the file is: SQLite then trusts that size rather
     * than the file's, and reads the pages that are gone. */
    fx_create(fx, "in the -wal");
    if (strcmp(mmap_size, "0") != 0)
        read_until_mapped(fx, "/tasks/2000", 1);
    else
        fx_expect_status(fx_request(fx, "GET", "/tasks/2000", NULL, NULL), 200);
    size_t len;
    const char *whole = read_file(fx->proc.db_path, &len);
    assert_true(len > 64 * 1024);
    assert_int_equal(truncate(fx->proc.db_path, 8192), 0);

    char path[32]; /* a page of the file, far from the last one (which the commit put in the
                    * -wal) and from the one read above */
    snprintf(path, sizeof(path), "/tasks/%d", TASKS / 3);
    struct http_response *res = fx_request(fx, "GET", path, NULL, NULL);
    fx_expect_error(res, 503, "db_unavailable");
    fx_expect_serving(fx);
    const char *labels[] = {"code", expected_code, NULL};
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_errors_total", labels) >= 1);

    write_in_place(fx->proc.db_path, whole, len);
    wait_ready(fx);
    cJSON *task = fx_json(fx_request(fx, "GET", path, NULL, NULL));
    fx_expect_task(task, TASKS / 3, NULL, 0);
    fx_create(fx, "after the repair");
}

static void test_mapped_read_of_a_truncated_file_fails_closed_and_recovers(void **state)
{
    truncated_under_reads_fails_closed_and_recovers(*state, "64MiB", "SQLITE_IOERR_READ");
}

static void test_unmapped_read_of_a_truncated_file_fails_closed_and_recovers(void **state)
{
    truncated_under_reads_fails_closed_and_recovers(*state, "0", "SQLITE_CORRUPT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_and_mmap_sizes_in_listening_line_and_metrics,
                                        setup_sized, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reads_map_the_file_only_while_it_is_not_written,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_mapped_read_of_a_truncated_file_fails_closed_and_recovers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_unmapped_read_of_a_truncated_file_fails_closed_and_recovers, fx_setup,
            fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
