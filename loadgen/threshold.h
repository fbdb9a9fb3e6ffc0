/*
 * threshold: pass/fail criteria on a run (`--threshold EXPR`, repeatable), as k6 has them.
 *
 * Grammar: [ROUTE.][VIEW.]METRIC OP VALUE, whitespace allowed around OP.
 *   ROUTE  a route of the run: create | read | update | delete | list (the task mix), raw, or a
 *          target's name (default: all routes)
 *   VIEW   corrected (default) | service | lag                 (latency metrics only)
 *   METRIC pN (p50, p90, p99, p99.9, p99.99; p999 = p99.9) | max | min | mean   VALUE a duration
 *          error_ratio  failed / completed: transport errors, unexpected statuses and failed
 *                       body checks (the success rule)       VALUE 0.01 or 1%
 *          errors       failed requests                       VALUE a count
 *          Nxx, Nxx_ratio   responses of a class (1xx..5xx): count, or share of completed
 *          status.NNN, status.NNN_ratio   responses with status NNN: count, or share
 *          rate         achieved requests/s                      VALUE 950 or 950/s
 *          achieved_ratio  achieved / target rate (whole run)    VALUE 0.99 or 99%
 *          not_started  requests due but never sent (whole run)  VALUE a count
 *          connections_opened, connections_closed  (whole run)   VALUE a count
 *   OP     < <= > >=
 * A metric that cannot be measured (no requests on the route, no target rate in the closed
 * model, a route the run does not have) fails its threshold: a run that measured nothing does
 * not pass.
 */
#ifndef LOADGEN_THRESHOLD_H
#define LOADGEN_THRESHOLD_H

#include <stddef.h>

#include "results.h"

#define THRESHOLD_EXIT_CODE 99 /* loadgen's exit status when a threshold fails (k6's) */
#define THRESHOLD_EXPR_MAX 128

enum threshold_metric {
    THRESHOLD_LATENCY,
    THRESHOLD_ERROR_RATIO,
    THRESHOLD_ERRORS,
    THRESHOLD_CLASS,
    THRESHOLD_CLASS_RATIO,
    THRESHOLD_STATUS,
    THRESHOLD_STATUS_RATIO,
    THRESHOLD_RATE,
    THRESHOLD_ACHIEVED_RATIO,
    THRESHOLD_NOT_STARTED,
    THRESHOLD_CONNECTIONS_OPENED,
    THRESHOLD_CONNECTIONS_CLOSED
};

enum threshold_op { THRESHOLD_LT, THRESHOLD_LE, THRESHOLD_GT, THRESHOLD_GE };

enum threshold_stat { THRESHOLD_QUANTILE, THRESHOLD_MIN, THRESHOLD_MAX, THRESHOLD_MEAN };

struct threshold {
    char expr[THRESHOLD_EXPR_MAX];        /* as given, without surrounding whitespace */
    char subject[THRESHOLD_EXPR_MAX];     /* the left side as given ("create.p99") */
    char metric[THRESHOLD_EXPR_MAX + 32]; /* canonical: "corrected.p99", "create.error_ratio" */
    char route[LG_ROUTE_NAME_MAX];        /* a route's name; "" for all routes */
    enum lg_view_kind view;
    enum threshold_metric kind;
    int status;               /* THRESHOLD_STATUS*: the code */
    enum lg_class class_;     /* THRESHOLD_CLASS*: the class */
    enum threshold_stat stat; /* latency only */
    double quantile;          /* latency with THRESHOLD_QUANTILE: 0 < q < 1 */
    enum threshold_op op;
    double limit; /* seconds (latency), ratio, requests/s, or count */
};

struct threshold_result {
    struct threshold th;
    double value; /* in the unit of th.limit; NaN when it could not be measured */
    int ok;
};

/* Parses one expression. Returns 0, or -1 with one sentence in err naming the expression and
 * what is wrong with it (out is then unspecified). */
int threshold_parse(const char *expr, struct threshold *out, char *err, size_t errlen);

/* Checks that the threshold's route, if any, is one of `routes` (the run's route table).
 * Returns 0, or -1 with a sentence in err listing the routes there are. */
int threshold_check_route(const struct threshold *th, const struct lg_results *routes, char *err,
                          size_t errlen);

/* Evaluates th against r. */
void threshold_eval(const struct threshold *th, const struct lg_results *r,
                    struct threshold_result *out);

/* Evaluates n thresholds into out[n]. Returns how many failed. */
size_t threshold_eval_all(const struct threshold *th, size_t n, const struct lg_results *r,
                          struct threshold_result *out);

/* "threshold failed: p99<50ms (p99 was 73.2ms)"; for a passed one "threshold passed: …". */
void threshold_format(const struct threshold_result *res, char *out, size_t len);

#endif
