/*
 * probes: bounded HTTP readings with http_fetch (a fresh connection per reading: a probe must
 * never ride on a connection to a taskd that was restarted), a minimal reader of the text
 * exposition, and the alert lists of Prometheus and Alertmanager (cJSON).
 */
#include "probes.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
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

#define MAX_LABELS 16

/* One sample line: its name, labels and value (pointing into a small buffer of its own). */
struct sample_line {
    char name[128];
    size_t nlabels;
    char label[MAX_LABELS][64];
    char value[MAX_LABELS][128];
    double v;
};

/* Parses one sample line of the text exposition. Returns 0, or -1 (not a sample). */
static int parse_sample(const char *line, const char *end, struct sample_line *out)
{
    const char *p = line;
    size_t n = strcspn(p, "{ \t\n");
    if (n == 0 || n >= sizeof(out->name) || p + n > end)
        return -1;
    memcpy(out->name, p, n);
    out->name[n] = '\0';
    out->nlabels = 0;
    p += n;
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
            if (out->nlabels < MAX_LABELS && ln < sizeof(out->label[0])) {
                snprintf(out->label[out->nlabels], sizeof(out->label[0]), "%.*s", (int)ln, lname);
                snprintf(out->value[out->nlabels], sizeof(out->value[0]), "%s", val);
                out->nlabels++;
            }
            if (*p == ',')
                p++;
        }
        if (p >= end)
            return -1;
        p++; /* closing brace */
    }
    char *num_end;
    errno = 0;
    out->v = strtod(p, &num_end);
    return num_end == p || errno == ERANGE ? -1 : 0;
}

/* Calls fn for every sample line; stops when fn returns non-zero. */
static void each_sample(const char *text, int (*fn)(const struct sample_line *s, void *ctx),
                        void *ctx)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        struct sample_line s;
        if (*line != '#' && *line != '\n' && parse_sample(line, end, &s) == 0 && fn(&s, ctx))
            return;
        line = *end ? end + 1 : NULL;
    }
}

static const char *label_of(const struct sample_line *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->label[i], name) == 0)
            return s->value[i];
    return NULL;
}

/* A selector: a name and the labels it requires. */
struct selector {
    struct sample_line want; /* name and labels; v unused */
    double sum;
    int found;
    int one; /* stop at the first match */
};

static int match_selector(const struct sample_line *s, void *ctx)
{
    struct selector *q = ctx;
    if (strcmp(s->name, q->want.name) != 0)
        return 0;
    for (size_t i = 0; i < q->want.nlabels; i++) {
        const char *v = label_of(s, q->want.label[i]);
        if (!v || strcmp(v, q->want.value[i]) != 0)
            return 0;
    }
    q->sum += s->v;
    q->found = 1;
    return q->one;
}

int probes_selector(const char *text, const char *selector, double *out)
{
    struct selector q;
    memset(&q, 0, sizeof(q));
    char line[512];
    /* A selector parses as a sample line without its value. */
    if (snprintf(line, sizeof(line), "%s 0", selector) >= (int)sizeof(line) ||
        parse_sample(line, line + strlen(line), &q.want) < 0)
        return -1;
    each_sample(text, match_selector, &q);
    if (!q.found)
        return -1;
    *out = q.sum;
    return 0;
}

int probes_metric(const char *text, const char *name, const char *label, const char *value,
                  double *out)
{
    struct selector q;
    memset(&q, 0, sizeof(q));
    snprintf(q.want.name, sizeof(q.want.name), "%s", name);
    if (label) {
        snprintf(q.want.label[0], sizeof(q.want.label[0]), "%s", label);
        snprintf(q.want.value[0], sizeof(q.want.value[0]), "%s", value ? value : "");
        q.want.nlabels = 1;
        q.one = 1; /* a labelled query wants one sample */
    }
    each_sample(text, match_selector, &q);
    if (!q.found)
        return -1;
    *out = q.sum;
    return 0;
}

struct state_query {
    char *out;
    size_t cap;
    int found, seen;
};

static int match_state(const struct sample_line *s, void *ctx)
{
    struct state_query *q = ctx;
    if (strcmp(s->name, "taskd_db_file_state") != 0)
        return 0;
    q->seen = 1;
    const char *state = label_of(s, "state");
    if (s->v != 1 || !state)
        return 0;
    snprintf(q->out, q->cap, "%s", state);
    q->found = 1;
    return 1;
}

int probes_file_state(const char *text, char *out, size_t cap)
{
    struct state_query q = {out, cap, 0, 0};
    each_sample(text, match_state, &q);
    return q.found ? 0 : -1;
}

int probes_status_ok(const struct scenario_http_check *c, int status)
{
    for (size_t i = 0; i < c->nstatus; i++)
        if (c->status[i] == status)
            return 1;
    return 0;
}

/* Percent-encodes text for a query parameter. */
static void url_encode(const char *text, struct buf *out)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            buf_putc(out, (char)*p);
        else
            buf_printf(out, "%%%02X", *p);
    }
}

int probes_promql(const char *url, const char *query, double *out)
{
    struct buf u, body;
    buf_init(&u, 16384);
    buf_init(&body, METRICS_LIMIT);
    buf_printf(&u, "%s/api/v1/query?query=", url);
    url_encode(query, &u);
    int rc = -1;
    cJSON *root = NULL;
    if (u.overflowed || http_fetch_get(u.data, PROBE_TIMEOUT_MS, &body, NULL, 0) != 200 ||
        !body.data || !(root = cJSON_Parse(body.data)))
        goto out;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
    const cJSON *pair = NULL;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "scalar") == 0)
        pair = result;
    else if (cJSON_IsString(type) && strcmp(type->valuestring, "vector") == 0)
        pair = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(result, 0), "value");
    const cJSON *value = cJSON_GetArrayItem(pair, 1);
    if (cJSON_IsString(value)) {
        char *end;
        *out = strtod(value->valuestring, &end);
        rc = end != value->valuestring ? 0 : -1;
    }
out:
    cJSON_Delete(root);
    buf_free(&u);
    buf_free(&body);
    return rc;
}

/* 1 when the scrape has a sample of `name`. */
static int scrape_has(const char *text, const char *name)
{
    double ignored;
    return probes_metric(text, name, NULL, NULL, &ignored) == 0;
}

/* 1 when the scrape declares `selector`'s metric a counter (# TYPE NAME counter): a counter
 * with no sample yet (Prometheus clients write a labelled counter's first sample at its first
 * increment) reads 0, not "unknown". */
static int declared_counter(const char *text, const char *selector)
{
    char line[200];
    int n = (int)strcspn(selector, "{ ");
    snprintf(line, sizeof(line), "# TYPE %.*s counter\n", n, selector);
    return strstr(text, line) != NULL;
}

static void read_scrape(const struct probe_spec *spec, const char *text, struct probe_sample *s)
{
    double v;
    s->scraped = 1;
    if (probes_metric(text, "taskd_db_up", NULL, NULL, &v) == 0)
        s->db_up = v == 1;
    s->has_file_state = scrape_has(text, "taskd_db_file_state");
    probes_file_state(text, s->file_state, sizeof(s->file_state));
    s->has_db_errors = scrape_has(text, "taskd_db_errors_total");
    if (probes_metric(text, "taskd_db_errors_total", spec->error_code ? "code" : NULL,
                      spec->error_code, &v) == 0)
        s->db_errors = v;
    else if (s->db_up >= 0)
        s->db_errors = 0; /* a code not counted yet: no series until its first error */
    for (size_t i = 0; i < spec->nmetrics; i++) {
        if (spec->metrics[i].source != METRIC_SCRAPE)
            continue;
        if (probes_selector(text, spec->metrics[i].query, &v) == 0)
            s->metric[i] = v;
        else if (declared_counter(text, spec->metrics[i].query))
            s->metric[i] = 0;
    }
}

void probes_sample(const struct probe_spec *spec, struct probe_sample *s)
{
    char url[512];
    memset(s, 0, sizeof(*s));
    s->db_up = -1;
    s->db_errors = -1;
    s->wal_present = -1;
    s->read = -1;
    for (size_t i = 0; i < SCENARIO_MAX_METRICS; i++)
        s->metric[i] = NAN;
    snprintf(url, sizeof(url), "%s%s", spec->base_url, spec->ready->path);
    int readyz = http_fetch_get(url, PROBE_TIMEOUT_MS, NULL, NULL, 0);
    s->readyz = readyz > 0 ? readyz : 0;
    s->ready = probes_status_ok(spec->ready, s->readyz);
    if (s->readyz && spec->read) {
        snprintf(url, sizeof(url), "%s%s", spec->base_url, spec->read->path);
        int read = http_fetch_get(url, PROBE_TIMEOUT_MS, NULL, NULL, 0);
        s->read = read > 0 ? read : 0;
    }
    if (s->readyz && spec->metrics_path) {
        struct buf text;
        buf_init(&text, METRICS_LIMIT);
        snprintf(url, sizeof(url), "%s%s", spec->base_url, spec->metrics_path);
        if (http_fetch_get(url, PROBE_TIMEOUT_MS, &text, NULL, 0) == 200 && text.data)
            read_scrape(spec, text.data, s);
        buf_free(&text);
    }
    for (size_t i = 0; i < spec->nmetrics; i++) {
        const struct scenario_metric *m = &spec->metrics[i];
        const char *server = m->prometheus ? m->prometheus : spec->prometheus;
        double v;
        if (m->source == METRIC_PROMQL && server && probes_promql(server, m->query, &v) == 0)
            s->metric[i] = v;
    }
    if (spec->wal_path) {
        struct stat st;
        s->wal_present = stat(spec->wal_path, &st) == 0;
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
