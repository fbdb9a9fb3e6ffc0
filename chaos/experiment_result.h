/*
 * experiment_result: what one experiment is given (its options) and what it records (times,
 * probes, writes, alerts seen, the checks of its verdict) — the data every phase fills and the
 * journal reports, and nothing that runs an experiment. Kept apart from experiment.c, which
 * sequences the phases, so that the phases depend on it and it on none of them.
 */
#ifndef CHAOS_EXPERIMENT_RESULT_H
#define CHAOS_EXPERIMENT_RESULT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "probes.h"
#include "results.h"
#include "scenarios.h"

struct webhook;

#define EXPERIMENT_MAX_PROBES 4096
#define EXPERIMENT_MAX_CHECKS 16
#define EXPERIMENT_MAX_ALERTS 16
#define EXPERIMENT_MAX_ARGS 32
#define EXPERIMENT_MAX_STATES 8
#define EXPERIMENT_MAX_NOTES 4

/* The options the command line gave explicitly (they win over an experiment file's). */
enum experiment_given {
    GIVEN_RATE = 1 << 0,
    GIVEN_STEADY = 1 << 1,
    GIVEN_FAULT = 1 << 2,
    GIVEN_RECOVER = 1 << 3,
    GIVEN_PROBE = 1 << 4,
    GIVEN_MAX_ERROR = 1 << 5,
    GIVEN_MAX_P99 = 1 << 6,
};

struct experiment_options {
    const char *work_dir;                              /* realpath, must exist */
    const char *taskd_bin;                             /* the default service's binary */
    const char *service_args[EXPERIMENT_MAX_ARGS + 1]; /* --service-arg (--taskd-arg) */
    unsigned given;                                    /* enum experiment_given */
    double rate;                                       /* load, requests/s (open model) */
    uint64_t steady_ns, fault_ns, recover_timeout_ns, probe_interval_ns, alert_timeout_ns;
    double max_error_ratio; /* steady-state tolerance */
    uint64_t max_p99_ns;    /* steady-state tolerance (corrected latency) */
    const char *target_url, *target_db, *start_cmd, *stop_cmd, *kill_cmd;
    const char *prometheus_url, *alertmanager_url;
    struct webhook *webhook;
    volatile sig_atomic_t *interrupted;
    int verbose; /* progress lines on stderr */
};

/* Fills the defaults: rate 200/s, steady 3 s, fault 5 s, recover timeout 10 s, probes every
 * 100 ms, alert timeout 120 s, error ratio 1 %, p99 250 ms. An experiment file's windows and
 * rate replace these, unless the command line gave them (`given`). */
void experiment_options_default(struct experiment_options *o);

struct experiment_check {
    char name[64];
    int passed;
    char detail[300];
};

/* When an alert was seen, in seconds since the start; -1: never. */
struct experiment_alert {
    char name[64];
    int expected;
    double prom_pending_s, prom_firing_s, prom_resolved_s;
    double am_active_s, am_resolved_s;
    double hook_firing_s, hook_resolved_s;
};

enum experiment_status {
    EXPERIMENT_PASSED,   /* the hypothesis held */
    EXPERIMENT_DEVIATED, /* the service did not do what the experiment expects */
    EXPERIMENT_ABORTED,  /* the steady state did not hold: nothing was injected */
    EXPERIMENT_SKIPPED,  /* cannot run here (reason says why) */
    EXPERIMENT_ERROR,    /* chaos could not run it (setup) */
    EXPERIMENT_OBSERVED, /* observe-only: nothing was asserted, what happened is reported */
};

struct experiment_result {
    const struct scenario *sc;
    enum experiment_status status;
    char reason[600];     /* skipped / error / aborted: why */
    char mechanism[1024]; /* what was really done */
    char dir[512];
    char url[160];
    char service[1024]; /* the service's command line (or "the service at URL") */
    uint64_t start_unix_ns;
    /* Seconds since the start; -1 when the phase was not reached. */
    double injected_s, detected_s, rolled_back_s, recovered_s, ended_s;
    double time_to_detect_s, time_to_recover_s;
    /* The steady-state window: probes taken, how many of them were not ready (or db_up 0),
     * requests completed, their error ratio, and the worst corrected p99 of a complete second. */
    size_t steady_probes, steady_not_ready;
    uint64_t steady_requests;
    double steady_error_ratio, steady_p99_s;
    /* Observed during the fault. */
    int readiness_dropped;
    unsigned service_exits_in_fault; /* the supervised service ended by itself in the fault */
    char service_exit[600];          /* how it last ended by itself ("" never) */
    double metric_before[SCENARIO_MAX_METRICS]; /* the metric probes just before the injection */
    char notes[EXPERIMENT_MAX_NOTES][300];      /* expectations that could not be checked */
    size_t nnotes;
    char states_seen[EXPERIMENT_MAX_STATES][PROBES_STATE_LEN];
    size_t nstates;
    double error_code_delta; /* growth of taskd_db_errors_total{code=expected}; -1 unknown */
    int probe_write_status;  /* the recovery write's HTTP status */
    uint64_t writes_acknowledged, writes_failed, writes_indeterminate;
    /* Writes invoked while the fault was in place: acknowledged (before the rollback), refused,
     * unanswered (no answer within the request timeout), and the slowest answer. */
    uint64_t acked_in_fault, refused_in_fault, unanswered_in_fault;
    double slowest_write_in_fault_s;
    int audit_ran;
    uint64_t lost, unexpected, recovered;
    char *audit_json; /* audit_render_json, NULL when the audit did not run */
    char integrity[128];
    int crashed_before_audit;
    /* What a phase could not do ("" when it could); the verdict makes each a failed check:
     * "rollback", "crash and restart", "ledger", "audit", "clean stop". */
    char rollback_error[300], restart_error[300], ledger_error[300], audit_error[300];
    char stop_error[300];
    struct experiment_check checks[EXPERIMENT_MAX_CHECKS];
    size_t nchecks;
    struct probe_sample *probes;
    size_t nprobes;
    uint64_t probes_dropped;
    struct lg_results load;
    int load_valid;
    double load_offset_s; /* series row t + this = seconds since the start */
    struct experiment_alert alerts[EXPERIMENT_MAX_ALERTS];
    size_t nalerts;
    int alerts_checked;
    char alerts_error[300];
    uint64_t webhook_posts;
};

/* Sets every field to "not reached": times -1, unknown counters -1, status error. */
void experiment_result_init(struct experiment_result *res, const struct scenario *sc);

/* Frees what the result owns (probes, the audit's JSON, the load's results); accepts NULL. */
void experiment_result_free(struct experiment_result *res);

const char *experiment_status_name(enum experiment_status s);

#endif
