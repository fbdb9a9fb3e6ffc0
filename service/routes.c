/*
 * routes: request routing by exact template match. See routes.h.
 */
#include "routes.h"

#include <string.h>

static const char *const method_names[METHOD_COUNT] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
};

static const char *const route_names[ROUTE_COUNT] = {
    "/tasks", "/tasks/{id}", "/metrics", "/livez", "/readyz", "other",
};

#define BIT(m) (1u << (m))
static const unsigned route_methods[ROUTE_COUNT] = {
    [ROUTE_TASKS] = BIT(METHOD_GET) | BIT(METHOD_HEAD) | BIT(METHOD_POST),
    [ROUTE_TASK] = BIT(METHOD_GET) | BIT(METHOD_HEAD) | BIT(METHOD_PUT) | BIT(METHOD_DELETE),
    [ROUTE_METRICS] = BIT(METHOD_GET) | BIT(METHOD_HEAD),
    [ROUTE_LIVEZ] = BIT(METHOD_GET) | BIT(METHOD_HEAD),
    [ROUTE_READYZ] = BIT(METHOD_GET) | BIT(METHOD_HEAD),
    [ROUTE_OTHER] = 0,
};
#undef BIT

static const char *const route_allow[ROUTE_COUNT] = {
    [ROUTE_TASKS] = "GET, HEAD, POST", [ROUTE_TASK] = "GET, HEAD, PUT, DELETE",
    [ROUTE_METRICS] = "GET, HEAD",     [ROUTE_LIVEZ] = "GET, HEAD",
    [ROUTE_READYZ] = "GET, HEAD",      [ROUTE_OTHER] = "",
};

enum http_method method_parse(const char *method)
{
    for (int m = 0; m < METHOD_OTHER; m++) {
        if (strcmp(method, method_names[m]) == 0)
            return (enum http_method)m;
    }
    return METHOD_OTHER;
}

const char *method_label(enum http_method method)
{
    return method_names[method];
}

const char *route_label(enum route_id route)
{
    return route_names[route];
}

int route_allows(enum route_id route, enum http_method method)
{
    return (route_methods[route] >> method) & 1u;
}

const char *route_allow_header(enum route_id route)
{
    return route_allow[route];
}

int route_parse_id(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 19)
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        value = value * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow uint64 */
    }
    if (value == 0 || value > (uint64_t)INT64_MAX)
        return -1;
    *out = (int64_t)value;
    return 0;
}

void route_match(const char *path, struct route_match *out)
{
    static const struct {
        const char *path;
        enum route_id route;
    } fixed[] = {
        {"/tasks", ROUTE_TASKS},
        {"/metrics", ROUTE_METRICS},
        {"/livez", ROUTE_LIVEZ},
        {"/readyz", ROUTE_READYZ},
    };
    memset(out, 0, sizeof(*out));
    out->route = ROUTE_OTHER;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strcmp(path, fixed[i].path) == 0) {
            out->route = fixed[i].route;
            return;
        }
    }
    static const char prefix[] = "/tasks/";
    size_t plen = sizeof(prefix) - 1;
    if (strncmp(path, prefix, plen) != 0)
        return;
    const char *id = path + plen;
    size_t n = strlen(id);
    if (n == 0 || memchr(id, '/', n))
        return; /* "/tasks/" and "/tasks/1/x" are not routes */
    out->route = ROUTE_TASK;
    out->id_valid = route_parse_id(id, n, &out->task_id) == 0;
}
