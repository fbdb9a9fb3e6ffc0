/*
 * paced: a small open-loop HTTP/1.1 load client for latency at a fixed rate. Request i is due at
 * t0 + i/rate whatever happened to the requests before it (absolute-time schedule), so a slow
 * response cannot hold back the requests behind it: latency is measured from the intended start
 * (corrected for coordinated omission), next to the service time (from the send) and the send lag
 * (how late the request left, because every connection was busy or the client was late).
 * One thread, epoll, a timerfd with 1 ns timer slack, keep-alive connections; one request in
 * flight per connection. Written because hey tops out below the rates taskd needs on one core and
 * reports latency in steps of 0.1 ms. Latency goes into common/loghist (3 significant digits),
 * the histogram loadgen uses; common/histogram's Prometheus buckets are too coarse for it.
 *
 * Usage: paced -a 127.0.0.1:PORT -r RATE -d SECONDS [-c CONNECTIONS] [-m METHOD] [-p PATH]
 *              [-i IDS] [-b BODY] [-T CONTENT_TYPE]
 * "{id}" in PATH becomes 1, 2, ... IDS, 1, ... in turn. The last line is machine-readable:
 * "paced-result achieved=... p50_us=... p99_us=... ...". Requests still unsent DRAIN_NS after the
 * schedule ends (the server is slower than the rate) are dropped and counted as "unsent". Exit 0
 * when every response was 2xx, 1 on errors, other statuses or lost answers, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loghist.h"

#define CONN_MAX 1024
#define RESPONSE_MAX (256 * 1024)
#define REQUEST_MAX 8192
#define DRAIN_NS (2ull * 1000000000ull) /* answers still missing this long after the end: lost */
#define TIMER_TAG UINT32_MAX

/* ---- options ---------------------------------------------------------------------------- */

struct options {
    struct sockaddr_in addr;
    char host[64];
    double rate;
    double seconds;
    unsigned conns;
    const char *method;
    const char *path;
    unsigned long ids;
    const char *body;
    const char *content_type;
};

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "127.0.0.1:PORT" only: the bench never leaves the loopback interface. */
static int parse_addr(const char *s, struct options *o)
{
    const char *colon = strrchr(s, ':');
    unsigned long port;
    char ip[32];
    size_t n = colon ? (size_t)(colon - s) : 0;
    if (!colon || n == 0 || n >= sizeof(ip) || parse_ulong(colon + 1, 1, 65535, &port) < 0)
        return -1;
    memcpy(ip, s, n);
    ip[n] = '\0';
    memset(&o->addr, 0, sizeof(o->addr));
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &o->addr.sin_addr) != 1 ||
        (ntohl(o->addr.sin_addr.s_addr) >> 24) != 127)
        return -1;
    snprintf(o->host, sizeof(o->host), "%s", s);
    return 0;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: paced -a 127.0.0.1:PORT -r RATE -d SECONDS [-c CONNECTIONS] [-m METHOD]\n"
        "             [-p PATH] [-i IDS] [-b BODY] [-T CONTENT_TYPE]\n"
        "Sends RATE requests/s for SECONDS on CONNECTIONS (default 16) keep-alive connections,\n"
        "open loop; \"{id}\" in PATH cycles through 1..IDS (default 1000).\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned long conns = 16;
    int have_addr = 0;
    *o = (struct options){.method = "GET", .path = "/", .ids = 1000, .rate = 0, .seconds = 0};
    int opt;
    while ((opt = getopt(argc, argv, "a:r:d:c:m:p:i:b:T:")) != -1) {
        switch (opt) {
        case 'a':
            if (parse_addr(optarg, o) < 0) {
                fprintf(stderr, "paced: -a wants 127.x.x.x:PORT, got %s\n", optarg);
                return -1;
            }
            have_addr = 1;
            break;
        case 'r':
            if (parse_double(optarg, 1, 10e6, &o->rate) < 0)
                return -1;
            break;
        case 'd':
            if (parse_double(optarg, 0.001, 3600, &o->seconds) < 0)
                return -1;
            break;
        case 'c':
            if (parse_ulong(optarg, 1, CONN_MAX, &conns) < 0)
                return -1;
            break;
        case 'm':
            o->method = optarg;
            break;
        case 'p':
            o->path = optarg;
            break;
        case 'i':
            if (parse_ulong(optarg, 1, 1000000000ul, &o->ids) < 0)
                return -1;
            break;
        case 'b':
            o->body = optarg;
            break;
        case 'T':
            o->content_type = optarg;
            break;
        default:
            return -1;
        }
    }
    o->conns = (unsigned)conns;
    return have_addr && o->rate > 0 && o->seconds > 0 && optind == argc ? 0 : -1;
}

/* ---- connections ------------------------------------------------------------------------ */

struct conn {
    int fd;
    int busy;
    uint64_t intended_ns, sent_ns;
    char out[REQUEST_MAX];
    size_t out_len, out_off;
    char in[RESPONSE_MAX];
    size_t in_len;
};

struct stats {
    struct loghist corrected, service, lag;
    uint64_t sent, ok, non2xx, errors, lost, unsent, reconnects;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int conn_open(struct conn *c, const struct options *o, int ep, uint32_t tag)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->busy = 0;
    c->in_len = 0;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->busy = 0;
}

/* Formats request number `seq` into the connection's output buffer. */
static int format_request(struct conn *c, const struct options *o, uint64_t seq)
{
    char path[2048];
    const char *hole = strstr(o->path, "{id}");
    if (hole) {
        unsigned long id = (unsigned long)(seq % o->ids) + 1;
        snprintf(path, sizeof(path), "%.*s%lu%s", (int)(hole - o->path), o->path, id, hole + 4);
    } else {
        snprintf(path, sizeof(path), "%s", o->path);
    }
    int n;
    if (o->body) {
        n = snprintf(c->out, sizeof(c->out),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "\r\n%s",
                     o->method, path, o->host,
                     o->content_type ? o->content_type : "application/json", strlen(o->body),
                     o->body);
    } else {
        n = snprintf(c->out, sizeof(c->out), "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->method, path,
                     o->host);
    }
    if (n < 0 || (size_t)n >= sizeof(c->out))
        return -1;
    c->out_len = (size_t)n;
    c->out_off = 0;
    return 0;
}

/* Writes what is left of the request. Returns 0 (done or waiting for EPOLLOUT) or -1. */
static int conn_flush(struct conn *c, int ep, uint32_t tag)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = tag};
            return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        if (n <= 0)
            return -1;
        c->out_off += (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Finds `name` among the header lines in [head, head+len). Returns its value or NULL. */
static const char *header_value(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            *vlen = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

enum parse_result { PARSE_MORE, PARSE_DONE, PARSE_BAD };

/* Parses one complete response from the input buffer: status, whether the server closes, and
 * how many bytes it used. Responses come with Content-Length (libmicrohttpd with a buffer). */
static enum parse_result parse_response(const struct conn *c, int *status, int *closes,
                                        size_t *used)
{
    const char *head_end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!head_end)
        return c->in_len >= sizeof(c->in) ? PARSE_BAD : PARSE_MORE;
    size_t head_len = (size_t)(head_end - c->in) + 4;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.", 7) != 0)
        return PARSE_BAD;
    *status = (c->in[9] - '0') * 100 + (c->in[10] - '0') * 10 + (c->in[11] - '0');
    size_t vlen;
    const char *v = header_value(c->in, head_len, "Content-Length", &vlen);
    unsigned long body = 0;
    if (v) {
        char num[24];
        if (vlen == 0 || vlen >= sizeof(num))
            return PARSE_BAD;
        memcpy(num, v, vlen);
        num[vlen] = '\0';
        if (parse_ulong(num, 0, RESPONSE_MAX, &body) < 0)
            return PARSE_BAD;
    } else if (header_value(c->in, head_len, "Transfer-Encoding", &vlen)) {
        return PARSE_BAD; /* chunked bodies are not expected from the bench targets */
    }
    if (head_len + body > sizeof(c->in))
        return PARSE_BAD;
    if (c->in_len < head_len + body)
        return PARSE_MORE;
    v = header_value(c->in, head_len, "Connection", &vlen);
    *closes = v && vlen >= 5 && strncasecmp(v, "close", 5) == 0;
    *used = head_len + body;
    return PARSE_DONE;
}

/* ---- the run ---------------------------------------------------------------------------- */

struct run {
    const struct options *opt;
    int ep, timer;
    struct conn *conns;
    unsigned *idle; /* stack of idle connection indexes */
    unsigned idle_count;
    unsigned in_flight;
    uint64_t t0, total, issued;
    double interval_ns;
    struct stats st;
};

static uint64_t intended(const struct run *r, uint64_t seq)
{
    return r->t0 + (uint64_t)llround((double)seq * r->interval_ns);
}

static void conn_failed(struct run *r, unsigned i)
{
    struct conn *c = &r->conns[i];
    if (c->busy) {
        r->st.errors++;
        r->in_flight--;
    }
    conn_close(c);
    if (conn_open(c, r->opt, r->ep, i) == 0) {
        r->st.reconnects++;
        r->idle[r->idle_count++] = i;
    }
}

static void send_next(struct run *r, unsigned i, uint64_t now)
{
    struct conn *c = &r->conns[i];
    c->intended_ns = intended(r, r->issued);
    if (format_request(c, r->opt, r->issued) < 0) {
        fprintf(stderr, "paced: the request does not fit in %d bytes\n", REQUEST_MAX);
        exit(2);
    }
    r->issued++;
    r->st.sent++;
    c->busy = 1;
    c->sent_ns = now;
    r->in_flight++;
    loghist_record(&r->st.lag, now - c->intended_ns);
    if (conn_flush(c, r->ep, i) < 0)
        conn_failed(r, i);
}

/* Sends every request that is due, as long as a connection is free. */
static void issue_due(struct run *r)
{
    uint64_t now = now_ns();
    while (r->issued < r->total && r->idle_count > 0 && intended(r, r->issued) <= now) {
        send_next(r, r->idle[--r->idle_count], now);
        now = now_ns();
    }
}

static void on_readable(struct run *r, unsigned i)
{
    struct conn *c = &r->conns[i];
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_failed(r, i);
            return;
        }
        c->in_len += (size_t)n;
        int status = 0, closes = 0;
        size_t used = 0;
        enum parse_result pr = parse_response(c, &status, &closes, &used);
        if (pr == PARSE_MORE)
            continue;
        if (pr == PARSE_BAD || !c->busy) {
            conn_failed(r, i);
            return;
        }
        uint64_t done = now_ns();
        loghist_record(&r->st.corrected, done - c->intended_ns);
        loghist_record(&r->st.service, done - c->sent_ns);
        if (status >= 200 && status < 300)
            r->st.ok++;
        else
            r->st.non2xx++;
        c->busy = 0;
        r->in_flight--;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        if (closes) {
            conn_close(c);
            if (conn_open(c, r->opt, r->ep, i) < 0)
                return;
            r->st.reconnects++;
        }
        r->idle[r->idle_count++] = i;
        return;
    }
}

static void arm_timer(struct run *r)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (r->issued < r->total && r->idle_count > 0) {
        uint64_t due = intended(r, r->issued);
        its.it_value.tv_sec = (time_t)(due / 1000000000ull);
        its.it_value.tv_nsec = (long)(due % 1000000000ull);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1; /* all zero would disarm */
    }
    timerfd_settime(r->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

static int run_load(struct run *r)
{
    struct epoll_event events[64];
    uint64_t deadline = 0;
    /* A server slower than the rate leaves a backlog: give up sending DRAIN_NS after the
     * schedule's end rather than let the run grow without bound; the rest counts as unsent. */
    uint64_t stop_issuing = r->t0 + (uint64_t)(r->opt->seconds * 1e9) + DRAIN_NS;
    for (;;) {
        if (r->issued < r->total && now_ns() >= stop_issuing) {
            r->st.unsent = r->total - r->issued;
            r->total = r->issued;
        }
        issue_due(r);
        if (r->issued == r->total) {
            if (r->in_flight == 0)
                return 0;
            if (deadline == 0)
                deadline = now_ns() + DRAIN_NS;
            if (now_ns() >= deadline) {
                r->st.lost = r->in_flight;
                return 0;
            }
        }
        arm_timer(r);
        int timeout_ms = deadline ? (int)((deadline - now_ns()) / 1000000ull) + 1 : -1;
        int n = epoll_wait(r->ep, events, 64, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("paced: epoll_wait");
            return -1;
        }
        for (int k = 0; k < n; k++) {
            uint32_t tag = events[k].data.u32;
            if (tag == TIMER_TAG) {
                uint64_t expirations;
                if (read(r->timer, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    return -1;
                continue;
            }
            struct conn *c = &r->conns[tag];
            if (c->fd < 0)
                continue;
            if (events[k].events & EPOLLOUT) {
                if (conn_flush(c, r->ep, tag) < 0) {
                    conn_failed(r, tag);
                    continue;
                }
            }
            if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(r, tag);
        }
    }
}

static void print_hist(const char *name, const struct loghist *h)
{
    printf("  %-44s p50 %8.1f  p90 %8.1f  p99 %8.1f  p99.9 %8.1f  max %8.1f us\n", name,
           (double)loghist_quantile(h, 0.5) / 1e3, (double)loghist_quantile(h, 0.9) / 1e3,
           (double)loghist_quantile(h, 0.99) / 1e3, (double)loghist_quantile(h, 0.999) / 1e3,
           (double)h->max_ns / 1e3);
}

static void report(const struct run *r, double elapsed_s)
{
    const struct stats *st = &r->st;
    const struct options *o = r->opt;
    double achieved = (double)(st->ok + st->non2xx) / elapsed_s;
    printf("paced: %s %s at %.0f/s for %.1f s on %u connections (open loop)\n", o->method, o->path,
           o->rate, o->seconds, o->conns);
    printf("  sent %llu, 2xx %llu, other status %llu, errors %llu, lost %llu, unsent %llu, "
           "reconnects %llu, achieved %.1f/s\n",
           (unsigned long long)st->sent, (unsigned long long)st->ok, (unsigned long long)st->non2xx,
           (unsigned long long)st->errors, (unsigned long long)st->lost,
           (unsigned long long)st->unsent, (unsigned long long)st->reconnects, achieved);
    print_hist("latency from intended start (CO-corrected)", &st->corrected);
    print_hist("service time (from send)", &st->service);
    print_hist("send lag (sent - intended)", &st->lag);
    printf("paced-result achieved=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
           "max_us=%.1f service_p50_us=%.1f service_p99_us=%.1f lag_p99_us=%.1f ok=%llu "
           "non2xx=%llu errors=%llu lost=%llu unsent=%llu\n",
           achieved, (double)loghist_quantile(&st->corrected, 0.5) / 1e3,
           (double)loghist_quantile(&st->corrected, 0.9) / 1e3,
           (double)loghist_quantile(&st->corrected, 0.99) / 1e3,
           (double)loghist_quantile(&st->corrected, 0.999) / 1e3,
           (double)st->corrected.max_ns / 1e3, (double)loghist_quantile(&st->service, 0.5) / 1e3,
           (double)loghist_quantile(&st->service, 0.99) / 1e3,
           (double)loghist_quantile(&st->lag, 0.99) / 1e3, (unsigned long long)st->ok,
           (unsigned long long)st->non2xx, (unsigned long long)st->errors,
           (unsigned long long)st->lost, (unsigned long long)st->unsent);
}

int main(int argc, char **argv)
{
    struct options opt;
    if (parse_options(argc, argv, &opt) < 0) {
        usage();
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, 1ul); /* the default 50 us slack would blur the schedule */
    int status = 1;
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    loghist_reset(&r->st.corrected);
    loghist_reset(&r->st.service);
    loghist_reset(&r->st.lag);
    r->opt = &opt;
    r->conns = calloc(opt.conns, sizeof(*r->conns));
    r->idle = calloc(opt.conns, sizeof(*r->idle));
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!r->conns || !r->idle || r->ep < 0 || r->timer < 0) {
        perror("paced: setup");
        goto out;
    }
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = TIMER_TAG};
    epoll_ctl(r->ep, EPOLL_CTL_ADD, r->timer, &tev);
    for (unsigned i = 0; i < opt.conns; i++)
        r->conns[i].fd = -1;
    for (unsigned i = 0; i < opt.conns; i++) {
        if (conn_open(&r->conns[i], &opt, r->ep, i) < 0) {
            fprintf(stderr, "paced: cannot connect to %s: %s\n", opt.host, strerror(errno));
            goto out;
        }
        r->idle[r->idle_count++] = opt.conns - 1 - i;
    }
    r->interval_ns = 1e9 / opt.rate;
    r->total = (uint64_t)llround(opt.rate * opt.seconds);
    r->t0 = now_ns();
    if (run_load(r) < 0)
        goto out;
    double elapsed = (double)(now_ns() - r->t0) / 1e9;
    double scheduled = opt.seconds;
    report(r, elapsed > scheduled ? elapsed : scheduled);
    status = r->st.non2xx || r->st.errors || r->st.lost ? 1 : 0;
out:
    if (r->conns) {
        for (unsigned i = 0; i < opt.conns; i++)
            conn_close(&r->conns[i]);
    }
    if (r->ep >= 0)
        close(r->ep);
    if (r->timer >= 0)
        close(r->timer);
    free(r->conns);
    free(r->idle);
    free(r);
    return status;
}
