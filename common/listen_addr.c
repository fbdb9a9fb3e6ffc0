/*
 * listen_addr: "HOST:PORT" parsing with getaddrinfo. See listen_addr.h.
 */
#include "listen_addr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int listen_addr_parse(const char *text, struct listen_addr *out, char *error, size_t error_len)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    if (!colon) {
        snprintf(error, error_len, "'%s' has no port: write HOST:PORT, e.g. 127.0.0.1:5000", text);
        return -1;
    }
    size_t hlen = (size_t)(colon - text);
    if (hlen >= sizeof(host)) {
        snprintf(error, error_len, "the host in '%.64s…' is too long", text);
        return -1;
    }
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    char *end;
    const char *port = colon + 1;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p < 0 || p > 65535) {
        snprintf(error, error_len, "'%s' is not a port number from 0 to 65535", port);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &res);
    if (rc != 0) {
        snprintf(error, error_len, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
