/*
 * server: libmicrohttpd in front of the api: request lifecycle, limits, metrics and the
 * per-request log line.
 *
 * The access handler answers on a later call than the first (the keep-alive pitfall of
 * libmicrohttpd 0.9.75, REFERENCE.md), reads bodies into a buffer capped at 64 KiB (a larger
 * one is refused with 413 before or while it arrives, never stored), and records each request
 * once, when libmicrohttpd reports it completed.
 */
#ifndef TASKD_SERVER_H
#define TASKD_SERVER_H

#include <stdint.h>

#include "api.h"
#include "listen_addr.h"

struct server_config {
    const struct listen_addr *addr; /* port 0 picks a free one */
    const char *listen;             /* the address as the user wrote it, for messages */
    unsigned threads;               /* libmicrohttpd thread pool */
    unsigned max_connections;       /* beyond it new connections are refused */
    unsigned idle_timeout_s;        /* a connection idle (or slow) this long is closed */
};

struct server;

/* Starts listening. Returns 0, or -1 with a sentence in `error`. */
int server_start(struct server **out, const struct server_config *cfg, const struct api *api,
                 char *error, size_t error_len);

uint16_t server_port(const struct server *srv);

/* Stops accepting and lets in-flight requests finish, for up to `grace_ns`. Returns how many
 * are still in flight when the grace ran out (0 normally). */
int server_drain(struct server *srv, uint64_t grace_ns);

/* Closes every connection and frees the server. Call store_close() before it: the store's
 * writer thread resumes suspended connections, which must still exist. Accepts NULL. */
void server_stop(struct server *srv);

#endif
