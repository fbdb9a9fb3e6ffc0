/*
 * audit_step: what chaos checks about the data once the load stopped. The ledger's writes are
 * counted by outcome, and by whether they were invoked while the fault was in place; loadgen's
 * audit compares the ledger with taskd's rows (lost, unexpected, recovered); and after taskd
 * stopped, PRAGMA integrity_check reads the database (read-only, never a live file).
 */
#ifndef CHAOS_AUDIT_STEP_H
#define CHAOS_AUDIT_STEP_H

#include "run.h"

/* Counts the ledger (always: the writes during the fault are judged from it) and, when the
 * experiment has an audit, runs it against res->url; a failure of either is recorded in
 * res->ledger_error or res->audit_error (the verdict makes it a failed check). Fills the writes_*
 * and *_in_fault counters, lost/unexpected/recovered and res->audit_json. */
void audit_step_run(struct run *r);

/* PRAGMA integrity_check of db_path into res->integrity ("ok", the first problem, or
 * "cannot check: why"). taskd must be stopped. */
void audit_step_integrity(struct run *r, const char *db_path);

#endif
