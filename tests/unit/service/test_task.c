/*
 * Unit tests for service/task: validation of POST and PUT bodies field by field (types, length
 * in characters, UTF-8, NUL, unknown and read-only fields, trailing bytes), the sentence each
 * rejection gives, and the JSON form of a task. Bodies are passed in buffers of exactly their
 * length, so a sanitized run also proves the parser never reads past `len`.
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
#include "json_writer.h"
#include "task.h"

struct parse_result {
    int rc;
    struct task_input in;
    char error[256];
};

/* Parses n bytes of body from a heap copy with no terminating NUL after them. */
static struct parse_result *parse_n(const char *body, size_t n, enum task_body_kind kind)
{
    static struct parse_result r;
    memset(&r, 0, sizeof(r));
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, body, n);
    r.rc = task_input_parse(copy, n, kind, &r.in, r.error, sizeof(r.error));
    free(copy);
    return &r;
}

static struct parse_result *parse(const char *body, enum task_body_kind kind)
{
    return parse_n(body, strlen(body), kind);
}

static void assert_accepted(const struct parse_result *r)
{
    if (r->rc != 0)
        print_error("refused: %s\n", r->error);
    assert_int_equal(r->rc, 0);
}

/* The body must be refused with an error sentence that contains `needle`. */
static void assert_refused_with(const struct parse_result *r, const char *needle)
{
    assert_int_equal(r->rc, -1);
    if (!strstr(r->error, needle))
        print_error("error '%s' does not contain '%s'\n", r->error, needle);
    assert_non_null(strstr(r->error, needle));
}

/* {"task": "<count copies of unit>"} */
static char *body_with_repeated_text(const char *unit, size_t count)
{
    size_t n = strlen(unit);
    char *body = malloc(16 + n * count);
    assert_non_null(body);
    char *p = body;
    memcpy(p, "{\"task\": \"", 10);
    p += 10;
    for (size_t i = 0; i < count; i++, p += n)
        memcpy(p, unit, n);
    memcpy(p, "\"}", 3);
    return body;
}

static void test_task_accepts_blog_payload(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"task\": \"Test\"}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.has_text, 1);
    assert_string_equal(r->in.text, "Test");
    assert_int_equal(r->in.text_len, 4);
    assert_int_equal(r->in.has_done, 0);
}

static void test_task_accepts_done_true(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"task\": \"a\", \"done\": true}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.has_done, 1);
    assert_int_equal(r->in.done, 1);
}

static void test_task_accepts_done_false(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"done\": false, \"task\": \"a\"}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.has_done, 1);
    assert_int_equal(r->in.done, 0);
}

static void test_task_keeps_text_exactly_as_sent(void **state)
{
    (void)state;
    struct parse_result *r =
        parse("{\"task\": \"  Buy \\\"milk\\\" \\u00e9\\n \"}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_string_equal(r->in.text, "  Buy \"milk\" \xC3\xA9\n ");
    assert_int_equal(r->in.text_len, strlen("  Buy \"milk\" \xC3\xA9\n "));
}

static void test_task_refuses_non_string_task(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"task\": 42}", "{\"task\": null}", "{\"task\": true}",
                            "{\"task\": [\"a\"]}", "{\"task\": {\"t\": \"a\"}}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_refused_with(parse(bodies[i], TASK_BODY_CREATE), "field 'task' must be a string");
}

static void test_task_refuses_non_boolean_done(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"task\": \"a\", \"done\": \"yes\"}",
                            "{\"task\": \"a\", \"done\": 1}", "{\"task\": \"a\", \"done\": null}",
                            "{\"task\": \"a\", \"done\": \"true\"}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_refused_with(parse(bodies[i], TASK_BODY_CREATE),
                            "field 'done' must be true or false");
}

static void test_task_create_requires_task(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"done\": true}", TASK_BODY_CREATE), "field 'task' is required");
    assert_refused_with(parse("{}", TASK_BODY_CREATE), "field 'task' is required");
}

static void test_task_refuses_empty_task(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"task\": \"\"}", TASK_BODY_CREATE), "field 'task'");
    assert_refused_with(parse("{\"task\": \"\"}", TASK_BODY_CREATE), "empty");
}

static void test_task_refuses_whitespace_only_task(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"task\": \"   \"}", TASK_BODY_CREATE), "field 'task'");
    assert_refused_with(parse("{\"task\": \" \\t\\n\\r \"}", TASK_BODY_UPDATE), "field 'task'");
}

static void test_task_accepts_exactly_1000_characters(void **state)
{
    (void)state;
    char *body = body_with_repeated_text("x", 1000);
    struct parse_result *r = parse(body, TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.text_len, 1000);
    free(body);
}

static void test_task_refuses_1001_characters(void **state)
{
    (void)state;
    char *body = body_with_repeated_text("x", 1001);
    struct parse_result *r = parse(body, TASK_BODY_CREATE);
    assert_refused_with(r, "field 'task'");
    assert_refused_with(r, "1001");
    assert_refused_with(r, "1000");
    free(body);
}

static void test_task_counts_two_byte_characters_as_one(void **state)
{
    (void)state;
    char *body = body_with_repeated_text("\xC3\xA9", 1000); /* é */
    struct parse_result *r = parse(body, TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.text_len, 2000);
    free(body);
    body = body_with_repeated_text("\xC3\xA9", 1001);
    assert_refused_with(parse(body, TASK_BODY_CREATE), "1001");
    free(body);
}

static void test_task_counts_four_byte_characters_as_one(void **state)
{
    (void)state;
    char *body = body_with_repeated_text("\xF0\x9F\x98\x80", 1000); /* 😀 */
    struct parse_result *r = parse(body, TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.text_len, TASK_TEXT_MAX_BYTES);
    assert_memory_equal(r->in.text + 3996, "\xF0\x9F\x98\x80", 5);
    free(body);
    body = body_with_repeated_text("\xF0\x9F\x98\x80", 1001);
    assert_refused_with(parse(body, TASK_BODY_CREATE), "1001");
    free(body);
}

static void test_task_counts_escaped_characters_after_decoding(void **state)
{
    (void)state;
    char *body = body_with_repeated_text("\\u00e9", 1000);
    struct parse_result *r = parse(body, TASK_BODY_CREATE);
    assert_accepted(r);
    assert_int_equal(r->in.text_len, 2000);
    free(body);
}

static void test_task_refuses_invalid_utf8(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"task\": \"a\xFF\"}", TASK_BODY_CREATE),
                        "field 'task' is not valid UTF-8");
    assert_refused_with(parse("{\"task\": \"\xC0\x80\"}", TASK_BODY_CREATE),
                        "field 'task' is not valid UTF-8");
    assert_refused_with(parse("{\"task\": \"\xED\xA0\x80\"}", TASK_BODY_CREATE),
                        "field 'task' is not valid UTF-8");
    assert_refused_with(parse("{\"task\": \"\xE2\x82\"}", TASK_BODY_CREATE),
                        "field 'task' is not valid UTF-8");
}

static void test_task_refuses_lone_surrogate_escape(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"task\": \"\\ud800\"}", TASK_BODY_CREATE)->rc, -1);
    assert_int_equal(parse("{\"task\": \"\\udc00x\"}", TASK_BODY_CREATE)->rc, -1);
}

static void test_task_accepts_surrogate_pair_escape(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"task\": \"\\ud83d\\ude00\"}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_string_equal(r->in.text, "\xF0\x9F\x98\x80");
}

static void test_task_refuses_escaped_nul(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"task\": \"a\\u0000b\"}", TASK_BODY_CREATE), "NUL");
}

static void test_task_refuses_raw_nul_byte(void **state)
{
    (void)state;
    static const char body[] = "{\"task\": \"a\0b\"}";
    assert_refused_with(parse_n(body, sizeof(body) - 1, TASK_BODY_CREATE), "NUL");
}

static void test_task_accepts_literal_backslash_before_u0000(void **state)
{
    (void)state;
    /* The JSON text "C:\\u0000" is a backslash followed by the five characters u0000: no NUL. */
    struct parse_result *r = parse("{\"task\": \"C:\\\\u0000\"}", TASK_BODY_CREATE);
    assert_accepted(r);
    assert_string_equal(r->in.text, "C:\\u0000");
}

static void test_task_refuses_unknown_field(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"task\": \"a\", \"priority\": 1}", TASK_BODY_CREATE);
    assert_refused_with(r, "unknown field 'priority'");
    assert_refused_with(parse("{\"Task\": \"a\"}", TASK_BODY_CREATE), "unknown field 'Task'");
}

static void test_task_ignores_read_only_fields(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"id\": 5, \"task\": \"a\", \"done\": true, "
                                   "\"created_at\": \"2026-01-01T00:00:00.000Z\", "
                                   "\"updated_at\": null}",
                                   TASK_BODY_UPDATE);
    assert_accepted(r);
    assert_string_equal(r->in.text, "a");
    assert_int_equal(r->in.done, 1);
}

static void test_task_refuses_body_that_is_not_an_object(void **state)
{
    (void)state;
    const char *bodies[] = {"[]", "[{\"task\": \"a\"}]", "\"a\"", "42", "null", "true"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_refused_with(parse(bodies[i], TASK_BODY_CREATE), "must be a JSON object");
}

static void test_task_refuses_malformed_json(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"task\": ", "{\"task\": \"a\"", "{task: \"a\"}", "{'task': 'a'}",
                            "{\"task\": \"a\",}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_refused_with(parse(bodies[i], TASK_BODY_CREATE), "not valid JSON");
}

static void test_task_refuses_empty_body(void **state)
{
    (void)state;
    assert_refused_with(parse_n("", 0, TASK_BODY_CREATE), "empty");
}

static void test_task_refuses_trailing_garbage(void **state)
{
    (void)state;
    assert_refused_with(parse("{\"task\": \"a\"}x", TASK_BODY_CREATE), "not valid JSON");
    assert_refused_with(parse("{\"task\": \"a\"}{}", TASK_BODY_CREATE), "not valid JSON");
    assert_refused_with(parse("{\"task\": \"a\"} ,", TASK_BODY_CREATE), "not valid JSON");
}

static void test_task_accepts_surrounding_json_whitespace(void **state)
{
    (void)state;
    assert_accepted(parse(" \r\n\t{\"task\": \"a\"} \r\n\t", TASK_BODY_CREATE));
    assert_accepted(parse("{\"task\": \"a\"}\n", TASK_BODY_CREATE));
}

static void test_task_refuses_every_truncated_prefix_without_overread(void **state)
{
    (void)state;
    const char *body = "{\"task\": \"Buy milk \\u00e9\", \"done\": true}";
    size_t n = strlen(body);
    for (size_t k = 0; k < n; k++) {
        struct parse_result *r = parse_n(body, k, TASK_BODY_CREATE);
        if (r->rc != -1)
            print_error("prefix of %zu bytes was accepted\n", k);
        assert_int_equal(r->rc, -1);
    }
    assert_accepted(parse_n(body, n, TASK_BODY_CREATE));
}

static void test_task_update_accepts_only_done(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"done\": true}", TASK_BODY_UPDATE);
    assert_accepted(r);
    assert_int_equal(r->in.has_text, 0);
    assert_int_equal(r->in.has_done, 1);
    assert_int_equal(r->in.done, 1);
}

static void test_task_update_accepts_only_task(void **state)
{
    (void)state;
    struct parse_result *r = parse("{\"task\": \"b\"}", TASK_BODY_UPDATE);
    assert_accepted(r);
    assert_int_equal(r->in.has_text, 1);
    assert_int_equal(r->in.has_done, 0);
}

static void test_task_update_refuses_body_with_nothing_to_update(void **state)
{
    (void)state;
    assert_refused_with(parse("{}", TASK_BODY_UPDATE), "nothing to update");
    assert_refused_with(parse("{\"id\": 3}", TASK_BODY_UPDATE), "nothing to update");
}

static void test_task_writes_json_with_every_field(void **state)
{
    (void)state;
    struct task t;
    memset(&t, 0, sizeof(t));
    t.id = 7;
    t.done = 1;
    snprintf(t.created_at, sizeof(t.created_at), "2026-11-27T05:01:02.345Z");
    snprintf(t.updated_at, sizeof(t.updated_at), "2026-11-27T05:01:03.000Z");
    snprintf(t.text, sizeof(t.text), "say \"hi\"\n");
    t.text_len = strlen(t.text);
    struct buf out;
    struct json_writer w;
    buf_init(&out, 4096);
    jw_init(&w, &out);
    task_write_json(&w, &t);
    assert_int_equal(w.failed, 0);
    assert_string_equal(out.data, "{\"id\":7,\"task\":\"say \\\"hi\\\"\\n\",\"done\":true,"
                                  "\"created_at\":\"2026-11-27T05:01:02.345Z\","
                                  "\"updated_at\":\"2026-11-27T05:01:03.000Z\"}");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_accepts_blog_payload),
        cmocka_unit_test(test_task_accepts_done_true),
        cmocka_unit_test(test_task_accepts_done_false),
        cmocka_unit_test(test_task_keeps_text_exactly_as_sent),
        cmocka_unit_test(test_task_refuses_non_string_task),
        cmocka_unit_test(test_task_refuses_non_boolean_done),
        cmocka_unit_test(test_task_create_requires_task),
        cmocka_unit_test(test_task_refuses_empty_task),
        cmocka_unit_test(test_task_refuses_whitespace_only_task),
        cmocka_unit_test(test_task_accepts_exactly_1000_characters),
        cmocka_unit_test(test_task_refuses_1001_characters),
        cmocka_unit_test(test_task_counts_two_byte_characters_as_one),
        cmocka_unit_test(test_task_counts_four_byte_characters_as_one),
        cmocka_unit_test(test_task_counts_escaped_characters_after_decoding),
        cmocka_unit_test(test_task_refuses_invalid_utf8),
        cmocka_unit_test(test_task_refuses_lone_surrogate_escape),
        cmocka_unit_test(test_task_accepts_surrogate_pair_escape),
        cmocka_unit_test(test_task_refuses_escaped_nul),
        cmocka_unit_test(test_task_refuses_raw_nul_byte),
        cmocka_unit_test(test_task_accepts_literal_backslash_before_u0000),
        cmocka_unit_test(test_task_refuses_unknown_field),
        cmocka_unit_test(test_task_ignores_read_only_fields),
        cmocka_unit_test(test_task_refuses_body_that_is_not_an_object),
        cmocka_unit_test(test_task_refuses_malformed_json),
        cmocka_unit_test(test_task_refuses_empty_body),
        cmocka_unit_test(test_task_refuses_trailing_garbage),
        cmocka_unit_test(test_task_accepts_surrounding_json_whitespace),
        cmocka_unit_test(test_task_refuses_every_truncated_prefix_without_overread),
        cmocka_unit_test(test_task_update_accepts_only_done),
        cmocka_unit_test(test_task_update_accepts_only_task),
        cmocka_unit_test(test_task_update_refuses_body_with_nothing_to_update),
        cmocka_unit_test(test_task_writes_json_with_every_field),
    };
    return cmocka_run_group_tests_name("task", tests, NULL, NULL);
}
