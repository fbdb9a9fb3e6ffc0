/*
 * engine: the load loop (contract in engine.h).
 *
 * Each worker thread owns a libcurl multi handle driven by curl_multi_socket_action over its
 * own epoll set, a fixed array of slots (one easy handle each, reused, so connections stay
 * alive), a pacer stream and a workload state; nothing on the request path is shared except
 * relaxed atomic counters. A request is handed to libcurl only when a slot is free, so
 * libcurl's internal queue never hides waiting: waiting shows up as lag. Sleeps use
 * epoll_pwait2 with nanosecond timeouts and a 1 ns timer slack, so arrivals go out on time.
 *
 * Over plain http:// every workload takes the direct path (engine_direct.c): libcurl still
 * opens the connections, loadgen writes and frames HTTP/1.1 itself. https:// (and --libcurl)
 * use full libcurl transfers. Every connection libcurl opens or closes, on either path, goes
 * through our socket callbacks, so connections are counted the same way everywhere.
 *
 * Per second, each worker accumulates counts and histograms in a ring of four interval slots
 * (indexed by second); a collector thread folds second k from every worker two seconds later,
 * when no worker can still be writing it, and appends one series row. Results for the whole
 * measured period are per-worker and merged exactly at the end. What is recorded per request
 * and per connection is in engine_record.c.
 */
#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "client_metrics.h"
#include "engine_internal.h"
#include "pacer.h"
#include "transport.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

uint64_t engine_min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* ---- libcurl callbacks ---------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct slot *s = userp;
    size_t len = size * n;
    if (s->response_bytes == 0)
        s->first_byte_ns = clock_monotonic_ns();
    engine_on_body(s, data, len);
    s->response_bytes += len;
    return len;
}

/* Keeps the Location header (installed only when the API names created ids there). */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    size_t len = size * n;
    if (len > 9 && !strncasecmp(data, "location:", 9)) {
        const char *v = data + 9, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        engine_on_location(userp, v, (size_t)(end - v));
    }
    return len;
}

/* Every connection libcurl opens or closes, for either path, passes here. */
static curl_socket_t on_open_socket(void *userp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    (void)purpose;
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd != CURL_SOCKET_BAD)
        engine_connection_event(userp, 1);
    return fd;
}

static int on_close_socket(void *userp, curl_socket_t fd)
{
    engine_connection_event(userp, 0);
    return close(fd);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct worker *w = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(w->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.u64 = (uint64_t)fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    /* A descriptor number can come back from libcurl reused; fall back to the other op. */
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(w->epfd, op, fd, &ev) != 0)
        epoll_ctl(w->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (!socketp)
        curl_multi_assign(w->multi, fd, w);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct worker *w = userp;
    w->curl_deadline_ns =
        timeout_ms < 0 ? UINT64_MAX : clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
    return 0;
}

/* ---- recording ---------------------------------------------------------------------------- */

static enum lg_error_kind error_kind_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return LG_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return LG_ERR_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return LG_ERR_RESET;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
        return LG_ERR_PROTOCOL;
    default:
        return LG_ERR_OTHER;
    }
}

/* ---- requests ----------------------------------------------------------------------------- */

/* The libcurl transfer for the slot's request: URL, method, headers and body. */
static int configure_request(struct worker *w, struct slot *s)
{
    struct engine *e = w->e;
    const struct workload_request *r = &s->req;
    CURL *h = s->easy;
    buf_reset(&s->url);
    if (buf_puts(&s->url, e->origins[r->origin].url) ||
        (!r->target && buf_puts(&s->url, e->path_prefix)) ||
        buf_append(&s->url, r->path, r->path_len))
        return -1;
    curl_easy_setopt(h, CURLOPT_URL, s->url.data);
    curl_slist_free_all(s->curl_headers);
    /* Only the request's own headers: no "Expect: 100-continue", and no form Content-Type of
     * libcurl's own for a body without one (the direct path adds none either). */
    s->curl_headers = curl_slist_append(NULL, "Expect:");
    int has_type = 0;
    for (const char *line = r->headers, *end = r->headers + r->headers_len; line < end;) {
        const char *crlf = memchr(line, '\r', (size_t)(end - line));
        size_t n = crlf ? (size_t)(crlf - line) : (size_t)(end - line);
        char one[8192];
        if (n < sizeof one) {
            memcpy(one, line, n);
            one[n] = '\0';
            s->curl_headers = curl_slist_append(s->curl_headers, one);
            has_type |= !strncasecmp(one, "content-type:", 13);
        }
        line += n + 2;
    }
    if (!has_type)
        s->curl_headers = curl_slist_append(s->curl_headers, "Content-Type:");
    if (!s->curl_headers)
        return -1;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->curl_headers);
    /* libcurl's methods: HEAD (no body read), GET, or POST fields; anything else is the nearest
     * of those renamed, so a GET with a body or a PUT without one go out as written. */
    int head = !strcmp(r->method, "HEAD");
    int body = r->has_body || http1_method_has_body(r->method);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, (long)head);
    if (head)
        return 0;
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body_len ? r->body : "");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(r->method, body ? "POST" : "GET"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    return 0;
}

/* Requests that may start now. */
static unsigned can_start(const struct worker *w)
{
    return w->capacity - w->active;
}

/* A free slot of the group serving `origin` (one group unless the direct path has several
 * origins): there is one whenever can_start() > 0, since each group holds `capacity` slots. */
static struct slot *take_slot(struct worker *w, size_t origin)
{
    unsigned g = w->groups > 1 ? (unsigned)origin : 0;
    unsigned index = w->free_slots[g * w->capacity + --w->nfree[g]];
    struct slot *s = &w->slots[index];
    s->in_use = 1;
    w->active++;
    return s;
}

/* Renders the next request into a free slot (with several origins, renders first, then takes a
 * slot connected to the request's origin). */
static struct slot *next_request(struct worker *w)
{
    /* In the open model with even arrivals, pacer.u is this request's number in the schedule. */
    int numbered = w->e->cfg.model == LG_MODEL_OPEN && !w->e->cfg.poisson;
    uint64_t arrival = numbered ? (uint64_t)w->pacer.u : WORKLOAD_ANY_ARRIVAL;
    if (w->groups > 1) {
        int rc = workload_next(&w->workload, &w->spare, arrival);
        struct slot *s = take_slot(w, w->spare.origin);
        struct workload_request tmp = s->req; /* swap: the slot keeps its buffers' owner */
        s->req = w->spare;
        w->spare = tmp;
        s->render_failed = rc != 0;
        return s;
    }
    struct slot *s = take_slot(w, 0);
    s->render_failed = workload_next(&w->workload, &s->req, arrival) != 0;
    return s;
}

static void start_request(struct worker *w, uint64_t intended_ns)
{
    struct engine *e = w->e;
    struct slot *s = next_request(w);
    s->response_len = 0;
    s->response_bytes = 0;
    s->first_byte_ns = 0;
    s->bytes_sent = 0;
    s->new_connection = 0;
    /* A create's answer names the new id: the task mix's pool, or a target's ledger entry. */
    s->keep_body = s->req.target ? e->cfg.ledger && s->req.target->ledger == TARGET_LEDGER_CREATE
                                 : s->req.route == LG_ROUTE_CREATE;
    s->location[0] = '\0';
    if (s->req.expect)
        expect_scan_init(&s->scan, s->req.expect);
    else
        s->scan.found = 1;
    s->intended_ns = intended_ns;
    s->sent_ns = clock_monotonic_ns();
    if (s->intended_ns > s->sent_ns)
        s->intended_ns = s->sent_ns; /* the pacer woke a hair early: never a negative lag */
    atomic_fetch_add_explicit(&w->started, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->in_flight, 1, memory_order_relaxed);
    if (s->intended_ns >= e->measure_start_ns) {
        if (w->quota != UINT64_MAX)
            w->quota--;
        pthread_mutex_lock(&w->lock);
        w->measured_started++;
        struct interval_acc *a = engine_interval_at(w, s->sent_ns);
        if (a)
            a->started++;
        pthread_mutex_unlock(&w->lock);
    }
    if (s->render_failed || (!e->direct && configure_request(w, s))) {
        /* A rendered part outgrew its limit: the request cannot go out. */
        s->render_failed = 1;
        engine_record(w, s, 0, LG_ERR_OTHER, clock_monotonic_ns());
        engine_release_slot(w, s);
        return;
    }
    if (e->direct) {
        direct_start(w, s);
        return;
    }
    if (e->h2c_workaround) {
        s->h2c_opened = transport_h2c_begin(&w->h2c, s->easy);
        s->h2c_retried = 0;
    }
    curl_multi_add_handle(w->multi, s->easy);
}

void engine_release_slot(struct worker *w, struct slot *s)
{
    if (!w->e->direct && !s->render_failed) /* a direct slot's handle holds its connection */
        curl_multi_remove_handle(w->multi, s->easy);
    w->free_slots[s->group * w->capacity + w->nfree[s->group]++] = (unsigned)(s - w->slots);
    s->in_use = 0;
    w->active--;
    atomic_fetch_sub_explicit(&w->in_flight, 1, memory_order_relaxed);
}

static void finish_request(struct worker *w, struct slot *s, CURLcode rc, uint64_t done_ns)
{
    if (w->e->h2c_workaround &&
        transport_h2c_retry(&w->h2c, s->easy, s->h2c_opened, rc, &s->h2c_retried)) {
        curl_multi_remove_handle(w->multi, s->easy); /* again, on a new h2c connection */
        s->h2c_opened = transport_h2c_begin(&w->h2c, s->easy);
        curl_multi_add_handle(w->multi, s->easy);
        return;
    }
    long status = 0, connects = 0;
    curl_off_t up = 0;
    long head_size = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &head_size);
    curl_easy_getinfo(s->easy, CURLINFO_SIZE_UPLOAD_T, &up);
    s->new_connection = connects > 0;
    s->bytes_sent = (uint64_t)head_size + (uint64_t)up;
    const char *protocol = status ? transport_protocol_of(s->easy) : "";
    s->protocol = results_protocol_of(protocol);
    if (w->e->h2c_workaround)
        transport_h2c_end(&w->h2c, s->easy, s->h2c_opened);
    engine_complete(w, s, (int)status, error_kind_of(rc), done_ns);
    engine_release_slot(w, s);
}

static void collect_completions(struct worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        uint64_t done_ns = clock_monotonic_ns();
        struct slot *s;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (w->e->direct)
            direct_connected(w, s, msg->data.result);
        else
            finish_request(w, s, msg->data.result, done_ns);
    }
}

/* At the end of the drain: whatever is still in flight is cancelled (an "info" write). */
static void cancel_in_flight(struct worker *w)
{
    uint64_t now = clock_monotonic_ns();
    for (unsigned i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (!s->in_use)
            continue;
        engine_write_ledger(w, s, 0, now, 0);
        if (s->intended_ns >= w->e->measure_start_ns)
            w->measured_cancelled++;
        if (w->e->direct)
            direct_cancel(w, s);
        engine_release_slot(w, s);
    }
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int open_model(const struct worker *w)
{
    return w->e->cfg.model == LG_MODEL_OPEN;
}

static void start_due(struct worker *w, uint64_t now, uint64_t end)
{
    if (!open_model(w)) {
        while (can_start(w) && w->quota)
            start_request(w, clock_monotonic_ns());
        return;
    }
    while (can_start(w) && w->quota && w->pacer.next_ns <= now && w->pacer.next_ns < end) {
        start_request(w, w->pacer.next_ns);
        pacer_advance(&w->pacer);
    }
    if (now - w->backlog_checked_ns >= BACKLOG_EVERY_NS) {
        w->backlog_checked_ns = now;
        uint64_t due = pacer_count_due(&w->pacer, engine_min_u64(now + 1, end), 100000000);
        atomic_store_explicit(&w->backlog, due, memory_order_relaxed);
    }
}

static uint64_t next_wake(const struct worker *w, uint64_t now, uint64_t end, int ending)
{
    uint64_t wake = engine_min_u64(w->curl_deadline_ns, now + WAKE_MAX_NS);
    if (ending)
        return engine_min_u64(wake, end + w->e->drain_ns);
    if (!w->quota)
        return wake; /* -n reached: only answers to wait for */
    if (open_model(w) && can_start(w))
        wake = engine_min_u64(wake, w->pacer.next_ns);
    return engine_min_u64(wake, end);
}

static void wait_events(struct worker *w, uint64_t wake)
{
    struct epoll_event events[EPOLL_BATCH];
    /* A deadline a few microseconds away (libcurl's "run now" timer, set after `now` was read)
     * is due: sleeping for it would cost a context switch worth many requests. */
    uint64_t now = clock_monotonic_ns();
    uint64_t wait_ns = wake > now + SPIN_NS ? wake - now : 0;
    struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};
    int n = epoll_pwait2(w->epfd, events, EPOLL_BATCH, &ts, NULL);
    if (n < 0 && errno == ENOSYS) /* kernels before 5.11: millisecond sleeps */
        n = epoll_wait(w->epfd, events, EPOLL_BATCH, (int)((wait_ns + 999999) / 1000000));
    int running;
    for (int i = 0; i < n; i++) {
        if (events[i].data.u64 & DIRECT_TAG) {
            direct_event(w, &w->slots[events[i].data.u64 & ~DIRECT_TAG], events[i].events);
            continue;
        }
        int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(w->multi, (curl_socket_t)events[i].data.u64, flags, &running);
    }
    if (w->curl_deadline_ns <= clock_monotonic_ns()) {
        w->curl_deadline_ns = UINT64_MAX; /* libcurl sets a new one if it needs one */
        curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collect_completions(w);
}

static void count_not_started(struct worker *w, uint64_t end)
{
    if (!open_model(w))
        return;
    atomic_store(&w->backlog, 0);
    if (w->quota == 0 || end == UINT64_MAX)
        return; /* -n requests were all sent: none was left behind */
    uint64_t before = pacer_count_due(&w->pacer, w->e->measure_start_ns, UINT64_MAX);
    /* -n: never more than were left; the cap also bounds a Poisson stream's count */
    uint64_t cap = w->quota == UINT64_MAX ? UINT64_MAX : before + w->quota;
    uint64_t due = pacer_count_due(&w->pacer, end, cap);
    w->not_started = engine_min_u64(due - before, w->quota);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct engine *e = w->e;
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake for an arrival within microseconds, not 50 µs */
    /* Every thread starts at t0, so no request of the closed model precedes the measured
     * period (it would be taken for warm-up and left out of the counts). */
    struct timespec t0 = {(time_t)(e->t0_ns / 1000000000ull), (long)(e->t0_ns % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t0, NULL) == EINTR)
        ;
    w->looping = 1;
    for (;;) {
        uint64_t now = clock_monotonic_ns(), end = engine_run_end(e);
        int ending = now >= end;
        if (!ending && w->quota)
            start_due(w, now, end);
        else if (w->active == 0)
            break; /* the time is up, or -n requests were sent, and every answer came */
        else if (ending && now >= end + e->drain_ns) {
            cancel_in_flight(w);
            break;
        }
        wait_events(w, next_wake(w, now, end, ending));
        if (e->direct)
            direct_check_timeouts(w, clock_monotonic_ns());
    }
    w->looping = 0;
    count_not_started(w, engine_run_end(e));
    if (e->direct)
        for (unsigned i = 0; i < w->nslots; i++)
            direct_cancel(w, &w->slots[i]); /* close the connections now, in this thread */
    if (e->cfg.requests_out)
        requests_out_buf_close(&w->out);
    pthread_mutex_lock(&e->lock);
    if (atomic_fetch_sub(&e->workers_running, 1) == 1) {
        e->finished_ns = clock_monotonic_ns();
        pthread_cond_broadcast(&e->wake);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- the collector: one series row per second ------------------------------------------- */

struct fold_scratch {
    struct loghist corrected, service, lag;
};

static void fold_second(struct engine *e, int64_t k, struct fold_scratch *f, uint64_t in_flight,
                        uint64_t backlog)
{
    struct lg_interval row = {.t = (double)k, .in_flight = in_flight, .backlog = backlog};
    loghist_reset(&f->corrected);
    loghist_reset(&f->service);
    loghist_reset(&f->lag);
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        pthread_mutex_lock(&w->lock);
        struct interval_acc *a = &w->ring[k % INTERVAL_RING];
        if (a->second == k) {
            row.started += a->started;
            row.completed += a->completed;
            row.failed += a->failed;
            row.opened += a->opened;
            row.closed += a->closed;
            for (int c = 0; c < LG_CLASS_COUNT; c++)
                row.classes[c] += a->classes[c];
            loghist_merge(&f->corrected, &a->corrected);
            loghist_merge(&f->service, &a->service);
            loghist_merge(&f->lag, &a->lag);
            a->second = -1;
        }
        pthread_mutex_unlock(&w->lock);
    }
    if (e->cfg.model == LG_MODEL_OPEN) {
        double from = (double)(e->measure_start_ns - e->t0_ns) / 1e9 + (double)k;
        double due = pacer_count_at(&e->plan, from + 1) - pacer_count_at(&e->plan, from);
        row.target_rate = due / e->shards;
        row.scheduled = (uint64_t)llround(row.target_rate);
    }
    row.corrected_p50_ns = loghist_quantile(&f->corrected, 0.50);
    row.corrected_p90_ns = loghist_quantile(&f->corrected, 0.90);
    row.corrected_p99_ns = loghist_quantile(&f->corrected, 0.99);
    row.corrected_max_ns = f->corrected.max_ns;
    row.service_p99_ns = loghist_quantile(&f->service, 0.99);
    row.lag_p99_ns = loghist_quantile(&f->lag, 0.99);
    pthread_mutex_lock(&e->lock);
    results_append_interval(&e->series, &row);
    e->last_row = row;
    e->have_last_row = 1;
    pthread_mutex_unlock(&e->lock);
}

static void live_gauges(struct engine *e, uint64_t *in_flight, uint64_t *backlog)
{
    *in_flight = *backlog = 0;
    for (unsigned i = 0; i < e->nworkers; i++) {
        *in_flight += atomic_load_explicit(&e->workers[i].in_flight, memory_order_relaxed);
        *backlog += atomic_load_explicit(&e->workers[i].backlog, memory_order_relaxed);
    }
}

static void *collector_main(void *arg)
{
    struct engine *e = arg;
    struct fold_scratch *f = malloc(sizeof *f);
    if (!f) {
        atomic_store(&e->collector_failed, 1);
        return NULL;
    }
    uint64_t in_flight = 0, backlog = 0, prev_in_flight = 0, prev_backlog = 0;
    for (int64_t k = 0;; k++) {
        /* Second k is folded two seconds after it started; the gauges sampled at the end of
         * second k (one tick earlier) go with it. */
        uint64_t at = e->measure_start_ns + (uint64_t)(k + 2) * 1000000000ull;
        pthread_mutex_lock(&e->lock);
        int finished = 0;
        while (!(finished = atomic_load(&e->workers_running) == 0) && clock_monotonic_ns() < at) {
            uint64_t t = engine_min_u64(at, clock_monotonic_ns() + 100000000ull);
            struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
            pthread_cond_timedwait(&e->wake, &e->lock, &ts);
        }
        pthread_mutex_unlock(&e->lock);
        if (finished) {
            uint64_t end = engine_min_u64(e->finished_ns, engine_run_end(e));
            if (end <= e->measure_start_ns)
                break;
            int64_t last = (int64_t)((end - e->measure_start_ns - 1) / 1000000000ull);
            for (; k <= last; k++)
                fold_second(e, k, f, prev_in_flight, prev_backlog);
            break;
        }
        live_gauges(e, &in_flight, &backlog);
        fold_second(e, k, f, prev_in_flight, prev_backlog);
        prev_in_flight = in_flight;
        prev_backlog = backlog;
    }
    free(f);
    return NULL;
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int setup_easy(struct engine *e, struct slot *s, char *err, size_t errlen)
{
    s->easy = curl_easy_init();
    if (!s->easy) {
        snprintf(err, errlen, "libcurl could not create a transfer handle (out of memory)");
        return -1;
    }
    CURL *h = s->easy;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s->w);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, s->w);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(e->timeout_ns / 1000000));
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    transport_apply(&e->transport, h, e->timeout_ns);
    if (engine_wants_location(e)) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    }
    if (e->direct) {
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
        /* The direct path ends its own connections (--no-keepalive: after each answer); a
         * CONNECT_ONLY handle that forbade reuse would close the socket it hands over. */
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 0L);
    }
    s->fd = -1;
    s->conn_origin = NO_ORIGIN;
    workload_request_init(&s->req);
    buf_init(&s->url, URL_MAX);
    buf_init(&s->head, HEAD_MAX);
    return 0;
}

static void free_slot(struct slot *s)
{
    if (s->easy)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->curl_headers);
    workload_request_free(&s->req);
    buf_free(&s->url);
    buf_free(&s->head);
}

static unsigned share(unsigned total, unsigned parts, unsigned index)
{
    return total / parts + (index < total % parts ? 1 : 0);
}

static uint64_t share64(uint64_t total, unsigned parts, unsigned index)
{
    return total / parts + (index < total % parts ? 1 : 0);
}

static int setup_worker(struct engine *e, struct worker *w, unsigned index, unsigned capacity,
                        char *err, size_t errlen)
{
    w->e = e;
    w->index = index;
    w->epfd = -1;
    w->curl_deadline_ns = UINT64_MAX;
    atomic_init(&w->started, 0);
    atomic_init(&w->completed, 0);
    atomic_init(&w->errors, 0);
    atomic_init(&w->in_flight, 0);
    atomic_init(&w->backlog, 0);
    pthread_mutex_init(&w->lock, NULL);
    results_init(&w->results);
    if (workload_add_routes(&e->cfg.workload, &w->results)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->ring = calloc(INTERVAL_RING, sizeof *w->ring);
    w->capacity = capacity;
    w->groups = e->direct && e->norigins > 1 ? (unsigned)e->norigins : 1;
    unsigned nslots = capacity * w->groups;
    w->slots = calloc(nslots, sizeof *w->slots);
    w->free_slots = calloc(nslots, sizeof *w->free_slots);
    w->nfree = calloc(w->groups, sizeof *w->nfree);
    uint64_t seed = e->cfg.seed ? e->cfg.seed : clock_realtime_ns();
    seed ^= 0x9e3779b97f4a7c15ull * (index + 1 + (uint64_t)e->cfg.shard_index * 1000);
    workload_request_init(&w->spare);
    if (!w->ring || !w->slots || !w->free_slots || !w->nfree ||
        workload_state_init(&w->workload, &e->cfg.workload, index, e->nworkers, e->cfg.shard_index,
                            e->shards, seed)) {
        snprintf(err, errlen, "out of memory setting up %u slots", nslots);
        return -1;
    }
    /* Touch the ring now (calloc hands out untouched zero pages): faulting 2.6 MB in on the
     * first requests would delay them by milliseconds of page faults. */
    memset(w->ring, 0, INTERVAL_RING * sizeof *w->ring);
    for (unsigned r = 0; r < INTERVAL_RING; r++)
        w->ring[r].second = -1;
    w->nslots = nslots;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->multi = curl_multi_init();
    if (w->epfd < 0 || !w->multi) {
        snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    /* Each connection carries `streams` requests at once (1 unless HTTP/2 multiplexes);
     * libcurl's cache keeps that many connections for each server. */
    unsigned connections = (capacity + e->streams - 1) / e->streams;
    w->nconnections = w->h2c.want = connections;
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)(connections * e->norigins));
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)connections);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)e->streams);
    if (e->cfg.requests_out)
        requests_out_buf_init(&w->out, e->cfg.requests_out);
    for (unsigned i = 0; i < nslots; i++) {
        struct slot *s = &w->slots[i];
        s->w = w;
        s->group = i / capacity;
        if (setup_easy(e, s, err, errlen))
            return -1;
    }
    for (unsigned g = 0; g < w->groups; g++) /* the lowest slot of a group is taken first */
        for (unsigned k = capacity; k-- > 0;)
            w->free_slots[g * capacity + w->nfree[g]++] = g * capacity + k;
    return 0;
}

static void free_worker(struct worker *w)
{
    if (!w->e)
        return; /* never set up */
    for (unsigned i = 0; w->slots && i < w->nslots; i++)
        if (w->slots[i].easy)
            curl_multi_remove_handle(w->multi, w->slots[i].easy);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    for (unsigned i = 0; w->slots && i < w->nslots; i++)
        free_slot(&w->slots[i]);
    workload_request_free(&w->spare);
    requests_out_buf_close(&w->out);
    if (w->epfd >= 0)
        close(w->epfd);
    workload_state_free(&w->workload);
    results_free(&w->results);
    pthread_mutex_destroy(&w->lock);
    free(w->ring);
    free(w->slots);
    free(w->free_slots);
    free(w->nfree);
}

static int check_config(const struct engine_config *c, char *err, size_t errlen)
{
    int url_optional = c->workload.targets_path || (c->workload.targets && !c->workload.raw);
    if (!(url_optional && !c->url) &&
        (!c->url || (strncasecmp(c->url, "http://", 7) && strncasecmp(c->url, "https://", 8)))) {
        snprintf(err, errlen, "the target %s is not an http:// or https:// URL",
                 c->url ? c->url : "(none)");
        return -1;
    }
    if (c->url && strlen(c->url) > BASE_URL_MAX) {
        snprintf(err, errlen, "the target URL is longer than %d characters", BASE_URL_MAX);
        return -1;
    }
    if (c->model == LG_MODEL_OPEN && c->rate <= 0 && c->nstages == 0) {
        snprintf(err, errlen, "the open model needs --rate or --stages");
        return -1;
    }
    if (c->shard_count > 1 && c->shard_index >= c->shard_count) {
        snprintf(err, errlen, "--shard %u/%u: the index must be below the count",
                 c->shard_index + 1, c->shard_count);
        return -1;
    }
    return 0;
}

static int build_plan(struct engine *e, char *err, size_t errlen)
{
    double len[ENGINE_MAX_STAGES], rate[ENGINE_MAX_STAGES];
    uint64_t staged_ns = 0;
    for (size_t i = 0; i < e->cfg.nstages; i++) {
        len[i] = (double)e->cfg.stages[i].duration_ns / 1e9;
        rate[i] = e->cfg.stages[i].rate;
        staged_ns += e->cfg.stages[i].duration_ns;
    }
    if (e->cfg.model == LG_MODEL_OPEN && e->cfg.nstages && !e->cfg.duration_ns)
        e->cfg.duration_ns = staged_ns;
    if (pacer_plan_init(&e->plan, e->cfg.rate, (double)e->cfg.warmup_ns / 1e9, len, rate,
                        e->cfg.nstages)) {
        snprintf(err, errlen, "too many stages (at most %d)", ENGINE_MAX_STAGES);
        return -1;
    }
    return 0;
}

static int add_origin(struct engine *e, const char *url, size_t url_len, const char *authority,
                      size_t authority_len)
{
    struct origin *o = &e->origins[e->norigins];
    o->url = malloc(url_len + 1);
    o->authority = malloc(authority_len + 1);
    if (!o->url || !o->authority) {
        free(o->url);
        free(o->authority);
        return -1;
    }
    memcpy(o->url, url, url_len);
    o->url[url_len] = '\0';
    memcpy(o->authority, authority, authority_len);
    o->authority[authority_len] = '\0';
    e->norigins++;
    return 0;
}

/* Where requests go: the targets' origins, or the task mix's base URL (whose path, if any, is
 * a prefix of every request-target: e->path_prefix). */
static int build_origins(struct engine *e, char *err, size_t errlen)
{
    const struct target_set *set = e->cfg.workload.targets;
    size_t n = set ? set->norigins : 1;
    e->origins = calloc(n, sizeof *e->origins);
    if (!e->origins)
        goto nomem;
    if (set) {
        for (size_t o = 0; o < set->norigins; o++) {
            const struct target *t = NULL;
            for (size_t i = 0; i < set->n && !t; i++)
                if (set->items[i].origin_index == o)
                    t = &set->items[i];
            if (add_origin(e, t->origin, strlen(t->origin), t->authority, strlen(t->authority)))
                goto nomem;
        }
        return 0;
    }
    const char *url = e->cfg.url;
    size_t scheme = strncasecmp(url, "https://", 8) ? 7 : 8;
    size_t alen = strcspn(url + scheme, "/?#");
    if (add_origin(e, url, scheme + alen, url + scheme, alen))
        goto nomem;
    const char *prefix = url + scheme + alen;
    size_t plen = strcspn(prefix, "?#");
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    e->path_prefix = malloc(plen + 1);
    if (!e->path_prefix)
        goto nomem;
    memcpy(e->path_prefix, prefix, plen);
    e->path_prefix[plen] = '\0';
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The workload: prepared here when the caller did not, and its routes named. */
static int setup_workload(struct engine *e, char *err, size_t errlen)
{
    struct workload_config *wl = &e->cfg.workload;
    if (!wl->targets && workload_is_targets(wl)) {
        if (workload_prepare(wl, e->cfg.url, e->cfg.shard_index, e->shards, err, errlen))
            return -1;
        e->prepared_workload = 1;
    }
    if (wl->targets && e->cfg.ledger) {
        int roles = 0;
        for (size_t i = 0; i < wl->targets->n; i++) {
            roles |= wl->targets->items[i].ledger != TARGET_LEDGER_NONE;
            e->ledger_creates |= wl->targets->items[i].ledger == TARGET_LEDGER_CREATE;
        }
        if (!roles) {
            snprintf(err, errlen,
                     "the ledger records writes: give a target a ledger role (# @ledger create, "
                     "update or delete; \"ledger\" in JSON lines)");
            return -1;
        }
    }
    if (workload_add_routes(wl, &e->routes) || client_metrics_init(&e->metrics, &e->routes)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return build_origins(e, err, errlen);
}

static int setup_workers(struct engine *e, char *err, size_t errlen)
{
    unsigned threads = e->cfg.threads ? e->cfg.threads : 1;
    unsigned total_slots;
    if (e->cfg.model == LG_MODEL_CLOSED) {
        unsigned conns = e->cfg.connections ? e->cfg.connections : 16;
        total_slots = e->shards > 1 ? share(conns, e->shards, e->cfg.shard_index) : conns;
        total_slots *= e->streams; /* closed model: every stream of every connection is busy */
    } else {
        total_slots = e->cfg.max_inflight  ? e->cfg.max_inflight
                      : e->cfg.connections ? e->cfg.connections
                                           : DEFAULT_OPEN_INFLIGHT;
    }
    if (total_slots == 0) {
        snprintf(err, errlen, "no connections left for shard %u/%u", e->cfg.shard_index + 1,
                 e->shards);
        return -1;
    }
    if (threads > total_slots)
        threads = total_slots;
    e->workers = calloc(threads, sizeof *e->workers);
    if (!e->workers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->nworkers = threads;
    for (unsigned i = 0; i < threads; i++)
        if (setup_worker(e, &e->workers[i], i, share(total_slots, threads, i), err, errlen))
            return -1;
    return 0;
}

/* All streams share t0, a little ahead so every thread is up before the first arrival; with a
 * start time, t0 is that wall-clock instant, read on the monotonic clock from now on. */
static int set_t0(struct engine *e, char *err, size_t errlen)
{
    uint64_t mono = clock_monotonic_ns(), real = clock_realtime_ns();
    if (!e->cfg.start_unix_ns) {
        e->t0_ns = mono + T0_LEAD_NS;
        e->unix_at_t0_ns = real + T0_LEAD_NS;
        return 0;
    }
    if (e->cfg.start_unix_ns < real + T0_LEAD_NS) {
        char when[CLOCK_RFC3339_LEN];
        clock_format_rfc3339(e->cfg.start_unix_ns, when);
        snprintf(err, errlen,
                 "the start time %s has passed (%.3f s ago): this process started too late to "
                 "join the schedule; give the processes more time to start",
                 when, (double)(real - e->cfg.start_unix_ns) / 1e9);
        return -1;
    }
    e->t0_ns = mono + (e->cfg.start_unix_ns - real);
    e->unix_at_t0_ns = e->cfg.start_unix_ns;
    return 0;
}

int engine_start(struct engine **out, const struct engine_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (check_config(cfg, err, errlen))
        return -1;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        snprintf(err, errlen, "libcurl failed to initialise: %s",
                 curl_easy_strerror(curl_init_result));
        return -1;
    }
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cfg = *cfg;
    e->cfg.workload.mix_seed = cfg->seed; /* the same in every shard: not the clock */
    e->shards = cfg->shard_count > 1 ? cfg->shard_count : 1;
    e->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : DEFAULT_TIMEOUT_NS;
    e->drain_ns = engine_min_u64(e->timeout_ns, DRAIN_MAX_NS);
    atomic_init(&e->stop_ns, UINT64_MAX);
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &attr);
    pthread_condattr_destroy(&attr);
    results_init(&e->series);
    results_init(&e->routes);
    if (transport_init(&e->transport, &cfg->transport, err, errlen) ||
        setup_workload(e, err, errlen) || build_plan(e, err, errlen))
        goto fail;
    e->streams = transport_multiplexed(&cfg->transport) ? cfg->transport.streams : 1;
    e->h2c_workaround = transport_h2c_workaround(&e->transport, cfg->url);
    e->close_connections = cfg->transport.no_keepalive;
    e->direct = direct_usable(e);
    if ((e->direct && direct_prepare(e, err, errlen)) || setup_workers(e, err, errlen))
        goto fail;
    if (set_t0(e, err, errlen))
        goto fail;
    e->measure_start_ns = e->t0_ns + cfg->warmup_ns;
    e->end_ns = e->cfg.duration_ns ? e->measure_start_ns + e->cfg.duration_ns : UINT64_MAX;
    unsigned stride = e->nworkers * e->shards;
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        unsigned offset = cfg->shard_index + e->shards * i;
        pacer_init(&w->pacer, &e->plan, e->t0_ns, offset, stride, cfg->poisson,
                   (cfg->seed ? cfg->seed : clock_realtime_ns()) * 2654435761u + i + 1);
        /* -n: this stream's share of the requests (shards and threads split them as they
         * split a rate). */
        w->quota = cfg->requests ? share64(cfg->requests, stride, offset) : UINT64_MAX;
    }
    atomic_init(&e->workers_running, e->nworkers);
    for (unsigned i = 0; i < e->nworkers; i++) {
        if (pthread_create(&e->workers[i].thread, NULL, worker_main, &e->workers[i])) {
            snprintf(err, errlen, "cannot start thread %u: %s", i, strerror(errno));
            atomic_store(&e->stop_ns, 0);
            atomic_fetch_sub(&e->workers_running, e->nworkers - i);
            goto fail_running;
        }
        e->workers[i].thread_started = 1;
    }
    if (pthread_create(&e->collector, NULL, collector_main, e) == 0)
        e->collector_started = 1;
    else
        atomic_store(&e->collector_failed, 1); /* the load runs; engine_wait reports it */
    *out = e;
    return 0;
fail_running:
    for (unsigned i = 0; i < e->nworkers; i++)
        if (e->workers[i].thread_started)
            pthread_join(e->workers[i].thread, NULL);
fail:
    engine_free(e);
    return -1;
}

/* ---- live view and results ---------------------------------------------------------------- */

void engine_live(struct engine *e, struct engine_live *out)
{
    memset(out, 0, sizeof *out);
    uint64_t now = clock_monotonic_ns();
    out->elapsed_s = now > e->t0_ns ? (double)(now - e->t0_ns) / 1e9 : 0;
    uint64_t end = engine_run_end(e);
    out->remaining_s = end == UINT64_MAX ? -1 : end > now ? (double)(end - now) / 1e9 : 0;
    out->warming_up = now < e->measure_start_ns;
    if (e->cfg.model == LG_MODEL_OPEN && now < end)
        out->target_rate = pacer_rate_at(&e->plan, out->elapsed_s) / e->shards;
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        out->started += atomic_load_explicit(&w->started, memory_order_relaxed);
        out->completed += atomic_load_explicit(&w->completed, memory_order_relaxed);
        out->errors += atomic_load_explicit(&w->errors, memory_order_relaxed);
        out->connections_opened += atomic_load_explicit(&w->opened, memory_order_relaxed);
        out->connections_closed += atomic_load_explicit(&w->closed, memory_order_relaxed);
    }
    live_gauges(e, &out->in_flight, &out->backlog);
    pthread_mutex_lock(&e->lock);
    if (e->have_last_row) {
        out->last_second_p99_ns = e->last_row.corrected_p99_ns;
        out->last_second_rate = (double)e->last_row.completed;
    }
    pthread_mutex_unlock(&e->lock);
}

size_t engine_series(struct engine *e, size_t from, struct lg_interval *rows, size_t max)
{
    pthread_mutex_lock(&e->lock);
    size_t n = 0;
    for (size_t i = from; i < e->series.series_len && n < max; i++)
        rows[n++] = e->series.series[i];
    pthread_mutex_unlock(&e->lock);
    return n;
}

void engine_write_metrics(struct engine *e, struct buf *out)
{
    struct engine_live live;
    engine_live(e, &live);
    struct client_gauges g = {.target_rate = live.target_rate,
                              .achieved_rate = live.last_second_rate,
                              .in_flight = live.in_flight,
                              .backlog = live.backlog};
    for (unsigned i = 0; i < e->nworkers; i++)
        g.not_started += e->workers[i].not_started; /* known once a worker ended */
    client_metrics_render(&e->metrics, &g, out);
}

int engine_finished(struct engine *e)
{
    return atomic_load(&e->workers_running) == 0;
}

void engine_stop(struct engine *e)
{
    uint64_t now = clock_monotonic_ns(), expected = UINT64_MAX;
    atomic_compare_exchange_strong(&e->stop_ns, &expected, now);
}

int engine_direct_path(const struct engine *e)
{
    return e->direct;
}

int engine_wait(struct engine *e, struct lg_results *out, char *err, size_t errlen)
{
    results_init(out);
    if (workload_add_routes(&e->cfg.workload, out)) { /* every route, in order, even unused */
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < e->nworkers; i++)
        if (e->workers[i].thread_started) {
            pthread_join(e->workers[i].thread, NULL);
            e->workers[i].thread_started = 0;
        }
    if (e->collector_started) {
        pthread_join(e->collector, NULL);
        e->collector_started = 0;
    }
    if (atomic_load(&e->collector_failed)) {
        snprintf(err, errlen,
                 "the per-second series could not be collected (out of memory or "
                 "threads)");
        return -1;
    }
    uint64_t end = engine_run_end(e);
    if (end == UINT64_MAX)
        end = e->finished_ns;
    uint64_t connections = 0;
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        /* closed model: connections (each carrying `streams` requests); open: in flight */
        connections += e->cfg.model == LG_MODEL_CLOSED ? w->nconnections : w->capacity;
        if (results_merge(out, &w->results)) {
            snprintf(err, errlen, "out of memory merging the results");
            return -1;
        }
    }
    /* The run's own description, set after the merge (which treats inputs as separate runs). */
    out->model = e->cfg.model;
    out->threads = e->nworkers;
    out->connections = connections;
    out->runs = 1;
    out->start_unix_ns = engine_unix_ns(e, e->measure_start_ns);
    out->duration_ns = end > e->measure_start_ns ? end - e->measure_start_ns : 0;
    out->started = out->cancelled = out->not_started = 0;
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        out->started += w->measured_started;
        out->cancelled += w->measured_cancelled;
        out->not_started += w->not_started;
    }
    if (e->cfg.model == LG_MODEL_OPEN) {
        out->scheduled = out->started + out->not_started;
        double from = (double)(e->measure_start_ns - e->t0_ns) / 1e9;
        double to = from + (double)out->duration_ns / 1e9;
        double due = pacer_count_at(&e->plan, to) - pacer_count_at(&e->plan, from);
        out->target_rate =
            out->duration_ns ? due / e->shards / ((double)out->duration_ns / 1e9) : 0;
    }
    for (size_t i = 0; i < e->series.series_len; i++)
        if (results_append_interval(out, &e->series.series[i])) {
            snprintf(err, errlen, "out of memory copying the series");
            return -1;
        }
    return 0;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    if (e->workers) {
        engine_stop(e);
        for (unsigned i = 0; i < e->nworkers; i++)
            if (e->workers[i].thread_started)
                pthread_join(e->workers[i].thread, NULL);
        if (e->collector_started)
            pthread_join(e->collector, NULL);
        for (unsigned i = 0; i < e->nworkers; i++)
            free_worker(&e->workers[i]);
        free(e->workers);
    }
    direct_free(e);
    transport_free(&e->transport);
    for (size_t o = 0; o < e->norigins; o++) {
        free(e->origins[o].url);
        free(e->origins[o].authority);
    }
    free(e->origins);
    free(e->path_prefix);
    client_metrics_free(&e->metrics);
    results_free(&e->series);
    results_free(&e->routes);
    if (e->prepared_workload)
        workload_release(&e->cfg.workload);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->wake);
    free(e);
}
