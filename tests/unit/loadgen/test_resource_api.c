/*
 * Unit tests for the pieces that describe any JSON API to the ledger and the audit: JSON
 * Pointers (common/json_pointer, RFC 6901's own examples), the {id} URL template both ways
 * (loadgen/id_template), the Link header's next page (loadgen/link_header, RFC 8288 forms), and
 * the resource model (loadgen/resource_api): settings and their sentences, created ids from a
 * body or a Location, list pages with Link and cursor paging, items read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "id_template.h"
#include "json_pointer.h"
#include "link_header.h"
#include "resource_api.h"

/* ---- JSON Pointer --------------------------------------------------------------------------- */

static const char rfc6901_doc[] = "{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,"
                                  "\"g|h\":4,\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8}";

static void expect_number(const cJSON *doc, const char *pointer, double want)
{
    const cJSON *v = json_pointer_get(doc, pointer);
    assert_non_null(v);
    assert_true(cJSON_IsNumber(v) && v->valuedouble == want);
}

static void test_json_pointer_resolves_rfc_6901_examples(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse(rfc6901_doc);
    assert_non_null(doc);
    assert_ptr_equal(json_pointer_get(doc, ""), doc);
    assert_true(cJSON_IsArray(json_pointer_get(doc, "/foo")));
    assert_string_equal(json_pointer_get(doc, "/foo/0")->valuestring, "bar");
    expect_number(doc, "/", 0);
    expect_number(doc, "/a~1b", 1);
    expect_number(doc, "/c%d", 2);
    expect_number(doc, "/e^f", 3);
    expect_number(doc, "/g|h", 4);
    expect_number(doc, "/i\\j", 5);
    expect_number(doc, "/k\"l", 6);
    expect_number(doc, "/ ", 7);
    expect_number(doc, "/m~0n", 8);
    cJSON_Delete(doc);
}

static void test_json_pointer_selects_nothing_for_what_is_not_there(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"a\":{\"b\":[10,20]},\"s\":\"x\"}");
    assert_null(json_pointer_get(doc, "/a/c"));
    assert_null(json_pointer_get(doc, "/a/b/2"));  /* past the end */
    assert_null(json_pointer_get(doc, "/a/b/01")); /* a leading zero is not an index */
    assert_null(json_pointer_get(doc, "/a/b/-"));  /* "-" names no existing element */
    assert_null(json_pointer_get(doc, "/s/0"));    /* a token applied to a string */
    assert_null(json_pointer_get(doc, "a"));       /* not a pointer */
    assert_null(json_pointer_get(doc, "/a~2"));    /* no such escape */
    assert_null(json_pointer_get(NULL, "/a"));
    expect_number(doc, "/a/b/1", 20);
    assert_true(json_pointer_valid("") && json_pointer_valid("/~0~1"));
    assert_false(json_pointer_valid("/~") || json_pointer_valid(NULL) || json_pointer_valid("x"));
    cJSON_Delete(doc);
}

static void test_json_pointer_append_escapes_a_key_into_one_token(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(json_pointer_append(&b, "a/b~c", 5), 0);
    assert_int_equal(json_pointer_append(&b, "", 0), 0);
    assert_string_equal(b.data, "/a~1b~0c/");
    cJSON *doc = cJSON_Parse("{\"a/b~c\":{\"\":true}}");
    assert_true(cJSON_IsTrue(json_pointer_get(doc, b.data)));
    cJSON_Delete(doc);
    buf_free(&b);
}

/* ---- the {id} template ---------------------------------------------------------------------- */

static void expect_expand(const char *tmpl, const char *id, const char *want)
{
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(id_template_expand(&b, tmpl, id, strlen(id)), 0);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void expect_match(const char *tmpl, const char *url, const char *want)
{
    char id[64];
    int n = id_template_match(tmpl, url, id, sizeof id);
    if (!want) {
        assert_int_equal(n, -1);
        return;
    }
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(id, want);
}

static void test_id_template_expands_with_the_id_percent_encoded(void **state)
{
    (void)state;
    expect_expand("/tasks/{id}", "42", "/tasks/42");
    expect_expand("/v2/orders/{id}?expand=items", "a b/c", "/v2/orders/a%20b%2Fc?expand=items");
    expect_expand("http://h:1/t/{id}.json", "550e8400-e29b_~.x",
                  "http://h:1/t/550e8400-e29b_~.x.json");
    expect_expand("/t/{id}", "\xc3\xbc%", "/t/%C3%BC%25");
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(id_template_expand(&b, "/tasks", "1", 1), -1);
    assert_false(id_template_valid("/a/{id}/{id}"));
    assert_false(id_template_valid("/a/{ID}"));
    assert_false(id_template_valid("/a/{id}/{x}"));
    assert_true(id_template_valid("{id}"));
    buf_free(&b);
}

static void test_id_template_finds_the_id_in_a_location(void **state)
{
    (void)state;
    expect_match("/tasks/{id}", "/tasks/42", "42");
    expect_match("/tasks/{id}", "http://127.0.0.1:5000/tasks/42", "42");
    expect_match("/tasks/{id}", "https://h/api/v1/tasks/42?x=1#f", "42"); /* a base path */
    expect_match("/tasks/{id}", "/tasks/a%20b%2Fc", "a b/c");
    expect_match("/tasks/{id}", "/things/42", NULL);
    expect_match("/tasks/{id}", "/tasks/", NULL);
    expect_match("/tasks/{id}", "/tasks/1/2", NULL);
    expect_match("/tasks/{id}", "/tasks/%zz", NULL);
    expect_match("/tasks/t-{id}", "/tasks/t-9", "9");
    expect_match("/tasks/{id}/", "/tasks/9/", "9");
    expect_match("/items?id={id}", "/items?id=5", "5");
    expect_match("/items?id={id}&v=2", "http://h/items?id=5&v=2", "5");
    expect_match(NULL, "http://h/anything/at/all/7", "7"); /* no template: the last segment */
    expect_match("", "/x/7/", "7");
    expect_match(NULL, "http://h", NULL);
}

/* ---- Link headers --------------------------------------------------------------------------- */

static void expect_link(const char *value, const char *want)
{
    char out[256];
    int rc = link_header_find(value, strlen(value), "next", out, sizeof out);
    if (!want) {
        assert_int_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, 1);
    assert_string_equal(out, want);
}

static void test_link_header_finds_the_next_page(void **state)
{
    (void)state;
    expect_link("</tasks?limit=100&after=200>; rel=\"next\"", "/tasks?limit=100&after=200");
    expect_link("<https://a/p?page=1>; rel=\"prev first\", <https://a/p?page=3>; rel=\"next\"",
                "https://a/p?page=3");
    expect_link("<a,b>; rel=next", "a,b");                     /* a comma in the target */
    expect_link("<x>; title=\"a, \\\"b\\\"\"; rel=NEXT", "x"); /* quoted commas, any case */
    expect_link("<x>;rel=\"nextpage\"", NULL);
    expect_link("<x>; rel=\"prev\"", NULL);
    expect_link("garbage, <y>; rel=next", "y"); /* one bad value does not hide the next */
    expect_link("<x>; rel=\"unterminated, <y>; rel=next", NULL);
    expect_link("<x; rel=next", NULL);
    expect_link("", NULL);
    char small[4];
    assert_int_equal(link_header_find("<abcdef>; rel=next", 18, "next", small, sizeof small), -1);
}

/* ---- the resource model --------------------------------------------------------------------- */

static void test_settings_are_checked_with_one_sentence(void **state)
{
    (void)state;
    struct resource_api a;
    char err[256];
    resource_api_default(&a);
    assert_int_equal(resource_api_check(&a, err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "id-from", "id", err, sizeof err), -1);
    assert_string_equal(err, "--id-from 'id' is not a JSON Pointer into the create's answer (/id, "
                             "/data/id), body, location or none");
    assert_int_equal(resource_api_set(&a, "item-url", "/tasks/:id", err, sizeof err), -1);
    assert_string_equal(err, "--item-url '/tasks/:id' is not a URL template with {id} once, such "
                             "as /tasks/{id}, or none");
    assert_int_equal(resource_api_set(&a, "paging", "offset", err, sizeof err), -1);
    assert_int_equal(resource_api_set(&a, "api", "rails", err, sizeof err), -1);
    assert_int_equal(resource_api_set(&a, "cursor-param", "a b", err, sizeof err), -1);
    assert_int_equal(resource_api_set(&a, "text-field", "", err, sizeof err), -1);
    assert_int_equal(resource_api_set(&a, "colour", "red", err, sizeof err), -1);
    assert_false(resource_api_has_key("colour"));
    assert_true(resource_api_has_key("done-field"));

    assert_int_equal(resource_api_set(&a, "paging", "cursor", err, sizeof err), 0);
    assert_int_equal(resource_api_check(&a, err, sizeof err), -1);
    assert_string_equal(err, "--paging cursor needs --cursor-field (where a page names the next) "
                             "and --cursor-param (the query parameter that takes it)");
    assert_int_equal(resource_api_set(&a, "list-url", "none", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "item-url", "none", err, sizeof err), 0);
    assert_int_equal(resource_api_check(&a, err, sizeof err), -1);
    assert_string_equal(err,
                        "the API needs a way to read resources back: --list-url or --item-url");
}

static void test_presets_describe_taskd_and_the_blogs_app(void **state)
{
    (void)state;
    struct resource_api a;
    char err[256];
    struct buf d;
    buf_init(&d, 1024);
    resource_api_default(&a);
    resource_api_describe(&a, &d);
    assert_string_equal(d.data, "ids from /id; read back at /tasks/{id}; listed from "
                                "/tasks?limit=1000 (Link paging, items at the page); item id "
                                "/id, text /task, done /done");
    assert_int_equal(resource_api_set(&a, "api", "blog", err, sizeof err), 0);
    assert_int_equal(resource_api_check(&a, err, sizeof err), 0);
    buf_reset(&d);
    resource_api_describe(&a, &d);
    assert_string_equal(d.data, "ids: none from creates (found by text); listed from /tasks (one "
                                "page, items at the page); item id /id, text /task, done none");
    buf_free(&d);
}

/* A preset is the base whatever the order of the flags: --list-url before --api blog holds. */
static void test_a_preset_on_the_command_line_applies_first(void **state)
{
    (void)state;
    struct resource_api a;
    char err[256];
    char *argv[] = {"audit", "--list-url", "/all", "--api", "blog", "--", "--api=taskd", NULL};
    resource_api_default(&a);
    assert_int_equal(resource_api_preset_from_args(&a, 7, argv, err, sizeof err), 0);
    assert_int_equal(a.id_source, RESOURCE_ID_NONE); /* blog; the one after "--" is not a flag */
    assert_int_equal(resource_api_set(&a, "list-url", "/all", err, sizeof err), 0);
    assert_string_equal(a.list_url, "/all");
    char *bad[] = {"loadgen", "--api=rails", NULL};
    assert_int_equal(resource_api_preset_from_args(&a, 2, bad, err, sizeof err), -1);
    assert_string_equal(err, "--api 'rails' is not an API this loadgen knows: taskd (the default) "
                             "or blog (the blog's Flask app, examples/flask-tasks)");
}

static void test_created_id_from_a_pointer_the_body_or_location(void **state)
{
    (void)state;
    struct resource_api a;
    char err[256], id[RESOURCE_API_ID_MAX];
    resource_api_default(&a);
    const char body[] = "{\"data\":{\"id\":\"u-1\"},\"id\":7}";
    assert_int_equal(resource_api_created_id(&a, NULL, body, sizeof body - 1, id, sizeof id), 1);
    assert_string_equal(id, "7");
    assert_int_equal(resource_api_set(&a, "id-from", "/data/id", err, sizeof err), 0);
    assert_int_equal(resource_api_created_id(&a, NULL, body, sizeof body - 1, id, sizeof id), 3);
    assert_string_equal(id, "u-1");
    assert_int_equal(resource_api_created_id(&a, NULL, "{\"data\":{}}", 11, id, sizeof id), -1);
    assert_int_equal(
        resource_api_created_id(&a, NULL, "{\"data\":{\"id\":1.5}}", 19, id, sizeof id), -1);
    assert_int_equal(
        resource_api_created_id(&a, NULL, "{\"data\":{\"id\":\"\"}}", 18, id, sizeof id), -1);
    assert_int_equal(resource_api_set(&a, "id-from", "body", err, sizeof err), 0);
    assert_int_equal(resource_api_created_id(&a, NULL, "\"k-9\"", 5, id, sizeof id), 3);
    assert_int_equal(resource_api_set(&a, "id-from", "location", err, sizeof err), 0);
    assert_int_equal(resource_api_created_id(&a, "/tasks/88", "{}", 2, id, sizeof id), 2);
    assert_string_equal(id, "88");
    assert_int_equal(resource_api_created_id(&a, NULL, "{\"id\":1}", 8, id, sizeof id), -1);
    assert_int_equal(resource_api_set(&a, "id-from", "none", err, sizeof err), 0);
    assert_int_equal(resource_api_created_id(&a, "/tasks/1", "{\"id\":1}", 8, id, sizeof id), -1);
}

static void test_urls_join_the_base_url(void **state)
{
    (void)state;
    struct resource_api a;
    char err[256];
    struct buf b;
    buf_init(&b, 1024);
    resource_api_default(&a);
    assert_int_equal(resource_api_item_url(&a, "http://h:1/api//", "a b", &b), 0);
    assert_string_equal(b.data, "http://h:1/api/tasks/a%20b");
    buf_reset(&b);
    assert_int_equal(resource_api_list_url(&a, "http://h:1", &b), 0);
    assert_string_equal(b.data, "http://h:1/tasks?limit=1000");
    assert_int_equal(resource_api_set(&a, "list-url", "https://other/all", err, sizeof err), 0);
    buf_reset(&b);
    assert_int_equal(resource_api_list_url(&a, "http://h:1", &b), 0);
    assert_string_equal(b.data, "https://other/all");
    buf_free(&b);
}

struct collected {
    char ids[8][32], texts[8][32];
    int done[8], has_text[8];
    size_t n;
};

static int collect(const struct resource_item *item, void *arg)
{
    struct collected *c = arg;
    if (c->n == 8)
        return 1;
    snprintf(c->ids[c->n], sizeof c->ids[0], "%s", item->id);
    snprintf(c->texts[c->n], sizeof c->texts[0], "%.*s", (int)item->text_len,
             item->has_text ? item->text : "");
    c->has_text[c->n] = item->has_text;
    c->done[c->n] = item->has_done ? item->done : -1;
    c->n++;
    return 0;
}

static long read_page(const struct resource_api *a, const char *url, const char *link,
                      const char *body, struct collected *c, struct buf *next, char *err)
{
    memset(c, 0, sizeof *c);
    return resource_api_read_page(a, url, link, body, strlen(body), collect, c, next, err, 256);
}

static void test_a_page_with_a_link_to_the_next(void **state)
{
    (void)state;
    struct resource_api a;
    struct collected c;
    char err[256];
    struct buf next;
    buf_init(&next, 4096);
    resource_api_default(&a);
    const char page[] =
        "[{\"id\":1,\"task\":\"a\",\"done\":false},{\"id\":2,\"task\":\"b\",\"done\":true},"
        "{\"id\":\"x\",\"task\":null,\"done\":false}]";
    assert_int_equal(read_page(&a, "http://h:1/tasks?limit=3",
                               "</tasks?limit=3&after=2>; rel=\"next\"", page, &c, &next, err),
                     3);
    assert_string_equal(next.data, "http://h:1/tasks?limit=3&after=2");
    assert_string_equal(c.ids[0], "1");
    assert_string_equal(c.texts[1], "b");
    assert_int_equal(c.done[1], 1);
    assert_string_equal(c.ids[2], "x");
    assert_int_equal(c.has_text[2], 0);
    assert_int_equal(read_page(&a, "http://h:1/tasks?limit=3", NULL, "[]", &c, &next, err), 0);
    assert_int_equal(next.len, 0); /* no Link: the last page */
    /* a page that names itself would never end */
    assert_int_equal(
        read_page(&a, "http://h:1/t", "<http://h:1/t>; rel=next", "[]", &c, &next, err), -1);
    assert_string_equal(err, "the page http://h:1/t names itself as the next page (paging would "
                             "not end)");
    assert_int_equal(
        read_page(&a, "http://h:1/t", NULL, "[{\"id\":1,\"task\":\"a\"}]", &c, &next, err), -1);
    assert_string_equal(err, "item 1 has no boolean at /done (say --done-field none if the API "
                             "has no such field)");
    assert_int_equal(
        read_page(&a, "http://h:1/t", NULL, "[{\"task\":\"a\",\"done\":true}]", &c, &next, err),
        -1);
    assert_int_equal(read_page(&a, "http://h:1/t", NULL, "{\"tasks\":[]}", &c, &next, err), -1);
    assert_string_equal(err, "the page http://h:1/t is not a JSON array of items (say where they "
                             "are with --items)");
    buf_free(&next);
}

static void test_a_page_with_a_cursor_field(void **state)
{
    (void)state;
    struct resource_api a;
    struct collected c;
    char err[256];
    struct buf next;
    buf_init(&next, 4096);
    resource_api_default(&a);
    assert_int_equal(resource_api_set(&a, "api", "blog", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "list-url", "/tasks?limit=2", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "paging", "cursor", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "items", "/tasks", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "cursor-field", "/next_cursor", err, sizeof err), 0);
    assert_int_equal(resource_api_set(&a, "cursor-param", "cursor", err, sizeof err), 0);
    assert_int_equal(resource_api_check(&a, err, sizeof err), 0);
    const char page[] = "{\"tasks\":[{\"id\":4,\"task\":\"a\"},{\"id\":5,\"task\":\"b\"}],"
                        "\"next_cursor\":\"c5 &=\"}";
    assert_int_equal(read_page(&a, "http://h/tasks?limit=2&cursor=c3", NULL, page, &c, &next, err),
                     2);
    assert_string_equal(next.data, "http://h/tasks?limit=2&cursor=c5+%26%3d");
    assert_int_equal(c.done[0], -1); /* the API has no done */
    assert_int_equal(read_page(&a, "http://h/tasks?limit=2", NULL,
                               "{\"tasks\":[],\"next_cursor\":null}", &c, &next, err),
                     0);
    assert_int_equal(next.len, 0);
    assert_int_equal(
        read_page(&a, "http://h/tasks", NULL, "{\"tasks\":[],\"next_cursor\":{}}", &c, &next, err),
        -1);
    buf_free(&next);
}

static void test_an_item_read_back_and_a_write_body(void **state)
{
    (void)state;
    struct resource_api a;
    struct collected c = {0};
    char err[256], text[32];
    resource_api_default(&a);
    assert_int_equal(resource_api_read_item(&a, "9", "{\"task\":\"t\",\"done\":true}", 24, collect,
                                            &c, err, sizeof err),
                     0);
    assert_string_equal(c.ids[0], "9");
    assert_string_equal(c.texts[0], "t");
    assert_int_equal(resource_api_read_item(&a, "9", "<html>", 6, collect, &c, err, sizeof err),
                     -1);
    assert_string_equal(err, "the resource 9 does not read back as JSON");
    int has_text, done, has_done;
    assert_int_equal(resource_api_written(&a, "{\"task\":\"w\",\"done\":false}", 25, text,
                                          sizeof text, &has_text, &done, &has_done),
                     0);
    assert_true(has_text && has_done && !done);
    assert_string_equal(text, "w");
    assert_int_equal(resource_api_written(&a, "{\"title\":1}", 11, text, sizeof text, &has_text,
                                          &done, &has_done),
                     0);
    assert_false(has_text || has_done);
    assert_int_equal(
        resource_api_written(&a, "nope", 4, text, sizeof text, &has_text, &done, &has_done), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_pointer_resolves_rfc_6901_examples),
        cmocka_unit_test(test_json_pointer_selects_nothing_for_what_is_not_there),
        cmocka_unit_test(test_json_pointer_append_escapes_a_key_into_one_token),
        cmocka_unit_test(test_id_template_expands_with_the_id_percent_encoded),
        cmocka_unit_test(test_id_template_finds_the_id_in_a_location),
        cmocka_unit_test(test_link_header_finds_the_next_page),
        cmocka_unit_test(test_settings_are_checked_with_one_sentence),
        cmocka_unit_test(test_presets_describe_taskd_and_the_blogs_app),
        cmocka_unit_test(test_a_preset_on_the_command_line_applies_first),
        cmocka_unit_test(test_created_id_from_a_pointer_the_body_or_location),
        cmocka_unit_test(test_urls_join_the_base_url),
        cmocka_unit_test(test_a_page_with_a_link_to_the_next),
        cmocka_unit_test(test_a_page_with_a_cursor_field),
        cmocka_unit_test(test_an_item_read_back_and_a_write_body),
    };
    return cmocka_run_group_tests_name("resource_api", tests, NULL, NULL);
}
