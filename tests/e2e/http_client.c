/*
 * http_client: raw HTTP/1.1 over a non-blocking socket, every wait a poll() against a deadline.
 * See http_client.h. Received bytes accumulate in `in`; a parsed response consumes its bytes
 * from the front, so pipelined responses are read one after the other.
 */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

#define HEAD_LIMIT (64 * 1024)
#define IN_LIMIT (64 * 1024 * 1024)

struct http_conn {
    int fd;
    uint16_t port;
    int timeout_ms;
    int peer_closed;   /* EOF or reset seen */
    int server_closes; /* a response said Connection: close */
    struct buf in;     /* received, not yet consumed */
    char error[160];
};

static int fail(struct http_conn *c, int err, const char *what)
{
    const char *why = strerror(-err);
    if (err == -ECONNABORTED)
        why = "the server closed the connection without sending a byte";
    else if (err == -EPROTO)
        why = "the server closed the connection in the middle of a response";
    else if (err == -EBADMSG)
        why = "what the server sent is not an HTTP response";
    snprintf(c->error, sizeof(c->error), "%s: %s", what, why);
    return err;
}

static uint64_t deadline_after(int ms)
{
    return clock_monotonic_ns() + (uint64_t)ms * 1000000u;
}

/* Milliseconds left until `deadline` (0 when past it), for poll(). */
static int ms_left(uint64_t deadline)
{
    uint64_t now = clock_monotonic_ns();
    if (now >= deadline)
        return 0;
    return (int)((deadline - now + 999999u) / 1000000u);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms_left(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ETIMEDOUT;
        return 0;
    }
}

int http_connect(uint16_t port, struct http_conn **out)
{
    *out = NULL;
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->port = port;
    c->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
    buf_init(&c->in, IN_LIMIT);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        int err = -errno;
        free(c);
        return err;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = 0;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        rc = errno == EINPROGRESS ? 0 : -errno;
        if (rc == 0)
            rc = wait_fd(c->fd, POLLOUT, deadline_after(c->timeout_ms));
        if (rc == 0) {
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            rc = -soerr;
        }
    }
    if (rc < 0) {
        http_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void http_close(struct http_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->in);
    free(c);
}

void http_set_timeout(struct http_conn *c, int ms)
{
    c->timeout_ms = ms;
}

int http_fd(const struct http_conn *c)
{
    return c->fd;
}

uint16_t http_port(const struct http_conn *c)
{
    return c->port;
}

int http_is_closed(const struct http_conn *c)
{
    return c->peer_closed || c->server_closes;
}

const char *http_last_error(const struct http_conn *c)
{
    return c->error[0] ? c->error : "no error";
}

int http_send(struct http_conn *c, const void *data, size_t len)
{
    const char *p = data;
    uint64_t deadline = deadline_after(c->timeout_ms);
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            return fail(c, -errno, "send");
        int rc = wait_fd(c->fd, POLLOUT, deadline);
        if (rc < 0)
            return fail(c, rc, "send");
    }
    return 0;
}

int http_send_str(struct http_conn *c, const char *s)
{
    return http_send(c, s, strlen(s));
}

/* Receives what is available (waiting until `deadline`) into c->in. Returns the number of
 * bytes, 0 on EOF, or a negative errno. */
static int fill(struct http_conn *c, uint64_t deadline)
{
    if (c->peer_closed)
        return 0;
    for (;;) {
        char chunk[65536];
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            if (buf_append(&c->in, chunk, (size_t)n) < 0)
                return -ENOBUFS;
            return (int)n;
        }
        if (n == 0) {
            c->peer_closed = 1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET) {
            c->peer_closed = 1;
            return -ECONNRESET;
        }
        if (errno != EAGAIN)
            return -errno;
        int rc = wait_fd(c->fd, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}

static void consume(struct http_conn *c, size_t n)
{
    memmove(c->in.data, c->in.data + n, c->in.len - n);
    c->in.len -= n;
    c->in.data[c->in.len] = '\0';
}

/* Makes sure c->in holds at least `n` bytes. Returns 0 or a negative errno (-EPROTO on EOF). */
static int need(struct http_conn *c, size_t n, uint64_t deadline)
{
    while (c->in.len < n) {
        int rc = fill(c, deadline);
        if (rc == 0)
            return -EPROTO;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Offset just past the first CRLF at or after `from`, or 0 when there is none yet. */
static size_t line_end(const struct buf *b, size_t from)
{
    for (size_t i = from; i + 1 < b->len; i++) {
        if (b->data[i] == '\r' && b->data[i + 1] == '\n')
            return i + 2;
    }
    return 0;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void http_response_free(struct http_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    free(r);
}

static void reset_response(struct http_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    size_t interim = r->interim;
    memset(r, 0, sizeof(*r));
    r->interim = interim;
}

static int add_header(struct http_response *r, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line)
        return -EBADMSG;
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    struct http_header *grown = realloc(r->headers, (r->nheaders + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    r->headers = grown;
    char *name = dup_range(line, (size_t)(colon - line));
    char *value = dup_range(v, (size_t)(end - v));
    if (!name || !value) {
        free(name);
        free(value);
        return -ENOMEM;
    }
    r->headers[r->nheaders++] = (struct http_header){name, value};
    return 0;
}

/* Parses the status line and headers ending at c->in[head_len]. */
static int parse_head(struct http_conn *c, size_t head_len, struct http_response *r)
{
    size_t eol = line_end(&c->in, 0);
    const char *s = c->in.data;
    int status, minor;
    int reason_at = 0;
    if (sscanf(s, "HTTP/1.%1d %3d%n", &minor, &status, &reason_at) != 2 || status < 100)
        return -EBADMSG;
    r->status = status;
    r->minor_version = minor;
    size_t reason_len = eol - 2 - (size_t)reason_at;
    const char *reason = s + reason_at;
    if (reason_len > 0 && *reason == ' ') {
        reason++;
        reason_len--;
    }
    snprintf(r->reason, sizeof(r->reason), "%.*s", (int)reason_len, reason);
    for (size_t at = eol; at < head_len - 2;) {
        size_t next = line_end(&c->in, at);
        int rc = add_header(r, s + at, next - 2 - at);
        if (rc < 0)
            return rc;
        at = next;
    }
    return 0;
}

static int read_chunked(struct http_conn *c, struct buf *body, uint64_t deadline)
{
    for (;;) {
        size_t eol;
        while ((eol = line_end(&c->in, 0)) == 0) {
            int rc = fill(c, deadline);
            if (rc <= 0)
                return rc == 0 ? -EPROTO : rc;
        }
        char *end;
        unsigned long long size = strtoull(c->in.data, &end, 16);
        if (end == c->in.data)
            return -EBADMSG;
        consume(c, eol);
        if (size == 0)
            break;
        int rc = need(c, (size_t)size + 2, deadline);
        if (rc < 0)
            return rc;
        if (buf_append(body, c->in.data, (size_t)size) < 0)
            return -ENOBUFS;
        consume(c, (size_t)size + 2);
    }
    for (;;) { /* trailers, up to the empty line */
        size_t eol;
        while ((eol = line_end(&c->in, 0)) == 0) {
            int rc = fill(c, deadline);
            if (rc <= 0)
                return rc == 0 ? -EPROTO : rc;
        }
        consume(c, eol);
        if (eol == 2)
            return 0;
    }
}

static int read_body(struct http_conn *c, const char *method, struct http_response *r,
                     uint64_t deadline)
{
    struct buf body;
    buf_init(&body, IN_LIMIT);
    int rc = 0;
    const char *te = http_header(r, "Transfer-Encoding");
    const char *cl = http_header(r, "Content-Length");
    if (strcmp(method, "HEAD") == 0 || r->status == 204 || r->status == 304) {
        /* no body */
    } else if (te && strcasecmp(te, "chunked") == 0) {
        rc = read_chunked(c, &body, deadline);
    } else if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*cl == '\0' || *end != '\0' || n > IN_LIMIT)
            rc = -EBADMSG;
        if (rc == 0)
            rc = need(c, (size_t)n, deadline);
        if (rc == 0 && buf_append(&body, c->in.data, (size_t)n) < 0)
            rc = -ENOBUFS;
        if (rc == 0)
            consume(c, (size_t)n);
    } else {
        while ((rc = fill(c, deadline)) > 0)
            ;
        if (rc == 0 && buf_append(&body, c->in.data, c->in.len) == 0)
            consume(c, c->in.len);
    }
    if (rc < 0) {
        buf_free(&body);
        return rc;
    }
    r->body = buf_detach(&body, &r->body_len);
    return r->body ? 0 : -ENOMEM;
}

static int wants_close(const struct http_response *r)
{
    const char *conn = http_header(r, "Connection");
    if (conn && strcasecmp(conn, "close") == 0)
        return 1;
    return r->minor_version == 0 && !(conn && strcasecmp(conn, "keep-alive") == 0);
}

int http_read_response(struct http_conn *c, const char *method, struct http_response **out)
{
    *out = NULL;
    uint64_t deadline = deadline_after(c->timeout_ms);
    struct http_response *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    int rc;
    for (;;) {
        size_t head_len = 0;
        const char *end;
        while (!c->in.data || !(end = strstr(c->in.data, "\r\n\r\n"))) {
            if (c->in.len > HEAD_LIMIT) {
                rc = -EBADMSG;
                goto out;
            }
            rc = fill(c, deadline);
            if (rc == 0)
                rc = c->in.len == 0 ? -ECONNABORTED : -EPROTO;
            if (rc < 0)
                goto out;
        }
        head_len = (size_t)(end - c->in.data) + 4;
        rc = parse_head(c, head_len, r);
        if (rc < 0)
            goto out;
        consume(c, head_len);
        if (r->status >= 200)
            break;
        r->interim++; /* 100 Continue and friends: the real response follows */
        reset_response(r);
    }
    rc = read_body(c, method, r, deadline);
    if (rc < 0)
        goto out;
    r->keep_alive = !wants_close(r);
    if (!r->keep_alive)
        c->server_closes = 1;
out:
    if (rc < 0) {
        http_response_free(r);
        return fail(c, rc, "reading the response");
    }
    *out = r;
    return 0;
}

static int has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return 1;
    }
    return 0;
}

struct http_response *http_request_len(struct http_conn *c, const char *method, const char *path,
                                       const char *const *headers, const char *body,
                                       size_t body_len)
{
    struct buf req;
    buf_init(&req, IN_LIMIT);
    struct http_response *res = NULL;
    int ok = buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n", method, path,
                        (unsigned)c->port) == 0;
    if (body && !has_header(headers, "Content-Length") && !has_header(headers, "Transfer-Encoding"))
        ok = ok && buf_printf(&req, "Content-Length: %zu\r\n", body_len) == 0;
    for (size_t i = 0; headers && headers[i]; i++)
        ok = ok && buf_printf(&req, "%s\r\n", headers[i]) == 0;
    ok = ok && buf_puts(&req, "\r\n") == 0;
    if (body)
        ok = ok && buf_append(&req, body, body_len) == 0;
    if (!ok) {
        fail(c, -ENOMEM, "building the request");
        goto out;
    }
    if (http_send(c, req.data, req.len) < 0)
        goto out;
    http_read_response(c, method, &res);
out:
    buf_free(&req);
    return res;
}

struct http_response *http_request(struct http_conn *c, const char *method, const char *path,
                                   const char *const *headers, const char *body)
{
    return http_request_len(c, method, path, headers, body, body ? strlen(body) : 0);
}

int http_wait_closed(struct http_conn *c, int timeout_ms, size_t *extra)
{
    uint64_t deadline = deadline_after(timeout_ms);
    size_t got = c->in.len;
    buf_reset(&c->in);
    int rc;
    while ((rc = fill(c, deadline)) > 0) {
        got += (size_t)rc;
        buf_reset(&c->in);
    }
    if (extra)
        *extra = got;
    if (rc == 0 || rc == -ECONNRESET || rc == -EPIPE)
        return 0;
    return fail(c, rc, "waiting for the server to close");
}

size_t http_pending(struct http_conn *c, int wait_ms)
{
    uint64_t deadline = deadline_after(wait_ms);
    while (fill(c, deadline) > 0)
        ;
    return c->in.len;
}

const char *http_header(const struct http_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

size_t http_header_count(const struct http_response *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        n += strcasecmp(r->headers[i].name, name) == 0;
    return n;
}
