/*
 * engine_record: what the engine notes about each finished request and each connection — the
 * results and the per-second ring (under the worker's lock, for the collector), loadgen's own
 * metrics, the ledger of writes (the task mix's, and targets with a ledger role), and
 * --requests-out.
 *
 * Both request paths end here: a libcurl transfer (engine.c) and a direct request
 * (engine_direct.c) call engine_record() with the status or the transport error, and the
 * verdict of the success rule is taken here, once, from the workload.
 */
#include <stdatomic.h>
#include <string.h>

#include "clock.h"
#include "engine_internal.h"
#include "id_template.h"
#include "ledger.h"

uint64_t engine_run_end(const struct engine *e)
{
    return engine_min_u64(e->end_ns, atomic_load(&((struct engine *)e)->stop_ns));
}

uint64_t engine_unix_ns(const struct engine *e, uint64_t mono_ns)
{
    return e->unix_at_t0_ns + (mono_ns - e->t0_ns);
}

struct interval_acc *engine_interval_at(struct worker *w, uint64_t mono_ns)
{
    const struct engine *e = w->e;
    if (mono_ns < e->measure_start_ns)
        return NULL;
    /* Answers that arrive while the run drains count in its last second, so the series has
     * exactly one row per second of the measured period. */
    uint64_t end = engine_run_end(e);
    if (mono_ns >= end && end > e->measure_start_ns)
        mono_ns = end - 1;
    int64_t second = (int64_t)((mono_ns - e->measure_start_ns) / 1000000000ull);
    struct interval_acc *a = &w->ring[second % INTERVAL_RING];
    if (a->second != second) {
        a->second = second;
        a->started = a->completed = a->failed = a->opened = a->closed = 0;
        memset(a->classes, 0, sizeof a->classes);
        loghist_reset(&a->corrected);
        loghist_reset(&a->service);
        loghist_reset(&a->lag);
    }
    return a;
}

/* ---- the body ---------------------------------------------------------------------------- */

void engine_on_body(void *slot, const char *data, size_t n)
{
    struct slot *s = slot;
    if (s->keep_body && s->response_len < RESPONSE_KEEP) {
        size_t keep = engine_min_u64(n, RESPONSE_KEEP - s->response_len);
        memcpy(s->response + s->response_len, data, keep);
        s->response_len += keep;
    }
    if (!s->scan.found)
        expect_scan_feed(&s->scan, data, n);
}

int engine_wants_location(const struct engine *e)
{
    const struct resource_api *api = e->cfg.workload.api;
    if (!api || api->id_source != RESOURCE_ID_LOCATION)
        return 0;
    return !workload_is_targets(&e->cfg.workload) || (e->cfg.ledger && e->ledger_creates);
}

void engine_on_location(struct slot *s, const char *value, size_t n)
{
    size_t keep = engine_min_u64(n, LOCATION_KEEP - 1);
    memcpy(s->location, value, keep);
    s->location[keep] = '\0';
}

/* ---- connections ------------------------------------------------------------------------ */

/* A connection opened (closed: opened = 0) on this worker: live counters always, the results
 * and the series when it happens in the measured period of the loop. */
void engine_connection_event(struct worker *w, int opened)
{
    atomic_fetch_add_explicit(opened ? &w->opened : &w->closed, 1, memory_order_relaxed);
    if (w->e->h2c_workaround)
        transport_h2c_connection(&w->h2c, opened);
    client_metrics_connection(&w->e->metrics, opened);
    if (!w->looping)
        return;
    uint64_t now = clock_monotonic_ns();
    if (now < w->e->measure_start_ns || now >= engine_run_end(w->e))
        return;
    pthread_mutex_lock(&w->lock);
    struct interval_acc *a = engine_interval_at(w, now);
    if (opened) {
        w->results.connections_opened++;
        a->opened++;
    } else {
        w->results.connections_closed++;
        a->closed++;
    }
    pthread_mutex_unlock(&w->lock);
}

/* ---- the ledger ------------------------------------------------------------------------- */

#define TARGET_LEDGER_TEXT_MAX 8192 /* the text a write set, as the ledger keeps it */

/* A target with a ledger role: its write as the ledger records it. The id of a create comes
 * from the answer (the API model's Location or JSON Pointer), that of an update or delete from
 * the request's URL read against the model's item URL; the text and done from the request's
 * body. Without an id the entry still counts (the audit reports it among the writes). */
static void write_target_ledger(struct worker *w, const struct slot *s, int status,
                                uint64_t done_ns)
{
    const struct engine *e = w->e;
    const struct workload_request *r = &s->req;
    const struct resource_api *api = w->workload.api;
    static const enum ledger_op ops[] = {[TARGET_LEDGER_CREATE] = LEDGER_CREATE,
                                         [TARGET_LEDGER_UPDATE] = LEDGER_UPDATE,
                                         [TARGET_LEDGER_DELETE] = LEDGER_DELETE};
    enum ledger_op op = ops[r->target->ledger];
    char id[LEDGER_ID_MAX] = "", text[TARGET_LEDGER_TEXT_MAX];
    if (op == LEDGER_CREATE) {
        if (status >= 200 && status < 300 &&
            resource_api_created_id(api, s->location[0] ? s->location : NULL, s->response,
                                    s->response_len, id, sizeof id) < 0)
            id[0] = '\0';
    } else if (r->path_len < URL_MAX) {
        char path[URL_MAX];
        memcpy(path, r->path, r->path_len);
        path[r->path_len] = '\0';
        if (id_template_match(api->item_url, path, id, sizeof id) < 0)
            id[0] = '\0';
    }
    int has_text = 0, done = 0, has_done = 0;
    if (op != LEDGER_DELETE && r->has_body &&
        resource_api_written(api, r->body, r->body_len, text, sizeof text, &has_text, &done,
                             &has_done))
        has_text = has_done = 0;
    struct ledger_entry entry = {
        .op = op,
        .outcome = status >= 200 && status < 300 ? LEDGER_OK
                   : status                      ? LEDGER_FAIL
                                                 : LEDGER_INFO,
        .status = status,
        .id = id,
        .task = has_text ? text : NULL,
        .done = has_done ? done : -1,
        .invoke_unix_ns = engine_unix_ns(e, s->sent_ns),
        .complete_unix_ns = engine_unix_ns(e, done_ns),
        .target = r->target->name,
    };
    ledger_append(e->cfg.ledger, &entry);
}

void engine_write_ledger(struct worker *w, const struct slot *s, int status, uint64_t done_ns,
                         const char *created_id)
{
    const struct engine *e = w->e;
    const struct workload_request *r = &s->req;
    if (!e->cfg.ledger || r->missing)
        return;
    if (r->target) {
        if (r->target->ledger != TARGET_LEDGER_NONE && !s->render_failed)
            write_target_ledger(w, s, status, done_ns);
        return;
    }
    enum ledger_op op;
    switch (r->route) {
    case LG_ROUTE_CREATE:
        op = LEDGER_CREATE;
        break;
    case LG_ROUTE_UPDATE:
        op = LEDGER_UPDATE;
        break;
    case LG_ROUTE_DELETE:
        op = LEDGER_DELETE;
        break;
    default:
        return;
    }
    struct ledger_entry entry = {
        .op = op,
        .outcome = status >= 200 && status < 300 ? LEDGER_OK
                   : status                      ? LEDGER_FAIL
                                                 : LEDGER_INFO,
        .status = status,
        .id = op == LEDGER_CREATE ? created_id : r->id,
        .task = op == LEDGER_DELETE ? NULL : r->task,
        .done = r->done,
        .invoke_unix_ns = engine_unix_ns(e, s->sent_ns),
        .complete_unix_ns = engine_unix_ns(e, done_ns),
    };
    ledger_append(e->cfg.ledger, &entry);
}

/* ---- requests-out ----------------------------------------------------------------------- */

static const char *failure_name(int status, enum lg_error_kind err, enum lg_verdict verdict)
{
    if (!status)
        return results_error_name(err);
    if (verdict == LG_VERDICT_STATUS)
        return "unexpected_status";
    if (verdict == LG_VERDICT_BODY)
        return "body_mismatch";
    return NULL;
}

static void write_request_record(struct worker *w, const struct slot *s, int status,
                                 enum lg_error_kind err, enum lg_verdict verdict, uint64_t done_ns)
{
    const struct engine *e = w->e;
    struct request_record rec = {
        .target = e->routes.routes[s->req.route].name,
        .method = s->req.method ? s->req.method : "",
        .intended_unix_ns = engine_unix_ns(e, s->intended_ns),
        .sent_unix_ns = engine_unix_ns(e, s->sent_ns),
        .done_unix_ns = engine_unix_ns(e, done_ns),
        .status = status,
        .error = failure_name(status, err, verdict),
        .bytes_sent = s->bytes_sent,
        .bytes_received = s->response_bytes,
        .new_connection = s->new_connection,
        .first_byte_us = s->first_byte_ns ? (int64_t)((s->first_byte_ns - s->sent_ns) / 1000) : -1,
        .dns_us = -1,
        .connect_us = -1,
        .tls_us = -1,
        .warmup = s->intended_ns < e->measure_start_ns,
        .thread = w->index,
    };
    if (!e->direct && s->easy) { /* libcurl's phases, from the transfer's start */
        curl_off_t dns = 0, connect = 0, tls = 0, first = 0;
        curl_easy_getinfo(s->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
        curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &connect);
        curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
        curl_easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
        rec.dns_us = dns;
        rec.connect_us = connect;
        rec.tls_us = tls;
        if (status && first > 0)
            rec.first_byte_us = first;
    }
    requests_out_add(&w->out, &rec);
}

/* ---- a finished request ----------------------------------------------------------------- */

void engine_record(struct worker *w, struct slot *s, int status, enum lg_error_kind err,
                   uint64_t done_ns)
{
    struct engine *e = w->e;
    uint64_t corrected = done_ns - s->intended_ns, service = done_ns - s->sent_ns;
    uint64_t lag = s->sent_ns - s->intended_ns;
    enum lg_class c = status ? results_class_of(status) : LG_CLASS_ERROR;
    enum lg_verdict verdict = status && !s->render_failed
                                  ? workload_verdict(&s->req, status, s->scan.found)
                                  : LG_VERDICT_OK;
    int failed = c == LG_CLASS_ERROR || verdict != LG_VERDICT_OK;
    client_metrics_record(&e->metrics, s->req.route, c, err, failed ? verdict : LG_VERDICT_OK,
                          corrected, service, lag);
    atomic_fetch_add_explicit(&w->completed, 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&w->errors, 1, memory_order_relaxed);
    if (e->cfg.requests_out)
        write_request_record(w, s, status, err, verdict, done_ns);
    if (s->intended_ns < e->measure_start_ns)
        return; /* warm-up */
    pthread_mutex_lock(&w->lock);
    results_record(&w->results, s->req.route, status, err, verdict, corrected, service, lag);
    w->results.completed++;
    if (status)
        w->results.protocols[s->protocol]++;
    w->results.bytes_received += s->response_bytes;
    struct interval_acc *a = engine_interval_at(w, done_ns);
    if (a) {
        a->completed++;
        a->failed += failed;
        a->classes[c]++;
        loghist_record(&a->corrected, corrected);
        loghist_record(&a->service, service);
        loghist_record(&a->lag, lag);
    }
    pthread_mutex_unlock(&w->lock);
}

void engine_complete(struct worker *w, struct slot *s, int status, enum lg_error_kind err,
                     uint64_t done_ns)
{
    struct workload_answer answer = {status, s->location[0] ? s->location : NULL, s->response,
                                     s->response_len};
    char created[LEDGER_ID_MAX];
    workload_complete(&w->workload, &s->req, &answer, created, sizeof created);
    engine_write_ledger(w, s, status, done_ns, created);
    engine_record(w, s, status, err, done_ns);
}
