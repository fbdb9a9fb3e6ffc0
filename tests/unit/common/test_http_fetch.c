/*
 * Unit tests for common/http_fetch against a real mini_http server in this process (port 0):
 * the status and body come back whatever the status, a JSON body is posted, an answer over the
 * buf's limit, a refused connection, a timeout and a bad URL each give their failure and the
 * sentence, and proxy settings in the environment do not divert a request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "http_fetch.h"
#include "mini_http.h"

#define SLOW_MS 600
#define BIG_LEN 10000

struct server {
    struct mini_http *http;
    char base[64]; /* http://127.0.0.1:PORT */
};

static int on_request(void *ctx, const struct mini_http_request *req, struct buf *out,
                      const char **content_type)
{
    (void)ctx;
    (void)content_type;
    if (strcmp(req->path, "/busy") == 0) {
        buf_puts(out, "busy\n");
        return 503;
    }
    if (strcmp(req->path, "/big") == 0) {
        for (int i = 0; i < BIG_LEN; i++)
            buf_putc(out, 'x');
        return 200;
    }
    if (strcmp(req->path, "/slow") == 0) {
        struct timespec ts = {0, SLOW_MS * 1000000L};
        nanosleep(&ts, NULL);
        buf_puts(out, "late\n");
        return 200;
    }
    buf_printf(out, "%s %s [%s]", req->method, req->path, req->body);
    return 200;
}

static int start_server(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    char err[256];
    struct listen_addr addr;
    if (!s || listen_addr_parse("127.0.0.1:0", &addr, err, sizeof(err)) < 0 ||
        !(s->http = mini_http_start(&addr, on_request, NULL, err, sizeof(err)))) {
        free(s);
        return -1;
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", mini_http_port(s->http));
    *state = s;
    return 0;
}

static int stop_server(void **state)
{
    struct server *s = *state;
    mini_http_stop(s->http);
    free(s);
    return 0;
}

static const char *url_of(const struct server *s, const char *path)
{
    static char url[128];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    return url;
}

static void test_get_returns_the_status_and_the_body(void **state)
{
    struct server *s = *state;
    struct buf body;
    buf_init(&body, 4096);
    buf_puts(&body, "left over from before");
    assert_int_equal(http_fetch_get(url_of(s, "/echo"), 2000, &body, NULL, 0), 200);
    assert_string_equal(body.data, "GET /echo []");
    assert_int_equal(body.len, strlen("GET /echo []"));
    buf_free(&body);
}

static void test_post_json_sends_the_body(void **state)
{
    struct server *s = *state;
    struct buf body;
    buf_init(&body, 4096);
    assert_int_equal(
        http_fetch_post_json(url_of(s, "/tasks"), "{\"task\":\"a\"}", 2000, &body, NULL, 0), 200);
    assert_string_equal(body.data, "POST /tasks [{\"task\":\"a\"}]");
    buf_free(&body);
}

static void test_an_error_status_is_an_answer_with_its_body(void **state)
{
    struct server *s = *state;
    struct buf body;
    buf_init(&body, 4096);
    char err[256] = "untouched";
    assert_int_equal(http_fetch_get(url_of(s, "/busy"), 2000, &body, err, sizeof(err)), 503);
    assert_string_equal(body.data, "busy\n");
    assert_string_equal(err, "untouched");
    buf_free(&body);
}

static void test_an_answer_over_the_limit_is_too_large(void **state)
{
    struct server *s = *state;
    struct buf body;
    buf_init(&body, 100);
    char err[256], want[256];
    const char *url = url_of(s, "/big");
    assert_int_equal(http_fetch_get(url, 2000, &body, err, sizeof(err)), HTTP_FETCH_TOO_LARGE);
    snprintf(want, sizeof(want), "cannot read %s: the answer is longer than 100 bytes", url);
    assert_string_equal(err, want);
    assert_true(body.overflowed);
    assert_true(body.len <= 100);
    buf_free(&body);
    /* Without a buf the answer is discarded, whatever its length. */
    assert_int_equal(http_fetch_get(url, 2000, NULL, NULL, 0), 200);
}

static void test_a_refused_connection_is_no_answer(void **state)
{
    struct server *s = *state;
    char url[128], err[256], want[300];
    snprintf(url, sizeof(url), "%s/echo", s->base);
    mini_http_stop(s->http); /* nothing listens on the port now */
    s->http = NULL;
    assert_int_equal(http_fetch_get(url, 2000, NULL, err, sizeof(err)), HTTP_FETCH_NO_ANSWER);
    snprintf(want, sizeof(want), "cannot read %s: Couldn't connect to server", url);
    assert_string_equal(err, want);
    assert_int_equal(http_fetch_post_json(url, "{}", 2000, NULL, err, sizeof(err)),
                     HTTP_FETCH_NO_ANSWER);
    snprintf(want, sizeof(want), "cannot post to %s: Couldn't connect to server", url);
    assert_string_equal(err, want);
}

static void test_a_slow_answer_times_out_as_no_answer(void **state)
{
    struct server *s = *state;
    char err[256], want[300];
    const char *url = url_of(s, "/slow");
    uint64_t t0 = clock_monotonic_ns();
    assert_int_equal(http_fetch_get(url, 100, NULL, err, sizeof(err)), HTTP_FETCH_NO_ANSWER);
    uint64_t took_ms = (clock_monotonic_ns() - t0) / 1000000u;
    assert_true(took_ms >= 90 && took_ms < SLOW_MS);
    snprintf(want, sizeof(want), "cannot read %s: Timeout was reached", url);
    assert_string_equal(err, want);
}

static void test_an_unusable_url_fails(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(http_fetch_get("gopherx://127.0.0.1/", 2000, NULL, err, sizeof(err)),
                     HTTP_FETCH_FAILED);
    assert_string_equal(err, "cannot read gopherx://127.0.0.1/: Unsupported protocol");
}

static void test_proxy_settings_in_the_environment_are_ignored(void **state)
{
    struct server *s = *state;
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < 4; i++)
        setenv(vars[i], "http://127.0.0.1:1", 1); /* a proxy that refuses everything */
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    struct buf body;
    buf_init(&body, 4096);
    int status = http_fetch_get(url_of(s, "/echo"), 2000, &body, NULL, 0);
    for (size_t i = 0; i < 4; i++)
        unsetenv(vars[i]);
    assert_int_equal(status, 200);
    assert_string_equal(body.data, "GET /echo []");
    buf_free(&body);
}

static int curl_up(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int curl_down(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, start_server, stop_server)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_returns_the_status_and_the_body),
        T(test_post_json_sends_the_body),
        T(test_an_error_status_is_an_answer_with_its_body),
        T(test_an_answer_over_the_limit_is_too_large),
        T(test_a_refused_connection_is_no_answer),
        T(test_a_slow_answer_times_out_as_no_answer),
        T(test_an_unusable_url_fails),
        T(test_proxy_settings_in_the_environment_are_ignored),
    };
    return cmocka_run_group_tests_name("http_fetch", tests, curl_up, curl_down);
}
