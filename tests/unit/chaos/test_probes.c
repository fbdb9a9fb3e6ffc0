/*
 * Unit tests for chaos/probes' readers: a metric (by name and one label, or summed over every
 * label set) and the database file state from a Prometheus exposition, and the alert lists of
 * Prometheus's and Alertmanager's APIs, with what each refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "probes.h"

static void test_metrics_reader_takes_what_the_verdict_needs(void **state)
{
    (void)state;
    static const char text[] =
        "# HELP taskd_db_up 1 when usable.\n# TYPE taskd_db_up gauge\ntaskd_db_up 0\n"
        "taskd_db_file_state{state=\"ok\"} 0\ntaskd_db_file_state{state=\"unlinked\"} 1\n"
        "taskd_db_errors_total{code=\"SQLITE_BUSY\"} 3\n"
        "taskd_db_errors_total{code=\"SQLITE_FULL\"} 7\n"
        "http_requests_total{method=\"GET\",route=\"/tasks\",code=\"200\"} 1.5e3\n";
    double v;
    assert_int_equal(probes_metric(text, "taskd_db_up", NULL, NULL, &v), 0);
    assert_true(v == 0);
    assert_int_equal(probes_metric(text, "taskd_db_errors_total", "code", "SQLITE_FULL", &v), 0);
    assert_true(v == 7);
    assert_int_equal(probes_metric(text, "taskd_db_errors_total", NULL, NULL, &v), 0);
    assert_true(v == 10); /* all codes summed */
    assert_int_equal(probes_metric(text, "http_requests_total", "route", "/tasks", &v), 0);
    assert_true(v == 1500);
    assert_int_equal(probes_metric(text, "taskd_db_errors_total", "code", "SQLITE_IOERR", &v), -1);
    assert_int_equal(probes_metric(text, "taskd_db", NULL, NULL, &v), -1);
    char state_name[PROBES_STATE_LEN];
    assert_int_equal(probes_file_state(text, state_name, sizeof(state_name)), 0);
    assert_string_equal(state_name, "unlinked");
    assert_int_equal(probes_file_state("taskd_db_up 1\n", state_name, sizeof(state_name)), -1);
}

static void test_alert_lists_of_prometheus_and_alertmanager_parse(void **state)
{
    (void)state;
    struct probe_alert a[4];
    size_t n;
    char err[300];
    static const char prom[] =
        "{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"alertname\":"
        "\"TaskdDatabaseDown\",\"severity\":\"critical\"},\"state\":\"firing\"},{\"labels\":"
        "{\"alertname\":\"TaskdDatabaseErrors\"},\"state\":\"pending\"}]}}";
    assert_int_equal(probes_parse_prometheus_alerts(prom, a, 4, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].name, "TaskdDatabaseDown");
    assert_string_equal(a[0].state, "firing");
    assert_string_equal(a[1].name, "TaskdDatabaseErrors");
    assert_string_equal(a[1].state, "pending");
    static const char am[] = "[{\"labels\":{\"alertname\":\"TaskdDatabaseDown\"},\"status\":"
                             "{\"state\":\"active\",\"silencedBy\":[]}}]";
    assert_int_equal(probes_parse_alertmanager_alerts(am, a, 4, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].state, "active");
    assert_int_equal(
        probes_parse_prometheus_alerts("{\"status\":\"error\"}", a, 4, &n, err, sizeof(err)), -1);
    assert_int_equal(probes_parse_alertmanager_alerts("{}", a, 4, &n, err, sizeof(err)), -1);
    assert_int_equal(
        probes_parse_alertmanager_alerts("[{\"labels\":{}}]", a, 4, &n, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_reader_takes_what_the_verdict_needs),
        cmocka_unit_test(test_alert_lists_of_prometheus_and_alertmanager_parse),
    };
    return cmocka_run_group_tests_name("probes", tests, NULL, NULL);
}
