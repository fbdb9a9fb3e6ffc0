/*
 * verdict: see verdict.h. Each check's detail says what was measured, passed or not, so a
 * journal reader sees why without the probes. The checks a scenario does not ask for (its
 * `expect`) are not added at all rather than added as passed.
 */
#include "verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "engine.h"
#include "load.h"
#include "observe.h"

#define STEADY_EXTRA_NS 2000000000ull /* how long the steady state may wait for a full second */
#define MAX_SERIES_ROWS 64

void verdict_check(struct experiment_result *res, const char *name, int passed, const char *fmt,
                   ...)
{
    if (res->nchecks == EXPERIMENT_MAX_CHECKS)
        return;
    struct experiment_check *c = &res->checks[res->nchecks++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->passed = passed;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
}

/* ---- the steady state ---------------------------------------------------------------------- */

static int has_full_second(struct run *r, const struct probe_sample *s)
{
    (void)s;
    struct lg_interval row;
    return engine_series(r->engine, 0, &row, 1) == 1;
}

/* The worst p99 of the last second and of every complete second so far. */
static uint64_t worst_p99_ns(struct run *r, const struct engine_live *now)
{
    struct lg_interval rows[MAX_SERIES_ROWS];
    uint64_t p99 = now->last_second_p99_ns;
    size_t n = engine_series(r->engine, 0, rows, MAX_SERIES_ROWS);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].corrected_p99_ns > p99)
            p99 = rows[i].corrected_p99_ns;
    }
    return p99;
}

int verdict_steady_state(struct run *r)
{
    struct experiment_result *res = r->res;
    struct engine_live before, after;
    engine_live(r->engine, &before);
    size_t first = res->nprobes;
    observe_until(r, (double)r->o->steady_ns / 1e9, NULL);
    /* The p99 needs one complete second of the series; a shorter window waits for it. */
    struct lg_interval row;
    if (engine_series(r->engine, 0, &row, 1) == 0)
        observe_until(r, (double)(r->o->steady_ns + STEADY_EXTRA_NS) / 1e9, has_full_second);
    engine_live(r->engine, &after);
    size_t not_ready = 0;
    for (size_t i = first; i < res->nprobes; i++)
        not_ready += res->probes[i].readyz != 200 || res->probes[i].db_up != 1;
    uint64_t done = after.completed - before.completed;
    uint64_t errors = after.errors - before.errors;
    res->steady_error_ratio = done ? (double)errors / (double)done : 1;
    uint64_t p99 = worst_p99_ns(r, &after);
    res->steady_p99_s = (double)p99 / 1e9;
    int ok = res->nprobes > first && not_ready == 0 && done > 0 &&
             res->steady_error_ratio <= r->o->max_error_ratio && p99 <= r->o->max_p99_ns;
    verdict_check(res, "steady state", ok,
                  "%zu of %zu probes not ready; %llu requests, error ratio %.4f (max %.4f); p99 "
                  "%.1f ms (max %.1f ms)",
                  not_ready, res->nprobes - first, (unsigned long long)done,
                  res->steady_error_ratio, r->o->max_error_ratio, res->steady_p99_s * 1e3,
                  (double)r->o->max_p99_ns / 1e6);
    return ok;
}

/* ---- after the run ------------------------------------------------------------------------- */

/* Did taskd notice: readiness, the file state, the error counter. */
static void judge_detection(struct run *r, int taskd_survived)
{
    struct experiment_result *res = r->res;
    const struct scenario_expect *x = &r->sc->expect;
    if (r->sc->at_start)
        verdict_check(res, "taskd stays up on the fault", taskd_survived,
                      taskd_survived ? "taskd started and served /livez on the fault"
                                     : "taskd did not come up on the fault");
    if (x->detect == DETECT_ABSORBED) {
        verdict_check(res, "absorbed", !res->readiness_dropped && res->acked_in_fault > 0,
                      "/readyz %s during the fault; %llu writes invoked during it were "
                      "acknowledged",
                      res->readiness_dropped ? "answered other than 200" : "answered 200",
                      (unsigned long long)res->acked_in_fault);
        return;
    }
    if (res->detected_s >= 0)
        verdict_check(res, "detected", 1, "after %.3f s", res->time_to_detect_s);
    else
        verdict_check(res, "detected", 0, "no probe in the %.1f s fault window showed %s",
                      (double)r->o->fault_ns / 1e9,
                      x->detect == DETECT_WAL_BACK ? "a rebuilt -wal"
                                                   : "not ready, db_up 0 or the expected state");
    if (x->detect == DETECT_NOT_READY)
        verdict_check(res, "readiness dropped", res->readiness_dropped,
                      res->readiness_dropped ? "/readyz answered other than 200 during the fault"
                                             : "/readyz answered 200 throughout the fault");
    if (x->file_state) {
        int seen = 0;
        for (size_t i = 0; i < res->nstates; i++)
            seen |= strcmp(res->states_seen[i], x->file_state) == 0;
        verdict_check(res, "file state", seen, "taskd_db_file_state{state=\"%s\"} %s",
                      x->file_state,
                      seen ? "read 1 during the fault" : "never read 1 during the fault");
    }
    if (x->error_code && res->error_code_delta >= 0)
        verdict_check(res, "error counted", res->error_code_delta > 0,
                      "taskd_db_errors_total{code=\"%s\"} grew by %.0f during the fault",
                      x->error_code, res->error_code_delta);
    else if (x->error_code)
        verdict_check(res, "error counted", 0,
                      "taskd_db_errors_total{code=\"%s\"} could not be read before and during "
                      "the fault",
                      x->error_code);
}

/* Did it fail closed: the writes invoked while the fault was in place. */
static void judge_writes_in_fault(struct run *r)
{
    struct experiment_result *res = r->res;
    const struct scenario_expect *x = &r->sc->expect;
    if (x->refuse_writes)
        verdict_check(res, "writes refused", res->acked_in_fault == 0,
                      "%llu writes invoked during the fault were acknowledged",
                      (unsigned long long)res->acked_in_fault);
    if (x->refuse_writes && r->sc->fault != FAULT_KILL9 && !x->unanswered_ok)
        verdict_check(res, "writes answered", res->unanswered_in_fault == 0,
                      "%llu writes invoked during the fault got no HTTP answer (refused or reset "
                      "connection, or none within the %.0f s request timeout); the slowest "
                      "answer took %.3f s",
                      (unsigned long long)res->unanswered_in_fault, LOAD_REQUEST_TIMEOUT_S,
                      res->slowest_write_in_fault_s);
    if (x->some_write_refused)
        verdict_check(res, "fault bit", res->refused_in_fault > 0,
                      "%llu writes were refused during the fault",
                      (unsigned long long)res->refused_in_fault);
}

/* Did it come back whole: ready again, a write accepted, nothing lost, the file intact. */
static void judge_recovery(struct run *r)
{
    struct experiment_result *res = r->res;
    const struct scenario_expect *x = &r->sc->expect;
    verdict_check(res, "recovered", res->recovered_s >= 0 && res->probe_write_status == 201,
                  res->recovered_s >= 0
                      ? "ready %.3f s after the rollback; a write answered %d"
                      : "not ready within the recovery timeout (%.3f s); a write answered %d",
                  res->recovered_s >= 0 ? res->time_to_recover_s
                                        : (double)r->o->recover_timeout_ns / 1e9,
                  res->probe_write_status);
    if (res->audit_ran && x->max_lost == SCENARIO_ANY_LOSS) {
        verdict_check(res, "acknowledged writes lost (counted)", 1,
                      "%llu of %llu acknowledged writes lost: this setup loses them, and the "
                      "audit lists each one",
                      (unsigned long long)res->lost, (unsigned long long)res->writes_acknowledged);
        verdict_check(res, "no unexpected write", res->unexpected == 0,
                      "%llu writes took effect although taskd said they failed, or rows no "
                      "write explains",
                      (unsigned long long)res->unexpected);
    } else if (res->audit_ran) {
        verdict_check(res, "no acknowledged write lost", res->lost <= x->max_lost,
                      "%llu lost (at most %llu allowed) of %llu acknowledged",
                      (unsigned long long)res->lost, (unsigned long long)x->max_lost,
                      (unsigned long long)res->writes_acknowledged);
        verdict_check(res, "no unexpected write", res->unexpected == 0,
                      "%llu writes took effect although taskd said they failed, or rows no "
                      "write explains",
                      (unsigned long long)res->unexpected);
    }
    if (*res->integrity)
        verdict_check(res, "integrity_check", strcmp(res->integrity, "ok") == 0, "%s",
                      res->integrity);
}

void verdict_judge(struct run *r, int taskd_survived)
{
    struct experiment_result *res = r->res;
    judge_detection(r, taskd_survived);
    judge_writes_in_fault(r);
    judge_recovery(r);
    alerts_judge(r);
    res->status = EXPERIMENT_PASSED;
    for (size_t i = 0; i < res->nchecks; i++) {
        if (!res->checks[i].passed)
            res->status = EXPERIMENT_DEVIATED;
    }
}
