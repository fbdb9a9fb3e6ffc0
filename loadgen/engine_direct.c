/*
 * engine_direct: the direct path for --raw over plain http://, where loadgen is a wrk-style
 * client. libcurl still opens every connection (CONNECT_ONLY transfers in the worker's multi
 * handle: resolution, connect timeout, socket options), then hands over the socket; loadgen
 * writes the request bytes it built once and frames the responses with common HTTP/1.1 rules
 * (http1.c). That skips libcurl's per-transfer work (URL parsing, header generation, the
 * connection-cache liveness poll, socket re-registration), which capped a core at about a
 * third of wrk's rate. The task mix and https:// keep using full libcurl transfers.
 *
 * A slot owns one connection: NONE -> CONNECTING (libcurl) -> READY (our epoll, tagged with
 * DIRECT_TAG | slot index). A request goes out when the slot is READY; the response ends when
 * the parser says so; a close, an error or --timeout ends the connection, and the slot
 * reconnects for its next request.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"

#define READ_CHUNK 16384
#define TIMEOUT_SCAN_NS 10000000ull

int direct_usable(const struct engine_config *cfg)
{
    return cfg->workload.raw && strncmp(cfg->url, "http://", 7) == 0;
}

int direct_build_request(struct engine *e, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int rc = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, e->cfg.url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        snprintf(err, errlen, "the target %s is not a URL loadgen can parse", e->cfg.url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    char authority[512], target[2048];
    snprintf(authority, sizeof authority, "%s%s%s", host, port ? ":" : "", port ? port : "");
    snprintf(target, sizeof target, "%s%s%s", path, query ? "?" : "", query ? query : "");
    const struct workload_config *wl = &e->cfg.workload;
    const char *method = wl->method ? wl->method : "GET";
    buf_init(&e->direct_request, 1u << 20);
    if (http1_request(&e->direct_request, method, authority, target, wl->headers, wl->nheaders,
                      wl->body, wl->body ? strlen(wl->body) : 0)) {
        snprintf(err, errlen, "the request to %s is larger than 1 MiB", e->cfg.url);
        goto out;
    }
    e->direct_head = strcmp(method, "HEAD") == 0;
    rc = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
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
    s->fd = -1;
    s->want_out = 0;
}

/* Ends the slot's request: the same accounting as a libcurl transfer. */
static void finish(struct worker *w, struct slot *s, int status, enum lg_error_kind err)
{
    uint64_t done = clock_monotonic_ns();
    s->response_bytes = s->parser.body_bytes;
    engine_record(w, s, status, err, done);
    s->busy = 0;
    engine_release_slot(w, s);
}

static void fail(struct worker *w, struct slot *s, enum lg_error_kind err)
{
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
    const struct buf *req = &w->e->direct_request;
    while (s->sent_len < req->len) {
        ssize_t n = send(s->fd, req->data + s->sent_len, req->len - s->sent_len, MSG_NOSIGNAL);
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

void direct_start(struct worker *w, struct slot *s)
{
    s->busy = 1;
    s->sent_len = 0;
    s->response_bytes = 0;
    http1_response_init(&s->parser, w->e->direct_head);
    if (s->conn == DIRECT_READY) {
        send_rest(w, s);
    } else if (s->conn == DIRECT_NONE) {
        s->conn = DIRECT_CONNECTING;
        curl_multi_add_handle(w->multi, s->easy);
    }
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
        if (s->busy)
            finish(w, s, 0, rc == CURLE_OK ? LG_ERR_OTHER : connect_error_kind(rc));
        return;
    }
    s->fd = fd;
    s->conn = DIRECT_READY;
    s->want_out = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag_of(w, s)};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fail(w, s, LG_ERR_OTHER);
        return;
    }
    if (s->busy)
        send_rest(w, s);
}

/* Feeds what arrived to the parser; returns 1 when the slot's request ended. */
static int take_bytes(struct worker *w, struct slot *s, const char *data, size_t n)
{
    size_t used = 0;
    enum http1_result r = http1_response_feed(&s->parser, data, n, &used);
    if (r == HTTP1_MORE)
        return 0;
    if (r == HTTP1_ERROR || used != n) { /* garbage, or bytes nobody asked for */
        fail(w, s, LG_ERR_PROTOCOL);
        return 1;
    }
    int keep = s->parser.keep_alive;
    if (!keep)
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
            int was_busy = s->busy;
            enum http1_result r = was_busy ? http1_response_eof(&s->parser) : HTTP1_ERROR;
            disconnect(w, s);
            if (was_busy && r == HTTP1_DONE)
                finish(w, s, s->parser.status, LG_ERR_OTHER);
            else if (was_busy)
                finish(w, s, 0, LG_ERR_RESET);
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
    if ((events & EPOLLOUT) && s->busy && s->sent_len < w->e->direct_request.len)
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
        if (s->busy && now - s->sent_ns > w->e->timeout_ns)
            fail(w, s, LG_ERR_TIMEOUT);
    }
}

void direct_cancel(struct worker *w, struct slot *s)
{
    disconnect(w, s);
    s->busy = 0;
}
