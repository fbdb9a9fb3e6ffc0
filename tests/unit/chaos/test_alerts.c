/*
 * Unit tests for chaos/alerts: what became of an alert, read from the times its sources saw it
 * (fired after the injection or before it, resolved everywhere it fired or not); the slot of an
 * expected alert; which options ask for alerts at all; and the webhook source for real — a
 * receiver on port 0 gets Alertmanager's posts over HTTP, and polling stamps each alert's first
 * firing and its resolution, which counts only from a post in which none of the alert's
 * instances still fires. The experiment waits until every expected alert settled.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "clock.h"
#include "experiment_result.h"
#include "flag_value.h"
#include "http_fetch.h"
#include "run.h"
#include "builtin_experiments.h"
#include "scenarios.h"
#include "webhook.h"

static struct experiment_alert alert(double prom_firing, double prom_resolved, double hook_firing,
                                     double hook_resolved)
{
    struct experiment_alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.name, sizeof(a.name), "TaskdDatabaseDown");
    a.prom_pending_s = prom_firing;
    a.prom_firing_s = prom_firing;
    a.prom_resolved_s = prom_resolved;
    a.am_active_s = a.am_resolved_s = -1;
    a.hook_firing_s = hook_firing;
    a.hook_resolved_s = hook_resolved;
    return a;
}

static void test_the_outcome_follows_the_times_the_sources_saw(void **state)
{
    (void)state;
    const double injected = 3.0;
    struct {
        struct experiment_alert a;
        enum alerts_outcome want;
    } cases[] = {
        {alert(-1, -1, -1, -1), ALERTS_NEVER_FIRED},
        {alert(5, 12, -1, -1), ALERTS_FIRED_AND_RESOLVED},
        {alert(5, 12, 6, 13), ALERTS_FIRED_AND_RESOLVED},
        {alert(5, -1, -1, -1), ALERTS_NOT_RESOLVED},
        {alert(5, 12, 6, -1), ALERTS_NOT_RESOLVED}, /* the webhook never got "resolved" */
        {alert(-1, -1, 6, -1), ALERTS_NOT_RESOLVED},
        {alert(1, 12, -1, -1), ALERTS_FIRING_BEFORE},
        {alert(-1, -1, 2.5, 12), ALERTS_FIRING_BEFORE},
        {alert(3, 9, -1, -1), ALERTS_FIRED_AND_RESOLVED}, /* at the injection counts */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (alerts_outcome(&cases[i].a, injected) != cases[i].want)
            fail_msg("case %zu: outcome %d, expected %d", i, alerts_outcome(&cases[i].a, injected),
                     cases[i].want);
    }
    struct experiment_alert am_only = alert(-1, -1, -1, -1);
    am_only.am_active_s = 4;
    assert_int_equal(alerts_outcome(&am_only, injected), ALERTS_NOT_RESOLVED);
    am_only.am_resolved_s = 10;
    assert_int_equal(alerts_outcome(&am_only, injected), ALERTS_FIRED_AND_RESOLVED);
}

static void test_an_expected_alert_gets_one_slot(void **state)
{
    (void)state;
    struct experiment_result *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    experiment_result_init(res, builtin_experiment_find("db-deleted"));
    struct experiment_alert *a = alerts_expect(res, "TaskdDatabaseDown");
    assert_non_null(a);
    assert_int_equal(a->expected, 1);
    assert_true(a->prom_firing_s == -1 && a->hook_resolved_s == -1 && a->am_active_s == -1);
    assert_ptr_equal(alerts_expect(res, "TaskdDatabaseDown"), a);
    assert_int_equal(res->nalerts, 1);
    for (int i = 1; i < EXPERIMENT_MAX_ALERTS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Alert%d", i);
        assert_non_null(alerts_expect(res, name));
    }
    assert_null(alerts_expect(res, "OneTooMany"));
    experiment_result_free(res);
    free(res);
}

static void test_alerts_are_wanted_when_a_source_is_given(void **state)
{
    (void)state;
    struct experiment_options o;
    experiment_options_default(&o);
    assert_false(alerts_wanted(&o));
    o.alertmanager_url = "http://127.0.0.1:9093";
    assert_true(alerts_wanted(&o));
    experiment_options_default(&o);
    o.prometheus_url = "http://127.0.0.1:9090";
    assert_true(alerts_wanted(&o));
}

/* ---- the webhook source, for real ---------------------------------------------------------- */

struct hooked {
    struct webhook *hook;
    char url[80];
    struct experiment_options o;
    struct experiment_result res;
    struct run r;
};

static int start_hook(void **state)
{
    struct hooked *h = calloc(1, sizeof(*h));
    struct listen_addr addr;
    char err[300];
    if (!h || flag_addr("webhook-listen", "127.0.0.1:0", &addr, err, sizeof(err)) < 0 ||
        webhook_start(&h->hook, &addr, err, sizeof(err)) < 0) {
        free(h);
        return -1;
    }
    snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u/alerts", webhook_port(h->hook));
    experiment_options_default(&h->o);
    h->o.webhook = h->hook;
    experiment_result_init(&h->res, builtin_experiment_find("db-deleted"));
    h->res.start_unix_ns = clock_realtime_ns();
    h->res.injected_s = 0;
    h->r.sc = h->res.sc;
    h->r.o = &h->o;
    h->r.res = &h->res;
    h->r.t0 = clock_monotonic_ns();
    *state = h;
    return 0;
}

static int stop_hook(void **state)
{
    struct hooked *h = *state;
    webhook_stop(h->hook);
    experiment_result_free(&h->res);
    free(h);
    return 0;
}

/* One Alertmanager notification: `alerts` is the JSON of its alerts array. */
static void post(const struct hooked *h, const char *alerts)
{
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"version\":\"4\",\"receiver\":\"chaos\",\"status\":\"firing\",\"alerts\":[%s],"
             "\"groupKey\":\"{}:{alertname=\\\"x\\\"}\"}",
             alerts);
    assert_int_equal(http_fetch_post_json(h->url, body, 2000, NULL, NULL, 0), 200);
}

#define ALERT(name, status, state)                                                                 \
    "{\"status\":\"" status "\",\"labels\":{\"alertname\":\"" name "\",\"state\":\"" state "\"}}"

static const struct experiment_alert *slot(const struct experiment_result *res, const char *name)
{
    for (size_t i = 0; i < res->nalerts; i++) {
        if (strcmp(res->alerts[i].name, name) == 0)
            return &res->alerts[i];
    }
    return NULL;
}

static void
test_the_webhook_stamps_firing_then_a_resolution_without_any_instance_firing(void **state)
{
    struct hooked *h = *state;
    /* Nothing posted yet: no expected alert fired, so the experiment goes on waiting. */
    alerts_poll(&h->r);
    assert_false(alerts_settled(&h->r, NULL));
    post(h, ALERT("TaskdDatabaseDown", "firing", "x") "," ALERT("TaskdDatabaseFileStateNotOk",
                                                                "firing", "missing"));
    alerts_poll(&h->r);
    const struct experiment_alert *down = slot(&h->res, "TaskdDatabaseDown");
    const struct experiment_alert *file = slot(&h->res, "TaskdDatabaseFileStateNotOk");
    assert_non_null(down);
    assert_non_null(file);
    assert_true(down->hook_firing_s >= 0 && down->hook_resolved_s < 0);
    assert_false(alerts_settled(&h->r, NULL));
    /* One instance resolved while another of the same alert still fires: not resolved. */
    post(h, ALERT("TaskdDatabaseFileStateNotOk", "resolved",
                  "missing") "," ALERT("TaskdDatabaseFileStateNotOk", "firing", "is_directory"));
    alerts_poll(&h->r);
    assert_true(file->hook_resolved_s < 0);
    post(h, ALERT("TaskdDatabaseDown", "resolved", "x") "," ALERT("TaskdDatabaseFileStateNotOk",
                                                                  "resolved", "is_directory"));
    alerts_poll(&h->r);
    assert_true(down->hook_resolved_s >= down->hook_firing_s);
    assert_true(file->hook_resolved_s >= file->hook_firing_s);
    assert_true(alerts_settled(&h->r, NULL));
    assert_int_equal(alerts_outcome(down, h->res.injected_s), ALERTS_FIRED_AND_RESOLVED);
    assert_int_equal(h->res.webhook_posts, 3);
    /* A later flap moves neither time. */
    double fired = down->hook_firing_s;
    post(h, ALERT("TaskdDatabaseDown", "firing", "x"));
    alerts_poll(&h->r);
    assert_true(down->hook_firing_s == fired);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_outcome_follows_the_times_the_sources_saw),
        cmocka_unit_test(test_an_expected_alert_gets_one_slot),
        cmocka_unit_test(test_alerts_are_wanted_when_a_source_is_given),
        cmocka_unit_test_setup_teardown(
            test_the_webhook_stamps_firing_then_a_resolution_without_any_instance_firing,
            start_hook, stop_hook),
    };
    return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
