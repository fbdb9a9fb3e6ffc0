/*
 * test_audit: loadgen's lost-write audit against a real taskd. Each test makes real writes with
 * the harness client and records them with loadgen's own ledger writer (ledger_append), as
 * loadgen would, then changes the database behind taskd's back with sqlite3 where the test needs
 * a fault, and checks the audit's exact verdicts: a healthy history is clean; rows deleted,
 * changed or re-inserted behind taskd's back are lost; writes the server refused but made are
 * unexpected; indeterminate writes that happened are recovered; pages past 1000 rows are read.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "fixture.h"
#include "ledger.h"
#include "scratch.h"

#define TAG "lg-e2e"
#define AS_STATUS -1 /* record the outcome the status says */
/* taskd's reader may see another process's commit up to 100 ms late (READ_SNAPSHOT_MAX_NS). */
#define SNAPSHOT_WAIT_MS 250

/* A loadgen-like client: writes through HTTP, recorded in a ledger in taskd's directory. */
struct run {
    struct fixture *fx;
    struct ledger *ledger;
    char path[400];
    char url[64];
    unsigned seq;
    char text[64]; /* the last text made by next_text() */
};

static void close_ledger(void *p)
{
    char err[256];
    ledger_close(p, err, sizeof err);
}

static struct run *run_start(struct fixture *fx)
{
    struct run *r = scratch_keep(calloc(1, sizeof *r), scratch_free);
    assert_non_null(r);
    r->fx = fx;
    snprintf(r->path, sizeof r->path, "%s/ledger.jsonl", fx->proc.dir);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)fx->proc.port);
    char err[256];
    r->ledger = scratch_keep(ledger_open(r->path, err, sizeof err), close_ledger);
    if (!r->ledger)
        fx_fail_at(__FILE__, __LINE__, "%s", err);
    return r;
}

/* Closes the ledger, so the file holds every line (the audit reads the file). */
static void run_finish(struct run *r)
{
    struct ledger *l = r->ledger;
    r->ledger = NULL;
    scratch_drop(l);
}

/* loadgen's text shape: "<tag>-<thread>-<seq><kind>", unique per write. */
static const char *next_text(struct run *r, char kind)
{
    snprintf(r->text, sizeof r->text, TAG "-0-%u%c", r->seq++, kind);
    return scratch_keep(strdup(r->text), scratch_free);
}

static void record(struct run *r, enum ledger_op op, int status, int as, int64_t id,
                   const char *text, int done, uint64_t t0)
{
    enum ledger_outcome o = status >= 200 && status < 300 ? LEDGER_OK
                            : status                      ? LEDGER_FAIL
                                                          : LEDGER_INFO;
    if (as != AS_STATUS) {
        o = (enum ledger_outcome)as;
        status = o == LEDGER_OK ? status : o == LEDGER_FAIL ? 503 : 0;
        if (op == LEDGER_CREATE && o != LEDGER_OK)
            id = 0; /* no 201, so loadgen never learnt the id */
    }
    char id_text[24] = "";
    if (id > 0)
        snprintf(id_text, sizeof id_text, "%" PRId64, id);
    struct ledger_entry e = {op, o, status, id_text, text, done, t0, clock_realtime_ns(), NULL};
    assert_int_equal(ledger_append(r->ledger, &e), 0);
}

/* Each write: sends it, records it with the outcome its status says, or `as` when the test
 * pretends the answer was another (a 503, or none at all). Returns the status, or for a create
 * the id taskd gave (whatever was recorded). */
static int64_t do_create(struct run *r, const char *text, int done, int as)
{
    char body[256];
    snprintf(body, sizeof body, "{\"task\":\"%s\",\"done\":%s}", text, done ? "true" : "false");
    uint64_t t0 = clock_realtime_ns();
    struct http_response *res = fx_request(r->fx, "POST", "/tasks", fx_json_headers, body);
    int64_t id = res->status == 201 ? fx_json_int(fx_json(res), "id") : 0;
    record(r, LEDGER_CREATE, res->status, as, id, text, done, t0);
    return id;
}

static int do_update(struct run *r, int64_t id, const char *text, int done, int as)
{
    char body[256], path[64];
    snprintf(body, sizeof body, "{\"task\":\"%s\",\"done\":%s}", text, done ? "true" : "false");
    snprintf(path, sizeof path, "/tasks/%" PRId64, id);
    uint64_t t0 = clock_realtime_ns();
    struct http_response *res = fx_request(r->fx, "PUT", path, fx_json_headers, body);
    record(r, LEDGER_UPDATE, res->status, as, id, text, done, t0);
    return res->status;
}

static int do_delete(struct run *r, int64_t id, int as)
{
    char path[64];
    snprintf(path, sizeof path, "/tasks/%" PRId64, id);
    uint64_t t0 = clock_realtime_ns();
    struct http_response *res = fx_request(r->fx, "DELETE", path, NULL, NULL);
    record(r, LEDGER_DELETE, res->status, as, id, NULL, 0, t0);
    return res->status;
}

/* A write loadgen recorded but that never reached the server (e.g. cancelled at the end). */
static void record_unsent(struct run *r, enum ledger_op op, int64_t id, const char *text, int done)
{
    record(r, op, 0, LEDGER_INFO, id, text, done, clock_realtime_ns());
}

/* Changes the database behind taskd's back, then waits out taskd's read snapshot. */
static void behind_the_back(struct fixture *fx, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->proc.db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        fx_fail_at(__FILE__, __LINE__, "%s: %s", sql, copy);
    }
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    fx_sleep_ms(SNAPSHOT_WAIT_MS);
}

static void free_report(void *p)
{
    audit_report_free(p);
    free(p);
}

static struct audit_report *audit(struct run *r)
{
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    assert_non_null(rep);
    struct audit_options opt;
    audit_options_default(&opt);
    opt.retry_for_ns = 0;
    char err[512];
    if (audit_run(r->path, r->url, &opt, rep, err, sizeof err) < 0)
        fx_fail_at(__FILE__, __LINE__, "audit failed: %s", err);
    return rep;
}

/* audit_main with its stdout captured in *out (kept in scratch). Returns its exit status. */
static int audit_main_captured(struct run *r, const char *extra, char **out)
{
    char ledger_flag[440], out_path[420];
    snprintf(ledger_flag, sizeof ledger_flag, "--ledger=%s", r->path);
    snprintf(out_path, sizeof out_path, "%s/audit.out", r->fx->proc.dir);
    char *argv[] = {"audit", ledger_flag, r->url, (char *)extra, NULL};
    int argc = extra ? 4 : 3;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int rc = audit_main(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    *out = scratch_keep(taskd_proc_read_file(out_path, NULL), scratch_free);
    assert_non_null(*out);
    return rc;
}

static void expect_counts(const struct audit_report *rep, uint64_t ok, uint64_t lost,
                          uint64_t unexpected, uint64_t recovered)
{
    if (rep->ok != ok || rep->lost != lost || rep->unexpected != unexpected ||
        rep->recovered != recovered)
        fx_fail_at(__FILE__, __LINE__,
                   "expected ok %" PRIu64 ", lost %" PRIu64 ", unexpected %" PRIu64
                   ", recovered %" PRIu64 "; the audit found ok %" PRIu64 ", lost %" PRIu64
                   ", unexpected %" PRIu64 ", recovered %" PRIu64 " (first: %s)",
                   ok, lost, unexpected, recovered, rep->ok, rep->lost, rep->unexpected,
                   rep->recovered, rep->nfindings ? rep->findings[0].reason : "none");
}

/* The finding is about `id` (0: about no id). */
static void expect_id(const struct audit_finding *f, int64_t id)
{
    char want[24];
    snprintf(want, sizeof want, "%" PRId64, id);
    if (id == 0)
        assert_null(f->id);
    else if (!f->id || strcmp(f->id, want))
        fx_fail_at(__FILE__, __LINE__, "the finding is about id %s, not %s",
                   f->id ? f->id : "(none)", want);
}

static void expect_finding(const struct audit_finding *f, enum audit_kind kind, int64_t id,
                           const char *reason, const char *expected, int expected_done,
                           const char *found, int found_done)
{
    assert_int_equal(f->kind, kind);
    expect_id(f, id);
    assert_string_equal(f->reason, reason);
    if (expected) {
        assert_non_null(f->expected_task);
        assert_string_equal(f->expected_task, expected);
        assert_int_equal(f->expected_done, expected_done);
    } else {
        assert_null(f->expected_task);
    }
    if (found) {
        assert_non_null(f->found_task);
        assert_string_equal(f->found_task, found);
        assert_int_equal(f->found_done, found_done);
    } else {
        assert_null(f->found_task);
    }
}

static void test_healthy_history_audits_clean(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    int64_t a = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    int64_t b = do_create(r, next_text(r, 'c'), 1, AS_STATUS);
    int64_t c = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    assert_int_equal(do_update(r, a, next_text(r, 'u'), 1, AS_STATUS), 200);
    assert_int_equal(do_update(r, a, next_text(r, 'u'), 0, AS_STATUS), 200);
    assert_int_equal(do_delete(r, b, AS_STATUS), 204);
    assert_int_equal(do_update(r, b, next_text(r, 'u'), 1, AS_STATUS), 404);
    assert_int_equal(do_delete(r, b, AS_STATUS), 404);
    int64_t d = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    assert_int_equal(do_delete(r, d, AS_STATUS), 204);
    /* A create taskd refuses (400): recorded as failed, with no id. */
    const char *refused = next_text(r, 'c');
    char body[128];
    snprintf(body, sizeof body, "{\"task\":\"%s\",\"done\":\"yes\"}", refused);
    uint64_t t0 = clock_realtime_ns();
    fx_expect_status(fx_request(fx, "POST", "/tasks", fx_json_headers, body), 400);
    record(r, LEDGER_CREATE, 400, AS_STATUS, 0, refused, 0, t0);
    /* Another run's row is none of this audit's business. */
    fx_create(fx, "lg-other-0-0c");
    run_finish(r);

    struct audit_report *rep = audit(r);
    expect_counts(rep, 5, 0, 0, 0);
    assert_true(audit_clean(rep));
    assert_int_equal(rep->ntags, 1);
    assert_string_equal(rep->tags[0], TAG);
    assert_int_equal(rep->writes, 11);
    assert_int_equal(rep->ops[LEDGER_CREATE][LEDGER_OK], 4);
    assert_int_equal(rep->ops[LEDGER_CREATE][LEDGER_FAIL], 1);
    assert_int_equal(rep->ops[LEDGER_UPDATE][LEDGER_OK], 2);
    assert_int_equal(rep->ops[LEDGER_UPDATE][LEDGER_FAIL], 1);
    assert_int_equal(rep->ops[LEDGER_DELETE][LEDGER_OK], 2);
    assert_int_equal(rep->ops[LEDGER_DELETE][LEDGER_FAIL], 1);
    assert_int_equal(rep->ops[LEDGER_CREATE][LEDGER_INFO] + rep->ops[LEDGER_UPDATE][LEDGER_INFO] +
                         rep->ops[LEDGER_DELETE][LEDGER_INFO],
                     0);
    assert_int_equal(rep->ids_checked, 4);
    assert_int_equal(rep->creates_without_id, 1);
    assert_int_equal(rep->rows_read, 3); /* a, c and the other run's */
    assert_int_equal(rep->rows_tagged, 2);
    assert_int_equal(rep->pages, 1);
    assert_int_equal(rep->nfindings, 0);
    assert_int_equal(rep->torn_last_line, 0);
    (void)c;

    char json_flag[440];
    snprintf(json_flag, sizeof json_flag, "--json=%s/audit.json", fx->proc.dir);
    char *out;
    assert_int_equal(audit_main_captured(r, json_flag, &out), 0);
    assert_non_null(strstr(out, "  verdict   ok 5, lost 0, unexpected 0, recovered 0\n"));
    assert_non_null(strstr(out, "CLEAN: every acknowledged write is on the server"));
    char *text = scratch_keep(taskd_proc_read_file(json_flag + 7, NULL), scratch_free);
    assert_non_null(text);
    cJSON *json = scratch_keep(cJSON_Parse(text), scratch_json_delete);
    assert_non_null(json);
    assert_string_equal(fx_json_str(json, "schema"), "taskbench.audit/1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(json, "clean")));
    assert_int_equal(fx_json_int(json, "ok"), 5);
    assert_int_equal(fx_json_int(json, "rows_read"), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(json, "findings")), 0);
}

static void test_rows_deleted_behind_taskds_back_are_lost(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    const char *texts[5];
    for (int i = 0; i < 5; i++) {
        texts[i] = next_text(r, 'c');
        assert_int_equal(do_create(r, texts[i], i % 2, AS_STATUS), i + 1);
    }
    run_finish(r);
    behind_the_back(fx, "DELETE FROM tasks WHERE id IN (2, 4)");

    struct audit_report *rep = audit(r);
    expect_counts(rep, 3, 2, 0, 0);
    assert_int_equal(rep->nfindings, 2);
    expect_finding(&rep->findings[0], AUDIT_LOST, 2,
                   "the ok create at ledger line 2 (status 201) is missing: no row has this id",
                   texts[1], 1, NULL, 0);
    assert_int_equal(rep->findings[0].line, 2);
    assert_int_equal(rep->findings[0].op, LEDGER_CREATE);
    assert_int_equal(rep->findings[0].outcome, LEDGER_OK);
    assert_int_equal(rep->findings[0].status, 201);
    expect_finding(&rep->findings[1], AUDIT_LOST, 4,
                   "the ok create at ledger line 4 (status 201) is missing: no row has this id",
                   texts[3], 1, NULL, 0);

    char *out;
    assert_int_equal(audit_main_captured(r, NULL, &out), 1);
    char want[256];
    snprintf(want, sizeof want,
             "  lost id 2: the ok create at ledger line 2 (status 201) is missing: no row has "
             "this id\n      expected  task \"%s\", done true\n      found     no row\n",
             texts[1]);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "NOT CLEAN: 2 lost, 0 unexpected\n"));
}

/* Without a listing, each ledger id is read back at /tasks/{id}: the same losses are found, and
 * a create that named no id cannot be looked for, so it is unverifiable, not lost. */
static void test_read_back_without_a_listing_finds_the_same_losses(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    for (int i = 0; i < 5; i++)
        assert_int_equal(do_create(r, next_text(r, 'c'), i % 2, AS_STATUS), i + 1);
    assert_int_equal(do_delete(r, 5, AS_STATUS), 204);
    const char *idless = next_text(r, 'c');
    uint64_t t0 = clock_realtime_ns();
    char body[128];
    snprintf(body, sizeof body, "{\"task\":\"%s\",\"done\":false}", idless);
    fx_expect_status(fx_request(fx, "POST", "/tasks", fx_json_headers, body), 201);
    record(r, LEDGER_CREATE, 201, AS_STATUS, 0, idless, 0, t0); /* as if no id came back */
    run_finish(r);
    char *out;
    assert_int_equal(audit_main_captured(r, "--list-url=none", &out), 0);
    assert_non_null(strstr(out, "  verdict   ok 5, lost 0, unexpected 0, recovered 0, "
                                "unverifiable 1\n"));
    assert_non_null(strstr(out, "CLEAN AS FAR AS IT CAN SEE: nothing lost or unexpected, 1 "
                                "states unverifiable\n"));
    behind_the_back(fx, "DELETE FROM tasks WHERE id = 2");

    struct audit_options opt;
    audit_options_default(&opt);
    opt.retry_for_ns = 0;
    char err[512];
    assert_int_equal(resource_api_set(&opt.api, "list-url", "none", err, sizeof err), 0);
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    assert_int_equal(audit_run(r->path, r->url, &opt, rep, err, sizeof err), 0);
    assert_int_equal(rep->mode, AUDIT_READ_BACK);
    expect_counts(rep, 4, 1, 0, 0);
    assert_int_equal(rep->reads, 5);
    assert_int_equal(rep->rows_read, 3); /* 1, 3, 4: 2 was deleted, 5 acknowledged deleted */
    assert_int_equal(rep->pages, 0);
    assert_int_equal(rep->unverifiable, 1);
    assert_int_equal(rep->unverifiable_creates, 1);
    expect_id(&rep->findings[0], 2);

    assert_int_equal(audit_main_captured(r, "--list-url=none", &out), 1);
    assert_non_null(strstr(out, "  server    5 ids read back one by one (no listing), 3 found"));
    assert_non_null(strstr(out, "  warning   1 acknowledged creates named no id and, without a "
                                "listing (--list-url), cannot be looked for: unverifiable\n"));
}

static void test_writes_refused_but_made_are_unexpected(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    const char *refused_create = next_text(r, 'c');
    assert_int_equal(do_create(r, refused_create, 0, LEDGER_FAIL), 1); /* made, then "503" */
    const char *created = next_text(r, 'c');
    int64_t id = do_create(r, created, 0, AS_STATUS);
    assert_int_equal(id, 2);
    const char *refused_update = next_text(r, 'u');
    do_update(r, id, refused_update, 1, LEDGER_FAIL);
    run_finish(r);

    struct audit_report *rep = audit(r);
    expect_counts(rep, 0, 0, 2, 0);
    assert_int_equal(rep->ids_checked, 1);
    assert_int_equal(rep->creates_without_id, 1);
    assert_int_equal(rep->nfindings, 2);
    expect_finding(&rep->findings[0], AUDIT_UNEXPECTED, 1,
                   "the fail create at ledger line 1 (status 503) took effect as id 1", NULL, 0,
                   refused_create, 0);
    assert_int_equal(rep->findings[0].line, 1);
    assert_int_equal(rep->findings[0].outcome, LEDGER_FAIL);
    expect_finding(&rep->findings[1], AUDIT_UNEXPECTED, 2,
                   "the fail update at ledger line 3 (status 503) took effect: the row holds its "
                   "text",
                   created, 0, refused_update, 1);
    char *out;
    assert_int_equal(audit_main_captured(r, NULL, &out), 1);
    assert_non_null(strstr(out, "NOT CLEAN: 0 lost, 2 unexpected\n"));
}

static void test_indeterminate_writes_that_happened_are_recovered(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    assert_int_equal(do_create(r, next_text(r, 'c'), 0, LEDGER_INFO), 1); /* made, no answer */
    record_unsent(r, LEDGER_CREATE, 0, next_text(r, 'c'), 0);
    int64_t updated = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    do_update(r, updated, next_text(r, 'u'), 1, LEDGER_INFO);
    int64_t deleted = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    do_delete(r, deleted, LEDGER_INFO);
    int64_t untouched = do_create(r, next_text(r, 'c'), 1, AS_STATUS);
    record_unsent(r, LEDGER_UPDATE, untouched, next_text(r, 'u'), 0);
    record_unsent(r, LEDGER_DELETE, untouched, NULL, 0);
    run_finish(r);

    struct audit_report *rep = audit(r);
    /* recovered: the create, the update, the delete; ok: the unsent create, `untouched` */
    expect_counts(rep, 2, 0, 0, 3);
    assert_int_equal(rep->ops[LEDGER_CREATE][LEDGER_INFO], 2);
    assert_int_equal(rep->ops[LEDGER_UPDATE][LEDGER_INFO], 2);
    assert_int_equal(rep->ops[LEDGER_DELETE][LEDGER_INFO], 2);
    assert_true(audit_clean(rep));
    char *out;
    assert_int_equal(audit_main_captured(r, NULL, &out), 0);
    assert_non_null(strstr(out, "  verdict   ok 2, lost 0, unexpected 0, recovered 3\n"));
}

static void test_rows_changed_behind_taskds_back_are_lost(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    int64_t tampered = do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    const char *update1 = next_text(r, 'u');
    do_update(r, tampered, update1, 1, AS_STATUS);
    const char *create2 = next_text(r, 'c');
    int64_t rolled_back = do_create(r, create2, 0, AS_STATUS);
    const char *update2 = next_text(r, 'u');
    do_update(r, rolled_back, update2, 0, AS_STATUS);
    const char *create3 = next_text(r, 'c');
    int64_t flipped = do_create(r, create3, 1, AS_STATUS);
    run_finish(r);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE tasks SET task = 'tampered' WHERE id = %" PRId64 ";"
             "UPDATE tasks SET task = '%s', done = 0 WHERE id = %" PRId64 ";"
             "UPDATE tasks SET done = 0 WHERE id = %" PRId64 ";",
             tampered, create2, rolled_back, flipped);
    behind_the_back(fx, sql);

    struct audit_report *rep = audit(r);
    expect_counts(rep, 0, 3, 0, 0);
    assert_int_equal(rep->nfindings, 3);
    expect_finding(&rep->findings[0], AUDIT_LOST, tampered,
                   "the ok update at ledger line 2 (status 200) is missing: the row holds content "
                   "no write to this id made",
                   update1, 1, "tampered", 1);
    expect_finding(&rep->findings[1], AUDIT_LOST, rolled_back,
                   "the ok update at ledger line 4 (status 200) is missing: the row holds the "
                   "earlier create at line 3",
                   update2, 0, create2, 0);
    expect_finding(&rep->findings[2], AUDIT_LOST, flipped,
                   "the ok create at ledger line 5 (status 201) is missing: the row holds its "
                   "text with done=false",
                   create3, 1, create3, 0);
}

static void test_row_back_after_an_acknowledged_delete_is_lost(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    const char *text = next_text(r, 'c');
    int64_t id = do_create(r, text, 1, AS_STATUS);
    assert_int_equal(do_delete(r, id, AS_STATUS), 204);
    run_finish(r);
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO tasks (id, task, done, created_at, updated_at) VALUES (%" PRId64
             ", '%s', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
             id, text);
    behind_the_back(fx, sql);

    struct audit_report *rep = audit(r);
    expect_counts(rep, 0, 1, 0, 0);
    assert_int_equal(rep->nfindings, 1);
    expect_finding(&rep->findings[0], AUDIT_LOST, id,
                   "the ok delete at ledger line 2 (status 204) did not hold: the row is there",
                   NULL, 0, text, 1);
    assert_int_equal(rep->findings[0].op, LEDGER_DELETE);
}

static void test_rows_no_write_explains_are_unexpected_and_other_runs_ignored(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    const char *text = next_text(r, 'c');
    assert_int_equal(do_create(r, text, 0, AS_STATUS), 1);
    run_finish(r);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO tasks (id, task, done, created_at, updated_at) VALUES "
             "(100, '" TAG "-3-999c', 0, 'x', 'x'), (101, '%s', 0, 'x', 'x'), "
             "(102, 'lg-other-1-5c', 0, 'x', 'x'), (103, 'Buy milk', 1, 'x', 'x')",
             text);
    behind_the_back(fx, sql);

    struct audit_report *rep = audit(r);
    expect_counts(rep, 1, 0, 2, 0);
    assert_int_equal(rep->rows_read, 5);
    assert_int_equal(rep->rows_tagged, 3);
    assert_int_equal(rep->nfindings, 2);
    expect_finding(&rep->findings[0], AUDIT_UNEXPECTED, 100,
                   "the row carries this run's tag but no write in the ledger explains it", NULL, 0,
                   TAG "-3-999c", 0);
    assert_int_equal(rep->findings[0].line, 0);
    expect_finding(&rep->findings[1], AUDIT_UNEXPECTED, 101,
                   "the row holds the text of the ok create at ledger line 1 (status 201), which "
                   "wrote to id 1",
                   NULL, 0, text, 0);
}

static void test_tag_option_decides_which_rows_are_this_runs(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    assert_int_equal(do_create(r, next_text(r, 'c'), 0, AS_STATUS), 1);
    run_finish(r);
    fx_create(fx, "lg-other-1-5c");
    struct audit_options opt;
    audit_options_default(&opt);
    opt.tag = "lg-other";
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    char err[512];
    assert_int_equal(audit_run(r->path, r->url, &opt, rep, err, sizeof err), 0);
    assert_int_equal(rep->ntags, 1);
    assert_string_equal(rep->tags[0], "lg-other");
    expect_counts(rep, 1, 0, 1, 0);
    expect_id(&rep->findings[0], 2);
}

static void test_pages_past_1000_rows_are_all_read(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    enum { N = 2100 };
    for (int i = 0; i < N; i++)
        do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    run_finish(r);
    behind_the_back(fx, "DELETE FROM tasks WHERE id IN (1000, 1001, 1500, 2100)");

    struct audit_report *rep = audit(r);
    expect_counts(rep, N - 4, 4, 0, 0);
    assert_int_equal(rep->rows_read, N - 4);
    assert_int_equal(rep->pages, 3);
    assert_int_equal(rep->ids_checked, N);
    const int64_t lost[] = {1000, 1001, 1500, 2100};
    assert_int_equal(rep->nfindings, 4);
    for (size_t i = 0; i < 4; i++)
        expect_id(&rep->findings[i], lost[i]);
}

static void test_findings_beyond_max_report_are_counted(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    for (int i = 0; i < 5; i++)
        do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    run_finish(r);
    behind_the_back(fx, "DELETE FROM tasks");
    struct audit_options opt;
    audit_options_default(&opt);
    opt.max_report = 2;
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    char err[512];
    assert_int_equal(audit_run(r->path, r->url, &opt, rep, err, sizeof err), 0);
    expect_counts(rep, 0, 5, 0, 0);
    assert_int_equal(rep->nfindings, 2);
    char *out;
    assert_int_equal(audit_main_captured(r, "--max-report=1", &out), 1);
    assert_non_null(strstr(out, "  ... and 4 more (--max-report N shows more)\n"));
}

/* A history whose ledger ends early, as when loadgen is killed: after the last recorded line,
 * the run updated id 1, created id 4 and deleted id 3; and id 2 was rolled back behind taskd's
 * back to its create's text, which no later write of the run could have done. */
static void cut_history(struct fixture *fx, struct run *r)
{
    const char *a = next_text(r, 'c');
    assert_int_equal(do_create(r, a, 0, AS_STATUS), 1);
    const char *b = next_text(r, 'c');
    assert_int_equal(do_create(r, b, 0, AS_STATUS), 2);
    do_update(r, 2, next_text(r, 'u'), 1, AS_STATUS);
    assert_int_equal(do_create(r, next_text(r, 'c'), 0, AS_STATUS), 3);
    run_finish(r);
    char body[128];
    snprintf(body, sizeof body, "{\"task\":\"%s\",\"done\":true}", next_text(r, 'u'));
    fx_expect_status(fx_request(fx, "PUT", "/tasks/1", fx_json_headers, body), 200);
    fx_create(fx, next_text(r, 'c'));
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/3", NULL, NULL), 204);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE tasks SET task = '%s', done = 0 WHERE id = 2", b);
    behind_the_back(fx, sql);
}

static void expect_cut_history_verdicts(const struct audit_report *rep)
{
    assert_int_equal(rep->incomplete, 1);
    expect_counts(rep, 0, 1, 0, 0);
    assert_int_equal(rep->unverifiable, 3); /* ids 1 and 3 and the stray id 4 */
    assert_int_equal(rep->nfindings, 1);
    expect_id(&rep->findings[0], 2);
    assert_string_equal(rep->findings[0].reason,
                        "the ok update at ledger line 3 (status 200) is missing: the row holds "
                        "the earlier create at line 2");
}

static void test_torn_last_line_is_skipped_and_the_ledger_judged_as_a_prefix(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    cut_history(fx, r);
    FILE *f = fopen(r->path, "a");
    assert_non_null(f);
    fputs("{\"op\":\"create\",\"outcome\":\"ok\",\"status\":201,\"id\":4,\"ta", f);
    assert_int_equal(fclose(f), 0);

    struct audit_report *rep = audit(r);
    assert_int_equal(rep->torn_last_line, 1);
    assert_int_equal(rep->writes, 4);
    expect_cut_history_verdicts(rep);
    char *out;
    assert_int_equal(audit_main_captured(r, NULL, &out), 1);
    assert_non_null(strstr(out, "  warning   the ledger's last line was cut short"));
    assert_non_null(strstr(out, "  warning   the ledger is incomplete: writes after its end"));
    assert_non_null(
        strstr(out, "  verdict   ok 0, lost 1, unexpected 0, recovered 0, unverifiable 3\n"));
}

static void test_incomplete_flag_judges_a_cleanly_cut_ledger_as_a_prefix(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    cut_history(fx, r);
    struct audit_options opt;
    audit_options_default(&opt);
    opt.incomplete_ledger = 1;
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    char err[512];
    assert_int_equal(audit_run(r->path, r->url, &opt, rep, err, sizeof err), 0);
    assert_int_equal(rep->torn_last_line, 0);
    expect_cut_history_verdicts(rep);
    char *out;
    assert_int_equal(audit_main_captured(r, "--incomplete", &out), 1);
    assert_non_null(strstr(out, "unverifiable 3\n"));

    /* Taken as complete, the same ledger makes every later write a finding. */
    rep = audit(r);
    assert_int_equal(rep->incomplete, 0);
    expect_counts(rep, 0, 3, 1, 0);
    assert_int_equal(rep->unverifiable, 0);
}

static void test_incomplete_ledger_with_nothing_provable_exits_0(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    assert_int_equal(do_create(r, next_text(r, 'c'), 0, AS_STATUS), 1);
    run_finish(r);
    fx_create(fx, next_text(r, 'c')); /* after the cut */
    char *out;
    assert_int_equal(audit_main_captured(r, "--incomplete", &out), 0);
    assert_non_null(strstr(out, "CLEAN AS FAR AS THE LEDGER GOES: nothing provably lost or "
                                "unexpected, 1 states unverifiable\n"));
}

static void test_audit_of_a_stopped_taskd_is_an_error(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    do_create(r, next_text(r, 'c'), 0, AS_STATUS);
    run_finish(r);
    int status;
    assert_int_equal(taskd_proc_stop(&fx->proc, &status), 0);
    struct audit_options opt;
    audit_options_default(&opt);
    opt.retry_for_ns = 300 * 1000000ull;
    struct audit_report *rep = scratch_keep(calloc(1, sizeof *rep), free_report);
    char err[512], want[512];
    double t0 = fx_now_ms();
    assert_int_equal(audit_run(r->path, r->url, &opt, rep, err, sizeof err), -1);
    double waited = fx_now_ms() - t0;
    snprintf(want, sizeof want,
             "cannot read %s/tasks?limit=1000: Couldn't connect to server (is the service "
             "running there?)",
             r->url);
    assert_string_equal(err, want);
    if (waited < 300 || waited > 3000)
        fx_fail_at(__FILE__, __LINE__, "the audit gave up after %.0f ms, not after 300 ms", waited);
}

static void test_help_exits_0_with_usage(void **state)
{
    struct fixture *fx = *state;
    struct run *r = run_start(fx);
    run_finish(r);
    char *out;
    assert_int_equal(audit_main_captured(r, "--help", &out), 0);
    assert_non_null(strstr(out, "usage: loadgen audit --ledger FILE [options] URL\n"));
    assert_non_null(strstr(out, "Exit status: 0 nothing lost or unexpected, 1 something lost"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_healthy_history_audits_clean),
        T(test_rows_deleted_behind_taskds_back_are_lost),
        T(test_read_back_without_a_listing_finds_the_same_losses),
        T(test_writes_refused_but_made_are_unexpected),
        T(test_indeterminate_writes_that_happened_are_recovered),
        T(test_rows_changed_behind_taskds_back_are_lost),
        T(test_row_back_after_an_acknowledged_delete_is_lost),
        T(test_rows_no_write_explains_are_unexpected_and_other_runs_ignored),
        T(test_tag_option_decides_which_rows_are_this_runs),
        T(test_pages_past_1000_rows_are_all_read),
        T(test_findings_beyond_max_report_are_counted),
        T(test_torn_last_line_is_skipped_and_the_ledger_judged_as_a_prefix),
        T(test_incomplete_flag_judges_a_cleanly_cut_ledger_as_a_prefix),
        T(test_incomplete_ledger_with_nothing_provable_exits_0),
        T(test_audit_of_a_stopped_taskd_is_an_error),
        T(test_help_exits_0_with_usage),
    };
    return cmocka_run_group_tests_name("e2e_audit", tests, NULL, NULL);
}
