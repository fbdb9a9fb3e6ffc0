/*
 * probes: bounded HTTP readings with http_fetch (a fresh connection per reading: a probe must
 * never ride on a connection to a taskd that was restarted), a minimal reader of the text
 * exposition, and the alert lists of Prometheus and Alertmanager (cJSON).
 */
#include "probes.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "http_fetch.h"

#define METRICS_LIMIT (1024 * 1024)
#define ALERTS_LIMIT (4 * 1024 * 1024)
#define PROBE_TIMEOUT_MS 1000
#define ALERTS_TIMEOUT_MS 2000

/* Parses one sample line: name, the value of `label` (if any) and the value. */
static int parse_line(const char *line, const char *end, char *name, size_t name_cap,
                      const char *label, char *label_value, size_t lv_cap, double *value)
{
    const char *p = line;
    size_t n = strcspn(p, "{ \t\n");
    if (n == 0 || n >= name_cap || p + n > end)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    p += n;
    *label_value = '\0';
    if (*p == '{') {
        p++;
        while (p < end && *p != '}') {
            size_t ln = strcspn(p, "=}");
            const char *lname = p;
            p += ln;
            if (*p != '=' || p[1] != '"')
                return -1;
            p += 2;
            char val[128];
            size_t vn = 0;
            while (p < end && *p != '"') {
                char c = *p++;
                if (c == '\\' && p < end) {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                }
                if (vn + 1 < sizeof(val))
                    val[vn++] = c;
            }
            val[vn] = '\0';
            if (p >= end)
                return -1;
            p++; /* closing quote */
            if (label && strlen(label) == ln && strncmp(lname, label, ln) == 0)
                snprintf(label_value, lv_cap, "%s", val);
            if (*p == ',')
                p++;
        }
        if (p >= end)
            return -1;
        p++; /* closing brace */
    }
    char *num_end;
    errno = 0;
    *value = strtod(p, &num_end);
    return num_end == p || errno == ERANGE ? -1 : 0;
}

/* Calls fn for every sample line; stops when fn returns non-zero. */
static void each_sample(const char *text, const char *label,
                        int (*fn)(const char *name, const char *lv, double v, void *ctx), void *ctx)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        char name[128], lv[128];
        double v;
        if (*line != '#' && *line != '\n' &&
            parse_line(line, end, name, sizeof(name), label, lv, sizeof(lv), &v) == 0 &&
            fn(name, lv, v, ctx))
            return;
        line = *end ? end + 1 : NULL;
    }
}

struct metric_query {
    const char *name, *label, *value;
    double sum;
    int found;
};

static int match_metric(const char *name, const char *lv, double v, void *ctx)
{
    struct metric_query *q = ctx;
    if (strcmp(name, q->name) != 0)
        return 0;
    if (q->label && strcmp(lv, q->value) != 0)
        return 0;
    q->sum += v;
    q->found = 1;
    return q->label != NULL; /* a labelled query wants one sample */
}

int probes_metric(const char *text, const char *name, const char *label, const char *value,
                  double *out)
{
    struct metric_query q = {name, label, value ? value : "", 0, 0};
    each_sample(text, label, match_metric, &q);
    if (!q.found)
        return -1;
    *out = q.sum;
    return 0;
}

struct state_query {
    char *out;
    size_t cap;
    int found;
};

static int match_state(const char *name, const char *lv, double v, void *ctx)
{
    struct state_query *q = ctx;
    if (strcmp(name, "taskd_db_file_state") != 0 || v != 1)
        return 0;
    snprintf(q->out, q->cap, "%s", lv);
    q->found = 1;
    return 1;
}

int probes_file_state(const char *text, char *out, size_t cap)
{
    struct state_query q = {out, cap, 0};
    each_sample(text, "state", match_state, &q);
    return q.found ? 0 : -1;
}

void probes_sample(const char *base_url, const char *error_code, const char *wal_path,
                   struct probe_sample *s)
{
    char url[256];
    s->db_up = -1;
    s->file_state[0] = '\0';
    s->db_errors = -1;
    s->wal_present = -1;
    snprintf(url, sizeof(url), "%s/readyz", base_url);
    int readyz = http_fetch_get(url, PROBE_TIMEOUT_MS, NULL, NULL, 0);
    s->readyz = readyz > 0 ? readyz : 0;
    if (s->readyz) {
        struct buf text;
        buf_init(&text, METRICS_LIMIT);
        snprintf(url, sizeof(url), "%s/metrics", base_url);
        if (http_fetch_get(url, PROBE_TIMEOUT_MS, &text, NULL, 0) == 200 && text.data) {
            double v;
            if (probes_metric(text.data, "taskd_db_up", NULL, NULL, &v) == 0)
                s->db_up = v == 1;
            probes_file_state(text.data, s->file_state, sizeof(s->file_state));
            if (probes_metric(text.data, "taskd_db_errors_total", error_code ? "code" : NULL,
                              error_code, &v) == 0)
                s->db_errors = v;
            else if (s->db_up >= 0)
                s->db_errors = 0; /* a code not counted yet: no series until its first error */
        }
        buf_free(&text);
    }
    if (wal_path) {
        struct stat st;
        s->wal_present = stat(wal_path, &st) == 0;
    }
}

static int add_alert(cJSON *labels, const char *state, struct probe_alert *out, size_t max,
                     size_t *n)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(labels, "alertname");
    if (!cJSON_IsString(name) || !state)
        return -1;
    if (*n < max) {
        snprintf(out[*n].name, sizeof(out[*n].name), "%s", name->valuestring);
        snprintf(out[*n].state, sizeof(out[*n].state), "%s", state);
        (*n)++;
    }
    return 0;
}

int probes_parse_prometheus_alerts(const char *json, struct probe_alert *out, size_t max, size_t *n,
                                   char *err, size_t errlen)
{
    int rc = -1;
    *n = 0;
    cJSON *root = cJSON_Parse(json);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(data, "alerts");
    if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0 ||
        !cJSON_IsArray(alerts)) {
        snprintf(err, errlen,
                 "the Prometheus answer is not {\"status\":\"success\","
                 "\"data\":{\"alerts\":[…]}}");
        goto out;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(a, "state");
        if (add_alert(cJSON_GetObjectItemCaseSensitive(a, "labels"),
                      cJSON_IsString(state) ? state->valuestring : NULL, out, max, n) < 0) {
            snprintf(err, errlen, "a Prometheus alert has no labels.alertname or state");
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int probes_parse_alertmanager_alerts(const char *json, struct probe_alert *out, size_t max,
                                     size_t *n, char *err, size_t errlen)
{
    int rc = -1;
    *n = 0;
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsArray(root)) {
        snprintf(err, errlen, "the Alertmanager answer is not a JSON array of alerts");
        goto out;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, root)
    {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(a, "status");
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(status, "state");
        if (add_alert(cJSON_GetObjectItemCaseSensitive(a, "labels"),
                      cJSON_IsString(state) ? state->valuestring : NULL, out, max, n) < 0) {
            snprintf(err, errlen, "an Alertmanager alert has no labels.alertname or status.state");
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* GETs base+path into body. Returns 0 on a 200, or -1 with a sentence in err. */
static int fetch(const char *base, const char *path, struct buf *body, char *err, size_t errlen)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base, path);
    int status = http_fetch_get(url, ALERTS_TIMEOUT_MS, body, err, errlen);
    if (status == 200)
        return 0;
    if (status > 0) {
        snprintf(err, errlen, "GET %s answered %d, not 200", url, status);
    } else if (status == HTTP_FETCH_NO_ANSWER) { /* err says "cannot read URL: why" */
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, " (is it running?)");
    }
    return -1;
}

int probes_prometheus_alerts(const char *url, struct probe_alert *out, size_t max, size_t *n,
                             char *err, size_t errlen)
{
    struct buf body;
    buf_init(&body, ALERTS_LIMIT);
    int rc = fetch(url, "/api/v1/alerts", &body, err, errlen);
    if (rc == 0)
        rc = probes_parse_prometheus_alerts(body.data ? body.data : "", out, max, n, err, errlen);
    buf_free(&body);
    return rc;
}

int probes_alertmanager_alerts(const char *url, struct probe_alert *out, size_t max, size_t *n,
                               char *err, size_t errlen)
{
    struct buf body;
    buf_init(&body, ALERTS_LIMIT);
    int rc = fetch(url, "/api/v2/alerts", &body, err, errlen);
    if (rc == 0)
        rc = probes_parse_alertmanager_alerts(body.data ? body.data : "", out, max, n, err, errlen);
    buf_free(&body);
    return rc;
}
