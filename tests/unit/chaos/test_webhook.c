/*
 * Unit tests for chaos/webhook, Alertmanager's receiver, talked to over real HTTP on port 0:
 * each alert of a payload is stamped when it arrived, with its status and receiver; another
 * payload version, a body that is not JSON, a method other than POST and a body over 1 MiB are
 * refused with the status Alertmanager needs (no retry for a 4xx) and are not counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "flag_value.h"
#include "http_fetch.h"
#include "webhook.h"

static void test_webhook_receiver_timestamps_each_alert(void **state)
{
    (void)state;
    struct webhook *w;
    char err[300];
    struct listen_addr addr;
    assert_int_equal(flag_addr("webhook-listen", "127.0.0.1:0", &addr, err, sizeof(err)), 0);
    assert_int_equal(webhook_start(&w, &addr, err, sizeof(err)), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/alerts", webhook_port(w));
    static const char body[] =
        "{\"version\":\"4\",\"receiver\":\"chaos\",\"status\":\"firing\",\"alerts\":["
        "{\"status\":\"firing\",\"labels\":{\"alertname\":\"TaskdDatabaseDown\"},"
        "\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\"},"
        "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"TaskdDatabaseErrors\"}}],"
        "\"groupKey\":\"{}:{}\"}";
    struct buf answer;
    buf_init(&answer, 4096);
    uint64_t before = clock_realtime_ns();
    assert_int_equal(http_fetch_post_json(url, body, 2000, &answer, NULL, 0), 200);
    uint64_t after = clock_realtime_ns();
    assert_string_equal(answer.data, "ok\n");
    assert_int_equal(
        http_fetch_post_json(url, "{\"version\":\"3\",\"alerts\":[]}", 2000, &answer, NULL, 0),
        400);
    assert_string_equal(answer.data, "the webhook payload version is not \"4\"\n");
    assert_int_equal(http_fetch_post_json(url, "not json", 2000, &answer, NULL, 0), 400);
    assert_int_equal(http_fetch_get(url, 2000, &answer, NULL, 0), 405);
    assert_string_equal(answer.data, "only POST is accepted: this is an Alertmanager webhook\n");
    /* Over 1 MiB: refused before it is parsed or counted. */
    char *big = malloc((1u << 20) + 2);
    assert_non_null(big);
    memset(big, ' ', (1u << 20) + 1);
    big[(1u << 20) + 1] = '\0';
    assert_int_equal(http_fetch_post_json(url, big, 5000, NULL, NULL, 0), 413);
    free(big);
    buf_free(&answer);
    struct webhook_event ev[4];
    assert_int_equal(webhook_events(w, 0, ev, 4), 2);
    assert_string_equal(ev[0].alertname, "TaskdDatabaseDown");
    assert_string_equal(ev[0].status, "firing");
    assert_string_equal(ev[0].receiver, "chaos");
    assert_string_equal(ev[1].alertname, "TaskdDatabaseErrors");
    assert_string_equal(ev[1].status, "resolved");
    assert_true(ev[0].unix_ns >= before && ev[0].unix_ns <= after);
    assert_int_equal(webhook_events(w, 1, ev, 4), 1);
    assert_int_equal(webhook_posts(w), 3); /* neither the GET nor the refused body */
    assert_int_equal(webhook_dropped(w), 0);
    webhook_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_receiver_timestamps_each_alert),
    };
    return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
