/*
 * probes: what chaos reads while an experiment runs — taskd's /readyz and /metrics, the -wal
 * file's presence (stat only: chaos never opens a live database file), and the alerts that
 * Prometheus and Alertmanager report.
 *
 * Every request is bounded (a hung taskd is a reading, "unreachable", not a hung chaos). The
 * metrics parser reads only what the verdict needs from the text exposition: one sample by
 * name and at most one label.
 */
#ifndef CHAOS_PROBES_H
#define CHAOS_PROBES_H

#include <stddef.h>

#define PROBES_STATE_LEN 16

/* One reading. t is seconds since the experiment's start. */
struct probe_sample {
    double t;
    int readyz; /* HTTP status of /readyz, 0 when taskd did not answer */
    int db_up;  /* taskd_db_up: 1, 0, or -1 when /metrics could not be read */
    char file_state[PROBES_STATE_LEN]; /* the taskd_db_file_state reading 1; "" unknown */
    double db_errors; /* taskd_db_errors_total{code=error_code} (all codes summed when no
                         code is given); -1 unknown */
    int wal_present;  /* 1/0 from stat(2) of the -wal path; -1 not checked */
};

/* Takes one reading of the taskd at base_url. wal_path may be NULL. */
void probes_sample(const char *base_url, const char *error_code, const char *wal_path,
                   struct probe_sample *s);

/* The value of the sample `name` (with label `label`="value" when label is not NULL; other
 * labels ignored) in a text exposition; when label is NULL and several samples match, their
 * sum. Returns 0, or -1 when no sample matched. */
int probes_metric(const char *text, const char *name, const char *label, const char *value,
                  double *out);

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
