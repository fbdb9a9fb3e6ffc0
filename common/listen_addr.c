/*
 * listen_addr: "HOST:PORT" parsing with getaddrinfo. See listen_addr.h.
 */
#include "listen_addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A port is 1 to 5 decimal digits, nothing else: no sign, no spaces. */
static int parse_port(const char *s, long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return -1;
    *out = strtol(s, NULL, 10);
    return *out <= 65535 ? 0 : -1;
}

int listen_addr_parse(const char *text, struct listen_addr *out, char *error, size_t error_len)
{
    char host[256];
    const char *colon;
    const char *host_start = text;
    size_t hlen;
    if (text[0] == '[') { /* [IPv6]:port */
        const char *close = strchr(text, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
        host_start = text + 1;
        hlen = close ? (size_t)(close - host_start) : 0;
    } else {
        colon = strrchr(text, ':');
        hlen = colon ? (size_t)(colon - text) : 0;
    }
    if (!colon) {
        snprintf(error, error_len, "'%s' has no port: write HOST:PORT, e.g. 127.0.0.1:5000", text);
        return -1;
    }
    if (hlen >= sizeof(host)) {
        snprintf(error, error_len, "the host in '%.64s…' is too long", text);
        return -1;
    }
    memcpy(host, host_start, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;
    long p;
    if (parse_port(port, &p) < 0) {
        snprintf(error, error_len, "'%s' is not a port number from 0 to 65535", port);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
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

void listen_addr_format(const struct listen_addr *a, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, len, "[%s]:%u", host, port);
        return;
    }
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    snprintf(out, len, "%s:%u", host, port);
}
