/*
 * mini_http: a small libmicrohttpd server for the tools' side endpoints — loadgen's
 * --metrics-listen and chaos's Alertmanager webhook receiver — so neither writes its own.
 *
 * One internal thread, loopback-friendly HOST:PORT (port 0 picks one), request bodies up to
 * 1 MiB collected before the handler runs. The handler fills a response buffer and returns
 * the status; it runs on the server thread, so it must be quick and thread-safe.
 */
#ifndef TASKBENCH_MINI_HTTP_H
#define TASKBENCH_MINI_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "listen_addr.h"

#define MINI_HTTP_BODY_MAX (1u << 20)

struct mini_http_request {
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated; "" when none */
    size_t body_len;
};

/* Returns the HTTP status; writes the body into `out` and its type into *content_type. */
typedef int (*mini_http_handler)(void *ctx, const struct mini_http_request *req, struct buf *out,
                                 const char **content_type);

struct mini_http;

/* Starts serving on `addr` (port 0 picks a free one; parse it with flag_addr() or
 * listen_addr_parse()). Returns NULL with a sentence in err. */
struct mini_http *mini_http_start(const struct listen_addr *addr, mini_http_handler handler,
                                  void *ctx, char *err, size_t errlen);

/* The bound port (useful after port 0). */
unsigned mini_http_port(const struct mini_http *s);

/* Stops the server; no handler runs after this returns. Accepts NULL. */
void mini_http_stop(struct mini_http *s);

#endif
