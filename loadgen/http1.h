/*
 * http1: HTTP/1.1 request framing and an incremental response parser for loadgen's direct path.
 *
 * loadgen sends requests on keep-alive connections and needs to know where each response ends,
 * its status and whether the connection may be reused, and sometimes to see the body (a created
 * id, a body check). The parser makes one pass over the bytes, allocates nothing and keeps all
 * state in the fixed-size struct (a line buffer holds a header line split across reads), so it
 * costs little at ~100k responses/s.
 */
#ifndef TASKBENCH_HTTP1_H
#define TASKBENCH_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HTTP1_LINE_MAX 8192                  /* one head line, CRLF included */
#define HTTP1_HEAD_MAX 65536                 /* a whole header (or trailer) section */
#define HTTP1_LENGTH_MAX (UINT64_C(1) << 62) /* largest Content-Length or chunk size */

enum http1_result { HTTP1_MORE, HTTP1_DONE, HTTP1_ERROR };

/* Appends "METHOD TARGET HTTP/1.1\r\nHost: HOST\r\n", each header line ("Name: value") followed by
 * CRLF, and when body != NULL "Content-Length: N\r\n"; then "\r\n" and the body. Returns 0, or -1
 * (the buffer limit was reached, or a field holds CR or LF, which would split the request) and
 * leaves `out` as it was (its overflowed flag aside). */
int http1_request(struct buf *out, const char *method, const char *host, const char *target,
                  const char *const *headers, size_t nheaders, const char *body, size_t body_len);

/* 1 for POST, PUT and PATCH: requests that carry a body by definition. Without one they say
 * Content-Length: 0, as curl does, since some servers answer 411 otherwise. */
int http1_method_has_body(const char *method);

struct http1_response {
    /* Public results, valid once the head of the final response was parsed. */
    int status;          /* the final status (1xx interim responses are skipped) */
    int keep_alive;      /* 1 when the connection may carry the next request */
    uint64_t body_bytes; /* body bytes so far, chunk framing excluded */
    const char *error;   /* after HTTP1_ERROR: a static sentence saying what was malformed */

    /* Optional, set after init: called with every piece of the final response's body as it is
     * parsed (chunk framing removed), for callers that look into bodies; and with every header
     * of the final response (name and value trimmed, not NUL-terminated). */
    void (*on_body)(void *ctx, const char *data, size_t n);
    void (*on_header)(void *ctx, const char *name, size_t name_len, const char *value,
                      size_t value_len);
    void *body_ctx; /* the context of both */

    /* Private parser state; init sets every field it reads, the line buffer is not cleared. */
    int state;
    int head_request;
    int got_bytes; /* any byte fed: tells a closed idle connection from a truncated response */
    int minor_version;
    unsigned flags;
    uint64_t content_length;
    uint64_t remaining; /* body or chunk bytes still to come */
    size_t section_bytes;
    size_t line_len;
    char line[HTTP1_LINE_MAX];
};

/* Prepares `r` for the next response; call it before each one (it clears the callbacks).
 * head_request
 * != 0 when the request was HEAD, whose response has no body whatever its headers say. */
void http1_response_init(struct http1_response *r, int head_request);

/* Feeds n bytes. HTTP1_MORE: all consumed (*used = n), more are needed. HTTP1_DONE: the response
 * ended after *used bytes; the rest belongs to the next response (call init again and feed
 * data + *used). HTTP1_ERROR: malformed, r->error says why; the connection cannot be reused. Once
 * DONE or ERROR, further feeds return the same result with *used = 0. */
enum http1_result http1_response_feed(struct http1_response *r, const char *data, size_t n,
                                      size_t *used);

/* The peer closed the connection: HTTP1_DONE when the body was delimited by the close (no
 * Content-Length, not chunked, not HEAD/204/304), else HTTP1_ERROR (truncated response). */
enum http1_result http1_response_eof(struct http1_response *r);

#endif
