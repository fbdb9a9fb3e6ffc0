/*
 * chaos_batch: independent chaos runs, a few at a time. Each run has its own work directory
 * (and so its own service, port and journal), so the slow experiments of a test group run
 * side by side in its setup and each test then judges its journal: chaos/test_production_faults
 * and chaos/test_service share it.
 */
#ifndef TESTS_CHAOS_BATCH_H
#define TESTS_CHAOS_BATCH_H

#include <stddef.h>

#define CHAOS_BATCH_MAX_ARGS 48

struct chaos_run {
    /* In: chaos's arguments after `run` and before the batch's own (NULL-terminated). */
    const char *args[CHAOS_BATCH_MAX_ARGS];
    int skip; /* do not run it (the test will say why) */
    /* Out. */
    int ran;
    int exit_status; /* -1: did not finish within the timeout (it was killed) */
    char dir[512];   /* its work directory; journal DIR/journal.json, output DIR.out/.err */
};

/* Runs every run that is not skipped, `parallel` at a time, each in WORK/run-I with
 * `--work-dir DIR --journal DIR/journal.json -q` appended; a run still going after timeout_ms
 * is killed with the others. */
void chaos_batch_run(struct chaos_run *runs, size_t n, size_t parallel, const char *work,
                     unsigned timeout_ms);

/* The run's journal path and its output (stdout), read (kept for the test's teardown; "" when
 * missing). */
void chaos_batch_journal_path(const struct chaos_run *r, char *out, size_t cap);
const char *chaos_batch_output(const struct chaos_run *r);

#endif
