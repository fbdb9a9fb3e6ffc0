/*
 * listen_addr: parses "HOST:PORT" listen addresses the way users write them.
 *
 * Accepted: "127.0.0.1:5000", ":5000" (every IPv4 interface), "[::1]:5000", "localhost:5000",
 * and port 0 for "pick a free port". Names are resolved once, numerically preferred.
 */
#ifndef TASKBENCH_LISTEN_ADDR_H
#define TASKBENCH_LISTEN_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct listen_addr {
    struct sockaddr_storage addr;
    socklen_t len;
};

/* Returns 0, or -1 with a sentence in `error` (e.g. "port 70000 is out of range"). */
int listen_addr_parse(const char *text, struct listen_addr *out, char *error, size_t error_len);

/* The address as numbers, "127.0.0.1:5000" or "[::1]:5000", for messages. */
void listen_addr_format(const struct listen_addr *a, char *out, size_t len);

#endif
