/*
 * test_logs: taskd's JSON-lines log against DESIGN.md. Every request gets exactly one line with
 * ts, level, msg, request_id, method, route, path, status, duration_ms and bytes that match
 * what the client saw; 2xx is info, 4xx warn, 5xx one error line with the database fields; text
 * from the client (paths with quotes, backslashes, newlines, invalid UTF-8) is escaped so it can
 * neither break a line nor forge one; SIGHUP reopens the file after a logrotate-style rename.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fixture.h"
#include "logfile.h"
#include "scratch.h"

static void release_log(void *p)
{
    logfile_free(p);
}

/* The whole log, every line of which must be a JSON object with ts, level and msg. */
static struct logfile *read_log(const char *path)
{
    struct logfile *lf;
    if (logfile_read(path, 0, &lf) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot read the log %s", path);
    scratch_keep(lf, release_log);
    if (lf->count > 0 && !lf->ends_with_newline)
        fx_fail_at(__FILE__, __LINE__, "the last log line has no newline: %s",
                   lf->lines[lf->count - 1].raw);
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *j = lf->lines[i].json;
        if (!j)
            fx_fail_at(__FILE__, __LINE__, "log line %zu is not a JSON object: %.300s", i + 1,
                       lf->lines[i].raw);
        const char *level = fx_json_str(j, "level");
        if (!fx_is_rfc3339_ms(fx_json_str(j, "ts")) || !fx_json_str(j, "msg") || !level ||
            (strcmp(level, "debug") && strcmp(level, "info") && strcmp(level, "warn") &&
             strcmp(level, "error")))
            fx_fail_at(__FILE__, __LINE__, "log line %zu lacks a valid ts, level or msg: %.300s",
                       i + 1, lf->lines[i].raw);
    }
    return lf;
}

struct sent {
    const char *method, *path, *route, *logged_path;
    const char *body;
    int status;
};

static const char *level_for(int status)
{
    return status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}

/* The request line of `rid`: exactly one, with every field matching the exchange. */
static void expect_request_line(const struct logfile *lf, const char *rid, const struct sent *s,
                                const struct http_response *res)
{
    size_t matches;
    const cJSON *line = logfile_find_request(lf, rid, &matches);
    fx_context("%s %s (request id %s)", s->method, s->path, rid);
    if (matches != 1)
        fx_fail_at(__FILE__, __LINE__, "%zu log lines carry the request id, expected 1", matches);
    assert_string_equal(fx_json_str(line, "level"), level_for(res->status));
    assert_string_equal(fx_json_str(line, "method"), s->method);
    assert_string_equal(fx_json_str(line, "route"), s->route);
    assert_string_equal(fx_json_str(line, "path"), s->logged_path ? s->logged_path : s->path);
    assert_int_equal(fx_json_int(line, "status"), res->status);
    if (strcmp(s->method, "HEAD") != 0)
        assert_int_equal(fx_json_int(line, "bytes"), res->body_len);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(line, "duration_ms");
    assert_true(cJSON_IsNumber(d) && d->valuedouble >= 0 && d->valuedouble < 5000);
    fx_context("%s", "");
}

static void test_every_request_has_exactly_one_matching_line(void **state)
{
    struct fixture *fx = *state;
    static const struct sent reqs[] = {
        {"POST", "/tasks", "/tasks", NULL, "{\"task\":\"logged\"}", 201},
        {"GET", "/tasks", "/tasks", NULL, NULL, 200},
        {"GET", "/tasks/1", "/tasks/{id}", NULL, NULL, 200},
        {"GET", "/tasks/%31", "/tasks/{id}", "/tasks/1", NULL, 200},
        {"HEAD", "/tasks/1", "/tasks/{id}", NULL, NULL, 200},
        {"PUT", "/tasks/1", "/tasks/{id}", NULL, "{\"done\":true}", 200},
        {"GET", "/tasks/2", "/tasks/{id}", NULL, NULL, 404},
        {"GET", "/tasks/x", "/tasks/{id}", NULL, NULL, 400},
        {"POST", "/tasks", "/tasks", NULL, "{\"task\":1}", 400},
        {"BREW", "/tasks", "/tasks", NULL, NULL, 405},
        {"GET", "/nope", "other", NULL, NULL, 404},
        {"GET", "/livez", "/livez", NULL, NULL, 200},
        {"GET", "/readyz", "/readyz", NULL, NULL, 200},
        {"GET", "/metrics", "/metrics", NULL, NULL, 200},
        {"DELETE", "/tasks/1", "/tasks/{id}", NULL, NULL, 204},
    };
    enum { N = sizeof(reqs) / sizeof(reqs[0]) };
    struct http_response *res[N + 1];
    for (size_t i = 0; i < N; i++) {
        char header[64];
        snprintf(header, sizeof(header), "X-Request-Id: log-%zu", i);
        const char *const with_json[] = {header, "Content-Type: application/json", NULL};
        const char *const plain[] = {header, NULL};
        res[i] = fx_request(fx, reqs[i].method, reqs[i].path, reqs[i].body ? with_json : plain,
                            reqs[i].body);
        fx_expect_status(res[i], reqs[i].status);
    }
    res[N] = fx_request(fx, "GET", "/livez", NULL, NULL); /* a generated id */
    fx_wait_logged(fx, N + 1);
    struct logfile *lf = read_log(fx->proc.log_path);
    for (size_t i = 0; i < N; i++) {
        char rid[32];
        snprintf(rid, sizeof(rid), "log-%zu", i);
        expect_request_line(lf, rid, &reqs[i], res[i]);
    }
    static const struct sent generated = {"GET", "/livez", "/livez", NULL, NULL, 200};
    expect_request_line(lf, http_header(res[N], "X-Request-Id"), &generated, res[N]);
    assert_int_equal(logfile_count_msg(lf, "request"), N + 1);
}

static void test_timestamps_are_utc_now(void **state)
{
    struct fixture *fx = *state;
    int64_t before = (int64_t)(clock_realtime_ns() / 1000000u);
    fx_expect_status(fx_request(fx, "GET", "/livez", NULL, NULL), 200);
    fx_wait_logged(fx, 1);
    int64_t after = (int64_t)(clock_realtime_ns() / 1000000u);
    struct logfile *lf = read_log(fx->proc.log_path);
    assert_int_equal(logfile_count_msg(lf, "request"), 1);
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *j = lf->lines[i].json;
        if (strcmp(fx_json_str(j, "msg"), "request") != 0)
            continue;
        int64_t ts = fx_rfc3339_ms_epoch(fx_json_str(j, "ts"));
        if (ts < before || ts > after)
            fx_fail_at(__FILE__, __LINE__, "request logged at %s, outside its window",
                       fx_json_str(j, "ts"));
    }
}

static void test_levels_follow_the_status_class(void **state)
{
    struct fixture *fx = *state;
    static const char *const paths[] = {"/livez", "/nope", "/tasks/1", "/tasks?limit=0"};
    static const int statuses[] = {200, 404, 404, 400};
    const char *ids[4];
    for (int i = 0; i < 4; i++) {
        struct http_response *res = fx_request(fx, "GET", paths[i], NULL, NULL);
        fx_expect_status(res, statuses[i]);
        ids[i] = http_header(res, "X-Request-Id");
    }
    fx_wait_logged(fx, 4);
    struct logfile *lf = read_log(fx->proc.log_path);
    for (int i = 0; i < 4; i++) {
        const cJSON *line = logfile_find_request(lf, ids[i], NULL);
        assert_non_null(line);
        assert_string_equal(fx_json_str(line, "level"), statuses[i] < 400 ? "info" : "warn");
        if (statuses[i] >= 400)
            assert_non_null(fx_json_str(line, "error_code"));
    }
}

/* Waits (bounded) for GET /readyz to answer `status`. */
static void wait_ready(struct fixture *fx, int status)
{
    double deadline = fx_now_ms() + 5000;
    for (;;) {
        struct http_response *res = fx_request(fx, "GET", "/readyz", NULL, NULL);
        int got = res->status;
        scratch_drop(res);
        if (got == status)
            return;
        if (fx_now_ms() > deadline)
            fx_fail_at(__FILE__, __LINE__, "/readyz still answers %d after 5 s, expected %d", got,
                       status);
        fx_sleep_ms(20);
    }
}

static void test_a_5xx_has_exactly_one_error_line_with_the_database_fields(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "before the fault");
    char data[400], moved[400];
    snprintf(data, sizeof(data), "%s/data", fx->proc.dir);
    snprintf(moved, sizeof(moved), "%s/data.moved", fx->proc.dir);
    assert_int_equal(rename(data, moved), 0);
    static const char *const headers[] = {"X-Request-Id: five-hundred",
                                          "Content-Type: application/json", NULL};
    struct http_response *res = fx_request(fx, "POST", "/tasks", headers, "{\"task\":\"lost?\"}");
    fx_expect_error(res, 503, "db_unavailable");
    assert_string_equal(http_header(res, "Retry-After"), "1");
    assert_int_equal(rename(moved, data), 0);
    wait_ready(fx, 200);
    fx_wait_logged(fx, 2);
    struct logfile *lf = read_log(fx->proc.log_path);
    size_t matches, errors = 0;
    const cJSON *line = logfile_find_request(lf, "five-hundred", &matches);
    assert_int_equal(matches, 1);
    assert_string_equal(fx_json_str(line, "level"), "error");
    assert_int_equal(fx_json_int(line, "status"), 503);
    assert_string_equal(fx_json_str(line, "error_code"), "db_unavailable");
    /* refused on stat(2) before SQLite ran: the state, the reason and ENOENT, no sqlite_code */
    const char *db_state = fx_json_str(line, "db_state");
    assert_non_null(db_state);
    if (strcmp(db_state, "missing") != 0 && strcmp(db_state, "unlinked") != 0)
        fx_fail_at(__FILE__, __LINE__, "db_state is \"%s\", expected missing or unlinked",
                   db_state);
    assert_true(fx_json_str(line, "reason") && *fx_json_str(line, "reason"));
    assert_int_equal(fx_json_int(line, "errno"), ENOENT);
    assert_null(cJSON_GetObjectItemCaseSensitive(line, "sqlite_code"));
    for (size_t i = 0; i < lf->count; i++) {
        const char *rid = fx_json_str(lf->lines[i].json, "request_id");
        errors += rid && !strcmp(rid, "five-hundred") &&
                  !strcmp(fx_json_str(lf->lines[i].json, "level"), "error");
    }
    assert_int_equal(errors, 1);
}

/* The client controls the path: quotes, backslashes, an encoded newline followed by a forged
 * JSON object, and a byte that is not UTF-8. The line must stay one valid JSON line, with the
 * text escaped and the invalid byte replaced by U+FFFD. */
static void test_user_text_in_the_path_is_escaped(void **state)
{
    struct fixture *fx = *state;
    fx_expect_status(fx_request(fx, "GET", "/livez", NULL, NULL), 200);
    fx_wait_logged(fx, 1);
    size_t lines_before = read_log(fx->proc.log_path)->count;
    static const char *const headers[] = {"X-Request-Id: inject-1", NULL};
    struct http_response *res = fx_request(
        fx, "GET", "/log%22inj%5Cect%0A%7B%22level%22:%22error%22,%22msg%22:%22forged%22%7D%FF",
        headers, NULL);
    fx_expect_error(res, 404, "route_not_found");
    static const char *const raw_headers[] = {"X-Request-Id: inject-2", NULL};
    fx_expect_error(fx_request(fx, "GET", "/a\"b\\c", raw_headers, NULL), 404, "route_not_found");
    fx_wait_logged(fx, 3);
    struct logfile *lf = read_log(fx->proc.log_path);
    assert_int_equal(lf->count, lines_before + 2);
    assert_int_equal(logfile_count_msg(lf, "forged"), 0);
    const cJSON *line = logfile_find_request(lf, "inject-1", NULL);
    assert_non_null(line);
    assert_string_equal(fx_json_str(line, "path"),
                        "/log\"inj\\ect\n{\"level\":\"error\",\"msg\":\"forged\"}\xef\xbf\xbd");
    line = logfile_find_request(lf, "inject-2", NULL);
    assert_non_null(line);
    assert_string_equal(fx_json_str(line, "path"), "/a\"b\\c");
    for (size_t i = 0; i < lf->count; i++)
        assert_null(strchr(lf->lines[i].raw, '\xff'));
}

/* A path longer than what the log keeps is cut, and still leaves a valid line. */
static void test_a_long_multibyte_path_still_logs_a_valid_line(void **state)
{
    struct fixture *fx = *state;
    char path[4096];
    size_t used = (size_t)snprintf(path, sizeof(path), "/long/");
    for (int i = 0; i < 300; i++)
        used += (size_t)snprintf(path + used, sizeof(path) - used, "%%C3%%A9");
    static const char *const headers[] = {"X-Request-Id: long-path", NULL};
    fx_expect_error(fx_request(fx, "GET", path, headers, NULL), 404, "route_not_found");
    fx_wait_logged(fx, 1);
    struct logfile *lf = read_log(fx->proc.log_path);
    const cJSON *line = logfile_find_request(lf, "long-path", NULL);
    assert_non_null(line);
    assert_true(strncmp(fx_json_str(line, "path"), "/long/\xc3\xa9", 8) == 0);
}

static void test_sighup_reopens_the_log_file(void **state)
{
    struct fixture *fx = *state;
    static const char *const before[] = {"X-Request-Id: before-rotate", NULL};
    fx_expect_status(fx_request(fx, "GET", "/livez", before, NULL), 200);
    fx_wait_logged(fx, 1);
    char rotated[400];
    snprintf(rotated, sizeof(rotated), "%s.1", fx->proc.log_path);
    assert_int_equal(rename(fx->proc.log_path, rotated), 0);
    assert_int_equal(taskd_proc_signal(&fx->proc, SIGHUP), 0);
    if (logfile_wait_msg(fx->proc.log_path, 0, "log file reopened", 1, 5000) < 0)
        fx_fail_at(__FILE__, __LINE__, "no \"log file reopened\" line in a new %s within 5 s",
                   fx->proc.log_path);
    static const char *const after[] = {"X-Request-Id: after-rotate", NULL};
    fx_expect_status(fx_request(fx, "GET", "/livez", after, NULL), 200);
    fx_wait_logged(fx, 1);
    struct logfile *fresh = read_log(fx->proc.log_path);
    struct logfile *old = read_log(rotated);
    size_t n;
    assert_non_null(logfile_find_request(fresh, "after-rotate", &n));
    assert_int_equal(n, 1);
    assert_null(logfile_find_request(fresh, "before-rotate", NULL));
    assert_non_null(logfile_find_request(old, "before-rotate", NULL));
    assert_null(logfile_find_request(old, "after-rotate", NULL));
    assert_int_equal(logfile_count_msg(old, "log file reopened"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_request_has_exactly_one_matching_line),
        T(test_timestamps_are_utc_now),
        T(test_levels_follow_the_status_class),
        T(test_a_5xx_has_exactly_one_error_line_with_the_database_fields),
        T(test_user_text_in_the_path_is_escaped),
        T(test_a_long_multibyte_path_still_logs_a_valid_line),
        T(test_sighup_reopens_the_log_file),
    };
    return cmocka_run_group_tests_name("e2e_logs", tests, NULL, NULL);
}
