/*
 * test_production_faults: the faults production sees (issue 12), for real. Each scenario must hold
 * on taskd, and its checks must fail on a service that does not fail closed (taskd
 * --unsafe-no-fault-detection; for a power cut, taskd --sync normal where full is expected).
 * Two have no naive counterpart and say why: a short write is absorbed by SQLite's own write
 * loop, and a paused process is the same process whatever it does about faults.
 *
 * The experiments are independent (each has its own work directory, taskd and port), so the
 * group setup runs them three at a time and each test then judges its journal: about 40 s for
 * 25 experiments instead of two minutes. Scenarios that mount file systems, attach loop
 * devices or switch users need root and are skipped otherwise, never passed. The last test
 * kills chaos with SIGKILL in the middle of two mounting experiments and checks that no
 * mount, loop device or helper process outlives it, and that `chaos cleanup` finds nothing.
 *
 * The sanitizer build runs the table checks only: test_experiments runs one experiment there.
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos_batch.h"
#include "chaos_journal.h"
#include "clock.h"
#include "fixture.h"
#include "builtin_experiments.h"
#include "scenarios.h"
#include "scratch.h"
#include "taskd_proc.h"
#include "temp_names.h"

#define PARALLEL 3
#define RUN_TIMEOUT_MS 480000 /* all of them */
#define NAIVE "--taskd-arg=--unsafe-no-fault-detection"

struct run_case {
    const char *scenario;
    int root;
    int naive;                /* expected to be caught (deviated) */
    const char *extra[4];     /* more chaos arguments */
    const char *must_fail[4]; /* checks that must fail when caught */
};

static struct run_case cases[] = {
    {"fsync-eio", 0, 0, {NULL}, {NULL}},
    {"fsync-eio", 0, 1, {NAIVE}, {"readiness dropped", "file state"}},
    {"write-eio", 0, 0, {NULL}, {NULL}},
    {"write-eio", 0, 1, {NAIVE}, {"readiness dropped", "file state"}},
    {"write-enospc", 0, 0, {NULL}, {NULL}},
    {"write-enospc", 0, 1, {NAIVE}, {"readiness dropped"}},
    {"short-write", 0, 0, {NULL}, {NULL}},
    {"corrupt-page", 0, 0, {NULL}, {NULL}},
    {"corrupt-page", 0, 1, {NAIVE}, {"service stays up on the fault", "file state"}},
    {"torn-wal", 0, 0, {NULL}, {NULL}},
    {"torn-wal", 0, 1, {NAIVE}, {"readiness dropped", "file state", "writes refused"}},
    {"older-copy", 0, 0, {NULL}, {NULL}},
    {"older-copy", 0, 1, {NAIVE}, {"readiness dropped", "file state", "writes refused"}},
    {"stale-wal", 0, 0, {NULL}, {NULL}},
    {"stale-wal", 0, 1, {NAIVE}, {"readiness dropped", "file state", "writes refused"}},
    {"pause", 0, 0, {"--fault", "3s"}, {NULL}}, /* longer than the 2 s request timeout */
    {"power-loss", 1, 0, {NULL}, {NULL}},
    {"power-loss", 1, 1, {"--taskd-arg=--sync=normal"}, {"no acknowledged write lost"}},
    {"power-loss-normal", 1, 0, {NULL}, {NULL}},
    {"readonly-remount", 1, 0, {NULL}, {NULL}},
    {"readonly-remount", 1, 1, {NAIVE}, {"readiness dropped", "file state"}},
    {"inodes", 1, 0, {NULL}, {NULL}},
    {"inodes", 1, 1, {NAIVE}, {"service stays up on the fault", "file state"}},
    {"owner", 1, 0, {NULL}, {NULL}},
    {"owner", 1, 1, {NAIVE}, {"readiness dropped", "file state"}},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))
static struct chaos_run runs[NCASES];

static char work[256]; /* short: every path below it fits the buffers */

static int sanitizer_build(void)
{
    const char *s = getenv("TASKBENCH_SANITIZE");
    return s && *s;
}

static int run_all(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(work, sizeof(work), "%s/chaos-faults-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work) || chmod(work, 0711) < 0) /* owner's taskd runs as nobody below it */
        return -1;
    if (sanitizer_build())
        return 0;
    for (size_t i = 0; i < NCASES; i++) {
        const struct run_case *c = &cases[i];
        static const char *const common[] = {"--steady",
                                             "1s",
                                             "--fault",
                                             "2s",
                                             "--probe-interval",
                                             "50ms",
                                             "--max-p99",
                                             "1s", /* the machine is shared: a loose steady state */
                                             "--taskd-arg=--check-interval=50ms",
                                             NULL};
        size_t n = 0;
        runs[i].args[n++] = c->scenario;
        for (size_t k = 0; common[k]; k++)
            runs[i].args[n++] = common[k];
        for (size_t k = 0; c->extra[k]; k++)
            runs[i].args[n++] = c->extra[k];
        runs[i].args[n] = NULL;
        runs[i].skip = c->root && geteuid() != 0;
    }
    chaos_batch_run(runs, NCASES, PARALLEL, work, RUN_TIMEOUT_MS);
    return 0;
}

static int remove_all(void **state)
{
    (void)state;
    taskd_proc_remove_tree(work);
    scratch_release_all();
    return 0;
}

/* The case of `scenario` (naive or not); skips when it needs root and this is not root. */
static size_t find_case(const char *scenario, int naive)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct run_case *c = &cases[i];
        if (strcmp(c->scenario, scenario) != 0 || c->naive != naive)
            continue;
        if (c->root && geteuid() != 0) {
            print_message("# skipped: %s needs root (mounts, loop devices or another user)\n",
                          scenario);
            skip();
        }
        return i;
    }
    fx_fail_at(__FILE__, __LINE__, "no case for %s", scenario);
    return 0;
}

static const cJSON *journal_of(const struct run_case *c, const struct chaos_run *r,
                               const char **text)
{
    char path[600];
    chaos_batch_journal_path(r, path, sizeof(path));
    *text = chaos_batch_output(r);
    const cJSON *exp = r->ran ? cj_load_one(path) : NULL;
    if (!exp)
        fx_fail_at(__FILE__, __LINE__, "%s wrote no journal (exit %d): %s", c->scenario,
                   r->exit_status, *text);
    return exp;
}

static const cJSON *expect_held(const char *scenario)
{
    size_t i = find_case(scenario, 0);
    const char *text;
    const cJSON *exp = journal_of(&cases[i], &runs[i], &text);
    if (runs[i].exit_status != 0 || strcmp(cj_status(exp), "passed") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s did not hold (exit %d):\n%s", scenario,
                   runs[i].exit_status, text);
    const cJSON *writes = cj_member(exp, "writes");
    assert_true(cj_number(writes, "acknowledged") > 0);
    assert_true(cj_number(writes, "unexpected") == 0);
    assert_true(cJSON_IsTrue(cj_member(writes, "audited")));
    assert_string_equal(cj_member(cj_member(exp, "observed"), "integrity_check")->valuestring,
                        "ok");
    const cJSON *detect = cj_member(exp, "time_to_detect_s");
    print_message("# %s: detected in %.3f s, recovered in %.3f s, %.0f writes acknowledged, "
                  "%.0f refused, %.0f lost\n",
                  scenario, cJSON_IsNumber(detect) ? detect->valuedouble : -1.0,
                  cj_number(exp, "time_to_recover_s"), cj_number(writes, "acknowledged"),
                  cj_number(writes, "failed"), cj_number(writes, "lost"));
    return exp;
}

static void expect_caught(const char *scenario)
{
    size_t i = find_case(scenario, 1);
    const struct run_case *c = &cases[i];
    const char *text;
    const cJSON *exp = journal_of(c, &runs[i], &text);
    if (runs[i].exit_status != 1 || strcmp(cj_status(exp), "deviated") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s was not caught (exit %d):\n%s", scenario,
                   runs[i].exit_status, text);
    for (size_t k = 0; c->must_fail[k]; k++) {
        if (cj_check_passed(exp, c->must_fail[k]) != 0)
            fx_fail_at(__FILE__, __LINE__, "%s: the check '%s' did not fail:\n%s", scenario,
                       c->must_fail[k], text);
    }
}

static double lost_of(const cJSON *exp)
{
    return cj_number(cj_member(exp, "writes"), "lost");
}

/* ---- the table ----------------------------------------------------------------------------- */

static void test_every_fault_of_issue_12_is_a_scenario_with_a_mechanism(void **state)
{
    (void)state;
    static const char *const names[] = {"fsync-eio",    "write-eio",  "write-enospc",
                                        "short-write",  "power-loss", "power-loss-normal",
                                        "corrupt-page", "torn-wal",   "older-copy",
                                        "stale-wal",    "pause",      "readonly-remount",
                                        "inodes",       "owner"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct scenario *sc = builtin_experiment_find(names[i]);
        if (!sc)
            fx_fail_at(__FILE__, __LINE__, "no scenario %s", names[i]);
        assert_non_null(sc->mech);
        assert_true(*sc->summary && *sc->mechanism && *sc->rollback && *sc->expected);
    }
    /* Only the demonstration of --sync normal may lose writes; a torn -wal at most one
     * transaction of taskd's writer. */
    assert_true(builtin_experiment_find("power-loss-normal")->expect.max_lost == SCENARIO_ANY_LOSS);
    assert_int_equal(builtin_experiment_find("torn-wal")->expect.max_lost, 3 * 128);
    assert_int_equal(builtin_experiment_find("power-loss")->expect.max_lost, 0);
}

/* ---- taskd holds --------------------------------------------------------------------------- */

#define HOLDS(fn, name)                                                                            \
    static void test_##fn##_holds_on_taskd(void **state)                                           \
    {                                                                                              \
        (void)state;                                                                               \
        const cJSON *exp = expect_held(name);                                                      \
        assert_true(lost_of(exp) == 0);                                                            \
    }
#define CAUGHT(fn, name)                                                                           \
    static void test_##fn##_catches_a_service_that_does_not_fail_closed(void **state)              \
    {                                                                                              \
        (void)state;                                                                               \
        expect_caught(name);                                                                       \
    }

HOLDS(fsync_eio, "fsync-eio")
CAUGHT(fsync_eio, "fsync-eio")
HOLDS(write_eio, "write-eio")
CAUGHT(write_eio, "write-eio")
HOLDS(write_enospc, "write-enospc")
CAUGHT(write_enospc, "write-enospc")
HOLDS(short_write, "short-write")
HOLDS(corrupt_page, "corrupt-page")
CAUGHT(corrupt_page, "corrupt-page")
CAUGHT(torn_wal, "torn-wal")
HOLDS(older_copy, "older-copy")
CAUGHT(older_copy, "older-copy")
HOLDS(stale_wal, "stale-wal")
CAUGHT(stale_wal, "stale-wal")
HOLDS(pause, "pause")
HOLDS(power_loss_full, "power-loss")
CAUGHT(power_loss_full, "power-loss")
HOLDS(readonly_remount, "readonly-remount")
CAUGHT(readonly_remount, "readonly-remount")
HOLDS(inodes, "inodes")
CAUGHT(inodes, "inodes")
HOLDS(owner, "owner")
CAUGHT(owner, "owner")

/* A torn -wal may cost the acknowledged writes of the transactions it cut, and the audit names
 * them: every lost write of the journal's audit is listed, at most three batches. */
static void test_torn_wal_holds_on_taskd_and_the_audit_lists_what_it_lost(void **state)
{
    (void)state;
    const cJSON *exp = expect_held("torn-wal");
    double lost = lost_of(exp);
    assert_true(lost <= 3 * 128);
    const cJSON *audit = cj_member(exp, "audit");
    assert_true(cJSON_IsObject(audit));
    assert_true(cj_number(audit, "lost") == lost);
    int listed = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cj_member(audit, "findings"))
    {
        listed += strcmp(cj_member(f, "kind")->valuestring, "lost") == 0;
    }
    assert_true(listed == lost); /* each one named: id, ledger line, what was expected */
    print_message("# torn-wal: the audit names %d lost acknowledged write%s\n", listed,
                  listed == 1 ? "" : "s");
}

/* The same power cut: --sync normal loses acknowledged writes, as SQLite documents for WAL
 * with synchronous=NORMAL, and the audit counts them; --sync full (above) loses none. */
static void test_power_loss_under_sync_normal_loses_acknowledged_writes(void **state)
{
    (void)state;
    const cJSON *exp = expect_held("power-loss-normal");
    assert_true(lost_of(exp) > 0);
    assert_int_equal(cj_check_passed(exp, "acknowledged writes lost (counted)"), 1);
}

/* ---- clean-up survives chaos being killed -------------------------------------------------- */

/* Loop devices whose backing file is under `dir`. */
static int loops_under(const char *dir)
{
    int n = 0;
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "loop", 4) != 0)
            continue;
        char path[300], backing[PATH_MAX] = "";
        snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(backing, sizeof(backing), f) && strncmp(backing, dir, strlen(dir)) == 0)
            n++;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* Mounts (in this namespace) and processes whose command line mention `dir`. */
static int mounts_under(const char *dir)
{
    char *text = taskd_proc_read_file("/proc/self/mountinfo", NULL);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, dir)); p++)
        n++;
    free(text);
    return n;
}

static int processes_under(const char *dir)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300];
        size_t len;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        char *cmd =
            e->d_name[0] >= '1' && e->d_name[0] <= '9' ? taskd_proc_read_file(path, &len) : NULL;
        for (size_t i = 0; cmd && i + 1 < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        n += cmd && strstr(cmd, dir) != NULL;
        free(cmd);
    }
    if (d)
        closedir(d);
    return n;
}

static void test_sigkill_of_chaos_leaves_no_mount_loop_device_or_helper(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("# skipped: the mounting scenarios need root\n");
        skip();
    }
    static const char *const scenarios[] = {"power-loss", "readonly-remount"};
    pid_t pids[2];
    char dirs[2][512], record[2][600];
    for (size_t i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof(dirs[i]), "%s/killed-%zu", work, i);
        snprintf(record[i], sizeof(record[i]), "%s/.chaos-cleanup", dirs[i]);
        char out[600], err[600];
        snprintf(out, sizeof(out), "%s.out", dirs[i]);
        snprintf(err, sizeof(err), "%s.err", dirs[i]);
        const char *args[] = {"run", scenarios[i], "--work-dir", dirs[i], "--steady",
                              "30s", "--fault",    "5s",         "-q",    NULL};
        pids[i] = taskd_proc_spawn_program(taskd_proc_tool_bin("chaos"), args, out, err);
        assert_true(pids[i] > 0);
    }
    /* Killed in the steady state: its mounts are made, taskd and lossyfs run. */
    for (size_t i = 0; i < 2; i++) {
        struct stat st;
        for (int t = 0; t < 500 && (stat(record[i], &st) < 0 || st.st_size == 0); t++)
            fx_sleep_ms(20);
        assert_int_equal(stat(record[i], &st), 0);
    }
    fx_sleep_ms(1500);
    assert_true(processes_under(work) >= 4); /* two chaos, two taskd, a lossyfs */
    for (size_t i = 0; i < 2; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
    int procs = -1, loops = -1, mounts = -1;
    for (int t = 0; t < 250; t++) { /* the kernel tears the namespace down after the last exit */
        procs = processes_under(work);
        loops = loops_under(work);
        mounts = mounts_under(work);
        if (procs == 0 && loops == 0 && mounts == 0)
            break;
        fx_sleep_ms(20);
    }
    assert_int_equal(procs, 0);
    assert_int_equal(loops, 0);
    assert_int_equal(mounts, 0);
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = {"cleanup", "--work-dir", dirs[i], NULL};
        int status;
        char *out, *err;
        assert_int_equal(taskd_proc_run_program(taskd_proc_tool_bin("chaos"), args, NULL, 30000,
                                                &status, &out, &err),
                         0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_non_null(strstr(out, "chaos cleanup: 0 resources left by an earlier run"));
        free(out);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest table[] = {
        cmocka_unit_test(test_every_fault_of_issue_12_is_a_scenario_with_a_mechanism),
    };
    const struct CMUnitTest experiments[] = {
        cmocka_unit_test(test_fsync_eio_holds_on_taskd),
        cmocka_unit_test(test_fsync_eio_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_write_eio_holds_on_taskd),
        cmocka_unit_test(test_write_eio_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_write_enospc_holds_on_taskd),
        cmocka_unit_test(test_write_enospc_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_short_write_holds_on_taskd),
        cmocka_unit_test(test_corrupt_page_holds_on_taskd),
        cmocka_unit_test(test_corrupt_page_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_torn_wal_holds_on_taskd_and_the_audit_lists_what_it_lost),
        cmocka_unit_test(test_torn_wal_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_older_copy_holds_on_taskd),
        cmocka_unit_test(test_older_copy_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_stale_wal_holds_on_taskd),
        cmocka_unit_test(test_stale_wal_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_pause_holds_on_taskd),
        cmocka_unit_test(test_power_loss_full_holds_on_taskd),
        cmocka_unit_test(test_power_loss_full_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_power_loss_under_sync_normal_loses_acknowledged_writes),
        cmocka_unit_test(test_readonly_remount_holds_on_taskd),
        cmocka_unit_test(test_readonly_remount_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_inodes_holds_on_taskd),
        cmocka_unit_test(test_inodes_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_owner_holds_on_taskd),
        cmocka_unit_test(test_owner_catches_a_service_that_does_not_fail_closed),
        cmocka_unit_test(test_sigkill_of_chaos_leaves_no_mount_loop_device_or_helper),
    };
    int failed = cmocka_run_group_tests_name("table", table, NULL, NULL);
    if (sanitizer_build()) {
        print_message("# sanitizer build: the table only; the experiments run in the plain build "
                      "(chaos/test_experiments runs one under the sanitizers)\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("experiments", experiments, run_all, remove_all);
}
