/*
 * engine_direct: the direct path, where loadgen is a wrk-style HTTP/1.1 client for every
 * workload over plain http:// — the task mix, targets files, templated requests, bodies of any
 * size. libcurl still opens every connection (CONNECT_ONLY transfers in the worker's multi
 * handle: resolution, connect timeout, socket options, our socket callbacks), then hands over
 * the socket; loadgen writes each request and frames the responses itself (http1.c). That skips
 * libcurl's per-transfer work (URL parsing, header generation, the connection-cache liveness
 * poll, socket re-registration), which capped a core at about a third of wrk's rate.
 *
 * A request goes out as two pieces in one sendmsg: the head and the body. A static target's
 * head is rendered once at start; any other head is rendered per request from the parts the
 * workload produced (a few appends). A body is never copied: it is the target's own text or
 * the workload's rendered buffer, so a body file of any size costs nothing per request.
 *
 * A slot owns one connection: NONE -> CONNECTING (libcurl) -> READY (our epoll, tagged with
 * DIRECT_TAG | slot index). With several origins each has its own group of slots (engine.c),
 * so a connection stays with its server. A request goes out when its slot is READY;
 * the response ends when the parser says so; a close, an error or --timeout ends the
 * connection, and the slot reconnects for its next request. A kept-alive connection that turns
 * out closed before any byte of the answer came (the server's idle timeout) is retried once on
 * a new connection, as libcurl does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"
#include "engine_internal.h"

#define READ_CHUNK 16384
#define TIMEOUT_SCAN_NS 10000000ull

int direct_usable(const struct engine *e)
{
    if (e->cfg.force_libcurl)
        return 0;
    for (size_t o = 0; o < e->norigins; o++)
        if (!transport_direct_ok(&e->cfg.transport, e->origins[o].url))
            return 0;
    return 1;
}

/* An http1 on_header callback: keeps the Location of a create's answer. */
static void on_header(void *slot, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    if (name_len == 8 && !strncasecmp(name, "location", 8))
        engine_on_location(slot, value, value_len);
}

static int append_u64(struct buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf_append(b, tmp + sizeof tmp - n, n);
}

/* METHOD target HTTP/1.1, Host, the workload's headers, Content-Length, the empty line. */
static int render_head(const struct engine *e, const struct workload_request *r, struct buf *b)
{
    const struct origin *o = &e->origins[r->origin];
    buf_reset(b);
    if (buf_puts(b, r->method) || buf_putc(b, ' ') || (!r->target && buf_puts(b, e->path_prefix)) ||
        buf_append(b, r->path, r->path_len) || buf_append(b, " HTTP/1.1\r\n", 11))
        return -1;
    if (!(r->target && r->target->has_host_header) &&
        (buf_append(b, "Host: ", 6) || buf_puts(b, o->authority) || buf_append(b, "\r\n", 2)))
        return -1;
    if (buf_append(b, r->headers, r->headers_len))
        return -1;
    if ((r->has_body || http1_method_has_body(r->method)) &&
        (buf_append(b, "Content-Length: ", 16) || append_u64(b, r->body_len) ||
         buf_append(b, "\r\n", 2)))
        return -1;
    if (e->close_connections && buf_append(b, "Connection: close\r\n", 19))
        return -1;
    return buf_append(b, "\r\n", 2);
}

int direct_prepare(struct engine *e, char *err, size_t errlen)
{
    const struct target_set *set = e->cfg.workload.targets;
    if (!set)
        return 0;
    e->static_heads = calloc(set->n, sizeof *e->static_heads);
    if (!e->static_heads)
        goto nomem;
    for (size_t i = 0; i < set->n; i++) {
        const struct target *t = &set->items[i];
        buf_init(&e->static_heads[i], HEAD_MAX);
        if (!t->is_static || (t->body && !template_is_static(t->body)))
            continue;
        struct workload_request r = {.method = t->method,
                                     .target = t,
                                     .origin = t->origin_index,
                                     .headers = t->header_block ? t->header_block : "",
                                     .headers_len = t->header_block_len,
                                     .has_body = t->has_body};
        r.path = template_text(t->path, &r.path_len);
        if (t->body)
            r.body = template_text(t->body, &r.body_len);
        if (render_head(e, &r, &e->static_heads[i])) {
            snprintf(err, errlen, "target %s: its request head is larger than %d bytes", t->name,
                     HEAD_MAX);
            return -1;
        }
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

void direct_free(struct engine *e)
{
    if (!e->static_heads)
        return;
    for (size_t i = 0; i < e->cfg.workload.targets->n; i++)
        buf_free(&e->static_heads[i]);
    free(e->static_heads);
    e->static_heads = NULL;
}

static uint64_t tag_of(const struct worker *w, const struct slot *s)
{
    return DIRECT_TAG | (uint64_t)(s - w->slots);
}

/* Drops the connection; the slot reconnects for its next request. */
static void disconnect(struct worker *w, struct slot *s)
{
    if (s->conn == DIRECT_READY)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    if (s->conn != DIRECT_NONE)
        curl_multi_remove_handle(w->multi, s->easy); /* closes a CONNECT_ONLY connection */
    s->conn = DIRECT_NONE;
    s->conn_origin = NO_ORIGIN;
    s->fd = -1;
    s->want_out = 0;
}

/* Ends the slot's request: the same accounting as a libcurl transfer. */
static void finish(struct worker *w, struct slot *s, int status, enum lg_error_kind err)
{
    uint64_t done = clock_monotonic_ns();
    s->response_bytes = s->parser.body_bytes;
    s->protocol = status ? LG_PROTO_HTTP11 : LG_PROTO_UNKNOWN;
    s->bytes_sent = s->sent_len;
    s->busy = 0;
    engine_complete(w, s, status, err, done);
    engine_release_slot(w, s);
}

static void connect_slot(struct worker *w, struct slot *s)
{
    s->conn = DIRECT_CONNECTING;
    s->conn_origin = s->req.origin;
    s->new_connection = 1;
    curl_easy_setopt(s->easy, CURLOPT_URL, w->e->origins[s->req.origin].url);
    curl_multi_add_handle(w->multi, s->easy);
}

/* A kept-alive connection was found closed before any byte of the answer: send again on a new
 * one, once. Returns 1 when it did. */
static int retry_on_new_connection(struct worker *w, struct slot *s)
{
    if (s->new_connection || s->parser.got_bytes)
        return 0;
    disconnect(w, s);
    s->sent_len = 0;
    connect_slot(w, s);
    return 1;
}

static void fail(struct worker *w, struct slot *s, enum lg_error_kind err)
{
    if ((err == LG_ERR_RESET) && retry_on_new_connection(w, s))
        return;
    disconnect(w, s);
    finish(w, s, 0, err);
}

static void watch_output(struct worker *w, struct slot *s, int on)
{
    if (s->want_out == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.u64 = tag_of(w, s)};
    epoll_ctl(w->epfd, EPOLL_CTL_MOD, s->fd, &ev);
    s->want_out = on;
}

static void send_rest(struct worker *w, struct slot *s)
{
    size_t total = s->out_head_len + s->out_body_len;
    while (s->sent_len < total) {
        struct iovec iov[2];
        struct msghdr msg = {.msg_iov = iov};
        if (s->sent_len < s->out_head_len) {
            iov[0] =
                (struct iovec){(char *)s->out_head + s->sent_len, s->out_head_len - s->sent_len};
            iov[1] = (struct iovec){(char *)s->out_body, s->out_body_len};
            msg.msg_iovlen = s->out_body_len ? 2 : 1;
        } else {
            size_t at = s->sent_len - s->out_head_len;
            iov[0] = (struct iovec){(char *)s->out_body + at, s->out_body_len - at};
            msg.msg_iovlen = 1;
        }
        ssize_t n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
        if (n > 0) {
            s->sent_len += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch_output(w, s, 1);
            return;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            fail(w, s, LG_ERR_RESET);
            return;
        }
    }
    watch_output(w, s, 0);
}

/* What goes on the wire for the slot's request. Returns 0, or -1 when its head is too large. */
static int prepare_output(struct worker *w, struct slot *s)
{
    const struct engine *e = w->e;
    const struct workload_request *r = &s->req;
    if (r->is_static && e->static_heads && e->static_heads[r->route].len) {
        s->out_head = e->static_heads[r->route].data;
        s->out_head_len = e->static_heads[r->route].len;
    } else {
        if (render_head(e, r, &s->head))
            return -1;
        s->out_head = s->head.data;
        s->out_head_len = s->head.len;
    }
    s->out_body = r->body;
    s->out_body_len = r->has_body ? r->body_len : 0;
    return 0;
}

void direct_start(struct worker *w, struct slot *s)
{
    s->busy = 1;
    s->sent_len = 0;
    http1_response_init(&s->parser, !strcmp(s->req.method, "HEAD"));
    if (s->keep_body || !s->scan.found) {
        s->parser.on_body = engine_on_body;
        s->parser.body_ctx = s;
    }
    if (s->keep_body && engine_wants_location(w->e)) {
        s->parser.on_header = on_header;
        s->parser.body_ctx = s;
    }
    if (prepare_output(w, s)) {
        s->render_failed = 1;
        finish(w, s, 0, LG_ERR_OTHER);
        return;
    }
    if (s->conn != DIRECT_NONE && s->conn_origin != s->req.origin)
        disconnect(w, s); /* a connection to another origin */
    if (s->conn == DIRECT_READY)
        send_rest(w, s);
    else if (s->conn == DIRECT_NONE)
        connect_slot(w, s);
}

static enum lg_error_kind connect_error_kind(CURLcode rc)
{
    return rc == CURLE_OPERATION_TIMEDOUT ? LG_ERR_TIMEOUT : LG_ERR_CONNECT;
}

void direct_connected(struct worker *w, struct slot *s, CURLcode rc)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (rc == CURLE_OK)
        curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd);
    if (rc != CURLE_OK || fd == CURL_SOCKET_BAD) {
        curl_multi_remove_handle(w->multi, s->easy);
        s->conn = DIRECT_NONE;
        s->conn_origin = NO_ORIGIN;
        if (s->busy)
            finish(w, s, 0, rc == CURLE_OK ? LG_ERR_OTHER : connect_error_kind(rc));
        return;
    }
    s->fd = fd;
    s->conn = DIRECT_READY;
    s->want_out = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag_of(w, s)};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        disconnect(w, s);
        if (s->busy)
            finish(w, s, 0, LG_ERR_OTHER);
        return;
    }
    if (s->busy)
        send_rest(w, s);
}

/* Feeds what arrived to the parser; returns 1 when the slot's request ended. */
static int take_bytes(struct worker *w, struct slot *s, const char *data, size_t n)
{
    size_t used = 0;
    if (!s->first_byte_ns)
        s->first_byte_ns = clock_monotonic_ns();
    enum http1_result r = http1_response_feed(&s->parser, data, n, &used);
    if (r == HTTP1_MORE)
        return 0;
    if (r == HTTP1_ERROR || used != n) { /* garbage, or bytes nobody asked for */
        disconnect(w, s);
        finish(w, s, 0, LG_ERR_PROTOCOL);
        return 1;
    }
    /* An answer that came before the whole request went out (a server that answers an upload
     * early) leaves the rest of the body unsent: that connection cannot carry another request. */
    if (!s->parser.keep_alive || s->sent_len < s->out_head_len + s->out_body_len ||
        w->e->close_connections)
        disconnect(w, s);
    finish(w, s, s->parser.status, LG_ERR_OTHER);
    return 1;
}

static void read_available(struct worker *w, struct slot *s)
{
    char data[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(s->fd, data, sizeof data, 0);
        if (n > 0) {
            if (!s->busy) { /* an answer to nothing: the connection is not usable */
                disconnect(w, s);
                return;
            }
            if (take_bytes(w, s, data, (size_t)n))
                return;
        } else if (n == 0) {
            if (!s->busy) {
                disconnect(w, s);
                return;
            }
            if (http1_response_eof(&s->parser) == HTTP1_DONE) {
                disconnect(w, s);
                finish(w, s, s->parser.status, LG_ERR_OTHER);
            } else {
                fail(w, s, LG_ERR_RESET);
            }
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno != EINTR) {
            if (s->busy)
                fail(w, s, LG_ERR_RESET);
            else
                disconnect(w, s);
            return;
        }
    }
}

void direct_event(struct worker *w, struct slot *s, uint32_t events)
{
    if (s->conn != DIRECT_READY)
        return; /* a stale event for a connection already dropped in this batch */
    if ((events & EPOLLOUT) && s->busy && s->sent_len < s->out_head_len + s->out_body_len)
        send_rest(w, s);
    if (s->conn == DIRECT_READY && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        read_available(w, s);
}

void direct_check_timeouts(struct worker *w, uint64_t now)
{
    if (now - w->timeouts_checked_ns < TIMEOUT_SCAN_NS)
        return;
    w->timeouts_checked_ns = now;
    for (unsigned i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->busy && now - s->sent_ns > w->e->timeout_ns) {
            disconnect(w, s);
            finish(w, s, 0, LG_ERR_TIMEOUT);
        }
    }
}

void direct_cancel(struct worker *w, struct slot *s)
{
    disconnect(w, s);
    s->busy = 0;
}
