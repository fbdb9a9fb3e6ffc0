/*
 * Unit tests for service/routes: every route template, the id segment of /tasks/{id} at and
 * around its limits, the near-miss paths that must stay unknown routes, method parsing, and the
 * method table behind 405 answers and their Allow header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "routes.h"

static struct route_match matched(const char *path)
{
    struct route_match m;
    memset(&m, 0xA5, sizeof(m));
    route_match(path, &m);
    return m;
}

static void assert_route(const char *path, enum route_id route)
{
    struct route_match m = matched(path);
    assert_int_equal(m.route, route);
    if (route != ROUTE_TASK)
        assert_int_equal(m.id_valid, 0);
}

static void assert_task_id(const char *path, int64_t id)
{
    struct route_match m = matched(path);
    assert_int_equal(m.route, ROUTE_TASK);
    assert_int_equal(m.id_valid, 1);
    assert_true(m.task_id == id);
}

static void assert_invalid_task_id(const char *path)
{
    struct route_match m = matched(path);
    assert_int_equal(m.route, ROUTE_TASK);
    assert_int_equal(m.id_valid, 0);
}

static void test_route_matches_fixed_templates(void **state)
{
    (void)state;
    assert_route("/tasks", ROUTE_TASKS);
    assert_route("/metrics", ROUTE_METRICS);
    assert_route("/livez", ROUTE_LIVEZ);
    assert_route("/readyz", ROUTE_READYZ);
}

static void test_route_labels_are_the_templates(void **state)
{
    (void)state;
    assert_string_equal(route_label(ROUTE_TASKS), "/tasks");
    assert_string_equal(route_label(ROUTE_TASK), "/tasks/{id}");
    assert_string_equal(route_label(ROUTE_METRICS), "/metrics");
    assert_string_equal(route_label(ROUTE_LIVEZ), "/livez");
    assert_string_equal(route_label(ROUTE_READYZ), "/readyz");
    assert_string_equal(route_label(ROUTE_OTHER), "other");
}

static void test_route_task_with_small_ids(void **state)
{
    (void)state;
    assert_task_id("/tasks/1", 1);
    assert_task_id("/tasks/42", 42);
}

static void test_route_task_with_19_digit_int64_max(void **state)
{
    (void)state;
    assert_task_id("/tasks/9223372036854775807", INT64_MAX);
}

static void test_route_task_with_id_zero_is_invalid(void **state)
{
    (void)state;
    assert_invalid_task_id("/tasks/0");
}

static void test_route_task_with_negative_id_is_invalid(void **state)
{
    (void)state;
    assert_invalid_task_id("/tasks/-1");
}

static void test_route_task_with_id_past_int64_max_is_invalid(void **state)
{
    (void)state;
    assert_invalid_task_id("/tasks/9223372036854775808");
    assert_invalid_task_id("/tasks/9999999999999999999");
}

static void test_route_task_with_20_digit_id_is_invalid(void **state)
{
    (void)state;
    assert_invalid_task_id("/tasks/12345678901234567890");
    assert_invalid_task_id("/tasks/18446744073709551617");
}

static void test_route_task_with_non_numeric_id_is_invalid(void **state)
{
    (void)state;
    assert_invalid_task_id("/tasks/abc");
    assert_invalid_task_id("/tasks/1a");
    assert_invalid_task_id("/tasks/+1");
    assert_invalid_task_id("/tasks/ 1");
    assert_invalid_task_id("/tasks/1.0");
}

static void test_route_tasks_with_trailing_slash_is_unknown(void **state)
{
    (void)state;
    assert_route("/tasks/", ROUTE_OTHER);
}

static void test_route_task_with_trailing_slash_is_unknown(void **state)
{
    (void)state;
    assert_route("/tasks/1/", ROUTE_OTHER);
}

static void test_route_double_slash_is_unknown(void **state)
{
    (void)state;
    assert_route("//tasks", ROUTE_OTHER);
    assert_route("//tasks/1", ROUTE_OTHER);
}

static void test_route_path_below_a_task_is_unknown(void **state)
{
    (void)state;
    assert_route("/tasks/1/x", ROUTE_OTHER);
}

static void test_route_near_misses_are_unknown(void **state)
{
    (void)state;
    assert_route("", ROUTE_OTHER);
    assert_route("/", ROUTE_OTHER);
    assert_route("/TASKS", ROUTE_OTHER);
    assert_route("/tasksx", ROUTE_OTHER);
    assert_route("tasks", ROUTE_OTHER);
    assert_route("/metrics/", ROUTE_OTHER);
    assert_route("/livez/", ROUTE_OTHER);
    assert_route("/readyz ", ROUTE_OTHER);
}

static void test_route_parse_id_reads_only_n_bytes(void **state)
{
    (void)state;
    int64_t id = 0;
    assert_int_equal(route_parse_id("123abc", 3, &id), 0);
    assert_true(id == 123);
}

static void test_route_parse_id_refuses_empty_text(void **state)
{
    (void)state;
    int64_t id = 7;
    assert_int_equal(route_parse_id("", 0, &id), -1);
    assert_true(id == 7);
}

static void test_method_parse_knows_every_method(void **state)
{
    (void)state;
    assert_int_equal(method_parse("GET"), METHOD_GET);
    assert_int_equal(method_parse("HEAD"), METHOD_HEAD);
    assert_int_equal(method_parse("POST"), METHOD_POST);
    assert_int_equal(method_parse("PUT"), METHOD_PUT);
    assert_int_equal(method_parse("DELETE"), METHOD_DELETE);
    assert_int_equal(method_parse("PATCH"), METHOD_PATCH);
    assert_int_equal(method_parse("OPTIONS"), METHOD_OPTIONS);
}

static void test_method_parse_maps_unknown_methods_to_other(void **state)
{
    (void)state;
    assert_int_equal(method_parse("TRACE"), METHOD_OTHER);
    assert_int_equal(method_parse("CONNECT"), METHOD_OTHER);
    assert_int_equal(method_parse("get"), METHOD_OTHER);
    assert_int_equal(method_parse("GETX"), METHOD_OTHER);
    assert_int_equal(method_parse(""), METHOD_OTHER);
    assert_int_equal(method_parse("other"), METHOD_OTHER);
}

static void test_method_labels(void **state)
{
    (void)state;
    assert_string_equal(method_label(METHOD_GET), "GET");
    assert_string_equal(method_label(METHOD_HEAD), "HEAD");
    assert_string_equal(method_label(METHOD_POST), "POST");
    assert_string_equal(method_label(METHOD_PUT), "PUT");
    assert_string_equal(method_label(METHOD_DELETE), "DELETE");
    assert_string_equal(method_label(METHOD_PATCH), "PATCH");
    assert_string_equal(method_label(METHOD_OPTIONS), "OPTIONS");
    assert_string_equal(method_label(METHOD_OTHER), "other");
}

static void test_route_tasks_allows_get_head_post(void **state)
{
    (void)state;
    assert_true(route_allows(ROUTE_TASKS, METHOD_GET));
    assert_true(route_allows(ROUTE_TASKS, METHOD_HEAD));
    assert_true(route_allows(ROUTE_TASKS, METHOD_POST));
    assert_false(route_allows(ROUTE_TASKS, METHOD_PUT));
    assert_false(route_allows(ROUTE_TASKS, METHOD_DELETE));
    assert_false(route_allows(ROUTE_TASKS, METHOD_PATCH));
    assert_false(route_allows(ROUTE_TASKS, METHOD_OPTIONS));
    assert_false(route_allows(ROUTE_TASKS, METHOD_OTHER));
}

static void test_route_task_allows_get_head_put_delete(void **state)
{
    (void)state;
    assert_true(route_allows(ROUTE_TASK, METHOD_GET));
    assert_true(route_allows(ROUTE_TASK, METHOD_HEAD));
    assert_true(route_allows(ROUTE_TASK, METHOD_PUT));
    assert_true(route_allows(ROUTE_TASK, METHOD_DELETE));
    assert_false(route_allows(ROUTE_TASK, METHOD_POST));
    assert_false(route_allows(ROUTE_TASK, METHOD_PATCH));
    assert_false(route_allows(ROUTE_TASK, METHOD_OPTIONS));
    assert_false(route_allows(ROUTE_TASK, METHOD_OTHER));
}

static void test_route_probes_and_metrics_allow_only_get_and_head(void **state)
{
    (void)state;
    enum route_id routes[] = {ROUTE_METRICS, ROUTE_LIVEZ, ROUTE_READYZ};
    for (size_t i = 0; i < 3; i++) {
        for (int m = 0; m < METHOD_COUNT; m++) {
            int expected = m == METHOD_GET || m == METHOD_HEAD;
            assert_int_equal(route_allows(routes[i], (enum http_method)m), expected);
        }
    }
}

static void test_route_other_allows_nothing(void **state)
{
    (void)state;
    for (int m = 0; m < METHOD_COUNT; m++)
        assert_false(route_allows(ROUTE_OTHER, (enum http_method)m));
}

static void test_route_head_goes_wherever_get_does(void **state)
{
    (void)state;
    for (int r = 0; r < ROUTE_COUNT; r++)
        assert_int_equal(route_allows(r, METHOD_HEAD), route_allows(r, METHOD_GET));
}

static void test_route_allow_header_strings(void **state)
{
    (void)state;
    assert_string_equal(route_allow_header(ROUTE_TASKS), "GET, HEAD, POST");
    assert_string_equal(route_allow_header(ROUTE_TASK), "GET, HEAD, PUT, DELETE");
    assert_string_equal(route_allow_header(ROUTE_METRICS), "GET, HEAD");
    assert_string_equal(route_allow_header(ROUTE_LIVEZ), "GET, HEAD");
    assert_string_equal(route_allow_header(ROUTE_READYZ), "GET, HEAD");
    assert_string_equal(route_allow_header(ROUTE_OTHER), "");
}

static void test_route_allow_header_lists_exactly_the_allowed_methods(void **state)
{
    (void)state;
    for (int r = 0; r < ROUTE_COUNT; r++) {
        const char *allow = route_allow_header(r);
        for (int m = 0; m < METHOD_OTHER; m++) {
            const char *name = method_label(m);
            size_t n = strlen(name);
            int listed = 0;
            for (const char *p = strstr(allow, name); p; p = strstr(p + 1, name)) {
                if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
                    listed = 1;
            }
            assert_int_equal(listed, route_allows(r, m));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_matches_fixed_templates),
        cmocka_unit_test(test_route_labels_are_the_templates),
        cmocka_unit_test(test_route_task_with_small_ids),
        cmocka_unit_test(test_route_task_with_19_digit_int64_max),
        cmocka_unit_test(test_route_task_with_id_zero_is_invalid),
        cmocka_unit_test(test_route_task_with_negative_id_is_invalid),
        cmocka_unit_test(test_route_task_with_id_past_int64_max_is_invalid),
        cmocka_unit_test(test_route_task_with_20_digit_id_is_invalid),
        cmocka_unit_test(test_route_task_with_non_numeric_id_is_invalid),
        cmocka_unit_test(test_route_tasks_with_trailing_slash_is_unknown),
        cmocka_unit_test(test_route_task_with_trailing_slash_is_unknown),
        cmocka_unit_test(test_route_double_slash_is_unknown),
        cmocka_unit_test(test_route_path_below_a_task_is_unknown),
        cmocka_unit_test(test_route_near_misses_are_unknown),
        cmocka_unit_test(test_route_parse_id_reads_only_n_bytes),
        cmocka_unit_test(test_route_parse_id_refuses_empty_text),
        cmocka_unit_test(test_method_parse_knows_every_method),
        cmocka_unit_test(test_method_parse_maps_unknown_methods_to_other),
        cmocka_unit_test(test_method_labels),
        cmocka_unit_test(test_route_tasks_allows_get_head_post),
        cmocka_unit_test(test_route_task_allows_get_head_put_delete),
        cmocka_unit_test(test_route_probes_and_metrics_allow_only_get_and_head),
        cmocka_unit_test(test_route_other_allows_nothing),
        cmocka_unit_test(test_route_head_goes_wherever_get_does),
        cmocka_unit_test(test_route_allow_header_strings),
        cmocka_unit_test(test_route_allow_header_lists_exactly_the_allowed_methods),
    };
    return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
