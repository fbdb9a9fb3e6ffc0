/*
 * observe: see observe.h. The loop keeps a fixed cadence on the monotonic clock (a slow probe
 * shortens the next sleep instead of shifting every later one) and checks the interruption flag
 * before each reading, so SIGINT reaches the rollback within one probe.
 */
#include "observe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "clock.h"
#include "load.h"

#define STEADY_EXTRA_NS 2000000000ull /* how long the steady state may wait for a full second */

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Keeps each file state other than "ok" seen during the fault, once. */
static void note_state(struct experiment_result *res, const char *state)
{
    if (!*state || strcmp(state, "ok") == 0)
        return;
    for (size_t i = 0; i < res->nstates; i++) {
        if (strcmp(res->states_seen[i], state) == 0)
            return;
    }
    if (res->nstates < EXPERIMENT_MAX_STATES)
        snprintf(res->states_seen[res->nstates++], PROBES_STATE_LEN, "%s", state);
}

static int in_fault(const struct experiment_result *res)
{
    return res->injected_s >= 0 && res->rolled_back_s < 0;
}

void observe_take(struct run *r, struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    if (service_runner_poll(&r->service)) {
        snprintf(res->service_exit, sizeof(res->service_exit), "the service %s",
                 r->service.last_exit);
        res->service_exits_in_fault += in_fault(res);
        run_progress(r, "the service %s", r->service.last_exit);
    }
    probes_sample(&r->probe, s);
    s->t = run_now_s(r);
    if (in_fault(res))
        note_state(res, s->file_state);
    if (res->nprobes < EXPERIMENT_MAX_PROBES)
        res->probes[res->nprobes++] = *s;
    else
        res->probes_dropped++;
    alerts_poll_if_due(r);
}

int observe_until(struct run *r, double until_s, observe_stop_fn stop)
{
    uint64_t next = clock_monotonic_ns();
    while (!run_interrupted(r) && run_now_s(r) < until_s) {
        struct probe_sample s;
        observe_take(r, &s);
        if (stop && stop(r, &s))
            return 1;
        next += r->o->probe_interval_ns;
        uint64_t now = clock_monotonic_ns();
        if (next > now)
            sleep_ns(next - now);
        else
            next = now;
    }
    return 0;
}

static int has_full_second(struct run *r, const struct probe_sample *s)
{
    (void)s;
    return load_has_full_second(r);
}

void observe_steady_state(struct run *r)
{
    struct experiment_result *res = r->res;
    uint64_t completed_before, errors_before, completed, errors;
    load_counts(r, &completed_before, &errors_before);
    size_t first = res->nprobes;
    observe_until(r, (double)r->o->steady_ns / 1e9, NULL);
    if (!load_has_full_second(r))
        observe_until(r, (double)(r->o->steady_ns + STEADY_EXTRA_NS) / 1e9, has_full_second);
    load_counts(r, &completed, &errors);
    res->steady_probes = res->nprobes - first;
    res->steady_not_ready = 0;
    for (size_t i = first; i < res->nprobes; i++)
        res->steady_not_ready += !res->probes[i].ready || res->probes[i].db_up == 0;
    res->steady_requests = completed - completed_before;
    res->steady_error_ratio =
        res->steady_requests ? (double)(errors - errors_before) / (double)res->steady_requests : 1;
    res->steady_p99_s = (double)load_worst_p99_ns(r) / 1e9;
}

/* Not ready, db_up 0, the expected file state or a metric condition; for wal-deleted, a -wal
 * back at its path. */
static int shows_the_fault(const struct run *r, const struct probe_sample *s)
{
    const struct scenario_expect *x = &r->sc->expect;
    if (x->detect == DETECT_WAL_BACK)
        return s->wal_present == 1;
    if (x->detect == DETECT_ABSORBED || x->detect == DETECT_NONE)
        return 0; /* nothing should show */
    if (!s->ready || s->db_up == 0 || (x->file_state && strcmp(s->file_state, x->file_state) == 0))
        return 1;
    for (size_t i = 0; i < x->nmetrics; i++) {
        int k = scenario_metric_index(&r->sc->service, x->metrics[i].probe);
        if (k >= 0 && !isnan(s->metric[k]) && scenario_metric_holds(&x->metrics[i], s->metric[k]))
            return 1;
    }
    return 0;
}

int observe_detection(struct run *r, const struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    if (res->detected_s < 0 && shows_the_fault(r, s)) {
        res->detected_s = s->t;
        res->time_to_detect_s = s->t - res->injected_s;
    }
    if (!s->ready)
        res->readiness_dropped = 1;
    return 0; /* observe the whole fault window */
}

int observe_recovery(struct run *r, const struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    if (!s->ready || s->db_up == 0)
        return 0;
    if (res->rolled_back_s >= 0 && res->recovered_s < 0) {
        res->recovered_s = s->t;
        res->time_to_recover_s = s->t - res->rolled_back_s;
    }
    return 1;
}
