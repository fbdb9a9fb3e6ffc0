/*
 * experiment: one chaos experiment from start to verdict.
 *
 * start the service -> steady state (ready, error ratio and p99 within tolerance, under load
 * from loadgen's engine) -> inject -> observe (a probe every ~100 ms) -> roll back -> recovery
 * (ready again, a write succeeds) -> stop the load -> audit the ledger (lost, unexpected,
 * recovered) -> stop the service -> PRAGMA integrity_check on the database, read-only. Times are
 * measured on the monotonic clock and reported as seconds since the experiment started. The
 * rollback always runs once the fault was injected, also when the run is interrupted (the flag in
 * the options is polled). What an experiment is given and what it records are in
 * experiment_result.h.
 */
#ifndef CHAOS_EXPERIMENT_H
#define CHAOS_EXPERIMENT_H

#include <stddef.h>
#include <stdio.h>

#include "experiment_result.h"
#include "scenarios.h"

/* Runs the scenario. Always fills `res` (free it with experiment_result_free()). Returns its
 * status. */
enum experiment_status experiment_run(const struct scenario *sc, const struct experiment_options *o,
                                      struct experiment_result *res);

/* Prints the plan (paths, steps, the service's command, load) without touching anything.
 * Returns 0, or -1 with a sentence in err (a path outside the work directory). */
int experiment_plan(const struct scenario *sc, const struct experiment_options *o, FILE *out,
                    char *err, size_t errlen);

#endif
