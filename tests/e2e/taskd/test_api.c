/*
 * test_api: the HTTP API of DESIGN.md, request by request, against a real taskd: create, read,
 * update, delete, HEAD, listing order and pagination, health endpoints, request ids and the
 * shape of every error body. Each test starts its own taskd on an empty database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fixture.h"
#include "scratch.h"

static int64_t realtime_ms(void)
{
    return (int64_t)(clock_realtime_ns() / 1000000u);
}

/* The exact bytes curl sends for the blog's command, with the test's Host. */
static void test_blog_post_request_creates_task(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    char req[512];
    snprintf(req, sizeof(req),
             "POST /tasks HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: curl/7.88.1\r\n"
             "Accept: */*\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n"
             "{\"task\": \"Test\"}",
             (unsigned)fx->proc.port);
    fx_send(c, req);
    struct http_response *res = fx_read(c, "POST");
    fx_expect_status(res, 201);
    assert_string_equal(http_header(res, "Location"), "/tasks/1");
    assert_string_equal(http_header(res, "Content-Type"), "application/json");
    cJSON *task = fx_json(res);
    fx_expect_task(task, 1, "Test", 0);
}

static void test_created_task_timestamps_are_now_in_utc_ms(void **state)
{
    struct fixture *fx = *state;
    int64_t before = realtime_ms();
    cJSON *task = fx_create(fx, "Buy milk");
    int64_t after = realtime_ms();
    const char *created = fx_json_str(task, "created_at");
    assert_string_equal(fx_json_str(task, "updated_at"), created);
    int64_t at = fx_rfc3339_ms_epoch(created);
    if (at < before || at > after)
        fx_fail_at(__FILE__, __LINE__, "created_at %s is outside the request's window", created);
}

static void test_get_returns_the_created_task(void **state)
{
    struct fixture *fx = *state;
    struct http_response *created = fx_request(fx, "POST", "/tasks", fx_json_headers,
                                               "{\"task\":\"Read the design\",\"done\":true}");
    fx_expect_status(created, 201);
    struct http_response *res = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(http_header(res, "Content-Type"), "application/json");
    assert_string_equal(res->body, created->body);
    fx_expect_task(fx_json(res), 1, "Read the design", 1);
}

static void test_get_unknown_task_is_404_task_not_found(void **state)
{
    struct fixture *fx = *state;
    fx_expect_error(fx_request(fx, "GET", "/tasks/42", NULL, NULL), 404, "task_not_found");
}

static void test_task_text_round_trips_unicode_and_escapes(void **state)
{
    struct fixture *fx = *state;
    const char *text = "Buy milk \xf0\x9f\xa5\x9b \xc3\xbc"
                       "n\xc3\xaf"
                       "c\xc3\xb6"
                       "de \"quoted\" "
                       "back\\slash\ttab\nnew line \xe2\x80\xa8";
    cJSON *task = fx_create(fx, text);
    fx_expect_task(task, 1, text, 0);
    struct http_response *res = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    fx_expect_task(fx_json(res), 1, text, 0);
}

static void test_put_done_only_keeps_the_text(void **state)
{
    struct fixture *fx = *state;
    cJSON *created = fx_create(fx, "Water the plants");
    fx_sleep_ms(5); /* timestamps have millisecond resolution */
    struct http_response *res =
        fx_request(fx, "PUT", "/tasks/1", fx_json_headers, "{\"done\":true}");
    fx_expect_status(res, 200);
    cJSON *task = fx_json(res);
    fx_expect_task(task, 1, "Water the plants", 1);
    assert_string_equal(fx_json_str(task, "created_at"), fx_json_str(created, "created_at"));
    assert_true(strcmp(fx_json_str(task, "updated_at"), fx_json_str(task, "created_at")) > 0);
    struct http_response *again = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    assert_string_equal(again->body, res->body);
}

static void test_put_task_only_keeps_done(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Old text");
    fx_expect_status(fx_request(fx, "PUT", "/tasks/1", fx_json_headers, "{\"done\":true}"), 200);
    struct http_response *res =
        fx_request(fx, "PUT", "/tasks/1", fx_json_headers, "{\"task\":\"New text\"}");
    fx_expect_status(res, 200);
    fx_expect_task(fx_json(res), 1, "New text", 1);
}

static void test_put_task_and_done_together(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Old text");
    struct http_response *res = fx_request(fx, "PUT", "/tasks/1", fx_json_headers,
                                           "{\"task\":\"Both changed\",\"done\":true}");
    fx_expect_status(res, 200);
    fx_expect_task(fx_json(res), 1, "Both changed", 1);
    res = fx_request(fx, "PUT", "/tasks/1", fx_json_headers, "{\"done\":false}");
    fx_expect_task(fx_json(res), 1, "Both changed", 0);
}

/* Read-only fields are ignored, so GET → modify → PUT works (and cannot change the id). */
static void test_put_accepts_the_task_as_returned_by_get(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Round trip");
    struct http_response *got = fx_request(fx, "GET", "/tasks/1", NULL, NULL);
    cJSON *task = cJSON_Duplicate(fx_json(got), 1);
    scratch_keep(task, scratch_json_delete);
    cJSON_ReplaceItemInObjectCaseSensitive(task, "done", cJSON_CreateTrue());
    cJSON_ReplaceItemInObjectCaseSensitive(task, "id", cJSON_CreateNumber(99));
    char *body = scratch_keep(cJSON_PrintUnformatted(task), scratch_free);
    struct http_response *res = fx_request(fx, "PUT", "/tasks/1", fx_json_headers, body);
    fx_expect_status(res, 200);
    fx_expect_task(fx_json(res), 1, "Round trip", 1);
    fx_expect_error(fx_request(fx, "GET", "/tasks/99", NULL, NULL), 404, "task_not_found");
}

static void test_put_unknown_task_is_404(void **state)
{
    struct fixture *fx = *state;
    fx_expect_error(fx_request(fx, "PUT", "/tasks/7", fx_json_headers, "{\"done\":true}"), 404,
                    "task_not_found");
}

static void test_delete_is_204_then_the_task_is_gone(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Short-lived");
    struct http_response *res = fx_request(fx, "DELETE", "/tasks/1", NULL, NULL);
    fx_expect_status(res, 204);
    assert_int_equal(res->body_len, 0);
    assert_null(http_header(res, "Content-Type"));
    assert_null(http_header(res, "Content-Length")); /* RFC 9110: never on a 204 */
    fx_expect_error(fx_request(fx, "GET", "/tasks/1", NULL, NULL), 404, "task_not_found");
}

static void test_delete_unknown_task_is_404(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Deleted once");
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/1", NULL, NULL), 204);
    fx_expect_error(fx_request(fx, "DELETE", "/tasks/1", NULL, NULL), 404, "task_not_found");
}

static void test_head_task_has_get_headers_and_no_body(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "Headless");
    struct http_conn *c = fx_connect(fx);
    struct http_response *get = fx_request_on(c, "GET", "/tasks/1", NULL, NULL);
    struct http_response *head = fx_request_on(c, "HEAD", "/tasks/1", NULL, NULL);
    fx_expect_status(head, 200);
    assert_string_equal(http_header(head, "Content-Type"), "application/json");
    char length[32];
    snprintf(length, sizeof(length), "%zu", get->body_len);
    assert_string_equal(http_header(head, "Content-Length"), length);
    assert_int_equal(http_pending(c, 200), 0); /* no body bytes followed the headers */
    fx_expect_status(fx_request_on(c, "GET", "/livez", NULL, NULL), 200);
}

static void test_head_list_has_no_body(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "One");
    struct http_conn *c = fx_connect(fx);
    struct http_response *head = fx_request_on(c, "HEAD", "/tasks", NULL, NULL);
    fx_expect_status(head, 200);
    assert_int_equal(http_pending(c, 200), 0);
    fx_expect_status(fx_request_on(c, "GET", "/livez", NULL, NULL), 200);
}

static void test_list_of_no_tasks_is_an_empty_array(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "GET", "/tasks", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(http_header(res, "Content-Type"), "application/json");
    assert_string_equal(res->body, "[]");
    assert_null(http_header(res, "Link"));
}

/* The ids of a JSON array of tasks, as "1,3,4". */
static const char *ids_of(const cJSON *list, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const cJSON *t = list->child; t && used < n; t = t->next) {
        fx_expect_task(t, 0, NULL, -1);
        used += (size_t)snprintf(out + used, n - used, "%s%lld", used ? "," : "",
                                 (long long)fx_json_int(t, "id"));
    }
    return out;
}

static void create_n(struct fixture *fx, int n)
{
    for (int i = 1; i <= n; i++) {
        char text[32];
        snprintf(text, sizeof(text), "task %d", i);
        scratch_drop(fx_create(fx, text));
    }
}

static void test_list_is_ordered_by_id(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 5);
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/2", NULL, NULL), 204);
    struct http_response *res = fx_request(fx, "GET", "/tasks", NULL, NULL);
    fx_expect_status(res, 200);
    cJSON *list = fx_json(res);
    assert_true(cJSON_IsArray(list));
    char ids[64];
    assert_string_equal(ids_of(list, ids, sizeof(ids)), "1,3,4,5");
    assert_string_equal(fx_json_str(cJSON_GetArrayItem(list, 1), "task"), "task 3");
    assert_null(http_header(res, "Link"));
}

static void test_list_pages_follow_the_link_header(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 5);
    char ids[64];
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=2", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "1,2");
    assert_string_equal(http_header(res, "Link"), "</tasks?limit=2&after=2>; rel=\"next\"");
    res = fx_request(fx, "GET", "/tasks?limit=2&after=2", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "3,4");
    assert_string_equal(http_header(res, "Link"), "</tasks?limit=2&after=4>; rel=\"next\"");
    res = fx_request(fx, "GET", "/tasks?limit=2&after=4", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "5");
    assert_null(http_header(res, "Link"));
}

static void test_list_has_no_link_when_the_page_holds_the_rest(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 4);
    char ids[64];
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=2&after=2", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "3,4");
    assert_null(http_header(res, "Link"));
    res = fx_request(fx, "GET", "/tasks?limit=4", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "1,2,3,4");
    assert_null(http_header(res, "Link"));
}

static void test_list_after_skips_to_later_ids(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 5);
    char ids[64];
    struct http_response *res = fx_request(fx, "GET", "/tasks?after=3", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "4,5");
    res = fx_request(fx, "GET", "/tasks?after=0", NULL, NULL);
    assert_string_equal(ids_of(fx_json(res), ids, sizeof(ids)), "1,2,3,4,5");
    res = fx_request(fx, "GET", "/tasks?after=9223372036854775807", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(res->body, "[]");
}

static void test_list_default_limit_is_100(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 101);
    struct http_response *res = fx_request(fx, "GET", "/tasks", NULL, NULL);
    fx_expect_status(res, 200);
    cJSON *list = fx_json(res);
    assert_int_equal(cJSON_GetArraySize(list), 100);
    assert_int_equal(fx_json_int(cJSON_GetArrayItem(list, 99), "id"), 100);
    assert_string_equal(http_header(res, "Link"), "</tasks?limit=100&after=100>; rel=\"next\"");
}

static void test_list_limit_1000_is_accepted(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 3);
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=1000", NULL, NULL);
    fx_expect_status(res, 200);
    assert_int_equal(cJSON_GetArraySize(fx_json(res)), 3);
}

static void test_list_invalid_limit_is_400(void **state)
{
    struct fixture *fx = *state;
    static const char *const paths[] = {
        "/tasks?limit=0",  "/tasks?limit=1001", "/tasks?limit=abc",
        "/tasks?limit=-1", "/tasks?limit=",     "/tasks?limit=1.5",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        fx_context("GET %s", paths[i]);
        fx_expect_error(fx_request(fx, "GET", paths[i], NULL, NULL), 400, "invalid_query");
    }
}

static void test_list_invalid_after_is_400(void **state)
{
    struct fixture *fx = *state;
    static const char *const paths[] = {
        "/tasks?after=abc",
        "/tasks?after=-1",
        "/tasks?after=9223372036854775808",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        fx_context("GET %s", paths[i]);
        fx_expect_error(fx_request(fx, "GET", paths[i], NULL, NULL), 400, "invalid_query");
    }
}

static void test_livez_is_200(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "GET", "/livez", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(res->body, "{\"status\":\"ok\"}");
}

static void test_readyz_is_200_with_a_usable_database(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "GET", "/readyz", NULL, NULL);
    fx_expect_status(res, 200);
    assert_string_equal(res->body, "{\"status\":\"ready\"}");
}

static void test_valid_request_id_is_echoed(void **state)
{
    struct fixture *fx = *state;
    static const char *const headers[] = {"X-Request-Id: abc-123_x.y:Z", NULL};
    struct http_response *res = fx_request(fx, "GET", "/livez", headers, NULL);
    assert_string_equal(http_header(res, "X-Request-Id"), "abc-123_x.y:Z");
    assert_int_equal(http_header_count(res, "X-Request-Id"), 1);
}

static void test_request_id_of_64_chars_is_echoed(void **state)
{
    struct fixture *fx = *state;
    char id[65], header[96];
    memset(id, 'a', 64);
    id[64] = '\0';
    snprintf(header, sizeof(header), "X-Request-Id: %s", id);
    const char *const headers[] = {header, NULL};
    struct http_response *res = fx_request(fx, "GET", "/livez", headers, NULL);
    assert_string_equal(http_header(res, "X-Request-Id"), id);
}

static void test_request_id_is_generated_when_absent(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "GET", "/livez", NULL, NULL);
    const char *id = http_header(res, "X-Request-Id");
    if (!fx_is_hex16(id))
        fx_fail_at(__FILE__, __LINE__, "generated X-Request-Id \"%s\" is not 16 hex digits",
                   id ? id : "(none)");
}

static void test_request_id_is_generated_when_invalid(void **state)
{
    struct fixture *fx = *state;
    char too_long[128];
    snprintf(too_long, sizeof(too_long), "X-Request-Id: %065d", 7);
    const char *const invalid[] = {"X-Request-Id: bad id", "X-Request-Id: quote\"d",
                                   "X-Request-Id: semi;colon", "X-Request-Id: caf\xc3\xa9",
                                   too_long};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        const char *const headers[] = {invalid[i], NULL};
        struct http_response *res = fx_request(fx, "GET", "/livez", headers, NULL);
        const char *id = http_header(res, "X-Request-Id");
        if (!fx_is_hex16(id))
            fx_fail_at(__FILE__, __LINE__,
                       "for \"%s\" the X-Request-Id is \"%s\", expected a "
                       "generated 16-hex-digit id",
                       invalid[i], id ? id : "(none)");
    }
}

static void test_generated_request_ids_are_unique(void **state)
{
    struct fixture *fx = *state;
    char seen[50][17];
    for (int i = 0; i < 50; i++) {
        struct http_response *res = fx_request(fx, "GET", "/livez", NULL, NULL);
        const char *id = http_header(res, "X-Request-Id");
        assert_true(fx_is_hex16(id));
        snprintf(seen[i], sizeof(seen[i]), "%s", id);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[j], seen[i]);
        scratch_drop(res);
    }
}

static void test_every_error_body_carries_the_request_id(void **state)
{
    struct fixture *fx = *state;
    static const char *const given[] = {"X-Request-Id: err-check-1", NULL};
    static const char *const given_text[] = {"X-Request-Id: err-check-2",
                                             "Content-Type: text/plain", NULL};
    struct http_response *res = fx_request(fx, "GET", "/nope", given, NULL);
    fx_expect_error(res, 404, "route_not_found");
    assert_string_equal(http_header(res, "X-Request-Id"), "err-check-1");
    res = fx_request(fx, "POST", "/tasks", given_text, "{\"task\":\"x\"}");
    fx_expect_error(res, 415, "unsupported_media_type");
    assert_string_equal(http_header(res, "X-Request-Id"), "err-check-2");
    /* and with generated ids */
    fx_expect_error(fx_request(fx, "GET", "/tasks/1", NULL, NULL), 404, "task_not_found");
    fx_expect_error(fx_request(fx, "DELETE", "/tasks", NULL, NULL), 405, "method_not_allowed");
    fx_expect_error(fx_request(fx, "GET", "/tasks/x", NULL, NULL), 400, "invalid_id");
    fx_expect_error(fx_request(fx, "GET", "/tasks?limit=0", NULL, NULL), 400, "invalid_query");
    fx_expect_error(fx_request(fx, "POST", "/tasks", fx_json_headers, "{"), 400, "invalid_body");
}

static void test_post_with_done_true_creates_a_done_task(void **state)
{
    struct fixture *fx = *state;
    struct http_response *res = fx_request(fx, "POST", "/tasks", fx_json_headers,
                                           "{\"task\":\"Already done\",\"done\":true}");
    fx_expect_status(res, 201);
    fx_expect_task(fx_json(res), 1, "Already done", 1);
}

static void test_json_content_type_with_charset_is_accepted(void **state)
{
    struct fixture *fx = *state;
    static const char *const headers[] = {"Content-Type: application/json; charset=utf-8", NULL};
    struct http_response *res = fx_request(fx, "POST", "/tasks", headers, "{\"task\":\"utf8\"}");
    fx_expect_status(res, 201);
}

static void test_chunked_post_creates_a_task(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    fx_send(c, "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"
               "5\r\n{\"tas\r\n"
               "c\r\nk\":\"chunky\"}\r\n"
               "0\r\n\r\n");
    struct http_response *res = fx_read(c, "POST");
    fx_expect_status(res, 201);
    fx_expect_task(fx_json(res), 1, "chunky", 0);
}

static void test_ids_keep_increasing_after_a_delete(void **state)
{
    struct fixture *fx = *state;
    create_n(fx, 2);
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/2", NULL, NULL), 204);
    cJSON *task = fx_create(fx, "third");
    assert_int_equal(fx_json_int(task, "id"), 3);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_blog_post_request_creates_task),
        T(test_created_task_timestamps_are_now_in_utc_ms),
        T(test_get_returns_the_created_task),
        T(test_get_unknown_task_is_404_task_not_found),
        T(test_task_text_round_trips_unicode_and_escapes),
        T(test_put_done_only_keeps_the_text),
        T(test_put_task_only_keeps_done),
        T(test_put_task_and_done_together),
        T(test_put_accepts_the_task_as_returned_by_get),
        T(test_put_unknown_task_is_404),
        T(test_delete_is_204_then_the_task_is_gone),
        T(test_delete_unknown_task_is_404),
        T(test_head_task_has_get_headers_and_no_body),
        T(test_head_list_has_no_body),
        T(test_list_of_no_tasks_is_an_empty_array),
        T(test_list_is_ordered_by_id),
        T(test_list_pages_follow_the_link_header),
        T(test_list_has_no_link_when_the_page_holds_the_rest),
        T(test_list_after_skips_to_later_ids),
        T(test_list_default_limit_is_100),
        T(test_list_limit_1000_is_accepted),
        T(test_list_invalid_limit_is_400),
        T(test_list_invalid_after_is_400),
        T(test_livez_is_200),
        T(test_readyz_is_200_with_a_usable_database),
        T(test_valid_request_id_is_echoed),
        T(test_request_id_of_64_chars_is_echoed),
        T(test_request_id_is_generated_when_absent),
        T(test_request_id_is_generated_when_invalid),
        T(test_generated_request_ids_are_unique),
        T(test_every_error_body_carries_the_request_id),
        T(test_post_with_done_true_creates_a_done_task),
        T(test_json_content_type_with_charset_is_accepted),
        T(test_chunked_post_creates_a_task),
        T(test_ids_keep_increasing_after_a_delete),
    };
    return cmocka_run_group_tests_name("e2e_api", tests, NULL, NULL);
}
