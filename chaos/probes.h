/*
 * probes: what chaos reads while an experiment runs — the service's ready probe (taskd's
 * /readyz by default) and read probe, its own scrape (taskd's db_up, file state and error
 * counter, where it exports them, and the experiment's metric probes), PromQL metric probes
 * against a Prometheus, the -wal file's presence (stat only: chaos never opens a live database
 * file), and the alerts that Prometheus and Alertmanager report.
 *
 * Every request is bounded (a hung service is a reading, "unreachable", not a hung chaos). The
 * metrics parser reads only what the verdict needs from the text exposition: the samples of a
 * selector such as name{label="value",...} (summed).
 */
#ifndef CHAOS_PROBES_H
#define CHAOS_PROBES_H

#include <stddef.h>

#include "scenarios.h"

#define PROBES_STATE_LEN 16

/* What to read, for one experiment. */
struct probe_spec {
    const char *base_url;
    const struct scenario_http_check *ready;
    const struct scenario_http_check *read; /* NULL: no read probe */
    const char *metrics_path;               /* the service's scrape; NULL: none */
    const char *error_code; /* taskd_db_errors_total{code=...} to follow (NULL: all codes) */
    const char *wal_path;   /* NULL: not checked */
    const struct scenario_metric *metrics;
    size_t nmetrics;
    const char *prometheus; /* for PromQL probes without their own server (--prometheus) */
};

/* One reading. t is seconds since the experiment's start. */
struct probe_sample {
    double t;
    int readyz; /* HTTP status of the ready probe, 0 when the service did not answer */
    int ready;  /* the ready probe answered one of its expected statuses */
    int read;   /* HTTP status of the read probe, 0 no answer, -1 not probed */
    int db_up;  /* taskd_db_up: 1, 0, or -1 when not in the scrape */
    char file_state[PROBES_STATE_LEN]; /* the taskd_db_file_state reading 1; "" unknown */
    double db_errors; /* taskd_db_errors_total{code=error_code} (all codes summed when no
                         code is given); -1 unknown */
    int wal_present;  /* 1/0 from stat(2) of the -wal path; -1 not checked */
    int scraped;      /* the scrape was read (so an absent series is really absent) */
    int has_file_state, has_db_errors;   /* the scrape has those taskd series at all */
    double metric[SCENARIO_MAX_METRICS]; /* the metric probes; NAN unknown */
};

/* Takes one reading as `spec` says. */
void probes_sample(const struct probe_spec *spec, struct probe_sample *s);

/* 1 when `status` is one the check expects. */
int probes_status_ok(const struct scenario_http_check *c, int status);

/* The sum of the samples a selector matches in a text exposition: `name` or
 * `name{label="value",...}` (every listed label must match; others are ignored). Returns 0, or
 * -1 when no sample matched (or the selector does not parse). */
int probes_selector(const char *text, const char *selector, double *out);

/* The value of the sample `name` (with label `label`="value" when label is not NULL; other
 * labels ignored) in a text exposition; when label is NULL and several samples match, their
 * sum. Returns 0, or -1 when no sample matched. */
int probes_metric(const char *text, const char *name, const char *label, const char *value,
                  double *out);

/* The first sample's value of a PromQL instant query at the Prometheus at `url` (a scalar, or
 * the first element of a vector). Returns 0, or -1 (no answer, an error, an empty result). */
int probes_promql(const char *url, const char *query, double *out);

/* The state of taskd_db_file_state{state} that reads 1, into out. Returns 0, or -1. */
int probes_file_state(const char *text, char *out, size_t cap);

/* One alert as Prometheus (state: pending, firing) or Alertmanager (state: active, suppressed,
 * unprocessed) lists it. */
struct probe_alert {
    char name[64];
    char state[16];
};

/* GET {url}/api/v1/alerts of Prometheus, or {url}/api/v2/alerts of Alertmanager. Fills up to
 * max alerts, sets *n. Returns 0, or -1 with a sentence in err. */
int probes_prometheus_alerts(const char *url, struct probe_alert *out, size_t max, size_t *n,
                             char *err, size_t errlen);
int probes_alertmanager_alerts(const char *url, struct probe_alert *out, size_t max, size_t *n,
                               char *err, size_t errlen);

/* Parsers of the two answers, for the tests. Same contract as above. */
int probes_parse_prometheus_alerts(const char *json, struct probe_alert *out, size_t max, size_t *n,
                                   char *err, size_t errlen);
int probes_parse_alertmanager_alerts(const char *json, struct probe_alert *out, size_t max,
                                     size_t *n, char *err, size_t errlen);

#endif
