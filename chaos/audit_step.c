/*
 * audit_step: see audit_step.h. The fault window is taken on the wall clock (the ledger stamps
 * writes with CLOCK_REALTIME): a write invoked in [injection, rollback) counts as "in the
 * fault", and as acknowledged in it only when its answer also came before the rollback.
 */
#include "audit_step.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "ledger.h"

#define AUDIT_JSON_MAX (4 * 1024 * 1024)

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

void audit_step_run(struct run *r)
{
    struct experiment_result *res = r->res;
    char err[400];
    struct window_count w = {r, res};
    if (audit_ledger_read(r->ledger_path, count_entry, &w, NULL, err, sizeof(err)) != 0) {
        run_say(res->ledger_error, sizeof(res->ledger_error), "%s", err);
        return;
    }
    if (!r->sc->audit.enabled)
        return;
    struct audit_options ao;
    audit_options_default(&ao);
    ao.api = r->sc->audit.api;
    ao.tag = r->run_tag;
    struct audit_report rep;
    memset(&rep, 0, sizeof(rep));
    if (audit_run(r->ledger_path, res->url, &ao, &rep, err, sizeof(err)) == 0) {
        res->audit_ran = 1;
        res->lost = rep.lost;
        res->unexpected = rep.unexpected;
        res->recovered = rep.recovered;
        struct buf json;
        buf_init(&json, AUDIT_JSON_MAX);
        if (audit_render_json(&rep, &json) == 0)
            res->audit_json = buf_detach(&json, NULL);
        buf_free(&json);
    } else {
        run_say(res->audit_error, sizeof(res->audit_error), "the audit could not run: %s", err);
    }
    audit_report_free(&rep);
}

void audit_step_integrity(struct run *r, const char *db_path)
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
