/*
 * test_service: chaos on a service that is not taskd (issue 12, "Any service"), for real.
 *
 * The blog's Flask app (examples/flask-tasks) under the built-in experiments, aimed at it with
 * its service file: volume-mount and db-deleted deviate for the reasons a reader of the blog
 * knows — the app dies at start on a directory ("Failed to initialize database"), and keeps
 * answering (every write a 500) with /health 200 when the directory appears while it serves or
 * its database is deleted — and db-missing shows the acknowledged writes it loses to the empty
 * database it creates; the example experiment file (everything in one file) catches its error
 * counter that never counts a 500. The same experiment files, read from disk as a user would run
 * them, hold on taskd, and so does one whose load is a loadgen targets file. A foreground command
 * given with
 * --service-cmd is supervised (started, its output collected, stopped with SIGTERM, killed with
 * SIGKILL); an observe-only experiment asserts nothing and says "observed"; and a root-only
 * experiment run without root is skipped, never passed.
 *
 * The runs are independent, so the group setup runs them three at a time (chaos_batch) and each
 * test judges its journal. The sanitizer build runs a reduced set (the chaos code paths of a
 * foreign service, once), saying so for the rest; without python3-flask the Flask runs skip.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
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
#include "fixture.h"
#include "scratch.h"
#include "skip.h"
#include "taskd_proc.h"
#include "temp_names.h"

#define PARALLEL 3
#define BATCH_TIMEOUT_MS 300000
#define FLASK_SERVICE "examples/flask-tasks/chaos-service.json"

/* The windows of every run: short, and a loose steady state on a shared machine. The Flask app
 * answers "database is locked" now and then under concurrent writes (it has no busy timeout),
 * so its runs tolerate 15 % errors before the fault (6 % was seen at a load average of 27). The
 * sanitizer build's steady state is 2 s: at a load average of 34 its load engine completed no
 * request in the first second. */
#define WINDOWS "--fault", "2s", "--probe-interval", "50ms", "--max-p99", "2s"

enum run_id {
    FLASK_VOLUME_MOUNT,
    FLASK_DB_DELETED,
    FLASK_DB_MISSING,
    FLASK_VOLUME_MOUNT_LIVE,
    FLASK_WAL_DELETED,
    FLASK_EXAMPLE_FILE,
    TASKD_VOLUME_MOUNT_FILE,
    TASKD_DB_DELETED_FILE,
    TASKD_DB_MISSING_FILE,
    TASKD_VOLUME_MOUNT_LIVE_FILE,
    TASKD_EXAMPLE_FILE,
    TASKD_TARGETS_LOAD,
    SUPERVISED_COMMAND,
    OBSERVE_ONLY,
    NRUNS
};

static struct chaos_run runs[NRUNS];
static char work[256];
static char root_dir[PATH_MAX];
static char paths[NRUNS][PATH_MAX + 64]; /* file arguments, absolute */
static char service_cmd[PATH_MAX + 256];
static int flask_missing;

static int sanitizer_build(void)
{
    const char *s = getenv("TASKBENCH_SANITIZE");
    return s && *s;
}

/* The sanitizer build runs one Flask experiment and the pieces of chaos only this test exercises
 * (a targets file's load, a supervised command, observe-only). */
static int in_reduced_set(enum run_id id)
{
    return id == FLASK_DB_DELETED || id == TASKD_TARGETS_LOAD || id == SUPERVISED_COMMAND ||
           id == OBSERVE_ONLY;
}

static int is_flask(enum run_id id)
{
    return id <= FLASK_EXAMPLE_FILE;
}

static const char *in_root(enum run_id id, const char *relative)
{
    snprintf(paths[id], sizeof(paths[id]), "%s/%s", root_dir, relative);
    return paths[id];
}

static void set_args(enum run_id id, const char *const *args)
{
    size_t n = 0;
    for (; args[n]; n++)
        runs[id].args[n] = args[n];
    static const char *const windows[] = {WINDOWS, NULL};
    for (size_t k = 0; windows[k]; k++)
        runs[id].args[n++] = windows[k];
    runs[id].args[n++] = "--steady";
    runs[id].args[n++] = sanitizer_build() ? "2s" : "1s";
    runs[id].args[n] = NULL;
}

/* An observe-only experiment written by the user: nothing asserted, everything reported. */
static const char *write_observe_only(void)
{
    static char path[300];
    snprintf(path, sizeof(path), "%s/observe.json", work);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs("{\"schema\":\"taskbench.chaos.experiment/1\",\"name\":\"watch-a-pause\",\n"
          " \"summary\":\"what does taskd do when paused?\",\n"
          " \"fault\":{\"mechanism\":\"pause\"},\n"
          " \"expect\":{\"preset\":\"observe-only\"}}\n",
          f);
    fclose(f);
    return path;
}

/* An experiment whose load is a loadgen targets file (JSON lines, relative to the experiment
 * file): creates that expect 201 and are marked for the ledger, and reads of a page. */
static const char *write_targets_experiment(void)
{
    static char path[300];
    char targets[300];
    snprintf(targets, sizeof(targets), "%s/taskd.targets", work);
    snprintf(path, sizeof(path), "%s/targets.json", work);
    FILE *t = fopen(targets, "w");
    if (!t)
        return NULL;
    fputs("{\"name\":\"create\",\"method\":\"POST\",\"url\":\"/tasks\",\"headers\":"
          "{\"Content-Type\":\"application/json\"},\"body\":\"{\\\"task\\\":\\\"{{run_tag}}-"
          "{{seq}}\\\"}\",\"weight\":2,\"expect\":[201],\"ledger\":\"create\"}\n"
          "{\"name\":\"page\",\"url\":\"/tasks?limit=10\"}\n",
          t);
    fclose(t);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs("{\"schema\":\"taskbench.chaos.experiment/1\",\"name\":\"targets-db-deleted\",\n"
          " \"summary\":\"db-deleted under a targets file's load\",\n"
          " \"fault\":{\"mechanism\":\"move-away\",\"when\":\"live\"},\n"
          " \"expect\":{\"preset\":\"fail-closed\"},\n"
          " \"load\":{\"rate\":100,\"targets\":\"taskd.targets\"}}\n",
          f);
    fclose(f);
    return path;
}

static int flask_usable(void)
{
    const char *args[] = {"-c", "import flask", NULL};
    int status;
    char *out = NULL, *err = NULL;
    int rc = taskd_proc_run_program("/usr/bin/python3", args, NULL, 20000, &status, &out, &err);
    free(out);
    free(err);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int run_all(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR"), *root = getenv("TASKBENCH_ROOT");
    snprintf(work, sizeof(work), "%s/chaos-service-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work) || !realpath(root && *root ? root : ".", root_dir))
        return -1;
    flask_missing = !flask_usable();
    static char flask_service[PATH_MAX + 64];
    snprintf(flask_service, sizeof(flask_service), "%s/%s", root_dir, FLASK_SERVICE);
    snprintf(service_cmd, sizeof(service_cmd),
             "%s --listen 127.0.0.1:{port} --db {db} --check-interval 50ms", taskd_proc_bin());
    static const char *const flask_runs[] = {"volume-mount", "db-deleted", "db-missing",
                                             "volume-mount-live", "wal-deleted"};
    for (int i = 0; i < 5; i++) {
        const char *a[] = {flask_runs[i],       "--service", flask_service,
                           "--max-error-ratio", "0.15",      NULL};
        set_args((enum run_id)i, a);
    }
    const char *example = in_root(FLASK_EXAMPLE_FILE, "examples/flask-tasks/db-deleted.json");
    set_args(FLASK_EXAMPLE_FILE, (const char *[]){example, NULL});
    set_args(
        TASKD_VOLUME_MOUNT_FILE,
        (const char *[]){in_root(TASKD_VOLUME_MOUNT_FILE, "chaos/experiments/volume-mount.json"),
                         "--taskd-arg=--check-interval=50ms", NULL});
    set_args(TASKD_DB_DELETED_FILE,
             (const char *[]){in_root(TASKD_DB_DELETED_FILE, "chaos/experiments/db-deleted.json"),
                              "--taskd-arg=--check-interval=50ms", NULL});
    set_args(TASKD_DB_MISSING_FILE,
             (const char *[]){in_root(TASKD_DB_MISSING_FILE, "chaos/experiments/db-missing.json"),
                              "--taskd-arg=--check-interval=50ms", NULL});
    set_args(TASKD_VOLUME_MOUNT_LIVE_FILE,
             (const char *[]){
                 in_root(TASKD_VOLUME_MOUNT_LIVE_FILE, "chaos/experiments/volume-mount-live.json"),
                 "--taskd-arg=--check-interval=50ms", NULL});
    static char taskd_service[PATH_MAX + 64];
    snprintf(taskd_service, sizeof(taskd_service), "%s/chaos/services/taskd.json", root_dir);
    set_args(TASKD_EXAMPLE_FILE, (const char *[]){example, "--service", taskd_service,
                                                  "--taskd-arg=--check-interval=50ms", NULL});
    const char *targets = write_targets_experiment();
    if (!targets)
        return -1;
    set_args(TASKD_TARGETS_LOAD,
             (const char *[]){targets, "--taskd-arg=--check-interval=50ms", NULL});
    set_args(SUPERVISED_COMMAND, (const char *[]){"kill-9", "--service-cmd", service_cmd, NULL});
    const char *observe = write_observe_only();
    if (!observe)
        return -1;
    set_args(OBSERVE_ONLY,
             (const char *[]){observe, "--fault", "3s", "--taskd-arg=--check-interval=50ms", NULL});
    for (int i = 0; i < NRUNS; i++)
        runs[i].skip = (sanitizer_build() && !in_reduced_set((enum run_id)i)) ||
                       (flask_missing && is_flask((enum run_id)i));
    chaos_batch_run(runs, NRUNS, PARALLEL, work, BATCH_TIMEOUT_MS);
    return 0;
}

static int remove_all(void **state)
{
    (void)state;
    taskd_proc_remove_tree(work);
    scratch_release_all();
    return 0;
}

/* ---- judging a run ------------------------------------------------------------------------- */

static void skip_if_not_run(enum run_id id)
{
    if (is_flask(id) && flask_missing)
        skip_because("python3 with Flask is not installed (make deps installs python3-flask)");
    if (runs[id].skip)
        skip_because("the sanitizer build runs a reduced set (one Flask experiment, a targets "
                     "file's load, the supervised command, observe-only); this one runs in the "
                     "plain build");
}

static const cJSON *journal_of(enum run_id id, const char **text)
{
    char path[600];
    chaos_batch_journal_path(&runs[id], path, sizeof(path));
    *text = chaos_batch_output(&runs[id]);
    const cJSON *exp = runs[id].ran ? cj_load_one(path) : NULL;
    if (!exp)
        fx_fail_at(__FILE__, __LINE__, "run %d wrote no journal (exit %d): %s", (int)id,
                   runs[id].exit_status, *text);
    return exp;
}

/* The detail of a check, or "" when absent. */
static const char *check_detail(const cJSON *exp, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cj_member(exp, "checks"))
    {
        if (strcmp(cj_member(c, "name")->valuestring, name) == 0)
            return cj_member(c, "detail")->valuestring;
    }
    return "";
}

static void print_row(const char *what, const cJSON *exp)
{
    const cJSON *writes = cj_member(exp, "writes"), *detect = cj_member(exp, "time_to_detect_s"),
                *recover = cj_member(exp, "time_to_recover_s"), *lost = cj_member(writes, "lost");
    char detected[32] = "never";
    if (cJSON_IsNumber(detect))
        snprintf(detected, sizeof(detected), "in %.3f s", detect->valuedouble);
    print_message("# %s: %s; detected %s, recovered in %.3f s, %.0f acknowledged, %.0f lost\n",
                  what, cj_status(exp), detected,
                  cJSON_IsNumber(recover) ? recover->valuedouble : -1.0,
                  cj_number(writes, "acknowledged"), cJSON_IsNumber(lost) ? lost->valuedouble : -1);
}

/* Deviated, with each of `failed` failed and its detail holding `because` (may be NULL). */
static const cJSON *expect_deviated(enum run_id id, const char *what, const char *const *failed,
                                    const char *because)
{
    skip_if_not_run(id);
    const char *text;
    const cJSON *exp = journal_of(id, &text);
    if (runs[id].exit_status != 1 || strcmp(cj_status(exp), "deviated") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s did not deviate (exit %d):\n%s", what,
                   runs[id].exit_status, text);
    for (size_t i = 0; failed[i]; i++) {
        if (cj_check_passed(exp, failed[i]) != 0)
            fx_fail_at(__FILE__, __LINE__, "%s: the check '%s' did not fail:\n%s", what, failed[i],
                       text);
    }
    if (because && !strstr(check_detail(exp, failed[0]), because))
        fx_fail_at(__FILE__, __LINE__, "%s: '%s' failed, but not because of \"%s\":\n%s", what,
                   failed[0], because, text);
    print_row(what, exp);
    return exp;
}

static const cJSON *expect_passed(enum run_id id, const char *what)
{
    skip_if_not_run(id);
    const char *text;
    const cJSON *exp = journal_of(id, &text);
    if (runs[id].exit_status != 0 || strcmp(cj_status(exp), "passed") != 0)
        fx_fail_at(__FILE__, __LINE__, "%s did not hold (exit %d):\n%s", what, runs[id].exit_status,
                   text);
    assert_true(cj_number(cj_member(exp, "writes"), "lost") == 0);
    print_row(what, exp);
    return exp;
}

/* ---- the blog's app ------------------------------------------------------------------------ */

static void test_volume_mount_kills_the_blogs_app_at_start(void **state)
{
    (void)state;
    static const char *const failed[] = {"service stays up on the fault", "writes answered", NULL};
    const cJSON *exp = expect_deviated(FLASK_VOLUME_MOUNT, "volume-mount on flask-tasks", failed,
                                       "Failed to initialize database");
    assert_string_equal(cj_member(cj_member(exp, "service"), "name")->valuestring, "flask-tasks");
}

static void test_db_deleted_never_drops_the_blogs_readiness(void **state)
{
    (void)state;
    static const char *const failed[] = {"readiness dropped", "detected", NULL};
    const cJSON *exp = expect_deviated(FLASK_DB_DELETED, "db-deleted on flask-tasks", failed,
                                       "/health answered ready throughout the fault");
    /* taskd's own signals are not asked of a service that does not export them. */
    assert_int_equal(cj_check_passed(exp, "file state"), -1);
    assert_non_null(strstr(cJSON_GetArrayItem(cj_member(exp, "notes"), 0)->valuestring,
                           "the service exports no taskd_db_file_state"));
}

/* The blog's own bug: with its database path turned into a directory while it serves, the app
 * keeps answering — every write a 500, /health 200 throughout. */
static void test_a_directory_at_the_database_path_leaves_the_blogs_app_answering(void **state)
{
    (void)state;
    static const char *const failed[] = {"readiness dropped", "detected", NULL};
    const cJSON *exp = expect_deviated(FLASK_VOLUME_MOUNT_LIVE, "volume-mount-live on flask-tasks",
                                       failed, "/health answered ready throughout the fault");
    assert_int_equal(cj_check_passed(exp, "service stays up on the fault"), 1);
    assert_true(cj_number(cj_member(exp, "writes"), "refused_in_fault") > 0);
}

/* A fault on SQLite's -wal does not apply to an app in rollback-journal mode: skipped with the
 * reason, never passed, and chaos exits 0 for it. */
static void test_a_wal_fault_does_not_apply_to_the_blogs_app(void **state)
{
    (void)state;
    skip_if_not_run(FLASK_WAL_DELETED);
    const char *text;
    const cJSON *exp = journal_of(FLASK_WAL_DELETED, &text);
    if (runs[FLASK_WAL_DELETED].exit_status != 0 || strcmp(cj_status(exp), "skipped") != 0)
        fx_fail_at(__FILE__, __LINE__, "wal-deleted on flask-tasks was not skipped (exit %d):\n%s",
                   runs[FLASK_WAL_DELETED].exit_status, text);
    assert_non_null(strstr(cj_member(exp, "reason")->valuestring,
                           "does not apply: the service does not keep its database in SQLite's "
                           "WAL mode"));
    /* Only the steady state was judged: nothing was injected. */
    assert_int_equal(cJSON_GetArraySize(cj_member(exp, "checks")), 1);
    assert_int_equal(cj_check_passed(exp, "steady state"), 1);
}

static void test_db_missing_loses_what_the_blogs_app_acknowledged(void **state)
{
    (void)state;
    static const char *const failed[] = {"no acknowledged write lost", "writes refused",
                                         "readiness dropped", NULL};
    const cJSON *exp = expect_deviated(FLASK_DB_MISSING, "db-missing on flask-tasks", failed, NULL);
    assert_true(cj_number(cj_member(exp, "writes"), "lost") > 0);
}

static void test_the_blogs_error_counter_misses_every_500(void **state)
{
    (void)state;
    static const char *const failed[] = {"metric errors_counted", "readiness dropped", NULL};
    const cJSON *exp = expect_deviated(FLASK_EXAMPLE_FILE, "examples/flask-tasks/db-deleted.json",
                                       failed, "0 at the end of the fault");
    assert_true(cj_number(cj_member(exp, "writes"), "refused_in_fault") > 0);
}

/* ---- the same experiments on taskd --------------------------------------------------------- */

static void test_the_same_experiment_files_hold_on_taskd(void **state)
{
    (void)state;
    const cJSON *exp =
        expect_passed(TASKD_VOLUME_MOUNT_FILE, "chaos/experiments/volume-mount.json");
    assert_non_null(strstr(cj_member(exp, "source")->valuestring, "volume-mount.json"));
    expect_passed(TASKD_DB_DELETED_FILE, "chaos/experiments/db-deleted.json");
    expect_passed(TASKD_DB_MISSING_FILE, "chaos/experiments/db-missing.json");
    expect_passed(TASKD_VOLUME_MOUNT_LIVE_FILE, "chaos/experiments/volume-mount-live.json");
}

static void test_the_example_file_holds_on_taskd_with_its_error_counter(void **state)
{
    (void)state;
    const cJSON *exp =
        expect_passed(TASKD_EXAMPLE_FILE, "examples/flask-tasks/db-deleted.json on taskd");
    assert_int_equal(cj_check_passed(exp, "metric errors_counted"), 1);
}

/* The load is the targets file's: its creates (marked for the ledger) are refused during the
 * fault as the load itself sees them (5xx), every one is audited, and the experiment holds. */
static void test_a_targets_file_is_the_load(void **state)
{
    (void)state;
    const cJSON *exp = expect_passed(TASKD_TARGETS_LOAD, "db-deleted under a targets file");
    const cJSON *load = cj_member(exp, "load");
    assert_string_equal(cj_member(load, "workload")->valuestring, "targets");
    assert_non_null(strstr(cj_member(load, "targets")->valuestring, "taskd.targets"));
    assert_true(cj_number(load, "5xx") > 0);
    const cJSON *writes = cj_member(exp, "writes");
    assert_true(cj_number(writes, "acknowledged") > 0);
    assert_true(cj_number(writes, "refused_in_fault") > 0);
    assert_int_equal(cj_check_passed(exp, "writes refused"), 1);
    assert_int_equal(cj_check_passed(exp, "no acknowledged write lost"), 1);
    assert_int_equal(cj_check_passed(exp, "no unexpected write"), 1);
}

/* ---- supervision, observation, root ---------------------------------------------------------- */

static void test_a_foreground_command_is_supervised(void **state)
{
    (void)state;
    const cJSON *exp = expect_passed(SUPERVISED_COMMAND, "kill-9 on --service-cmd");
    const cJSON *svc = cj_member(exp, "service");
    assert_false(cJSON_IsTrue(cj_member(svc, "taskd")));
    assert_non_null(strstr(cj_member(svc, "command")->valuestring, "/bin/sh -c 'exec "));
    /* Stopped with SIGTERM at the end (it exited 0), so the integrity check ran. */
    assert_string_equal(cj_member(cj_member(exp, "observed"), "integrity_check")->valuestring,
                        "ok");
    /* Its output was collected: taskd logs to stderr when given no --log-file. */
    char path[600];
    snprintf(path, sizeof(path), "%s/kill-9/service.out", runs[SUPERVISED_COMMAND].dir);
    char *out = scratch_keep(taskd_proc_read_file(path, NULL), scratch_free);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"msg\":\"listening\""));
}

static void test_an_observe_only_experiment_asserts_nothing(void **state)
{
    (void)state;
    skip_if_not_run(OBSERVE_ONLY);
    const char *text;
    const cJSON *exp = journal_of(OBSERVE_ONLY, &text);
    if (runs[OBSERVE_ONLY].exit_status != 0 || strcmp(cj_status(exp), "observed") != 0)
        fx_fail_at(__FILE__, __LINE__, "not observed (exit %d):\n%s",
                   runs[OBSERVE_ONLY].exit_status, text);
    assert_int_equal(cj_check_passed(exp, "readiness dropped"), -1);
    assert_true(cJSON_IsTrue(cj_member(cj_member(exp, "expected"), "observe_only")));
    assert_true(cJSON_IsNumber(cj_member(cj_member(exp, "times"), "recovered_s")));
    print_row("observe-only pause", exp);
}

/* Run as nobody, a root-only experiment is skipped with its reason, and chaos exits 0. */
static void test_a_root_only_experiment_is_skipped_without_root(void **state)
{
    (void)state;
    char dir[300], journal[400], out_path[400];
    snprintf(dir, sizeof(dir), "%s/not-root", work);
    snprintf(journal, sizeof(journal), "%s/journal.json", dir);
    snprintf(out_path, sizeof(out_path), "%s.out", dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(chmod(work, 0711), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
            _exit(125);
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(126);
        execl(taskd_proc_tool_bin("chaos"), "chaos", "run", "disk-full", "--work-dir", dir,
              "--journal", journal, "-q", (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *out = scratch_keep(taskd_proc_read_file(out_path, NULL), scratch_free);
    assert_non_null(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fx_fail_at(__FILE__, __LINE__, "chaos as nobody exited 0x%x: %s", (unsigned)status,
                   out ? out : "");
    const cJSON *exp = cj_load_one(journal);
    assert_non_null(exp);
    assert_string_equal(cj_status(exp), "skipped");
    assert_non_null(strstr(cj_member(exp, "reason")->valuestring, "skipped: needs root"));
    assert_non_null(strstr(out, "disk-full: skipped"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_mount_kills_the_blogs_app_at_start),
        cmocka_unit_test(test_db_deleted_never_drops_the_blogs_readiness),
        cmocka_unit_test(test_a_directory_at_the_database_path_leaves_the_blogs_app_answering),
        cmocka_unit_test(test_a_wal_fault_does_not_apply_to_the_blogs_app),
        cmocka_unit_test(test_db_missing_loses_what_the_blogs_app_acknowledged),
        cmocka_unit_test(test_the_blogs_error_counter_misses_every_500),
        cmocka_unit_test(test_the_same_experiment_files_hold_on_taskd),
        cmocka_unit_test(test_the_example_file_holds_on_taskd_with_its_error_counter),
        cmocka_unit_test(test_a_targets_file_is_the_load),
        cmocka_unit_test(test_a_foreground_command_is_supervised),
        cmocka_unit_test(test_an_observe_only_experiment_asserts_nothing),
        cmocka_unit_test(test_a_root_only_experiment_is_skipped_without_root),
    };
    return cmocka_run_group_tests_name("chaos on any service", tests, run_all, remove_all);
}
