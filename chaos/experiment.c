/*
 * experiment: the lifecycle of one experiment (see experiment.h). One `struct run` holds what
 * the phases share; each phase is a function that reads and fills it, and every phase after the
 * injection is reached on every path, so the rollback and the teardown cannot be skipped.
 */
#include "experiment.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "engine.h"
#include "faults.h"
#include "ledger.h"
#include "taskd_runner.h"
#include "webhook.h"

#define MARKER ".chaos-experiment"
#define ALERT_POLL_NS 500000000ull
#define MAX_WEBHOOK_BATCH 256
#define LOAD_TIMEOUT_S 2.0 /* per request: a fail-closed service answers well within it */
#define STEADY_EXTRA_NS 2000000000ull /* how long the steady state may wait for a full second */

struct run {
    const struct scenario *sc;
    const struct experiment_options *o;
    struct experiment_result *res;
    struct taskd_runner taskd;
    struct fault_state fault;
    struct engine *engine;
    struct ledger *ledger;
    char ledger_path[600];
    char run_tag[48];
    uint64_t t0; /* monotonic ns at the start */
    uint64_t fault_begin_unix, fault_end_unix;
    double errors_at_injection; /* error-code counter just before the injection */
    uint64_t next_alert_poll;
    size_t webhook_from;
};

const char *experiment_status_name(enum experiment_status s)
{
    static const char *const names[] = {"passed", "deviated", "aborted", "skipped", "error"};
    return s <= EXPERIMENT_ERROR ? names[s] : "unknown";
}

void experiment_options_default(struct experiment_options *o)
{
    memset(o, 0, sizeof(*o));
    o->rate = 200;
    o->steady_ns = 3000000000ull;
    o->fault_ns = 5000000000ull;
    o->recover_timeout_ns = 10000000000ull;
    o->probe_interval_ns = 100000000ull;
    o->alert_timeout_ns = 120000000000ull;
    o->max_error_ratio = 0.01;
    o->max_p99_ns = 250000000ull;
}

static double now_s(const struct run *r)
{
    return (double)(clock_monotonic_ns() - r->t0) / 1e9;
}

static int interrupted(const struct run *r)
{
    return r->o->interrupted && *r->o->interrupted;
}

static void progress(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void progress(const struct run *r, const char *fmt, ...)
{
    if (!r->o->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chaos: %s: %6.2fs ", r->sc->name, r->t0 ? now_s(r) : 0.0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* snprintf for messages, where a cut is acceptable (paths are checked where they are made). */
static void say(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void add_check(struct experiment_result *res, const char *name, int passed, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

static void add_check(struct experiment_result *res, const char *name, int passed, const char *fmt,
                      ...)
{
    if (res->nchecks == EXPERIMENT_MAX_CHECKS)
        return;
    struct experiment_check *c = &res->checks[res->nchecks++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->passed = passed;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
}

/* ---- the experiment's directory ------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* A fresh directory work/SCENARIO. An old one is removed only when chaos made it (marker). */
static int make_dir(struct run *r, char *err, size_t errlen)
{
    struct experiment_result *res = r->res;
    if ((size_t)snprintf(res->dir, sizeof(res->dir), "%s/%s", r->o->work_dir, r->sc->name) >=
        sizeof(res->dir)) {
        say(err, errlen, "the work directory path %s is too long", r->o->work_dir);
        return -1;
    }
    if (faults_check_under(r->o->work_dir, res->dir, err, errlen) < 0)
        return -1;
    char marker[600], data[600];
    snprintf(marker, sizeof(marker), "%s/%s", res->dir, MARKER);
    struct stat st;
    if (lstat(res->dir, &st) == 0) {
        if (access(marker, F_OK) != 0) {
            say(err, errlen,
                "%s exists and was not made by chaos (no %s in it); remove it "
                "or choose another --work-dir",
                res->dir, MARKER);
            return -1;
        }
        /* A mount left by a crashed run in the shared namespace must go before the files. */
        snprintf(data, sizeof(data), "%s/data", res->dir);
        umount2(data, MNT_DETACH);
        if (nftw(res->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0) {
            snprintf(err, errlen, "cannot remove the previous run's %s: %s", res->dir,
                     strerror(errno));
            return -1;
        }
    }
    if (mkdir(res->dir, 0755) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", res->dir, strerror(errno));
        return -1;
    }
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        say(err, errlen, "cannot create %s: %s", marker, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static const char *db_path_for(const struct experiment_options *o, const char *dir, char *out,
                               size_t cap)
{
    if (o->target_url)
        return o->target_db;
    if ((size_t)snprintf(out, cap, "%s/data/tasks.db", dir) >= cap)
        return NULL;
    return out;
}

/* ---- probes -------------------------------------------------------------------------------- */

static int is_detected(const struct run *r, const struct probe_sample *s)
{
    const struct scenario_expect *x = &r->sc->expect;
    if (x->detect == DETECT_WAL_BACK)
        return s->wal_present == 1;
    return s->readyz != 200 || s->db_up == 0 ||
           (x->file_state && strcmp(s->file_state, x->file_state) == 0);
}

static void note_state(struct experiment_result *res, const char *state)
{
    if (!*state || strcmp(state, "ok") == 0)
        return;
    for (size_t i = 0; i < res->nstates; i++) {
        if (strcmp(res->states_seen[i], state) == 0)
            return;
    }
    if (res->nstates < EXPERIMENT_MAX_STATES)
        snprintf(res->states_seen[res->nstates++], PROBES_STATE_LEN, "%s", state);
}

static struct experiment_alert *alert_slot(struct experiment_result *res, const char *name)
{
    for (size_t i = 0; i < res->nalerts; i++) {
        if (strcmp(res->alerts[i].name, name) == 0)
            return &res->alerts[i];
    }
    if (res->nalerts == EXPERIMENT_MAX_ALERTS)
        return NULL;
    struct experiment_alert *a = &res->alerts[res->nalerts++];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->prom_pending_s = a->prom_firing_s = a->prom_resolved_s = -1;
    a->am_active_s = a->am_resolved_s = a->hook_firing_s = a->hook_resolved_s = -1;
    return a;
}

static int listed(const struct probe_alert *list, size_t n, const char *name, const char *state)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].name, name) == 0 && (!state || strcmp(list[i].state, state) == 0))
            return 1;
    }
    return 0;
}

/* One poll of Prometheus, Alertmanager and the webhook events: first sightings and ends. */
static void poll_alerts(struct run *r)
{
    struct experiment_result *res = r->res;
    double t = now_s(r);
    struct probe_alert list[64];
    size_t n;
    char err[300];
    if (r->o->prometheus_url) {
        if (probes_prometheus_alerts(r->o->prometheus_url, list, 64, &n, err, sizeof(err)) < 0)
            snprintf(res->alerts_error, sizeof(res->alerts_error), "%s", err);
        else {
            for (size_t i = 0; i < n; i++) {
                struct experiment_alert *a = alert_slot(res, list[i].name);
                if (a && a->prom_pending_s < 0)
                    a->prom_pending_s = t;
                if (a && a->prom_firing_s < 0 && strcmp(list[i].state, "firing") == 0)
                    a->prom_firing_s = t;
            }
            for (size_t i = 0; i < res->nalerts; i++) {
                struct experiment_alert *a = &res->alerts[i];
                if (a->prom_firing_s >= 0 && a->prom_resolved_s < 0 &&
                    !listed(list, n, a->name, NULL))
                    a->prom_resolved_s = t;
            }
        }
    }
    if (r->o->alertmanager_url) {
        if (probes_alertmanager_alerts(r->o->alertmanager_url, list, 64, &n, err, sizeof(err)) < 0)
            snprintf(res->alerts_error, sizeof(res->alerts_error), "%s", err);
        else {
            for (size_t i = 0; i < n; i++) {
                struct experiment_alert *a = alert_slot(res, list[i].name);
                if (a && a->am_active_s < 0)
                    a->am_active_s = t;
            }
            for (size_t i = 0; i < res->nalerts; i++) {
                struct experiment_alert *a = &res->alerts[i];
                if (a->am_active_s >= 0 && a->am_resolved_s < 0 && !listed(list, n, a->name, NULL))
                    a->am_resolved_s = t;
            }
        }
    }
    if (r->o->webhook) {
        struct webhook_event ev[MAX_WEBHOOK_BATCH];
        size_t got;
        while ((got = webhook_events(r->o->webhook, r->webhook_from, ev, MAX_WEBHOOK_BATCH))) {
            r->webhook_from += got;
            for (size_t i = 0; i < got; i++) {
                struct experiment_alert *a = alert_slot(res, ev[i].alertname);
                double at = ((double)ev[i].unix_ns - (double)res->start_unix_ns) / 1e9;
                if (!a)
                    continue;
                if (strcmp(ev[i].status, "firing") == 0 && a->hook_firing_s < 0)
                    a->hook_firing_s = at;
                else if (strcmp(ev[i].status, "resolved") == 0 && a->hook_firing_s >= 0 &&
                         a->hook_resolved_s < 0)
                    a->hook_resolved_s = at;
            }
        }
        res->webhook_posts = webhook_posts(r->o->webhook);
    }
}

static int alerts_wanted(const struct run *r)
{
    return r->o->prometheus_url || r->o->alertmanager_url || r->o->webhook;
}

/* Takes one reading, keeps it (bounded), and polls the alert sources every ALERT_POLL_NS. */
static const struct probe_sample *take_probe(struct run *r, struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    int wal = r->sc->expect.detect == DETECT_WAL_BACK;
    probes_sample(res->url, r->sc->expect.error_code, wal ? r->fault.wal : NULL, s);
    s->t = now_s(r);
    if (res->injected_s >= 0 && res->rolled_back_s < 0)
        note_state(res, s->file_state);
    if (res->nprobes < EXPERIMENT_MAX_PROBES)
        res->probes[res->nprobes++] = *s;
    else
        res->probes_dropped++;
    if (alerts_wanted(r) && clock_monotonic_ns() >= r->next_alert_poll) {
        poll_alerts(r);
        r->next_alert_poll = clock_monotonic_ns() + ALERT_POLL_NS;
    }
    return s;
}

/* Probes every interval until `until_s`, or until `stop` says so (may be NULL). Returns 1 when
 * stopped by `stop`, 0 at the deadline or on interruption. */
static int observe(struct run *r, double until_s,
                   int (*stop)(struct run *r, const struct probe_sample *s))
{
    uint64_t next = clock_monotonic_ns();
    while (!interrupted(r) && now_s(r) < until_s) {
        struct probe_sample s;
        take_probe(r, &s);
        if (stop && stop(r, &s))
            return 1;
        next += r->o->probe_interval_ns;
        uint64_t now = clock_monotonic_ns();
        if (next > now)
            sleep_ns(next - now);
        else
            next = now;
    }
    return 0;
}

/* ---- phases -------------------------------------------------------------------------------- */

static int start_load(struct run *r, char *err, size_t errlen)
{
    snprintf(r->ledger_path, sizeof(r->ledger_path), "%s/ledger.jsonl", r->res->dir);
    snprintf(r->run_tag, sizeof(r->run_tag), "chaos-%08llx",
             (unsigned long long)((clock_realtime_ns() ^ ((uint64_t)getpid() << 32)) *
                                      0x9e3779b97f4a7c15ull >>
                                  32));
    r->ledger = ledger_open(r->ledger_path, err, errlen);
    if (!r->ledger)
        return -1;
    struct engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = r->res->url;
    cfg.model = LG_MODEL_OPEN;
    cfg.rate = r->o->rate;
    cfg.threads = 1;
    cfg.max_inflight = 64;
    cfg.timeout_ns = (uint64_t)(LOAD_TIMEOUT_S * 1e9);
    cfg.ledger = r->ledger;
    cfg.workload.run_tag = r->run_tag;
    /* Engine threads must not take SIGINT/SIGTERM: the main thread turns them into a rollback. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = engine_start(&r->engine, &cfg, err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void stop_load(struct run *r)
{
    char err[300];
    if (r->engine) {
        engine_stop(r->engine);
        if (engine_wait(r->engine, &r->res->load, err, sizeof(err)) == 0) {
            r->res->load_valid = 1;
            r->res->load_offset_s =
                ((double)r->res->load.start_unix_ns - (double)r->res->start_unix_ns) / 1e9;
        } else {
            progress(r, "load engine: %s", err);
            results_free(&r->res->load);
        }
        engine_free(r->engine);
        r->engine = NULL;
    }
    if (r->ledger) {
        if (ledger_close(r->ledger, err, sizeof(err)) < 0)
            progress(r, "%s", err);
        r->ledger = NULL;
    }
}

static int series_ready(struct run *r, const struct probe_sample *s)
{
    (void)s;
    struct lg_interval row;
    return engine_series(r->engine, 0, &row, 1) == 1;
}

static int steady_state(struct run *r)
{
    struct experiment_result *res = r->res;
    struct engine_live before, after;
    engine_live(r->engine, &before);
    size_t first = res->nprobes;
    observe(r, (double)r->o->steady_ns / 1e9, NULL);
    /* The p99 needs one complete second of the series; a shorter window waits for it. */
    struct lg_interval rows[64];
    size_t n = engine_series(r->engine, 0, rows, 64);
    if (n == 0)
        observe(r, (double)(r->o->steady_ns + STEADY_EXTRA_NS) / 1e9, series_ready);
    engine_live(r->engine, &after);
    size_t not_ready = 0;
    for (size_t i = first; i < res->nprobes; i++)
        not_ready += res->probes[i].readyz != 200 || res->probes[i].db_up != 1;
    uint64_t done = after.completed - before.completed;
    uint64_t errors = after.errors - before.errors;
    res->steady_error_ratio = done ? (double)errors / (double)done : 1;
    uint64_t p99 = after.last_second_p99_ns;
    n = engine_series(r->engine, 0, rows, 64);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].corrected_p99_ns > p99)
            p99 = rows[i].corrected_p99_ns;
    }
    res->steady_p99_s = (double)p99 / 1e9;
    int ok = res->nprobes > first && not_ready == 0 && done > 0 &&
             res->steady_error_ratio <= r->o->max_error_ratio && p99 <= r->o->max_p99_ns;
    add_check(res, "steady state", ok,
              "%zu of %zu probes not ready; %llu requests, error ratio %.4f (max %.4f); p99 "
              "%.1f ms (max %.1f ms)",
              not_ready, res->nprobes - first, (unsigned long long)done, res->steady_error_ratio,
              r->o->max_error_ratio, res->steady_p99_s * 1e3, (double)r->o->max_p99_ns / 1e6);
    return ok;
}

static int detected_stop(struct run *r, const struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    if (res->detected_s < 0 && is_detected(r, s)) {
        res->detected_s = s->t;
        res->time_to_detect_s = s->t - res->injected_s;
    }
    if (s->readyz != 200)
        res->readiness_dropped = 1;
    return 0; /* observe the whole fault window */
}

static int ready_stop(struct run *r, const struct probe_sample *s)
{
    struct experiment_result *res = r->res;
    if (s->readyz != 200 || s->db_up == 0)
        return 0;
    if (res->rolled_back_s >= 0 && res->recovered_s < 0) {
        res->recovered_s = s->t;
        res->time_to_recover_s = s->t - res->rolled_back_s;
    }
    return 1;
}

static int alerts_settled(struct run *r, const struct probe_sample *s)
{
    (void)s;
    struct experiment_result *res = r->res;
    for (size_t i = 0; r->sc->expect.alerts[i]; i++) {
        struct experiment_alert *a = alert_slot(res, r->sc->expect.alerts[i]);
        if (!a)
            return 0;
        int fired = a->prom_firing_s >= 0 || a->am_active_s >= 0 || a->hook_firing_s >= 0;
        if (!fired)
            return 0;
        if ((a->prom_firing_s >= 0 && a->prom_resolved_s < 0) ||
            (a->am_active_s >= 0 && a->am_resolved_s < 0) ||
            (a->hook_firing_s >= 0 && a->hook_resolved_s < 0))
            return 0;
    }
    return 1;
}

/* The recovery write: one create, outside the run's tag so the audit does not count it. */
static int recovery_write(struct run *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/tasks", r->res->url);
    return probes_http(url, "POST", "{\"task\":\"chaos recovery probe\"}", 3000, NULL);
}

struct window_count {
    const struct run *r;
    struct experiment_result *res;
};

static int count_entry(const struct ledger_entry *e, uint64_t line, uint64_t offset, void *ctx)
{
    (void)line, (void)offset;
    struct window_count *w = ctx;
    struct experiment_result *res = w->res;
    const struct run *r = w->r;
    if (e->outcome == LEDGER_OK)
        res->writes_acknowledged++;
    else if (e->outcome == LEDGER_FAIL)
        res->writes_failed++;
    else
        res->writes_indeterminate++;
    if (!r->fault_begin_unix || e->invoke_unix_ns < r->fault_begin_unix ||
        e->invoke_unix_ns >= r->fault_end_unix)
        return 0;
    if (e->outcome == LEDGER_OK && e->complete_unix_ns < r->fault_end_unix)
        res->acked_in_fault++;
    else if (e->outcome == LEDGER_FAIL)
        res->refused_in_fault++;
    if (e->outcome == LEDGER_INFO)
        res->unanswered_in_fault++;
    double took = (double)(e->complete_unix_ns - e->invoke_unix_ns) / 1e9;
    if (e->complete_unix_ns > e->invoke_unix_ns && took > res->slowest_write_in_fault_s)
        res->slowest_write_in_fault_s = took;
    return 0;
}

static void audit(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[400];
    struct window_count w = {r, res};
    if (audit_ledger_read(r->ledger_path, count_entry, &w, NULL, err, sizeof(err)) != 0) {
        add_check(res, "ledger", 0, "%s", err);
        return;
    }
    struct audit_options ao;
    audit_options_default(&ao);
    ao.tag = r->run_tag;
    struct audit_report rep;
    memset(&rep, 0, sizeof(rep));
    if (audit_run(r->ledger_path, res->url, &ao, &rep, err, sizeof(err)) == 0) {
        res->audit_ran = 1;
        res->lost = rep.lost;
        res->unexpected = rep.unexpected;
        res->recovered = rep.recovered;
        struct buf json;
        buf_init(&json, 4 * 1024 * 1024);
        if (audit_render_json(&rep, &json) == 0)
            res->audit_json = buf_detach(&json, NULL);
        buf_free(&json);
    } else {
        add_check(res, "audit", 0, "the audit could not run: %s", err);
    }
    audit_report_free(&rep);
}

/* PRAGMA integrity_check, read-only, with taskd stopped (never on a live file). */
static void integrity_check(struct run *r, const char *db_path)
{
    struct experiment_result *res = r->res;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(res->integrity, sizeof(res->integrity), "%s",
                 (const char *)sqlite3_column_text(st, 0));
    else
        snprintf(res->integrity, sizeof(res->integrity), "cannot check: %s",
                 db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- the verdict --------------------------------------------------------------------------- */

static void verdict(struct run *r, int taskd_survived)
{
    struct experiment_result *res = r->res;
    const struct scenario_expect *x = &r->sc->expect;
    double window = (double)r->o->fault_ns / 1e9;
    if (r->sc->at_start)
        add_check(res, "taskd stays up on the fault", taskd_survived,
                  taskd_survived ? "taskd started and served /livez on the fault"
                                 : "taskd did not come up on the fault");
    if (res->detected_s >= 0)
        add_check(res, "detected", 1, "after %.3f s", res->time_to_detect_s);
    else
        add_check(res, "detected", 0, "no probe in the %.1f s fault window showed %s", window,
                  x->detect == DETECT_WAL_BACK ? "a rebuilt -wal"
                                               : "not ready, db_up 0 or the expected state");
    if (x->detect == DETECT_NOT_READY)
        add_check(res, "readiness dropped", res->readiness_dropped,
                  res->readiness_dropped ? "/readyz answered other than 200 during the fault"
                                         : "/readyz answered 200 throughout the fault");
    if (x->file_state) {
        int seen = 0;
        for (size_t i = 0; i < res->nstates; i++)
            seen |= strcmp(res->states_seen[i], x->file_state) == 0;
        add_check(res, "file state", seen, "taskd_db_file_state{state=\"%s\"} %s", x->file_state,
                  seen ? "read 1 during the fault" : "never read 1 during the fault");
    }
    if (x->error_code && res->error_code_delta >= 0)
        add_check(res, "error counted", res->error_code_delta > 0,
                  "taskd_db_errors_total{code=\"%s\"} grew by %.0f during the fault", x->error_code,
                  res->error_code_delta);
    else if (x->error_code)
        add_check(res, "error counted", 0,
                  "taskd_db_errors_total{code=\"%s\"} could not be read before and during the "
                  "fault",
                  x->error_code);
    if (x->refuse_writes)
        add_check(res, "writes refused", res->acked_in_fault == 0,
                  "%llu writes invoked during the fault were acknowledged",
                  (unsigned long long)res->acked_in_fault);
    if (x->refuse_writes && r->sc->fault != FAULT_KILL9)
        add_check(res, "writes answered", res->unanswered_in_fault == 0,
                  "%llu writes invoked during the fault got no HTTP answer (refused or reset "
                  "connection, or none within the %.0f s request timeout); the slowest answer "
                  "took %.3f s",
                  (unsigned long long)res->unanswered_in_fault, LOAD_TIMEOUT_S,
                  res->slowest_write_in_fault_s);
    if (x->some_write_refused)
        add_check(res, "fault bit", res->refused_in_fault > 0,
                  "%llu writes were refused during the fault",
                  (unsigned long long)res->refused_in_fault);
    add_check(res, "recovered", res->recovered_s >= 0 && res->probe_write_status == 201,
              res->recovered_s >= 0 ? "ready %.3f s after the rollback; a write answered %d"
                                    : "not ready within the recovery timeout (%.3f s); a write "
                                      "answered %d",
              res->recovered_s >= 0 ? res->time_to_recover_s
                                    : (double)r->o->recover_timeout_ns / 1e9,
              res->probe_write_status);
    if (res->audit_ran) {
        add_check(res, "no acknowledged write lost", res->lost <= x->max_lost,
                  "%llu lost (at most %llu allowed) of %llu acknowledged",
                  (unsigned long long)res->lost, (unsigned long long)x->max_lost,
                  (unsigned long long)res->writes_acknowledged);
        add_check(res, "no unexpected write", res->unexpected == 0,
                  "%llu writes took effect although taskd said they failed, or rows no write "
                  "explains",
                  (unsigned long long)res->unexpected);
    }
    if (*res->integrity)
        add_check(res, "integrity_check", strcmp(res->integrity, "ok") == 0, "%s", res->integrity);
    if (alerts_wanted(r)) {
        res->alerts_checked = 1;
        for (size_t i = 0; x->alerts[i]; i++) {
            struct experiment_alert *a = alert_slot(res, x->alerts[i]);
            if (!a)
                continue;
            a->expected = 1;
            /* Firing already before the injection says nothing about this fault. */
            double since = res->injected_s;
            int before = (a->prom_firing_s >= 0 && a->prom_firing_s < since) ||
                         (a->hook_firing_s >= 0 && a->hook_firing_s < since);
            int fired = !before && (a->prom_firing_s >= since || a->am_active_s >= since ||
                                    a->hook_firing_s >= since);
            int resolved = fired && !((a->prom_firing_s >= 0 && a->prom_resolved_s < 0) ||
                                      (a->am_active_s >= 0 && a->am_resolved_s < 0) ||
                                      (a->hook_firing_s >= 0 && a->hook_resolved_s < 0));
            char name[64];
            say(name, sizeof(name), "alert %s", a->name);
            add_check(res, name, fired && resolved, "%s",
                      before     ? "was already firing before the injection"
                      : !fired   ? "never fired"
                      : resolved ? "fired during the fault and resolved after the rollback"
                                 : "fired, never resolved");
        }
    }
    res->status = EXPERIMENT_PASSED;
    for (size_t i = 0; i < res->nchecks; i++) {
        if (!res->checks[i].passed)
            res->status = EXPERIMENT_DEVIATED;
    }
}

/* ---- the lifecycle ------------------------------------------------------------------------- */

static int setup(struct run *r, char *db_buf, size_t db_cap, char *err, size_t errlen)
{
    const struct experiment_options *o = r->o;
    if (make_dir(r, err, errlen) < 0)
        return -1;
    const char *db = db_path_for(o, r->res->dir, db_buf, db_cap);
    if (!db) {
        snprintf(err, errlen,
                 "--db is needed with --target: the path of the database the "
                 "target taskd uses, under the work directory");
        return -1;
    }
    if (faults_init(&r->fault, r->sc, o->work_dir, r->res->dir, db, err, errlen) < 0)
        return -1;
    snprintf(r->res->mechanism, sizeof(r->res->mechanism), "%s", r->fault.mechanism);
    if (o->target_url)
        return taskd_runner_init_external(&r->taskd, o->target_url, o->start_cmd, o->stop_cmd,
                                          o->kill_cmd, err, errlen);
    return taskd_runner_init_managed(&r->taskd, o->taskd_bin, r->res->dir, db, o->taskd_args, err,
                                     errlen);
}

/* Starts (or, external, finds) taskd before the experiment. */
static int first_start(struct run *r, char *err, size_t errlen)
{
    if (r->taskd.bin || r->o->start_cmd) {
        if (r->taskd.bin || probes_http(r->taskd.url, "GET", NULL, 500, NULL) == 0) {
            if (taskd_runner_start(&r->taskd, NULL, err, errlen) < 0)
                return -1;
        }
    }
    char url[200];
    snprintf(url, sizeof(url), "%s/livez", r->taskd.url);
    if (probes_http(url, "GET", NULL, 1000, NULL) != 200) {
        snprintf(err, errlen, "taskd at %s does not answer /livez", r->taskd.url);
        return -1;
    }
    snprintf(r->res->url, sizeof(r->res->url), "%s", r->taskd.url);
    return 0;
}

static void inject_and_observe(struct run *r, int *taskd_survived)
{
    struct experiment_result *res = r->res;
    char err[600];
    struct probe_sample before;
    take_probe(r, &before);
    r->errors_at_injection = before.db_errors;
    progress(r, "inject: %s", r->sc->mechanism);
    int rc = faults_inject(&r->fault, &r->taskd, err, sizeof(err));
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (rc < 0) {
        res->status = EXPERIMENT_ERROR;
        say(res->reason, sizeof(res->reason), "the fault could not be injected: %s", err);
        return;
    }
    *taskd_survived = rc == 0;
    if (rc == 1)
        progress(r, "taskd did not come up on the fault: %s", err);
    res->injected_s = now_s(r);
    r->fault_begin_unix = clock_realtime_ns();
    observe(r, res->injected_s + (double)r->o->fault_ns / 1e9, detected_stop);
    double last = -1;
    for (size_t i = res->nprobes; i-- > 0 && res->probes[i].t >= res->injected_s;) {
        if (res->probes[i].db_errors >= 0) {
            last = res->probes[i].db_errors;
            break;
        }
    }
    res->error_code_delta =
        last >= 0 && r->errors_at_injection >= 0 ? last - r->errors_at_injection : -1;
}

static void rollback_and_recover(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[600];
    r->fault_end_unix = clock_realtime_ns();
    res->rolled_back_s = now_s(r); /* recovery is timed from the start of the rollback */
    progress(r, "roll back: %s", r->sc->rollback);
    if (faults_rollback(&r->fault, &r->taskd, err, sizeof(err)) < 0) {
        add_check(res, "rollback", 0, "%s", err);
        progress(r, "rollback failed: %s", err);
    }
    if (interrupted(r))
        return;
    if (observe(r, res->rolled_back_s + (double)r->o->recover_timeout_ns / 1e9, ready_stop)) {
        res->probe_write_status = recovery_write(r);
        progress(r, "recovered after %.3f s; a write answered %d", res->time_to_recover_s,
                 res->probe_write_status);
    }
    if (alerts_wanted(r) && !interrupted(r)) {
        progress(r, "waiting for the expected alerts to fire and resolve");
        observe(r, now_s(r) + (double)r->o->alert_timeout_ns / 1e9, alerts_settled);
        poll_alerts(r);
    }
}

/* kill -9 and restart, so the audit reads what survives a crash. */
static void crash_restart(struct run *r)
{
    char err[600];
    if (!taskd_runner_can_kill(&r->taskd) || taskd_runner_kill9(&r->taskd, err, sizeof(err)) < 0 ||
        taskd_runner_start(&r->taskd, NULL, err, sizeof(err)) < 0) {
        add_check(r->res, "crash and restart", 0, "%s",
                  taskd_runner_can_kill(&r->taskd) ? err : "needs --kill-cmd with --target");
        return;
    }
    r->res->crashed_before_audit = 1;
    observe(r, now_s(r) + (double)r->o->recover_timeout_ns / 1e9, ready_stop);
}

enum experiment_status experiment_run(const struct scenario *sc, const struct experiment_options *o,
                                      struct experiment_result *res)
{
    memset(res, 0, sizeof(*res));
    res->sc = sc;
    res->injected_s = res->detected_s = res->rolled_back_s = res->recovered_s = -1;
    res->ended_s = res->time_to_detect_s = res->time_to_recover_s = -1;
    res->error_code_delta = -1;
    res->status = EXPERIMENT_ERROR;
    struct run *r = calloc(1, sizeof(*r));
    res->probes = calloc(EXPERIMENT_MAX_PROBES, sizeof(*res->probes));
    if (!r || !res->probes) {
        snprintf(res->reason, sizeof(res->reason), "out of memory");
        free(r);
        return res->status;
    }
    r->sc = sc;
    r->o = o;
    r->res = res;
    char err[600], db_buf[600];
    int taskd_survived = 1, started = 0;
    if (setup(r, db_buf, sizeof(db_buf), err, sizeof(err)) < 0)
        goto fail;
    faults_arm(&r->fault, &r->taskd);
    int prep = faults_prepare(&r->fault, err, sizeof(err));
    if (prep != 0) {
        if (prep > 0)
            res->status = EXPERIMENT_SKIPPED;
        goto fail;
    }
    snprintf(res->mechanism, sizeof(res->mechanism), "%s", r->fault.mechanism);
    if (first_start(r, err, sizeof(err)) < 0)
        goto fail;
    started = 1;
    res->start_unix_ns = clock_realtime_ns();
    r->t0 = clock_monotonic_ns();
    if (start_load(r, err, sizeof(err)) < 0)
        goto fail;
    progress(r, "steady state for %.1f s at %.0f requests/s", (double)o->steady_ns / 1e9, o->rate);
    if (!steady_state(r)) {
        res->status = EXPERIMENT_ABORTED;
        snprintf(res->reason, sizeof(res->reason),
                 "the steady-state hypothesis did not hold, so nothing was injected: %s",
                 res->checks[res->nchecks - 1].detail);
        stop_load(r);
        goto teardown;
    }
    if (interrupted(r)) {
        snprintf(err, sizeof(err), "interrupted before the injection");
        stop_load(r);
        goto fail_teardown;
    }
    inject_and_observe(r, &taskd_survived);
    if (res->status == EXPERIMENT_ERROR && res->injected_s < 0) {
        stop_load(r);
        goto teardown;
    }
    rollback_and_recover(r);
    stop_load(r);
    if (interrupted(r)) {
        snprintf(err, sizeof(err), "interrupted; the fault was rolled back");
        goto fail_teardown;
    }
    if (sc->expect.crash_before_audit)
        crash_restart(r);
    audit(r);
    res->ended_s = now_s(r);
    if (r->taskd.bin || o->stop_cmd) {
        if (taskd_runner_stop(&r->taskd, err, sizeof(err)) < 0)
            add_check(res, "clean stop", 0, "%s", err);
        else
            integrity_check(r, r->fault.db);
    }
    verdict(r, taskd_survived);
    goto teardown;

fail_teardown:
    snprintf(res->reason, sizeof(res->reason), "%s", err);
    res->status = EXPERIMENT_ERROR;
    goto teardown;
fail:
    snprintf(res->reason, sizeof(res->reason), "%s", err);
teardown:
    if (r->fault.injected)
        faults_rollback(&r->fault, &r->taskd, err, sizeof(err));
    if (started && r->taskd.bin && r->taskd.pid)
        taskd_runner_stop(&r->taskd, err, sizeof(err));
    faults_cleanup(&r->fault);
    faults_arm(NULL, NULL);
    progress(r, "%s", experiment_status_name(res->status));
    free(r);
    return res->status;
}

int experiment_plan(const struct scenario *sc, const struct experiment_options *o, FILE *out,
                    char *err, size_t errlen)
{
    struct fault_state f;
    char dir[600], db_buf[600];
    snprintf(dir, sizeof(dir), "%s/%s", o->work_dir, sc->name);
    const char *db = db_path_for(o, dir, db_buf, sizeof(db_buf));
    if (!db) {
        snprintf(err, errlen, "--db is needed with --target");
        return -1;
    }
    if (faults_init(&f, sc, o->work_dir, dir, db, err, errlen) < 0)
        return -1;
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "%s: %s\n  mechanism: %s\n  expected: %s\n", sc->name, sc->summary,
               sc->mechanism, sc->expected);
    if (o->target_url)
        buf_printf(&b, "  taskd: the one at %s (start: %s; stop: %s; kill: %s)\n", o->target_url,
                   o->start_cmd ? o->start_cmd : "-", o->stop_cmd ? o->stop_cmd : "-",
                   o->kill_cmd ? o->kill_cmd : "-");
    else {
        buf_printf(&b,
                   "  taskd: %s --listen 127.0.0.1:0 --db %s --port-file %s/taskd.port "
                   "--log-file %s/taskd.log",
                   o->taskd_bin, db, dir, dir);
        for (size_t i = 0; o->taskd_args[i]; i++)
            buf_printf(&b, " %s", o->taskd_args[i]);
        buf_printf(&b, "\n");
    }
    buf_printf(&b, "  load: %.0f requests/s (open model), ledger %s/ledger.jsonl\n", o->rate, dir);
    buf_printf(&b, "  windows: steady %.1f s, fault %.1f s, recovery up to %.1f s\n",
               (double)o->steady_ns / 1e9, (double)o->fault_ns / 1e9,
               (double)o->recover_timeout_ns / 1e9);
    faults_plan(&f, &b);
    if (sc->needs_root && geteuid() != 0)
        buf_printf(&b, "  note: not root here, so this scenario would be skipped\n");
    fputs(b.data ? b.data : "", out);
    buf_free(&b);
    return 0;
}

void experiment_result_free(struct experiment_result *res)
{
    if (!res)
        return;
    free(res->probes);
    res->probes = NULL;
    free(res->audit_json);
    res->audit_json = NULL;
    if (res->load_valid)
        results_free(&res->load);
    res->load_valid = 0;
}
