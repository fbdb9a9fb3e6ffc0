/*
 * observe: the probe loop of an experiment. A reading of taskd (probes_sample) every probe
 * interval, kept in the result (at most EXPERIMENT_MAX_PROBES, the rest counted), with the
 * alert sources polled along the way; a stop condition ends a window early. The conditions the
 * lifecycle waits for — the fault detected, taskd ready again — live here too, because they
 * read the samples; so does the steady-state window, with the load's own figures.
 */
#ifndef CHAOS_OBSERVE_H
#define CHAOS_OBSERVE_H

#include "probes.h"
#include "run.h"

/* Says whether a window may end at this sample (1) or must go on (0). */
typedef int (*observe_stop_fn)(struct run *r, const struct probe_sample *s);

/* Takes one reading into *s, keeps it, and polls the alert sources when one is due. */
void observe_take(struct run *r, struct probe_sample *s);

/* Probes every interval until `until_s` (seconds since the start), or until `stop` (may be
 * NULL) says so. Returns 1 when stopped by `stop`, 0 at the deadline or on interruption. */
int observe_until(struct run *r, double until_s, observe_stop_fn stop);

/* Observes the steady-state window under load (--steady, longer by up to 2 s when no complete
 * second of load was recorded yet, since its p99 needs one) and records it in res->steady_*:
 * the probes and how many were not ready, the requests completed, their error ratio, the
 * worst p99. The verdict judges it. */
void observe_steady_state(struct run *r);

/* Stop conditions. observe_detection never stops (the whole fault window is observed); it
 * records the first sample that shows the fault, and whether readiness dropped.
 * observe_recovery stops at the first ready sample and records the recovery after a rollback. */
int observe_detection(struct run *r, const struct probe_sample *s);
int observe_recovery(struct run *r, const struct probe_sample *s);

#endif
