/*
 * test_experiments: the chaos tool, for real. Every scenario runs against a real taskd under load
 * from loadgen's engine and must pass its expected-behaviour check; and every scenario's check
 * must fail against a taskd that does not fail closed (--unsafe-no-fault-detection, or for
 * kill-9 a restart hook that wipes the database), so the checks are shown to catch what they
 * claim to. chaos's command line is tested as a user meets it (list, --dry-run, usage errors);
 * the pieces under it have unit tests in tests/unit/chaos/.
 *
 * Under the sanitizer build only one experiment runs (the rest repeat the same code paths
 * and would double the suite's time); scenarios that mount file systems need root.
 */
#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos_journal.h"
#include "fixture.h"
#include "builtin_experiments.h"
#include "scenarios.h"
#include "scratch.h"
#include "skip.h"
#include "taskd_proc.h"
#include "temp_names.h"

#define CHAOS_TIMEOUT_MS 60000

static char work[1024]; /* short enough that every path below it fits in PATH_MAX */

static int make_work(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(work, sizeof(work), "%s/chaos-test-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work))
        return -1;
    char real[PATH_MAX];
    if (!realpath(work, real) || strlen(real) >= sizeof(work))
        return -1;
    memcpy(work, real, strlen(real) + 1);
    return 0;
}

static int remove_work(void **state)
{
    (void)state;
    taskd_proc_remove_tree(work);
    scratch_release_all();
    return 0;
}

static int sanitizer_build(void)
{
    const char *s = getenv("TASKBENCH_SANITIZE");
    return s && *s;
}

static const char *in_work(const char *name)
{
    char *p = scratch_keep(malloc(PATH_MAX), scratch_free);
    snprintf(p, PATH_MAX, "%s/%s", work, name);
    return p;
}

/* Runs chaos with args; returns its exit status, output kept in *out / *err (scratch). */
static int run_chaos(const char *const *args, char **out, char **err)
{
    int status;
    char *o = NULL, *e = NULL;
    int rc = taskd_proc_run_program(taskd_proc_tool_bin("chaos"), args, NULL, CHAOS_TIMEOUT_MS,
                                    &status, &o, &e);
    scratch_keep(o, scratch_free);
    scratch_keep(e, scratch_free);
    assert_int_equal(rc, 0);
    *out = o ? o : "";
    *err = e ? e : "";
    if (!WIFEXITED(status))
        fx_fail_at(__FILE__, __LINE__, "chaos did not exit normally (wait status 0x%x): %s",
                   (unsigned)status, *err);
    return WEXITSTATUS(status);
}

/* ---- the command line ----------------------------------------------------------------- */

static void test_list_names_every_scenario(void **state)
{
    (void)state;
    const char *args[] = {"list", NULL};
    char *out, *err;
    assert_int_equal(run_chaos(args, &out, &err), 0);
    for (size_t i = 0; i < builtin_experiments_count(); i++) {
        char line[64];
        snprintf(line, sizeof(line), "%s ", builtin_experiment_at(i)->name);
        assert_non_null(strstr(out, line));
    }
    assert_non_null(strstr(out, "acknowledged writes lost: at most 0"));
}

static void test_dry_run_prints_the_plan_and_touches_nothing(void **state)
{
    (void)state;
    const char *dir = in_work("never-made");
    const char *args[] = {"run", "all", "--dry-run", "--work-dir", dir, NULL};
    char *out, *err;
    assert_int_equal(run_chaos(args, &out, &err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), -1);
    assert_int_equal(errno, ENOENT);
    char expect[PATH_MAX + 64];
    snprintf(expect, sizeof(expect), "rename %s/db-deleted/data/tasks.db -> %s/db-deleted/aside",
             dir, dir);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof(expect), "mount -t tmpfs -o size=16MiB tmpfs %s/disk-full/data", dir);
    assert_non_null(strstr(out, expect));
    assert_non_null(strstr(out, "kill-9: the service is killed with SIGKILL under load"));
}

static void test_usage_errors_exit_2_with_a_sentence(void **state)
{
    (void)state;
    char *out, *err;
    const char *unknown[] = {"run", "db-gone", "--work-dir", work, NULL};
    assert_int_equal(run_chaos(unknown, &out, &err), 2);
    assert_non_null(strstr(err, "unknown experiment 'db-gone'"));
    const char *bad_fault[] = {"run", "kill-9", "--fault", "5", "--work-dir", work, NULL};
    assert_int_equal(run_chaos(bad_fault, &out, &err), 2);
    assert_non_null(strstr(err, "--fault '5' is not a duration"));
    const char *none[] = {"run", "--work-dir", work, NULL};
    assert_int_equal(run_chaos(none, &out, &err), 2);
    const char *db_alone[] = {"run", "kill-9", "--db", "x.db", "--work-dir", work, NULL};
    assert_int_equal(run_chaos(db_alone, &out, &err), 2);
    assert_non_null(strstr(err, "go with --target"));
    const char *nothing[] = {"fly", NULL};
    assert_int_equal(run_chaos(nothing, &out, &err), 2);
}

static void test_a_database_outside_the_work_dir_is_refused(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"run",        "db-deleted",
                          "--target",   "http://127.0.0.1:9",
                          "--db",       "/etc/tasks.db",
                          "--work-dir", work,
                          "-q",         NULL};
    assert_int_equal(run_chaos(args, &out, &err), 2);
    assert_non_null(strstr(out, "refusing to touch /etc/tasks.db"));
    assert_non_null(strstr(out, "outside the work directory"));
}

/* A port that was free a moment ago (the hooks' taskd needs a fixed one). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- experiments --------------------------------------------------------------------------- */

/* Runs one experiment with short windows; returns chaos's exit status and the experiment's
 * journal object. extra: more arguments (NULL-terminated, may be NULL). */
static int experiment(const char *scenario, const char *const *extra, const cJSON **out_exp,
                      char **out_text)
{
    const char *args[40] = {
        "run",     scenario,    "--work-dir",
        work,      "--steady",  "1s",
        "--fault", "2s",        "--probe-interval",
        "50ms",    "--journal", in_work("journal.json"),
        "-q",      "--max-p99", "1s"}; /* the machine is shared: a loose steady state */
    size_t n = 15;
    int external = 0;
    for (size_t i = 0; extra && extra[i]; i++) {
        external |= strcmp(extra[i], "--target") == 0;
        args[n++] = extra[i];
    }
    if (!external)
        args[n++] = "--taskd-arg=--check-interval=50ms";
    args[n] = NULL;
    char *out, *err;
    int status = run_chaos(args, &out, &err);
    *out_text = out;
    char *text = taskd_proc_read_file(in_work("journal.json"), NULL);
    if (!text)
        fx_fail_at(__FILE__, __LINE__, "chaos wrote no journal (exit %d): %s %s", status, out, err);
    cJSON *journal = scratch_keep(cJSON_Parse(text), scratch_json_delete);
    free(text);
    assert_non_null(journal);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(journal, "schema")->valuestring,
                        "taskbench.chaos/1");
    const cJSON *list = cj_member(journal, "experiments");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    *out_exp = cJSON_GetArrayItem(list, 0);
    return status;
}

static void expect_held(const char *scenario, const char *const *extra)
{
    const cJSON *exp;
    char *text;
    int status = experiment(scenario, extra, &exp, &text);
    if (status != 0 || strcmp(cj_status(exp), "passed") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s did not hold (exit %d):\n%s", scenario, status, text);
    const cJSON *writes = cj_member(exp, "writes");
    double detect = cj_number(exp, "time_to_detect_s"),
           recover = cj_number(exp, "time_to_recover_s");
    assert_true(detect >= 0 && detect <= 2.0);
    assert_true(recover >= 0 && recover <= 10.0);
    assert_true(cj_number(writes, "acknowledged") > 0);
    assert_true(cj_number(writes, "lost") == 0);
    assert_true(cj_number(writes, "unexpected") == 0);
    assert_true(cJSON_IsTrue(cj_member(writes, "audited")));
    assert_string_equal(cj_member(cj_member(exp, "observed"), "integrity_check")->valuestring,
                        "ok");
    const cJSON *c;
    cJSON_ArrayForEach(c, cj_member(exp, "checks"))
        assert_true(cJSON_IsTrue(cj_member(c, "passed")));
    print_message("# %s: detected in %.3f s, recovered in %.3f s, %.0f writes acknowledged, "
                  "%.0f refused, %.0f lost\n",
                  scenario, detect, recover, cj_number(writes, "acknowledged"),
                  cj_number(writes, "failed"), cj_number(writes, "lost"));
}

/* Against a taskd that does not fail closed the verdict must be "deviated", with every check
 * in `must_fail` failed. */
static void expect_caught(const char *scenario, const char *const *extra,
                          const char *const *must_fail)
{
    const cJSON *exp;
    char *text;
    int status = experiment(scenario, extra, &exp, &text);
    if (status != 1 || strcmp(cj_status(exp), "deviated") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s was not caught (exit %d):\n%s", scenario, status, text);
    for (size_t i = 0; must_fail[i]; i++) {
        if (cj_check_passed(exp, must_fail[i]) != 0)
            fx_fail_at(__FILE__, __LINE__, "%s: the check '%s' did not fail:\n%s", scenario,
                       must_fail[i], text);
    }
    assert_true(cJSON_IsTrue(cj_member(exp, "deviated")));
}

static const char *const naive[] = {"--taskd-arg=--unsafe-no-fault-detection", NULL};

/* Scenarios that mount file systems need root; elsewhere they are skipped, saying so. */
static void skip_unless_root(void)
{
    if (geteuid() != 0)
        skip_because("this scenario mounts file systems and needs root");
}

#define SCENARIO_TESTS(fn, name, root, ...)                                                        \
    static void test_##fn##_holds(void **state)                                                    \
    {                                                                                              \
        (void)state;                                                                               \
        if (root)                                                                                  \
            skip_unless_root();                                                                    \
        expect_held(name, NULL);                                                                   \
    }                                                                                              \
    static void test_##fn##_catches_a_naive_taskd(void **state)                                    \
    {                                                                                              \
        (void)state;                                                                               \
        if (root)                                                                                  \
            skip_unless_root();                                                                    \
        static const char *const must_fail[] = {__VA_ARGS__, NULL};                                \
        expect_caught(name, naive, must_fail);                                                     \
    }

SCENARIO_TESTS(volume_mount, "volume-mount", 0, "service stays up on the fault", "file state")
SCENARIO_TESTS(db_missing, "db-missing", 0, "service stays up on the fault", "file state")
SCENARIO_TESTS(db_deleted, "db-deleted", 0, "readiness dropped", "file state", "writes refused")
SCENARIO_TESTS(wal_deleted, "wal-deleted", 0, "detected", "no acknowledged write lost")
SCENARIO_TESTS(readonly, "readonly", 1, "file state", "fault bit")
SCENARIO_TESTS(disk_full, "disk-full", 1, "readiness dropped")
SCENARIO_TESTS(db_locked, "db-locked", 0, "readiness dropped")
SCENARIO_TESTS(corrupt_header, "corrupt-header", 0, "file state")

/* A service that is not healthy to begin with is not broken further: nothing is injected. */
static void test_a_failed_steady_state_injects_nothing(void **state)
{
    (void)state;
    static const char *const impossible[] = {"--max-p99", "1us", NULL};
    const cJSON *exp;
    char *text;
    assert_int_equal(experiment("db-deleted", impossible, &exp, &text), 1);
    assert_string_equal(cj_status(exp), "aborted");
    assert_int_equal(cj_check_passed(exp, "steady state"), 0);
    assert_int_equal(cj_check_passed(exp, "detected"), -1);
    assert_true(cJSON_IsNull(cj_member(cj_member(exp, "times"), "injected_s")));
    struct stat st;
    assert_int_equal(stat(in_work("db-deleted/data/tasks.db"), &st), 0);
    assert_int_equal(stat(in_work("db-deleted/aside/tasks.db"), &st), -1);
}

static void test_kill9_holds(void **state)
{
    (void)state;
    expect_held("kill-9", NULL);
}

/* A taskd the user runs, through hooks. The handicap wipes the database on every start (a
 * container without a volume): the audit must find the acknowledged writes gone. */
static void kill9_with_hooks(int wipe)
{
    int port = free_port();
    char url[64], wipe_cmd[PATH_MAX * 3 + 64] = "", start[PATH_MAX * 6], stop[600], kill9[600];
    const char *db = in_work("ext/tasks.db"), *pid = in_work("ext.pid");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    if (wipe)
        snprintf(wipe_cmd, sizeof(wipe_cmd), "rm -f %s %s-wal %s-shm;", db, db, db);
    snprintf(start, sizeof(start),
             "mkdir -p %s/ext && %s (%s --listen 127.0.0.1:%d --db %s --check-interval 50ms "
             "--log-file %s/ext.log >/dev/null 2>&1 & echo $! > %s)",
             work, wipe_cmd, taskd_proc_bin(), port, db, work, pid);
    snprintf(stop, sizeof(stop),
             "p=$(cat %s); kill $p; while kill -0 $p 2>/dev/null; do sleep 0.05; done", pid);
    snprintf(kill9, sizeof(kill9), "kill -9 $(cat %s)", pid);
    const char *extra[] = {"--target",   url,  "--db",       db,    "--start-cmd", start,
                           "--stop-cmd", stop, "--kill-cmd", kill9, NULL};
    if (wipe) {
        static const char *const must_fail[] = {"no acknowledged write lost", NULL};
        expect_caught("kill-9", extra, must_fail);
    } else {
        expect_held("kill-9", extra);
    }
    char *text = taskd_proc_read_file(pid, NULL);
    if (text) {
        char *end;
        long child = strtol(text, &end, 10);
        if (end != text && child > 1)
            kill((pid_t)child, SIGKILL);
        free(text);
    }
}

static void test_kill9_of_a_user_run_taskd_holds(void **state)
{
    (void)state;
    kill9_with_hooks(0);
}

static void test_kill9_catches_a_restart_that_loses_data(void **state)
{
    (void)state;
    kill9_with_hooks(1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, make_work, remove_work)

static void skipped_in_the_sanitizer_build(void **state)
{
    (void)state;
    skip_because("one experiment runs under ASan+UBSan (db-deleted); this one runs in the plain "
                 "build");
}

int main(void)
{
    const struct CMUnitTest command_line[] = {
        T(test_list_names_every_scenario),
        T(test_dry_run_prints_the_plan_and_touches_nothing),
        T(test_usage_errors_exit_2_with_a_sentence),
        T(test_a_database_outside_the_work_dir_is_refused),
    };
    const struct CMUnitTest experiments[] = {
        T(test_a_failed_steady_state_injects_nothing),
        T(test_volume_mount_holds),
        T(test_volume_mount_catches_a_naive_taskd),
        T(test_db_missing_holds),
        T(test_db_missing_catches_a_naive_taskd),
        T(test_db_deleted_holds),
        T(test_db_deleted_catches_a_naive_taskd),
        T(test_wal_deleted_holds),
        T(test_wal_deleted_catches_a_naive_taskd),
        T(test_readonly_holds),
        T(test_readonly_catches_a_naive_taskd),
        T(test_disk_full_holds),
        T(test_disk_full_catches_a_naive_taskd),
        T(test_db_locked_holds),
        T(test_db_locked_catches_a_naive_taskd),
        T(test_corrupt_header_holds),
        T(test_corrupt_header_catches_a_naive_taskd),
        T(test_kill9_holds),
        T(test_kill9_of_a_user_run_taskd_holds),
        T(test_kill9_catches_a_restart_that_loses_data),
    };
    int failed = cmocka_run_group_tests_name("command line", command_line, NULL, NULL);
    if (sanitizer_build()) {
        /* One experiment (db-deleted) under ASan+UBSan; the others repeat the same code paths
         * and would double the suite's time, so they are skipped here, saying so. */
        enum { N = sizeof(experiments) / sizeof(experiments[0]) };
        struct CMUnitTest sanitized[N];
        for (size_t i = 0; i < N; i++) {
            sanitized[i] = experiments[i];
            if (strcmp(experiments[i].name, "test_db_deleted_holds") != 0)
                sanitized[i].test_func = skipped_in_the_sanitizer_build;
        }
        return failed + cmocka_run_group_tests_name("experiments", sanitized, NULL, NULL);
    }
    return failed + cmocka_run_group_tests_name("experiments", experiments, NULL, NULL);
}
