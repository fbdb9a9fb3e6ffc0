/*
 * load: the experiment's load, loadgen's engine in the open model at the experiment's rate,
 * running its workload (taskd's task mix by default, or any targets file), with every write in
 * a ledger (WORK/SCENARIO/ledger.jsonl) under a tag of this run, so the audit can tell this
 * run's rows from any other's. Started before the steady state, stopped after the recovery (or
 * after the alerts settled); its per-second series ends up in the result.
 */
#ifndef CHAOS_LOAD_H
#define CHAOS_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/* Each request's timeout: a fail-closed service answers well within it. */
#define LOAD_REQUEST_TIMEOUT_S 2.0

/* Opens the ledger and starts the engine against res->url. Returns 0, or -1 with a sentence
 * in err. */
int load_start(struct run *r, char *err, size_t errlen);

/* Stops the engine (its results go to res->load) and closes the ledger. Safe to call twice. */
void load_stop(struct run *r);

/* Requests completed so far, and how many of them failed (5xx or a transport error). */
void load_counts(struct run *r, uint64_t *completed, uint64_t *errors);

/* Whether the per-second series has one complete second yet. */
int load_has_full_second(struct run *r);

/* The worst corrected p99 of the last second and of every complete second so far, in ns. */
uint64_t load_worst_p99_ns(struct run *r);

#endif
