/*
 * Unit tests for loadgen/requests_out: a record's exact JSON line and CSV row (fields that do
 * not apply left out or empty), whole lines from several buffers however many records go
 * through them, and a write error reported at close rather than a file passed off as complete.
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

#include "requests_out.h"

static char path[64];

static int make_path(void **state, const char *suffix)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_requests_out.%d%s", (int)getpid(), suffix);
    return 0;
}

static int json_path(void **state)
{
    return make_path(state, ".jsonl");
}

static int csv_path(void **state)
{
    return make_path(state, ".CSV"); /* the extension is not case-sensitive */
}

static int remove_path(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static char *slurp(size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 24);
    *len = fread(text, 1, (1 << 24) - 1, f);
    fclose(f);
    return text;
}

static struct request_record sample(void)
{
    struct request_record r = {.target = "login",
                               .method = "POST",
                               .intended_unix_ns = UINT64_C(1764219662000001999),
                               .sent_unix_ns = UINT64_C(1764219662000002000),
                               .done_unix_ns = UINT64_C(1764219662001502000),
                               .status = 401,
                               .error = "unexpected_status",
                               .bytes_sent = 180,
                               .bytes_received = 23,
                               .new_connection = 1,
                               .first_byte_us = 1400,
                               .dns_us = -1,
                               .connect_us = -1,
                               .tls_us = -1,
                               .thread = 1};
    return r;
}

static void write_records(const struct request_record *recs, size_t n)
{
    struct requests_out *o = NULL;
    char err[256];
    assert_int_equal(requests_out_open(&o, path, err, sizeof err), 0);
    struct requests_out_buf b;
    requests_out_buf_init(&b, o);
    for (size_t i = 0; i < n; i++)
        requests_out_add(&b, &recs[i]);
    requests_out_buf_close(&b);
    assert_int_equal(requests_out_count(o), n);
    assert_int_equal(requests_out_close(o, err, sizeof err), 0);
}

static void test_json_line_has_every_field_that_applies(void **state)
{
    (void)state;
    struct request_record r[2] = {sample(), sample()};
    r[1].status = 0;
    r[1].error = "timeout";
    r[1].first_byte_us = -1;
    r[1].new_connection = 0;
    r[1].dns_us = 12;
    r[1].connect_us = 340;
    r[1].tls_us = 0;
    r[1].warmup = 1;
    write_records(r, 2);
    size_t len;
    char *text = slurp(&len);
    assert_string_equal(
        text, "{\"target\":\"login\",\"method\":\"POST\",\"intended_unix_us\":1764219662000001,"
              "\"sent_unix_us\":1764219662000002,\"done_unix_us\":1764219662001502,\"status\":401,"
              "\"error\":\"unexpected_status\",\"bytes_sent\":180,\"bytes_received\":23,"
              "\"new_connection\":true,\"first_byte_us\":1400,\"thread\":1}\n"
              "{\"target\":\"login\",\"method\":\"POST\",\"intended_unix_us\":1764219662000001,"
              "\"sent_unix_us\":1764219662000002,\"done_unix_us\":1764219662001502,\"status\":0,"
              "\"error\":\"timeout\",\"bytes_sent\":180,\"bytes_received\":23,"
              "\"new_connection\":false,\"dns_us\":12,\"connect_us\":340,\"tls_us\":0,"
              "\"warmup\":true,\"thread\":1}\n");
    free(text);
}

static void test_csv_has_a_header_and_one_row_per_request(void **state)
{
    (void)state;
    struct request_record r[2] = {sample(), sample()};
    r[1].error = NULL;
    r[1].status = 200;
    r[1].target = "odd,name";
    write_records(r, 2);
    size_t len;
    char *text = slurp(&len);
    assert_string_equal(
        text,
        "target,method,intended_unix_us,sent_unix_us,done_unix_us,status,error,bytes_sent,"
        "bytes_received,new_connection,first_byte_us,dns_us,connect_us,tls_us,warmup,thread\n"
        "login,POST,1764219662000001,1764219662000002,1764219662001502,401,unexpected_status,"
        "180,23,1,1400,,,,0,1\n"
        "\"odd,name\",POST,1764219662000001,1764219662000002,1764219662001502,200,,180,23,1,1400,"
        ",,,0,1\n");
    free(text);
}

/* Far more records than one buffer holds: every line whole, none lost or doubled. */
static void test_many_records_go_through_in_whole_lines(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct request_record *r = calloc(N, sizeof *r);
    for (size_t i = 0; i < N; i++) {
        r[i] = sample();
        r[i].bytes_sent = i;
    }
    write_records(r, N);
    size_t len;
    char *text = slurp(&len);
    size_t lines = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        char want[32];
        snprintf(want, sizeof want, "\"bytes_sent\":%zu,", lines);
        assert_non_null(strstr(line, want));
        assert_true(line[0] == '{' && nl[-1] == '}');
        lines++;
    }
    assert_int_equal(lines, N);
    free(text);
    free(r);
}

static void test_a_write_error_is_reported_at_close(void **state)
{
    (void)state;
    struct requests_out *o = NULL;
    char err[256] = "";
    assert_int_equal(requests_out_open(&o, "/dev/full", err, sizeof err), 0);
    struct requests_out_buf b;
    requests_out_buf_init(&b, o);
    struct request_record r = sample();
    requests_out_add(&b, &r);
    requests_out_buf_close(&b);
    assert_int_equal(requests_out_close(o, err, sizeof err), -1);
    assert_string_equal(err, "the requests file /dev/full is incomplete: No space left on device");
    assert_int_equal(requests_out_open(&o, "/nonexistent/r.csv", err, sizeof err), -1);
    assert_string_equal(err, "cannot write the requests file /nonexistent/r.csv: No such file or "
                             "directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_line_has_every_field_that_applies, json_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(test_csv_has_a_header_and_one_row_per_request, csv_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(test_many_records_go_through_in_whole_lines, json_path,
                                        remove_path),
        cmocka_unit_test(test_a_write_error_is_reported_at_close),
    };
    return cmocka_run_group_tests_name("requests_out", tests, NULL, NULL);
}
