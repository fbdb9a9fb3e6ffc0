/*
 * Unit tests for service/metrics: what a scrape shows after requests, database errors and
 * queries are recorded, line for line as dashboards and alerts read it. The registry is process
 * global, so every test starts with metrics_init(). When promtool is installed, a full
 * exposition is also checked by `promtool check metrics`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "db_file.h"
#include "metrics.h"
#include "promtool.h"
#include "skip.h"

#define MS UINT64_C(1000000)

static const struct db_gauges healthy = {.up = 1,
                                         .file_state = DB_FILE_OK,
                                         .tasks = 3,
                                         .free_bytes = 1024,
                                         .free_inodes = 77,
                                         .created_total = 0};

static int setup(void **state)
{
    (void)state;
    metrics_init();
    return 0;
}

/* The exposition for `db` (static storage, valid until the next call). */
static const char *render(const struct db_gauges *db)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, 1024 * 1024);
    assert_int_equal(metrics_render(&out, db, "1.2.3"), 0);
    return out.data;
}

/* Number of whole lines of `text` that start with `prefix`. */
static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, len) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static int has_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == len && memcmp(p, line, len) == 0)
            return 1;
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

static void assert_line(const char *text, const char *line)
{
    if (!has_line(text, line))
        print_error("missing line: %s\n", line);
    assert_true(has_line(text, line));
}

static void test_metrics_counts_a_request_by_method_route_and_code(void **state)
{
    (void)state;
    metrics_request_done(METHOD_GET, ROUTE_TASK, 200, 1 * MS);
    const char *text = render(&healthy);
    assert_line(text, "http_requests_total{method=\"GET\",route=\"/tasks/{id}\",code=\"200\"} 1");
}

static void test_metrics_counts_repeated_requests_in_one_series(void **state)
{
    (void)state;
    metrics_request_done(METHOD_POST, ROUTE_TASKS, 201, 1 * MS);
    metrics_request_done(METHOD_POST, ROUTE_TASKS, 201, 2 * MS);
    metrics_request_done(METHOD_POST, ROUTE_TASKS, 400, 1 * MS);
    const char *text = render(&healthy);
    assert_line(text, "http_requests_total{method=\"POST\",route=\"/tasks\",code=\"201\"} 2");
    assert_line(text, "http_requests_total{method=\"POST\",route=\"/tasks\",code=\"400\"} 1");
    assert_int_equal(count_lines_starting(text, "http_requests_total{"), 2);
}

static void test_metrics_renders_no_request_series_before_any_request(void **state)
{
    (void)state;
    const char *text = render(&healthy);
    assert_int_equal(count_lines_starting(text, "http_requests_total{"), 0);
    assert_int_equal(count_lines_starting(text, "http_request_duration_seconds_"), 0);
    assert_line(text, "# TYPE http_requests_total counter");
}

static void test_metrics_uses_other_labels_for_unknown_method_and_route(void **state)
{
    (void)state;
    metrics_request_done(METHOD_OTHER, ROUTE_OTHER, 404, 1 * MS);
    const char *text = render(&healthy);
    assert_line(text, "http_requests_total{method=\"other\",route=\"other\",code=\"404\"} 1");
}

static void test_metrics_counts_out_of_range_status_as_500(void **state)
{
    (void)state;
    metrics_request_done(METHOD_GET, ROUTE_LIVEZ, 42, 1 * MS);
    metrics_request_done(METHOD_GET, ROUTE_LIVEZ, 600, 1 * MS);
    const char *text = render(&healthy);
    assert_line(text, "http_requests_total{method=\"GET\",route=\"/livez\",code=\"500\"} 2");
}

static void test_metrics_renders_request_duration_histogram(void **state)
{
    (void)state;
    metrics_request_done(METHOD_GET, ROUTE_TASK, 200, 1 * MS);
    const char *text = render(&healthy);
    assert_line(text, "# TYPE http_request_duration_seconds histogram");
    assert_line(text, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/tasks/{id}\","
                      "le=\"0.0005\"} 0");
    assert_line(text, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/tasks/{id}\","
                      "le=\"0.001\"} 1");
    assert_line(text, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/tasks/{id}\","
                      "le=\"10\"} 1");
    assert_line(text, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/tasks/{id}\","
                      "le=\"+Inf\"} 1");
    assert_line(text,
                "http_request_duration_seconds_sum{method=\"GET\",route=\"/tasks/{id}\"} 0.001");
    assert_line(text,
                "http_request_duration_seconds_count{method=\"GET\",route=\"/tasks/{id}\"} 1");
    assert_int_equal(count_lines_starting(text, "http_request_duration_seconds_bucket{"), 19);
}

static void test_metrics_renders_in_flight_gauge(void **state)
{
    (void)state;
    metrics_in_flight_add(2);
    metrics_in_flight_add(-1);
    const char *text = render(&healthy);
    assert_line(text, "# TYPE http_requests_in_flight gauge");
    assert_line(text, "http_requests_in_flight 1");
}

static void test_metrics_file_state_has_exactly_one_state_at_one(void **state)
{
    (void)state;
    struct db_gauges db = healthy;
    db.up = 0;
    db.file_state = DB_FILE_UNLINKED;
    const char *text = render(&db);
    assert_line(text, "taskd_db_file_state{state=\"unlinked\"} 1");
    assert_int_equal(count_lines_starting(text, "taskd_db_file_state{"), DB_FILE_STATE_COUNT);
    for (int s = 0; s < DB_FILE_STATE_COUNT; s++) {
        char line[128];
        snprintf(line, sizeof(line), "taskd_db_file_state{state=\"%s\"} %d", db_file_state_name(s),
                 s == DB_FILE_UNLINKED);
        assert_line(text, line);
    }
}

static void test_metrics_renders_database_gauges(void **state)
{
    (void)state;
    struct db_gauges db = {
        .up = 1, .file_state = DB_FILE_OK, .tasks = 42, .free_bytes = 5000, .created_total = 1};
    const char *text = render(&db);
    assert_line(text, "taskd_db_up 1");
    assert_line(text, "taskd_db_file_state{state=\"ok\"} 1");
    assert_line(text, "taskd_tasks 42");
    assert_line(text, "taskd_data_dir_free_bytes 5000");
    assert_line(text, "taskd_db_created_total 1");
}

static void test_metrics_leaves_out_unknown_free_bytes(void **state)
{
    (void)state;
    struct db_gauges db = healthy;
    db.free_bytes = -1;
    const char *text = render(&db);
    assert_null(strstr(text, "taskd_data_dir_free_bytes"));
}

/* Free inodes are exported when the file system counts them, and left out when it does not
 * (btrfs reports no inode total): never a 0 that would page TaskdInodesLow. */
static void test_metrics_exports_free_inodes_when_counted(void **state)
{
    (void)state;
    assert_line(render(&healthy), "taskd_data_dir_free_inodes 77");
    struct db_gauges db = healthy;
    db.free_inodes = -1;
    assert_null(strstr(render(&db), "taskd_data_dir_free_inodes"));
}

static void test_metrics_counts_database_errors_by_code_name(void **state)
{
    (void)state;
    metrics_db_error(SQLITE_READONLY_DBMOVED);
    metrics_db_error(SQLITE_BUSY);
    metrics_db_error(SQLITE_BUSY);
    metrics_db_error(SQLITE_IOERR_ACCESS);
    const char *text = render(&healthy);
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_READONLY_DBMOVED\"} 1");
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_BUSY\"} 2");
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_IOERR\"} 1");
    /* the counted codes, plus the persistence-fault codes exported at 0 */
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_FULL\"} 0");
    assert_int_equal(count_lines_starting(text, "taskd_db_errors_total{"), 10);
}

static void test_metrics_exports_fault_error_codes_at_zero(void **state)
{
    (void)state;
    const char *text = render(&healthy);
    static const char *const codes[] = {
        "SQLITE_BUSY",     "SQLITE_FULL",        "SQLITE_READONLY",
        "SQLITE_IOERR",    "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC",
        "SQLITE_CANTOPEN", "SQLITE_NOTADB",      "SQLITE_CORRUPT"};
    char line[128];
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        snprintf(line, sizeof(line), "taskd_db_errors_total{code=\"%s\"} 0", codes[i]);
        assert_line(text, line);
    }
    assert_int_equal(count_lines_starting(text, "taskd_db_errors_total{"), 9);
}

static void test_metrics_counts_unknown_database_error_as_other(void **state)
{
    (void)state;
    metrics_db_error(250);
    metrics_db_error(SQLITE_NOTADB);
    const char *text = render(&healthy);
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_OTHER\"} 1");
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_NOTADB\"} 1");
}

static void test_metrics_renders_query_duration_by_operation(void **state)
{
    (void)state;
    metrics_db_query(DB_OP_GET, 1 * MS);
    metrics_db_query(DB_OP_UPDATE, 3 * MS);
    const char *text = render(&healthy);
    assert_line(text, "taskd_db_query_duration_seconds_count{op=\"get\"} 1");
    assert_line(text, "taskd_db_query_duration_seconds_bucket{op=\"get\",le=\"0.001\"} 1");
    assert_line(text, "taskd_db_query_duration_seconds_count{op=\"update\"} 1");
    assert_line(text, "taskd_db_query_duration_seconds_bucket{op=\"update\",le=\"0.0025\"} 0");
    assert_line(text, "taskd_db_query_duration_seconds_bucket{op=\"update\",le=\"0.005\"} 1");
    assert_int_equal(count_lines_starting(text, "taskd_db_query_duration_seconds_count{"), 2);
}

static void test_metrics_renders_build_info_with_version(void **state)
{
    (void)state;
    const char *text = render(&healthy);
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "taskd_build_info{version=\"1.2.3\",sqlite_version=\"%s\",",
             sqlite3_libversion());
    assert_int_equal(count_lines_starting(text, prefix), 1);
}

static void test_metrics_writes_each_family_header_once(void **state)
{
    (void)state;
    metrics_request_done(METHOD_GET, ROUTE_TASK, 200, 1 * MS);
    metrics_request_done(METHOD_PUT, ROUTE_TASK, 200, 1 * MS);
    metrics_db_query(DB_OP_GET, 1 * MS);
    metrics_db_query(DB_OP_LIST, 1 * MS);
    const char *text = render(&healthy);
    assert_int_equal(count_lines_starting(text, "# TYPE http_requests_total "), 1);
    assert_int_equal(count_lines_starting(text, "# TYPE http_request_duration_seconds "), 1);
    assert_int_equal(count_lines_starting(text, "# TYPE taskd_db_query_duration_seconds "), 1);
    assert_int_equal(count_lines_starting(text, "# HELP taskd_db_file_state "), 1);
}

static void test_metrics_init_resets_every_counter(void **state)
{
    (void)state;
    metrics_request_done(METHOD_GET, ROUTE_TASK, 200, 1 * MS);
    metrics_db_error(SQLITE_BUSY);
    metrics_db_query(DB_OP_GET, 1 * MS);
    metrics_in_flight_add(5);
    metrics_init();
    const char *text = render(&healthy);
    assert_int_equal(count_lines_starting(text, "http_requests_total{"), 0);
    assert_int_equal(count_lines_starting(text, "taskd_db_errors_total{"), 9); /* all at 0 */
    assert_line(text, "taskd_db_errors_total{code=\"SQLITE_BUSY\"} 0");
    assert_int_equal(count_lines_starting(text, "taskd_db_query_duration_seconds_"), 0);
    assert_line(text, "http_requests_in_flight 0");
}

static void test_metrics_render_reports_a_full_buffer(void **state)
{
    (void)state;
    struct buf small;
    buf_init(&small, 256);
    assert_int_equal(metrics_render(&small, &healthy, "1.2.3"), -1);
    buf_free(&small);
}

static void test_metrics_exposition_passes_promtool_check_metrics(void **state)
{
    (void)state;
    if (!promtool_installed())
        skip_because("%s is not installed (make deps installs prometheus)", PROMTOOL_PATH);
    metrics_request_done(METHOD_GET, ROUTE_TASK, 200, 1 * MS);
    metrics_request_done(METHOD_POST, ROUTE_TASKS, 201, 2 * MS);
    metrics_db_error(SQLITE_BUSY);
    metrics_db_query(DB_OP_CREATE, 1 * MS);
    const char *text = render(&healthy);
    char report[4096];
    int status = promtool_check_metrics(text, strlen(text), report, sizeof(report));
    if (status != 0 || report[0])
        print_error("promtool said: %s\n", report);
    assert_int_equal(status, 0);
    assert_string_equal(report, "");
}

#define TEST(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_metrics_counts_a_request_by_method_route_and_code),
        TEST(test_metrics_counts_repeated_requests_in_one_series),
        TEST(test_metrics_renders_no_request_series_before_any_request),
        TEST(test_metrics_uses_other_labels_for_unknown_method_and_route),
        TEST(test_metrics_counts_out_of_range_status_as_500),
        TEST(test_metrics_renders_request_duration_histogram),
        TEST(test_metrics_renders_in_flight_gauge),
        TEST(test_metrics_file_state_has_exactly_one_state_at_one),
        TEST(test_metrics_renders_database_gauges),
        TEST(test_metrics_leaves_out_unknown_free_bytes),
        TEST(test_metrics_exports_free_inodes_when_counted),
        TEST(test_metrics_counts_database_errors_by_code_name),
        TEST(test_metrics_counts_unknown_database_error_as_other),
        TEST(test_metrics_exports_fault_error_codes_at_zero),
        TEST(test_metrics_renders_query_duration_by_operation),
        TEST(test_metrics_renders_build_info_with_version),
        TEST(test_metrics_writes_each_family_header_once),
        TEST(test_metrics_init_resets_every_counter),
        TEST(test_metrics_render_reports_a_full_buffer),
        TEST(test_metrics_exposition_passes_promtool_check_metrics),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
