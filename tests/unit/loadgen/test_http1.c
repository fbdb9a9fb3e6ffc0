/*
 * Unit tests for loadgen/http1: the exact bytes of a framed request, and the response parser on
 * every way a response can end (Content-Length, chunked, close, HEAD/204/304, interim 1xx), on
 * pipelined responses, on malformed input, and on every split of the bytes across reads, which
 * must give the same result as one read. Ends with a throughput figure as a TAP comment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "http1.h"

/* What one parse produced, so runs with different splits can be compared field by field. */
struct outcome {
    enum http1_result result;
    int status;
    int keep_alive;
    uint64_t body_bytes;
    size_t used; /* offset where the response ended (DONE), or the bytes fed */
    const char *error;
};

/* Feeds `len` bytes: first [0, split), then the rest in pieces of `step` bytes (0: all at once).
 * With `eof`, a response still wanting bytes at the end sees the connection close. */
static struct outcome run_split(const char *data, size_t len, int head, int eof, size_t split,
                                size_t step)
{
    struct http1_response *r = test_malloc(sizeof(*r));
    struct outcome o = {.result = HTTP1_MORE};
    size_t off = 0;

    http1_response_init(r, head);
    while (off < len) {
        size_t piece = off < split ? split - off : (step ? step : len - off);
        size_t used = 12345;
        if (piece > len - off)
            piece = len - off;
        o.result = http1_response_feed(r, data + off, piece, &used);
        if (o.result == HTTP1_DONE) {
            off += used;
            break;
        }
        if (o.result == HTTP1_ERROR)
            break;
        assert_int_equal(used, piece);
        off += piece;
    }
    if (o.result == HTTP1_MORE && eof)
        o.result = http1_response_eof(r);
    o.status = r->status;
    o.keep_alive = r->keep_alive;
    o.body_bytes = r->body_bytes;
    o.used = off;
    o.error = r->error;
    test_free(r);
    return o;
}

static struct outcome run(const char *data, int head, int eof)
{
    return run_split(data, strlen(data), head, eof, 0, 0);
}

static void assert_same_outcome(struct outcome a, struct outcome b)
{
    assert_int_equal(a.result, b.result);
    assert_int_equal(a.status, b.status);
    assert_int_equal(a.keep_alive, b.keep_alive);
    assert_int_equal(a.body_bytes, b.body_bytes);
    if (a.result != HTTP1_ERROR)
        assert_int_equal(a.used, b.used);
    if (a.error == NULL || b.error == NULL)
        assert_ptr_equal(a.error, b.error);
    else
        assert_string_equal(a.error, b.error);
}

static void assert_error(const char *data, int eof, const char *expected)
{
    struct outcome o = run(data, 0, eof);
    assert_int_equal(o.result, HTTP1_ERROR);
    assert_non_null(o.error);
    assert_string_equal(o.error, expected);
}

/* ---- requests ---- */

static void test_request_without_headers_or_body(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(http1_request(&b, "GET", "127.0.0.1:8080", "/tasks/1", NULL, 0, NULL, 0), 0);
    assert_string_equal(b.data, "GET /tasks/1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
    buf_free(&b);
}

static void test_request_with_headers_and_body(void **state)
{
    (void)state;
    struct buf b;
    const char *headers[] = {"Content-Type: application/json", "X-Run: 7"};
    buf_init(&b, 1024);
    assert_int_equal(http1_request(&b, "POST", "h", "/tasks", headers, 2, "{\"a\":1}", 7), 0);
    assert_string_equal(b.data, "POST /tasks HTTP/1.1\r\nHost: h\r\n"
                                "Content-Type: application/json\r\nX-Run: 7\r\n"
                                "Content-Length: 7\r\n\r\n{\"a\":1}");
    assert_int_equal(b.len, strlen(b.data));
    buf_free(&b);
}

static void test_request_with_empty_body_sends_content_length_zero(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(http1_request(&b, "POST", "h", "/", NULL, 0, "", 0), 0);
    assert_string_equal(b.data, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    buf_free(&b);
}

static void test_request_appends_after_existing_contents(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(http1_request(&b, "GET", "h", "/a", NULL, 0, NULL, 0), 0);
    assert_int_equal(http1_request(&b, "GET", "h", "/b", NULL, 0, NULL, 0), 0);
    assert_string_equal(b.data,
                        "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    buf_free(&b);
}

static void test_request_over_limit_fails_and_appends_nothing(void **state)
{
    (void)state;
    struct buf b;
    const char *headers[] = {"X-Long: 0123456789012345678901234567890123456789"};
    buf_init(&b, 48);
    assert_int_equal(buf_puts(&b, "keep"), 0);
    assert_int_equal(http1_request(&b, "GET", "h", "/", headers, 1, NULL, 0), -1);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "keep");
    buf_free(&b);
}

static void test_request_refuses_crlf_in_a_field(void **state)
{
    (void)state;
    struct buf b;
    const char *headers[] = {"X-A: 1\r\nX-Injected: 1"};
    buf_init(&b, 1024);
    assert_int_equal(http1_request(&b, "GET", "h", "/", headers, 1, NULL, 0), -1);
    assert_int_equal(http1_request(&b, "GET", "h", "/\nx", NULL, 0, NULL, 0), -1);
    assert_int_equal(http1_request(&b, "GET", "h\r", "/", NULL, 0, NULL, 0), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* ---- responses ---- */

static const char NGINX_200[] = "HTTP/1.1 200 OK\r\n"
                                "Server: nginx/1.25.3\r\n"
                                "Date: Tue, 02 Jan 2024 10:00:00 GMT\r\n"
                                "Content-Type: text/plain\r\n"
                                "Content-Length: 13\r\n"
                                "Connection: keep-alive\r\n"
                                "\r\n"
                                "Hello, world!";

static const char CHUNKED[] = "HTTP/1.1 200 OK\r\n"
                              "Transfer-Encoding: chunked\r\n"
                              "\r\n"
                              "5;name=value\r\nHello\r\n"
                              "A ; a=1;b=\"x\"\r\n, chunked!\r\n"
                              "0;last\r\n"
                              "X-Checksum: abc\r\n"
                              "X-Other: 1\r\n"
                              "\r\n";

static const char CONTINUE_THEN_200[] = "HTTP/1.1 100 Continue\r\n\r\n"
                                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static const char CLOSE_DELIMITED[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                      "all of this until the close";

static void test_content_length_response(void **state)
{
    (void)state;
    struct outcome o = run(NGINX_200, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.keep_alive, 1);
    assert_int_equal(o.body_bytes, 13);
    assert_int_equal(o.used, strlen(NGINX_200));
    assert_null(o.error);
}

static void test_content_length_zero_ends_at_the_head(void **state)
{
    (void)state;
    const char *resp = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    struct outcome o = run(resp, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 201);
    assert_int_equal(o.body_bytes, 0);
    assert_int_equal(o.used, strlen(resp));
}

static void test_partial_content_length_body_wants_more(void **state)
{
    (void)state;
    struct outcome o = run("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 0, 0);
    assert_int_equal(o.result, HTTP1_MORE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.body_bytes, 5);
}

static void test_chunked_with_extensions_and_trailers(void **state)
{
    (void)state;
    struct outcome o = run(CHUNKED, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.keep_alive, 1);
    assert_int_equal(o.body_bytes, 15);
    assert_int_equal(o.used, strlen(CHUNKED));
}

static void test_chunked_without_trailers_and_with_bare_lf(void **state)
{
    (void)state;
    const char *resp = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n";
    struct outcome o = run(resp, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.body_bytes, 3);
    assert_int_equal(o.used, strlen(resp));
}

static void test_chunked_takes_precedence_over_content_length(void **state)
{
    (void)state;
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
                       "\r\n2\r\nhi\r\n0\r\n\r\n";
    struct outcome o = run(resp, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.body_bytes, 2);
    assert_int_equal(o.used, strlen(resp));
}

static void test_last_transfer_coding_chunked_means_chunked(void **state)
{
    (void)state;
    const char *resp =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
        "\r\n2\r\nhi\r\n0\r\n\r\n";
    struct outcome o = run(resp, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.keep_alive, 1);
    assert_int_equal(o.body_bytes, 2);
    assert_int_equal(o.used, strlen(resp));
}

static void test_non_chunked_transfer_coding_is_close_delimited(void **state)
{
    (void)state;
    const char *resp =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n"
        "\r\n0\r\n\r\nmore";
    struct outcome o = run(resp, 0, 0);
    assert_int_equal(o.result, HTTP1_MORE);
    o = run(resp, 0, 1);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 9);
}

static void test_header_names_are_case_insensitive(void **state)
{
    (void)state;
    struct outcome o =
        run("HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\nCONNECTION: Close\r\n\r\nabc", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.body_bytes, 3);
    assert_int_equal(o.keep_alive, 0);
    o = run("HTTP/1.1 200 OK\r\nTRANSFER-encoding:Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.body_bytes, 1);
}

static void test_close_delimited_body_ends_at_eof(void **state)
{
    (void)state;
    struct outcome o = run(CLOSE_DELIMITED, 0, 0);
    assert_int_equal(o.result, HTTP1_MORE);
    assert_int_equal(o.body_bytes, 27);
    o = run(CLOSE_DELIMITED, 0, 1);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 27);
    assert_null(o.error);
}

static void test_close_delimited_empty_body_ends_at_eof(void **state)
{
    (void)state;
    struct outcome o = run("HTTP/1.1 500 Oops\r\n\r\n", 0, 1);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 500);
    assert_int_equal(o.body_bytes, 0);
}

static void test_head_response_has_no_body(void **state)
{
    (void)state;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    char two[256];
    snprintf(two, sizeof(two), "%s%s", head, head);
    struct outcome o = run(two, 1, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.keep_alive, 1);
    assert_int_equal(o.body_bytes, 0);
    assert_int_equal(o.used, strlen(head));
    /* Even a chunked HEAD response has no body. */
    o = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 0);
    assert_int_equal(o.result, HTTP1_DONE);
}

static void test_204_and_304_have_no_body(void **state)
{
    (void)state;
    const char *r204 = "HTTP/1.1 204 No Content\r\n\r\n";
    const char *r304 = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
    struct outcome o = run(r204, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 204);
    assert_int_equal(o.keep_alive, 1);
    assert_int_equal(o.used, strlen(r204));
    o = run(r304, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 304);
    assert_int_equal(o.body_bytes, 0);
    assert_int_equal(o.used, strlen(r304));
}

static void test_interim_100_continue_is_skipped(void **state)
{
    (void)state;
    struct outcome o = run(CONTINUE_THEN_200, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.body_bytes, 2);
    assert_int_equal(o.used, strlen(CONTINUE_THEN_200));
    /* An interim response's headers do not leak into the final one. */
    o = run("HTTP/1.1 103 Early Hints\r\nConnection: close\r\nContent-Length: 5\r\n\r\n"
            "HTTP/1.1 204 No Content\r\n\r\n",
            0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 204);
    assert_int_equal(o.keep_alive, 1);
}

struct seen {
    char body[256];
    size_t body_len;
    char headers[512];
    size_t headers_len;
};

static void seen_body(void *ctx, const char *data, size_t n)
{
    struct seen *s = ctx;
    assert_true(s->body_len + n < sizeof(s->body));
    memcpy(s->body + s->body_len, data, n);
    s->body_len += n;
}

static void seen_header(void *ctx, const char *name, size_t nl, const char *value, size_t vl)
{
    struct seen *s = ctx;
    s->headers_len +=
        (size_t)snprintf(s->headers + s->headers_len, sizeof(s->headers) - s->headers_len,
                         "[%.*s=%.*s]", (int)nl, name, (int)vl, value);
}

/* The callbacks see the final response's headers and its body without chunk framing, however
 * the bytes are split. */
static void test_callbacks_see_headers_and_the_unframed_body(void **state)
{
    (void)state;
    const char *text =
        "HTTP/1.1 100 Continue\r\nX-Early: no\r\n\r\n"
        "HTTP/1.1 201 Created\r\nLocation:  /tasks/42 \r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5\r\n{\"id\"\r\n6;ext=1\r\n:42,\"x\r\n2\r\n\"}\r\n0\r\nX-Trailer: t\r\n\r\n";
    size_t len = strlen(text);
    for (size_t split = 0; split <= len; split++) {
        struct http1_response *r = test_malloc(sizeof(*r));
        struct seen s;
        memset(&s, 0, sizeof(s));
        http1_response_init(r, 0);
        r->on_body = seen_body;
        r->on_header = seen_header;
        r->body_ctx = &s;
        size_t used = 0, off = 0;
        enum http1_result res = http1_response_feed(r, text, split, &used);
        off = used;
        if (res == HTTP1_MORE)
            res = http1_response_feed(r, text + off, len - off, &used);
        assert_int_equal(res, HTTP1_DONE);
        assert_int_equal(s.body_len, 13);
        assert_memory_equal(s.body, "{\"id\":42,\"x\"}", 13);
        assert_string_equal(s.headers, "[Location=/tasks/42][Transfer-Encoding=chunked]");
        test_free(r);
    }
}

static void test_switching_protocols_is_an_error(void **state)
{
    (void)state;
    assert_error("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0,
                 "unexpected 101 Switching Protocols: loadgen never asks for an upgrade");
}

static void test_connection_close_clears_keep_alive(void **state)
{
    (void)state;
    struct outcome o =
        run("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 2);
    o = run("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", 0, 0);
    assert_int_equal(o.keep_alive, 0);
}

static void test_http10_keeps_alive_only_when_asked(void **state)
{
    (void)state;
    struct outcome o = run("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.keep_alive, 0);
    o = run("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.keep_alive, 1);
    o = run("HTTP/1.0 200 OK\r\n\r\nuntil close", 0, 1);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.keep_alive, 0);
    assert_int_equal(o.body_bytes, 11);
}

static void test_status_line_without_reason(void **state)
{
    (void)state;
    struct outcome o = run("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.status, 404);
    o = run("HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", 0, 0);
    assert_int_equal(o.status, 503);
}

static void test_repeated_equal_content_lengths_are_accepted(void **state)
{
    (void)state;
    struct outcome o =
        run("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_int_equal(o.body_bytes, 2);
}

static void test_pipelined_responses_in_one_buffer(void **state)
{
    (void)state;
    char both[1024];
    struct http1_response *r = test_malloc(sizeof(*r));
    size_t used = 0, used2 = 0;
    int len = snprintf(both, sizeof(both), "%s%s", NGINX_200, CHUNKED);

    http1_response_init(r, 0);
    assert_int_equal(http1_response_feed(r, both, (size_t)len, &used), HTTP1_DONE);
    assert_int_equal(used, strlen(NGINX_200));
    assert_int_equal(r->body_bytes, 13);
    /* A finished response consumes nothing more. */
    assert_int_equal(http1_response_feed(r, both + used, (size_t)len - used, &used2), HTTP1_DONE);
    assert_int_equal(used2, 0);

    http1_response_init(r, 0);
    assert_int_equal(http1_response_feed(r, both + used, (size_t)len - used, &used2), HTTP1_DONE);
    assert_int_equal(used2, strlen(CHUNKED));
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_bytes, 15);
    test_free(r);
}

static void test_empty_feed_wants_more(void **state)
{
    (void)state;
    struct http1_response *r = test_malloc(sizeof(*r));
    size_t used = 99;
    http1_response_init(r, 0);
    assert_int_equal(http1_response_feed(r, "", 0, &used), HTTP1_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(http1_response_eof(r), HTTP1_ERROR);
    assert_string_equal(r->error, "connection closed before a response arrived");
    test_free(r);
}

/* Every split point, and one byte at a time, gives what a single read gives. */
static void assert_split_invariant(const char *data, size_t len, int head, int eof)
{
    struct outcome whole = run_split(data, len, head, eof, 0, 0);
    assert_same_outcome(whole, run_split(data, len, head, eof, 0, 1));
    for (size_t split = 1; split < len; split++) {
        assert_same_outcome(whole, run_split(data, len, head, eof, split, 0));
        assert_same_outcome(whole, run_split(data, len, head, eof, split, 1));
    }
}

static void test_any_split_gives_the_same_result(void **state)
{
    (void)state;
    char pipelined[1024];
    snprintf(pipelined, sizeof(pipelined), "%s%s", CONTINUE_THEN_200, NGINX_200);
    const char *samples[] = {
        NGINX_200,
        CHUNKED,
        CONTINUE_THEN_200,
        CLOSE_DELIMITED,
        pipelined,
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        size_t len = strlen(samples[i]);
        assert_split_invariant(samples[i], len, 0, 0);
        assert_split_invariant(samples[i], len, 0, 1);
        assert_split_invariant(samples[i], len, 1, 0);
    }
    assert_int_equal(run(pipelined, 0, 0).used, strlen(CONTINUE_THEN_200));
}

/* ---- malformed responses ---- */

#define BAD_STATUS                                                                                 \
    "bad status line: expected \"HTTP/1.0\" or \"HTTP/1.1\", a space and a 3-digit status"

static void test_bad_status_line(void **state)
{
    (void)state;
    assert_error("HTTP/2.0 200 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("HTTP/1.2 200 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("HTTP/1.1 20 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("HTTP/1.1 2000 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("HTTP/1.1 2x0 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("http/1.1 200 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("\r\nHTTP/1.1 200 OK\r\n\r\n", 0, BAD_STATUS);
    assert_error("SSH-2.0-OpenSSH_9.2\r\n", 0, BAD_STATUS);
    assert_error("HTTP/1.1 099 Low\r\n\r\n", 0, "bad status line: the status code is below 100");
}

static void test_bad_header_line(void **state)
{
    (void)state;
    assert_error("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 0,
                 "bad header line: expected \"Name: value\" with no space before the colon");
    assert_error("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", 0,
                 "bad header line: expected \"Name: value\" with no space before the colon");
    assert_error("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", 0,
                 "bad header line: obsolete line folding (a line starting with whitespace)");
}

static void test_bad_content_length(void **state)
{
    (void)state;
    const char *digits = "bad Content-Length: the value is not made of digits only";
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", 0, digits);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, digits);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", 0, digits);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", 0, digits);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", 0, digits);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", 0,
                 "bad Content-Length: the value is empty");
    /* 2^62 is the largest accepted; one more, and 2^64 (which would wrap), are refused. */
    struct outcome o = run("HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\n", 0, 0);
    assert_int_equal(o.result, HTTP1_MORE);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387905\r\n\r\n", 0,
                 "bad Content-Length: the value is larger than 2^62");
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", 0,
                 "bad Content-Length: the value is larger than 2^62");
}

static void test_conflicting_content_lengths(void **state)
{
    (void)state;
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 0,
                 "conflicting Content-Length headers: repeated with different values");
}

static void test_bad_chunk_size(void **state)
{
    (void)state;
    const char *hdr = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char resp[256];
    snprintf(resp, sizeof(resp), "%sxyz\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: expected hexadecimal digits");
    snprintf(resp, sizeof(resp), "%s\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: expected hexadecimal digits");
    snprintf(resp, sizeof(resp), "%s-1\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: expected hexadecimal digits");
    snprintf(resp, sizeof(resp), "%s1 2\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: unexpected text after the hexadecimal digits");
    snprintf(resp, sizeof(resp), "%s5g\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: unexpected text after the hexadecimal digits");
    snprintf(resp, sizeof(resp), "%s4000000000000001\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: larger than 2^62");
    snprintf(resp, sizeof(resp), "%s10000000000000000\r\n", hdr);
    assert_error(resp, 0, "bad chunk size: larger than 2^62");
    snprintf(resp, sizeof(resp), "%s3\r\nabcd\r\n", hdr);
    assert_error(resp, 0, "bad chunked body: chunk data is not followed by CRLF");
    /* Leading zeros are fine: the size is small. */
    snprintf(resp, sizeof(resp), "%s00000000000000000000001\r\nx\r\n0\r\n\r\n", hdr);
    assert_int_equal(run(resp, 0, 0).result, HTTP1_DONE);
}

/* A response whose one header line is `line_len` bytes long, CRLF included. */
static char *response_with_line(size_t line_len)
{
    const char *start = "HTTP/1.1 200 OK\r\n";
    const char *end = "Content-Length: 0\r\n\r\n";
    size_t total = strlen(start) + line_len + strlen(end);
    char *s = test_malloc(total + 1);
    char *p = s;
    memcpy(p, start, strlen(start));
    p += strlen(start);
    memcpy(p, "X-Big: ", 7);
    memset(p + 7, 'a', line_len - 9);
    memcpy(p + line_len - 2, "\r\n", 2);
    p += line_len;
    memcpy(p, end, strlen(end) + 1);
    return s;
}

static void test_header_line_limit_is_8_kib(void **state)
{
    (void)state;
    char *ok = response_with_line(HTTP1_LINE_MAX);
    char *big = response_with_line(HTTP1_LINE_MAX + 1);
    struct outcome o = run(ok, 0, 0);
    assert_int_equal(o.result, HTTP1_DONE);
    assert_same_outcome(o, run_split(ok, strlen(ok), 0, 0, 0, 1));
    o = run(big, 0, 0);
    assert_int_equal(o.result, HTTP1_ERROR);
    assert_string_equal(o.error, "header line longer than 8 KiB (the limit of one line)");
    assert_same_outcome(o, run_split(big, strlen(big), 0, 0, 0, 1));
    assert_same_outcome(o, run_split(big, strlen(big), 0, 0, 100, 0));
    test_free(ok);
    test_free(big);
}

static void test_header_section_limit_is_64_kib(void **state)
{
    (void)state;
    /* 16 lines of 4000 bytes plus the status line stay under 64 KiB; 17 go over it. */
    size_t cap = 17 * 4000 + 256;
    char *s = test_malloc(cap);
    char line[4001];
    size_t len;
    memset(line, 'b', sizeof(line));
    memcpy(line, "X-Pad: ", 7);
    memcpy(line + 3998, "\r\n", 2);
    line[4000] = '\0';

    for (int n = 16; n <= 17; n++) {
        len = (size_t)snprintf(s, cap, "HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(s + len, cap - len, "%s", line);
        snprintf(s + len, cap - len, "\r\n");
        struct outcome o = run(s, 0, 1);
        if (n == 16) {
            assert_int_equal(o.result, HTTP1_DONE);
        } else {
            assert_int_equal(o.result, HTTP1_ERROR);
            assert_string_equal(o.error, "header section longer than 64 KiB");
        }
    }
    test_free(s);
}

static void test_trailer_section_limit_is_64_kib(void **state)
{
    (void)state;
    size_t cap = 17 * 4000 + 256;
    char *s = test_malloc(cap);
    size_t len =
        (size_t)snprintf(s, cap, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (int i = 0; i < 17; i++) {
        len += (size_t)snprintf(s + len, cap - len, "X-T: ");
        memset(s + len, 't', 3993);
        len += 3993;
        len += (size_t)snprintf(s + len, cap - len, "\r\n");
    }
    snprintf(s + len, cap - len, "\r\n");
    assert_error(s, 0, "header section longer than 64 KiB");
    test_free(s);
}

static void test_feed_after_error_stays_an_error(void **state)
{
    (void)state;
    struct http1_response *r = test_malloc(sizeof(*r));
    size_t used = 99;
    http1_response_init(r, 0);
    assert_int_equal(http1_response_feed(r, "HTTP/9.9 200 OK\r\n", 17, &used), HTTP1_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(http1_response_feed(r, "HTTP/1.1 200 OK\r\n", 17, &used), HTTP1_ERROR);
    assert_int_equal(http1_response_eof(r), HTTP1_ERROR);
    assert_string_equal(r->error, BAD_STATUS);
    test_free(r);
}

static void test_truncated_response_at_eof_is_an_error(void **state)
{
    (void)state;
    const char *truncated = "connection closed in the middle of a response (truncated)";
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1, truncated);
    assert_error("HTTP/1.1 200 OK\r\nContent-Le", 1, truncated);
    assert_error("HTTP/1.1 2", 1, truncated);
    assert_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 1, truncated);
    assert_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n", 1,
                 truncated);
    assert_error("HTTP/1.1 100 Continue\r\n\r\n", 1, truncated);
}

/* ---- throughput ---- */

static void test_throughput_of_a_typical_nginx_response(void **state)
{
    (void)state;
    struct http1_response *r = test_malloc(sizeof(*r));
    const size_t len = strlen(NGINX_200);
    const int n = 200000;
    int done = 0;
    size_t used;

    uint64_t start = clock_monotonic_ns();
    for (int i = 0; i < n; i++) {
        http1_response_init(r, 0);
        done += http1_response_feed(r, NGINX_200, len, &used) == HTTP1_DONE && used == len;
    }
    uint64_t ns = clock_monotonic_ns() - start;
    assert_int_equal(done, n);
    printf("# parsed %.0f responses/s (%zu-byte nginx response, one read each)\n",
           (double)n * 1e9 / (double)(ns ? ns : 1), len);
    test_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_without_headers_or_body),
        cmocka_unit_test(test_request_with_headers_and_body),
        cmocka_unit_test(test_request_with_empty_body_sends_content_length_zero),
        cmocka_unit_test(test_request_appends_after_existing_contents),
        cmocka_unit_test(test_request_over_limit_fails_and_appends_nothing),
        cmocka_unit_test(test_request_refuses_crlf_in_a_field),
        cmocka_unit_test(test_content_length_response),
        cmocka_unit_test(test_content_length_zero_ends_at_the_head),
        cmocka_unit_test(test_partial_content_length_body_wants_more),
        cmocka_unit_test(test_chunked_with_extensions_and_trailers),
        cmocka_unit_test(test_chunked_without_trailers_and_with_bare_lf),
        cmocka_unit_test(test_chunked_takes_precedence_over_content_length),
        cmocka_unit_test(test_last_transfer_coding_chunked_means_chunked),
        cmocka_unit_test(test_non_chunked_transfer_coding_is_close_delimited),
        cmocka_unit_test(test_header_names_are_case_insensitive),
        cmocka_unit_test(test_close_delimited_body_ends_at_eof),
        cmocka_unit_test(test_close_delimited_empty_body_ends_at_eof),
        cmocka_unit_test(test_head_response_has_no_body),
        cmocka_unit_test(test_204_and_304_have_no_body),
        cmocka_unit_test(test_interim_100_continue_is_skipped),
        cmocka_unit_test(test_callbacks_see_headers_and_the_unframed_body),
        cmocka_unit_test(test_switching_protocols_is_an_error),
        cmocka_unit_test(test_connection_close_clears_keep_alive),
        cmocka_unit_test(test_http10_keeps_alive_only_when_asked),
        cmocka_unit_test(test_status_line_without_reason),
        cmocka_unit_test(test_repeated_equal_content_lengths_are_accepted),
        cmocka_unit_test(test_pipelined_responses_in_one_buffer),
        cmocka_unit_test(test_empty_feed_wants_more),
        cmocka_unit_test(test_any_split_gives_the_same_result),
        cmocka_unit_test(test_bad_status_line),
        cmocka_unit_test(test_bad_header_line),
        cmocka_unit_test(test_bad_content_length),
        cmocka_unit_test(test_conflicting_content_lengths),
        cmocka_unit_test(test_bad_chunk_size),
        cmocka_unit_test(test_header_line_limit_is_8_kib),
        cmocka_unit_test(test_header_section_limit_is_64_kib),
        cmocka_unit_test(test_trailer_section_limit_is_64_kib),
        cmocka_unit_test(test_feed_after_error_stays_an_error),
        cmocka_unit_test(test_truncated_response_at_eof_is_an_error),
        cmocka_unit_test(test_throughput_of_a_typical_nginx_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
