/*
 * fixture: per-test taskd and connection, and the shared contract checks. See fixture.h.
 */
#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"
#include "logfile.h"
#include "scratch.h"

static char context[256];

const char *const fx_json_headers[] = {"Content-Type: application/json", NULL};

static void release_response(void *p)
{
    http_response_free(p);
}

static void release_conn(void *p)
{
    http_close(p);
}

/* 1 when the options change the log level (the "listening" line may then be filtered out). */
static int sets_log_level(const struct taskd_opts *opts)
{
    for (size_t i = 0; opts && opts->args && opts->args[i]; i++) {
        if (strncmp(opts->args[i], "--log-level", 11) == 0)
            return 1;
    }
    for (size_t i = 0; opts && opts->env && opts->env[i]; i++) {
        if (strncmp(opts->env[i], "TASKD_LOG_LEVEL=", 16) == 0)
            return 1;
    }
    return 0;
}

int fx_setup_with(void **state, const struct taskd_opts *opts)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    if (taskd_proc_start(&fx->proc, opts) < 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    /* taskd writes the port file just before its "listening" line; tests that count log lines
     * start after it. */
    if (!sets_log_level(opts) &&
        logfile_wait_msg(fx->proc.log_path, 0, "listening", 1, TASKD_PROC_START_TIMEOUT_MS) < 0) {
        fprintf(stderr, "# taskd logged no \"listening\" line within %d ms\n",
                TASKD_PROC_START_TIMEOUT_MS);
        fx_teardown(state);
        return -1;
    }
    return 0;
}

int fx_setup(void **state)
{
    return fx_setup_with(state, NULL);
}

int fx_teardown(void **state)
{
    struct fixture *fx = *state;
    scratch_release_all();
    context[0] = '\0';
    if (!fx)
        return 0;
    http_close(fx->conn);
    taskd_proc_destroy(&fx->proc);
    free(fx);
    *state = NULL;
    return 0;
}

void fx_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
}

void fx_fail_at(const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (context[0])
        print_error("[%s] %s\n", context, msg);
    else
        print_error("%s\n", msg);
    _fail(file, line);
    abort(); /* _fail() does not return; this tells the compiler so */
}

/* A response, shortened for failure messages. */
static const char *show(const struct http_response *res, char *out, size_t n)
{
    snprintf(out, n, "HTTP %d %s, body (%zu bytes): %.600s", res->status, res->reason,
             res->body_len, res->body);
    return out;
}

struct http_conn *fx_connect_at(struct fixture *fx, const char *file, int line)
{
    struct http_conn *c;
    int rc = http_connect(fx->proc.port, &c);
    if (rc < 0)
        fx_fail_at(file, line, "cannot connect to taskd on port %u: %s", fx->proc.port,
                   strerror(-rc));
    return scratch_keep(c, release_conn);
}

struct http_response *fx_request_on_at(struct http_conn *c, const char *method, const char *path,
                                       const char *const *headers, const char *body,
                                       const char *file, int line)
{
    struct http_response *res = http_request(c, method, path, headers, body);
    if (!res)
        fx_fail_at(file, line, "%s %s: no response: %s", method, path, http_last_error(c));
    return scratch_keep(res, release_response);
}

struct http_response *fx_request_at(struct fixture *fx, const char *method, const char *path,
                                    const char *const *headers, const char *body, const char *file,
                                    int line)
{
    if (fx->conn && http_is_closed(fx->conn)) {
        http_close(fx->conn);
        fx->conn = NULL;
    }
    if (!fx->conn) {
        int rc = http_connect(fx->proc.port, &fx->conn);
        if (rc < 0)
            fx_fail_at(file, line, "cannot connect to taskd on port %u: %s", fx->proc.port,
                       strerror(-rc));
    }
    return fx_request_on_at(fx->conn, method, path, headers, body, file, line);
}

struct http_response *fx_read_at(struct http_conn *c, const char *method, const char *file,
                                 int line)
{
    struct http_response *res;
    if (http_read_response(c, method, &res) < 0)
        fx_fail_at(file, line, "no response: %s", http_last_error(c));
    return scratch_keep(res, release_response);
}

struct http_response *fx_keep(struct http_response *res)
{
    return scratch_keep(res, release_response);
}

void fx_send_at(struct http_conn *c, const char *data, const char *file, int line)
{
    if (http_send_str(c, data) < 0)
        fx_fail_at(file, line, "cannot send: %s", http_last_error(c));
}

void fx_expect_status_at(const struct http_response *res, int status, const char *file, int line)
{
    char text[800];
    if (res->status != status)
        fx_fail_at(file, line, "expected status %d, got %s", status, show(res, text, sizeof(text)));
}

cJSON *fx_json_at(const struct http_response *res, const char *file, int line)
{
    char text[800];
    cJSON *json = cJSON_ParseWithLength(res->body, res->body_len);
    if (!json)
        fx_fail_at(file, line, "the body is not JSON: %s", show(res, text, sizeof(text)));
    return scratch_keep(json, scratch_json_delete);
}

static int json_member_count(const cJSON *obj)
{
    int n = 0;
    for (const cJSON *it = obj->child; it; it = it->next)
        n++;
    return n;
}

void fx_expect_error_at(const struct http_response *res, int status, const char *code,
                        const char *file, int line)
{
    char text[800];
    fx_expect_status_at(res, status, file, line);
    const char *ct = http_header(res, "Content-Type");
    if (!ct || strcmp(ct, "application/json") != 0)
        fx_fail_at(file, line, "error Content-Type is %s, expected application/json",
                   ct ? ct : "absent");
    const char *rid = http_header(res, "X-Request-Id");
    if (!rid)
        fx_fail_at(file, line, "no X-Request-Id header on %s", show(res, text, sizeof(text)));
    cJSON *json = fx_json_at(res, file, line);
    const char *error = fx_json_str(json, "error");
    const char *got_code = fx_json_str(json, "code");
    const char *got_rid = fx_json_str(json, "request_id");
    if (!cJSON_IsObject(json) || json_member_count(json) != 3 || !error || !*error || !got_code ||
        !got_rid)
        fx_fail_at(file, line, "not an error object {error, code, request_id}: %s",
                   show(res, text, sizeof(text)));
    if (strcmp(got_code, code) != 0)
        fx_fail_at(file, line, "error code is \"%s\", expected \"%s\": %s", got_code, code,
                   show(res, text, sizeof(text)));
    if (strcmp(got_rid, rid) != 0)
        fx_fail_at(file, line, "body request_id \"%s\" differs from the X-Request-Id header \"%s\"",
                   got_rid, rid);
}

void fx_expect_task_at(const cJSON *obj, int64_t id, const char *text, int done, const char *file,
                       int line)
{
    char *printed = cJSON_PrintUnformatted(obj);
    char shown[700];
    snprintf(shown, sizeof(shown), "%.600s", printed ? printed : "?");
    free(printed);
    if (!cJSON_IsObject(obj) || json_member_count(obj) != 5)
        fx_fail_at(file, line, "a task has exactly id, task, done, created_at, updated_at: %s",
                   shown);
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(obj, "id");
    const cJSON *jtask = cJSON_GetObjectItemCaseSensitive(obj, "task");
    const cJSON *jdone = cJSON_GetObjectItemCaseSensitive(obj, "done");
    const char *created = fx_json_str(obj, "created_at");
    const char *updated = fx_json_str(obj, "updated_at");
    if (!cJSON_IsNumber(jid) || !cJSON_IsString(jtask) || !cJSON_IsBool(jdone) || !created ||
        !updated)
        fx_fail_at(file, line, "task fields have the wrong types: %s", shown);
    if (id > 0 && (int64_t)jid->valuedouble != id)
        fx_fail_at(file, line, "task id is %.0f, expected %lld: %s", jid->valuedouble,
                   (long long)id, shown);
    if (text && strcmp(jtask->valuestring, text) != 0)
        fx_fail_at(file, line, "task text is \"%s\", expected \"%s\"", jtask->valuestring, text);
    if (done >= 0 && cJSON_IsTrue(jdone) != (done != 0))
        fx_fail_at(file, line, "task done is %s, expected %s: %s",
                   cJSON_IsTrue(jdone) ? "true" : "false", done ? "true" : "false", shown);
    if (!fx_is_rfc3339_ms(created) || !fx_is_rfc3339_ms(updated))
        fx_fail_at(file, line, "timestamps are not RFC 3339 UTC with milliseconds: %s", shown);
    if (strcmp(updated, created) < 0)
        fx_fail_at(file, line, "updated_at is before created_at: %s", shown);
}

cJSON *fx_create_at(struct fixture *fx, const char *text, const char *file, int line)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "task", text);
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    scratch_keep(json, scratch_free);
    struct http_response *res =
        fx_request_at(fx, "POST", "/tasks", fx_json_headers, json, file, line);
    fx_expect_status_at(res, 201, file, line);
    cJSON *task = fx_json_at(res, file, line);
    fx_expect_task_at(task, 0, text, 0, file, line);
    return task;
}

void fx_expect_serving_at(struct fixture *fx, const char *file, int line)
{
    struct http_conn *c = fx_connect_at(fx, file, line);
    struct http_response *res = fx_request_on_at(c, "GET", "/livez", NULL, NULL, file, line);
    fx_expect_status_at(res, 200, file, line);
    scratch_drop(res);
    scratch_drop(c);
}

void fx_wait_logged_at(struct fixture *fx, size_t n, const char *file, int line)
{
    if (logfile_wait_msg(fx->proc.log_path, 0, "request", n, HTTP_DEFAULT_TIMEOUT_MS) < 0)
        fx_fail_at(file, line, "taskd did not log %zu request lines within %d ms", n,
                   HTTP_DEFAULT_TIMEOUT_MS);
}

static void release_scrape(void *p)
{
    scrape_free(p);
}

struct scrape *fx_scrape_at(struct fixture *fx, const char *file, int line)
{
    struct http_conn *c = fx_connect_at(fx, file, line);
    struct http_response *res = fx_request_on_at(c, "GET", "/metrics", NULL, NULL, file, line);
    fx_expect_status_at(res, 200, file, line);
    struct scrape *sc;
    char error[300];
    if (scrape_parse(res->body, res->body_len, &sc, error, sizeof(error)) < 0)
        fx_fail_at(file, line, "/metrics is not a valid exposition: %s", error);
    scratch_drop(res);
    scratch_drop(c);
    return scratch_keep(sc, release_scrape);
}

double fx_metric_at(const struct scrape *sc, const char *name, const char *const *labels,
                    const char *file, int line)
{
    const struct scrape_sample *smp = scrape_find(sc, name, labels);
    if (!smp) {
        char shown[300] = "";
        size_t used = 0;
        for (size_t i = 0; labels && labels[i] && labels[i + 1] && used < sizeof(shown); i += 2)
            used += (size_t)snprintf(shown + used, sizeof(shown) - used, "%s%s=\"%s\"",
                                     i ? "," : "", labels[i], labels[i + 1]);
        fx_fail_at(file, line, "no sample %s{%s} in /metrics", name, shown);
    }
    return smp->value;
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int fx_is_rfc3339_ms(const char *s)
{
    /* 2026-11-27T05:01:02.345Z */
    if (!s || strlen(s) != 24)
        return 0;
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
        s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
        !digits(s + 17, 2) || s[19] != '.' || !digits(s + 20, 3) || s[23] != 'Z')
        return 0;
    int month = num(s + 5, 2), day = num(s + 8, 2), hour = num(s + 11, 2);
    int minute = num(s + 14, 2), second = num(s + 17, 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
           second <= 60;
}

int64_t fx_rfc3339_ms_epoch(const char *s)
{
    if (!fx_is_rfc3339_ms(s))
        return -1;
    struct tm tm = {
        .tm_year = num(s, 4) - 1900,
        .tm_mon = num(s + 5, 2) - 1,
        .tm_mday = num(s + 8, 2),
        .tm_hour = num(s + 11, 2),
        .tm_min = num(s + 14, 2),
        .tm_sec = num(s + 17, 2),
    };
    return (int64_t)timegm(&tm) * 1000 + num(s + 20, 3);
}

int fx_run_taskd_at(const char *const *args, const char *const *env, char **out, char **err,
                    const char *file, int line)
{
    int status;
    if (taskd_proc_run(args, env, 5000, &status, out, err) < 0)
        fx_fail_at(file, line, "cannot run %s", taskd_proc_bin());
    scratch_keep(*out, scratch_free);
    scratch_keep(*err, scratch_free);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int fx_is_hex16(const char *s)
{
    if (!s || strlen(s) != 16)
        return 0;
    for (int i = 0; i < 16; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

int64_t fx_json_int_at(const cJSON *obj, const char *key, const char *file, int line)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item))
        fx_fail_at(file, line, "JSON member \"%s\" is missing or not a number", key);
    return (int64_t)item->valuedouble;
}

const char *fx_json_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

void fx_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

double fx_now_ms(void)
{
    return (double)clock_monotonic_ns() / 1e6;
}
