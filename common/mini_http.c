/*
 * mini_http: see mini_http.h. Uses libmicrohttpd's two-call pattern: the first call allocates
 * a per-request buffer, the middle calls append upload data (refusing more than
 * MINI_HTTP_BODY_MAX with 413), the last runs the handler and queues its response.
 */
#include "mini_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listen_addr.h"

struct mini_http {
    struct MHD_Daemon *daemon;
    mini_http_handler handler;
    void *ctx;
    unsigned port;
};

struct pending {
    struct buf body;
    int too_large;
};

static enum MHD_Result respond(struct MHD_Connection *conn, int status, const char *type,
                               struct buf *body)
{
    struct MHD_Response *res = MHD_create_response_from_buffer(
        body->len, body->len ? body->data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!res)
        return MHD_NO;
    MHD_add_response_header(res, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, res);
    MHD_destroy_response(res);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    struct mini_http *s = cls;
    struct pending *p = *state;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        buf_init(&p->body, MINI_HTTP_BODY_MAX);
        *state = p;
        return MHD_YES;
    }
    if (*upload_size) {
        if (buf_append(&p->body, upload, *upload_size))
            p->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    struct buf out;
    buf_init(&out, 64u << 20);
    const char *type = "text/plain; charset=utf-8";
    int status;
    if (p->too_large) {
        status = 413;
        buf_puts(&out, "request body too large\n");
    } else {
        struct mini_http_request req = {method, url, p->body.data ? p->body.data : "", p->body.len};
        status = s->handler(s->ctx, &req, &out, &type);
    }
    enum MHD_Result rc = respond(conn, status, type, &out);
    buf_free(&out);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    struct pending *p = *state;
    if (p) {
        buf_free(&p->body);
        free(p);
    }
}

struct mini_http *mini_http_start(const struct listen_addr *addr, mini_http_handler handler,
                                  void *ctx, char *err, size_t errlen)
{
    struct mini_http *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->handler = handler;
    s->ctx = ctx;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (addr->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                         (const struct sockaddr *)&addr->addr, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->daemon) {
        int saved = errno;
        char where[80];
        listen_addr_format(addr, where, sizeof(where));
        snprintf(err, errlen, "cannot listen on %s: %s (is another process using the port?)", where,
                 strerror(saved));
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

unsigned mini_http_port(const struct mini_http *s)
{
    return s->port;
}

void mini_http_stop(struct mini_http *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
