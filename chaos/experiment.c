/*
 * experiment: the lifecycle of one experiment (see experiment.h) — set up, start taskd, load,
 * steady state, inject and observe, roll back and recover, audit, stop, judge — in that order.
 * Each phase lives in its own file and fills the shared `struct run` (run.h); this file only
 * sequences them. Every phase after the injection is reached on every path, so the rollback
 * and the teardown cannot be skipped.
 */
#include "experiment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "audit_step.h"
#include "buf.h"
#include "clock.h"
#include "http_fetch.h"
#include "load.h"
#include "observe.h"
#include "run.h"
#include "verdict.h"
#include "workdir.h"

#define LIVEZ_TIMEOUT_MS 1000
#define FIND_TIMEOUT_MS 500
#define RECOVERY_WRITE_TIMEOUT_MS 3000

static const char *db_path_for(const struct experiment_options *o, const char *dir, char *out,
                               size_t cap)
{
    if (o->target_url)
        return o->target_db;
    if ((size_t)snprintf(out, cap, "%s/data/tasks.db", dir) >= cap)
        return NULL;
    return out;
}

/* ---- before the start ---------------------------------------------------------------------- */

static int setup(struct run *r, char *err, size_t errlen)
{
    const struct experiment_options *o = r->o;
    struct experiment_result *res = r->res;
    if (workdir_make_experiment(o->work_dir, r->sc->name, res->dir, sizeof(res->dir), err, errlen) <
        0)
        return -1;
    const char *db = db_path_for(o, res->dir, r->db_path, sizeof(r->db_path));
    if (!db) {
        snprintf(err, errlen,
                 "--db is needed with --target: the path of the database the "
                 "target taskd uses, under the work directory");
        return -1;
    }
    if (faults_init(&r->fault, r->sc, o->work_dir, res->dir, db, err, errlen) < 0)
        return -1;
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (o->target_url)
        return taskd_runner_init_external(&r->taskd, o->target_url, o->start_cmd, o->stop_cmd,
                                          o->kill_cmd, err, errlen);
    /* The scenario's arguments for every start come first: the user's --taskd-arg win. */
    size_t n = 0;
    for (size_t i = 0; r->sc->taskd_args_always && r->sc->taskd_args_always[i]; i++)
        r->taskd_args[n++] = r->sc->taskd_args_always[i];
    for (size_t i = 0; o->taskd_args[i] && n < EXPERIMENT_MAX_ARGS; i++)
        r->taskd_args[n++] = o->taskd_args[i];
    r->taskd_args[n] = NULL;
    return taskd_runner_init_managed(&r->taskd, o->taskd_bin, res->dir, db, r->taskd_args, err,
                                     errlen);
}

/* Starts (or, external, finds) taskd before the experiment. */
static int first_start(struct run *r, char *err, size_t errlen)
{
    if (r->taskd.bin || r->o->start_cmd) {
        if (r->taskd.bin || http_fetch_get(r->taskd.url, FIND_TIMEOUT_MS, NULL, NULL, 0) < 0) {
            if (taskd_runner_start(&r->taskd, NULL, err, errlen) < 0)
                return -1;
        }
    }
    char url[200];
    snprintf(url, sizeof(url), "%s/livez", r->taskd.url);
    if (http_fetch_get(url, LIVEZ_TIMEOUT_MS, NULL, NULL, 0) != 200) {
        snprintf(err, errlen, "taskd at %s does not answer /livez", r->taskd.url);
        return -1;
    }
    snprintf(r->res->url, sizeof(r->res->url), "%s", r->taskd.url);
    return 0;
}

/* ---- the fault ----------------------------------------------------------------------------- */

/* Growth of the scenario's error counter from just before the injection to the last reading of
 * it during the fault; -1 when either is unknown. */
static double error_code_delta(const struct run *r)
{
    const struct experiment_result *res = r->res;
    double last = -1;
    for (size_t i = res->nprobes; i-- > 0 && res->probes[i].t >= res->injected_s;) {
        if (res->probes[i].db_errors >= 0) {
            last = res->probes[i].db_errors;
            break;
        }
    }
    return last >= 0 && r->errors_at_injection >= 0 ? last - r->errors_at_injection : -1;
}

static void inject_and_observe(struct run *r, int *taskd_survived)
{
    struct experiment_result *res = r->res;
    char err[600];
    struct probe_sample before;
    observe_take(r, &before);
    r->errors_at_injection = before.db_errors;
    run_progress(r, "inject: %s", r->sc->mechanism);
    int rc = faults_inject(&r->fault, &r->taskd, err, sizeof(err));
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (rc < 0) {
        res->status = EXPERIMENT_ERROR;
        run_say(res->reason, sizeof(res->reason), "the fault could not be injected: %s", err);
        return;
    }
    *taskd_survived = rc == 0;
    if (rc == 1)
        run_progress(r, "taskd did not come up on the fault: %s", err);
    res->injected_s = run_now_s(r);
    r->fault_begin_unix = clock_realtime_ns();
    observe_until(r, res->injected_s + (double)r->o->fault_ns / 1e9, observe_detection);
    res->error_code_delta = error_code_delta(r);
}

/* The recovery write: one create, outside the run's tag so the audit does not count it. Its
 * HTTP status, or 0 without an answer. */
static int recovery_write(struct run *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/tasks", r->res->url);
    int status = http_fetch_post_json(url, "{\"task\":\"chaos recovery probe\"}",
                                      RECOVERY_WRITE_TIMEOUT_MS, NULL, NULL, 0);
    return status > 0 ? status : 0;
}

static void rollback_and_recover(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[600];
    r->fault_end_unix = clock_realtime_ns();
    res->rolled_back_s = run_now_s(r); /* recovery is timed from the start of the rollback */
    run_progress(r, "roll back: %s", r->sc->rollback);
    if (faults_rollback(&r->fault, &r->taskd, err, sizeof(err)) < 0) {
        run_say(res->rollback_error, sizeof(res->rollback_error), "%s", err);
        run_progress(r, "rollback failed: %s", err);
    }
    if (run_interrupted(r))
        return;
    if (observe_until(r, res->rolled_back_s + (double)r->o->recover_timeout_ns / 1e9,
                      observe_recovery)) {
        res->probe_write_status = recovery_write(r);
        run_progress(r, "recovered after %.3f s; a write answered %d", res->time_to_recover_s,
                     res->probe_write_status);
    }
    if (alerts_wanted(r->o) && !run_interrupted(r)) {
        run_progress(r, "waiting for the expected alerts to fire and resolve");
        observe_until(r, run_now_s(r) + (double)r->o->alert_timeout_ns / 1e9, alerts_settled);
        alerts_poll(r);
    }
}

/* ---- after the fault ----------------------------------------------------------------------- */

/* kill -9 and restart, so the audit reads what survives a crash. */
static void crash_restart(struct run *r)
{
    char err[600];
    struct experiment_result *res = r->res;
    if (!taskd_runner_can_kill(&r->taskd) || taskd_runner_kill9(&r->taskd, err, sizeof(err)) < 0 ||
        taskd_runner_start(&r->taskd, NULL, err, sizeof(err)) < 0) {
        run_say(res->restart_error, sizeof(res->restart_error), "%s",
                taskd_runner_can_kill(&r->taskd) ? err : "needs --kill-cmd with --target");
        return;
    }
    res->crashed_before_audit = 1;
    observe_until(r, run_now_s(r) + (double)r->o->recover_timeout_ns / 1e9, observe_recovery);
}

/* Stops taskd (when chaos can) and checks the database it leaves. */
static void stop_and_check(struct run *r)
{
    char err[600];
    if (!r->taskd.bin && !r->o->stop_cmd)
        return;
    if (taskd_runner_stop(&r->taskd, err, sizeof(err)) < 0)
        run_say(r->res->stop_error, sizeof(r->res->stop_error), "%s", err);
    else
        audit_step_integrity(r, r->fault.db);
}

/* ---- the lifecycle ------------------------------------------------------------------------- */

/* Everything from the start of the clock to the verdict; taskd is running. On a failure the
 * reason is set and the status stays "error" (or becomes "aborted"). */
static void run_phases(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[600];
    int taskd_survived = 1;
    res->start_unix_ns = clock_realtime_ns();
    r->t0 = clock_monotonic_ns();
    if (load_start(r, err, sizeof(err)) < 0) {
        snprintf(res->reason, sizeof(res->reason), "%s", err);
        return;
    }
    run_progress(r, "steady state for %.1f s at %.0f requests/s", (double)r->o->steady_ns / 1e9,
                 r->o->rate);
    observe_steady_state(r);
    if (!verdict_steady_state(r->o, res)) {
        res->status = EXPERIMENT_ABORTED;
        snprintf(res->reason, sizeof(res->reason),
                 "the steady-state hypothesis did not hold, so nothing was injected: %s",
                 res->checks[res->nchecks - 1].detail);
        load_stop(r);
        return;
    }
    if (run_interrupted(r)) {
        snprintf(res->reason, sizeof(res->reason), "interrupted before the injection");
        load_stop(r);
        return;
    }
    inject_and_observe(r, &taskd_survived);
    if (res->injected_s < 0) { /* not injected: the reason says why */
        load_stop(r);
        return;
    }
    rollback_and_recover(r);
    load_stop(r);
    if (run_interrupted(r)) {
        if (*res->rollback_error)
            run_say(res->reason, sizeof(res->reason), "interrupted; the rollback failed: %s",
                    res->rollback_error);
        else
            snprintf(res->reason, sizeof(res->reason), "interrupted; the fault was rolled back");
        return;
    }
    if (r->sc->expect.crash_before_audit)
        crash_restart(r);
    audit_step_run(r);
    res->ended_s = run_now_s(r);
    stop_and_check(r);
    verdict_judge(r->sc, r->o, res, taskd_survived);
}

/* Undoes whatever is still in place: the fault, a taskd chaos started, the armed rollback. */
static void teardown(struct run *r, int started)
{
    char err[600];
    if (r->fault.injected)
        faults_rollback(&r->fault, &r->taskd, err, sizeof(err));
    if (started && r->taskd.bin && r->taskd.pid)
        taskd_runner_stop(&r->taskd, err, sizeof(err));
    faults_cleanup(&r->fault);
    faults_arm(NULL, NULL);
    run_progress(r, "%s", experiment_status_name(r->res->status));
}

enum experiment_status experiment_run(const struct scenario *sc, const struct experiment_options *o,
                                      struct experiment_result *res)
{
    experiment_result_init(res, sc);
    struct run *r = calloc(1, sizeof(*r));
    res->probes = calloc(EXPERIMENT_MAX_PROBES, sizeof(*res->probes));
    if (!r || !res->probes) {
        snprintf(res->reason, sizeof(res->reason), "out of memory");
        free(r);
        return res->status;
    }
    r->sc = sc;
    r->o = o;
    r->res = res;
    char err[600];
    int started = 0;
    if (setup(r, err, sizeof(err)) < 0)
        goto fail;
    faults_arm(&r->fault, &r->taskd);
    int prep = faults_prepare(&r->fault, &r->taskd, err, sizeof(err));
    if (prep != 0) {
        if (prep > 0)
            res->status = EXPERIMENT_SKIPPED;
        goto fail;
    }
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (first_start(r, err, sizeof(err)) < 0)
        goto fail;
    started = 1;
    run_phases(r);
    goto out;
fail:
    snprintf(res->reason, sizeof(res->reason), "%s", err);
out:
    teardown(r, started);
    free(r);
    return res->status;
}

int experiment_plan(const struct scenario *sc, const struct experiment_options *o, FILE *out,
                    char *err, size_t errlen)
{
    struct fault_state f;
    char dir[600], db_buf[600];
    snprintf(dir, sizeof(dir), "%s/%s", o->work_dir, sc->name);
    const char *db = db_path_for(o, dir, db_buf, sizeof(db_buf));
    if (!db) {
        snprintf(err, errlen, "--db is needed with --target");
        return -1;
    }
    if (faults_init(&f, sc, o->work_dir, dir, db, err, errlen) < 0)
        return -1;
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "%s: %s\n  mechanism: %s\n  expected: %s\n", sc->name, sc->summary,
               sc->mechanism, sc->expected);
    if (o->target_url)
        buf_printf(&b, "  taskd: the one at %s (start: %s; stop: %s; kill: %s)\n", o->target_url,
                   o->start_cmd ? o->start_cmd : "-", o->stop_cmd ? o->stop_cmd : "-",
                   o->kill_cmd ? o->kill_cmd : "-");
    else {
        buf_printf(&b,
                   "  taskd: %s --listen 127.0.0.1:0 --db %s --port-file %s/taskd.port "
                   "--log-file %s/taskd.log",
                   o->taskd_bin, db, dir, dir);
        for (size_t i = 0; sc->taskd_args_always && sc->taskd_args_always[i]; i++)
            buf_printf(&b, " %s", sc->taskd_args_always[i]);
        for (size_t i = 0; o->taskd_args[i]; i++)
            buf_printf(&b, " %s", o->taskd_args[i]);
        buf_printf(&b, "\n");
    }
    buf_printf(&b, "  load: %.0f requests/s (open model), ledger %s/ledger.jsonl\n", o->rate, dir);
    buf_printf(&b, "  windows: steady %.1f s, fault %.1f s, recovery up to %.1f s\n",
               (double)o->steady_ns / 1e9, (double)o->fault_ns / 1e9,
               (double)o->recover_timeout_ns / 1e9);
    faults_plan(&f, &b);
    if (sc->needs_root && geteuid() != 0)
        buf_printf(&b, "  note: not root here, so this scenario would be skipped\n");
    fputs(b.data ? b.data : "", out);
    buf_free(&b);
    return 0;
}
