/*
 * verdict: see verdict.h. Each check's detail says what was measured, passed or not, so a
 * journal reader sees why without the probes. The checks a scenario does not ask for (its
 * `expect`) are not added at all rather than added as passed.
 */
#include "verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "load.h"

static void check(struct experiment_result *res, const char *name, int passed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds one check (at most EXPERIMENT_MAX_CHECKS; more are dropped) with a printf-style detail. */
static void check(struct experiment_result *res, const char *name, int passed, const char *fmt, ...)
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

int verdict_steady_state(const struct experiment_options *o, struct experiment_result *res)
{
    uint64_t p99_ns = (uint64_t)(res->steady_p99_s * 1e9 + 0.5);
    int ok = res->steady_probes > 0 && res->steady_not_ready == 0 && res->steady_requests > 0 &&
             res->steady_error_ratio <= o->max_error_ratio && p99_ns <= o->max_p99_ns;
    check(res, "steady state", ok,
          "%zu of %zu probes not ready; %llu requests, error ratio %.4f (max %.4f); p99 "
          "%.1f ms (max %.1f ms)",
          res->steady_not_ready, res->steady_probes, (unsigned long long)res->steady_requests,
          res->steady_error_ratio, o->max_error_ratio, res->steady_p99_s * 1e3,
          (double)o->max_p99_ns / 1e6);
    return ok;
}

/* ---- after the run ------------------------------------------------------------------------- */

/* An expectation that cannot be checked on this service (it does not export taskd's series)
 * is a note, never a passed check. */
static void note(struct experiment_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct experiment_result *res, const char *fmt, ...)
{
    if (res->nnotes == EXPERIMENT_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->notes[res->nnotes++], sizeof(res->notes[0]), fmt, ap);
    va_end(ap);
}

/* The ledger was read and holds no write: a load without writes to record (a targets file
 * whose write targets are not marked for the ledger). */
static int no_write_recorded(const struct experiment_result *res)
{
    return !*res->ledger_error &&
           res->writes_acknowledged + res->writes_failed + res->writes_indeterminate == 0;
}

/* Whether any probe's scrape had the series (has_file_state or has_db_errors). */
static int scrape_had(const struct experiment_result *res, int file_state)
{
    for (size_t i = 0; i < res->nprobes; i++)
        if (file_state ? res->probes[i].has_file_state : res->probes[i].has_db_errors)
            return 1;
    return 0;
}

/* Did the service stay up: on an at-start fault it came up, and it did not end by itself. */
static void judge_stays_up(const struct scenario *sc, struct experiment_result *res,
                           int service_survived)
{
    if (!sc->expect.survives)
        return;
    if (!service_survived)
        check(res, "service stays up on the fault", 0,
              "the service did not come up on the fault%s%s", *res->service_exit ? ": " : "",
              res->service_exit);
    else if (res->service_exits_in_fault)
        check(res, "service stays up on the fault", 0, "%s during the fault", res->service_exit);
    else
        check(res, "service stays up on the fault", 1, "%s",
              sc->at_start ? "the service started and served its live probe on the "
                             "fault, and did not exit"
                           : "the service did not exit during the fault");
}

/* Did it notice: readiness, the file state, the error counter. */
static void judge_detection(const struct scenario *sc, const struct experiment_options *o,
                            struct experiment_result *res)
{
    const struct scenario_expect *x = &sc->expect;
    if (x->detect == DETECT_ABSORBED) {
        check(res, "absorbed", !res->readiness_dropped && res->acked_in_fault > 0,
              "the ready probe %s during the fault; %llu writes invoked during it were "
              "acknowledged",
              res->readiness_dropped ? "answered other than expected" : "answered ready",
              (unsigned long long)res->acked_in_fault);
        return;
    }
    if (x->detect == DETECT_NOT_READY || x->detect == DETECT_WAL_BACK) {
        if (res->detected_s >= 0)
            check(res, "detected", 1, "after %.3f s", res->time_to_detect_s);
        else
            check(res, "detected", 0, "no probe in the %.1f s fault window showed %s",
                  (double)o->fault_ns / 1e9,
                  x->detect == DETECT_WAL_BACK
                      ? "a rebuilt -wal"
                      : "not ready, db_up 0, the expected state or a metric condition");
    }
    if (x->readiness_drops)
        check(res, "readiness dropped", res->readiness_dropped,
              res->readiness_dropped ? "%s answered not ready (or not at all) during the "
                                       "fault"
                                     : "%s answered ready throughout the fault",
              sc->service.ready.path);
    if (x->file_state && !scrape_had(res, 1)) {
        note(res, "file state %s: not checked, the service exports no taskd_db_file_state",
             x->file_state);
    } else if (x->file_state) {
        int seen = 0;
        for (size_t i = 0; i < res->nstates; i++)
            seen |= strcmp(res->states_seen[i], x->file_state) == 0;
        check(res, "file state", seen, "taskd_db_file_state{state=\"%s\"} %s", x->file_state,
              seen ? "read 1 during the fault" : "never read 1 during the fault");
    }
    if (x->error_code && !scrape_had(res, 0))
        note(res, "error %s: not checked, the service exports no taskd_db_errors_total",
             x->error_code);
    else if (x->error_code && res->error_code_delta >= 0)
        check(res, "error counted", res->error_code_delta > 0,
              "taskd_db_errors_total{code=\"%s\"} grew by %.0f during the fault", x->error_code,
              res->error_code_delta);
    else if (x->error_code)
        check(res, "error counted", 0,
              "taskd_db_errors_total{code=\"%s\"} could not be read before and during "
              "the fault",
              x->error_code);
}

/* The metric conditions: "grows" compares the last reading in the fault with the one just
 * before the injection; "OP VALUE" must hold at some reading during the fault. */
static void judge_metrics(const struct scenario *sc, struct experiment_result *res)
{
    const struct scenario_expect *x = &sc->expect;
    for (size_t m = 0; m < x->nmetrics; m++) {
        const struct scenario_metric_expect *e = &x->metrics[m];
        int k = scenario_metric_index(&sc->service, e->probe);
        double last = NAN;
        int held = 0, read = 0;
        for (size_t i = 0; k >= 0 && i < res->nprobes; i++) {
            const struct probe_sample *s = &res->probes[i];
            if (s->t < res->injected_s || (res->rolled_back_s >= 0 && s->t >= res->rolled_back_s) ||
                isnan(s->metric[k]))
                continue;
            read++;
            last = s->metric[k];
            held |= scenario_metric_holds(e, s->metric[k]);
        }
        char name[64];
        snprintf(name, sizeof(name), "metric %s", e->probe);
        double before = k >= 0 ? res->metric_before[k] : NAN;
        if (!read)
            check(res, name, 0, "%s %s: the probe never read a value during the fault", e->probe,
                  e->text);
        else if (e->op == METRIC_GROWS)
            check(res, name, !isnan(before) && last > before,
                  "%s grows: %g just before the injection, %g at the end of the fault", e->probe,
                  before, last);
        else
            check(res, name, held, "%s %s %s during the fault (last reading %g)", e->probe, e->text,
                  held ? "held at some probe" : "never held", last);
    }
}

/* Did it fail closed: the writes invoked while the fault was in place, and the reads. */
static void judge_writes_in_fault(const struct scenario *sc, struct experiment_result *res)
{
    const struct scenario_expect *x = &sc->expect;
    int asks_writes = x->refuse_writes || x->writes_answered || x->some_write_refused;
    if (asks_writes && no_write_recorded(res)) {
        note(res, "writes during the fault: not checked, the load recorded no write (a targets "
                  "file's write targets need # @ledger create, update or delete)");
        asks_writes = 0;
    }
    if (x->refuse_writes && asks_writes)
        check(res, "writes refused", res->acked_in_fault == 0,
              "%llu writes invoked during the fault were acknowledged",
              (unsigned long long)res->acked_in_fault);
    if (x->writes_answered && asks_writes)
        check(res, "writes answered", res->unanswered_in_fault == 0,
              "%llu writes invoked during the fault got no HTTP answer (refused or reset "
              "connection, or none within the %.0f s request timeout); the slowest "
              "answer took %.3f s",
              (unsigned long long)res->unanswered_in_fault,
              sc->load.request_timeout_ns ? (double)sc->load.request_timeout_ns / 1e9
                                          : LOAD_REQUEST_TIMEOUT_S,
              res->slowest_write_in_fault_s);
    if (x->some_write_refused && asks_writes)
        check(res, "fault bit", res->refused_in_fault > 0,
              "%llu writes were refused during the fault",
              (unsigned long long)res->refused_in_fault);
    if (x->reads_served) {
        size_t probed = 0, failed = 0;
        int worst = 0;
        for (size_t i = 0; i < res->nprobes; i++) {
            const struct probe_sample *s = &res->probes[i];
            if (s->t < res->injected_s || (res->rolled_back_s >= 0 && s->t >= res->rolled_back_s))
                continue;
            probed++;
            if (!probes_status_ok(&sc->service.read, s->read)) {
                failed++;
                worst = s->read;
            }
        }
        check(res, "reads served", probed > 0 && failed == 0,
              "%zu of %zu reads of %s during the fault were not answered as expected%s", failed,
              probed, sc->service.read.path,
              failed ? (worst > 0 ? " (one answered otherwise)" : " (no answer)") : "");
    }
}

/* Did it come back whole: ready again, a write accepted, nothing lost, the file intact. */
static void judge_recovery(const struct scenario *sc, const struct experiment_options *o,
                           struct experiment_result *res)
{
    const struct scenario_expect *x = &sc->expect;
    const struct scenario_http_write *w = &sc->service.write;
    int wrote = 0;
    for (size_t i = 0; i < w->nstatus; i++)
        wrote |= res->probe_write_status == w->status[i];
    if (x->recovers)
        check(res, "recovered", res->recovered_s >= 0 && wrote,
              res->recovered_s >= 0
                  ? "ready %.3f s after the rollback; a write answered %d"
                  : "not ready within the recovery timeout (%.3f s); a write answered %d",
              res->recovered_s >= 0 ? res->time_to_recover_s : (double)o->recover_timeout_ns / 1e9,
              res->probe_write_status);
    int audited = res->audit_ran;
    if (audited && (x->audit_lost || x->no_unexpected) && no_write_recorded(res)) {
        note(res, "the audit: not checked, the load recorded no write to compare the service's "
                  "rows with");
        audited = 0;
    }
    if (audited && x->audit_lost && x->max_lost == SCENARIO_ANY_LOSS)
        check(res, "acknowledged writes lost (counted)", 1,
              "%llu of %llu acknowledged writes lost: this setup loses them, and the "
              "audit lists each one",
              (unsigned long long)res->lost, (unsigned long long)res->writes_acknowledged);
    else if (audited && x->audit_lost)
        check(res, "no acknowledged write lost", res->lost <= x->max_lost,
              "%llu lost (at most %llu allowed) of %llu acknowledged",
              (unsigned long long)res->lost, (unsigned long long)x->max_lost,
              (unsigned long long)res->writes_acknowledged);
    if (audited && x->no_unexpected)
        check(res, "no unexpected write", res->unexpected == 0,
              "%llu writes took effect although the service said they failed, or rows "
              "no write explains",
              (unsigned long long)res->unexpected);
    if (*res->integrity && x->integrity)
        check(res, "integrity_check", strcmp(res->integrity, "ok") == 0, "%s", res->integrity);
}

/* Did each expected alert fire because of the fault, and resolve after the rollback. */
static void judge_alerts(const struct scenario *sc, const struct experiment_options *o,
                         struct experiment_result *res)
{
    if (!alerts_wanted(o))
        return;
    res->alerts_checked = 1;
    static const char *const says[] = {
        [ALERTS_NEVER_FIRED] = "never fired",
        [ALERTS_FIRING_BEFORE] = "was already firing before the injection",
        [ALERTS_NOT_RESOLVED] = "fired, never resolved",
        [ALERTS_FIRED_AND_RESOLVED] = "fired during the fault and resolved after the rollback",
    };
    for (size_t i = 0; sc->expect.alerts[i]; i++) {
        const struct experiment_alert *a = alerts_expect(res, sc->expect.alerts[i]);
        if (!a)
            continue;
        enum alerts_outcome outcome = alerts_outcome(a, res->injected_s);
        char name[80];
        snprintf(name, sizeof(name), "alert %s", a->name);
        check(res, name, outcome == ALERTS_FIRED_AND_RESOLVED, "%s", says[outcome]);
    }
}

/* What a phase could not do, in the order the phases ran. */
static void judge_phase_failures(struct experiment_result *res)
{
    const struct {
        const char *check, *error;
    } phases[] = {
        {"rollback", res->rollback_error}, {"crash and restart", res->restart_error},
        {"ledger", res->ledger_error},     {"audit", res->audit_error},
        {"clean stop", res->stop_error},
    };
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        if (*phases[i].error)
            check(res, phases[i].check, 0, "%s", phases[i].error);
    }
}

void verdict_judge(const struct scenario *sc, const struct experiment_options *o,
                   struct experiment_result *res, int service_survived)
{
    judge_phase_failures(res);
    judge_stays_up(sc, res, service_survived);
    judge_detection(sc, o, res);
    judge_writes_in_fault(sc, res);
    judge_metrics(sc, res);
    judge_recovery(sc, o, res);
    judge_alerts(sc, o, res);
    if (sc->expect.observe_only) {
        res->status = EXPERIMENT_OBSERVED;
        return;
    }
    res->status = EXPERIMENT_PASSED;
    for (size_t i = 0; i < res->nchecks; i++) {
        if (!res->checks[i].passed)
            res->status = EXPERIMENT_DEVIATED;
    }
}
