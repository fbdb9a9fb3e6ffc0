/*
 * experiment_file: see experiment_file.h. The reader walks the JSON with a path it keeps as it
 * descends ("$.service.live.status[1]"), so every refusal names where it happened; each
 * section has a table of the members it takes, and anything else is refused by name, so a typo
 * never silently falls back to a default. Values go through the same parsers as chaos's flags
 * (common/flag_value), so "2s" or "64KiB" mean the same in a file and on the command line.
 */
#include "experiment_file.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "flag_value.h"
#include "mechanism.h"
#include "placeholders.h"
#include "workload.h"

#define PATH_CAP 256

struct reader {
    struct scenario *sc;
    const struct experiment_source *src; /* the file of the section being read */
    char path[PATH_CAP];                 /* the JSON path of the value being read */
    char *err;
    size_t errlen;
};

/* ---- errors and paths ---------------------------------------------------------------------- */

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s: %s: %s", r->src->name, r->path, msg);
    return -1;
}

/* What a value is, for "got ...": a string with its text, a number with its value. */
static void describe(const cJSON *v, char *out, size_t cap)
{
    if (!v)
        snprintf(out, cap, "nothing");
    else if (cJSON_IsString(v))
        snprintf(out, cap, "\"%.60s\"%s", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
    else if (cJSON_IsNumber(v))
        snprintf(out, cap, "the number %g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(out, cap, "null");
    else if (cJSON_IsArray(v))
        snprintf(out, cap, "an array");
    else
        snprintf(out, cap, "an object");
}

static int expected(struct reader *r, const cJSON *v, const char *what)
{
    char got[100];
    describe(v, got, sizeof(got));
    return fail(r, "expected %s, got %s", what, got);
}

/* Appends ".key" or "[i]" to the path; returns the old length, for pop(). */
static size_t push_key(struct reader *r, const char *key)
{
    size_t len = strlen(r->path);
    snprintf(r->path + len, sizeof(r->path) - len, ".%s", key);
    return len;
}

static size_t push_index(struct reader *r, int i)
{
    size_t len = strlen(r->path);
    snprintf(r->path + len, sizeof(r->path) - len, "[%d]", i);
    return len;
}

static void pop(struct reader *r, size_t len)
{
    r->path[len] = '\0';
}

/* Refuses members not in `allowed` (NULL-terminated), naming them all. */
static int only_members(struct reader *r, const cJSON *obj, const char *const *allowed)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], m->string) == 0;
        if (known)
            continue;
        char list[400] = "";
        size_t used = 0;
        for (size_t i = 0; allowed[i]; i++)
            used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
                                     "%s%s", i ? ", " : "", allowed[i]);
        return fail(r, "unknown member \"%s\"; expected one of: %s", m->string, list);
    }
    return 0;
}

/* ---- typed members ------------------------------------------------------------------------- */

static const char *keep(struct reader *r, const char *s)
{
    return scenario_keep(r->sc, s);
}

/* A string member: *out unchanged when absent and not required. */
static int get_string(struct reader *r, const cJSON *obj, const char *key, int required,
                      const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t len = push_key(r, key);
    int rc = 0;
    if (!v && required)
        rc = fail(r, "missing: expected a string");
    else if (v && (!cJSON_IsString(v) || !*v->valuestring))
        rc = expected(r, v, "a non-empty string");
    else if (v && !(*out = keep(r, v->valuestring)))
        rc = fail(r, "out of memory");
    if (rc == 0)
        pop(r, len);
    return rc;
}

/* A string that may hold placeholders. */
static int get_template(struct reader *r, const cJSON *obj, const char *key, const char **out)
{
    const char *before = *out;
    if (get_string(r, obj, key, 0, out) < 0)
        return -1;
    char e[400];
    if (*out != before && placeholders_check(*out, e, sizeof(e)) < 0) {
        push_key(r, key);
        return fail(r, "%s", e);
    }
    return 0;
}

static int get_bool(struct reader *r, const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    if (!cJSON_IsBool(v))
        return expected(r, v, "true or false");
    *out = cJSON_IsTrue(v);
    pop(r, len);
    return 0;
}

static int get_duration(struct reader *r, const cJSON *obj, const char *key, uint64_t min_ns,
                        uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    char e[300];
    if (!cJSON_IsString(v))
        return expected(r, v, "a duration with its unit, such as \"250ms\", \"2s\" or \"1m\"");
    if (flag_duration(key, v->valuestring, min_ns, FLAG_NO_MAX, out, e, sizeof(e)) < 0)
        return expected(r, v, "a duration with its unit, such as \"250ms\", \"2s\" or \"1m\"");
    pop(r, len);
    return 0;
}

static int get_positive(struct reader *r, const cJSON *obj, const char *key, double max,
                        double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > max) {
        char what[80];
        snprintf(what, sizeof(what), "a number above 0 and at most %g", max);
        return expected(r, v, what);
    }
    *out = v->valuedouble;
    pop(r, len);
    return 0;
}

/* A ratio: a number from 0 to 1, or a percentage string ("1%"). */
static int get_ratio(struct reader *r, const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    char e[200];
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1)
        *out = v->valuedouble;
    else if (!cJSON_IsString(v) || flag_ratio(key, v->valuestring, out, e, sizeof(e)) < 0)
        return expected(r, v, "a ratio from 0 to 1, such as 0.01 or \"1%\"");
    pop(r, len);
    return 0;
}

/* An array of strings (templates when `templates`) into out (cap entries, NULL-terminated). */
static int get_strings(struct reader *r, const cJSON *obj, const char *key, int templates,
                       int non_empty, const char **out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    if (!cJSON_IsArray(v) || (non_empty && cJSON_GetArraySize(v) == 0))
        return expected(r, v, non_empty ? "a non-empty array of strings" : "an array of strings");
    if ((size_t)cJSON_GetArraySize(v) > cap)
        return fail(r, "at most %zu strings, got %d", cap, cJSON_GetArraySize(v));
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        size_t at = push_index(r, i);
        char e[400];
        if (!cJSON_IsString(item))
            return expected(r, item, "a string");
        if (templates && placeholders_check(item->valuestring, e, sizeof(e)) < 0)
            return fail(r, "%s", e);
        if (!(out[i++] = keep(r, item->valuestring)))
            return fail(r, "out of memory");
        pop(r, at);
    }
    out[i] = NULL;
    pop(r, len);
    return 0;
}

/* An object that must be there (or may be absent when !required: *out NULL). */
static int get_object(struct reader *r, const cJSON *obj, const char *key, int required,
                      const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v && !required)
        return 0;
    size_t len = push_key(r, key);
    if (!cJSON_IsObject(v))
        return v ? expected(r, v, "an object") : fail(r, "missing: expected an object");
    *out = v;
    pop(r, len);
    return 0;
}

/* One of `choices` (NULL-terminated); its index into *out. */
static int get_choice(struct reader *r, const cJSON *obj, const char *key,
                      const char *const *choices, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    for (int i = 0; cJSON_IsString(v) && choices[i]; i++) {
        if (strcmp(choices[i], v->valuestring) == 0) {
            *out = i;
            pop(r, len);
            return 0;
        }
    }
    char what[300] = "one of";
    size_t used = strlen(what);
    for (size_t i = 0; choices[i]; i++)
        used += (size_t)snprintf(what + used, used < sizeof(what) ? sizeof(what) - used : 0,
                                 "%s \"%s\"", i ? "," : "", choices[i]);
    return expected(r, v, what);
}

/* A path relative to the file's folder, made absolute; it must exist. */
static int get_file(struct reader *r, const cJSON *obj, const char *key, const char **out)
{
    const char *given = NULL;
    if (get_string(r, obj, key, 0, &given) < 0 || !given)
        return given ? -1 : 0;
    size_t len = push_key(r, key);
    char full[PATH_MAX];
    if (given[0] == '/' || !r->src->dir)
        snprintf(full, sizeof(full), "%s", given);
    else if ((size_t)snprintf(full, sizeof(full), "%s/%s", r->src->dir, given) >= sizeof(full))
        return fail(r, "the path is too long");
    struct stat st;
    if (stat(full, &st) < 0 || !S_ISREG(st.st_mode))
        return fail(r, "expected a file (relative to the file's folder), but %s %s", full,
                    stat(full, &st) < 0 ? strerror(errno) : "is not a regular file");
    *out = keep(r, full);
    pop(r, len);
    return 0;
}

/* ---- the fault ----------------------------------------------------------------------------- */

static int read_params(struct reader *r, const cJSON *params)
{
    const struct mechanism *m = r->sc->mech;
    size_t len = push_key(r, "params");
    if (!cJSON_IsObject(params))
        return expected(r, params, "an object of the mechanism's parameters");
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        int i = mechanism_param_index(m, p->string);
        if (i < 0) {
            char list[300] = "";
            size_t used = 0;
            for (size_t k = 0; m->params && m->params[k].name; k++)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "",
                                         m->params[k].name);
            return fail(r, "the %s mechanism has no parameter \"%s\"; it takes %s", m->name,
                        p->string, *list ? list : "none");
        }
        size_t at = push_key(r, p->string);
        char text[64], e[400];
        const char *value = NULL;
        if (cJSON_IsString(p))
            value = p->valuestring;
        else if (cJSON_IsNumber(p) && p->valuedouble >= 0 &&
                 p->valuedouble == floor(p->valuedouble)) {
            snprintf(text, sizeof(text), "%.0f", p->valuedouble);
            value = text;
        }
        if (!value || mechanism_param_check(&m->params[i], value, e, sizeof(e)) < 0) {
            static const char *const what[] = {
                [MECHANISM_PARAM_PATH] = "a path (placeholders such as {db} allowed)",
                [MECHANISM_PARAM_TEXT] = "a string",
                [MECHANISM_PARAM_SIZE] = "a size such as 4096, 64KiB or 16M",
                [MECHANISM_PARAM_COUNT] = "a whole number",
                [MECHANISM_PARAM_DURATION] = "a duration such as 400ms or 2s",
            };
            char want[200];
            snprintf(want, sizeof(want), "%s (%s)", what[m->params[i].type], m->params[i].doc);
            return expected(r, p, want);
        }
        if (!(r->sc->params[i] = keep(r, value)))
            return fail(r, "out of memory");
        pop(r, at);
    }
    pop(r, len);
    return 0;
}

static int read_fault(struct reader *r, const cJSON *fault)
{
    static const char *const members[] = {"mechanism", "params",   "when", "stop",
                                          "summary",   "rollback", NULL};
    static const char *const whens[] = {"live", "at-start", NULL};
    static const char *const stops[] = {"term", "kill", NULL};
    struct scenario *sc = r->sc;
    size_t len = push_key(r, "fault");
    const char *name = NULL;
    if (only_members(r, fault, members) < 0 || get_string(r, fault, "mechanism", 1, &name) < 0)
        return -1;
    if (!(sc->mech = mechanism_find(name))) {
        char list[600] = "";
        size_t used = 0;
        for (size_t i = 0; mechanisms[i]; i++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                     mechanisms[i]->name);
        push_key(r, "mechanism");
        return fail(r, "unknown mechanism \"%s\"; chaos has %s", name, list);
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(fault, "params");
    if (params && read_params(r, params) < 0)
        return -1;
    for (size_t i = 0; sc->mech->params && sc->mech->params[i].name; i++) {
        if (!sc->params[i] && !sc->mech->params[i].fallback) {
            push_key(r, "params");
            return fail(r, "the %s mechanism needs \"%s\" (%s)", sc->mech->name,
                        sc->mech->params[i].name, sc->mech->params[i].doc);
        }
    }
    int when = (int)sc->mech->default_when, stop = (int)sc->mech->default_stop;
    if (get_choice(r, fault, "when", whens, &when) < 0 ||
        get_choice(r, fault, "stop", stops, &stop) < 0)
        return -1;
    if (!(sc->mech->when & (1u << when))) {
        push_key(r, "when");
        return fail(r, "the %s mechanism cannot be made %s; it is made %s", sc->mech->name,
                    whens[when], sc->mech->when & MECHANISM_LIVE ? "live" : "at-start");
    }
    sc->when = (enum fault_when)when;
    sc->stop = (enum fault_stop)stop;
    sc->at_start = sc->when == FAULT_AT_START;
    sc->needs_root = sc->mech->needs_root != NULL;
    sc->mechanism = sc->mech->summary;
    sc->rollback = sc->mech->rollback_summary;
    if (get_string(r, fault, "summary", 0, &sc->mechanism) < 0 ||
        get_string(r, fault, "rollback", 0, &sc->rollback) < 0)
        return -1;
    pop(r, len);
    return 0;
}

/* ---- the expectations ---------------------------------------------------------------------- */

static void apply_preset(struct scenario_expect *x, int preset)
{
    int fail_closed = preset == 0 || preset == 1, absorb = preset == 3;
    x->observe_only = preset == 4;
    x->detect = fail_closed ? DETECT_NOT_READY : absorb ? DETECT_ABSORBED : DETECT_NONE;
    x->survives = fail_closed;
    x->readiness_drops = fail_closed;
    x->refuse_writes = fail_closed;
    x->writes_answered = fail_closed;
    x->some_write_refused = fail_closed;
    x->reads_served = preset == 1;
    x->writes_accepted = absorb;
    x->recovers = !x->observe_only;
    x->audit_lost = !x->observe_only;
    x->max_lost = 0;
    x->no_unexpected = !x->observe_only;
    x->integrity = !x->observe_only;
}

static const char *const preset_names[] = {"fail-closed", "keep-serving-reads", "lose-nothing",
                                           "absorb",      "observe-only",       NULL};
static const char *const preset_summaries[] = {
    "the service fails closed: it stays up, turns not ready, refuses every write with an answer, "
    "recovers by itself once the fault is undone, and loses nothing",
    "the service refuses writes but keeps serving reads, turns not ready, recovers, and loses "
    "nothing",
    "the service may be unavailable, but it recovers and loses no acknowledged write",
    "the service absorbs the fault: it stays ready, keeps acknowledging writes, and loses "
    "nothing",
    "nothing is asserted: chaos reports what the service did",
};

static int read_metric_conditions(struct reader *r, const cJSON *metrics)
{
    struct scenario_expect *x = &r->sc->expect;
    size_t len = push_key(r, "metrics");
    if (!cJSON_IsObject(metrics))
        return expected(r, metrics, "an object: metric probe name -> \"grows\" or \"OP NUMBER\"");
    const cJSON *m;
    cJSON_ArrayForEach(m, metrics)
    {
        size_t at = push_key(r, m->string);
        if (x->nmetrics == SCENARIO_MAX_METRICS)
            return fail(r, "at most %d metric conditions", SCENARIO_MAX_METRICS);
        struct scenario_metric_expect *e = &x->metrics[x->nmetrics];
        static const struct {
            const char *op;
            enum metric_op value;
        } ops[] = {{"==", METRIC_EQ}, {"!=", METRIC_NE}, {"<=", METRIC_LE},
                   {">=", METRIC_GE}, {"<", METRIC_LT},  {">", METRIC_GT}};
        const char *text = cJSON_IsString(m) ? m->valuestring : "";
        int ok = 0;
        if (strcmp(text, "grows") == 0) {
            e->op = METRIC_GROWS;
            ok = 1;
        }
        for (size_t i = 0; !ok && i < sizeof(ops) / sizeof(ops[0]); i++) {
            size_t n = strlen(ops[i].op);
            if (strncmp(text, ops[i].op, n) != 0)
                continue;
            char *end;
            errno = 0;
            e->value = strtod(text + n, &end);
            ok = end != text + n && !*end && errno == 0 && isfinite(e->value);
            e->op = ops[i].value;
            break;
        }
        if (!ok)
            return expected(r, m, "\"grows\", or a comparison such as \"== 1\" or \"> 0\"");
        e->probe = keep(r, m->string);
        e->text = keep(r, text);
        x->nmetrics++;
        pop(r, at);
    }
    pop(r, len);
    return 0;
}

static int read_max_lost(struct reader *r, const cJSON *expect)
{
    struct scenario_expect *x = &r->sc->expect;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(expect, "max_lost_writes");
    if (!v)
        return 0;
    size_t len = push_key(r, "max_lost_writes");
    if (cJSON_IsString(v) && strcmp(v->valuestring, "counted") == 0)
        x->max_lost = SCENARIO_ANY_LOSS;
    else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 &&
             v->valuedouble == floor(v->valuedouble))
        x->max_lost = (uint64_t)v->valuedouble;
    else
        return expected(r, v,
                        "a whole number of writes, or \"counted\" (the loss is reported, not "
                        "bounded)");
    x->audit_lost = 1;
    pop(r, len);
    return 0;
}

static int read_expect(struct reader *r, const cJSON *expect)
{
    static const char *const members[] = {"preset",
                                          "summary",
                                          "detect",
                                          "service_stays_up",
                                          "readiness_drops",
                                          "writes_refused",
                                          "writes_answered",
                                          "some_write_refused",
                                          "writes_accepted",
                                          "reads_served",
                                          "recovers",
                                          "max_lost_writes",
                                          "no_unexpected_writes",
                                          "integrity_check",
                                          "crash_before_audit",
                                          "file_state",
                                          "error_code",
                                          "metrics",
                                          "alerts",
                                          NULL};
    static const char *const detects[] = {"not-ready", "wal-rebuilt", "absorbed", "none", NULL};
    struct scenario_expect *x = &r->sc->expect;
    size_t len = push_key(r, "expect");
    if (only_members(r, expect, members) < 0)
        return -1;
    int preset = 0;
    if (!cJSON_GetObjectItemCaseSensitive(expect, "preset"))
        return fail(r, "missing \"preset\": the expectation is yours to state: one of "
                       "fail-closed, keep-serving-reads, lose-nothing, absorb, observe-only "
                       "(then adjust single checks)");
    if (get_choice(r, expect, "preset", preset_names, &preset) < 0)
        return -1;
    apply_preset(x, preset);
    x->preset = preset_names[preset];
    x->summary = preset_summaries[preset];
    int detect = (int)x->detect;
    if (get_string(r, expect, "summary", 0, &x->summary) < 0 ||
        get_choice(r, expect, "detect", detects, &detect) < 0 ||
        get_bool(r, expect, "service_stays_up", &x->survives) < 0 ||
        get_bool(r, expect, "readiness_drops", &x->readiness_drops) < 0 ||
        get_bool(r, expect, "writes_refused", &x->refuse_writes) < 0 ||
        get_bool(r, expect, "writes_answered", &x->writes_answered) < 0 ||
        get_bool(r, expect, "some_write_refused", &x->some_write_refused) < 0 ||
        get_bool(r, expect, "writes_accepted", &x->writes_accepted) < 0 ||
        get_bool(r, expect, "reads_served", &x->reads_served) < 0 ||
        get_bool(r, expect, "recovers", &x->recovers) < 0 ||
        get_bool(r, expect, "no_unexpected_writes", &x->no_unexpected) < 0 ||
        get_bool(r, expect, "integrity_check", &x->integrity) < 0 ||
        get_bool(r, expect, "crash_before_audit", &x->crash_before_audit) < 0 ||
        read_max_lost(r, expect) < 0 ||
        get_string(r, expect, "file_state", 0, &x->file_state) < 0 ||
        get_string(r, expect, "error_code", 0, &x->error_code) < 0)
        return -1;
    x->detect = (enum scenario_detect)detect;
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(expect, "metrics");
    if (metrics && read_metric_conditions(r, metrics) < 0)
        return -1;
    if (get_strings(r, expect, "alerts", 0, 0, x->alerts, SCENARIO_MAX_ALERTS) < 0)
        return -1;
    if (x->observe_only) {
        /* observe-only states nothing: a check beside it would be ignored, so it is refused. */
        const cJSON *m;
        cJSON_ArrayForEach(m, expect)
        {
            static const char *const fine[] = {"preset", "summary", "alerts", "crash_before_audit",
                                               NULL};
            int ok = 0;
            for (size_t i = 0; fine[i]; i++)
                ok |= strcmp(fine[i], m->string) == 0;
            if (!ok) {
                push_key(r, m->string);
                return fail(r, "an observe-only experiment asserts nothing; drop this member "
                               "or choose another preset");
            }
        }
    }
    r->sc->expected = x->summary;
    pop(r, len);
    return 0;
}

/* ---- the service --------------------------------------------------------------------------- */

/* "status": [200, ...] of obj, when there, into status[] (at most SCENARIO_MAX_STATUSES). */
static int read_statuses(struct reader *r, const cJSON *obj, int *status, size_t *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "status");
    if (!list)
        return 0;
    size_t len = push_key(r, "status");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0 ||
        cJSON_GetArraySize(list) > SCENARIO_MAX_STATUSES)
        return expected(r, list, "an array of 1 to 8 HTTP statuses");
    *n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (!cJSON_IsNumber(v) || v->valuedouble < 100 || v->valuedouble > 599 ||
            v->valuedouble != floor(v->valuedouble)) {
            push_index(r, (int)*n);
            return expected(r, v, "an HTTP status from 100 to 599");
        }
        status[(*n)++] = (int)v->valuedouble;
    }
    pop(r, len);
    return 0;
}

static int check_path(struct reader *r, const char *key, const char *path)
{
    if (path[0] == '/')
        return 0;
    push_key(r, key);
    return fail(r, "expected a path that starts with /, got \"%s\"", path);
}

/* "path", or {"path": "...", "status": [200, ...]}. */
static int read_http_check(struct reader *r, const cJSON *svc, const char *key,
                           struct scenario_http_check *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(svc, key);
    if (!v)
        return 0;
    size_t len = push_key(r, key);
    static const char *const members[] = {"path", "status", NULL};
    if (cJSON_IsString(v)) {
        if (v->valuestring[0] != '/')
            return expected(r, v, "a path that starts with /");
        c->path = keep(r, v->valuestring);
        pop(r, len);
        return 0;
    }
    if (!cJSON_IsObject(v))
        return expected(r, v,
                        "a path such as \"/health\", or {\"path\": \"/health\", "
                        "\"status\": [200]}");
    if (only_members(r, v, members) < 0 || get_string(r, v, "path", 1, &c->path) < 0 ||
        check_path(r, "path", c->path) < 0 || read_statuses(r, v, c->status, &c->nstatus) < 0)
        return -1;
    pop(r, len);
    return 0;
}

/* {"path": "/tasks", "body": "{...}", "status": [201]} */
static int read_http_write(struct reader *r, const cJSON *svc, struct scenario_http_write *w)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(svc, "write");
    if (!v)
        return 0;
    static const char *const members[] = {"path", "body", "status", NULL};
    size_t len = push_key(r, "write");
    if (!cJSON_IsObject(v))
        return expected(r, v, "{\"path\": \"/tasks\", \"body\": \"{...}\", \"status\": [201]}");
    if (only_members(r, v, members) < 0 || get_string(r, v, "path", 0, &w->path) < 0 ||
        get_string(r, v, "body", 0, &w->body) < 0 || check_path(r, "path", w->path) < 0 ||
        read_statuses(r, v, w->status, &w->nstatus) < 0)
        return -1;
    pop(r, len);
    return 0;
}

static int read_env(struct reader *r, const cJSON *svc)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(svc, "env");
    if (!env)
        return 0;
    size_t len = push_key(r, "env");
    if (!cJSON_IsObject(env))
        return expected(r, env, "an object of environment variables (name -> string)");
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, env)
    {
        size_t at = push_key(r, e->string);
        char text[2048], pe[400];
        if (n == SCENARIO_MAX_ENV)
            return fail(r, "at most %d environment variables", SCENARIO_MAX_ENV);
        if (!*e->string || strchr(e->string, '='))
            return fail(r, "not a variable name");
        if (!cJSON_IsString(e))
            return expected(r, e, "a string");
        if (placeholders_check(e->valuestring, pe, sizeof(pe)) < 0)
            return fail(r, "%s", pe);
        snprintf(text, sizeof(text), "%s=%s", e->string, e->valuestring);
        r->sc->service.env[n++] = keep(r, text);
        pop(r, at);
    }
    pop(r, len);
    return 0;
}

static int read_metric_probes(struct reader *r, const cJSON *svc)
{
    struct scenario_service *s = &r->sc->service;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(svc, "metrics");
    if (!list)
        return 0;
    size_t len = push_key(r, "metrics");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > SCENARIO_MAX_METRICS)
        return expected(r, list, "an array of at most 8 metric probes");
    static const char *const members[] = {"name", "scrape", "promql", "prometheus", NULL};
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list)
    {
        size_t at = push_index(r, i++);
        struct scenario_metric *p = &s->metrics[s->nmetrics];
        if (!cJSON_IsObject(m))
            return expected(r, m,
                            "{\"name\": ..., \"scrape\": SERIES} or {\"name\": ..., "
                            "\"promql\": EXPR}");
        const char *scrape = NULL, *promql = NULL;
        if (only_members(r, m, members) < 0 || get_string(r, m, "name", 1, &p->name) < 0 ||
            get_string(r, m, "scrape", 0, &scrape) < 0 ||
            get_string(r, m, "promql", 0, &promql) < 0 ||
            get_string(r, m, "prometheus", 0, &p->prometheus) < 0)
            return -1;
        if (!scrape == !promql)
            return fail(r, "give one of \"scrape\" (a series of the service's own scrape) and "
                           "\"promql\" (an expression for a Prometheus)");
        for (size_t k = 0; k < s->nmetrics; k++)
            if (strcmp(s->metrics[k].name, p->name) == 0)
                return fail(r, "a second metric probe named \"%s\"", p->name);
        p->source = scrape ? METRIC_SCRAPE : METRIC_PROMQL;
        p->query = scrape ? scrape : promql;
        if (scrape && p->prometheus)
            return fail(r, "\"prometheus\" goes with \"promql\", not with \"scrape\"");
        s->nmetrics++;
        pop(r, at);
    }
    pop(r, len);
    return 0;
}

static void default_service(struct scenario_service *s)
{
    memset(s, 0, sizeof(*s));
    s->taskd = 1;
    s->data_dir = "{dir}/data";
    s->db = "{data_dir}/tasks.db";
    s->live = (struct scenario_http_check){"/livez", {200}, 1};
    s->ready = (struct scenario_http_check){"/readyz", {200}, 1};
    s->read = (struct scenario_http_check){"/tasks?limit=1", {200}, 1};
    s->write =
        (struct scenario_http_write){"/tasks", "{\"task\":\"chaos recovery probe\"}", {201}, 1};
    s->metrics_path = "/metrics";
    s->start_timeout_ns = 10 * 1000000000ull;
    s->stop_timeout_ns = 15 * 1000000000ull;
}

static int read_service(struct reader *r, const cJSON *svc)
{
    static const char *const members[] = {
        "command",   "args",         "fault_args", "env",           "url",
        "data_dir",  "db",           "live",       "ready",         "read",
        "write",     "metrics_path", "metrics",    "start_timeout", "stop_timeout",
        "start_cmd", "stop_cmd",     "kill_cmd",   "description",   "name",
        NULL};
    struct scenario_service *s = &r->sc->service;
    size_t len = push_key(r, "service");
    if (!cJSON_IsObject(svc))
        return expected(r, svc, "an object describing the service");
    const char *description = NULL;
    if (only_members(r, svc, members) < 0 ||
        get_strings(r, svc, "command", 1, 1, s->command, SCENARIO_MAX_ARGS) < 0 ||
        get_strings(r, svc, "args", 1, 0, s->args, SCENARIO_MAX_ARGS) < 0 ||
        get_strings(r, svc, "fault_args", 1, 0, s->fault_args, SCENARIO_MAX_ARGS) < 0 ||
        read_env(r, svc) < 0 || get_template(r, svc, "url", &s->url) < 0 ||
        get_template(r, svc, "data_dir", &s->data_dir) < 0 ||
        get_template(r, svc, "db", &s->db) < 0 || read_http_check(r, svc, "live", &s->live) < 0 ||
        read_http_check(r, svc, "ready", &s->ready) < 0 ||
        read_http_check(r, svc, "read", &s->read) < 0 || read_http_write(r, svc, &s->write) < 0 ||
        read_metric_probes(r, svc) < 0 ||
        get_duration(r, svc, "start_timeout", 100000000ull, &s->start_timeout_ns) < 0 ||
        get_duration(r, svc, "stop_timeout", 100000000ull, &s->stop_timeout_ns) < 0 ||
        get_string(r, svc, "start_cmd", 0, &s->start_cmd) < 0 ||
        get_string(r, svc, "stop_cmd", 0, &s->stop_cmd) < 0 ||
        get_string(r, svc, "kill_cmd", 0, &s->kill_cmd) < 0 ||
        get_string(r, svc, "description", 0, &description) < 0 ||
        get_string(r, svc, "name", 0, &s->name) < 0)
        return -1;
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(svc, "metrics_path");
    if (cJSON_IsNull(mp))
        s->metrics_path = NULL;
    else if (mp && get_string(r, svc, "metrics_path", 0, &s->metrics_path) < 0)
        return -1;
    s->taskd = !s->command[0] && !s->start_cmd;
    int hooks = s->start_cmd || s->stop_cmd || s->kill_cmd;
    if (s->command[0] && hooks)
        return fail(r, "give \"command\" (a foreground process chaos supervises) or the hooks "
                       "start_cmd/stop_cmd/kill_cmd with \"url\" (a service you run), not both");
    if (hooks && (!s->url || placeholders_uses(s->url, "port")))
        return fail(r, "a service you run (start_cmd, stop_cmd, kill_cmd) needs its fixed "
                       "\"url\", such as \"http://127.0.0.1:5000\"");
    if (s->command[0] && !s->url) {
        int port = 0;
        for (size_t i = 0; s->command[i]; i++)
            port |= placeholders_uses(s->command[i], "port") ||
                    placeholders_uses(s->command[i], "port_file");
        for (size_t i = 0; s->args[i]; i++)
            port |=
                placeholders_uses(s->args[i], "port") || placeholders_uses(s->args[i], "port_file");
        if (!port)
            return fail(r, "the command names neither {port} (chaos picks a free port) nor "
                           "{port_file} (the service writes the port it got): give \"url\" "
                           "with its fixed port");
    }
    if (s->url && strncmp(s->url, "http://", 7) != 0) {
        push_key(r, "url");
        return fail(r,
                    "expected an http:// base URL such as \"http://127.0.0.1:{port}\", got "
                    "\"%s\"",
                    s->url);
    }
    s->file_dir = r->src->dir ? keep(r, r->src->dir) : NULL;
    s->source = keep(r, r->src->name);
    pop(r, len);
    return 0;
}

/* ---- the load, the audit, the windows ------------------------------------------------------ */

static int read_load(struct reader *r, const cJSON *load)
{
    static const char *const members[] = {
        "rate", "mix", "missing_ratio", "targets", "data", "request_timeout", NULL};
    struct scenario_load *l = &r->sc->load;
    size_t len = push_key(r, "load");
    if (!cJSON_IsObject(load))
        return expected(r, load, "an object describing the load");
    if (only_members(r, load, members) < 0 || get_positive(r, load, "rate", 100000, &l->rate) < 0 ||
        get_string(r, load, "mix", 0, &l->mix) < 0 ||
        get_ratio(r, load, "missing_ratio", &l->missing_ratio) < 0 ||
        get_file(r, load, "targets", &l->targets) < 0 || get_file(r, load, "data", &l->data) < 0 ||
        get_duration(r, load, "request_timeout", 10000000ull, &l->request_timeout_ns) < 0)
        return -1;
    if (l->mix) {
        struct workload_config w;
        char e[300];
        memset(&w, 0, sizeof(w));
        if (workload_parse_mix(&w, l->mix, e, sizeof(e)) < 0) {
            push_key(r, "mix");
            return fail(r, "%s", e);
        }
    }
    if (l->targets && l->mix) {
        push_key(r, "mix");
        return fail(r, "a mix is for the task workload; a targets file weighs its own targets");
    }
    if (l->data && !l->targets) {
        push_key(r, "data");
        return fail(r, "a data file goes with a targets file");
    }
    pop(r, len);
    return 0;
}

/* false, or {"enabled": bool, "api": PRESET, then loadgen's resource API settings}: the preset
 * first, whatever the order, as loadgen's --api. */
static int read_audit(struct reader *r, const cJSON *audit)
{
    struct scenario_audit *a = &r->sc->audit;
    size_t len = push_key(r, "audit");
    resource_api_default(&a->api);
    a->enabled = 1;
    if (cJSON_IsFalse(audit)) {
        a->enabled = 0;
        pop(r, len);
        return 0;
    }
    if (!cJSON_IsObject(audit))
        return expected(r, audit,
                        "false (no audit), or an object of loadgen's audit settings "
                        "(api, id-from, item-url, list-url, paging, ...)");
    if (get_bool(r, audit, "enabled", &a->enabled) < 0)
        return -1;
    for (int preset = 1; preset >= 0; preset--) {
        const cJSON *k;
        cJSON_ArrayForEach(k, audit)
        {
            if (strcmp(k->string, "enabled") == 0 || (strcmp(k->string, "api") == 0) != preset)
                continue;
            size_t at = push_key(r, k->string);
            char e[400];
            if (!resource_api_has_key(k->string)) {
                char list[300] = "enabled";
                size_t used = strlen(list);
                for (size_t i = 0; resource_api_keys[i]; i++)
                    used += (size_t)snprintf(list + used, sizeof(list) - used, ", %s",
                                             resource_api_keys[i]);
                return fail(r, "unknown audit setting; expected one of: %s", list);
            }
            if (!cJSON_IsString(k))
                return expected(r, k, "a string");
            if (resource_api_set(&a->api, k->string, k->valuestring, e, sizeof(e)) < 0)
                return fail(r, "%s", e);
            pop(r, at);
        }
    }
    char e[400];
    if (resource_api_check(&a->api, e, sizeof(e)) < 0)
        return fail(r, "%s", e);
    pop(r, len);
    return 0;
}

static int read_windows(struct reader *r, const cJSON *w)
{
    static const char *const members[] = {
        "steady", "fault", "recover_timeout", "probe_interval", "max_error_ratio", "max_p99", NULL};
    struct scenario_windows *x = &r->sc->windows;
    size_t len = push_key(r, "windows");
    if (!cJSON_IsObject(w))
        return expected(r, w, "an object of windows and tolerances");
    if (only_members(r, w, members) < 0 ||
        get_duration(r, w, "steady", 10000000ull, &x->steady_ns) < 0 ||
        get_duration(r, w, "fault", 10000000ull, &x->fault_ns) < 0 ||
        get_duration(r, w, "recover_timeout", 10000000ull, &x->recover_timeout_ns) < 0 ||
        get_duration(r, w, "probe_interval", 10000000ull, &x->probe_interval_ns) < 0 ||
        get_ratio(r, w, "max_error_ratio", &x->max_error_ratio) < 0 ||
        get_duration(r, w, "max_p99", 0, &x->max_p99_ns) < 0)
        return -1;
    pop(r, len);
    return 0;
}

/* ---- whole files --------------------------------------------------------------------------- */

/* Parses src's text; a syntax error names its line and column. */
static cJSON *parse_json(const struct experiment_source *src, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(src->text, src->len, &end, 0);
    if (root)
        return root;
    int line = 1, col = 1;
    const char *at = end && end >= src->text && end <= src->text + src->len ? end : src->text;
    for (const char *p = src->text; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(err, errlen, "%s:%d:%d: not valid JSON (near \"%.20s\")", src->name, line, col, at);
    return NULL;
}

static int check_schema(struct reader *r, const cJSON *root, const char *want, const char *also)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    snprintf(r->path, sizeof(r->path), "$.schema");
    if (!cJSON_IsString(schema) || (strcmp(schema->valuestring, want) != 0 &&
                                    (!also || strcmp(schema->valuestring, also) != 0)))
        return expected(r, schema,
                        also ? "\"" EXPERIMENT_FILE_SCHEMA "\" or \"" SERVICE_FILE_SCHEMA "\""
                             : "\"" EXPERIMENT_FILE_SCHEMA "\"");
    snprintf(r->path, sizeof(r->path), "$");
    return 0;
}

/* The service, load and audit sections of root (a service or an experiment file). */
static int read_service_sections(struct reader *r, const cJSON *root)
{
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(root, "service");
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(root, "load");
    const cJSON *audit = cJSON_GetObjectItemCaseSensitive(root, "audit");
    if (svc && read_service(r, svc) < 0)
        return -1;
    if (load && read_load(r, load) < 0)
        return -1;
    if (audit && read_audit(r, audit) < 0)
        return -1;
    return 0;
}

/* A service file (or another experiment file) whose sections replace the experiment's: a
 * taskd-specific argument of the experiment (--no-create, --sync full) does not follow it to
 * another service, and a load or audit made for taskd's API does not either. */
static int read_service_file(struct reader *r, const cJSON *root)
{
    static const char *const members[] = {"schema", "description", "service",
                                          "load",   "audit",       NULL};
    if (!cJSON_IsObject(root))
        return expected(r, root, "an object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    int is_service =
        cJSON_IsString(schema) && strcmp(schema->valuestring, SERVICE_FILE_SCHEMA) == 0;
    if (check_schema(r, root, SERVICE_FILE_SCHEMA, EXPERIMENT_FILE_SCHEMA) < 0 ||
        (is_service && only_members(r, root, members) < 0))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(root, "service"))
        default_service(&r->sc->service);
    if (cJSON_GetObjectItemCaseSensitive(root, "load"))
        memset(&r->sc->load, 0, sizeof(r->sc->load));
    if (cJSON_GetObjectItemCaseSensitive(root, "audit"))
        resource_api_default(&r->sc->audit.api);
    return read_service_sections(r, root);
}

static int valid_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *s))
            return 0;
    return 1;
}

/* Checks that cross sections: metric conditions name probes, PromQL probes have a server. */
static int cross_checks(struct reader *r)
{
    struct scenario *sc = r->sc;
    for (size_t i = 0; i < sc->expect.nmetrics; i++) {
        int found = 0;
        for (size_t k = 0; k < sc->service.nmetrics; k++)
            found |= strcmp(sc->service.metrics[k].name, sc->expect.metrics[i].probe) == 0;
        if (!found) {
            snprintf(r->path, sizeof(r->path), "$.expect.metrics.%s", sc->expect.metrics[i].probe);
            return fail(r, "no metric probe of that name in the service's \"metrics\" (%s)",
                        sc->service.source ? sc->service.source : "taskd's service has none");
        }
    }
    if (sc->expect.reads_served && !sc->service.read.path) {
        snprintf(r->path, sizeof(r->path), "$.expect.reads_served");
        return fail(r, "the service has no read probe (service.read)");
    }
    return 0;
}

struct scenario *experiment_file_build(const struct experiment_source *exp,
                                       const struct experiment_source *service, char *err,
                                       size_t errlen)
{
    static const char *const members[] = {"schema", "name",    "summary", "description",
                                          "fault",  "expect",  "service", "load",
                                          "audit",  "windows", NULL};
    struct scenario *sc = calloc(1, sizeof(*sc));
    cJSON *root = parse_json(exp, err, errlen), *other = NULL;
    struct reader r = {.sc = sc, .src = exp, .path = "$", .err = err, .errlen = errlen};
    if (!sc || !root)
        goto fail;
    default_service(&sc->service);
    sc->audit.enabled = 1;
    resource_api_default(&sc->audit.api);
    sc->source = keep(&r, exp->name);
    if (!cJSON_IsObject(root)) {
        expected(&r, root, "an object");
        goto fail;
    }
    if (check_schema(&r, root, EXPERIMENT_FILE_SCHEMA, NULL) < 0 ||
        only_members(&r, root, members) < 0 || get_string(&r, root, "name", 1, &sc->name) < 0 ||
        get_string(&r, root, "summary", 1, &sc->summary) < 0)
        goto fail;
    if (!valid_name(sc->name) || strlen(sc->name) > 64) {
        snprintf(r.path, sizeof(r.path), "$.name");
        fail(&r,
             "expected 1 to 64 of a-z, 0-9, '.', '_', '-' starting with a letter or digit "
             "(it names the experiment's directory), got \"%s\"",
             sc->name);
        goto fail;
    }
    const cJSON *fault, *expect, *windows;
    if (get_object(&r, root, "fault", 1, &fault) < 0 || read_fault(&r, fault) < 0 ||
        get_object(&r, root, "expect", 1, &expect) < 0 || read_expect(&r, expect) < 0 ||
        get_object(&r, root, "windows", 0, &windows) < 0 ||
        (windows && read_windows(&r, windows) < 0))
        goto fail;
    if (read_service_sections(&r, root) < 0)
        goto fail;
    if (service) {
        if (!(other = parse_json(service, err, errlen)))
            goto fail;
        struct reader s = {.sc = sc, .src = service, .path = "$", .err = err, .errlen = errlen};
        if (read_service_file(&s, other) < 0)
            goto fail;
    }
    if (cross_checks(&r) < 0)
        goto fail;
    cJSON_Delete(root);
    cJSON_Delete(other);
    return sc;
fail:
    cJSON_Delete(root);
    cJSON_Delete(other);
    scenario_free(sc);
    return NULL;
}

int experiment_file_check_service(const struct experiment_source *service, char *err, size_t errlen)
{
    struct scenario *sc = calloc(1, sizeof(*sc));
    cJSON *root = parse_json(service, err, errlen);
    int rc = -1;
    if (sc && root) {
        struct reader r = {.sc = sc, .src = service, .path = "$", .err = err, .errlen = errlen};
        default_service(&sc->service);
        rc = read_service_file(&r, root);
    } else if (!sc) {
        snprintf(err, errlen, "out of memory");
    }
    cJSON_Delete(root);
    scenario_free(sc);
    return rc;
}

int experiment_file_read(const char *path, struct experiment_source *src, char **owned,
                         char **owned_dir, char *err, size_t errlen)
{
    *owned = *owned_dir = NULL;
    struct buf text;
    buf_init(&text, EXPERIMENT_FILE_MAX);
    if (buf_append_file(&text, path) < 0) {
        snprintf(err, errlen, "cannot read the experiment file %s: %s", path,
                 errno == EFBIG ? "it is over 1 MiB" : strerror(errno));
        buf_free(&text);
        return -1;
    }
    char real[PATH_MAX];
    const char *slash;
    if (realpath(path, real))
        slash = strrchr(real, '/');
    else
        slash = NULL;
    *owned_dir = slash ? strndup(real, slash == real ? 1 : (size_t)(slash - real)) : strdup(".");
    *owned = buf_detach(&text, &src->len);
    if (!*owned || !*owned_dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    src->name = path;
    src->dir = *owned_dir;
    src->text = *owned;
    buf_free(&text);
    return 0;
}
