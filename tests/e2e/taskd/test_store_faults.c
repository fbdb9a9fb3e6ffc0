/*
 * test_store_faults: taskd under the persistence faults of DESIGN.md, for real: the database path
 * turned into a directory, the file moved away or deleted while serving, the -wal deleted, a
 * missing file with --no-create, a garbage header, a lock held by another process (each write
 * answered within --busy-timeout), a full disk, a read-only database file or -shm (mounts are
 * made in a private mount namespace, so none outlives the tests). Each test checks that taskd fails
 * closed (503 with Retry-After on data endpoints, /livez and /metrics still served, the state in
 * metrics and one log line per state change), never acknowledges a write it could lose, and
 * recovers by itself when the fault is removed. Also: the start-up sentence and --exit-on-db-error,
 * when a missing database is created (and when not), detection on the first failing request even
 * with a long --check-interval, and
 * --unsafe-no-fault-detection doing the opposite of all this on purpose.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db_file.h"
#include "fixture.h"
#include "skip.h"
#include "logfile.h"
#include "scratch.h"
#include "wal_file.h"

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
    assert_int_equal(scrape_count(sc, "taskd_db_file_state"), DB_FILE_STATE_COUNT);
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

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void release_log(void *p)
{
    logfile_free(p);
}

/* taskd's log from byte `offset` on (kept in scratch). */
static struct logfile *read_log_from(struct fixture *fx, size_t offset)
{
    struct logfile *lf;
    if (logfile_read(fx->proc.log_path, offset, &lf) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot read %s", fx->proc.log_path);
    return scratch_keep(lf, release_log);
}

/* The only line whose "msg" is `msg` (the test fails when there is not exactly one). */
static const cJSON *the_line(const struct logfile *lf, const char *msg)
{
    const cJSON *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < lf->count; i++) {
        const char *m = fx_json_str(lf->lines[i].json, "msg");
        if (m && strcmp(m, msg) == 0) {
            found = lf->lines[i].json;
            n++;
        }
    }
    if (n != 1)
        fx_fail_at(__FILE__, __LINE__, "%zu log lines say \"%s\", expected 1", n, msg);
    return found;
}

/* What taskd wrote on stderr so far (kept in scratch). */
static const char *stderr_of(struct fixture *fx)
{
    char *text = taskd_proc_read_file(fx->proc.stderr_path, NULL);
    return text ? scratch_keep(text, scratch_free) : "";
}

/* "taskd: cannot open database PATH: REASON\n", the start-up sentence (kept in scratch). */
static const char *startup_sentence(const char *db_path, const char *reason)
{
    char *p = scratch_keep(malloc(1024), scratch_free);
    snprintf(p, 1024, "taskd: cannot open database %s: %s\n", db_path, reason);
    return p;
}

static const char directory_reason[] =
    "the database path is a directory (a Docker bind mount of a missing host file creates one; "
    "mount the directory that holds the database instead)";
static const char missing_reason[] =
    "the database file does not exist; restore it (taskd creates an empty database only at "
    "start without --no-create, never while serving)";

/* How many of taskd's open descriptors point at `path`. */
static int open_descriptors_to(pid_t pid, const char *path)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char link[PATH_MAX + 64], target[PATH_MAX];
        snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strcmp(target, path) == 0)
            n++;
    }
    closedir(d);
    return n;
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
    size_t offset = file_size(fx->proc.log_path);
    restart(fx);

    /* Not --exit-on-db-error: the one sentence on stderr, and taskd serves not-ready. */
    assert_string_equal(stderr_of(fx), startup_sentence(fx->proc.db_path, directory_reason));
    const cJSON *down = the_line(read_log_from(fx, offset), "database unavailable");
    assert_string_equal(fx_json_str(down, "level"), "error");
    assert_string_equal(fx_json_str(down, "db_state"), "is_directory");
    assert_string_equal(fx_json_str(down, "reason"), directory_reason);
    expect_serving_basics(fx);
    struct http_response *ready = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_error(ready, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(ready), "error"), "directory"));
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"refused\"}");
    expect_unavailable(fx, "GET", "/tasks", NULL);
    expect_unavailable(fx, "GET", "/tasks/1", NULL);
    expect_down_with_state(fx, "is_directory");
    assert_int_equal(unavailable_lines_with_state(fx, "is_directory"), 1);
    /* This process never counted its rows: no taskd_tasks sample, not a 0 saying they are gone. */
    assert_int_equal(scrape_count(fx_scrape(fx), "taskd_tasks"), 0);

    assert_int_equal(rmdir(fx->proc.db_path), 0);
    copy_file(saved, fx->proc.db_path);
    wait_ready(fx);
    assert_true(fx_metric(fx_scrape(fx), "taskd_tasks", NULL) == 1.0);
    assert_int_equal(logfile_wait_msg(fx->proc.log_path, offset, "database available", 1, 2000),
                     0); /* info lines reach the file within 50 ms */
    const cJSON *up = the_line(read_log_from(fx, offset), "database available");
    assert_string_equal(fx_json_str(up, "level"), "info");
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
    assert_string_equal(stderr_of(fx), startup_sentence(fx->proc.db_path, missing_reason));
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

/* How many probe writes the monitor ran (the histogram appears with its first one). */
static double probes_run(struct fixture *fx)
{
    static const char *const probe[] = {"op", "probe", NULL};
    const struct scrape_sample *sample =
        scrape_find(fx_scrape(fx), "taskd_db_query_duration_seconds_count", probe);
    return sample ? sample->value : 0;
}

/* Another process's view of the lock: a second connection holding the write lock. Release it
 * with ROLLBACK and sqlite3_close. */
static sqlite3 *hold_write_lock(const struct fixture *fx)
{
    sqlite3 *other;
    assert_int_equal(sqlite3_open(fx->proc.db_path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return other;
}

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
    sqlite3 *other = hold_write_lock(fx);

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

/* --busy-timeout bounds each write's wait, counted from its arrival: a write that queues behind
 * a batch already waiting out the lock is not made to wait a second timeout, and neither waits
 * behind the monitor's probe write (which does not wait for the lock at all). */
#define LOCK_BUSY_MS 400
#define LOCK_WRITES 6
#define LOCK_WRITE_GAP_MS 150 /* writes arrive while earlier ones still wait */
#define LOCK_SLACK_MS 300     /* a busy machine, sanitizers; a second timeout would be 400 */

static const char *const lock_busy[] = {"--check-interval", "50ms", "--busy-timeout", "400ms",
                                        NULL};

static int setup_lock_busy(void **state)
{
    struct taskd_opts opts = {.args = lock_busy};
    return fx_setup_with(state, &opts);
}

static void test_lock_held_elsewhere_answers_each_write_within_busy_timeout(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before the lock");
    sqlite3 *other = hold_write_lock(fx);

    static const char request[] = "POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 17\r\n\r\n"
                                  "{\"task\":\"locked\"}";
    struct http_conn *conns[LOCK_WRITES];
    for (int i = 0; i < LOCK_WRITES; i++)
        conns[i] = fx_connect(fx);
    for (int i = 0; i < LOCK_WRITES; i++) {
        if (i > 0)
            fx_sleep_ms(LOCK_WRITE_GAP_MS);
        fx_send(conns[i], request);
    }
    /* How long each waited is taskd's own duration_ms in its log line (from its arrival to its
     * answer): reading the answers here one after another would add the waits up. */
    const char *ids[LOCK_WRITES];
    for (int i = 0; i < LOCK_WRITES; i++) {
        struct http_response *res = fx_read(conns[i], "POST");
        fx_expect_error(res, 503, "db_unavailable");
        assert_non_null(strstr(fx_json_str(fx_json(res), "error"), "locked"));
        ids[i] = http_header(res, "X-Request-Id");
    }
    fx_wait_logged(fx, 1 + LOCK_WRITES);
    struct logfile *lf = read_log_from(fx, 0);
    for (int i = 0; i < LOCK_WRITES; i++) {
        size_t matches;
        const cJSON *line = logfile_find_request(lf, ids[i], &matches);
        assert_non_null(line);
        double waited = cJSON_GetObjectItemCaseSensitive(line, "duration_ms")->valuedouble;
        fx_context("write %d of %d, sent %d ms after the first", i + 1, LOCK_WRITES,
                   i * LOCK_WRITE_GAP_MS);
        assert_string_equal(fx_json_str(line, "db_state"), "ok");
        assert_int_equal(fx_json_int(line, "sqlite_code"), SQLITE_BUSY);
        if (waited > LOCK_BUSY_MS + LOCK_SLACK_MS)
            fx_fail_at(__FILE__, __LINE__,
                       "a write during the lock waited %.0f ms for its 503, more than "
                       "--busy-timeout %d ms",
                       waited, LOCK_BUSY_MS);
        if (i == 0 && waited < LOCK_BUSY_MS - 50)
            fx_fail_at(__FILE__, __LINE__,
                       "the first write gave up after %.0f ms, before --busy-timeout %d ms", waited,
                       LOCK_BUSY_MS);
    }
    fx_context("after the lock");
    /* One more on its own waits the whole timeout, probes or not. */
    double t0 = fx_now_ms();
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"alone\"}");
    double waited = fx_now_ms() - t0;
    if (waited < LOCK_BUSY_MS - 50 || waited > LOCK_BUSY_MS + LOCK_SLACK_MS)
        fx_fail_at(__FILE__, __LINE__, "a lone write waited %.0f ms, not about %d ms", waited,
                   LOCK_BUSY_MS);
    assert_true(probes_run(fx) > 0);
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    wait_ready(fx);
    fx_create(fx, "after the lock");
    assert_int_equal(count_tasks(fx), 2);
}

/* ---- a full disk (needs root to mount a small tmpfs) -------------------------------------- */

/* Mounts made by these tests live in a mount namespace of this test process (taskd, its child,
 * shares it), so none outlives it even if it is killed. Skips the test without the privilege. */
static void private_mount_namespace(void)
{
    static int entered;
    if (entered)
        return;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        skip_because("cannot make a private mount namespace (%s); needs root", strerror(errno));
    }
    entered = 1;
}

/* Waits (the monitor measures every --check-interval) until taskd_data_dir_free_bytes is in
 * [low, high]. */
static void expect_free_bytes(struct fixture *fx, double low, double high)
{
    double deadline = fx_now_ms() + RECOVERY_TIMEOUT_MS, free_bytes = -1;
    while (fx_now_ms() < deadline) {
        free_bytes = fx_metric(fx_scrape(fx), "taskd_data_dir_free_bytes", NULL);
        if (free_bytes >= low && free_bytes <= high)
            return;
        fx_sleep_ms(20);
    }
    fx_fail_at(__FILE__, __LINE__, "taskd_data_dir_free_bytes is %.0f, not in [%.0f, %.0f]",
               free_bytes, low, high);
}

static void test_disk_full_refuses_writes_serves_reads_and_recovers(void **state)
{
    struct fixture *fx = *state;
    const char *mnt = path_in(fx, "small");
    assert_int_equal(mkdir(mnt, 0755), 0);
    private_mount_namespace();
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") < 0) {
        skip_because("cannot mount a tmpfs (%s); needs root", strerror(errno));
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
    expect_free_bytes(fx, 0, 64 * 1024); /* the ballast took all but a partial block */

    assert_int_equal(unlink(ballast), 0);
    expect_free_bytes(fx, 1024 * 1024, 2 * 1024 * 1024);
    wait_ready(fx);
    fx_create(fx, "room again");
    assert_int_equal(count_tasks(fx), 2);
    stop(fx);
    umount2(mnt, MNT_DETACH);
}

/* ---- read-only: a bind mount over the database file or its -shm (needs root) ------------- */

static void detach_mount(void *path)
{
    umount2(path, MNT_DETACH);
    free(path);
}

/* Makes the file at `path` read-only by bind-mounting it read-only over itself: the same inode,
 * so taskd's identity check still sees its file, and the directory stays writable. Returns a
 * handle for unbind_readonly(); teardown detaches it too, after a failure. */
static char *bind_readonly(const char *path)
{
    private_mount_namespace();
    char *kept = scratch_keep(strdup(path), scratch_free);
    if (mount(path, path, NULL, MS_BIND, NULL) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot bind-mount %s: %s", path, strerror(errno));
    scratch_drop(kept);
    kept = scratch_keep(strdup(path), detach_mount);
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot remount %s read-only: %s", path, strerror(errno));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    int fd = open(path, O_RDWR);
    if (fd >= 0)
        close(fd);
    assert_true(fd < 0 && errno == EROFS);
    return kept;
}

/* Detaches the mount lazily, as `umount -l` does: descriptors opened through it stay read-only,
 * the path is writable again. */
static void unbind_readonly(char *handle)
{
    scratch_drop(handle);
}

/* How many times taskd opened the database (the histogram appears with the first). */
static double opens_run(struct fixture *fx)
{
    static const char *const open_op[] = {"op", "open", NULL};
    const struct scrape_sample *sample =
        scrape_find(fx_scrape(fx), "taskd_db_query_duration_seconds_count", open_op);
    return sample ? sample->value : 0;
}

/* What the readonly chaos scenario once caught: taskd reconnected through a read-only mount as
 * it was being unmounted, and SQLite, refused O_RDWR, quietly opened the file read-only, with
 * its -wal and -shm writable. Here the file is read-only at start with the directory writable,
 * which gives the same connection. taskd must refuse it, not serve on it until a restart. */
static void test_db_file_opened_read_only_is_refused_and_reopened_when_writable(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "kept");
    stop(fx);
    char *ro = bind_readonly(fx->proc.db_path);
    size_t offset = file_size(fx->proc.log_path);
    restart(fx);

    static const char reason[] =
        "SQLite could open it only read-only: the database is read-only (file or directory "
        "permissions, or a read-only mount); make it writable";
    assert_string_equal(stderr_of(fx), startup_sentence(fx->proc.db_path, reason));
    usleep(300 * 1000); /* several 50 ms checks: their reconnects must keep the same reason */
    struct http_response *ready = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_error(ready, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(ready), "error"), reason));
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"refused\"}");
    expect_unavailable(fx, "GET", "/tasks", NULL);
    expect_serving_basics(fx);
    expect_down_with_state(fx, "readonly");
    /* Tried again every --check-interval, and said once. */
    double opens = opens_run(fx);
    fx_sleep_ms(300);
    assert_true(opens_run(fx) == opens); /* refused before it counts as opened */
    assert_int_equal(unavailable_lines_with_state(fx, "readonly"), 1);

    unbind_readonly(ro);
    wait_ready(fx);
    assert_int_equal(logfile_wait_msg(fx->proc.log_path, offset, "database available", 1, 2000), 0);
    assert_int_equal(count_tasks(fx), 1);
    fx_create(fx, "writable again");
    assert_int_equal(count_tasks(fx), 2);
    expect_one_error_line_per_5xx(fx);
}

/* A connection that opens and reads but cannot write: the -shm, left by a kill -9, is
 * read-only, so SQLite uses it read-only and every write fails with SQLITE_READONLY. A write
 * failing so makes taskd reopen instead of retrying on the same connection, and the monitor
 * keeps reopening (and proving each new connection with a probe write) while it stays so. */
static void test_write_failing_read_only_reopens_until_writable(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "survives the kill");
    int status;
    assert_int_equal(taskd_proc_kill9(&fx->proc, &status), 0);
    http_close(fx->conn);
    fx->conn = NULL;
    char *ro = bind_readonly(sibling(fx, "-shm"));
    restart(fx);
    assert_string_equal(stderr_of(fx), ""); /* it opens fine */

    struct http_response *res =
        fx_request(fx, "POST", "/tasks", fx_json_headers, "{\"task\":\"refused\"}");
    fx_expect_error(res, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(res), "error"), "readonly"));
    wait_unready(fx);
    expect_down_with_state(fx, "readonly");
    const char *labels[] = {"code", "SQLITE_READONLY", NULL};
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_errors_total", labels) >= 1);
    double opens = opens_run(fx), probes = probes_run(fx);
    fx_sleep_ms(500); /* ten --check-interval periods */
    if (opens_run(fx) < opens + 3 || probes_run(fx) < probes + 3)
        fx_fail_at(__FILE__, __LINE__,
                   "in 500 ms taskd reopened %.0f times and probed %.0f "
                   "times; it must keep reopening every 50 ms while writes fail read-only",
                   opens_run(fx) - opens, probes_run(fx) - probes);
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);
    assert_int_equal(unavailable_lines_with_state(fx, "readonly"), 1);

    unbind_readonly(ro);
    wait_ready(fx);
    fx_create(fx, "writable again");
    assert_int_equal(count_tasks(fx), 2);
    expect_one_error_line_per_5xx(fx);
}

/* ---- start-up: --exit-on-db-error ------------------------------------------------------- */

/* Runs taskd in the foreground on `db` with `flags` (and `env`); it must exit 1 without
 * listening, with exactly `sentence` on stderr, and log it as "cannot start". */
static void expect_exit_1(struct fixture *fx, const char *db, const char *const *flags,
                          const char *const *env, const char *sentence)
{
    const char *log = path_in(fx, "exit.log");
    unlink(log);
    const char *args[16] = {"--listen", "127.0.0.1:0", "--db", db, "--log-file", log};
    size_t n = 6;
    for (size_t i = 0; flags[i]; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    char *out, *err;
    fx_context("taskd %s --db %s", flags[0] ? flags[0] : "", db);
    int code = fx_run_taskd(args, env, &out, &err);
    if (code != 1)
        fx_fail_at(__FILE__, __LINE__, "exit code %d, expected 1; stderr: %s", code, err);
    assert_string_equal(out, "");
    assert_string_equal(err, sentence);
    struct logfile *lf;
    assert_int_equal(logfile_read(log, 0, &lf), 0);
    scratch_keep(lf, release_log);
    const cJSON *line = the_line(lf, "cannot start");
    assert_string_equal(fx_json_str(line, "level"), "error");
    char reason[1024];
    snprintf(reason, sizeof(reason), "%s", sentence + strlen("taskd: "));
    reason[strlen(reason) - 1] = '\0'; /* the newline */
    assert_string_equal(fx_json_str(line, "reason"), reason);
    assert_int_equal(logfile_count_msg(lf, "listening"), 0);
}

static void test_exit_on_db_error_exits_1_when_the_path_is_a_directory(void **state)
{
    struct fixture *fx = *state;
    const char *db = path_in(fx, "bind-mounted.db");
    assert_int_equal(mkdir(db, 0755), 0);
    static const char *const flags[] = {"--exit-on-db-error", NULL};
    expect_exit_1(fx, db, flags, NULL, startup_sentence(db, directory_reason));
    static const char *const none[] = {NULL};
    static const char *const env[] = {"TASKD_EXIT_ON_DB_ERROR=1", NULL};
    expect_exit_1(fx, db, none, env, startup_sentence(db, directory_reason));
}

static void test_exit_on_db_error_exits_1_for_missing_with_no_create_and_not_a_db(void **state)
{
    struct fixture *fx = *state;
    const char *missing = path_in(fx, "never-created.db");
    static const char *const no_create_flags[] = {"--exit-on-db-error", "--no-create", NULL};
    expect_exit_1(fx, missing, no_create_flags, NULL, startup_sentence(missing, missing_reason));
    struct stat st;
    assert_int_equal(stat(missing, &st), -1);

    const char *garbage = path_in(fx, "garbage.db");
    FILE *f = fopen(garbage, "wb");
    assert_non_null(f);
    for (int i = 0; i < 64; i++)
        fputs("this is not a SQLite database, it is 64 lines of text\n", f);
    assert_int_equal(fclose(f), 0);
    static const char *const flags[] = {"--exit-on-db-error", NULL};
    expect_exit_1(fx, garbage, flags, NULL,
                  startup_sentence(garbage, "SQLite: file is not a database"));
}

/* ---- a crash in the middle of a commit --------------------------------------------------- */

/* A kill between SQLite's two writes of a frame leaves the frame's header and part of its page
 * past the last commit. The -shm's index says that transaction never committed: taskd starts,
 * SQLite drops it, every acknowledged task is there, and a warn line says what was dropped. */
static void test_a_frame_torn_by_a_crash_is_dropped_with_nothing_acknowledged(void **state)
{
    struct fixture *fx = *state;
    int64_t first = fx_json_int(fx_create(fx, "acknowledged before the crash"), "id");
    int64_t second = fx_json_int(fx_create(fx, "the last commit"), "id");
    int status;
    assert_int_equal(taskd_proc_kill9(&fx->proc, &status), 0);
    http_close(fx->conn);
    fx->conn = NULL;
    const char *wal = sibling(fx, "-wal");
    struct wal_file_scan w;
    assert_int_equal(wal_file_scan_path(wal, &w), 0);
    assert_true(w.frames > 0 && !w.torn);
    char part[WAL_FILE_FRAME_HEADER + 1000];
    int fd = open(wal, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, part, sizeof(part), (off_t)wal_file_frame_offset(&w, w.frames)),
                     (ssize_t)sizeof(part));
    /* at the end of the -wal (frames an earlier generation left past the last commit go: a
     * write over them that breaks off is a leftover SQLite ignores, not a torn frame) */
    assert_int_equal(ftruncate(fd, (off_t)w.commit_end), 0);
    assert_int_equal(pwrite(fd, part, sizeof(part), (off_t)w.commit_end), (ssize_t)sizeof(part));
    close(fd);

    size_t offset = file_size(fx->proc.log_path);
    restart(fx);
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 200);
    char path[64];
    snprintf(path, sizeof(path), "/tasks/%lld", (long long)first);
    assert_int_equal(http_status(fx, "GET", path, NULL), 200);
    snprintf(path, sizeof(path), "/tasks/%lld", (long long)second);
    assert_int_equal(http_status(fx, "GET", path, NULL), 200);
    static const char said[] = "the -wal ends in a transaction the previous process never "
                               "committed";
    assert_int_equal(logfile_wait_msg(fx->proc.log_path, offset, said, 1, 2000), 0);
    const cJSON *line = the_line(read_log_from(fx, offset), said);
    assert_string_equal(fx_json_str(line, "level"), "warn");
    assert_int_equal(fx_json_int(line, "torn_offset"), (int64_t)w.commit_end);
    fx_create(fx, "after the restart");
}

/* ---- creating a missing database ------------------------------------------------------- */

static void test_first_start_creates_the_database_with_one_warn_line(void **state)
{
    struct fixture *fx = *state;
    const cJSON *line = the_line(read_log_from(fx, 0), "created a new empty database");
    assert_string_equal(fx_json_str(line, "level"), "warn");
    assert_string_equal(fx_json_str(line, "db_path"), fx->proc.db_path);
    assert_string_equal(fx_json_str(line, "reason"), "no file existed at the path");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 1);
    assert_string_equal(stderr_of(fx), "");
    fx_create(fx, "in the new database");
}

/* kill -9 leaves the -wal and -shm beside the database: with the database file gone they say a
 * database existed here, so taskd refuses to create an empty one in its place. */
static void test_missing_db_beside_a_leftover_wal_is_not_created(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "committed before the crash");
    int status;
    assert_int_equal(taskd_proc_kill9(&fx->proc, &status), 0);
    http_close(fx->conn);
    fx->conn = NULL;
    struct stat st;
    assert_int_equal(stat(sibling(fx, "-wal"), &st), 0);
    assert_int_equal(unlink(fx->proc.db_path), 0);
    restart(fx);

    static const char reason[] =
        "the file does not exist but its -wal file is still there: a database existed here; "
        "restore it, or remove the leftover -wal file to start with an empty one";
    assert_string_equal(stderr_of(fx), startup_sentence(fx->proc.db_path, reason));
    usleep(300 * 1000); /* several 50 ms checks: their reconnects must keep the same reason */
    struct http_response *ready = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_error(ready, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(ready), "error"), reason));
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"not into a new database\"}");
    expect_down_with_state(fx, "missing");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 0);
    assert_int_equal(stat(fx->proc.db_path, &st), -1);

    /* Once the leftovers are removed on purpose, the next start creates it, loudly. */
    stop(fx);
    assert_int_equal(unlink(sibling(fx, "-wal")), 0);
    unlink(sibling(fx, "-shm"));
    size_t offset = file_size(fx->proc.log_path);
    restart(fx);
    assert_int_equal(
        logfile_wait_msg(fx->proc.log_path, offset, "created a new empty database", 1, 2000), 0);
    the_line(read_log_from(fx, offset), "created a new empty database");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 1);
    assert_int_equal(count_tasks(fx), 0);
}

/* A restart while the database is moved away: SQLite leaves its -wal at the path (it does
 * not checkpoint into a moved file), so taskd does not create a new database there; moving the
 * file back brings every acknowledged task back. */
static void test_restart_while_the_db_is_moved_away_creates_nothing(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 3; i++)
        fx_create(fx, "acknowledged");
    const char *aside = path_in(fx, "aside.db");
    assert_int_equal(rename(fx->proc.db_path, aside), 0);
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"refused\"}");
    stop(fx);
    restart(fx);
    expect_unavailable(fx, "GET", "/tasks", NULL);
    expect_down_with_state(fx, "missing");
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 0);
    struct stat st;
    assert_int_equal(stat(fx->proc.db_path, &st), -1);

    assert_int_equal(rename(aside, fx->proc.db_path), 0);
    wait_ready(fx);
    assert_int_equal(count_tasks(fx), 3);
}

/* ---- detection on the first failing request, not at the next check --------------------- */

static const char *const slow_checks[] = {"--check-interval", "10s", "--busy-timeout", "200ms",
                                          NULL};

static int setup_slow_checks(void **state)
{
    struct taskd_opts opts = {.args = slow_checks};
    return fx_setup_with(state, &opts);
}

static void test_long_check_interval_still_detects_a_moved_file_on_the_first_write(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before");
    const char *aside = path_in(fx, "aside.db");
    assert_true(open_descriptors_to(fx->proc.pid, fx->proc.db_path) > 0);
    double t0 = fx_now_ms();
    assert_int_equal(rename(fx->proc.db_path, aside), 0);

    struct http_response *res =
        fx_request(fx, "POST", "/tasks", fx_json_headers, "{\"task\":\"would be lost\"}");
    fx_expect_error(res, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(res), "error"), "deleted or moved away"));
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);
    expect_down_with_state(fx, "unlinked");
    /* The monitor was woken, not left to its 10 s interval: it closes the moved file. */
    while (open_descriptors_to(fx->proc.pid, aside) > 0 && fx_now_ms() - t0 < 2000)
        fx_sleep_ms(10);
    assert_int_equal(open_descriptors_to(fx->proc.pid, aside), 0);
    double took = fx_now_ms() - t0;
    if (took > 2000)
        fx_fail_at(__FILE__, __LINE__, "detection took %.0f ms", took);
    assert_int_equal(unavailable_lines_with_state(fx, "unlinked"), 1);
}

static void test_long_check_interval_still_detects_a_moved_file_on_the_first_read(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before");
    assert_int_equal(rename(fx->proc.db_path, path_in(fx, "aside.db")), 0);
    expect_unavailable(fx, "GET", "/tasks/1", NULL); /* a new snapshot after the commit */
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 503);
    expect_down_with_state(fx, "unlinked");
    expect_unavailable(fx, "GET", "/tasks", NULL);
}

static void test_long_check_interval_busy_write_turns_unready_and_a_commit_ready(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before the lock");
    sqlite3 *other = hold_write_lock(fx);
    double t0 = fx_now_ms();
    expect_unavailable(fx, "POST", "/tasks", "{\"task\":\"blocked\"}");
    struct http_response *ready = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_error(ready, 503, "db_unavailable");
    assert_non_null(strstr(fx_json_str(fx_json(ready), "error"), "locked"));
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_up", NULL) == 0);
    /* The SQLite error woke the monitor: its probe write runs now, not 10 s later. */
    while (probes_run(fx) == 0 && fx_now_ms() - t0 < 2000)
        fx_sleep_ms(20);
    if (probes_run(fx) == 0)
        fx_fail_at(__FILE__, __LINE__, "no probe within 2 s of the first failing write");

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    fx_create(fx, "after the lock"); /* a commit proves the database usable again */
    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 200);
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_up", NULL) == 1);
}

/* ---- --unsafe-no-fault-detection: a naive service on purpose -------------------------- */

static const char *const unsafe[] = {"--check-interval", "50ms", "--unsafe-no-fault-detection",
                                     NULL};

static int setup_unsafe(void **state)
{
    struct taskd_opts opts = {.args = unsafe};
    return fx_setup_with(state, &opts);
}

static int64_t rows_in(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM tasks", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* The opposite of test_db_moved_away_refuses_writes_and_recovers_when_back, on purpose: the
 * write into the moved file is acknowledged; after a restart the service has lost it, and the
 * new empty database it created silently has destroyed the last copy. */
static void test_unsafe_no_fault_detection_acknowledges_writes_into_a_moved_file(void **state)
{
    struct fixture *fx = *state;
    const cJSON *warn = the_line(read_log_from(fx, 0),
                                 "database fault detection is off (--unsafe-no-fault-detection), "
                                 "for demonstrations only: writes into a deleted or moved "
                                 "database are acknowledged and lost, and /readyz only runs "
                                 "SELECT 1");
    assert_string_equal(fx_json_str(warn, "level"), "warn");
    fx_create(fx, "one");
    fx_create(fx, "two");
    const char *aside = path_in(fx, "aside.db");
    assert_int_equal(rename(fx->proc.db_path, aside), 0);
    fx_sleep_ms(300); /* several --check-interval periods */

    assert_int_equal(http_status(fx, "GET", "/readyz", NULL), 200);
    struct http_response *res =
        fx_request(fx, "POST", "/tasks", fx_json_headers, "{\"task\":\"acknowledged, then lost\"}");
    fx_expect_status(res, 201);
    assert_int_equal(fx_json_int(fx_json(res), "id"), 3);
    fx_expect_status(fx_request(fx, "GET", "/tasks/3", NULL, NULL), 200);
    struct scrape *sc = fx_scrape(fx);
    const char *ok[] = {"state", "ok", NULL};
    assert_true(fx_metric(sc, "taskd_db_file_state", ok) == 1);
    assert_true(fx_metric(sc, "taskd_db_up", NULL) == 1);
    assert_int_equal(unavailable_lines_with_state(fx, "unlinked"), 0);

    /* SQLite does not checkpoint into a moved file at close: the three tasks exist only in the
     * moved file plus the -wal still at the path. */
    stop(fx);
    struct stat st;
    assert_int_equal(stat(fx->proc.db_path, &st), -1);
    const char *orphan = path_in(fx, "orphan.db");
    copy_file(aside, orphan);
    copy_file(sibling(fx, "-wal"), path_in(fx, "orphan.db-wal"));
    assert_int_equal(rows_in(orphan), 3);

    size_t offset = file_size(fx->proc.log_path);
    restart(fx);
    fx_expect_error(fx_request(fx, "GET", "/tasks/3", NULL, NULL), 404, "task_not_found");
    assert_int_equal(count_tasks(fx), 0);
    /* Created silently, as a naive service does, over the leftover -wal. */
    assert_int_equal(logfile_count_msg(read_log_from(fx, offset), "created a new empty database"),
                     0);
    assert_true(fx_metric(fx_scrape(fx), "taskd_db_created_total", NULL) == 0);
    assert_string_equal(stderr_of(fx), "");
}

static void test_unsafe_no_fault_detection_exits_1_on_a_directory(void **state)
{
    struct fixture *fx = *state;
    const char *db = path_in(fx, "bind-mounted.db");
    assert_int_equal(mkdir(db, 0755), 0);
    static const char *const flags[] = {"--unsafe-no-fault-detection", NULL};
    expect_exit_1(fx, db, flags, NULL, startup_sentence(db, directory_reason));
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
        T(test_lock_held_elsewhere_answers_each_write_within_busy_timeout, setup_lock_busy),
        T(test_disk_full_refuses_writes_serves_reads_and_recovers, setup_fast),
        T(test_db_file_opened_read_only_is_refused_and_reopened_when_writable, setup_fast),
        T(test_write_failing_read_only_reopens_until_writable, setup_fast),
        T(test_exit_on_db_error_exits_1_when_the_path_is_a_directory, setup_fast),
        T(test_exit_on_db_error_exits_1_for_missing_with_no_create_and_not_a_db, setup_fast),
        T(test_first_start_creates_the_database_with_one_warn_line, setup_fast),
        T(test_missing_db_beside_a_leftover_wal_is_not_created, setup_fast),
        T(test_a_frame_torn_by_a_crash_is_dropped_with_nothing_acknowledged, setup_fast),
        T(test_restart_while_the_db_is_moved_away_creates_nothing, setup_fast),
        T(test_long_check_interval_still_detects_a_moved_file_on_the_first_write,
          setup_slow_checks),
        T(test_long_check_interval_still_detects_a_moved_file_on_the_first_read, setup_slow_checks),
        T(test_long_check_interval_busy_write_turns_unready_and_a_commit_ready, setup_slow_checks),
        T(test_unsafe_no_fault_detection_acknowledges_writes_into_a_moved_file, setup_unsafe),
        T(test_unsafe_no_fault_detection_exits_1_on_a_directory, setup_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
