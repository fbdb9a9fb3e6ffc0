/*
 * scenarios: the table of chaos experiments — what each fault is, how it is made and undone,
 * and what taskd must do about it.
 *
 * The expectations are data, not code, so `chaos list`, the journal and the verdict all read the
 * same promise: which signal must show the fault (readiness, file state, an error code), whether
 * a write may be acknowledged while the fault is in place, and how many acknowledged writes may
 * be lost (zero everywhere: no scenario here demonstrates a data-losing configuration).
 */
#ifndef CHAOS_SCENARIOS_H
#define CHAOS_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>

struct mechanism;

enum scenario_fault {
    FAULT_VOLUME_MOUNT,
    FAULT_DB_MISSING,
    FAULT_DB_DELETED,
    FAULT_WAL_DELETED,
    FAULT_READONLY,
    FAULT_DISK_FULL,
    FAULT_DB_LOCKED,
    FAULT_CORRUPT_HEADER,
    FAULT_KILL9,
    FAULT_MECHANISM, /* made by the scenario's mechanism (mechanism.h) */
};

/* The probe reading that says taskd noticed the fault. */
enum scenario_detect {
    DETECT_NOT_READY, /* /readyz not 200 (or taskd unreachable) */
    DETECT_WAL_BACK,  /* a -wal file is at its path again (taskd rebuilt it) */
    DETECT_ABSORBED,  /* nothing to detect: the fault must be absorbed (taskd stays ready) */
};

#define SCENARIO_ANY_LOSS UINT64_MAX /* max_lost of a scenario that shows a data-losing setup */

#define SCENARIO_MAX_ALERTS 4

struct scenario_expect {
    enum scenario_detect detect;
    const char *file_state; /* taskd_db_file_state that must read 1 (NULL: none required) */
    const char *error_code; /* taskd_db_errors_total{code} that must grow (NULL: none) */
    int refuse_writes;      /* no write invoked during the fault may be acknowledged */
    int some_write_refused; /* at least one write in the fault must be refused (it bit) */
    uint64_t max_lost;      /* acknowledged writes that may be lost */
    int crash_before_audit; /* kill -9 and restart taskd before the audit (durability) */
    int unanswered_ok;      /* writes may get no answer during the fault (a paused process) */
    const char *alerts[SCENARIO_MAX_ALERTS + 1]; /* alerts that must fire, NULL-terminated */
};

struct scenario {
    const char *name;
    const char *summary;   /* one line for `chaos list` */
    const char *mechanism; /* how the fault is made, default mechanism */
    const char *rollback;  /* how it is undone */
    const char *expected;  /* what taskd must do, one sentence */
    enum scenario_fault fault;
    int at_start;                  /* made while taskd is stopped, then taskd starts on it */
    int needs_root;                /* mounts: skipped with a reason when not root */
    const char *const *taskd_args; /* extra taskd arguments for the start on the fault */
    /* FAULT_MECHANISM: how the fault is made, with the mechanism's parameter. */
    const struct mechanism *mech;
    const char *mech_param;
    /* taskd arguments for every start, before the user's --taskd-arg (which win). */
    const char *const *taskd_args_always;
    struct scenario_expect expect;
};

size_t scenarios_count(void);
const struct scenario *scenarios_at(size_t i);           /* NULL past the end */
const struct scenario *scenarios_find(const char *name); /* NULL when unknown */

#endif
