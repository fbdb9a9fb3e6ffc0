/*
 * transport: one place that turns loadgen's transport settings into libcurl options (contract in
 * transport.h). Settings are checked when the run starts — a missing CA file or a mistyped
 * --resolve stops loadgen with one sentence instead of failing every request — and the lists
 * libcurl keeps by reference (resolve, connect-to) are built once and shared by every handle.
 */
#include "transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "flag_value.h"

#define DEFAULT_CONNECT_MAX_NS 5000000000ull
#define STREAMS_MAX 1000

const char transport_usage[] =
    "transport:\n"
    "  --http2                HTTP/2 over TLS, negotiated by ALPN (HTTP/1.1 if the server\n"
    "                         does not offer it; the summary names what was used)\n"
    "  --http2-prior-knowledge  HTTP/2 from the first byte: cleartext h2c on http://\n"
    "  --streams N            HTTP/2: requests in flight on each connection (multiplexing;\n"
    "                         default 1): the closed model keeps connections x N busy\n"
    "  --insecure             do not verify the server's certificate and name\n"
    "  --cacert FILE          CA certificates (PEM) to verify the server with\n"
    "  --cert FILE, --key FILE  client certificate and key (PEM) for mutual TLS\n"
    "  --connect-timeout D    give up connecting after D (default: --timeout, at most 5s)\n"
    "  --no-keepalive         a new connection for every request\n"
    "  --resolve HOST:PORT:ADDR        connect to ADDR for HOST:PORT (as curl --resolve)\n"
    "  --connect-to HOST:PORT:HOST2:PORT2  connect to HOST2:PORT2 instead (as curl)\n"
    "  --unix-socket PATH     connect through a Unix socket (the URL still names the host)\n";

/* The parts of s split at ':' outside [brackets]; returns how many (at most max). */
static size_t split_colons(const char *s, const char *parts[], size_t lens[], size_t max)
{
    size_t n = 0;
    int bracket = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '[')
            bracket = 1;
        else if (*p == ']')
            bracket = 0;
        if ((*p == ':' && !bracket) || !*p) {
            if (n < max) {
                parts[n] = start;
                lens[n] = (size_t)(p - start);
            }
            n++;
            start = p + 1;
        }
        if (!*p)
            break;
    }
    return n;
}

static int port_ok(const char *s, size_t n, int empty_ok)
{
    if (n == 0)
        return empty_ok;
    if (n > 5 || strspn(s, "0123456789") < n)
        return 0;
    long v = strtol(s, NULL, 10);
    return v >= 1 && v <= 65535;
}

/* HOST:PORT:ADDR[,ADDR] (a leading '+' as curl allows), or HOST:PORT:H2:P2 for connect-to. */
static int override_ok(const char *s, int connect_to)
{
    const char *parts[5];
    size_t lens[5];
    if (*s == '+' && !connect_to)
        s++;
    size_t n = split_colons(s, parts, lens, 5);
    if (connect_to)
        return n == 4 && port_ok(parts[1], lens[1], 1) && port_ok(parts[3], lens[3], 1);
    return n == 3 && lens[0] > 0 && port_ok(parts[1], lens[1], 0) && lens[2] > 0;
}

static int readable(const char *flag, const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) == 0)
        return 0;
    snprintf(err, errlen, "--%s '%s' cannot be read: %s", flag, path, strerror(errno));
    return -1;
}

int transport_init(struct transport *t, const struct transport_config *cfg, char *err,
                   size_t errlen)
{
    memset(t, 0, sizeof *t);
    if ((cfg->cacert && readable("cacert", cfg->cacert, err, errlen)) ||
        (cfg->cert && readable("cert", cfg->cert, err, errlen)) ||
        (cfg->key && readable("key", cfg->key, err, errlen)))
        return -1;
    if (cfg->key && !cfg->cert) {
        snprintf(err, errlen, "--key needs --cert (the client certificate it belongs to)");
        return -1;
    }
    struct curl_slist *resolve = NULL, *connect_to = NULL;
    for (size_t i = 0; i < cfg->nresolve; i++)
        if (!(resolve = curl_slist_append(resolve, cfg->resolve[i])))
            goto nomem;
    for (size_t i = 0; i < cfg->nconnect_to; i++)
        if (!(connect_to = curl_slist_append(connect_to, cfg->connect_to[i])))
            goto nomem;
    t->cfg = *cfg;
    t->resolve = resolve;
    t->connect_to = connect_to;
    return 0;
nomem:
    curl_slist_free_all(resolve);
    curl_slist_free_all(connect_to);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void transport_free(struct transport *t)
{
    if (!t)
        return;
    curl_slist_free_all(t->resolve);
    curl_slist_free_all(t->connect_to);
    t->resolve = t->connect_to = NULL;
}

int transport_multiplexed(const struct transport_config *cfg)
{
    return cfg->http != TRANSPORT_HTTP1 && cfg->streams > 1;
}

int transport_direct_ok(const struct transport_config *cfg, const char *url)
{
    return (!cfg || cfg->http == TRANSPORT_HTTP1) && !strncasecmp(url, "http://", 7);
}

void transport_apply(const struct transport *t, void *curl, uint64_t timeout_ns)
{
    static const long versions[] = {CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS,
                                    CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE};
    CURL *h = curl;
    const struct transport_config *c = t ? &t->cfg : NULL;
    uint64_t connect_ns = timeout_ns < DEFAULT_CONNECT_MAX_NS ? timeout_ns : DEFAULT_CONNECT_MAX_NS;
    if (c && c->connect_timeout_ns)
        connect_ns = c->connect_timeout_ns;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)((connect_ns + 999999) / 1000000));
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, versions[c ? c->http : TRANSPORT_HTTP1]);
    if (!c)
        return;
    if (transport_multiplexed(c))
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
    if (c->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    if (c->no_keepalive)
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    if (t->resolve)
        curl_easy_setopt(h, CURLOPT_RESOLVE, (struct curl_slist *)t->resolve);
    if (t->connect_to)
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, (struct curl_slist *)t->connect_to);
    if (c->unix_socket)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
}

const char *transport_protocol_of(void *curl)
{
    long version = 0;
    char *scheme = NULL;
    if (curl_easy_getinfo((CURL *)curl, CURLINFO_HTTP_VERSION, &version) != CURLE_OK)
        return "";
    curl_easy_getinfo((CURL *)curl, CURLINFO_SCHEME, &scheme);
    int tls = scheme && (!strcmp(scheme, "https") || !strcmp(scheme, "HTTPS"));
    switch (version) {
    case CURL_HTTP_VERSION_1_0:
        return "http/1.0";
    case CURL_HTTP_VERSION_1_1:
        return "http/1.1";
    case CURL_HTTP_VERSION_2_0:
        return tls ? "h2" : "h2c";
    case CURL_HTTP_VERSION_3:
        return "h3";
    default:
        return "";
    }
}

int transport_h2c_workaround(const struct transport *t, const char *url)
{
    if (!t || t->cfg.http != TRANSPORT_HTTP2_PRIOR || strncasecmp(url, "http://", 7))
        return 0;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v->version_num < 0x080000;
}

int transport_h2c_begin(struct transport_h2c *p, void *curl)
{
    int open = p->live + p->opening < p->want;
    curl_easy_setopt((CURL *)curl, CURLOPT_HTTP_VERSION,
                     open ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                          : (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt((CURL *)curl, CURLOPT_FRESH_CONNECT, (long)open);
    if (open)
        p->opening++;
    return open;
}

void transport_h2c_connection(struct transport_h2c *p, int opened)
{
    if (opened) {
        p->live++;
        if (p->opening)
            p->opening--;
    } else if (p->live) {
        p->live--;
    }
}

void transport_h2c_end(struct transport_h2c *p, void *curl, int opened)
{
    long connects = 0;
    curl_easy_getinfo((CURL *)curl, CURLINFO_NUM_CONNECTS, &connects);
    if (opened && connects == 0 && p->opening)
        p->opening--;
}

int transport_h2c_retry(struct transport_h2c *p, void *curl, int opened, int rc, int *retried)
{
    long connects = 0;
    (void)p;
    if (opened || *retried || rc == CURLE_OK)
        return 0;
    /* The workaround's own failures: a transfer meant to reuse a connection found none and
     * opened one without prior knowledge, or rode on one another such transfer opened — the
     * h2c-only server answered it with HTTP/2 frames (libcurl: "HTTP/0.9", unsupported
     * protocol) or closed it. A request that failed on a connection the server broke is sent
     * once more too; if the server is really gone, that second try fails and counts. */
    curl_easy_getinfo((CURL *)curl, CURLINFO_NUM_CONNECTS, &connects);
    if (connects == 0 && rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_GOT_NOTHING &&
        rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR)
        return 0;
    *retried = 1;
    return 1;
}

int transport_flag_takes_value(const char *flag)
{
    static const char *const valued[] = {
        "cacert",  "cert",       "key",         "streams", "connect-timeout",
        "resolve", "connect-to", "unix-socket", NULL};
    for (size_t i = 0; valued[i]; i++)
        if (!strcmp(flag, valued[i]))
            return 1;
    return 0;
}

static int add_override(const char **list, size_t *n, const char *flag, const char *value,
                        int connect_to, char *err, size_t errlen)
{
    if (!override_ok(value, connect_to)) {
        snprintf(err, errlen, "--%s '%s' is not %s", flag, value,
                 connect_to ? "HOST:PORT:CONNECT-HOST:CONNECT-PORT (parts may be empty)"
                            : "HOST:PORT:ADDRESS, e.g. example.test:443:127.0.0.1");
        return -1;
    }
    if (*n == TRANSPORT_MAX_OVERRIDES) {
        snprintf(err, errlen, "at most %d --%s flags", TRANSPORT_MAX_OVERRIDES, flag);
        return -1;
    }
    list[(*n)++] = value;
    return 1;
}

int transport_flag(struct transport_config *cfg, const char *flag, const char *value, char *err,
                   size_t errlen)
{
    if (!strcmp(flag, "insecure"))
        cfg->insecure = 1;
    else if (!strcmp(flag, "http2"))
        cfg->http = TRANSPORT_HTTP2;
    else if (!strcmp(flag, "http2-prior-knowledge"))
        cfg->http = TRANSPORT_HTTP2_PRIOR;
    else if (!strcmp(flag, "no-keepalive"))
        cfg->no_keepalive = 1;
    else if (!strcmp(flag, "cacert"))
        cfg->cacert = value;
    else if (!strcmp(flag, "cert"))
        cfg->cert = value;
    else if (!strcmp(flag, "key"))
        cfg->key = value;
    else if (!strcmp(flag, "unix-socket"))
        cfg->unix_socket = value;
    else if (!strcmp(flag, "resolve"))
        return add_override(cfg->resolve, &cfg->nresolve, flag, value, 0, err, errlen);
    else if (!strcmp(flag, "connect-to"))
        return add_override(cfg->connect_to, &cfg->nconnect_to, flag, value, 1, err, errlen);
    else if (!strcmp(flag, "connect-timeout")) {
        if (flag_duration(flag, value, 1000000, FLAG_NO_MAX, &cfg->connect_timeout_ns, err,
                          errlen) < 0)
            return -1;
    } else if (!strcmp(flag, "streams")) {
        uint64_t v;
        if (flag_count(flag, value, 1, STREAMS_MAX, &v, err, errlen) < 0)
            return -1;
        cfg->streams = (unsigned)v;
    } else {
        return 0;
    }
    return 1;
}
