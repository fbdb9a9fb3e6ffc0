/*
 * alerts: when the expected alerts were seen, from three sources — Prometheus's alert list
 * (pending, firing, gone), Alertmanager's (active, gone) and the webhook receiver's
 * notifications (firing, resolved) — each time in seconds since the experiment's start, -1 for
 * never. Polled at most every 500 ms from the probe loop. What became of an alert (fired after
 * the injection, resolved after the rollback) is read from those times; the verdict turns it
 * into a check.
 */
#ifndef CHAOS_ALERTS_H
#define CHAOS_ALERTS_H

#include "experiment_result.h"
#include "probes.h"
#include "run.h"

/* Whether any alert source was given (--prometheus, --alertmanager, --webhook-listen). */
int alerts_wanted(const struct experiment_options *o);

/* Polls every source once (errors go to res->alerts_error). */
void alerts_poll(struct run *r);

/* alerts_poll when sources were given and the last poll is 500 ms old. */
void alerts_poll_if_due(struct run *r);

/* A stop condition for observe_until: every expected alert fired and, in every source that saw
 * it fire, resolved. */
int alerts_settled(struct run *r, const struct probe_sample *s);

/* The slot of alert `name` in res, marked expected; made (never seen: every time -1) when no
 * source listed it. NULL when res has no room for another alert. */
struct experiment_alert *alerts_expect(struct experiment_result *res, const char *name);

enum alerts_outcome {
    ALERTS_NEVER_FIRED,        /* no source saw it fire after the injection */
    ALERTS_FIRING_BEFORE,      /* it fired before the injection: it says nothing of the fault */
    ALERTS_NOT_RESOLVED,       /* fired, and a source that saw it fire never saw it resolve */
    ALERTS_FIRED_AND_RESOLVED, /* fired after the injection and resolved everywhere it fired */
};

/* What became of alert `a` in an experiment injected at `injected_s`. */
enum alerts_outcome alerts_outcome(const struct experiment_alert *a, double injected_s);

#endif
