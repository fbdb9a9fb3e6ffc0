/*
 * routes: maps a request's method and path to a route template and the task id it names.
 *
 * Matching is exact: no normalisation of "//tasks" or "/tasks/1/" (they are unknown routes with a
 * hint), because a metric label must be one of a fixed set of templates and a path that "almost"
 * matches is a client bug worth seeing. libmicrohttpd has already percent-decoded the path.
 * Pure functions with no I/O, so they are unit-tested and fuzzed directly.
 */
#ifndef TASKD_ROUTES_H
#define TASKD_ROUTES_H

#include <stddef.h>
#include <stdint.h>

enum route_id {
    ROUTE_TASKS,
    ROUTE_TASK,
    ROUTE_METRICS,
    ROUTE_LIVEZ,
    ROUTE_READYZ,
    ROUTE_OTHER,
    ROUTE_COUNT
};

enum http_method {
    METHOD_GET,
    METHOD_HEAD,
    METHOD_POST,
    METHOD_PUT,
    METHOD_DELETE,
    METHOD_PATCH,
    METHOD_OPTIONS,
    METHOD_OTHER, /* anything else: the label "other" keeps the metric bounded */
    METHOD_COUNT
};

struct route_match {
    enum route_id route;
    int64_t task_id; /* ROUTE_TASK with id_valid: 1..INT64_MAX */
    int id_valid;    /* ROUTE_TASK: 0 when the id segment is not a positive 64-bit integer */
};

enum http_method method_parse(const char *method);
const char *method_label(enum http_method method); /* "GET" … "other" */
const char *route_label(enum route_id route);      /* "/tasks/{id}" … "other" */

void route_match(const char *path, struct route_match *out);

/* 1 when the route answers the method (HEAD goes wherever GET does). */
int route_allows(enum route_id route, enum http_method method);

/* The Allow header value for a 405, e.g. "GET, HEAD, POST". */
const char *route_allow_header(enum route_id route);

/* Parses a positive decimal int64 ("1".."9223372036854775807", no sign, no spaces).
 * Returns 0, or -1 for anything else, overflow included. */
int route_parse_id(const char *s, size_t n, int64_t *out);

#endif
