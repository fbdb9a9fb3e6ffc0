/*
 * run: what the phases of one experiment share, and nothing else. experiment.c owns the
 * lifecycle; observe.c probes, alerts.c follows the alert sources, load.c drives the load,
 * audit_step.c checks the data afterwards and verdict.c judges. Each phase reads and fills one
 * `struct run`; the result it fills (`res`) is what the journal reports. Internal to chaos:
 * the public interface is experiment.h.
 */
#ifndef CHAOS_RUN_H
#define CHAOS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "experiment_result.h"
#include "faults.h"
#include "placeholders.h"
#include "probes.h"
#include "service_runner.h"

struct engine;
struct ledger;

struct run {
    const struct scenario *sc;
    const struct experiment_options *o; /* = &opts: the command line's, with the file's windows */
    struct experiment_options opts;
    struct experiment_result *res;
    struct service_runner service;
    struct fault_state fault;
    struct placeholders ph; /* the experiment's paths, for the service and the fault */
    char data_dir[600];     /* the service's data directory and database, filled in */
    char db_path[600];
    struct probe_spec probe; /* what each probe reads */
    struct engine *engine;
    struct ledger *ledger;
    char ledger_path[600];
    char run_tag[48];
    uint64_t t0; /* monotonic ns at the start */
    uint64_t fault_begin_unix, fault_end_unix;
    double errors_at_injection; /* error-code counter just before the injection */
    uint64_t next_alert_poll;
    size_t webhook_from;
};

/* Seconds since the experiment's start (monotonic). */
double run_now_s(const struct run *r);

/* Whether SIGINT/SIGTERM asked chaos to stop (the flag in the options). */
int run_interrupted(const struct run *r);

/* A progress line on stderr ("chaos: SCENARIO: T.TTs ..."), only when the options say verbose. */
void run_progress(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf for messages, where a cut is acceptable (paths are checked where they are made). */
void run_say(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
