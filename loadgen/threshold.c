/*
 * threshold: parsing and evaluating `--threshold EXPR` (grammar in threshold.h).
 *
 * The comparison operator splits an expression; the left side is peeled from the front
 * (route, then view, then the metric, which may itself hold a dot: p99.9), and the value is
 * read in the metric's own unit. Every refusal names the expression and says what to write.
 */
#include "threshold.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

static const char *const view_names[] = {"corrected", "service", "lag"};

static const char *const metric_help =
    "write [ROUTE.][VIEW.]METRIC OP VALUE, e.g. p99<50ms, login.service.p99.9<=200ms, "
    "error_ratio<1%, status.429<10, 4xx_ratio<0.5%, rate>=950, achieved_ratio>0.99 or "
    "not_started<=0";

/* Copies s[0..n) without surrounding whitespace into out. Returns 0, or -1 when too long. */
static int copy_trimmed(const char *s, size_t n, char *out, size_t outlen)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= outlen)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Consumes "name." from the front of *p when name is one of names[0..n). Returns its index or -1.
 */
static int take_prefix(const char **p, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (strncmp(*p, names[i], len) == 0 && (*p)[len] == '.') {
            *p += len + 1;
            return i;
        }
    }
    return -1;
}

/* "p99.9" -> 0.999, "p999" -> 0.999 (the short spelling), "p50" -> 0.5. -1 if not a quantile.
 * Digits are read as an integer over a power of ten, so p99.9 is the double nearest 0.999 (and
 * not 99.9 / 100, which is one bit off). */
static double quantile_of(const char *name)
{
    if (name[0] != 'p' || !isdigit((unsigned char)name[1]))
        return -1;
    if (strcmp(name, "p999") == 0)
        return 0.999;
    uint64_t digits = 0, scale = 100;
    int dot = 0;
    for (const char *c = name + 1; *c; c++) {
        if (*c == '.' && !dot && c[1]) {
            dot = 1;
            continue;
        }
        if (!isdigit((unsigned char)*c) || digits > UINT64_C(1) << 40 || scale > UINT64_C(1) << 40)
            return -1;
        digits = digits * 10 + (uint64_t)(*c - '0');
        scale *= dot ? 10 : 1;
    }
    if (digits == 0 || digits >= scale)
        return -1;
    return (double)digits / (double)scale;
}

static int parse_latency_metric(const char *name, struct threshold *th)
{
    th->kind = THRESHOLD_LATENCY;
    if (strcmp(name, "max") == 0)
        th->stat = THRESHOLD_MAX;
    else if (strcmp(name, "min") == 0)
        th->stat = THRESHOLD_MIN;
    else if (strcmp(name, "mean") == 0)
        th->stat = THRESHOLD_MEAN;
    else if ((th->quantile = quantile_of(name)) > 0)
        th->stat = THRESHOLD_QUANTILE;
    else
        return -1;
    return 0;
}

/* "4xx", "4xx_ratio": a status class 1xx..5xx, counted or as a share. */
static int parse_class_metric(const char *name, struct threshold *th)
{
    if (name[0] < '1' || name[0] > '5' || name[1] != 'x' || name[2] != 'x')
        return -1;
    th->class_ = (enum lg_class)(LG_CLASS_1XX + (name[0] - '1'));
    if (name[3] == '\0')
        th->kind = THRESHOLD_CLASS;
    else if (strcmp(name + 3, "_ratio") == 0)
        th->kind = THRESHOLD_CLASS_RATIO;
    else
        return -1;
    return 0;
}

/* "status.429", "status.429_ratio". */
static int parse_status_metric(const char *name, struct threshold *th)
{
    if (strncmp(name, "status.", 7) != 0)
        return -1;
    const char *code = name + 7;
    if (code[0] < '1' || code[0] > '5' || !isdigit((unsigned char)code[1]) ||
        !isdigit((unsigned char)code[2]))
        return -1;
    th->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (code[3] == '\0')
        th->kind = THRESHOLD_STATUS;
    else if (strcmp(code + 3, "_ratio") == 0)
        th->kind = THRESHOLD_STATUS_RATIO;
    else
        return -1;
    return 0;
}

static int parse_other_metric(const char *name, struct threshold *th)
{
    static const struct {
        const char *name;
        enum threshold_metric kind;
    } others[] = {{"error_ratio", THRESHOLD_ERROR_RATIO},
                  {"errors", THRESHOLD_ERRORS},
                  {"rate", THRESHOLD_RATE},
                  {"achieved_ratio", THRESHOLD_ACHIEVED_RATIO},
                  {"not_started", THRESHOLD_NOT_STARTED},
                  {"connections_opened", THRESHOLD_CONNECTIONS_OPENED},
                  {"connections_closed", THRESHOLD_CONNECTIONS_CLOSED}};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (strcmp(name, others[i].name) == 0) {
            th->kind = others[i].kind;
            return 0;
        }
    return parse_class_metric(name, th) == 0 ? 0 : parse_status_metric(name, th);
}

static int whole_run_only(enum threshold_metric kind)
{
    return kind == THRESHOLD_ACHIEVED_RATIO || kind == THRESHOLD_NOT_STARTED ||
           kind == THRESHOLD_CONNECTIONS_OPENED || kind == THRESHOLD_CONNECTIONS_CLOSED;
}

/* The canonical metric name: "corrected.p99", "create.service.p99.9", "create.error_ratio". */
static void canonical_name(struct threshold *th, const char *metric)
{
    char quantile[24];
    if (th->kind == THRESHOLD_LATENCY && th->stat == THRESHOLD_QUANTILE) {
        snprintf(quantile, sizeof(quantile), "p%.10g", th->quantile * 100);
        metric = quantile; /* p999 is written p99.9 */
    }
    const char *route = th->route;
    const char *view = th->kind == THRESHOLD_LATENCY ? view_names[th->view] : "";
    snprintf(th->metric, sizeof(th->metric), "%s%s%s%s%s", route, *route ? "." : "", view,
             *view ? "." : "", metric);
}

/* [VIEW.]METRIC at p. Returns 0 and the metric's name in *name, or -1 when it is not one;
 * *view gets the view's index or -1. */
static int parse_view_metric(const char *p, struct threshold *th, int *view, const char **name)
{
    *view = take_prefix(&p, view_names, 3);
    th->view = *view < 0 ? LG_VIEW_CORRECTED : (enum lg_view_kind) * view;
    *name = p;
    return parse_latency_metric(p, th) == 0 || parse_other_metric(p, th) == 0 ? 0 : -1;
}

/* A route's name: what targets allow (letters, digits, _ and -, not a view or "status"). */
static int route_name_ok(const char *s, size_t n)
{
    static const char *const reserved[] = {"corrected", "service", "lag", "status"};
    if (n == 0 || n >= LG_ROUTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strlen(reserved[i]) == n && !memcmp(s, reserved[i], n))
            return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static int parse_subject(struct threshold *th, char *err, size_t errlen)
{
    const char *p = th->subject;
    int view;
    th->route[0] = '\0';
    if (parse_view_metric(p, th, &view, &p) != 0) { /* then it starts with a route */
        const char *dot = strchr(th->subject, '.');
        size_t n = dot ? (size_t)(dot - th->subject) : 0;
        if (!dot || !route_name_ok(th->subject, n) ||
            parse_view_metric(dot + 1, th, &view, &p) != 0) {
            snprintf(err, errlen, "threshold \"%s\": unknown metric \"%s\"; %s", th->expr,
                     th->subject, metric_help);
            return -1;
        }
        memcpy(th->route, th->subject, n);
        th->route[n] = '\0';
    }
    canonical_name(th, p);
    if (view >= 0 && th->kind != THRESHOLD_LATENCY) {
        snprintf(err, errlen,
                 "threshold \"%s\": a view (%s) applies only to latency metrics (p99, max, mean…)",
                 th->expr, view_names[view]);
        return -1;
    }
    if (th->route[0] && whole_run_only(th->kind)) {
        snprintf(err, errlen, "threshold \"%s\": %s applies to the whole run, not to one route",
                 th->expr, p);
        return -1;
    }
    return 0;
}

/* A non-negative number, with an optional suffix (e.g. "%" or "/s") returned in *suffix. */
static int parse_number(const char *s, double *v, const char **suffix)
{
    char *end;
    if (!isdigit((unsigned char)*s) && *s != '.')
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || !isfinite(*v))
        return -1;
    *suffix = end;
    return 0;
}

static int parse_value(struct threshold *th, const char *s, char *err, size_t errlen)
{
    double v = 0;
    const char *suffix = "";
    uint64_t ns;
    const char *want = NULL;
    switch (th->kind) {
    case THRESHOLD_LATENCY:
        if (duration_parse(s, &ns) == 0) {
            th->limit = (double)ns / 1e9;
            return 0;
        }
        want = parse_number(s, &v, &suffix) == 0 && *suffix == '\0'
                   ? "needs a unit, e.g. 50ms, 1.5s or 200us"
                   : "is not a duration like 50ms, 1.5s or 200us";
        break;
    case THRESHOLD_ERROR_RATIO:
    case THRESHOLD_CLASS_RATIO:
    case THRESHOLD_STATUS_RATIO:
    case THRESHOLD_ACHIEVED_RATIO:
        if (parse_number(s, &v, &suffix) == 0 && (*suffix == '\0' || strcmp(suffix, "%") == 0)) {
            th->limit = *suffix ? v / 100 : v;
            return 0;
        }
        want = "is not a ratio like 0.01 or 1%";
        break;
    case THRESHOLD_RATE:
        if (parse_number(s, &v, &suffix) == 0 && (*suffix == '\0' || strcmp(suffix, "/s") == 0)) {
            th->limit = v;
            return 0;
        }
        want = "is not a rate in requests per second like 950 or 950/s";
        break;
    case THRESHOLD_NOT_STARTED:
    case THRESHOLD_ERRORS:
    case THRESHOLD_CLASS:
    case THRESHOLD_STATUS:
    case THRESHOLD_CONNECTIONS_OPENED:
    case THRESHOLD_CONNECTIONS_CLOSED:
        if (parse_number(s, &v, &suffix) == 0 && *suffix == '\0' && v == floor(v)) {
            th->limit = v;
            return 0;
        }
        want = "is not a count of requests like 0 or 100";
        break;
    }
    snprintf(err, errlen, "threshold \"%s\": the value \"%s\" %s", th->expr, s, want);
    return -1;
}

/* Finds the operator: the first '<' or '>', with an optional '='. */
static const char *find_op(const char *s, enum threshold_op *op, size_t *oplen)
{
    const char *p = strpbrk(s, "<>");
    if (!p)
        return NULL;
    int eq = p[1] == '=';
    *op = p[0] == '<' ? (eq ? THRESHOLD_LE : THRESHOLD_LT) : (eq ? THRESHOLD_GE : THRESHOLD_GT);
    *oplen = eq ? 2 : 1;
    return p;
}

int threshold_parse(const char *expr, struct threshold *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (copy_trimmed(expr, strlen(expr), out->expr, sizeof(out->expr)) != 0) {
        snprintf(err, errlen, "threshold \"%.40s…\" is longer than %d characters", expr,
                 THRESHOLD_EXPR_MAX - 1);
        return -1;
    }
    size_t oplen;
    const char *op = find_op(out->expr, &out->op, &oplen);
    if (!op) {
        snprintf(err, errlen, "threshold \"%s\" has no comparison (<, <=, > or >=); %s", out->expr,
                 metric_help);
        return -1;
    }
    char value[THRESHOLD_EXPR_MAX];
    copy_trimmed(out->expr, (size_t)(op - out->expr), out->subject, sizeof(out->subject));
    copy_trimmed(op + oplen, strlen(op + oplen), value, sizeof(value));
    if (!out->subject[0] || !value[0]) {
        snprintf(err, errlen, "threshold \"%s\" needs a metric before and a value after %.*s; %s",
                 out->expr, (int)oplen, op, metric_help);
        return -1;
    }
    if (strpbrk(value, "<>")) {
        snprintf(err, errlen,
                 "threshold \"%s\" has more than one comparison; give one per --threshold",
                 out->expr);
        return -1;
    }
    if (parse_subject(out, err, errlen) != 0)
        return -1;
    return parse_value(out, value, err, errlen);
}

/* ---- evaluation ---- */

/* Responses of one route (all when route < 0) with a status in [lo, hi]. */
static uint64_t codes_between(const struct lg_results *r, int route, int lo, int hi)
{
    uint64_t n = 0;
    for (int i = 0; i < (int)r->nroutes; i++)
        if (route < 0 || route == i)
            for (int code = lo; code <= hi && code < LG_STATUS_MAX; code++)
                n += r->routes[i].codes[code];
    return n;
}

static double ratio(uint64_t n, uint64_t completed)
{
    return completed ? (double)n / (double)completed : NAN;
}

static double latency_value(const struct threshold *th, int route, const struct lg_results *r)
{
    struct loghist *h = malloc(sizeof(*h)); /* ~220 KiB: not on the stack */
    double v = NAN;
    if (!h)
        return v;
    results_collect(r, route, -1, th->view, h);
    if (h->count > 0) {
        switch (th->stat) {
        case THRESHOLD_MIN:
            v = (double)h->min_ns / 1e9;
            break;
        case THRESHOLD_MAX:
            v = (double)h->max_ns / 1e9;
            break;
        case THRESHOLD_MEAN:
            v = loghist_mean_ns(h) / 1e9;
            break;
        case THRESHOLD_QUANTILE:
            v = (double)loghist_quantile(h, th->quantile) / 1e9;
            break;
        }
    }
    free(h);
    return v;
}

static double metric_value(const struct threshold *th, const struct lg_results *r)
{
    double seconds = (double)r->duration_ns / 1e9;
    int route = th->route[0] ? results_route_find(r, th->route) : -1;
    if (th->route[0] && route < 0)
        return NAN; /* a route this run does not have */
    uint64_t completed = results_route_completed(r, route);
    int lo = 100 * ((int)th->class_ - LG_CLASS_1XX + 1); /* 1xx: 100 … 5xx: 500 */
    switch (th->kind) {
    case THRESHOLD_LATENCY:
        return latency_value(th, route, r);
    case THRESHOLD_ERROR_RATIO:
        return ratio(results_route_failed(r, route), completed);
    case THRESHOLD_ERRORS:
        return completed ? (double)results_route_failed(r, route) : NAN;
    case THRESHOLD_CLASS:
        return completed ? (double)codes_between(r, route, lo, lo + 99) : NAN;
    case THRESHOLD_CLASS_RATIO:
        return ratio(codes_between(r, route, lo, lo + 99), completed);
    case THRESHOLD_STATUS:
        return completed ? (double)codes_between(r, route, th->status, th->status) : NAN;
    case THRESHOLD_STATUS_RATIO:
        return ratio(codes_between(r, route, th->status, th->status), completed);
    case THRESHOLD_RATE:
        return seconds > 0 ? (double)completed / seconds : NAN;
    case THRESHOLD_ACHIEVED_RATIO:
        return r->target_rate > 0 ? results_achieved_rate(r) / r->target_rate : NAN;
    case THRESHOLD_NOT_STARTED:
        return (double)r->not_started;
    case THRESHOLD_CONNECTIONS_OPENED:
        return (double)r->connections_opened;
    case THRESHOLD_CONNECTIONS_CLOSED:
        return (double)r->connections_closed;
    }
    return NAN;
}

int threshold_check_route(const struct threshold *th, const struct lg_results *routes, char *err,
                          size_t errlen)
{
    if (!th->route[0] || results_route_find(routes, th->route) >= 0)
        return 0;
    int at = snprintf(err, errlen, "threshold \"%s\": this run has no route %s; its routes are",
                      th->expr, th->route);
    for (size_t i = 0; i < routes->nroutes && at > 0 && (size_t)at < errlen; i++)
        at +=
            snprintf(err + at, errlen - (size_t)at, "%s %s", i ? "," : "", routes->routes[i].name);
    return -1;
}

static int compare(double v, enum threshold_op op, double limit)
{
    if (isnan(v))
        return 0;
    switch (op) {
    case THRESHOLD_LT:
        return v < limit;
    case THRESHOLD_LE:
        return v <= limit;
    case THRESHOLD_GT:
        return v > limit;
    case THRESHOLD_GE:
        return v >= limit;
    }
    return 0;
}

void threshold_eval(const struct threshold *th, const struct lg_results *r,
                    struct threshold_result *out)
{
    out->th = *th;
    out->value = metric_value(th, r);
    out->ok = compare(out->value, th->op, th->limit);
}

size_t threshold_eval_all(const struct threshold *th, size_t n, const struct lg_results *r,
                          struct threshold_result *out)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        threshold_eval(&th[i], r, &out[i]);
        failed += !out[i].ok;
    }
    return failed;
}

/* The measured value in the unit the expression was written in. */
static void format_value(const struct threshold_result *res, char *out, size_t len)
{
    char d[DURATION_TEXT_LEN];
    double v = res->value;
    switch (res->th.kind) {
    case THRESHOLD_LATENCY:
        snprintf(out, len, "%s", duration_format((uint64_t)llround(v * 1e9), d));
        break;
    case THRESHOLD_ERROR_RATIO:
    case THRESHOLD_CLASS_RATIO:
    case THRESHOLD_STATUS_RATIO:
        snprintf(out, len, "%.3g%%", v * 100);
        break;
    case THRESHOLD_RATE:
        snprintf(out, len, "%.1f/s", v);
        break;
    case THRESHOLD_ACHIEVED_RATIO:
        snprintf(out, len, "%.4g", v);
        break;
    case THRESHOLD_NOT_STARTED:
    case THRESHOLD_ERRORS:
    case THRESHOLD_CLASS:
    case THRESHOLD_STATUS:
    case THRESHOLD_CONNECTIONS_OPENED:
    case THRESHOLD_CONNECTIONS_CLOSED:
        snprintf(out, len, "%.0f", v);
        break;
    }
}

/* Why a value is missing, in words. */
static const char *unmeasured_reason(const struct threshold *th)
{
    switch (th->kind) {
    case THRESHOLD_ACHIEVED_RATIO:
        return "there is no target rate (closed model)";
    case THRESHOLD_RATE:
        return "the run has no measured duration";
    default:
        return th->route[0] ? "no request on this route completed (or the run has no such route)"
                            : "no request completed";
    }
}

void threshold_format(const struct threshold_result *res, char *out, size_t len)
{
    const char *verdict = res->ok ? "passed" : "failed";
    if (isnan(res->value)) {
        snprintf(out, len, "threshold %s: %s (%s could not be measured: %s)", verdict, res->th.expr,
                 res->th.subject, unmeasured_reason(&res->th));
        return;
    }
    char value[48];
    format_value(res, value, sizeof(value));
    snprintf(out, len, "threshold %s: %s (%s was %s)", verdict, res->th.expr, res->th.subject,
             value);
}
