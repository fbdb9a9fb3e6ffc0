/*
 * Unit tests for loadgen/merge: two shards' JSON files merged equal one run that recorded
 * everything — histograms bucket for bucket, totals, percentiles — with rates and connections
 * added and the series aligned by wall clock; files of another workload or load model, a
 * missing file and an empty list are refused with a sentence naming the file.
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

#include "merge.h"
#include "temp_names.h"
#include "workload.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define START_NS UINT64_C(1764219662000000000)
#define NSHARDS 3

struct shard_files {
    char paths[NSHARDS][64];
    const char *list[NSHARDS];
};

static void run_init(struct lg_results *r, enum lg_model model, double rate, uint64_t start_ns)
{
    struct workload_config mix = {0};
    results_init(r);
    assert_int_equal(workload_add_routes(&mix, r), 0); /* the task mix's five routes */
    r->model = model;
    r->target_rate = rate;
    r->connections = 10;
    r->threads = 2;
    r->start_unix_ns = start_ns;
    r->duration_ns = 10 * SEC;
}

/* Request i as the workload would have made it: route, status and three latencies. */
static void record_request(struct lg_results *r, uint64_t i)
{
    enum lg_route route = (enum lg_route)(i % 5);
    int status = i % 50 == 0 ? 500 : i % 17 == 0 ? 404 : route == LG_ROUTE_CREATE ? 201 : 200;
    uint64_t lag = i % 7 == 0 ? (i % 300) * MS : (i % 100) * 1000;
    uint64_t service = (i * 7919) % (80 * MS) + 50000;
    enum lg_verdict verdict = status < 300 ? LG_VERDICT_OK : LG_VERDICT_STATUS;
    if (i % 401 == 0)
        results_record(r, route, 0, LG_ERR_TIMEOUT, LG_VERDICT_OK, lag + 10 * SEC, 10 * SEC, lag);
    else
        results_record(r, route, status, 0, verdict, lag + service, service, lag);
    r->scheduled++;
    r->started++;
    r->completed++;
    r->bytes_received += 300;
}

static void add_rows(struct lg_results *r, uint64_t completed_per_row)
{
    for (int t = 0; t < 10; t++) {
        struct lg_interval row = {.t = t,
                                  .target_rate = r->target_rate,
                                  .scheduled = completed_per_row,
                                  .started = completed_per_row,
                                  .completed = completed_per_row,
                                  .corrected_p99_ns = (uint64_t)(t + 1) * completed_per_row};
        row.classes[LG_CLASS_2XX] = completed_per_row;
        results_append_interval(r, &row);
    }
}

static void write_json(const char *path, const struct lg_results *r, const char *mode)
{
    struct report_meta meta;
    char err[512];
    assert_int_equal(report_meta_set(&meta, "http://127.0.0.1:8080", mode), 0);
    if (report_json_write_file(path, r, &meta, NULL, 0, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void temp_paths(struct shard_files *f)
{
    for (int s = 0; s < NSHARDS; s++) {
        snprintf(f->paths[s], sizeof(f->paths[s]), "/tmp/test_merge.%d." MKSTEMP_SUFFIX, s);
        int fd = mkstemp(f->paths[s]);
        assert_true(fd >= 0);
        close(fd);
        f->list[s] = f->paths[s];
    }
}

static void remove_paths(struct shard_files *f)
{
    for (int s = 0; s < NSHARDS; s++)
        unlink(f->paths[s]);
}

/* 30000 requests split round-robin over NSHARDS shards (as --shard i/N would), each written to
 * a file, and the same requests recorded by one run into `single`. */
static void shards_and_single(struct shard_files *f, struct lg_results *single)
{
    struct lg_results shard[NSHARDS];
    run_init(single, LG_MODEL_OPEN, 3000, START_NS);
    single->connections = 10 * NSHARDS;
    single->threads = 2 * NSHARDS;
    for (int s = 0; s < NSHARDS; s++)
        run_init(&shard[s], LG_MODEL_OPEN, 1000, START_NS + (uint64_t)s * 100 * MS);
    for (uint64_t i = 1; i <= 30000; i++) {
        record_request(&shard[i % NSHARDS], i);
        record_request(single, i);
    }
    shard[1].not_started = 7;
    single->not_started = 7;
    temp_paths(f);
    for (int s = 0; s < NSHARDS; s++) {
        add_rows(&shard[s], 1000);
        write_json(f->paths[s], &shard[s], "tasks");
        results_free(&shard[s]);
    }
}

static void assert_views_equal(const struct lg_views *a, const struct lg_views *b)
{
    assert_true((a == NULL) == (b == NULL));
    if (a)
        assert_memory_equal(a, b, sizeof(*a));
}

static void test_merge_of_shards_equals_one_run_bucket_for_bucket(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results single, merged;
    struct report_meta meta;
    char err[512] = "";
    shards_and_single(&f, &single);
    int rc = merge_files(f.list, NSHARDS, &merged, &meta, err, sizeof(err));
    remove_paths(&f);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(merged.nroutes, single.nroutes);
    for (size_t i = 0; i < single.nroutes; i++) {
        const struct lg_route_stats *a = &merged.routes[i], *b = &single.routes[i];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->unexpected_status, b->unexpected_status);
        assert_memory_equal(a->codes, b->codes, sizeof(a->codes));
        assert_memory_equal(a->errors, b->errors, sizeof(a->errors));
        assert_memory_equal(a->classes, b->classes, sizeof(a->classes));
        for (int c = 0; c < LG_CLASS_COUNT; c++)
            assert_views_equal(a->views[c], b->views[c]);
    }
    assert_string_equal(meta.target, "http://127.0.0.1:8080");
    assert_string_equal(meta.mode, "tasks");
    results_free(&single);
    results_free(&merged);
}

static void test_merge_of_shards_has_the_totals_and_percentiles_of_one_run(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results single, merged;
    char err[512] = "";
    shards_and_single(&f, &single);
    int rc = merge_files(f.list, NSHARDS, &merged, NULL, err, sizeof(err));
    remove_paths(&f);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(merged.scheduled, single.scheduled);
    assert_int_equal(merged.started, single.started);
    assert_int_equal(merged.completed, 30000);
    assert_int_equal(merged.completed, single.completed);
    assert_int_equal(merged.not_started, 7);
    assert_int_equal(merged.bytes_received, single.bytes_received);
    assert_int_equal(results_error_total(&merged), results_error_total(&single));
    assert_true(merged.target_rate == 3000);
    assert_int_equal(merged.connections, single.connections);
    assert_int_equal(merged.threads, single.threads);
    assert_int_equal(merged.runs, NSHARDS);
    assert_int_equal(merged.start_unix_ns, START_NS);
    assert_int_equal(merged.duration_ns, 10 * SEC);
    assert_true(results_achieved_rate(&merged) == results_achieved_rate(&single));
    struct loghist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    static const double qs[] = {0, 0.5, 0.9, 0.99, 0.999, 1};
    for (int view = LG_VIEW_CORRECTED; view <= LG_VIEW_LAG; view++)
        for (int route = -1; route < LG_TASK_ROUTES; route++) {
            results_collect(&merged, route, -1, (enum lg_view_kind)view, a);
            results_collect(&single, route, -1, (enum lg_view_kind)view, b);
            for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++)
                assert_int_equal(loghist_quantile(a, qs[q]), loghist_quantile(b, qs[q]));
            assert_true(loghist_mean_ns(a) == loghist_mean_ns(b));
        }
    free(a);
    free(b);
    results_free(&single);
    results_free(&merged);
}

static void test_merge_adds_series_rows_of_the_same_second(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results single, merged;
    char err[512] = "";
    shards_and_single(&f, &single); /* shards start 0, 100 and 200 ms apart: same seconds */
    int rc = merge_files(f.list, NSHARDS, &merged, NULL, err, sizeof(err));
    remove_paths(&f);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(merged.series_len, 10);
    for (size_t t = 0; t < 10; t++) {
        assert_true(merged.series[t].t == (double)t);
        assert_int_equal(merged.series[t].completed, 3000);
        assert_true(merged.series[t].target_rate == 3000);
        assert_int_equal(merged.series[t].corrected_p99_ns, (t + 1) * 1000);
    }
    results_free(&single);
    results_free(&merged);
}

static void write_two(struct shard_files *f, enum lg_model model_b, const char *mode_b)
{
    struct lg_results a, b;
    temp_paths(f);
    run_init(&a, LG_MODEL_OPEN, 100, START_NS);
    run_init(&b, model_b, model_b == LG_MODEL_OPEN ? 100 : 0, START_NS);
    record_request(&a, 1);
    record_request(&b, 2);
    write_json(f->paths[0], &a, "tasks");
    write_json(f->paths[1], &b, mode_b);
    results_free(&a);
    results_free(&b);
}

static void test_merge_refuses_another_workload(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results merged;
    char err[512] = "", expected[512];
    write_two(&f, LG_MODEL_OPEN, "raw");
    assert_int_equal(merge_files(f.list, 2, &merged, NULL, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected),
             "cannot merge %s into %s: it ran the raw workload and %s the tasks one; merge only "
             "results of the same workload",
             f.paths[1], f.paths[0], f.paths[0]);
    assert_string_equal(err, expected);
    remove_paths(&f);
    results_free(&merged);
}

static void test_merge_refuses_another_load_model(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results merged;
    char err[512] = "";
    write_two(&f, LG_MODEL_CLOSED, "tasks");
    assert_int_equal(merge_files(f.list, 2, &merged, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "it ran the closed model and"));
    assert_non_null(strstr(err, f.paths[1]));
    remove_paths(&f);
    results_free(&merged);
}

static void test_merge_names_a_missing_file(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results merged;
    char err[512] = "";
    write_two(&f, LG_MODEL_OPEN, "tasks");
    const char *list[] = {f.paths[0], "/nonexistent/b.json"};
    assert_int_equal(merge_files(list, 2, &merged, NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot read the loadgen result /nonexistent/b.json: No such file "
                             "or directory");
    remove_paths(&f);
    results_free(&merged);
}

static void test_merge_of_nothing_is_refused(void **state)
{
    (void)state;
    struct lg_results merged;
    char err[512] = "";
    assert_int_equal(merge_files(NULL, 0, &merged, NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "no result files to merge; give two or more loadgen --json files");
    results_free(&merged);
}

static void test_merge_of_one_file_is_that_file(void **state)
{
    (void)state;
    struct shard_files f;
    struct lg_results merged;
    char err[512] = "";
    write_two(&f, LG_MODEL_OPEN, "tasks");
    assert_int_equal(merge_files(f.list, 1, &merged, NULL, err, sizeof(err)), 0);
    assert_int_equal(merged.runs, 1);
    assert_int_equal(merged.completed, 1);
    remove_paths(&f);
    results_free(&merged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_of_shards_equals_one_run_bucket_for_bucket),
        cmocka_unit_test(test_merge_of_shards_has_the_totals_and_percentiles_of_one_run),
        cmocka_unit_test(test_merge_adds_series_rows_of_the_same_second),
        cmocka_unit_test(test_merge_refuses_another_workload),
        cmocka_unit_test(test_merge_refuses_another_load_model),
        cmocka_unit_test(test_merge_names_a_missing_file),
        cmocka_unit_test(test_merge_of_nothing_is_refused),
        cmocka_unit_test(test_merge_of_one_file_is_that_file),
    };
    return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
