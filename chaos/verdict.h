/*
 * verdict: the hypotheses of an experiment as named checks, judged from what the phases
 * recorded in the result — and the one place a check is recorded. The steady-state hypothesis
 * is judged before anything is injected (a failure aborts the experiment); the rest after the
 * teardown: what a phase could not do, detection, the writes during the fault, the recovery,
 * the audit, the integrity check and the alerts. Any failed check makes the experiment
 * "deviated"; all passed, "passed". The verdict observes nothing itself: it reads the result.
 */
#ifndef CHAOS_VERDICT_H
#define CHAOS_VERDICT_H

#include "experiment_result.h"
#include "scenarios.h"

/* Judges the steady-state window the experiment observed (res->steady_*): at least one probe,
 * every probe ready with db_up 1, requests completed, the error ratio and the p99 within the
 * options' tolerances. Adds the "steady state" check; returns whether it held. */
int verdict_steady_state(const struct experiment_options *o, struct experiment_result *res);

/* Adds the checks after the run and sets res->status (passed, deviated, or observed for an
 * observe-only experiment). `service_survived`: a start-up fault's service came up on it. */
void verdict_judge(const struct scenario *sc, const struct experiment_options *o,
                   struct experiment_result *res, int service_survived);

#endif
