/*
 * scenarios: what one chaos experiment is — the fault (a mechanism with its parameters, made
 * while the service runs or before it starts), the service it breaks and how to tell that
 * service is alive and ready, the load, the audit, and what the service must do about the fault
 * (the expectations, which the verdict compares with what happened).
 *
 * An experiment is read from an experiment file (experiment_file.h); the built-in ones are
 * files too (builtin_experiments.h). A scenario owns every string it holds (scenario_free).
 */
#ifndef CHAOS_SCENARIOS_H
#define CHAOS_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>

#include "resource_api.h"

struct mechanism;

#define SCENARIO_MAX_ARGS 32
#define SCENARIO_MAX_ENV 8
#define SCENARIO_MAX_STATUSES 8
#define SCENARIO_MAX_METRICS 8
#define SCENARIO_MAX_ALERTS 8
#define SCENARIO_MAX_PARAMS 8

/* The probe reading that says the service noticed the fault. */
enum scenario_detect {
    DETECT_NOT_READY, /* not ready (or unreachable), db_up 0, the file state, a metric condition */
    DETECT_WAL_BACK,  /* a -wal file is at its path again (the service rebuilt it) */
    DETECT_ABSORBED,  /* nothing to detect: the fault must be absorbed (the service stays ready) */
    DETECT_NONE,      /* nothing is expected to show (observe only) */
};

/* When the fault is made: while the service serves, or with it stopped, before it starts. */
enum fault_when { FAULT_LIVE, FAULT_AT_START };

/* How an at-start fault stops the service first: SIGTERM (a clean stop) or SIGKILL (a crash). */
enum fault_stop { FAULT_STOP_TERM, FAULT_STOP_KILL };

#define SCENARIO_ANY_LOSS UINT64_MAX /* max_lost when the loss is counted, not bounded */

/* An HTTP probe: GET path, which answers count as a yes. */
struct scenario_http_check {
    const char *path;
    int status[SCENARIO_MAX_STATUSES];
    size_t nstatus;
};

/* The write that proves recovery: POST path with a JSON body, which answers count as a yes. */
struct scenario_http_write {
    const char *path, *body;
    int status[SCENARIO_MAX_STATUSES];
    size_t nstatus;
};

enum metric_source {
    METRIC_SCRAPE, /* a series of the service's own scrape (service.metrics_path) */
    METRIC_PROMQL, /* a PromQL expression against a Prometheus */
};

/* A metric probe, read at every probe: its value is the sum of the samples the selector matches
 * in the scrape, or the first sample of the PromQL result; unknown when none. */
struct scenario_metric {
    const char *name;
    enum metric_source source;
    const char *query;      /* a selector such as error_count_total{method="POST"}, or PromQL */
    const char *prometheus; /* METRIC_PROMQL: base URL; NULL: --prometheus */
};

enum metric_op { METRIC_GROWS, METRIC_EQ, METRIC_NE, METRIC_LT, METRIC_LE, METRIC_GT, METRIC_GE };

/* A condition a metric probe must meet during the fault: "grows" (its last reading in the
 * fault is above the one just before the injection), or "OP VALUE" at some probe. */
struct scenario_metric_expect {
    const char *probe;
    enum metric_op op;
    double value;
    const char *text; /* as written, for the check's name */
};

struct scenario_expect {
    const char *preset;  /* the named bundle the file started from */
    const char *summary; /* what the service must do, one sentence */
    int observe_only;    /* nothing is asserted: the verdict is "observed" */
    enum scenario_detect detect;
    int survives;           /* an at-start fault: the service comes up on it (serves live) */
    int readiness_drops;    /* the ready probe says no at some point of the fault */
    const char *file_state; /* taskd_db_file_state{state} that must read 1 (taskd's signal) */
    const char *error_code; /* taskd_db_errors_total{code} that must grow (taskd's signal) */
    int refuse_writes;      /* no write invoked during the fault is acknowledged */
    int writes_answered;    /* every write invoked during the fault gets an HTTP answer */
    int some_write_refused; /* at least one write is refused (the fault bit) */
    int writes_accepted;    /* writes invoked during the fault are acknowledged (absorbed) */
    int reads_served;       /* the read probe answers as expected throughout the fault */
    int recovers;           /* ready again after the rollback, and a write succeeds */
    int audit_lost;         /* the audit's lost writes are judged against max_lost */
    uint64_t max_lost;      /* acknowledged writes that may be lost (SCENARIO_ANY_LOSS: counted) */
    int no_unexpected;      /* no write the service refused took effect */
    int integrity;          /* PRAGMA integrity_check of the database after the run */
    int crash_before_audit; /* kill -9 and restart the service before the audit */
    struct scenario_metric_expect metrics[SCENARIO_MAX_METRICS];
    size_t nmetrics;
    const char *alerts[SCENARIO_MAX_ALERTS + 1]; /* alerts that must fire, NULL-terminated */
};

/* The service an experiment breaks. Strings may hold placeholders, expanded when the
 * experiment's directory and port are known: {port}, {port_file}, {dir} (the experiment's
 * directory), {data_dir}, {db}, {file_dir} (the folder of the file that described the service),
 * {{ and }} for braces. */
struct scenario_service {
    const char *name; /* for reports ("flask-tasks"); NULL: taskd, or the command's first word */
    int taskd;        /* the default: taskd beside chaos (or --taskd), its command made by chaos */
    const char *command[SCENARIO_MAX_ARGS + 1];    /* NULL-terminated; empty for taskd */
    const char *args[SCENARIO_MAX_ARGS + 1];       /* appended at every start */
    const char *fault_args[SCENARIO_MAX_ARGS + 1]; /* appended at the start on an at-start fault */
    const char *env[SCENARIO_MAX_ENV + 1];         /* "NAME=value" */
    const char *url;                               /* base URL template */
    const char *data_dir, *db;                     /* templates */
    const char *start_cmd, *stop_cmd, *kill_cmd;   /* a service the user runs (no command) */
    struct scenario_http_check live, ready, read;
    struct scenario_http_write write;
    const char *metrics_path; /* the service's own scrape; NULL: none */
    struct scenario_metric metrics[SCENARIO_MAX_METRICS];
    size_t nmetrics;
    uint64_t start_timeout_ns, stop_timeout_ns;
    const char *file_dir; /* {file_dir}; NULL for a built-in */
    const char *source;   /* the file that described the service */
};

struct scenario_load {
    double rate;     /* requests/s, open model; 0: the command line's (default 200) */
    const char *mix; /* task mix weights, "create=20,read=60,..."; NULL: the default */
    double missing_ratio;
    const char *targets; /* a targets file (resolved path); NULL: the task mix */
    const char *data;    /* its CSV data file */
    uint64_t request_timeout_ns;
};

/* The audit: loadgen's, configured for the service's API with resource_api's settings (a
 * preset such as "blog", then id-from, item-url, list-url, paging, ...). The load's task mix
 * reads the ids of what it creates the same way. */
struct scenario_audit {
    int enabled;
    struct resource_api api;
};

/* Windows and tolerances the file sets; 0 (or a negative ratio): the command line's. */
struct scenario_windows {
    uint64_t steady_ns, fault_ns, recover_timeout_ns, probe_interval_ns;
    double max_error_ratio;
    uint64_t max_p99_ns;
};

struct scenario {
    const char *name;      /* the experiment's directory name: [a-z0-9][a-z0-9._-]* */
    const char *summary;   /* one line for `chaos list` */
    const char *source;    /* the file it was read from, or "built-in NAME" */
    const char *mechanism; /* what the fault does, one line */
    const char *rollback;  /* how it is undone, one line */
    const char *expected;  /* = expect.summary */
    const struct mechanism *mech;
    const char *params[SCENARIO_MAX_PARAMS]; /* aligned with mech->params; NULL: its default */
    enum fault_when when;
    enum fault_stop stop;
    int at_start; /* when == FAULT_AT_START */
    int needs_root;
    struct scenario_service service;
    struct scenario_load load;
    struct scenario_audit audit;
    struct scenario_windows windows;
    struct scenario_expect expect;
    /* Every string above, owned. */
    char **owned;
    size_t nowned, owned_cap;
};

/* A copy of s owned by sc (freed with it); NULL when s is NULL or memory ran out. */
const char *scenario_keep(struct scenario *sc, const char *s);

void scenario_free(struct scenario *sc);

/* The index of the service's metric probe `name`, or -1. */
int scenario_metric_index(const struct scenario_service *svc, const char *name);

/* Whether reading v meets the metric condition (an "OP VALUE" one; "grows" is judged over the
 * fault window, never by one reading). */
int scenario_metric_holds(const struct scenario_metric_expect *e, double v);

#endif
