/*
 * http1: request framing and an allocation-free, incremental HTTP/1.x response parser.
 *
 * The parser is a state machine over lines (status, headers, chunk sizes, trailers) and counted
 * byte runs (Content-Length bodies, chunk data). A line wholly inside the fed bytes is parsed in
 * place; only a line split across feeds is copied into the fixed line buffer, so the common case
 * touches each byte once (memchr for the line end) and never allocates.
 */
#include "http1.h"

#include <string.h>
#include <strings.h>

enum state {
    ST_STATUS,      /* expecting the status line */
    ST_HEADER,      /* expecting a header line or the empty line ending the head */
    ST_BODY_LENGTH, /* Content-Length body: `remaining` bytes to go */
    ST_BODY_CLOSE,  /* body delimited by the connection close */
    ST_CHUNK_SIZE,  /* expecting a chunk-size line */
    ST_CHUNK_DATA,  /* chunk data: `remaining` bytes to go */
    ST_CHUNK_END,   /* expecting the empty line after chunk data */
    ST_TRAILER,     /* expecting a trailer line or the empty line ending the message */
    ST_DONE,
    ST_ERROR,
};

enum {
    F_HAS_LENGTH = 1u << 0,
    F_HAS_TE = 1u << 1,
    F_CHUNKED = 1u << 2,
    F_CONN_CLOSE = 1u << 3,
    F_CONN_KEEP_ALIVE = 1u << 4,
};

static int has_crlf(const char *s, size_t n)
{
    return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

int http1_request(struct buf *out, const char *method, const char *host, const char *target,
                  const char *const *headers, size_t nheaders, const char *body, size_t body_len)
{
    size_t start = out->len;
    int rc = -1;

    if (has_crlf(method, strlen(method)) || has_crlf(host, strlen(host)) ||
        has_crlf(target, strlen(target)))
        goto out;
    if (buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host) != 0)
        goto out;
    for (size_t i = 0; i < nheaders; i++) {
        size_t len = strlen(headers[i]);
        if (has_crlf(headers[i], len) || buf_append(out, headers[i], len) != 0 ||
            buf_append(out, "\r\n", 2) != 0)
            goto out;
    }
    if (body != NULL && buf_printf(out, "Content-Length: %zu\r\n", body_len) != 0)
        goto out;
    if (buf_append(out, "\r\n", 2) != 0)
        goto out;
    if (body != NULL && body_len > 0 && buf_append(out, body, body_len) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && out->len > start) {
        /* Drop the partial request so a caller never sends half of one. */
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int http1_method_has_body(const char *method)
{
    return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
}

/* Per-head state, reset at each status line so a 1xx head does not leak into the final one. */
static void reset_head(struct http1_response *r)
{
    r->status = 0;
    r->minor_version = 0;
    r->flags = 0;
    r->content_length = 0;
    r->section_bytes = 0;
}

void http1_response_init(struct http1_response *r, int head_request)
{
    reset_head(r);
    r->keep_alive = 0;
    r->body_bytes = 0;
    r->error = NULL;
    r->state = ST_STATUS;
    r->head_request = head_request != 0;
    r->remaining = 0;
    r->line_len = 0;
    r->got_bytes = 0;
    r->on_body = NULL;
    r->on_header = NULL;
    r->body_ctx = NULL;
}

static int fail(struct http1_response *r, const char *msg)
{
    r->error = msg;
    r->state = ST_ERROR;
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive comparison of a counted string against a lower-case literal. */
static int token_is(const char *s, size_t n, const char *lit, size_t litn)
{
    if (n != litn)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lit[i])
            return 0;
    return 1;
}

#define TOKEN_IS(s, n, lit) token_is((s), (n), (lit), sizeof(lit) - 1)

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* "HTTP/1.x NNN reason": the reason may be empty, and some servers omit the space before it. */
static int parse_status(struct http1_response *r, const char *p, size_t n)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
        !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]) || (n > 12 && p[12] != ' '))
        return fail(r, "bad status line: expected \"HTTP/1.0\" or \"HTTP/1.1\", a space and a "
                       "3-digit status");
    r->minor_version = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (r->status < 100)
        return fail(r, "bad status line: the status code is below 100");
    r->state = ST_HEADER;
    return 0;
}

static int parse_content_length(struct http1_response *r, const char *v, size_t n)
{
    uint64_t len = 0;

    if (n == 0)
        return fail(r, "bad Content-Length: the value is empty");
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]))
            return fail(r, "bad Content-Length: the value is not made of digits only");
        /* Checked before multiplying as well, so a long value cannot wrap around to a small one. */
        if (len > HTTP1_LENGTH_MAX / 10)
            return fail(r, "bad Content-Length: the value is larger than 2^62");
        len = len * 10 + (uint64_t)(v[i] - '0');
        if (len > HTTP1_LENGTH_MAX)
            return fail(r, "bad Content-Length: the value is larger than 2^62");
    }
    if ((r->flags & F_HAS_LENGTH) && len != r->content_length)
        return fail(r, "conflicting Content-Length headers: repeated with different values");
    r->flags |= F_HAS_LENGTH;
    r->content_length = len;
    return 0;
}

/* Calls fn for each comma-separated element of a list value, trimmed of whitespace. */
static void each_element(struct http1_response *r, const char *v, size_t n,
                         void (*fn)(struct http1_response *, const char *, size_t))
{
    size_t i = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (start < end && is_ows(v[start]))
            start++;
        while (end > start && is_ows(v[end - 1]))
            end--;
        if (end > start)
            fn(r, v + start, end - start);
        i++;
    }
}

/* The last transfer coding decides: a response ending in anything but chunked is close-delimited
 * (RFC 9112 section 6.3), so each element overwrites what the previous one said. */
static void transfer_coding(struct http1_response *r, const char *s, size_t n)
{
    r->flags |= F_HAS_TE;
    if (TOKEN_IS(s, n, "chunked"))
        r->flags |= F_CHUNKED;
    else
        r->flags &= ~(unsigned)F_CHUNKED;
}

static void connection_option(struct http1_response *r, const char *s, size_t n)
{
    if (TOKEN_IS(s, n, "close"))
        r->flags |= F_CONN_CLOSE;
    else if (TOKEN_IS(s, n, "keep-alive"))
        r->flags |= F_CONN_KEEP_ALIVE;
}

static int parse_header(struct http1_response *r, const char *p, size_t n)
{
    const char *colon = memchr(p, ':', n);
    size_t name_len = colon ? (size_t)(colon - p) : 0;

    if (is_ows(p[0]))
        return fail(r, "bad header line: obsolete line folding (a line starting with whitespace)");
    if (colon == NULL || name_len == 0 || is_ows(p[name_len - 1]))
        return fail(r, "bad header line: expected \"Name: value\" with no space before the colon");
    const char *v = colon + 1;
    size_t vn = n - name_len - 1;
    while (vn > 0 && is_ows(v[0]))
        v++, vn--;
    while (vn > 0 && is_ows(v[vn - 1]))
        vn--;

    /* Headers of an interim (1xx) response are not the final response's. */
    if (r->on_header && r->status >= 200)
        r->on_header(r->body_ctx, p, name_len, v, vn);
    /* Dispatch on the length first: most headers are none of the three and cost one switch. */
    switch (name_len) {
    case 14:
        if (TOKEN_IS(p, name_len, "content-length"))
            return parse_content_length(r, v, vn);
        break;
    case 17:
        if (TOKEN_IS(p, name_len, "transfer-encoding"))
            each_element(r, v, vn, transfer_coding);
        break;
    case 10:
        if (TOKEN_IS(p, name_len, "connection"))
            each_element(r, v, vn, connection_option);
        break;
    default:
        break;
    }
    return 0;
}

/* The empty line after the head: pick how the body is delimited. */
static int end_head(struct http1_response *r)
{
    unsigned f = r->flags;

    if (r->status == 101)
        return fail(r, "unexpected 101 Switching Protocols: loadgen never asks for an upgrade");
    if (r->status < 200) {
        /* An interim response (100 Continue, 103 Early Hints): the final one follows. */
        reset_head(r);
        r->state = ST_STATUS;
        return 0;
    }
    r->keep_alive = !(f & F_CONN_CLOSE) && (r->minor_version == 1 || (f & F_CONN_KEEP_ALIVE));
    if (r->head_request || r->status == 204 || r->status == 304) {
        r->state = ST_DONE;
    } else if (f & F_CHUNKED) {
        r->state = ST_CHUNK_SIZE;
    } else if (f & F_HAS_TE) {
        r->state = ST_BODY_CLOSE; /* a coding we cannot frame: only the close ends it */
        r->keep_alive = 0;
    } else if (f & F_HAS_LENGTH) {
        r->remaining = r->content_length;
        r->state = r->remaining == 0 ? ST_DONE : ST_BODY_LENGTH;
    } else {
        r->state = ST_BODY_CLOSE;
        r->keep_alive = 0;
    }
    return 0;
}

/* "HEX[ ;ext...]": extensions are ignored, as every client may. */
static int parse_chunk_size(struct http1_response *r, const char *p, size_t n)
{
    uint64_t size = 0;
    size_t i = 0;

    for (; i < n; i++) {
        char c = p[i];
        unsigned d;
        if (is_digit(c))
            d = (unsigned)(c - '0');
        else if (lower(c) >= 'a' && lower(c) <= 'f')
            d = (unsigned)(lower(c) - 'a' + 10);
        else
            break;
        if (size > HTTP1_LENGTH_MAX >> 4)
            return fail(r, "bad chunk size: larger than 2^62");
        size = size << 4 | d;
    }
    if (i == 0)
        return fail(r, "bad chunk size: expected hexadecimal digits");
    while (i < n && is_ows(p[i]))
        i++;
    if (i < n && p[i] != ';')
        return fail(r, "bad chunk size: unexpected text after the hexadecimal digits");
    if (size > HTTP1_LENGTH_MAX)
        return fail(r, "bad chunk size: larger than 2^62");
    r->remaining = size;
    if (size == 0) {
        r->section_bytes = 0;
        r->state = ST_TRAILER;
    } else {
        r->state = ST_CHUNK_DATA;
    }
    return 0;
}

/* One complete line, CRLF (or a bare LF) removed. */
static int on_line(struct http1_response *r, const char *p, size_t n)
{
    switch (r->state) {
    case ST_STATUS:
        return parse_status(r, p, n);
    case ST_HEADER:
        return n == 0 ? end_head(r) : parse_header(r, p, n);
    case ST_CHUNK_SIZE:
        return parse_chunk_size(r, p, n);
    case ST_CHUNK_END:
        if (n != 0)
            return fail(r, "bad chunked body: chunk data is not followed by CRLF");
        r->state = ST_CHUNK_SIZE;
        return 0;
    case ST_TRAILER:
        if (n == 0)
            r->state = ST_DONE;
        return 0; /* trailer fields are not needed */
    default:
        return fail(r, "internal error: a line was parsed in a state that has no lines");
    }
}

/* Takes bytes up to and including the next LF. Returns the bytes consumed, or 0 with the state
 * set to ST_ERROR. */
static size_t feed_line(struct http1_response *r, const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    int limited = r->state == ST_STATUS || r->state == ST_HEADER || r->state == ST_TRAILER;

    if (r->line_len + take > HTTP1_LINE_MAX) {
        fail(r, "header line longer than 8 KiB (the limit of one line)");
        return 0;
    }
    if (limited) {
        r->section_bytes += take;
        if (r->section_bytes > HTTP1_HEAD_MAX) {
            fail(r, "header section longer than 64 KiB");
            return 0;
        }
    }
    if (nl == NULL) {
        memcpy(r->line + r->line_len, p, take);
        r->line_len += take;
        return take;
    }
    const char *line = p;
    size_t len = take - 1;
    if (r->line_len > 0) {
        memcpy(r->line + r->line_len, p, take);
        line = r->line;
        len = r->line_len + take - 1;
        r->line_len = 0;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (on_line(r, line, len) != 0)
        return 0;
    return take;
}

static size_t min_size(uint64_t a, size_t b)
{
    return a < b ? (size_t)a : b;
}

enum http1_result http1_response_feed(struct http1_response *r, const char *data, size_t n,
                                      size_t *used)
{
    size_t i = 0;

    if (n > 0)
        r->got_bytes = 1;
    while (r->state != ST_DONE && r->state != ST_ERROR && i < n) {
        size_t take;
        switch (r->state) {
        case ST_BODY_LENGTH:
        case ST_CHUNK_DATA:
            take = min_size(r->remaining, n - i);
            r->remaining -= take;
            r->body_bytes += take;
            if (r->on_body && take)
                r->on_body(r->body_ctx, data + i, take);
            if (r->remaining == 0)
                r->state = r->state == ST_BODY_LENGTH ? ST_DONE : ST_CHUNK_END;
            break;
        case ST_BODY_CLOSE:
            take = n - i;
            r->body_bytes += take;
            if (r->on_body)
                r->on_body(r->body_ctx, data + i, take);
            break;
        default:
            take = feed_line(r, data + i, n - i);
            break;
        }
        i += take;
    }
    if (r->state == ST_ERROR) {
        *used = 0;
        return HTTP1_ERROR;
    }
    *used = i;
    return r->state == ST_DONE ? HTTP1_DONE : HTTP1_MORE;
}

enum http1_result http1_response_eof(struct http1_response *r)
{
    switch (r->state) {
    case ST_DONE:
        return HTTP1_DONE;
    case ST_BODY_CLOSE:
        r->state = ST_DONE;
        r->keep_alive = 0;
        return HTTP1_DONE;
    case ST_ERROR:
        return HTTP1_ERROR;
    case ST_STATUS:
        if (!r->got_bytes) {
            fail(r, "connection closed before a response arrived");
            return HTTP1_ERROR;
        }
        /* fall through */
    default:
        fail(r, "connection closed in the middle of a response (truncated)");
        return HTTP1_ERROR;
    }
}
