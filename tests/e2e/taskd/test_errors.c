/*
 * test_errors: every way a request can be wrong, and the exact answer DESIGN.md gives it:
 * 400 invalid_body / invalid_id, 404 route_not_found, 405 with the route's Allow header,
 * 413 for bodies over 64 KiB (before they are read), 415 for a non-JSON content type. After
 * each, a fresh connection must still be served: a bad request never takes taskd down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scratch.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define BODY_LIMIT (64 * 1024)

static void expect_bodies_rejected(struct fixture *fx, const char *method, const char *path,
                                   const char *const *bodies, size_t n, int status,
                                   const char *code)
{
    for (size_t i = 0; i < n; i++) {
        fx_context("%s %s with body %s", method, path, bodies[i]);
        fx_expect_error(fx_request(fx, method, path, fx_json_headers, bodies[i]), status, code);
    }
    fx_context("%s", "");
}

static void test_invalid_json_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {
        "{",
        "not json",
        "{\"task\":\"x\",}",
        "{\"task\":\"x\"} trailing",
        "{\"task\":\"x\"}{\"task\":\"y\"}",
        "{'task':'x'}",
        "[]",
        "[{\"task\":\"x\"}]",
        "\"task\"",
        "null",
        "42",
    };
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_empty_body_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    fx_expect_error(fx_request(fx, "POST", "/tasks", fx_json_headers, ""), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_wrong_field_types_are_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {
        "{\"task\":5}",
        "{\"task\":null}",
        "{\"task\":true}",
        "{\"task\":[\"x\"]}",
        "{\"task\":{\"text\":\"x\"}}",
        "{\"task\":\"x\",\"done\":\"yes\"}",
        "{\"task\":\"x\",\"done\":1}",
        "{\"task\":\"x\",\"done\":null}",
    };
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_missing_task_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {"{}", "{\"done\":true}"};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_empty_task_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {"{\"task\":\"\"}"};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_whitespace_only_task_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {"{\"task\":\" \"}", "{\"task\":\"  \\t\\n\\r  \"}"};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

/* {"task":"<n copies of `unit`>"} */
static char *task_body(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *body = malloc(u * (size_t)n + 32);
    assert_non_null(body);
    scratch_keep(body, scratch_free);
    size_t used = (size_t)snprintf(body, 16, "{\"task\":\"");
    for (int i = 0; i < n; i++, used += u)
        memcpy(body + used, unit, u);
    memcpy(body + used, "\"}", 3);
    return body;
}

static void test_task_of_1001_characters_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    const char *const bodies[] = {task_body("a", 1001), task_body("\xc3\xa9", 1001)};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

/* The limit counts characters, not bytes: 1000 four-byte characters are fine. */
static void test_task_of_1000_characters_is_accepted(void **state)
{
    struct fixture *fx = *state;
    const char *const bodies[] = {task_body("a", 1000), task_body("\xc3\xa9", 1000),
                                  task_body("\xf0\x9f\x93\x9d", 1000)};
    for (size_t i = 0; i < COUNT(bodies); i++) {
        fx_context("body %zu", i);
        struct http_response *res = fx_request(fx, "POST", "/tasks", fx_json_headers, bodies[i]);
        fx_expect_status(res, 201);
        cJSON *task = fx_json(res);
        size_t len = strlen(bodies[i]) - strlen("{\"task\":\"\"}");
        assert_int_equal(strlen(fx_json_str(task, "task")), len);
    }
}

static void test_unknown_field_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {"{\"task\":\"x\",\"priority\":1}", "{\"Task\":\"x\"}",
                                         "{\"task\":\"x\",\"due\":null}"};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_nul_in_task_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {"{\"task\":\"a\\u0000b\"}"};
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_invalid_utf8_in_task_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {
        "{\"task\":\"\xff\xfe\"}",         /* never valid */
        "{\"task\":\"\xc0\xaf\"}",         /* overlong "/" */
        "{\"task\":\"\xed\xa0\x80\"}",     /* a UTF-16 surrogate */
        "{\"task\":\"caf\xc3\"}",          /* cut short */
        "{\"task\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
    };
    expect_bodies_rejected(fx, "POST", "/tasks", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_serving(fx);
}

static void test_put_with_nothing_to_update_is_400_invalid_body(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "unchanged");
    static const char *const bodies[] = {"{}", "{\"id\":1}", "{\"task\":\"\"}",
                                         "{\"done\":\"true\"}", "{\"task\":\"x\",\"extra\":1}"};
    expect_bodies_rejected(fx, "PUT", "/tasks/1", bodies, COUNT(bodies), 400, "invalid_body");
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1, "unchanged", 0);
}

/* Headers of a POST that declares `length` bytes of JSON. */
static const char *post_head(size_t length, const char *extra)
{
    static char head[256];
    snprintf(head, sizeof(head),
             "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
             "Content-Length: %zu\r\n\r\n",
             extra, length);
    return head;
}

/* The answer must come while the client has sent only the headers and a few bytes: taskd must
 * not wait for (or read) a body it will refuse. */
static void test_body_over_64k_is_413_before_it_is_sent(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    http_set_timeout(c, 3000);
    fx_send(c, post_head(BODY_LIMIT + 1, ""));
    fx_send(c, "{\"task\":");
    struct http_response *res = fx_read(c, "POST");
    fx_expect_error(res, 413, "body_too_large");
    assert_int_equal(http_wait_closed(c, 3000, NULL), 0);
    fx_expect_serving(fx);
}

static void test_put_body_over_64k_is_413(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "small");
    struct http_conn *c = fx_connect(fx);
    char head[256];
    snprintf(head, sizeof(head),
             "PUT /tasks/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 1000000\r\n\r\n{\"task\":");
    fx_send(c, head);
    fx_expect_error(fx_read(c, "PUT"), 413, "body_too_large");
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1, "small", 0);
}

static void test_expect_continue_over_64k_gets_413_not_100(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    fx_send(c, post_head(100000, "Expect: 100-continue\r\n"));
    struct http_response *res = fx_read(c, "POST");
    fx_expect_error(res, 413, "body_too_large");
    assert_int_equal(res->interim, 0);
    fx_expect_serving(fx);
}

/* {"task":"big"  <spaces>  } of exactly `size` bytes: valid JSON. */
static char *padded_body(size_t size)
{
    char *body = scratch_keep(malloc(size + 1), scratch_free);
    assert_non_null(body);
    memset(body, ' ', size);
    memcpy(body, "{\"task\":\"big\"", 13);
    body[size - 1] = '}';
    body[size] = '\0';
    return body;
}

static void test_body_of_exactly_64k_is_accepted(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res =
        fx_request(fx, "POST", "/tasks", fx_json_headers, padded_body(BODY_LIMIT));
    fx_expect_status(res, 201);
    fx_expect_task(fx_json(res), 1, "big", 0);
}

static void test_chunked_body_over_64k_is_413(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    const char *body = padded_body(70000);
    fx_send(c, "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
    /* taskd may answer and close before the end: a failed send is fine, the answer is not */
    for (size_t at = 0, n; at < 70000; at += n) {
        char size[16];
        n = 70000 - at < 8000 ? 70000 - at : 8000;
        snprintf(size, sizeof(size), "%zx\r\n", n);
        if (http_send_str(c, size) < 0 || http_send(c, body + at, n) < 0 ||
            http_send_str(c, "\r\n") < 0)
            break;
    }
    http_send_str(c, "0\r\n\r\n");
    struct http_response *res;
    int rc = http_read_response(c, "POST", &res);
    if (rc < 0)
        fx_fail_at(__FILE__, __LINE__,
                   "a chunked body over 64 KiB got no response (%s); "
                   "expected 413 body_too_large",
                   http_last_error(c));
    fx_keep(res);
    fx_expect_error(res, 413, "body_too_large");
    fx_expect_status(fx_request(fx, "GET", "/tasks", NULL, NULL), 200);
    assert_string_equal(fx_request(fx, "GET", "/tasks", NULL, NULL)->body, "[]");
}

static void test_missing_content_type_is_415(void **state)
{
    struct fixture *fx = *state;
    fx_expect_error(fx_request(fx, "POST", "/tasks", NULL, "{\"task\":\"x\"}"), 415,
                    "unsupported_media_type");
    fx_expect_serving(fx);
}

static void test_wrong_content_type_is_415(void **state)
{
    struct fixture *fx = *state;
    static const char *const types[] = {
        "Content-Type: text/plain",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: text/json",
        "Content-Type: application/jsonx",
        "Content-Type: multipart/form-data; boundary=x",
    };
    for (size_t i = 0; i < COUNT(types); i++) {
        const char *const headers[] = {types[i], NULL};
        fx_context("POST with %s", types[i]);
        fx_expect_error(fx_request(fx, "POST", "/tasks", headers, "{\"task\":\"x\"}"), 415,
                        "unsupported_media_type");
    }
    assert_string_equal(fx_request(fx, "GET", "/tasks", NULL, NULL)->body, "[]");
}

static void test_put_wrong_content_type_is_415(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    static const char *const headers[] = {"Content-Type: text/plain", NULL};
    fx_expect_error(fx_request(fx, "PUT", "/tasks/1", headers, "{\"done\":true}"), 415,
                    "unsupported_media_type");
}

static void expect_route_not_found(struct fixture *fx, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fx_context("GET %s", paths[i]);
        fx_expect_error(fx_request(fx, "GET", paths[i], NULL, NULL), 404, "route_not_found");
    }
}

static void test_unknown_routes_are_404_route_not_found(void **state)
{
    struct fixture *fx = *state;
    static const char *const paths[] = {"/",          "/nope",      "/task",   "/TASKS",
                                        "/tasks/1/x", "/metrics/x", "/livez/", "/tasksx"};
    expect_route_not_found(fx, paths, COUNT(paths));
    fx_expect_serving(fx);
}

static void test_double_slash_is_404_route_not_found(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    static const char *const paths[] = {"//tasks", "//tasks/1", "/tasks//1"};
    expect_route_not_found(fx, paths, COUNT(paths));
    fx_expect_serving(fx);
}

static void test_trailing_slash_is_404_route_not_found(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    static const char *const paths[] = {"/tasks/", "/tasks/1/"};
    expect_route_not_found(fx, paths, COUNT(paths));
    fx_expect_serving(fx);
}

static void test_wrong_methods_are_405_with_the_allow_header(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"DELETE", "/tasks", "GET, HEAD, POST"},
        {"PUT", "/tasks", "GET, HEAD, POST"},
        {"PATCH", "/tasks", "GET, HEAD, POST"},
        {"OPTIONS", "/tasks", "GET, HEAD, POST"},
        {"POST", "/tasks/1", "GET, HEAD, PUT, DELETE"},
        {"PATCH", "/tasks/1", "GET, HEAD, PUT, DELETE"},
        {"POST", "/metrics", "GET, HEAD"},
        {"DELETE", "/livez", "GET, HEAD"},
        {"PUT", "/readyz", "GET, HEAD"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        fx_context("%s %s", cases[i].method, cases[i].path);
        struct http_response *res = fx_request(fx, cases[i].method, cases[i].path, NULL, NULL);
        fx_expect_error(res, 405, "method_not_allowed");
        assert_string_equal(http_header(res, "Allow"), cases[i].allow);
    }
    fx_expect_serving(fx);
}

static void test_unknown_method_is_405_counted_as_other(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "BREW", "/tasks", NULL, NULL);
    fx_expect_error(res, 405, "method_not_allowed");
    assert_string_equal(http_header(res, "Allow"), "GET, HEAD, POST");
    fx_wait_logged(fx, 1);
    struct scrape *sc = fx_scrape(fx);
    static const char *const other[] = {"method", "other", "route", "/tasks", "code", "405", NULL};
    assert_true(fx_metric(sc, "http_requests_total", other) == 1.0);
    assert_int_equal(scrape_count(sc, "http_requests_total"), 1);
    fx_expect_serving(fx);
}

static void test_invalid_ids_are_400_invalid_id(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    static const char *const ids[] = {
        "0",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "0x1",
        "abc",
        "%201",
        "1%20",
        "9223372036854775808",
        "99999999999999999999",
        "18446744073709551617",
    };
    static const char *const methods[] = {"GET", "PUT", "DELETE"};
    for (size_t i = 0; i < COUNT(ids); i++) {
        for (size_t m = 0; m < COUNT(methods); m++) {
            char path[64];
            snprintf(path, sizeof(path), "/tasks/%s", ids[i]);
            fx_context("%s %s", methods[m], path);
            const char *body = m == 1 ? "{\"done\":true}" : NULL;
            fx_expect_error(fx_request(fx, methods[m], path, body ? fx_json_headers : NULL, body),
                            400, "invalid_id");
        }
    }
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1, "x", 0);
}

static void test_largest_id_is_valid_and_404(void **state)
{
    struct fixture *fx = *state;
    fx_expect_error(fx_request(fx, "GET", "/tasks/9223372036854775807", NULL, NULL), 404,
                    "task_not_found");
}

static void test_percent_encoded_path_reaches_the_task(void **state)
{
    struct fixture *fx = *state;
    cJSON *created = fx_create(fx, "encoded");
    struct http_response *res = fx_request(fx, "GET", "/tasks/%31", NULL, NULL);
    fx_expect_status(res, 200);
    fx_expect_task(fx_json(res), 1, "encoded", 0);
    assert_string_equal(fx_json_str(fx_json(res), "created_at"),
                        fx_json_str(created, "created_at"));
    fx_expect_status(fx_request(fx, "GET", "/%74asks/1", NULL, NULL), 200);
}

/* A decoded %00 must not cut the path short: /tasks/1%00x is not /tasks/1, it is refused. */
static void test_nul_in_path_does_not_truncate_it(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "x");
    fx_expect_error(fx_request(fx, "GET", "/tasks/1%00x", NULL, NULL), 400, "invalid_path");
    fx_expect_error(fx_request(fx, "GET", "/livez%00/x", NULL, NULL), 400, "invalid_path");
    fx_expect_error(fx_request(fx, "DELETE", "/tasks/1%00", NULL, NULL), 400, "invalid_path");
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1, "x", 0);
}

static void test_malformed_request_line_is_400_and_closed(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    fx_send(c, "this is not http\r\n\r\n");
    struct http_response *res = fx_read(c, "GET");
    fx_expect_status(res, 400);
    assert_int_equal(http_wait_closed(c, 3000, NULL), 0);
    fx_expect_serving(fx);
}

/* A Content-Length that is not a number gets a 400 (413 when it overflows) and the connection
 * closes, and taskd keeps serving. libmicrohttpd 0.9.75 answers these itself, before taskd sees
 * the request, and sends its header block twice (an upstream defect, see README "Known
 * limitations"): so this checks the status and the close, not that nothing follows. */
static void test_bad_content_length_gets_400_and_closes(void **state)
{
    struct fixture *fx = *state;
    static const char *const lengths[] = {"-1", "abc", "18446744073709551616"};
    static const int statuses[] = {400, 400, 413};
    for (size_t i = 0; i < COUNT(lengths); i++) {
        char req[256];
        snprintf(req, sizeof(req),
                 "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: %s\r\n\r\n{}",
                 lengths[i]);
        fx_context("Content-Length: %s", lengths[i]);
        struct http_conn *c = fx_connect(fx);
        fx_send(c, req);
        struct http_response *res = fx_read(c, "POST");
        fx_expect_status(res, statuses[i]);
        assert_int_equal(http_wait_closed(c, 3000, NULL), 0);
    }
    fx_expect_serving(fx);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_invalid_json_is_400_invalid_body),
        T(test_empty_body_is_400_invalid_body),
        T(test_wrong_field_types_are_400_invalid_body),
        T(test_missing_task_is_400_invalid_body),
        T(test_empty_task_is_400_invalid_body),
        T(test_whitespace_only_task_is_400_invalid_body),
        T(test_task_of_1001_characters_is_400_invalid_body),
        T(test_task_of_1000_characters_is_accepted),
        T(test_unknown_field_is_400_invalid_body),
        T(test_nul_in_task_is_400_invalid_body),
        T(test_invalid_utf8_in_task_is_400_invalid_body),
        T(test_put_with_nothing_to_update_is_400_invalid_body),
        T(test_body_over_64k_is_413_before_it_is_sent),
        T(test_put_body_over_64k_is_413),
        T(test_expect_continue_over_64k_gets_413_not_100),
        T(test_body_of_exactly_64k_is_accepted),
        T(test_chunked_body_over_64k_is_413),
        T(test_missing_content_type_is_415),
        T(test_wrong_content_type_is_415),
        T(test_put_wrong_content_type_is_415),
        T(test_unknown_routes_are_404_route_not_found),
        T(test_double_slash_is_404_route_not_found),
        T(test_trailing_slash_is_404_route_not_found),
        T(test_wrong_methods_are_405_with_the_allow_header),
        T(test_unknown_method_is_405_counted_as_other),
        T(test_invalid_ids_are_400_invalid_id),
        T(test_largest_id_is_valid_and_404),
        T(test_percent_encoded_path_reaches_the_task),
        T(test_nul_in_path_does_not_truncate_it),
        T(test_malformed_request_line_is_400_and_closed),
        T(test_bad_content_length_gets_400_and_closes),
    };
    return cmocka_run_group_tests_name("e2e_errors", tests, NULL, NULL);
}
