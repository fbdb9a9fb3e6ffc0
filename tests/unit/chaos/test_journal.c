/*
 * Unit tests for chaos/journal: the JSON journal (schema taskbench.chaos/1, docs/chaos.md) of
 * known results read back with cJSON — the run's status from its experiments, times as seconds
 * or null when a phase was not reached, the checks in order, the writes with the audit's
 * counts only when it ran, the alerts only when they were checked (with the time to fire and
 * resolve counted from the injection and the rollback), the probes as columns, the audit's own
 * JSON embedded; the exit code; the human summary; and a journal over its limit is
 * refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "experiment_result.h"
#include "journal.h"
#include "builtin_experiments.h"
#include "scenarios.h"

struct fixture {
    struct experiment_result a, b;
    struct buf out;
    cJSON *doc;
};

static void add_check(struct experiment_result *res, const char *name, int passed,
                      const char *detail)
{
    struct experiment_check *c = &res->checks[res->nchecks++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->passed = passed;
    snprintf(c->detail, sizeof(c->detail), "%s", detail);
}

/* A db-deleted experiment that passed, with two probes, an audit and one alert. */
static void passed_run(struct experiment_result *r)
{
    experiment_result_init(r, builtin_experiment_find("db-deleted"));
    r->status = EXPERIMENT_PASSED;
    snprintf(r->mechanism, sizeof(r->mechanism), "rename WORK/db-deleted/data/tasks.db away");
    r->start_unix_ns = 1764219662123456789ull;
    r->injected_s = 3.0;
    r->detected_s = 3.05;
    r->time_to_detect_s = 0.05;
    r->rolled_back_s = 8.0;
    r->recovered_s = 8.25;
    r->time_to_recover_s = 0.25;
    r->ended_s = 9.5;
    r->writes_acknowledged = 900;
    r->writes_failed = 40;
    r->refused_in_fault = 40;
    r->audit_ran = 1;
    r->recovered = 1;
    r->audit_json = strdup("{\"verdict\":{\"lost\":0},\"ids\":[1764219662123456789]}");
    snprintf(r->integrity, sizeof(r->integrity), "ok");
    add_check(r, "steady state", 1, "0 of 30 probes not ready");
    add_check(r, "detected", 1, "after 0.050 s");
    r->probes = calloc(EXPERIMENT_MAX_PROBES, sizeof(*r->probes));
    r->probes[0] = (struct probe_sample){
        .t = 3.0, .readyz = 200, .db_up = 1, .db_errors = 0, .wal_present = -1};
    snprintf(r->probes[0].file_state, PROBES_STATE_LEN, "ok");
    r->probes[1] = (struct probe_sample){
        .t = 3.1, .readyz = 503, .db_up = 0, .db_errors = -1, .wal_present = -1};
    snprintf(r->probes[1].file_state, PROBES_STATE_LEN, "unlinked");
    r->nprobes = 2;
    r->alerts_checked = 1;
    r->webhook_posts = 2;
    struct experiment_alert *al = &r->alerts[r->nalerts++];
    snprintf(al->name, sizeof(al->name), "TaskdDatabaseDown");
    al->expected = 1;
    al->prom_pending_s = al->prom_firing_s = 5.0;
    al->prom_resolved_s = 11.0;
    al->am_active_s = al->am_resolved_s = -1;
    al->hook_firing_s = 5.5;
    al->hook_resolved_s = 12.0;
}

/* A kill-9 experiment that could not run: nothing reached. */
static void error_run(struct experiment_result *r)
{
    experiment_result_init(r, builtin_experiment_find("kill-9"));
    snprintf(r->reason, sizeof(r->reason), "taskd at http://127.0.0.1:9 does not answer /livez");
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    passed_run(&f->a);
    error_run(&f->b);
    buf_init(&f->out, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    experiment_result_free(&f->a);
    experiment_result_free(&f->b);
    buf_free(&f->out);
    cJSON_Delete(f->doc);
    free(f);
    return 0;
}

static const cJSON *at(const cJSON *obj, const char *path)
{
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", path);
    char *save = NULL;
    for (char *key = strtok_r(copy, ".", &save); key && obj; key = strtok_r(NULL, ".", &save))
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!obj)
        fail_msg("the journal has nothing at %s", path);
    return obj;
}

static double num(const cJSON *obj, const char *path)
{
    const cJSON *n = at(obj, path);
    if (!cJSON_IsNumber(n))
        fail_msg("%s is not a number", path);
    return n->valuedouble;
}

static const char *str(const cJSON *obj, const char *path)
{
    const cJSON *s = at(obj, path);
    if (!cJSON_IsString(s))
        fail_msg("%s is not a string", path);
    return s->valuestring;
}

static cJSON *render(struct fixture *f, const struct experiment_result *const *runs, size_t n)
{
    assert_int_equal(journal_render(runs, n, &f->out), 0);
    assert_true(f->out.len > 0 && f->out.data[f->out.len - 1] == '\n');
    f->doc = cJSON_Parse(f->out.data);
    assert_non_null(f->doc);
    return f->doc;
}

static void test_a_passed_experiment_is_reported_field_by_field(void **state)
{
    struct fixture *f = *state;
    const struct experiment_result *runs[] = {&f->a};
    cJSON *doc = render(f, runs, 1);
    assert_string_equal(str(doc, "schema"), "taskbench.chaos/1");
    assert_string_equal(str(doc, "status"), "passed");
    assert_true(cJSON_IsFalse(at(doc, "deviated")));
    const cJSON *e = cJSON_GetArrayItem(at(doc, "experiments"), 0);
    assert_string_equal(str(e, "scenario"), "db-deleted");
    assert_string_equal(str(e, "status"), "passed");
    assert_true(cJSON_IsNull(at(e, "reason")));
    assert_true(num(e, "times.injected_s") == 3.0);
    assert_true(num(e, "time_to_detect_s") == 0.05);
    assert_true(num(e, "time_to_recover_s") == 0.25);
    assert_string_equal(str(e, "expected.file_state"), "unlinked");
    assert_true(cJSON_IsTrue(at(e, "expected.writes_refused")));
    assert_int_equal(cJSON_GetArraySize(at(e, "checks")), 2);
    assert_string_equal(str(cJSON_GetArrayItem(at(e, "checks"), 1), "name"), "detected");
    assert_true(num(e, "writes.acknowledged") == 900);
    assert_true(num(e, "writes.refused_in_fault") == 40);
    assert_true(num(e, "writes.lost") == 0);
    assert_true(num(e, "writes.recovered") == 1);
    assert_string_equal(str(e, "observed.integrity_check"), "ok");
    /* The audit's JSON is embedded through cJSON: a 19-digit number (a time in unix ns) stays
     * digits, not an exponent, though only to a double's precision. */
    assert_non_null(strstr(f->out.data, "\"ids\":[17642196621234567"));
    assert_null(strstr(f->out.data, "e+18"));
    assert_true(num(e, "audit.verdict.lost") == 0);
    assert_true(cJSON_IsNull(at(e, "load")));
    /* Alerts: times from the injection and from the rollback, the webhook's preferred. */
    const cJSON *seen = cJSON_GetArrayItem(at(e, "alerts.seen"), 0);
    assert_string_equal(str(seen, "name"), "TaskdDatabaseDown");
    assert_true(num(seen, "time_to_fire_s") == 2.5);
    assert_true(num(seen, "time_to_resolve_s") == 4.0);
    assert_true(cJSON_IsNull(at(seen, "alertmanager_active_s")));
    assert_true(num(e, "alerts.webhook_posts") == 2);
    /* Probes as columns. */
    assert_true(num(e, "probes.count") == 2);
    assert_int_equal(cJSON_GetArraySize(at(e, "probes.readyz")), 2);
    assert_true(cJSON_GetArrayItem(at(e, "probes.readyz"), 1)->valuedouble == 503);
    assert_string_equal(cJSON_GetArrayItem(at(e, "probes.file_state"), 1)->valuestring, "unlinked");
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(at(e, "probes.db_errors"), 1)));
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(at(e, "probes.wal"), 0)));
}

static void test_an_experiment_that_could_not_run_has_nulls_and_makes_the_run_an_error(void **state)
{
    struct fixture *f = *state;
    const struct experiment_result *runs[] = {&f->a, &f->b};
    cJSON *doc = render(f, runs, 2);
    assert_string_equal(str(doc, "status"), "error");
    const cJSON *e = cJSON_GetArrayItem(at(doc, "experiments"), 1);
    assert_string_equal(str(e, "status"), "error");
    assert_string_equal(str(e, "reason"), "taskd at http://127.0.0.1:9 does not answer /livez");
    assert_true(cJSON_IsNull(at(e, "times.injected_s")));
    assert_true(cJSON_IsNull(at(e, "time_to_detect_s")));
    assert_true(cJSON_IsNull(at(e, "writes.lost")));
    assert_true(cJSON_IsNull(at(e, "audit")));
    assert_true(cJSON_IsNull(at(e, "alerts")));
    assert_true(cJSON_IsNull(at(e, "observed.integrity_check")));
    assert_int_equal(cJSON_GetArraySize(at(e, "checks")), 0);
}

static void test_the_exit_code_is_the_worst_status(void **state)
{
    struct fixture *f = *state;
    const struct experiment_result *one[] = {&f->a};
    assert_int_equal(journal_exit_code(one, 1), 0);
    f->a.status = EXPERIMENT_SKIPPED;
    assert_int_equal(journal_exit_code(one, 1), 0);
    f->a.status = EXPERIMENT_ABORTED;
    assert_int_equal(journal_exit_code(one, 1), 1);
    f->a.status = EXPERIMENT_DEVIATED;
    assert_int_equal(journal_exit_code(one, 1), 1);
    const struct experiment_result *two[] = {&f->a, &f->b};
    assert_int_equal(journal_exit_code(two, 2), 2);
    assert_int_equal(journal_exit_code(NULL, 0), 0);
    render(f, one, 1);
    assert_string_equal(str(f->doc, "status"), "deviated");
    assert_true(cJSON_IsTrue(at(f->doc, "deviated")));
}

static void test_the_summary_says_what_happened(void **state)
{
    struct fixture *f = *state;
    const struct experiment_result *runs[] = {&f->a, &f->b};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    journal_print(runs, 2, out);
    fclose(out);
    static const char *const lines[] = {
        "db-deleted: passed\n",
        "  injected:          rename WORK/db-deleted/data/tasks.db away\n",
        "  time to detect:    0.050 s\n",
        "  time to recover:   0.250 s\n",
        "  writes:            900 acknowledged, 40 refused, 0 indeterminate; audit: 0 lost, 0 "
        "unexpected, 1 recovered\n",
        "  [ok] detected: after 0.050 s\n",
        "  alert TaskdDatabaseDown: fired 2.5 s after the injection, resolved 4.0 s after the "
        "rollback\n",
        "kill-9: error\n  taskd at http://127.0.0.1:9 does not answer /livez\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!strstr(text, lines[i]))
            fail_msg("the summary lacks \"%s\":\n%s", lines[i], text);
    }
    free(text);
}

static void test_a_journal_over_its_limit_is_refused(void **state)
{
    struct fixture *f = *state;
    const struct experiment_result *runs[] = {&f->a};
    struct buf small;
    buf_init(&small, 256);
    assert_int_equal(journal_render(runs, 1, &small), -1);
    buf_free(&small);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_passed_experiment_is_reported_field_by_field),
        T(test_an_experiment_that_could_not_run_has_nulls_and_makes_the_run_an_error),
        T(test_the_exit_code_is_the_worst_status),
        T(test_the_summary_says_what_happened),
        T(test_a_journal_over_its_limit_is_refused),
    };
    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
