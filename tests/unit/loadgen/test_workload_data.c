/*
 * Unit tests for the pieces a targets workload is described with: loadgen/data (CSV rows and
 * shards), loadgen/template (every value, filters, the static case, each refusal), and
 * loadgen/expect (status lists and the streamed body check, on every split of a body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "expect.h"
#include "template.h"

static struct data_set *csv(const char *text, unsigned shard, unsigned shards)
{
    struct data_set *d = NULL;
    char err[256];
    if (data_parse(&d, text, strlen(text), "rows.csv", shard, shards, err, sizeof err))
        fail_msg("data_parse: %s", err);
    return d;
}

static void csv_refused(const char *text, unsigned shards, const char *says)
{
    struct data_set *d = (struct data_set *)1;
    char err[256] = "";
    assert_int_equal(
        data_parse(&d, text, strlen(text), "rows.csv", shards - 1, shards, err, sizeof err), -1);
    assert_null(d);
    if (!strstr(err, says))
        fail_msg("expected \"%s\" in \"%s\"", says, err);
}

static const char *value(const struct data_set *d, size_t row, size_t col)
{
    size_t n;
    const char *v = data_value(d, row, col, &n);
    assert_int_equal(strlen(v), n);
    return v;
}

/* ---- data ------------------------------------------------------------------------------- */

static void test_csv_reads_header_and_rows(void **state)
{
    (void)state;
    struct data_set *d = csv("id,email\n1,a@x.io\r\n2,b@x.io", 0, 1);
    assert_int_equal(data_columns(d), 2);
    assert_int_equal(data_rows(d), 2);
    assert_string_equal(data_column_name(d, 1), "email");
    assert_string_equal(value(d, 0, 1), "a@x.io");
    assert_string_equal(value(d, 1, 0), "2");
    data_free(d);
}

static void test_csv_quoted_fields_keep_commas_quotes_and_newlines(void **state)
{
    (void)state;
    struct data_set *d =
        csv("\xEF\xBB\xBFname,note\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\n", 0, 1);
    assert_string_equal(data_column_name(d, 0), "name"); /* the byte-order mark is skipped */
    assert_string_equal(value(d, 0, 0), "Smith, J");
    assert_string_equal(value(d, 0, 1), "said \"hi\"\nthen left");
    data_free(d);
}

static void test_csv_blank_lines_and_empty_fields(void **state)
{
    (void)state;
    struct data_set *d = csv("a,b,c\n\n1,,3\n,,\n\n", 0, 1);
    assert_int_equal(data_rows(d), 2);
    assert_string_equal(value(d, 0, 1), "");
    assert_string_equal(value(d, 1, 2), "");
    data_free(d);
}

static void test_csv_shards_take_disjoint_rows(void **state)
{
    (void)state;
    const char *text = "n\n0\n1\n2\n3\n4\n";
    struct data_set *a = csv(text, 0, 2), *b = csv(text, 1, 2);
    assert_int_equal(data_rows(a), 3);
    assert_int_equal(data_rows(b), 2);
    assert_string_equal(value(a, 1, 0), "2");
    assert_string_equal(value(b, 0, 0), "1");
    assert_string_equal(value(b, 1, 0), "3");
    data_free(a);
    data_free(b);
}

static void test_csv_columns_by_name_or_number(void **state)
{
    (void)state;
    struct data_set *d = csv("user id,token\nu1,t1\n", 0, 1);
    assert_int_equal(data_column_index(d, "token", 5), 1);
    assert_int_equal(data_column_index(d, "1", 1), 0);
    assert_int_equal(data_column_index(d, "3", 1), -1);
    assert_int_equal(data_column_index(d, "tok", 3), -1);
    data_free(d);
}

static void test_csv_refusals_name_the_line(void **state)
{
    (void)state;
    csv_refused("a,b\n1,2\n3\n", 1, "rows.csv:3: this row has 1 fields and the header 2");
    csv_refused("a,b\n\"open,2\n", 1, "rows.csv:2: a quoted field is not closed");
    csv_refused("a,a\n1,2\n", 1, "rows.csv:1: the header row names the column \"a\" twice");
    csv_refused("a,\n1,2\n", 1, "empty column name");
    csv_refused("", 1, "the file is empty");
    csv_refused("a\n", 1, "no data row");
    csv_refused("a\n1\n2\n", 3, "2 data rows are too few for 3 shards: shard 3 gets none");
    csv_refused("a\nx\"y\n", 1, "a quote inside an unquoted field");
    csv_refused("a\n\"x\"y\n", 1, "text follows a closing quote");
    struct data_set *d = NULL;
    char err[256];
    assert_int_equal(data_parse(&d, "a\n1\n\0", 5, "rows.csv", 0, 1, err, sizeof err), -1);
    assert_string_equal(err, "rows.csv:3: a NUL byte: this is not a CSV text file");
}

/* ---- templates -------------------------------------------------------------------------- */

struct rendered {
    char text[512];
};

static struct template *compile(const char *text, const struct data_set *d)
{
    struct template *t = NULL;
    char err[512];
    if (template_compile(&t, text, strlen(text), d, "test", err, sizeof err))
        fail_msg("template_compile(%s): %s", text, err);
    return t;
}

static void compile_refused(const char *text, const struct data_set *d, const char *says)
{
    struct template *t = (struct template *)1;
    char err[512] = "";
    assert_int_equal(template_compile(&t, text, strlen(text), d, "test", err, sizeof err), -1);
    assert_null(t);
    if (!strstr(err, says))
        fail_msg("expected \"%s\" in \"%s\"", says, err);
}

static void render(const struct template *t, struct template_vars *v, char *out, size_t len)
{
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(template_render(t, v, &b), 0);
    snprintf(out, len, "%s", b.data ? b.data : "");
    buf_free(&b);
}

static void test_template_without_fields_is_static(void **state)
{
    (void)state;
    struct template *t = compile("{\"a\": {\"b\": 1}} }} {", NULL);
    size_t n;
    assert_true(template_is_static(t));
    assert_string_equal(template_text(t, &n), "{\"a\": {\"b\": 1}} }} {");
    template_free(t);
    t = compile("x{{\"{{\"}}y", NULL); /* a quoted literal is still static text */
    assert_true(template_is_static(t));
    assert_string_equal(template_text(t, &n), "x{{y");
    template_free(t);
}

static void test_template_seq_interleaves_streams_and_is_per_request(void **state)
{
    (void)state;
    struct template *t = compile("/u/{{seq}}?again={{ seq }}", NULL);
    assert_false(template_is_static(t));
    struct template_stream a, b;
    template_stream_init(&a, 0, 2, 0, 2, 1, NULL, NULL);
    template_stream_init(&b, 1, 2, 1, 2, 2, NULL, NULL);
    struct template_vars v;
    char out[128];
    template_vars_next(&a, &v);
    render(t, &v, out, sizeof out);
    assert_string_equal(out, "/u/1?again=1");
    template_vars_next(&b, &v);
    render(t, &v, out, sizeof out);
    assert_string_equal(out, "/u/2?again=2");
    template_vars_next(&a, &v);
    render(t, &v, out, sizeof out);
    assert_string_equal(out, "/u/3?again=3");
    template_free(t);
}

static void test_template_uuid_is_v4_and_the_same_within_a_request(void **state)
{
    (void)state;
    struct template *t = compile("{{uuid}} {{uuid}}", NULL);
    struct template_stream s;
    template_stream_init(&s, 0, 1, 0, 1, 42, NULL, NULL);
    struct template_vars v;
    char first[128], second[128];
    template_vars_next(&s, &v);
    render(t, &v, first, sizeof first);
    assert_int_equal(strlen(first), 73);
    assert_memory_equal(first, first + 37, 36);
    assert_int_equal(first[14], '4');           /* version */
    assert_non_null(strchr("89ab", first[19])); /* variant */
    assert_true(first[8] == '-' && first[13] == '-' && first[18] == '-' && first[23] == '-');
    template_vars_next(&s, &v);
    render(t, &v, second, sizeof second);
    assert_memory_not_equal(first, second, 36);
    template_free(t);
}

static void test_template_randint_stays_in_range_and_reaches_both_ends(void **state)
{
    (void)state;
    struct template *t = compile("{{randint -2 2}}", NULL);
    struct template_stream s;
    template_stream_init(&s, 0, 1, 0, 1, 7, NULL, NULL);
    int seen[5] = {0};
    for (int i = 0; i < 1000; i++) {
        struct template_vars v;
        char out[32];
        template_vars_next(&s, &v);
        render(t, &v, out, sizeof out);
        long x = strtol(out, NULL, 10);
        assert_true(x >= -2 && x <= 2);
        seen[x + 2]++;
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i] > 100);
    template_free(t);
}

static void test_template_data_rows_cycle_per_stream(void **state)
{
    (void)state;
    struct data_set *d = csv("id,name\n1,ann\n2,bob\n3,cy\n", 0, 1);
    struct template *t = compile("{{data.id}}:{{data.name}}:{{data.2}}", d);
    assert_true(template_uses_data(t));
    struct template_stream s0, s1;
    template_stream_init(&s0, 0, 2, 0, 2, 1, d, NULL);
    template_stream_init(&s1, 1, 2, 1, 2, 1, d, NULL);
    const char *want0[] = {"1:ann:ann", "3:cy:cy", "2:bob:bob"};
    for (int i = 0; i < 3; i++) {
        struct template_vars v;
        char out[64];
        template_vars_next(&s0, &v);
        render(t, &v, out, sizeof out);
        assert_string_equal(out, want0[i]);
    }
    struct template_vars v;
    char out[64];
    template_vars_next(&s1, &v);
    render(t, &v, out, sizeof out);
    assert_string_equal(out, "2:bob:bob");
    template_free(t);
    data_free(d);
}

static void test_template_filters_escape_for_urls_and_json(void **state)
{
    (void)state;
    struct data_set *d = csv("v\n\"a b+c/\"\"é\nx\"\n", 0, 1);
    struct template *url = compile("q={{data.v | url}}", d),
                    *json = compile("\"{{data.v|json}}\"", d);
    struct template_stream s;
    template_stream_init(&s, 0, 1, 0, 1, 1, d, "lg-1234");
    struct template_vars v;
    char out[128];
    template_vars_next(&s, &v);
    render(url, &v, out, sizeof out);
    assert_string_equal(out, "q=a%20b%2Bc%2F%22%C3%A9%0Ax");
    render(json, &v, out, sizeof out);
    assert_string_equal(out, "\"a b+c/\\\"é\\nx\"");
    template_free(url);
    template_free(json);
    struct template *tag = compile("{{run_tag}}-{{seq}}", NULL);
    render(tag, &v, out, sizeof out);
    assert_string_equal(out, "lg-1234-1");
    template_free(tag);
    data_free(d);
}

static void test_template_refusals_say_what_to_write(void **state)
{
    (void)state;
    struct data_set *d = csv("id,email\n1,a\n", 0, 1);
    compile_refused("a {{seq", NULL, "a {{ is not closed by }}");
    compile_refused("{{sequence}}", NULL, "{{sequence}} is not a template value");
    compile_refused("{{randint 5 1}}", NULL, "needs two whole numbers A <= B");
    compile_refused("{{randint 1}}", NULL, "needs two whole numbers");
    compile_refused("{{data.id}}", NULL, "no --data file was given");
    compile_refused("{{data.mail}}", d, "rows.csv does not have (columns: id, email)");
    compile_refused("{{seq | base64}}", NULL, "unknown filter");
    compile_refused("{{seq 3}}", NULL, "has words after the value");
    compile_refused("{{}}", NULL, "is empty");
    compile_refused("{{\"a\" b}}", NULL, "has text outside its quotes");
    data_free(d);
}

static void test_template_check_data_refuses_line_breaks_in_headers(void **state)
{
    (void)state;
    struct data_set *d = csv("v\nok\n\"two\nlines\"\n", 0, 1);
    struct template *raw = compile("X-V: {{data.v}}", d),
                    *enc = compile("X-V: {{data.v | url}}", d);
    char err[512];
    assert_int_equal(template_check_data(raw, "\r\n", "the header", err, sizeof err), -1);
    assert_non_null(strstr(err, "data row 2"));
    assert_int_equal(template_check_data(enc, "\r\n", "the header", err, sizeof err), 0);
    template_free(raw);
    template_free(enc);
    data_free(d);
}

static void test_template_render_over_the_limit_leaves_the_buffer(void **state)
{
    (void)state;
    struct template *t = compile("0123456789{{seq}}", NULL);
    struct template_stream s;
    template_stream_init(&s, 0, 1, 0, 1, 1, NULL, NULL);
    struct template_vars v;
    template_vars_next(&s, &v);
    struct buf b;
    buf_init(&b, 12);
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(template_render(t, &v, &b), -1);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    buf_free(&b);
    template_free(t);
}

/* ---- expect ----------------------------------------------------------------------------- */

static void test_expect_default_is_2xx_and_3xx(void **state)
{
    (void)state;
    struct expect e;
    expect_default(&e);
    assert_true(expect_status_ok(&e, 200) && expect_status_ok(&e, 399));
    assert_false(expect_status_ok(&e, 401) || expect_status_ok(&e, 429) ||
                 expect_status_ok(&e, 503) || expect_status_ok(&e, 199) ||
                 expect_status_ok(&e, 0) || expect_status_ok(&e, 999));
}

static void test_expect_lists_codes_classes_and_ranges(void **state)
{
    (void)state;
    struct expect e;
    char err[256];
    expect_default(&e);
    assert_int_equal(expect_parse_statuses(&e, "201, 4xx,500-502", err, sizeof err), 0);
    assert_true(expect_status_ok(&e, 201) && expect_status_ok(&e, 404) &&
                expect_status_ok(&e, 499) && expect_status_ok(&e, 501));
    assert_false(expect_status_ok(&e, 200) || expect_status_ok(&e, 503));
    assert_string_equal(e.statuses, "201, 4xx,500-502");
    const char *bad[] = {"", "2xxx", "20", "600", "300-200", "abc", "200,,201", "2xx 3xx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct expect before = e;
        assert_int_equal(expect_parse_statuses(&e, bad[i], err, sizeof err), -1);
        assert_memory_equal(&before, &e, sizeof e);
    }
}

static int scan_split(const struct expect *e, const char *body, size_t a, size_t b)
{
    struct expect_scan s;
    size_t n = strlen(body);
    expect_scan_init(&s, e);
    expect_scan_feed(&s, body, a);
    expect_scan_feed(&s, body + a, b - a);
    for (size_t i = b; i < n; i++) /* the rest byte by byte */
        expect_scan_feed(&s, body + i, 1);
    return s.found;
}

static void test_expect_body_found_across_every_split(void **state)
{
    (void)state;
    struct expect e;
    char err[256];
    expect_default(&e);
    assert_int_equal(expect_set_body(&e, "\"ok\":true", 9, err, sizeof err), 0);
    const char *yes = "{\"id\":1,\"ok\":true,\"pad\":\"xxxxxxxxxxxx\"}";
    const char *no = "{\"id\":1,\"ok\":false,\"ok\":tru}";
    for (size_t a = 0; a <= strlen(yes); a++)
        for (size_t b = a; b <= strlen(yes); b++)
            assert_true(scan_split(&e, yes, a, b));
    for (size_t a = 0; a <= strlen(no); a++)
        assert_false(scan_split(&e, no, a, a));
    struct expect_scan none;
    struct expect plain;
    expect_default(&plain);
    expect_scan_init(&none, &plain);
    assert_true(none.found); /* no body check: found from the start */
    assert_int_equal(expect_set_body(&e, "", 0, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reads_header_and_rows),
        cmocka_unit_test(test_csv_quoted_fields_keep_commas_quotes_and_newlines),
        cmocka_unit_test(test_csv_blank_lines_and_empty_fields),
        cmocka_unit_test(test_csv_shards_take_disjoint_rows),
        cmocka_unit_test(test_csv_columns_by_name_or_number),
        cmocka_unit_test(test_csv_refusals_name_the_line),
        cmocka_unit_test(test_template_without_fields_is_static),
        cmocka_unit_test(test_template_seq_interleaves_streams_and_is_per_request),
        cmocka_unit_test(test_template_uuid_is_v4_and_the_same_within_a_request),
        cmocka_unit_test(test_template_randint_stays_in_range_and_reaches_both_ends),
        cmocka_unit_test(test_template_data_rows_cycle_per_stream),
        cmocka_unit_test(test_template_filters_escape_for_urls_and_json),
        cmocka_unit_test(test_template_refusals_say_what_to_write),
        cmocka_unit_test(test_template_check_data_refuses_line_breaks_in_headers),
        cmocka_unit_test(test_template_render_over_the_limit_leaves_the_buffer),
        cmocka_unit_test(test_expect_default_is_2xx_and_3xx),
        cmocka_unit_test(test_expect_lists_codes_classes_and_ranges),
        cmocka_unit_test(test_expect_body_found_across_every_split),
    };
    return cmocka_run_group_tests_name("workload_data", tests, NULL, NULL);
}
