/*
 * api: request handlers for /tasks, /tasks/{id}, /metrics, /livez and /readyz. See api.h.
 * Flow is one way: validate the request, call the store, write the response.
 */
#include "api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expo.h"
#include "json_writer.h"
#include "task.h"

#define JSON_CONTENT_TYPE "application/json"
#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000
#define RETRY_AFTER_SECONDS 1

void api_response_init(struct api_response *res)
{
    memset(res, 0, sizeof(*res));
    buf_init(&res->body, API_RESPONSE_LIMIT);
    res->content_type = JSON_CONTENT_TYPE;
}

void api_response_free(struct api_response *res)
{
    buf_free(&res->body);
}

void api_error(struct api_response *res, unsigned status, const char *code, const char *message,
               const char *request_id)
{
    struct json_writer w;
    buf_reset(&res->body);
    res->status = status;
    res->error_code = code;
    res->content_type = JSON_CONTENT_TYPE;
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_member_string(&w, "error", message);
    jw_member_string(&w, "code", code);
    jw_member_string(&w, "request_id", request_id);
    jw_object_end(&w);
}

/* Maps a failed store call to 404, 503 (with Retry-After) or 500. */
static void store_failed(struct api_response *res, int status, const struct store_error *err,
                         int64_t task_id, const char *request_id)
{
    if (status == STORE_NOT_FOUND) {
        char msg[96];
        snprintf(msg, sizeof(msg), "no task with id %lld", (long long)task_id);
        api_error(res, 404, "task_not_found", msg, request_id);
        return;
    }
    res->db = *err;
    res->has_db_error = 1;
    char msg[600];
    if (status == STORE_UNAVAILABLE) {
        snprintf(msg, sizeof(msg), "the database is unavailable: %s", err->message);
        api_error(res, 503, "db_unavailable", msg, request_id);
        res->retry_after = RETRY_AFTER_SECONDS;
    } else {
        snprintf(msg, sizeof(msg), "internal database error: %s", err->message);
        api_error(res, 500, "internal", msg, request_id);
    }
}

static void respond_task(struct api_response *res, unsigned status, const struct task *t)
{
    struct json_writer w;
    jw_init(&w, &res->body);
    task_write_json(&w, t);
    res->status = status;
}

static int content_type_is_json(const char *ct)
{
    if (!ct)
        return 0;
    size_t n = strlen(JSON_CONTENT_TYPE);
    if (strncasecmp(ct, JSON_CONTENT_TYPE, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Checks a write's body and parses it. Returns 0, or -1 with the error response filled. */
static int read_body(const struct api_request *req, enum task_body_kind kind, struct task_input *in,
                     struct api_response *res)
{
    char reason[192];
    if (req->body_too_large) {
        api_error(res, 413, "body_too_large", "the request body is over the 64 KiB limit",
                  req->request_id);
        return -1;
    }
    if (!content_type_is_json(req->content_type)) {
        snprintf(reason, sizeof(reason), "Content-Type must be application/json (got %.64s)",
                 req->content_type ? req->content_type : "none");
        api_error(res, 415, "unsupported_media_type", reason, req->request_id);
        return -1;
    }
    if (task_input_parse(req->body, req->body_len, kind, in, reason, sizeof(reason)) < 0) {
        api_error(res, 400, "invalid_body", reason, req->request_id);
        return -1;
    }
    return 0;
}

static int create_task(const struct api_request *req, struct api_response *res,
                       struct store_write *w)
{
    if (read_body(req, TASK_BODY_CREATE, &w->input, res) < 0)
        return 0;
    w->kind = STORE_WRITE_CREATE;
    w->id = 0;
    return 1;
}

/* "/tasks/ID" into out[48] (what snprintf would write; this runs for every POST). */
static void location(char out[48], int64_t id)
{
    static const char prefix[] = "/tasks/";
    char digits[21];
    char *p = digits + sizeof(digits);
    uint64_t v = (uint64_t)id;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = (size_t)(digits + sizeof(digits) - p);
    memcpy(out, prefix, sizeof(prefix) - 1);
    memcpy(out + sizeof(prefix) - 1, p, n);
    out[sizeof(prefix) - 1 + n] = '\0';
}

void api_finish_write(const struct store_write *w, const char *request_id, struct api_response *res)
{
    if (w->status != STORE_OK) {
        store_failed(res, w->status, &w->err, w->id, request_id);
        return;
    }
    switch (w->kind) {
    case STORE_WRITE_CREATE:
        location(res->location, w->task.id);
        respond_task(res, 201, &w->task);
        break;
    case STORE_WRITE_UPDATE:
        respond_task(res, 200, &w->task);
        break;
    case STORE_WRITE_DELETE:
        res->status = 204;
        break;
    }
}

/* Parses a query parameter as an integer in [min, max]. Absent: `fallback`. */
static int query_int(const char *value, long long min, long long max, long long fallback,
                     long long *out)
{
    if (!value) {
        *out = fallback;
        return 0;
    }
    if (strcmp(value, "0") == 0 && min == 0) {
        *out = 0;
        return 0;
    }
    int64_t v;
    if (route_parse_id(value, strlen(value), &v) < 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct list_ctx {
    struct json_writer w;
    int64_t last_id;
};

static void list_row(const struct task *t, void *arg)
{
    struct list_ctx *ctx = arg;
    task_write_json(&ctx->w, t);
    ctx->last_id = t->id;
}

static void list_tasks(const struct api *api, const struct api_request *req,
                       struct api_response *res)
{
    long long limit, after;
    if (query_int(req->query_limit, 1, LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT, &limit) < 0) {
        api_error(res, 400, "invalid_query", "limit must be an integer from 1 to 1000",
                  req->request_id);
        return;
    }
    if (query_int(req->query_after, 0, INT64_MAX, 0, &after) < 0) {
        api_error(res, 400, "invalid_query", "after must be a task id (a non-negative integer)",
                  req->request_id);
        return;
    }
    struct list_ctx ctx = {.last_id = 0};
    struct store_error err;
    int more;
    jw_init(&ctx.w, &res->body);
    jw_array_begin(&ctx.w);
    int status = store_task_list(api->store, after, (int)limit, list_row, &ctx, &more, &err);
    if (status != STORE_OK) {
        store_failed(res, status, &err, 0, req->request_id);
        return;
    }
    jw_array_end(&ctx.w);
    if (more)
        snprintf(res->link, sizeof(res->link), "</tasks?limit=%lld&after=%lld>; rel=\"next\"",
                 limit, (long long)ctx.last_id);
    res->status = 200;
}

static int task_by_id(const struct api *api, const struct api_request *req,
                      struct api_response *res, struct store_write *w)
{
    int64_t id = req->match.task_id;
    if (!req->match.id_valid) {
        api_error(res, 400, "invalid_id",
                  "task ids are positive integers up to 9223372036854775807", req->request_id);
        return 0;
    }
    if (req->method == METHOD_PUT || req->method == METHOD_DELETE) {
        if (req->method == METHOD_PUT && read_body(req, TASK_BODY_UPDATE, &w->input, res) < 0)
            return 0;
        w->kind = req->method == METHOD_PUT ? STORE_WRITE_UPDATE : STORE_WRITE_DELETE;
        w->id = id;
        return 1;
    }
    struct task t;
    struct store_error err;
    int status = store_task_get(api->store, id, &t, &err);
    if (status != STORE_OK)
        store_failed(res, status, &err, id, req->request_id);
    else
        respond_task(res, 200, &t);
    return 0;
}

static void status_body(struct api_response *res, unsigned status, const char *text)
{
    struct json_writer w;
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_member_string(&w, "status", text);
    jw_object_end(&w);
    res->status = status;
}

static void readyz(const struct api *api, const struct api_request *req, struct api_response *res)
{
    struct store_error err;
    if (store_ready(api->store, &err)) {
        status_body(res, 200, "ready");
        return;
    }
    store_failed(res, STORE_UNAVAILABLE, &err, 0, req->request_id);
}

static void metrics(const struct api *api, const struct api_request *req, struct api_response *res)
{
    struct db_gauges db;
    store_gauges(api->store, &db);
    if (metrics_render(&res->body, &db, api->version) < 0) {
        api_error(res, 500, "internal", "the metrics exposition is over its size limit",
                  req->request_id);
        return;
    }
    res->content_type = EXPO_CONTENT_TYPE;
    res->status = 200;
}

static void unknown_route(const struct api_request *req, struct api_response *res)
{
    char msg[400];
    size_t n = strlen(req->path);
    const char *hint = "";
    if (n > 1 && req->path[n - 1] == '/')
        hint = " (no trailing slash: routes are /tasks and /tasks/{id})";
    else if (strncmp(req->path, "//", 2) == 0)
        hint = " (a path starts with a single slash)";
    snprintf(msg, sizeof(msg),
             "no route for %.200s%s; routes are /tasks, /tasks/{id}, "
             "/metrics, /livez and /readyz",
             req->path, hint);
    api_error(res, 404, "route_not_found", msg, req->request_id);
}

int api_handle(const struct api *api, const struct api_request *req, struct api_response *res,
               struct store_write *write)
{
    enum route_id route = req->match.route;
    if (route == ROUTE_OTHER) {
        unknown_route(req, res);
        return 0;
    }
    if (!route_allows(route, req->method)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "method not allowed on %s; allowed: %s", route_label(route),
                 route_allow_header(route));
        api_error(res, 405, "method_not_allowed", msg, req->request_id);
        res->allow = route_allow_header(route);
        return 0;
    }
    switch (route) {
    case ROUTE_TASKS:
        if (req->method == METHOD_POST)
            return create_task(req, res, write);
        list_tasks(api, req, res);
        return 0;
    case ROUTE_TASK:
        return task_by_id(api, req, res, write);
    case ROUTE_METRICS:
        metrics(api, req, res);
        return 0;
    case ROUTE_LIVEZ:
        status_body(res, 200, "ok");
        return 0;
    case ROUTE_READYZ:
        readyz(api, req, res);
        return 0;
    default:
        unknown_route(req, res);
        return 0;
    }
}
