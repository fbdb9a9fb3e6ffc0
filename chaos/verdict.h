/*
 * verdict: the hypotheses of an experiment as named checks. The steady-state hypothesis is
 * judged before anything is injected (a failure aborts the experiment); the rest after the
 * teardown, from what the phases recorded: detection, the writes during the fault, the
 * recovery, the audit, the integrity check and the alerts. Any failed check makes the
 * experiment "deviated"; all passed, "passed".
 */
#ifndef CHAOS_VERDICT_H
#define CHAOS_VERDICT_H

#include "run.h"

/* Adds one check (at most EXPERIMENT_MAX_CHECKS; more are dropped) with a printf-style detail. */
void verdict_check(struct experiment_result *res, const char *name, int passed, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* Observes the steady-state window under load and checks it: every probe ready with db_up 1,
 * the error ratio and the p99 (corrected, from one complete second at least) within the
 * options' tolerances. Adds the "steady state" check; returns whether it held. */
int verdict_steady_state(struct run *r);

/* Adds the checks after the run and sets res->status. `taskd_survived`: a start-up fault's
 * taskd came up on it. */
void verdict_judge(struct run *r, int taskd_survived);

#endif
