/*
 * test_faults: taskd under the persistence faults of DESIGN.md, for real: the database path
 * turned into a directory, the file moved away or deleted while serving, the -wal deleted, a
 * missing file with --no-create, a garbage header, a lock held by another process, a full disk.
 * Each test checks that taskd fails closed (503 with Retry-After on data endpoints, /livez and
 * /metrics still served, the state in metrics and one log line per state change), never
 * acknowledges a write it could lose, and recovers by itself when the fault is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "logfile.h"
#include "scratch.h"

#define RECOVERY_TIMEOUT_MS 5000

static const char *const fast_checks[] = {"--check-interval", "50ms", NULL};

static int setup_fast(void **state)
{
    struct taskd_opts opts = {.args = fast_checks};
    return fx_setup_with(state, &opts);
}

static const char *path_in(const struct fixture *fx, const char *name)
{
    char *p = scratch_keep(malloc(512), scratch_free);
    snprintf(p, 512, "%s/%s", fx->proc.dir, name);
    return p;
}

static const char *sibling(const struct fixture *fx, const char *suffix)
{
    char *p = scratch_keep(malloc(512), scratch_free);
    snprintf(p, 512, "%s%s", fx->proc.db_path, suffix);
    return p;
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = taskd_proc_read_file(from, &len);
    assert_non_null(data);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
}

/* Stops taskd with SIGTERM (it must exit 0) and forgets the connection to it. */
static void stop(struct fixture *fx)
{
    int status;
    assert_int_equal(taskd_proc_stop(&fx->proc, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    http_close(fx->conn); /* it was to the old process */
    fx->conn = NULL;
}

/* Starts taskd again on the same directory. */
static void restart(struct fixture *fx)
{
    assert_int_equal(taskd_proc_restart(&fx->proc), 0);
}

static int http_status(struct fixture *fx, const char *method, const char *path, const char *body)
{
    struct http_response *res = fx_request(fx, method, path, body ? fx_json_headers : NULL, body);
    return res->status;
}

/* A 503 from a data endpoint: the DESIGN.md error with Retry-After. */
static void expect_unavailable(struct fixture *fx, const char *method, const char *path,
                               const char *body)
{
    struct http_response *res = fx_request(fx, method, path, body ? fx_json_headers : NULL, body);
    fx_expect_error(res, 503, "db_unavailable");
    assert_non_null(http_header(res, "Retry-After"));
}

static void wait_ready(struct fixture *fx)
{
    double deadline = fx_now_ms() + RECOVERY_TIMEOUT_MS;
    while (fx_now_ms() < deadline) {
        if (http_status(fx, "GET", "/readyz", NULL) == 200)
            return;
        fx_sleep_ms(20);
    }
    fx_fail_at(__FILE__, __LINE__, "taskd did not become ready within %d ms", RECOVERY_TIMEOUT_MS);
}

static void wait_unready(struct fixture *fx)
{
    double deadline = fx_now_ms() + RECOVERY_TIMEOUT_MS;
    while (fx_now_ms() < deadline) {
        if (http_status(fx, "GET", "/readyz", NULL) == 503)
            return;
        fx_sleep_ms(20);
    }
    fx_fail_at(__FILE__, __LINE__, "taskd did not turn unready within %d ms", RECOVERY_TIMEOUT_MS);
}

/* The metrics say `state` is the file state (and only it) and the database is down. */
static void expect_down_with_state(struct fixture *fx, const char *state)
{
    struct scrape *sc = fx_scrape(fx);
    assert_true(fx_metric(sc, "taskd_db_up", NULL) == 0);
    const char *labels[] = {"state", state, NULL};
    if (fx_metric(sc, "taskd_db_file_state", labels) != 1)
        fx_fail_at(__FILE__, __LINE__, "taskd_db_file_state{state=\"%s\"} is not 1", state);
    assert_int_equal(scrape_count(sc, "taskd_db_file_state"), 7);
}

static void expect_serving_basics(struct fixture *fx)
{
    assert_int_equal(http_status(fx, "GET", "/livez", NULL), 200);
    assert_int_equal(http_status(fx, "GET", "/metrics", NULL), 200);
}

/* Every 5xx the log holds has exactly one error line carrying its request id. */
static void expect_one_error_line_per_5xx(struct fixture *fx)
{
    struct logfile *lf;
    assert_int_equal(logfile_read(fx->proc.log_path, 0, &lf), 0);
    size_t checked = 0;
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *line = lf->lines[i].json;
        assert_non_null(line);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(line, "status");
        if (!cJSON_IsNumber(status) || status->valueint < 500)
            continue;
        assert_string_equal(fx_json_str(line, "level"), "error");
        const char *id = fx_json_str(line, "request_id");
        size_t errors = 0;
        for (size_t j = 0; j < lf->count; j++) {
            const cJSON *other = lf->lines[j].json;
            const char *other_id = fx_json_str(other, "request_id");
            const char *level = fx_json_str(other, "level");
            if (other_id && strcmp(other_id, id) == 0 && level && strcmp(level, "error") == 0)
                errors++;
        }
        assert_int_equal(errors, 1);
        checked++;
    }
    assert_true(checked > 0);
    logfile_free(lf);
}

/* How many "database unavailable" lines name `state`. */
static size_t unavailable_lines_with_state(struct fixture *fx, const char *state)
{
    struct logfile *lf;
    assert_int_equal(logfile_read(fx->proc.log_path, 0, &lf), 0);
    size_t n = 0;
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *line = lf->lines[i].json;
        const char *msg = fx_json_str(line, "msg");
        const char *st = fx_json_str(line, "db_state");
        if (msg && st && strcmp(msg, "database unavailable") == 0 && strcmp(st, state) == 0)
            n++;
    }
    logfile_free(lf);
    return n;
}

static int count_tasks(struct fixture *fx)
{
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=1000", NULL, NULL);
    fx_expect_status(res, 200);
    return cJSON_GetArraySize(fx_json(res));
}

/* ---- the path is a directory ------------------------------------------------------------ */

static void test_db_path_turned_directory_fails_closed_then_recovers(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "kept");
    stop(fx);
    const char *saved = path_in(fx, "saved.db");
    copy_file(fx->proc.db_path, saved);
    assert_int_equal(unlink(fx->proc.db_path), 0);
    unlink(sibling(fx, "-wal"));
    unlink(sibling(fx, "-shm"));
    assert_int_equal(mkdir(fx->proc.db_path, 0755), 0); /* what `-v host:container` does */
    restart(fx);

    expect_serving_basics(fx);
    struct http_response *ready = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_error(ready, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(ready), "error"), "directory"));
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"refused\"}");
    expect_unavailable(fx, "GET", "/tasks", NULL);
    expect_unavailable(fx, "GET", "/tasks/1", NULL);
    expect_down_with_state(fx, "is_directory");
    assert_int_equal(unavailable_lines_with_state(fx, "is_directory"), 1);

    assert_int_equal(rmdir(fx->proc.db_path), 0);
    copy_file(saved, fx->proc.db_path);
    wait_ready(fx);
    assert_int_equal(count_tasks(fx), 1);
    fx_create(fx, "after recovery");
    expect_one_error_line_per_5xx(fx);
}

/* ---- moved away, deleted ---------------------------------------------------------------- */

static void test_db_moved_away_refuses_writes_and_recovers_when_back(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 3; i++)
        fx_create(fx, "before");
    const char *aside = path_in(fx, "aside.db");
    assert_int_equal(rename(fx->proc.db_path, aside), 0);

    /* The very next write must be refused: no waiting for the monitor's next check. */
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"would be lost\"}");
    wait_unready(fx);
    expect_unavailable(fx, "PUT", "/tasks/1", "{\"done\":true}");
    expect_unavailable(fx, "DELETE", "/tasks/2", NULL);
    expect_serving_basics(fx);
    expect_down_with_state(fx, "unlinked");

    assert_int_equal(rename(aside, fx->proc.db_path), 0);
    wait_ready(fx);
    assert_int_equal(count_tasks(fx), 3);
    fx_create(fx, "after");
    assert_int_equal(count_tasks(fx), 4);
    expect_one_error_line_per_5xx(fx);
}

static void test_db_deleted_for_good_is_never_recreated_while_serving(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "doomed");
    assert_int_equal(unlink(fx->proc.db_path), 0);
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"into the void\"}");
    fx_sleep_ms(300); /* several monitor checks */
    struct stat st;
    assert_int_equal(stat(fx->proc.db_path, &st), -1);
    assert_int_equal(errno, ENOENT);
    expect_unavailable(fx, "GET", "/tasks", NULL);
    expect_down_with_state(fx, "unlinked");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 1); /* the start */
}

/* ---- the -wal file ---------------------------------------------------------------------- */

static void test_wal_deleted_loses_no_acknowledged_write(void **state)
{
    struct fixture *fx = *state;
    int acknowledged = 0;
    for (int i = 0; i < 20; i++) {
        fx_create(fx, "before the wal went");
        acknowledged++;
    }
    assert_int_equal(unlink(sibling(fx, "-wal")), 0);
    for (int i = 0; i < 40; i++) {
        int status = http_status(fx, "POST", "/tasks", "{\"task\":\"while it went\"}");
        if (status == 201)
            acknowledged++;
        else
            assert_int_equal(status, 503);
        fx_sleep_ms(5);
    }
    wait_ready(fx);
    stop(fx);
    restart(fx);
    assert_int_equal(count_tasks(fx), acknowledged);
}

/* ---- missing at start, not a database ----------------------------------------------------- */

static const char *const no_create[] = {"--check-interval", "50ms", "--no-create", NULL};

static int setup_no_create(void **state)
{
    struct taskd_opts opts = {.args = no_create};
    return fx_setup_with(state, &opts);
}

static void make_taskd_db(const char *path, const char *text)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, "
             "done INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT "
             "NULL); INSERT INTO tasks (task, created_at, updated_at) VALUES ('%s', "
             "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');",
             text);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_missing_db_with_no_create_waits_for_the_file(void **state)
{
    struct fixture *fx = *state;
    expect_serving_basics(fx);
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"nowhere\"}");
    expect_down_with_state(fx, "missing");
    struct stat st;
    assert_int_equal(stat(fx->proc.db_path, &st), -1);
    const char *tmp = path_in(fx, "restored.db");
    mkdir(path_in(fx, "data"), 0755); /* --no-create creates nothing, not even the directory */
    make_taskd_db(tmp, "restored from backup");
    assert_int_equal(rename(tmp, fx->proc.db_path), 0);
    wait_ready(fx);
    struct http_response *res = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(fx_json_str(fx_json(res), "task"), "restored from backup");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 0);
}

static void test_garbage_header_is_not_a_db_until_restored(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "precious");
    stop(fx);
    const char *saved = path_in(fx, "saved.db");
    copy_file(fx->proc.db_path, saved);
    int fd = open(fx->proc.db_path, O_WRONLY);
    assert_true(fd >= 0);
    static const char garbage[100] = "this is not a SQLite header, it is garbage";
    assert_int_equal(pwrite(fd, garbage, sizeof(garbage), 0), (ssize_t)sizeof(garbage));
    close(fd);
    restart(fx);

    expect_unavailable(fx, "GET", "/tasks/1", NULL);
    expect_down_with_state(fx, "not_a_db");
    const char *labels[] = {"code", "SQLITE_NOTADB", NULL};
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_errors_total", labels) >= 1);

    const char *tmp = path_in(fx, "incoming.db");
    copy_file(saved, tmp);
    assert_int_equal(rename(tmp, fx->proc.db_path), 0);
    wait_ready(fx);
    struct http_response *res = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(fx_json_str(fx_json(res), "task"), "precious");
}

/* ---- a lock held by another process ------------------------------------------------------- */

static const char *const short_busy[] = {"--check-interval", "50ms", "--busy-timeout", "200ms",
                                         NULL};

static int setup_short_busy(void **state)
{
    struct taskd_opts opts = {.args = short_busy};
    return fx_setup_with(state, &opts);
}

static void test_lock_held_elsewhere_gives_503_busy_then_recovers(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before the lock");
    sqlite3 *other;
    assert_int_equal(sqlite3_open(fx->proc.db_path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    double t0 = fx_now_ms();
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"blocked\"}");
    double waited = fx_now_ms() - t0;
    if (waited < 150 || waited > 2000)
        fx_fail_at(__FILE__, __LINE__, "a blocked write took %.0f ms, not about 200 ms", waited);
    struct http_response *read = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    fx_expect_status(read, 200); /* WAL: reads go on while the write lock is held */
    expect_serving_basics(fx);
    const char *labels[] = {"code", "SQLITE_BUSY", NULL};
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_errors_total", labels) >= 1);
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    wait_ready(fx);
    fx_create(fx, "after the lock");
    expect_one_error_line_per_5xx(fx);
}

/* ---- a full disk (needs root to mount a small tmpfs) -------------------------------------- */

static void test_disk_full_refuses_writes_serves_reads_and_recovers(void **state)
{
    struct fixture *fx = *state;
    const char *mnt = path_in(fx, "small");
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") < 0) {
        print_message("skipped: cannot mount a tmpfs (%s); needs root\n", strerror(errno));
        skip();
    }
    stop(fx);
    /* Later flags win: the same taskd, its database on the small file system. */
    char db[512];
    snprintf(db, sizeof(db), "%s/tasks.db", mnt);
    const char *const args[] = {"--db", db, "--check-interval", "50ms", NULL};
    assert_int_equal(taskd_proc_set_args(&fx->proc, args), 0);
    restart(fx);
    fx_create(fx, "fits");

    char ballast[600];
    snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
    FILE *f = fopen(ballast, "wb");
    assert_non_null(f);
    static char block[64 * 1024];
    while (fwrite(block, 1, sizeof(block), f) == sizeof(block))
        ;
    fclose(f);

    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"no room\"}");
    fx_expect_status(fx_request(fx, "GET", "/tasks/1", NULL, NULL), 200);
    const char *labels[] = {"code", "SQLITE_FULL", NULL};
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_errors_total", labels) >= 1);
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);

    assert_int_equal(unlink(ballast), 0);
    wait_ready(fx);
    fx_create(fx, "room again");
    assert_int_equal(count_tasks(fx), 2);
    stop(fx);
    umount2(mnt, MNT_DETACH);
}

#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_db_path_turned_directory_fails_closed_then_recovers, setup_fast),
        T(test_db_moved_away_refuses_writes_and_recovers_when_back, setup_fast),
        T(test_db_deleted_for_good_is_never_recreated_while_serving, setup_fast),
        T(test_wal_deleted_loses_no_acknowledged_write, setup_fast),
        T(test_missing_db_with_no_create_waits_for_the_file, setup_no_create),
        T(test_garbage_header_is_not_a_db_until_restored, setup_fast),
        T(test_lock_held_elsewhere_gives_503_busy_then_recovers, setup_short_busy),
        T(test_disk_full_refuses_writes_serves_reads_and_recovers, setup_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
