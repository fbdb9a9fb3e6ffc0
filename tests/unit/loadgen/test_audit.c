/*
 * Unit tests for loadgen/audit's ledger reader and report rendering (the verdicts against a real
 * taskd are in tests/e2e/loadgen/test_audit.c): what ledger_append writes reads back field for
 * field, exact to the nanosecond and to 19-digit ids; a malformed line is an error naming the file
 * and line; only an unterminated last line (a crash) is skipped as torn; the JSON report is
 * complete.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "ledger.h"
#include "temp_names.h"

#define MAX_READ 16

struct read_entry {
    struct ledger_entry e;
    char task[256];
    int has_task;
    char id[LEDGER_ID_MAX], target[64];
    uint64_t line, offset;
};

struct fixture {
    char dir[64];
    char path[128];
    struct read_entry got[MAX_READ];
    size_t ngot;
    int torn;
    char err[512];
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/test_audit." MKSTEMP_SUFFIX);
    if (!mkdtemp(f.dir))
        return -1;
    snprintf(f.path, sizeof f.path, "%s/ledger.jsonl", f.dir);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    return 0;
}

static void write_file(const struct fixture *f, const char *content)
{
    FILE *out = fopen(f->path, "w");
    assert_non_null(out);
    assert_int_equal(fwrite(content, 1, strlen(content), out), strlen(content));
    assert_int_equal(fclose(out), 0);
}

static int collect(const struct ledger_entry *e, uint64_t line, uint64_t offset, void *arg)
{
    struct fixture *f = arg;
    if (f->ngot == MAX_READ)
        return 7;
    struct read_entry *r = &f->got[f->ngot++];
    r->e = *e;
    r->has_task = e->task != NULL;
    if (e->task)
        snprintf(r->task, sizeof r->task, "%s", e->task);
    r->e.task = NULL;
    snprintf(r->id, sizeof r->id, "%s", e->id ? e->id : "");
    snprintf(r->target, sizeof r->target, "%s", e->target ? e->target : "");
    r->e.id = r->e.target = NULL;
    r->line = line;
    r->offset = offset;
    return 0;
}

static int read_ledger(struct fixture *f)
{
    f->ngot = 0;
    f->err[0] = '\0';
    return audit_ledger_read(f->path, collect, f, &f->torn, f->err, sizeof f->err);
}

/* Reading `content` fails with exactly `expected` as the message (after the path). */
static void assert_malformed(struct fixture *f, const char *content, const char *expected)
{
    write_file(f, content);
    assert_int_equal(read_ledger(f), -1);
    char want[512];
    snprintf(want, sizeof want, "the ledger %s %s", f->path, expected);
    assert_string_equal(f->err, want);
}

#define CREATE_OK                                                                                  \
    "{\"op\":\"create\",\"outcome\":\"ok\",\"status\":201,\"id\":1,\"task\":\"lg-r-0-0c\","        \
    "\"done\":false,\"invoke_unix_ns\":10,\"complete_unix_ns\":20}\n"

static void test_reader_reads_back_what_ledger_append_wrote(void **state)
{
    struct fixture *f = *state;
    const char *odd = "lg-r1-3-7u \"quoted\" back\\slash\ttab\nnl \xc3\xbc \xf0\x9f\xa5\x9b "
                      "\xe2\x80\xa8 end";
    const struct ledger_entry in[] = {
        {LEDGER_CREATE, LEDGER_OK, 201, "1", "lg-r1-0-0c", 0, 1700000000123456789ull,
         1700000000123999999ull, NULL},
        {LEDGER_UPDATE, LEDGER_OK, 200, "9223372036854775807", odd, 1, 1, 2, NULL},
        {LEDGER_DELETE, LEDGER_OK, 204, "9007199254740993", NULL, 0, 18446744073709551614ull,
         18446744073709551615ull, NULL},
        {LEDGER_CREATE, LEDGER_FAIL, 503, NULL, "lg-r1-0-1c", 1, 0, 0, NULL},
        {LEDGER_CREATE, LEDGER_INFO, 0, "", "", 0, 5, 6, NULL},
        {LEDGER_UPDATE, LEDGER_FAIL, 404, "2", "lg-r1-0-2u", 0, 7, 8, NULL},
        {LEDGER_DELETE, LEDGER_INFO, 0, "3", NULL, 0, 9, 10, NULL},
        /* any API: a string id (also one that looks like a number), no done, a named target */
        {LEDGER_CREATE, LEDGER_OK, 201, "550e8400-e29b-41d4-a716-446655440000", "lg-r1-0-3c", -1,
         11, 12, "signup"},
        {LEDGER_UPDATE, LEDGER_OK, 200, "007", "lg-r1-0-4u", -1, 13, 14, "rename \"x\""},
        {LEDGER_DELETE, LEDGER_OK, 200, "a/b c", NULL, 0, 15, 16, "remove"},
    };
    size_t n = sizeof in / sizeof in[0];
    char err[256];
    struct ledger *l = ledger_open(f->path, err, sizeof err);
    assert_non_null(l);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ledger_append(l, &in[i]), 0);
    assert_int_equal(ledger_close(l, err, sizeof err), 0);

    assert_int_equal(read_ledger(f), 0);
    assert_int_equal(f->torn, 0);
    assert_int_equal(f->ngot, n);
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const struct read_entry *r = &f->got[i];
        assert_int_equal(r->e.op, in[i].op);
        assert_int_equal(r->e.outcome, in[i].outcome);
        assert_int_equal(r->e.status, in[i].status);
        assert_string_equal(r->id, in[i].id ? in[i].id : "");
        assert_string_equal(r->target, in[i].target ? in[i].target : "");
        assert_true(r->e.invoke_unix_ns == in[i].invoke_unix_ns);
        assert_true(r->e.complete_unix_ns == in[i].complete_unix_ns);
        assert_int_equal(r->line, i + 1);
        assert_true(r->offset == offset);
        if (in[i].task) {
            assert_true(r->has_task);
            assert_string_equal(r->task, in[i].task);
            assert_int_equal(r->e.done, in[i].done);
        } else {
            assert_false(r->has_task);
        }
        /* the next line starts after this one's newline */
        FILE *file = fopen(f->path, "r");
        assert_non_null(file);
        char *line = NULL;
        size_t cap = 0;
        assert_int_equal(fseek(file, (long)offset, SEEK_SET), 0);
        ssize_t len = getline(&line, &cap, file);
        assert_true(len > 0 && line[len - 1] == '\n');
        offset += (uint64_t)len;
        free(line);
        fclose(file);
    }
}

/* Integer ids are JSON numbers (as taskd's always were), every other id a string. */
static void test_ledger_writes_integer_ids_as_numbers_and_others_as_strings(void **state)
{
    struct fixture *f = *state;
    const struct ledger_entry in[] = {
        {LEDGER_DELETE, LEDGER_OK, 204, "42", NULL, 0, 1, 2, NULL},
        {LEDGER_DELETE, LEDGER_OK, 204, "042", NULL, 0, 1, 2, NULL},
        {LEDGER_DELETE, LEDGER_OK, 204, "9223372036854775808", NULL, 0, 1, 2, NULL},
        {LEDGER_CREATE, LEDGER_OK, 201, "-1", "t", -1, 1, 2, "make"},
    };
    char err[256];
    struct ledger *l = ledger_open(f->path, err, sizeof err);
    assert_non_null(l);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_int_equal(ledger_append(l, &in[i]), 0);
    assert_int_equal(ledger_close(l, err, sizeof err), 0);
    FILE *file = fopen(f->path, "r");
    char text[1024];
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = '\0';
    assert_string_equal(
        text,
        "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":42,\"invoke_unix_ns\":1,"
        "\"complete_unix_ns\":2}\n"
        "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":\"042\",\"invoke_unix_ns\":1,"
        "\"complete_unix_ns\":2}\n"
        "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":\"9223372036854775808\","
        "\"invoke_unix_ns\":1,\"complete_unix_ns\":2}\n"
        "{\"op\":\"create\",\"outcome\":\"ok\",\"status\":201,\"id\":\"-1\",\"task\":\"t\","
        "\"target\":\"make\",\"invoke_unix_ns\":1,\"complete_unix_ns\":2}\n");
}

static void test_reader_stops_when_the_callback_asks(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK CREATE_OK);
    f->ngot = MAX_READ; /* collect() returns 7 at once */
    assert_int_equal(audit_ledger_read(f->path, collect, f, NULL, f->err, sizeof f->err), 7);
}

static void test_reader_skips_blank_lines_and_counts_them(void **state)
{
    struct fixture *f = *state;
    write_file(f, "\n" CREATE_OK "  \n" CREATE_OK);
    assert_int_equal(read_ledger(f), 0);
    assert_int_equal(f->ngot, 2);
    assert_int_equal(f->got[0].line, 2);
    assert_int_equal(f->got[1].line, 4);
}

static void test_reader_accepts_an_unterminated_complete_last_line(void **state)
{
    struct fixture *f = *state;
    char content[512];
    snprintf(content, sizeof content, "%s%.*s", CREATE_OK, (int)strlen(CREATE_OK) - 1, CREATE_OK);
    write_file(f, content);
    assert_int_equal(read_ledger(f), 0);
    assert_int_equal(f->ngot, 2);
    assert_int_equal(f->torn, 0);
}

static void test_reader_skips_a_torn_last_line_and_says_so(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK CREATE_OK "{\"op\":\"create\",\"outcome\":\"ok\",\"sta");
    assert_int_equal(read_ledger(f), 0);
    assert_int_equal(f->ngot, 2);
    assert_int_equal(f->torn, 1);
}

static void test_reader_without_torn_reports_a_torn_last_line_as_malformed(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK "{\"op\":\"cre");
    assert_int_equal(audit_ledger_read(f->path, collect, f, NULL, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "line 2 is malformed: not a JSON object"));
}

static void test_reader_rejects_a_terminated_bad_last_line(void **state)
{
    assert_malformed(*state, CREATE_OK "{\"op\":\"create\",\"outcome\":\"ok\",\"sta\n",
                     "line 2 is malformed: not a JSON object (each line must be one JSON object "
                     "as loadgen --ledger writes it)");
}

static void test_reader_names_the_line_of_a_bad_line_in_the_middle(void **state)
{
    struct fixture *f = *state;
    assert_malformed(f, CREATE_OK CREATE_OK "not json\n" CREATE_OK,
                     "line 3 is malformed: not a JSON object (each line must be one JSON object "
                     "as loadgen --ledger writes it)");
    assert_int_equal(f->ngot, 2); /* the lines before were delivered */
}

#define BAD(name, line, why)                                                                       \
    static void name(void **state)                                                                 \
    {                                                                                              \
        assert_malformed(*state, CREATE_OK line "\n",                                              \
                         "line 2 is malformed: " why " (each line must be one JSON object as "     \
                         "loadgen --ledger writes it)");                                           \
    }

#define TIMES ",\"invoke_unix_ns\":1,\"complete_unix_ns\":2"
#define OPS_WHY "\"op\" must be create, update or delete and \"outcome\" ok, fail or info"
#define ID_WHY "\"id\" must be a resource id (a positive integer, or a string of 1 to 255 bytes)"
#define NS_WHY "\"invoke_unix_ns\" and \"complete_unix_ns\" must be nanoseconds since the epoch"

BAD(test_reader_rejects_an_array, "[1,2]", "not a JSON object")
BAD(test_reader_rejects_trailing_text, "{\"op\":\"delete\"} x", "not a JSON object")
BAD(test_reader_rejects_an_unknown_op,
    "{\"op\":\"upsert\",\"outcome\":\"ok\",\"status\":200,\"id\":1" TIMES "}", OPS_WHY)
BAD(test_reader_rejects_an_unknown_outcome,
    "{\"op\":\"delete\",\"outcome\":\"maybe\",\"status\":200,\"id\":1" TIMES "}", OPS_WHY)
BAD(test_reader_rejects_a_missing_status,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"id\":1" TIMES "}",
    "\"status\" must be an HTTP status or 0")
BAD(test_reader_rejects_a_status_over_999,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":1000,\"id\":1" TIMES "}",
    "\"status\" must be an HTTP status or 0")
BAD(test_reader_rejects_a_string_status,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":\"204\",\"id\":1" TIMES "}",
    "\"status\" must be an HTTP status or 0")
BAD(test_reader_rejects_id_zero,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":0" TIMES "}", ID_WHY)
BAD(test_reader_rejects_a_negative_id,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":-4" TIMES "}", ID_WHY)
BAD(test_reader_rejects_an_id_beyond_int64,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":9223372036854775808" TIMES "}",
    ID_WHY)
BAD(test_reader_rejects_a_fractional_id,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":1.5" TIMES "}", ID_WHY)
BAD(test_reader_rejects_an_empty_string_id,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":\"\"" TIMES "}", ID_WHY)
BAD(test_reader_rejects_a_boolean_id,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":true" TIMES "}", ID_WHY)
BAD(test_reader_rejects_an_update_without_id,
    "{\"op\":\"update\",\"outcome\":\"fail\",\"status\":503,\"task\":\"t\",\"done\":true" TIMES "}",
    "an update needs the \"id\" it was sent to")
BAD(test_reader_rejects_a_delete_without_id,
    "{\"op\":\"delete\",\"outcome\":\"info\",\"status\":0" TIMES "}",
    "a delete needs the \"id\" it was sent to")
#define TEXT_WHY(op)                                                                               \
    op " needs the \"task\" text it wrote (and \"done\", when present, is true or false)"
BAD(test_reader_rejects_a_create_without_task,
    "{\"op\":\"create\",\"outcome\":\"info\",\"status\":0,\"done\":false" TIMES "}",
    TEXT_WHY("a create"))
BAD(test_reader_rejects_an_update_with_a_done_that_is_not_a_boolean,
    "{\"op\":\"update\",\"outcome\":\"ok\",\"status\":200,\"id\":3,\"task\":\"t\",\"done\":1" TIMES
    "}",
    TEXT_WHY("an update"))
BAD(test_reader_rejects_a_target_that_is_not_a_string,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":3,\"target\":7" TIMES "}",
    "\"target\" must be a string (the request's name)")
BAD(test_reader_rejects_missing_times,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":1,\"invoke_unix_ns\":1}", NS_WHY)
BAD(test_reader_rejects_times_in_exponent_form,
    "{\"op\":\"delete\",\"outcome\":\"ok\",\"status\":204,\"id\":1,\"invoke_unix_ns\":1e18,"
    "\"complete_unix_ns\":2}",
    NS_WHY)

static void
test_reader_takes_integers_from_the_member_not_from_text_that_looks_like_it(void **state)
{
    struct fixture *f = *state;
    write_file(f, "{\"task\":\"x\\\"id\\\":5, \\\"status\\\":1\",\"op\":\"update\",\"outcome\":"
                  "\"ok\",\"done\":true,\"status\":200 , \"id\" : 77,\"invoke_unix_ns\":3,"
                  "\"complete_unix_ns\":4}\n");
    assert_int_equal(read_ledger(f), 0);
    assert_int_equal(f->ngot, 1);
    assert_string_equal(f->got[0].id, "77");
    assert_int_equal(f->got[0].e.status, 200);
    assert_string_equal(f->got[0].task, "x\"id\":5, \"status\":1");
}

static void test_reader_reports_a_missing_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(read_ledger(f), -1);
    char want[256];
    snprintf(want, sizeof want,
             "cannot read the ledger %s: No such file or directory (pass the file loadgen "
             "--ledger wrote)",
             f->path);
    assert_string_equal(f->err, want);
}

static void test_audit_run_fails_on_a_malformed_ledger_before_any_request(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK "{\n");
    struct audit_report r;
    /* Port 1 refuses; reaching the network would give another error. */
    assert_int_equal(audit_run(f->path, "http://127.0.0.1:1", NULL, &r, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "line 2 is malformed"));
    assert_int_equal(r.writes, 1);
    audit_report_free(&r);
}

static void test_audit_run_fails_when_the_server_cannot_be_reached(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK);
    struct audit_options opt;
    audit_options_default(&opt);
    opt.retry_for_ns = 0;
    struct audit_report r;
    assert_int_equal(audit_run(f->path, "http://127.0.0.1:1/", &opt, &r, f->err, sizeof f->err),
                     -1);
    assert_string_equal(f->err, "cannot read http://127.0.0.1:1/tasks?limit=1000: "
                                "Couldn't connect to server (is the service running there?)");
    audit_report_free(&r);
}

static void test_audit_main_usage_errors_exit_2(void **state)
{
    struct fixture *f = *state;
    write_file(f, CREATE_OK);
    char *no_ledger[] = {"audit", "http://127.0.0.1:1", NULL};
    char *no_url[] = {"audit", "--ledger", f->path, NULL};
    char *no_value[] = {"audit", "http://127.0.0.1:1", "--ledger", NULL};
    char *unknown[] = {"audit", "--ledger", f->path, "--frobnicate", "http://127.0.0.1:1", NULL};
    char *two_urls[] = {"audit", "--ledger", f->path, "http://a", "http://b", NULL};
    char *bad_max[] = {"audit", "--ledger", f->path, "--max-report", "-1", "http://a", NULL};
    char *bad_retry[] = {"audit", "--ledger", f->path, "--retry-for", "10", "http://a", NULL};
    char *missing[] = {"audit", "--ledger", "/nonexistent/ledger", "http://127.0.0.1:1", NULL};
    char ledger_flag[160];
    snprintf(ledger_flag, sizeof ledger_flag, "--ledger=%s", f->path);
    char *unreachable[] = {"audit", ledger_flag, "--retry-for=0s", "http://127.0.0.1:1", NULL};
    assert_int_equal(audit_main(2, no_ledger), 2);
    assert_int_equal(audit_main(3, no_url), 2);
    assert_int_equal(audit_main(3, no_value), 2);
    assert_int_equal(audit_main(5, unknown), 2);
    assert_int_equal(audit_main(5, two_urls), 2);
    assert_int_equal(audit_main(6, bad_max), 2);
    assert_int_equal(audit_main(6, bad_retry), 2);
    assert_int_equal(audit_main(4, missing), 2);
    assert_int_equal(audit_main(4, unreachable), 2);
}

/* A report built by hand: every member of the JSON rendering, with exact values. */
static void test_json_report_has_every_count_and_finding(void **state)
{
    (void)state;
    struct audit_report r;
    memset(&r, 0, sizeof r);
    r.ledger_path = strdup("run.ledger");
    r.url = strdup("http://127.0.0.1:5000");
    r.api = strdup("ids from /id");
    r.tags[0] = strdup("lg-abc");
    r.ntags = 1;
    r.writes = 9;
    r.torn_last_line = 1;
    r.incomplete = 1;
    r.ops[LEDGER_CREATE][LEDGER_OK] = 4;
    r.ops[LEDGER_UPDATE][LEDGER_FAIL] = 2;
    r.ops[LEDGER_DELETE][LEDGER_INFO] = 3;
    r.ids_checked = 4;
    r.creates_without_id = 1;
    r.rows_read = 6;
    r.rows_tagged = 5;
    r.pages = 1;
    r.ok = 2;
    r.lost = 2;
    r.unexpected = 1;
    r.recovered = 1;
    r.unverifiable = 4;
    r.duration_s = 0.25;
    r.findings = calloc(2, sizeof *r.findings);
    assert_non_null(r.findings);
    r.nfindings = 2;
    r.findings[0] = (struct audit_finding){.kind = AUDIT_LOST,
                                           .id = strdup("7"),
                                           .line = 3,
                                           .op = LEDGER_UPDATE,
                                           .outcome = LEDGER_OK,
                                           .status = 200,
                                           .reason = strdup("gone"),
                                           .expected_task = strdup("a\"b"),
                                           .expected_done = 1,
                                           .found_done = -1,
                                           .target = strdup("rename")};
    r.findings[1] = (struct audit_finding){.kind = AUDIT_UNEXPECTED,
                                           .id = strdup("u-9"),
                                           .op = LEDGER_CREATE,
                                           .reason = strdup("stray"),
                                           .expected_done = -1,
                                           .found_task = strdup("x"),
                                           .found_done = -1};
    struct buf out;
    buf_init(&out, 1 << 16);
    assert_int_equal(audit_render_json(&r, &out), 0);
    assert_string_equal(
        out.data,
        "{\"schema\":\"taskbench.audit/1\",\"ledger\":\"run.ledger\",\"url\":\"http://"
        "127.0.0.1:5000\",\"api\":\"ids from "
        "/id\",\"mode\":\"listed\",\"clean\":false,\"tags\":[\"lg-abc\"],\"writes\":9,\"torn_last_"
        "line\":"
        "true,\"incomplete\":true,\"ops\":{\"create\":{\"ok\":4,\"fail\":0,\"info\":0},\"update\":{"
        "\"ok\":0,\"fail\":"
        "2,\"info\":0},\"delete\":{\"ok\":0,\"fail\":0,\"info\":3}},\"ids_checked\":4,"
        "\"creates_without_id\":1,\"rows_read\":6,\"rows_tagged\":5,\"pages\":1,\"reads\":0,"
        "\"ok\":2,\"lost\":2,\"unexpected\":1,\"recovered\":1,\"unverifiable\":4,"
        "\"unverifiable_creates\":0,\"duration_s\":0.250,\"findings\":[{"
        "\"kind\":\"lost\",\"id\":7,\"line\":3,\"op\":\"update\",\"outcome\":\"ok\",\"status\":"
        "200,\"target\":\"rename\",\"reason\":\"gone\",\"expected\":{\"task\":\"a\\\"b\","
        "\"done\":true},\"found\":null},"
        "{\"kind\":\"unexpected\",\"id\":\"u-9\",\"line\":null,\"reason\":\"stray\","
        "\"expected\":null,\"found\":{\"task\":\"x\"}}],\"findings_truncated\":true}");
    assert_false(audit_clean(&r));
    buf_free(&out);

    /* and the human summary says the same */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    audit_print(&r, mem);
    fclose(mem);
    assert_non_null(strstr(text, "  api       ids from /id\n  run tag   lg-abc\n"));
    assert_non_null(strstr(text, "  ledger    9 writes: create 4 ok, 0 fail, 0 info; update 0 ok, "
                                 "2 fail, 0 info; delete 0 ok, 0 fail, 3 info\n"));
    assert_non_null(strstr(text, "  warning   the ledger's last line was cut short"));
    assert_non_null(strstr(text, "  warning   the ledger is incomplete"));
    assert_non_null(
        strstr(text, "  verdict   ok 2, lost 2, unexpected 1, recovered 1, unverifiable 4\n"));
    assert_non_null(strstr(text, "  lost id 7: gone\n      target    rename\n"
                                 "      expected  task \"a\\\"b\", done true\n"
                                 "      found     no row\n"));
    assert_non_null(strstr(text, "  unexpected id u-9: stray\n      expected  no row\n"
                                 "      found     task \"x\"\n"));
    assert_non_null(strstr(text, "  ... and 1 more (--max-report N shows more)\n"));
    assert_non_null(strstr(text, "NOT CLEAN: 2 lost, 1 unexpected\n"));
    free(text);
    audit_report_free(&r);
    audit_report_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reader_reads_back_what_ledger_append_wrote),
        T(test_ledger_writes_integer_ids_as_numbers_and_others_as_strings),
        T(test_reader_stops_when_the_callback_asks),
        T(test_reader_skips_blank_lines_and_counts_them),
        T(test_reader_accepts_an_unterminated_complete_last_line),
        T(test_reader_skips_a_torn_last_line_and_says_so),
        T(test_reader_without_torn_reports_a_torn_last_line_as_malformed),
        T(test_reader_rejects_a_terminated_bad_last_line),
        T(test_reader_names_the_line_of_a_bad_line_in_the_middle),
        T(test_reader_rejects_an_array),
        T(test_reader_rejects_trailing_text),
        T(test_reader_rejects_an_unknown_op),
        T(test_reader_rejects_an_unknown_outcome),
        T(test_reader_rejects_a_missing_status),
        T(test_reader_rejects_a_status_over_999),
        T(test_reader_rejects_a_string_status),
        T(test_reader_rejects_id_zero),
        T(test_reader_rejects_a_negative_id),
        T(test_reader_rejects_an_id_beyond_int64),
        T(test_reader_rejects_a_fractional_id),
        T(test_reader_rejects_an_update_without_id),
        T(test_reader_rejects_a_delete_without_id),
        T(test_reader_rejects_an_empty_string_id),
        T(test_reader_rejects_a_boolean_id),
        T(test_reader_rejects_a_create_without_task),
        T(test_reader_rejects_an_update_with_a_done_that_is_not_a_boolean),
        T(test_reader_rejects_a_target_that_is_not_a_string),
        T(test_reader_rejects_missing_times),
        T(test_reader_rejects_times_in_exponent_form),
        T(test_reader_takes_integers_from_the_member_not_from_text_that_looks_like_it),
        T(test_reader_reports_a_missing_file),
        T(test_audit_run_fails_on_a_malformed_ledger_before_any_request),
        T(test_audit_run_fails_when_the_server_cannot_be_reached),
        T(test_audit_main_usage_errors_exit_2),
        T(test_json_report_has_every_count_and_finding),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
