/*
 * alerts: when the expected alerts were seen, from three sources — Prometheus's alert list
 * (pending, firing, gone), Alertmanager's (active, gone) and the webhook receiver's
 * notifications (firing, resolved) — each time in seconds since the experiment's start, -1 for
 * never. Polled at most every 500 ms from the probe loop; judged once at the end: an expected
 * alert must fire after the injection (not before) and resolve after the rollback.
 */
#ifndef CHAOS_ALERTS_H
#define CHAOS_ALERTS_H

#include "probes.h"
#include "run.h"

/* Whether any alert source was given (--prometheus, --alertmanager, --webhook-listen). */
int alerts_wanted(const struct run *r);

/* Polls every source once (errors go to res->alerts_error). */
void alerts_poll(struct run *r);

/* alerts_poll when sources were given and the last poll is 500 ms old. */
void alerts_poll_if_due(struct run *r);

/* A stop condition for observe_until: every expected alert fired and, in every source that saw
 * it fire, resolved. */
int alerts_settled(struct run *r, const struct probe_sample *s);

/* Adds one check per expected alert to the result (when sources were given). */
void alerts_judge(struct run *r);

#endif
