/*
 * transport: how loadgen reaches a service. TLS (no verification, a CA bundle, a client
 * certificate and key), the HTTP version (1.1; HTTP/2 over TLS negotiated by ALPN; HTTP/2 with
 * prior knowledge, which is cleartext h2c on http://), multiplexing of HTTP/2 streams, the connect
 * timeout, keep-alive, name overrides written as curl writes them (--resolve HOST:PORT:ADDR,
 * --connect-to HOST:PORT:HOST2:PORT2) and a Unix socket.
 *
 * One module sets these options on every libcurl handle loadgen makes — the engine's transfers,
 * the connections of its direct HTTP/1.1 path, the audit's reads — so a run and its audit reach
 * the service the same way. The configuration is plain data (chaos and tests fill it without a
 * command line); transport_init() checks it once and builds what libcurl keeps by reference.
 */
#ifndef LOADGEN_TRANSPORT_H
#define LOADGEN_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#define TRANSPORT_MAX_OVERRIDES 16

enum transport_http {
    TRANSPORT_HTTP1,       /* HTTP/1.1 (the default) */
    TRANSPORT_HTTP2,       /* HTTP/2 over TLS when the server offers it (ALPN), else 1.1 */
    TRANSPORT_HTTP2_PRIOR, /* HTTP/2 from the first byte: h2c on http://, h2 on https:// */
};

struct transport_config {
    int insecure;                /* do not verify the server's certificate or name */
    const char *cacert;          /* CA bundle (PEM) to verify the server with; NULL: the system's */
    const char *cert, *key;      /* client certificate and key (PEM) for mutual TLS; NULL: none */
    enum transport_http http;    /* HTTP version to ask for */
    unsigned streams;            /* HTTP/2: requests in flight per connection (0 or 1: one, no
                                    multiplexing, as h2load's default) */
    uint64_t connect_timeout_ns; /* 0: the default (the request timeout, at most 5 s) */
    int no_keepalive;            /* a new connection for every request */
    const char *resolve[TRANSPORT_MAX_OVERRIDES]; /* "HOST:PORT:ADDR[,ADDR]" */
    size_t nresolve;
    const char *connect_to[TRANSPORT_MAX_OVERRIDES]; /* "HOST:PORT:CONNECT-HOST:CONNECT-PORT" */
    size_t nconnect_to;
    const char *unix_socket; /* path of a Unix socket to connect to instead of TCP */
};

/* What libcurl keeps by reference, built once from a checked configuration. */
struct transport {
    struct transport_config cfg;
    void *resolve, *connect_to; /* struct curl_slist * */
};

/* Checks `cfg` (readable files, override syntax, a key with its certificate) and builds `t`.
 * Returns 0, or -1 with a sentence in err (then `t` holds nothing to free). */
int transport_init(struct transport *t, const struct transport_config *cfg, char *err,
                   size_t errlen);

void transport_free(struct transport *t); /* accepts a zeroed struct */

/* Sets the transport's options on a libcurl easy handle (a CURL *). `timeout_ns` is the
 * request timeout, from which the default connect timeout follows. `t` NULL sets HTTP/1.1 and
 * nothing else. */
void transport_apply(const struct transport *t, void *curl, uint64_t timeout_ns);

/* Whether HTTP/2 streams share connections (an HTTP/2 mode with streams above 1). */
int transport_multiplexed(const struct transport_config *cfg);

/* Whether loadgen's direct HTTP/1.1 path (plain http://, its own framing) can carry a run with
 * this transport; TLS and HTTP/2 need libcurl's transfers. `url` is the target. */
int transport_direct_ok(const struct transport_config *cfg, const char *url);

/* The negotiated protocol of a finished transfer on `curl`: "http/1.0", "http/1.1", "h2" (over
 * TLS), "h2c" (cleartext), "h3", or "" when it is not known. */
const char *transport_protocol_of(void *curl);

/* h2c with prior knowledge on libcurl before 8.0.0 (Debian 12 has 7.88.1): a transfer that
 * asks for prior knowledge on a connection already speaking HTTP/2 layers HTTP/2 onto it a
 * second time and fails (curl issue #10634, fixed in 8.0.0). So only a transfer that opens a
 * connection asks for prior knowledge (with a fresh connection); the others ask for
 * "HTTP/2 when possible" and multiplex onto the connections those opened. A worker keeps one of
 * these per multi handle. When the server ends a connection (GOAWAY) while such a transfer waits
 * for it, libcurl opens a new one for it without prior knowledge and an h2c-only server cannot
 * answer: that transfer is sent again, once, on a new h2c connection (transport_h2c_retry). */
struct transport_h2c {
    unsigned live;    /* connections open now (transport_h2c_connection) */
    unsigned opening; /* transfers begun to open one whose socket is not open yet */
    unsigned want;    /* connections this multi handle may keep */
};

/* Whether this run needs the workaround (h2c prior knowledge, libcurl older than 8.0.0). */
int transport_h2c_workaround(const struct transport *t, const char *url);

/* Before a transfer on `curl`: sets its HTTP version and whether it opens a fresh connection.
 * Returns 1 when it opens one (pass that to transport_h2c_end). */
int transport_h2c_begin(struct transport_h2c *p, void *curl);

/* A connection of this multi handle opened (1) or closed (0): libcurl's open and close socket
 * callbacks tell it, so the next transfer knows at once that it must open one. */
void transport_h2c_connection(struct transport_h2c *p, int opened);

/* After a transfer on `curl` that transport_h2c_begin said `opened` one: when it never got a
 * socket, the connection it was to open is not coming. */
void transport_h2c_end(struct transport_h2c *p, void *curl, int opened);

/* After a transfer on `curl` ended with `rc` (a CURLcode): 1 when it should be sent again, once:
 * it was meant to reuse a connection and failed as the workaround fails (it opened a connection
 * without prior knowledge, or got no HTTP/2 answer, or its connection broke). *retried is then
 * set, and the next transport_h2c_begin opens an h2c connection for it. Its latency counts both
 * tries; a second failure is recorded as usual. */
int transport_h2c_retry(struct transport_h2c *p, void *curl, int opened, int rc, int *retried);

/* Command-line flags shared by `loadgen` and `loadgen audit`: "insecure", "cacert", "cert",
 * "key", "http2", "http2-prior-knowledge", "streams", "connect-timeout", "no-keepalive",
 * "resolve", "connect-to", "unix-socket" (the flag without its dashes; value NULL for those that
 * take none). Returns 1 when applied, 0 when `flag` is not one of them, -1 with a sentence in err
 * for a bad value. Strings are kept by reference. */
int transport_flag(struct transport_config *cfg, const char *flag, const char *value, char *err,
                   size_t errlen);

/* Whether `flag` (without dashes) is a transport flag that takes a value. */
int transport_flag_takes_value(const char *flag);

/* The usage lines of these flags. */
extern const char transport_usage[];

#endif
