/*
 * chaos_journal: reading chaos's JSON journal in the end-to-end tests — one experiment's
 * status, a member that must be there (the test fails with its name when it is not), and the
 * outcome of a named check. Shared by chaos/test_experiments and chaos/test_production_faults.
 */
#ifndef TESTS_CHAOS_JOURNAL_H
#define TESTS_CHAOS_JOURNAL_H

#include <cJSON.h>

/* The member `name` of obj; fails the test when it is missing. */
const cJSON *cj_member(const cJSON *obj, const char *name);

/* The number `name` of obj; fails the test when it is missing or not a number. */
double cj_number(const cJSON *obj, const char *name);

/* The experiment's "status" string. */
const char *cj_status(const cJSON *exp);

/* The named check's outcome: 1 passed, 0 failed, -1 absent. */
int cj_check_passed(const cJSON *exp, const char *name);

/* Parses the journal at `path` (kept for the test's teardown) and returns its only experiment,
 * or NULL (no file, not JSON, not exactly one experiment). */
const cJSON *cj_load_one(const char *path);

#endif
