/*
 * experiment: the lifecycle of one experiment (see experiment.h) — set up, start the service, load,
 * steady state, inject and observe, roll back and recover, audit, stop, judge — in that order.
 * Each phase lives in its own file and fills the shared `struct run` (run.h); this file only
 * sequences them. Every phase after the injection is reached on every path, so the rollback
 * and the teardown cannot be skipped.
 */
#include "experiment.h"

#include <math.h>
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

/* The command line's options, with the experiment file's windows where the command line did
 * not give its own. */
static void effective_options(struct run *r, const struct experiment_options *o)
{
    const struct scenario_windows *w = &r->sc->windows;
    r->opts = *o;
    if (!(o->given & GIVEN_RATE) && r->sc->load.rate > 0)
        r->opts.rate = r->sc->load.rate;
    if (!(o->given & GIVEN_STEADY) && w->steady_ns)
        r->opts.steady_ns = w->steady_ns;
    if (!(o->given & GIVEN_FAULT) && w->fault_ns)
        r->opts.fault_ns = w->fault_ns;
    if (!(o->given & GIVEN_RECOVER) && w->recover_timeout_ns)
        r->opts.recover_timeout_ns = w->recover_timeout_ns;
    if (!(o->given & GIVEN_PROBE) && w->probe_interval_ns)
        r->opts.probe_interval_ns = w->probe_interval_ns;
    if (!(o->given & GIVEN_MAX_ERROR) && w->max_error_ratio > 0)
        r->opts.max_error_ratio = w->max_error_ratio;
    if (!(o->given & GIVEN_MAX_P99) && w->max_p99_ns)
        r->opts.max_p99_ns = w->max_p99_ns;
    r->o = &r->opts;
}

/* The experiment's paths: its directory `dir`, the service's data directory and database
 * filled in from the service's templates (a service the user runs: --db). */
static int fill_paths(struct run *r, const char *dir, char *err, size_t errlen)
{
    const struct scenario_service *svc = &r->sc->service;
    r->ph = (struct placeholders){.dir = dir, .file_dir = svc->file_dir, .work = r->o->work_dir};
    if (placeholders_expand(svc->data_dir, &r->ph, r->data_dir, sizeof(r->data_dir), err, errlen) <
        0)
        return -1;
    r->ph.data_dir = r->data_dir;
    if (r->o->target_db) {
        snprintf(r->db_path, sizeof(r->db_path), "%s", r->o->target_db);
        char *slash = strrchr(r->db_path, '/');
        snprintf(r->data_dir, sizeof(r->data_dir), "%.*s", slash ? (int)(slash - r->db_path) : 1,
                 slash ? r->db_path : ".");
    } else if (r->o->target_url) {
        snprintf(err, errlen,
                 "--db is needed with --target: the path of the database the service you run "
                 "uses, under the work directory");
        return -1;
    } else if (placeholders_expand(svc->db, &r->ph, r->db_path, sizeof(r->db_path), err, errlen) <
               0) {
        return -1;
    }
    r->ph.db = r->db_path;
    return 0;
}

/* The service: supervised (the file's command, or taskd), or the one the user runs. */
static int init_service(struct run *r, char *err, size_t errlen)
{
    const struct experiment_options *o = r->o;
    const struct scenario_service *svc = &r->sc->service;
    if (o->target_url)
        return service_runner_init_external(&r->service, o->target_url, o->start_cmd, o->stop_cmd,
                                            o->kill_cmd, &svc->live, err, errlen);
    if (svc->start_cmd || (!svc->taskd && !svc->command[0]))
        return service_runner_init_external(&r->service, svc->url, svc->start_cmd, svc->stop_cmd,
                                            svc->kill_cmd, &svc->live, err, errlen);
    return service_runner_init_supervised(&r->service, svc, o->taskd_bin, o->service_args,
                                          o->work_dir, r->ph.dir, r->data_dir, r->db_path, err,
                                          errlen);
}

/* ---- before the start ---------------------------------------------------------------------- */

static int setup(struct run *r, char *err, size_t errlen)
{
    struct experiment_result *res = r->res;
    if (workdir_make_experiment(r->o->work_dir, r->sc->name, res->dir, sizeof(res->dir), err,
                                errlen) < 0)
        return -1;
    if (fill_paths(r, res->dir, err, errlen) < 0 || init_service(r, err, errlen) < 0)
        return -1;
    r->service.ph.port_file = r->service.port_file;
    if (faults_init(&r->fault, r->sc, &r->ph, err, errlen) < 0)
        return -1;
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (r->service.supervised)
        service_runner_describe(&r->service, NULL, res->service, sizeof(res->service));
    else
        snprintf(res->service, sizeof(res->service), "the service at %s", r->service.url);
    return 0;
}

/* What every probe reads (the URL is known once the service runs). */
static void init_probes(struct run *r)
{
    const struct scenario_service *svc = &r->sc->service;
    r->probe = (struct probe_spec){
        .base_url = r->res->url,
        .ready = &svc->ready,
        .read = svc->read.path ? &svc->read : NULL,
        .metrics_path = svc->metrics_path,
        .error_code = r->sc->expect.error_code,
        .wal_path = r->sc->expect.detect == DETECT_WAL_BACK ? r->fault.wal : NULL,
        .metrics = svc->metrics,
        .nmetrics = svc->nmetrics,
        .prometheus = r->o->prometheus_url};
}

/* Starts (or, for one the user runs, finds) the service before the experiment. */
static int first_start(struct run *r, char *err, size_t errlen)
{
    if (r->service.supervised || r->service.start_cmd) {
        char live[400];
        snprintf(live, sizeof(live), "%s%s", r->service.url, r->service.live->path);
        if (r->service.supervised ||
            !probes_status_ok(r->service.live,
                              http_fetch_get(live, FIND_TIMEOUT_MS, NULL, NULL, 0))) {
            if (service_runner_start(&r->service, NULL, err, errlen) < 0)
                return -1;
        }
    }
    char url[400];
    snprintf(url, sizeof(url), "%s%s", r->service.url, r->service.live->path);
    if (!probes_status_ok(r->service.live, http_fetch_get(url, LIVEZ_TIMEOUT_MS, NULL, NULL, 0))) {
        snprintf(err, errlen, "the service at %s does not answer %s as expected", r->service.url,
                 r->service.live->path);
        return -1;
    }
    snprintf(r->res->url, sizeof(r->res->url), "%s", r->service.url);
    if (r->service.supervised) /* the port is known now */
        service_runner_describe(&r->service, NULL, r->res->service, sizeof(r->res->service));
    init_probes(r);
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

static void inject_and_observe(struct run *r, int *service_survived)
{
    struct experiment_result *res = r->res;
    char err[600];
    struct probe_sample before;
    observe_take(r, &before);
    r->errors_at_injection = before.db_errors;
    for (size_t i = 0; i < SCENARIO_MAX_METRICS; i++)
        res->metric_before[i] = before.metric[i];
    run_progress(r, "inject: %s", r->sc->mechanism);
    int rc = faults_inject(&r->fault, &r->service, err, sizeof(err));
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (rc < 0) {
        res->status = EXPERIMENT_ERROR;
        run_say(res->reason, sizeof(res->reason), "the fault could not be injected: %s", err);
        return;
    }
    if (rc == 2) {
        res->status = EXPERIMENT_SKIPPED;
        run_say(res->reason, sizeof(res->reason), "skipped: %s", err);
        run_progress(r, "skipped: %s", err);
        return;
    }
    *service_survived = rc == 0;
    if (rc == 1) {
        run_progress(r, "the service did not come up on the fault: %s", err);
        snprintf(res->service_exit, sizeof(res->service_exit), "%s", err);
    }
    res->injected_s = run_now_s(r);
    r->fault_begin_unix = clock_realtime_ns();
    observe_until(r, res->injected_s + (double)r->o->fault_ns / 1e9, observe_detection);
    res->error_code_delta = error_code_delta(r);
}

/* The recovery write (taskd's: one create), outside the run's tag so the audit does not count
 * it. Its HTTP status, or 0 without an answer. */
static int recovery_write(struct run *r)
{
    const struct scenario_http_write *w = &r->sc->service.write;
    char url[400];
    snprintf(url, sizeof(url), "%s%s", r->res->url, w->path);
    int status = http_fetch_post_json(url, w->body, RECOVERY_WRITE_TIMEOUT_MS, NULL, NULL, 0);
    return status > 0 ? status : 0;
}

static void rollback_and_recover(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[600];
    r->fault_end_unix = clock_realtime_ns();
    res->rolled_back_s = run_now_s(r); /* recovery is timed from the start of the rollback */
    run_progress(r, "roll back: %s", r->sc->rollback);
    if (faults_rollback(&r->fault, &r->service, err, sizeof(err)) < 0) {
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
    if (!service_runner_can_kill(&r->service) ||
        service_runner_kill9(&r->service, err, sizeof(err)) < 0 ||
        service_runner_start(&r->service, NULL, err, sizeof(err)) < 0) {
        run_say(res->restart_error, sizeof(res->restart_error), "%s",
                service_runner_can_kill(&r->service) ? err : "needs --kill-cmd with --target");
        return;
    }
    res->crashed_before_audit = 1;
    observe_until(r, run_now_s(r) + (double)r->o->recover_timeout_ns / 1e9, observe_recovery);
}

/* Stops the service (when chaos can) and checks the database it leaves. */
static void stop_and_check(struct run *r)
{
    char err[600];
    if (!r->service.supervised && !r->service.stop_cmd)
        return;
    service_runner_poll(&r->service);
    if (service_runner_stop(&r->service, err, sizeof(err)) < 0)
        run_say(r->res->stop_error, sizeof(r->res->stop_error), "%s", err);
    else if (r->sc->expect.integrity)
        audit_step_integrity(r, r->db_path);
}

/* ---- the lifecycle ------------------------------------------------------------------------- */

/* Everything from the start of the clock to the verdict; the service is running. On a failure the
 * reason is set and the status stays "error" (or becomes "aborted"). */
static void run_phases(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[600];
    int service_survived = 1;
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
    inject_and_observe(r, &service_survived);
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
    verdict_judge(r->sc, r->o, res, service_survived);
}

/* Undoes whatever is still in place: the fault, a service chaos started, the armed rollback. */
static void teardown(struct run *r, int started)
{
    char err[600];
    if (r->fault.injected)
        faults_rollback(&r->fault, &r->service, err, sizeof(err));
    if (started && r->service.supervised && r->service.pid)
        service_runner_stop(&r->service, err, sizeof(err));
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
    r->res = res;
    effective_options(r, o);
    char err[600];
    int started = 0;
    if (setup(r, err, sizeof(err)) < 0)
        goto fail;
    faults_arm(&r->fault, &r->service);
    int prep = faults_prepare(&r->fault, &r->service, err, sizeof(err));
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
    struct run *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/%s", o->work_dir, sc->name);
    r->sc = sc;
    effective_options(r, o);
    int rc = -1;
    if (fill_paths(r, dir, err, errlen) < 0 || init_service(r, err, errlen) < 0 ||
        faults_init(&r->fault, sc, &r->ph, err, errlen) < 0)
        goto out;
    r->service.ph.port_file = r->service.port_file;
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "%s: %s\n  source: %s\n  fault: %s\n  expected (%s): %s\n", sc->name,
               sc->summary, sc->source, sc->mechanism, sc->expect.preset, sc->expected);
    if (r->service.supervised) {
        char cmd[2048];
        service_runner_describe(&r->service, NULL, cmd, sizeof(cmd));
        buf_printf(&b, "  service: %s%s\n", cmd,
                   r->service.port_from_file ? "" : " ({port}: a free port chaos picks)");
        buf_printf(&b, "    output to %s; live %s, ready %s\n", r->service.out_path,
                   sc->service.live.path, sc->service.ready.path);
    } else {
        buf_printf(&b, "  service: the one at %s (start: %s; stop: %s; kill: %s)\n", r->service.url,
                   r->service.start_cmd ? r->service.start_cmd : "-",
                   r->service.stop_cmd ? r->service.stop_cmd : "-",
                   r->service.kill_cmd ? r->service.kill_cmd : "-");
    }
    buf_printf(&b, "  load: %.0f requests/s (open model, %s), ledger %s/ledger.jsonl\n", r->o->rate,
               sc->load.targets ? sc->load.targets : "the task mix", dir);
    buf_printf(&b, "  windows: steady %.1f s, fault %.1f s, recovery up to %.1f s\n",
               (double)r->o->steady_ns / 1e9, (double)r->o->fault_ns / 1e9,
               (double)r->o->recover_timeout_ns / 1e9);
    faults_plan(&r->fault, &b);
    if (sc->needs_root && geteuid() != 0)
        buf_printf(&b, "  note: not root here, so this experiment would be skipped (%s)\n",
                   sc->mech->needs_root);
    fputs(b.data ? b.data : "", out);
    buf_free(&b);
    rc = 0;
out:
    free(r);
    return rc;
}
