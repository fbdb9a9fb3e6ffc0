/*
 * fixture: what every end-to-end test starts from: a fresh taskd in its own directory and a
 * keep-alive connection to it, plus the checks the DESIGN.md contracts need again and again
 * (error bodies, task objects, timestamps, "still serving").
 *
 * Helpers are macros over *_at() functions so a failure names the test's own line, and print
 * what came back (status, body) before failing. Everything a helper returns is kept in scratch
 * and released by fx_teardown(), which cmocka also runs after a failed test; teardown also stops
 * taskd and removes its directory.
 */
#ifndef E2E_FIXTURE_H
#define E2E_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>
#include <cmocka.h>

#include "http_client.h"
#include "scrape.h"
#include "taskd_proc.h"

struct fixture {
    struct taskd_proc proc;
    struct http_conn *conn; /* reused by fx_request(); reopened when the server closed it */
};

/* {"Content-Type: application/json", NULL}: the headers of a JSON write. */
extern const char *const fx_json_headers[];

/* cmocka fixtures: taskd with default flags, or with extra arguments. Setup returns once taskd
 * listens and (unless the options change the log level) has logged its "listening" line. */
int fx_setup(void **state);
int fx_setup_with(void **state, const struct taskd_opts *opts);
int fx_teardown(void **state);

/* Fails the test at file:line with a printf-style message. */
void fx_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Names what a loop is checking right now; a failure message starts with it. Cleared at
 * teardown. */
void fx_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new connection to taskd, closed at teardown. */
#define fx_connect(fx) fx_connect_at((fx), __FILE__, __LINE__)
struct http_conn *fx_connect_at(struct fixture *fx, const char *file, int line);

/* One request on the fixture's keep-alive connection; the test fails if no response comes. */
#define fx_request(fx, method, path, headers, body)                                                \
    fx_request_at((fx), (method), (path), (headers), (body), __FILE__, __LINE__)
struct http_response *fx_request_at(struct fixture *fx, const char *method, const char *path,
                                    const char *const *headers, const char *body, const char *file,
                                    int line);

/* One request on connection `c`. */
#define fx_request_on(c, method, path, headers, body)                                              \
    fx_request_on_at((c), (method), (path), (headers), (body), __FILE__, __LINE__)
struct http_response *fx_request_on_at(struct http_conn *c, const char *method, const char *path,
                                       const char *const *headers, const char *body,
                                       const char *file, int line);

/* Reads one response on `c` (after raw bytes were sent with http_send()). */
#define fx_read(c, method) fx_read_at((c), (method), __FILE__, __LINE__)
struct http_response *fx_read_at(struct http_conn *c, const char *method, const char *file,
                                 int line);

/* Keeps a response obtained from http_client directly until teardown. Returns it. */
struct http_response *fx_keep(struct http_response *res);

/* Sends raw bytes on `c`; the test fails if they cannot be sent. */
#define fx_send(c, data) fx_send_at((c), (data), __FILE__, __LINE__)
void fx_send_at(struct http_conn *c, const char *data, const char *file, int line);

/* The status must be `status`; otherwise the test fails showing the response. */
#define fx_expect_status(res, status) fx_expect_status_at((res), (status), __FILE__, __LINE__)
void fx_expect_status_at(const struct http_response *res, int status, const char *file, int line);

/* The body parsed as JSON (kept in scratch); the test fails if it is not JSON. */
#define fx_json(res) fx_json_at((res), __FILE__, __LINE__)
cJSON *fx_json_at(const struct http_response *res, const char *file, int line);

/* A DESIGN.md error: `status`, Content-Type application/json, a body that is exactly
 * {"error": non-empty sentence, "code": `code`, "request_id": the X-Request-Id header}. */
#define fx_expect_error(res, status, code)                                                         \
    fx_expect_error_at((res), (status), (code), __FILE__, __LINE__)
void fx_expect_error_at(const struct http_response *res, int status, const char *code,
                        const char *file, int line);

/* A task object with exactly id, task, done, created_at, updated_at, the timestamps in RFC 3339
 * UTC with milliseconds. `text` NULL skips the text check, `done` < 0 the done check. */
#define fx_expect_task(obj, id, text, done)                                                        \
    fx_expect_task_at((obj), (id), (text), (done), __FILE__, __LINE__)
void fx_expect_task_at(const cJSON *obj, int64_t id, const char *text, int done, const char *file,
                       int line);

/* POST /tasks {"task": text} → 201; returns the task (kept in scratch). */
#define fx_create(fx, text) fx_create_at((fx), (text), __FILE__, __LINE__)
cJSON *fx_create_at(struct fixture *fx, const char *text, const char *file, int line);

/* A fresh connection still gets 200 from /livez. */
#define fx_expect_serving(fx) fx_expect_serving_at((fx), __FILE__, __LINE__)
void fx_expect_serving_at(struct fixture *fx, const char *file, int line);

/* Waits until taskd has logged `n` request lines (each is written just after its response is
 * sent and its metrics recorded), so a scrape or a log check sees every earlier request. */
#define fx_wait_logged(fx, n) fx_wait_logged_at((fx), (n), __FILE__, __LINE__)
void fx_wait_logged_at(struct fixture *fx, size_t n, const char *file, int line);

/* GET /metrics on a new connection, expects 200, parses the exposition (kept in scratch). */
#define fx_scrape(fx) fx_scrape_at((fx), __FILE__, __LINE__)
struct scrape *fx_scrape_at(struct fixture *fx, const char *file, int line);

/* The value of a sample that must exist (labels as for scrape_find()). */
#define fx_metric(sc, name, labels) fx_metric_at((sc), (name), (labels), __FILE__, __LINE__)
double fx_metric_at(const struct scrape *sc, const char *name, const char *const *labels,
                    const char *file, int line);

/* Runs taskd to completion with `args` and extra `env` (may be NULL), e.g. --help or a bad
 * flag. Returns its exit code (-1 when a signal ended it) with stdout and stderr in *out and *err
 * (kept in scratch); the test fails when taskd cannot be run or takes over 5 s. */
#define fx_run_taskd(args, env, out, err)                                                          \
    fx_run_taskd_at((args), (env), (out), (err), __FILE__, __LINE__)
int fx_run_taskd_at(const char *const *args, const char *const *env, char **out, char **err,
                    const char *file, int line);

/* 1 when `s` is exactly YYYY-MM-DDTHH:MM:SS.mmmZ with valid ranges. */
int fx_is_rfc3339_ms(const char *s);

/* Milliseconds since the epoch of a timestamp accepted by fx_is_rfc3339_ms(), or -1. */
int64_t fx_rfc3339_ms_epoch(const char *s);

/* 1 when `s` is exactly 16 lowercase hex digits (a generated request id). */
int fx_is_hex16(const char *s);

/* An integer JSON member (fails the test when missing or not a number). */
#define fx_json_int(obj, key) fx_json_int_at((obj), (key), __FILE__, __LINE__)
int64_t fx_json_int_at(const cJSON *obj, const char *key, const char *file, int line);

/* A string JSON member, or NULL when missing or not a string. */
const char *fx_json_str(const cJSON *obj, const char *key);

/* Sleeps `ms` milliseconds. */
void fx_sleep_ms(unsigned ms);

/* Milliseconds on the monotonic clock. */
double fx_now_ms(void);

#endif
