/*
 * Unit tests for loadgen/targets: both file formats (vegeta's HTTP format with loadgen's
 * directives, JSON lines), relative URLs, body files, derived and given names, compiling
 * (static or templated, origins, checks against the CSV data), the weighted pick, and one
 * sentence with a line number for each refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "targets.h"
#include "temp_names.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_targets." MKSTEMP_SUFFIX);
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void parse(struct target_set *set, const char *text, const char *base)
{
    char err[512];
    targets_init(set);
    if (targets_parse(set, text, strlen(text), "t.txt", base, dir, err, sizeof err))
        fail_msg("targets_parse: %s", err);
}

static void refused(const char *text, const char *base, const char *says)
{
    struct target_set set;
    char err[512] = "";
    targets_init(&set);
    assert_int_equal(targets_parse(&set, text, strlen(text), "t.txt", base, dir, err, sizeof err),
                     -1);
    assert_int_equal(set.n, 0);
    if (!strstr(err, says))
        fail_msg("expected \"%s\" in \"%s\"", says, err);
    targets_free(&set);
}

static void test_http_format_reads_targets_headers_and_body_files(void **state)
{
    (void)state;
    write_file("new.json", "{\"name\": \"{{uuid}}\"}");
    struct target_set set;
    parse(&set,
          "# a comment\n"
          "GET http://127.0.0.1:8080/users?page=2#top\n"
          "X-Account-ID: 8675309\n"
          "Accept :  application/json \n"
          "\n"
          "POST http://127.0.0.1:8080/things\n"
          "Content-Type: application/json\n"
          "@new.json\n"
          "DELETE https://api.example.com/things/1\n",
          NULL);
    assert_int_equal(set.n, 3);
    struct target *get = &set.items[0], *post = &set.items[1], *del = &set.items[2];
    assert_string_equal(get->method, "GET");
    assert_string_equal(get->origin, "http://127.0.0.1:8080");
    assert_string_equal(get->authority, "127.0.0.1:8080");
    assert_string_equal(get->path_text, "/users?page=2");
    assert_int_equal(get->nheaders, 2);
    assert_string_equal(get->header_text[1], "Accept: application/json");
    assert_false(get->has_body);
    assert_true(post->has_body);
    assert_int_equal(post->body_len, strlen("{\"name\": \"{{uuid}}\"}"));
    assert_string_equal(post->body_source, "new.json");
    assert_true(del->tls);
    assert_true(targets_any_tls(&set));
    assert_string_equal(get->name, "get_users");
    assert_string_equal(post->name, "post_things");
    assert_string_equal(del->name, "delete_things");
    targets_free(&set);
}

static void test_http_format_directives_name_weigh_and_expect(void **state)
{
    (void)state;
    struct target_set set;
    parse(&set,
          "# @name login\n# @weight 5\n# @expect 200,401\n# @expect-body \"token\"\n"
          "# @ledger create\n"
          "POST /login\n\n"
          "GET /health\n",
          "http://127.0.0.1:9000/api/");
    struct target *login = &set.items[0], *health = &set.items[1];
    assert_string_equal(login->name, "login");
    assert_int_equal(login->weight, 5);
    assert_true(login->expect_given);
    assert_true(expect_status_ok(&login->expect, 401));
    assert_false(expect_status_ok(&login->expect, 204));
    assert_string_equal(login->expect.body, "\"token\"");
    assert_int_equal(login->ledger, TARGET_LEDGER_CREATE);
    assert_string_equal(login->url, "/login");
    assert_string_equal(login->origin, "http://127.0.0.1:9000");
    assert_string_equal(login->path_text, "/api/login");
    assert_int_equal(health->weight, 1); /* directives apply to the next target only */
    assert_false(health->expect_given);
    targets_free(&set);
}

static void test_json_lines_read_every_member(void **state)
{
    (void)state;
    write_file("b.txt", "from a file");
    struct target_set set;
    parse(&set,
          "{\"name\":\"search\",\"url\":\"/s?q={{data.q | url}}\",\"headers\":{\"X-A\":\"1\","
          "\"X-B\":[\"2\",\"3\"]},\"weight\":3,\"expect\":[200,\"3xx\"],\"expect_body\":\"hits\"}\n"
          "\n"
          "# comments are allowed\n"
          "{\"method\":\"PUT\",\"url\":\"http://h:1/x\",\"body_file\":\"b.txt\",\"ledger\":"
          "\"update\"}\n"
          "{\"method\":\"POST\",\"url\":\"http://h:1/y\",\"body\":\"{\\\"a\\\":1}\"}\n",
          "http://h:1");
    assert_int_equal(set.n, 3);
    struct target *s = &set.items[0];
    assert_string_equal(s->name, "search");
    assert_string_equal(s->method, "GET");
    assert_int_equal(s->nheaders, 3);
    assert_string_equal(s->header_text[2], "X-B: 3");
    assert_int_equal(s->weight, 3);
    assert_true(expect_status_ok(&s->expect, 302) && !expect_status_ok(&s->expect, 201));
    assert_string_equal(s->expect.body, "hits");
    assert_string_equal(set.items[1].body_text, "from a file");
    assert_int_equal(set.items[1].ledger, TARGET_LEDGER_UPDATE);
    assert_string_equal(set.items[2].body_text, "{\"a\":1}");
    targets_free(&set);
}

static void test_derived_names_are_unique_and_given_names_are_kept(void **state)
{
    (void)state;
    struct target_set set;
    parse(&set, "GET http://h/users/1\nGET http://h/users/2\nGET http://h/\nGET http://h/a/b/c\n",
          NULL);
    assert_string_equal(set.items[0].name, "get_users");
    assert_string_equal(set.items[1].name, "get_users_2");
    assert_string_equal(set.items[2].name, "get_root");
    assert_string_equal(set.items[3].name, "get_a_b");
    char err[256];
    assert_int_equal(
        targets_add(&set, "raw", "GET", "http://h/", NULL, 0, NULL, 0, err, sizeof err), 0);
    assert_int_equal(targets_find(&set, "raw"), 4);
    assert_int_equal(
        targets_add(&set, "get_root", "GET", "http://h/", NULL, 0, NULL, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "two targets are named get_root"));
    assert_int_equal(set.n, 5);
    targets_free(&set);
}

static void test_refusals_name_the_line(void **state)
{
    (void)state;
    refused("GET http://h/\nBad Header\n", NULL, "t.txt:2: the header Bad Header is not");
    refused("get http://h/\n", NULL, "t.txt:1: expected a target line");
    refused("GET ftp://h/\n", NULL, "t.txt:1: the URL ftp://h/ is not http:// or https://");
    refused("GET /x\n", NULL, "is a path, and no base URL was given");
    refused("GET http://user:pw@h/\n", NULL, "with credentials");
    refused("GET http://h/a b\n", NULL, "percent-encode");
    refused("# @name a.b\nGET http://h/\n", NULL, "t.txt:2: the name \"a.b\" is not");
    refused("# @name service\nGET http://h/\n", NULL, "not corrected, service");
    refused("# @nmae x\nGET http://h/\n", NULL, "t.txt:1: unknown directive");
    refused("GET http://h/\n# @weight 2\n", NULL, "directives at the end of the file");
    refused("# @expect 2xx,99\nGET http://h/\n", NULL, "are not a list of codes");
    refused("GET http://h/\n@missing.json\n", NULL, "cannot read the body file");
    refused("{\"url\":\"http://h/\",\"wieght\":2}\n", NULL, "t.txt:1: unknown member \"wieght\"");
    refused("{\"url\":\"http://h/\"}\n{\"url\":\n", NULL,
            "t.txt:2: the line is not one JSON object");
    refused("{\"url\":\"http://h/\"} x\n", NULL, "the line is not one JSON object");
    refused("{\"method\":\"GET\"}\n", NULL, "a target needs \"url\"");
    refused("{\"url\":\"http://h/\",\"body\":\"a\",\"body_file\":\"b\"}\n", NULL, "not both");
    refused("{\"url\":\"http://h/\",\"weight\":-1}\n", NULL, "\"weight\" must be a whole number");
    refused("{\"url\":\"http://h/\",\"ledger\":\"upsert\"}\n", NULL,
            "not create, update or delete");
    refused("\n# nothing\n", NULL, "t.txt has no target");
    refused("{\"name\":\"a\",\"url\":\"http://h/\"}\n{\"name\":\"a\",\"url\":\"http://h/\"}\n",
            NULL, "two targets are named a");
}

static void test_compile_marks_static_targets_and_collects_origins(void **state)
{
    (void)state;
    struct target_set set;
    parse(&set,
          "GET http://a:1/x\n\nPOST http://a:1/y/{{seq}}\n\nGET http://B:2/z\nX-Id: {{uuid}}\n\n"
          "GET HTTP://a:1/w\n",
          NULL);
    char err[512];
    assert_int_equal(targets_compile(&set, NULL, err, sizeof err), 0);
    assert_true(set.items[0].is_static);
    assert_false(set.items[1].is_static);
    assert_false(set.items[2].is_static);
    assert_int_equal(set.norigins, 2);
    assert_int_equal(set.items[3].origin_index, 0); /* the scheme is case-insensitive */
    assert_int_equal(set.items[2].origin_index, 1);
    targets_free(&set);
}

static void test_compile_refuses_data_that_would_split_a_request(void **state)
{
    (void)state;
    const char *rows = "name\nann\n\"two\nlines\"\n";
    struct data_set *d = NULL;
    char err[512];
    assert_int_equal(data_parse(&d, rows, strlen(rows), "rows.csv", 0, 1, err, sizeof err), 0);
    struct target_set set;
    parse(&set, "GET http://h/u/{{data.name}}\n", NULL);
    assert_int_equal(targets_compile(&set, d, err, sizeof err), -1);
    assert_non_null(strstr(err, "target get_u: the URL"));
    targets_free(&set);
    parse(&set, "GET http://h/u/{{data.name|url}}\nX-N: {{data.name|json}}\n", NULL);
    assert_int_equal(targets_compile(&set, d, err, sizeof err), 0);
    targets_free(&set);
    parse(&set, "GET http://h/u/{{data.nmae}}\n", NULL);
    assert_int_equal(targets_compile(&set, d, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not have (columns: name)"));
    targets_free(&set);
    data_free(d);
}

static void test_pick_follows_the_weights(void **state)
{
    (void)state;
    struct target_set set;
    parse(&set,
          "# @weight 1\nGET http://h/a\n# @weight 0\nGET http://h/b\n# @weight 3\nGET http://h/c\n",
          NULL);
    char err[256];
    assert_int_equal(targets_compile(&set, NULL, err, sizeof err), 0);
    unsigned counts[3] = {0};
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 40000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        counts[targets_pick(&set, x)]++;
    }
    assert_int_equal(counts[1], 0);
    assert_true(counts[0] > 9000 && counts[0] < 11000);
    assert_true(counts[2] > 29000 && counts[2] < 31000);
    targets_free(&set);
    parse(&set, "# @weight 0\nGET http://h/a\n", NULL);
    assert_int_equal(targets_compile(&set, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "every target has weight 0"));
    targets_free(&set);
}

static void test_common_headers_and_default_rule_yield_to_the_targets_own(void **state)
{
    (void)state;
    struct target_set set;
    parse(&set, "# @expect 401\nGET http://h/a\nx-token: mine\n\nGET http://h/b\n", NULL);
    const char *common[] = {"X-Token: shared", "User-Agent: loadgen"};
    char err[256];
    assert_int_equal(targets_add_common_headers(&set, common, 2, err, sizeof err), 0);
    assert_int_equal(set.items[0].nheaders, 2);
    assert_string_equal(set.items[0].header_text[0], "x-token: mine");
    assert_string_equal(set.items[0].header_text[1], "User-Agent: loadgen");
    assert_int_equal(set.items[1].nheaders, 2);
    struct expect only_204;
    expect_default(&only_204);
    assert_int_equal(expect_parse_statuses(&only_204, "204", err, sizeof err), 0);
    targets_set_default_expect(&set, &only_204);
    assert_true(expect_status_ok(&set.items[0].expect, 401));
    assert_true(expect_status_ok(&set.items[1].expect, 204));
    assert_false(expect_status_ok(&set.items[1].expect, 200));
    targets_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_format_reads_targets_headers_and_body_files),
        cmocka_unit_test(test_http_format_directives_name_weigh_and_expect),
        cmocka_unit_test(test_json_lines_read_every_member),
        cmocka_unit_test(test_derived_names_are_unique_and_given_names_are_kept),
        cmocka_unit_test(test_refusals_name_the_line),
        cmocka_unit_test(test_compile_marks_static_targets_and_collects_origins),
        cmocka_unit_test(test_compile_refuses_data_that_would_split_a_request),
        cmocka_unit_test(test_pick_follows_the_weights),
        cmocka_unit_test(test_common_headers_and_default_rule_yield_to_the_targets_own),
    };
    return cmocka_run_group_tests_name("targets", tests, make_dir, remove_dir);
}
