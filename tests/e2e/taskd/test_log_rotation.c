/*
 * test_log_rotation: taskd's log file bounded on disk. With --log-max-size and --log-max-files
 * the file is rotated (taskd.log -> taskd.log.1 -> ...) before it passes the size, at most that
 * many files are kept, no line is split or lost across rotations, and the rotations, bytes and
 * losses are counted exactly in /metrics. SIGHUP (logrotate) is counted as a rotation too. A full
 * disk under the log (a small tmpfs, root only) never stops requests, drops and counts the info
 * lines it cannot write, and keeps every error line until there is room again.
 */
#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "logfile.h"
#include "scratch.h"
#include "skip.h"

#define MAX_SIZE (64 * 1024)
#define WAIT_MS 10000

static const char *path_in(struct fixture *fx, const char *name)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof(path[0]), "%s/%s", fx->proc.dir, name);
    return p;
}

static void release_log(void *p)
{
    logfile_free(p);
}

/* FILE or FILE.n (n > 0), parsed; NULL when it does not exist. Every line must be JSON and the
 * file must end with a newline: a rotation or a failed write never splits a line. */
static struct logfile *read_whole_lines(const char *path, long long *size)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return NULL;
    if (size)
        *size = (long long)st.st_size;
    struct logfile *lf;
    if (logfile_read(path, 0, &lf) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot read %s", path);
    scratch_keep(lf, release_log);
    if (lf->count > 0 && !lf->ends_with_newline)
        fx_fail_at(__FILE__, __LINE__, "%s ends in a cut line: %.200s", path,
                   lf->lines[lf->count - 1].raw);
    for (size_t i = 0; i < lf->count; i++) {
        if (!lf->lines[i].json)
            fx_fail_at(__FILE__, __LINE__, "%s line %zu is not JSON: %.200s", path, i + 1,
                       lf->lines[i].raw);
    }
    return lf;
}

static const char *numbered(const char *log, int n)
{
    static char path[512];
    if (n == 0)
        snprintf(path, sizeof(path), "%s", log);
    else
        snprintf(path, sizeof(path), "%s.%d", log, n);
    return path;
}

/* GET `path` with X-Request-Id `id`, expecting `status`. */
static void request_with_id(struct fixture *fx, const char *path, const char *id, int status)
{
    char header[96];
    snprintf(header, sizeof(header), "X-Request-Id: %s", id);
    const char *headers[] = {header, NULL};
    fx_expect_status(fx_request(fx, "GET", path, headers, NULL), status);
}

/* Waits until the request line of `id` is in the current log file. */
static void wait_logged_id(const char *log, const char *id)
{
    double deadline = fx_now_ms() + WAIT_MS;
    while (fx_now_ms() < deadline) {
        struct logfile *lf;
        if (logfile_read(log, 0, &lf) == 0) {
            size_t matches = 0;
            logfile_find_request(lf, id, &matches);
            logfile_free(lf);
            if (matches > 0)
                return;
        }
        fx_sleep_ms(10);
    }
    fx_fail_at(__FILE__, __LINE__, "the line of request %s never reached %s", id, log);
}

static void release_scrape(void *p)
{
    scrape_free(p);
}

/* Scrapes /metrics with a known request id, so the test can tell its own line apart. */
static struct scrape *scrape_as(struct fixture *fx, const char *id)
{
    char header[96];
    snprintf(header, sizeof(header), "X-Request-Id: %s", id);
    const char *headers[] = {header, NULL};
    struct http_response *res = fx_request(fx, "GET", "/metrics", headers, NULL);
    fx_expect_status(res, 200);
    struct scrape *sc;
    char error[256];
    if (scrape_parse(res->body, res->body_len, &sc, error, sizeof(error)) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot parse /metrics: %s", error);
    scratch_keep(sc, release_scrape);
    return sc;
}

static double counter(struct scrape *sc, const char *name, const char *label, const char *value)
{
    const char *labels[] = {label, value, NULL};
    return fx_metric(sc, name, label ? labels : NULL);
}

static int setup_rotating(void **state, const char *max_files)
{
    const char *const args[] = {"--log-max-size", "64KiB", "--log-max-files", max_files, NULL};
    const struct taskd_opts opts = {.args = args};
    return fx_setup_with(state, &opts);
}

static int setup_keep_50(void **state)
{
    return setup_rotating(state, "50");
}

static int setup_keep_2(void **state)
{
    return setup_rotating(state, "2");
}

/* Every line of every file, each request id exactly once, no file over the size, as many
 * rotated files as rotations counted, and the bytes counted are the bytes on disk. */
static void test_log_rotates_by_size_and_keeps_every_line(void **state)
{
    struct fixture *fx = *state;
    const char *log = fx->proc.log_path;
    enum { REQUESTS = 1500 };
    char id[32];
    for (int i = 0; i < REQUESTS; i++) {
        snprintf(id, sizeof(id), "rot-%04d", i);
        request_with_id(fx, "/livez", id, 200);
    }
    wait_logged_id(log, id);
    struct scrape *sc = scrape_as(fx, "the-scrape");
    wait_logged_id(log, "the-scrape");

    int seen[REQUESTS] = {0};
    long long total_bytes = 0, scrape_line = 0;
    int files = 0;
    for (int n = 0; n < 60; n++) {
        long long size = 0;
        struct logfile *lf = read_whole_lines(numbered(log, n), &size);
        if (!lf)
            break;
        files++;
        total_bytes += size;
        if (size > MAX_SIZE)
            fx_fail_at(__FILE__, __LINE__, "%s holds %lld bytes, over --log-max-size %d",
                       numbered(log, n), size, MAX_SIZE);
        for (size_t i = 0; i < lf->count; i++) {
            const char *rid = fx_json_str(lf->lines[i].json, "request_id");
            int k;
            if (rid && sscanf(rid, "rot-%d", &k) == 1 && k >= 0 && k < REQUESTS)
                seen[k]++;
            if (rid && strcmp(rid, "the-scrape") == 0)
                scrape_line = (long long)strlen(lf->lines[i].raw) + 1;
        }
    }
    for (int k = 0; k < REQUESTS; k++) {
        if (seen[k] != 1)
            fx_fail_at(__FILE__, __LINE__, "request rot-%04d is in the logs %d times", k, seen[k]);
    }
    assert_true(files >= 4); /* 1500 lines of about 200 bytes: over 4 files of 64 KiB */
    assert_int_equal(counter(sc, "taskd_log_rotations_total", "trigger", "size"), files - 1);
    assert_int_equal(counter(sc, "taskd_log_rotations_total", "trigger", "signal"), 0);
    /* Everything on disk was counted when the scrape was rendered, except the scrape's own
     * line, written after its response. */
    assert_int_equal(counter(sc, "taskd_log_written_bytes_total", NULL, NULL),
                     total_bytes - scrape_line);
    assert_int_equal(counter(sc, "taskd_log_dropped_lines_total", NULL, NULL), 0);
    assert_int_equal(counter(sc, "taskd_log_write_errors_total", NULL, NULL), 0);
}

/* --log-max-files 2: taskd.log and taskd.log.1, never a third file nor a leftover. */
static void test_log_rotation_keeps_at_most_max_files(void **state)
{
    struct fixture *fx = *state;
    const char *log = fx->proc.log_path;
    char id[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(id, sizeof(id), "keep-%04d", i);
        request_with_id(fx, "/livez", id, 200);
    }
    wait_logged_id(log, id);
    struct scrape *sc = scrape_as(fx, "the-scrape");
    assert_true(counter(sc, "taskd_log_rotations_total", "trigger", "size") >= 3);
    long long size = 0;
    assert_non_null(read_whole_lines(numbered(log, 0), &size));
    assert_true(size <= MAX_SIZE);
    assert_non_null(read_whole_lines(numbered(log, 1), &size));
    assert_true(size <= MAX_SIZE);
    struct stat st;
    assert_int_equal(stat(numbered(log, 2), &st), -1);
    char leftover[512];
    snprintf(leftover, sizeof(leftover), "%s.rotating", log);
    assert_int_equal(stat(leftover, &st), -1);
}

/* logrotate's way: the file is renamed, SIGHUP makes taskd open a new one; counted. */
static void test_sighup_reopen_counts_as_a_rotation(void **state)
{
    struct fixture *fx = *state;
    const char *log = fx->proc.log_path;
    const char *moved = path_in(fx, "taskd.log.old");
    request_with_id(fx, "/livez", "before", 200);
    wait_logged_id(log, "before");
    assert_int_equal(rename(log, moved), 0);
    assert_int_equal(taskd_proc_signal(&fx->proc, SIGHUP), 0);
    assert_int_equal(logfile_wait_msg(log, 0, "log file reopened", 1, WAIT_MS), 0);
    request_with_id(fx, "/livez", "after", 200);
    wait_logged_id(log, "after");
    struct scrape *sc = scrape_as(fx, "the-scrape");
    assert_int_equal(counter(sc, "taskd_log_rotations_total", "trigger", "signal"), 1);
    assert_int_equal(counter(sc, "taskd_log_rotations_total", "trigger", "size"), 0);
}

/* ---- a full disk under the log (needs root to mount a small tmpfs) ------------------------ */

static void detach(void *path)
{
    umount2(path, MNT_DETACH);
    free(path);
}

/* Fills the file system at `dir` with a ballast file; returns its path. */
static const char *fill(const char *dir)
{
    static char ballast[600];
    snprintf(ballast, sizeof(ballast), "%s/ballast", dir);
    FILE *f = fopen(ballast, "wb");
    assert_non_null(f);
    static char block[4096];
    while (fwrite(block, 1, sizeof(block), f) == sizeof(block))
        ;
    fclose(f);
    return ballast;
}

/* The request lines in `lf` whose id starts with `prefix`; *position gets the line number of
 * the last one. */
static int count_ids(const struct logfile *lf, const char *prefix, size_t *position)
{
    int n = 0;
    for (size_t i = 0; i < lf->count; i++) {
        const char *rid = fx_json_str(lf->lines[i].json, "request_id");
        if (rid && strncmp(rid, prefix, strlen(prefix)) == 0) {
            n++;
            if (position)
                *position = i;
        }
    }
    return n;
}

static void test_full_log_disk_keeps_error_lines_and_counts_the_lost_ones(void **state)
{
    struct fixture *fx = *state;
    const char *dir = path_in(fx, "logs");
    assert_int_equal(mkdir(dir, 0755), 0);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        skip_because("cannot make a private mount namespace (%s); needs root", strerror(errno));
    if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") < 0)
        skip_because("cannot mount a tmpfs (%s); needs root", strerror(errno));
    scratch_keep(strdup(dir), detach);
    assert_int_equal(taskd_proc_stop(&fx->proc, NULL), 0);
    char log[600];
    snprintf(log, sizeof(log), "%s/taskd.log", dir);
    /* A directory as the database: every data request is a 503 with its error line. */
    const char *notdb = path_in(fx, "notdb");
    assert_int_equal(mkdir(notdb, 0755), 0);
    const char *const args[] = {"--log-file", log, "--db", notdb, NULL};
    assert_int_equal(taskd_proc_set_args(&fx->proc, args), 0);
    assert_int_equal(taskd_proc_restart(&fx->proc), 0);
    http_close(fx->conn);
    fx->conn = NULL;
    request_with_id(fx, "/livez", "room", 200);
    wait_logged_id(log, "room");
    struct scrape *before = scrape_as(fx, "scrape-before");
    wait_logged_id(log, "scrape-before");

    const char *ballast = fill(dir);
    enum { INFO = 50, ERRORS = 10 };
    char id[32];
    for (int i = 0; i < INFO; i++) {
        snprintf(id, sizeof(id), "full-info-%02d", i);
        request_with_id(fx, "/livez", id, 200);
        if (i % 5 == 0) {
            snprintf(id, sizeof(id), "full-error-%02d", i / 5);
            request_with_id(fx, "/tasks/1", id, 503);
        }
    }
    fx_sleep_ms(200); /* several flushes fail meanwhile */
    assert_int_equal(unlink(ballast), 0);
    request_with_id(fx, "/livez", "room-again", 200);
    wait_logged_id(log, "room-again");
    struct scrape *after = scrape_as(fx, "scrape-after");

    struct logfile *lf = read_whole_lines(log, NULL);
    size_t last_error = 0, again = 0;
    assert_int_equal(count_ids(lf, "full-error-", &last_error), ERRORS);
    assert_int_equal(count_ids(lf, "room-again", &again), 1);
    assert_true(last_error < again); /* the kept error lines went out first */
    int info_kept = count_ids(lf, "full-info-", NULL);
    double dropped = counter(after, "taskd_log_dropped_lines_total", NULL, NULL) -
                     counter(before, "taskd_log_dropped_lines_total", NULL, NULL);
    assert_true(dropped >= 1);
    assert_int_equal(info_kept + (int)dropped, INFO); /* each info line written or counted */
    assert_true(counter(after, "taskd_log_write_errors_total", NULL, NULL) >= 1);
    assert_int_equal(counter(after, "taskd_log_pending_error_bytes", NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_rotates_by_size_and_keeps_every_line,
                                        setup_keep_50, fx_teardown),
        cmocka_unit_test_setup_teardown(test_log_rotation_keeps_at_most_max_files, setup_keep_2,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reopen_counts_as_a_rotation, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_full_log_disk_keeps_error_lines_and_counts_the_lost_ones, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
