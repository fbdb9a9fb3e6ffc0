/*
 * journal: what chaos reports — one JSON document for all experiments of a run (schema
 * "taskbench.chaos/1", documented in docs/chaos.md; the HTML report draws it) and a human
 * summary that says, per experiment, what was injected, what taskd did and the verdict.
 *
 * Times in the JSON are seconds since the experiment's start (start_unix_ns), null when the
 * phase was not reached; probes are kept as columns (t, readyz, db_up, ...) so a long run stays
 * compact.
 */
#ifndef CHAOS_JOURNAL_H
#define CHAOS_JOURNAL_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "experiment_result.h"

#define JOURNAL_SCHEMA "taskbench.chaos/1"

/* Appends the journal to out. Returns 0, or -1 when out hit its limit. */
int journal_render(const struct experiment_result *const *runs, size_t n, struct buf *out);

/* The human summary. */
void journal_print(const struct experiment_result *const *runs, size_t n, FILE *out);

/* 0 when every experiment passed or was skipped, 1 when one deviated or aborted, 2 when one
 * could not run (error). */
int journal_exit_code(const struct experiment_result *const *runs, size_t n);

#endif
