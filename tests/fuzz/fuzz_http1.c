/*
 * fuzz_http1: libFuzzer target for loadgen's HTTP/1.1 response parser (loadgen/http1.c), which
 * reads whatever a server sends. The input is a byte stream of responses to a GET (or, when the
 * first byte is odd, a HEAD). It is parsed twice, whole and cut at a point chosen by the second
 * byte, and each response must end the same way with the same status, keep-alive and body
 * length, the body pieces handed to on_body must add up to that length and be the same bytes,
 * and on_header must see the same headers: a response's meaning may not depend on how the
 * bytes arrived. Plain C17, so it
 * builds with gcc for corpus replay as well as with clang -fsanitize=fuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http1: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct outcome {
    enum http1_result result;
    int status, keep_alive;
    uint64_t body_bytes;
    size_t consumed;
};

struct body_seen {
    uint64_t bytes;
    uint64_t hash;    /* FNV-1a of the bytes, in order */
    uint64_t headers; /* FNV-1a of the headers handed to on_header */
};

static void on_header(void *ctx, const char *name, size_t nl, const char *value, size_t vl)
{
    struct body_seen *b = ctx;
    check(nl > 0);
    for (size_t i = 0; i < nl; i++)
        b->headers = (b->headers ^ (unsigned char)name[i]) * 1099511628211ull;
    b->headers = (b->headers ^ ':') * 1099511628211ull;
    for (size_t i = 0; i < vl; i++)
        b->headers = (b->headers ^ (unsigned char)value[i]) * 1099511628211ull;
}

static void on_body(void *ctx, const char *data, size_t n)
{
    struct body_seen *b = ctx;
    b->bytes += n;
    for (size_t i = 0; i < n; i++)
        b->hash = (b->hash ^ (unsigned char)data[i]) * 1099511628211ull;
}

/* Parses the first response of data[0..n) fed in two pieces cut at `cut`. */
static struct outcome parse_one(const char *data, size_t n, size_t cut, int head,
                                struct body_seen *seen)
{
    static struct http1_response r;
    http1_response_init(&r, head);
    seen->bytes = 0;
    seen->hash = seen->headers = 14695981039346656037ull;
    r.on_body = on_body;
    r.on_header = on_header;
    r.body_ctx = seen;
    struct outcome o = {HTTP1_MORE, 0, 0, 0, 0};
    size_t pieces[2] = {cut < n ? cut : n, n - (cut < n ? cut : n)};
    size_t at = 0;
    for (int i = 0; i < 2 && o.result == HTTP1_MORE; i++) {
        size_t used = 0;
        o.result = http1_response_feed(&r, data + at, pieces[i], &used);
        check(used <= pieces[i]);
        check(o.result != HTTP1_MORE || used == pieces[i]);
        at += used;
    }
    if (o.result == HTTP1_MORE)
        o.result = http1_response_eof(&r);
    o.consumed = at;
    if (o.result == HTTP1_DONE) {
        o.status = r.status;
        o.keep_alive = r.keep_alive;
        o.body_bytes = r.body_bytes;
        check(r.status >= 100 && r.status <= 999);
        check(seen->bytes == r.body_bytes);
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int head = data[0] & 1;
    size_t cut = data[1];
    const char *stream = (const char *)data + 2;
    size_t n = size - 2;
    for (int responses = 0; responses < 8 && n > 0; responses++) {
        struct body_seen a, b;
        struct outcome whole = parse_one(stream, n, n, head, &a);
        struct outcome split = parse_one(stream, n, cut % (n + 1), head, &b);
        check(whole.result == split.result);
        check(whole.result != HTTP1_DONE || (a.hash == b.hash && a.headers == b.headers));
        if (whole.result != HTTP1_DONE)
            break;
        check(whole.status == split.status && whole.keep_alive == split.keep_alive &&
              whole.body_bytes == split.body_bytes && whole.consumed == split.consumed);
        if (whole.consumed == 0)
            break;
        stream += whole.consumed;
        n -= whole.consumed;
    }
    return 0;
}
