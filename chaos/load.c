/*
 * load: see load.h. The workload is the experiment's: taskd's task mix (its weights from the
 * file), or a targets file with its data. One engine thread with up to 64 requests in flight is
 * plenty for the rates chaos uses, and the run tag is random enough that two runs on one database
 * do not share it. The engine's threads start with SIGINT and SIGTERM blocked: only the main thread
 * may turn them into a rollback.
 */
#include "load.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "ledger.h"

#define MAX_SERIES_ROWS 64 /* the steady-state window's seconds looked at for its p99 */

static void make_run_tag(struct run *r)
{
    uint64_t mix = (clock_realtime_ns() ^ ((uint64_t)getpid() << 32)) * 0x9e3779b97f4a7c15ull;
    snprintf(r->run_tag, sizeof(r->run_tag), "chaos-%08llx", (unsigned long long)(mix >> 32));
}

int load_start(struct run *r, char *err, size_t errlen)
{
    snprintf(r->ledger_path, sizeof(r->ledger_path), "%s/ledger.jsonl", r->res->dir);
    make_run_tag(r);
    r->ledger = ledger_open(r->ledger_path, err, errlen);
    if (!r->ledger)
        return -1;
    const struct scenario_load *l = &r->sc->load;
    struct engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = r->res->url;
    cfg.model = LG_MODEL_OPEN;
    cfg.rate = r->o->rate;
    cfg.threads = 1;
    cfg.max_inflight = 64;
    cfg.timeout_ns =
        l->request_timeout_ns ? l->request_timeout_ns : (uint64_t)(LOAD_REQUEST_TIMEOUT_S * 1e9);
    cfg.ledger = r->ledger;
    cfg.workload.run_tag = r->run_tag;
    cfg.workload.missing_ratio = l->missing_ratio;
    cfg.workload.api = &r->sc->audit.api;
    cfg.workload.targets_path = l->targets;
    cfg.workload.data_path = l->data;
    if (l->mix && workload_parse_mix(&cfg.workload, l->mix, err, errlen) < 0)
        return -1;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = engine_start(&r->engine, &cfg, err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void load_stop(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[300];
    if (r->engine) {
        engine_stop(r->engine);
        if (engine_wait(r->engine, &res->load, err, sizeof(err)) == 0) {
            res->load_valid = 1;
            res->load_offset_s =
                ((double)res->load.start_unix_ns - (double)res->start_unix_ns) / 1e9;
        } else {
            run_progress(r, "load engine: %s", err);
            results_free(&res->load);
        }
        engine_free(r->engine);
        r->engine = NULL;
    }
    if (r->ledger) {
        if (ledger_close(r->ledger, err, sizeof(err)) < 0)
            run_progress(r, "%s", err);
        r->ledger = NULL;
    }
}

void load_counts(struct run *r, uint64_t *completed, uint64_t *errors)
{
    struct engine_live now;
    engine_live(r->engine, &now);
    *completed = now.completed;
    *errors = now.errors;
}

int load_has_full_second(struct run *r)
{
    struct lg_interval row;
    return engine_series(r->engine, 0, &row, 1) == 1;
}

uint64_t load_worst_p99_ns(struct run *r)
{
    struct lg_interval rows[MAX_SERIES_ROWS];
    struct engine_live now;
    engine_live(r->engine, &now);
    uint64_t p99 = now.last_second_p99_ns;
    size_t n = engine_series(r->engine, 0, rows, MAX_SERIES_ROWS);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].corrected_p99_ns > p99)
            p99 = rows[i].corrected_p99_ns;
    }
    return p99;
}
