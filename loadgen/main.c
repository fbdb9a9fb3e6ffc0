/*
 * loadgen: the command line. `loadgen [options] URL` runs load with the engine and reports;
 * `loadgen audit` and `loadgen merge` dispatch to their modules.
 *
 * Signals are blocked in every thread and taken here with sigtimedwait, which doubles as the
 * once-a-second tick of the progress line: Ctrl-C ends the run early but still drains, reports
 * and closes the ledger, so an interrupted run is still a complete, auditable one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "engine.h"
#include "html_report.h"
#include "ledger.h"
#include "merge.h"
#include "mini_http.h"
#include "options.h"
#include "report_json.h"
#include "report_text.h"
#include "requests_out.h"
#include "threshold.h"

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE 2
#define EXIT_THRESHOLD 99

static int metrics_handler(void *ctx, const struct mini_http_request *req, struct buf *out,
                           const char **type)
{
    if (strcmp(req->path, "/metrics")) {
        buf_puts(out, "not found: loadgen serves /metrics\n");
        return 404;
    }
    engine_write_metrics(ctx, out);
    *type = "text/plain; version=0.0.4; charset=utf-8";
    return 200;
}

static void format_si(char *out, size_t len, double ns)
{
    if (ns < 1e6)
        snprintf(out, len, "%.0fµs", ns / 1e3);
    else if (ns < 1e9)
        snprintf(out, len, "%.1fms", ns / 1e6);
    else
        snprintf(out, len, "%.2fs", ns / 1e9);
}

static void show_progress(struct engine *e)
{
    struct engine_live l;
    engine_live(e, &l);
    char p99[32], target[48] = "";
    format_si(p99, sizeof p99, (double)l.last_second_p99_ns);
    if (l.target_rate > 0)
        snprintf(target, sizeof target, " (target %.0f/s)", l.target_rate);
    double err = l.completed ? 100.0 * (double)l.errors / (double)l.completed : 0;
    fprintf(stderr, "\r\033[K%s %5.0fs  %8.0f req/s%s  errors %.2f%%  p99 %s  in flight %llu",
            l.warming_up ? "warm-up" : "loading", l.elapsed_s, l.last_second_rate, target, err, p99,
            (unsigned long long)l.in_flight);
    if (l.backlog)
        fprintf(stderr, "  behind by %llu", (unsigned long long)l.backlog);
    if (l.remaining_s >= 0)
        fprintf(stderr, "  %.0fs left", l.remaining_s);
    fflush(stderr);
}

/* Waits for the end of the run, ticking the progress line and taking Ctrl-C. */
static void wait_for_run(struct engine *e, const sigset_t *signals, int progress)
{
    int stopping = 0;
    while (!engine_finished(e)) {
        struct timespec tick = {0, progress ? 1000000000L - 1 : 200000000L};
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig > 0 && !stopping) {
            stopping = 1;
            engine_stop(e);
            if (progress)
                fputs("\n", stderr);
            fputs("loadgen: stopping (in-flight requests drain, then the report)\n", stderr);
        } else if (sig > 0) {
            fputs("loadgen: interrupted twice; exiting without a report\n", stderr);
            _exit(130);
        }
        if (progress && !engine_finished(e))
            show_progress(e);
    }
    if (progress)
        fputs("\r\033[K", stderr);
}

/* HOST:PORT as given, with the port the kernel picked when it was 0. */
static const char *announce_address(const char *listen, unsigned port, char *out, size_t len)
{
    const char *colon = strrchr(listen, ':');
    int host_len = colon ? (int)(colon - listen) : 0;
    snprintf(out, len, "%.*s:%u", host_len, host_len ? listen : "127.0.0.1", port);
    return out;
}

static int evaluate_thresholds(const struct threshold *th, size_t n, const struct lg_results *r,
                               struct threshold_result *out)
{
    size_t failed = threshold_eval_all(th, n, r, out);
    for (size_t i = 0; i < n; i++) {
        if (!out[i].ok) {
            char line[512];
            threshold_format(&out[i], line, sizeof line);
            fprintf(stderr, "loadgen: %s\n", line);
        }
    }
    return failed > 0;
}

/* The JSON file, and the HTML page built from the same JSON text. */
static int write_files(const char *json_path, const char *html_path, const struct lg_results *r,
                       const struct report_meta *meta, const struct threshold_result *th,
                       size_t nth)
{
    char err[512];
    int rc = 0;
    if (json_path && report_json_write_file(json_path, r, meta, th, nth, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        rc = -1;
    }
    if (!html_path)
        return rc;
    struct buf json;
    buf_init(&json, REPORT_JSON_LIMIT);
    if (report_json_render(r, meta, th, nth, &json)) {
        fprintf(stderr, "loadgen: cannot render the report for %s (out of memory)\n", html_path);
        rc = -1;
    } else if (html_report_write(html_path, "loadgen report", "loadgen", json.data, err,
                                 sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        rc = -1;
    }
    buf_free(&json);
    return rc;
}

/* Keeps the metrics endpoint up after the run (Ctrl-C ends it early). */
static void linger(uint64_t ns, const sigset_t *signals)
{
    struct timespec wait = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    sigtimedwait(signals, NULL, &wait);
}

/* A run tag unique enough that two runs' task texts never collide in one database. */
static void make_run_tag(char *out, size_t len)
{
    uint64_t x = clock_realtime_ns() ^ ((uint64_t)getpid() << 32);
    snprintf(out, len, "lg-%08llx", (unsigned long long)(x * 0x9e3779b97f4a7c15ull >> 32));
}

/* Parses every --threshold and checks the routes they name against the run's. */
static int parse_thresholds(const struct loadgen_options *o, struct threshold *out)
{
    struct lg_results routes;
    results_init(&routes);
    int rc = workload_add_routes(&o->engine.workload, &routes);
    for (size_t i = 0; rc == 0 && i < o->nthresholds; i++) {
        char err[1024];
        if (threshold_parse(o->thresholds[i], &out[i], err, sizeof err) ||
            threshold_check_route(&out[i], &routes, err, sizeof err)) {
            fprintf(stderr, "loadgen: %s\n", err);
            rc = -1;
        }
    }
    results_free(&routes);
    return rc;
}

static const char *workload_mode(const struct workload_config *wl)
{
    return wl->raw ? "raw" : wl->targets_path ? "targets" : "tasks";
}

static int run_load(struct loadgen_options *o)
{
    char err[1024], tag[32], addr[300];
    struct threshold th[OPTIONS_MAX_THRESHOLDS];
    struct threshold_result th_results[OPTIONS_MAX_THRESHOLDS];
    if (!o->engine.workload.run_tag) {
        make_run_tag(tag, sizeof tag);
        o->engine.workload.run_tag = tag;
    }
    /* Targets, data and templates are read and compiled before anything starts. */
    if (workload_prepare(&o->engine.workload, o->engine.url, o->engine.shard_index,
                         o->engine.shard_count, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    if (parse_thresholds(o, th)) {
        workload_release(&o->engine.workload);
        return EXIT_USAGE;
    }
    struct ledger *ledger = NULL;
    struct requests_out *requests = NULL;
    if ((o->ledger_path && !(ledger = ledger_open(o->ledger_path, err, sizeof err))) ||
        (o->requests_out_path &&
         requests_out_open(&requests, o->requests_out_path, err, sizeof err))) {
        fprintf(stderr, "loadgen: %s\n", err);
        ledger_close(ledger, err, sizeof err);
        workload_release(&o->engine.workload);
        return EXIT_RUN_FAILED;
    }
    o->engine.ledger = ledger;
    o->engine.requests_out = requests;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    int exit_code = EXIT_RUN_FAILED;
    struct engine *e = NULL;
    struct mini_http *metrics = NULL;
    struct lg_results results = {0};
    if (engine_start(&e, &o->engine, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        goto out;
    }
    if (o->engine.start_unix_ns) {
        char when[CLOCK_RFC3339_LEN];
        clock_format_rfc3339(o->engine.start_unix_ns, when);
        fprintf(stderr, "loadgen: waiting for the start time %s (in %.1f s)\n", when,
                (double)(o->engine.start_unix_ns - clock_realtime_ns()) / 1e9);
    }
    if (o->metrics_listen &&
        !(metrics = mini_http_start(&o->metrics_addr, metrics_handler, e, err, sizeof err))) {
        fprintf(stderr, "loadgen: --metrics-listen: %s\n", err);
        goto out; /* engine_free stops the run; no result of a run that did not happen */
    } else if (metrics) {
        fprintf(stderr, "loadgen: serving metrics on http://%s/metrics\n",
                announce_address(o->metrics_listen, mini_http_port(metrics), addr, sizeof addr));
    }
    wait_for_run(e, &signals, !o->no_progress && isatty(STDERR_FILENO));
    if (engine_wait(e, &results, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        goto out;
    }
    struct report_meta meta; /* engine_start refused over-long URLs; a path may be longer */
    if (report_meta_set(&meta, o->engine.url ? o->engine.url : o->engine.workload.targets_path,
                        workload_mode(&o->engine.workload)))
        report_meta_set(&meta, "(a targets file with a very long name)", "targets");
    int failed = evaluate_thresholds(th, o->nthresholds, &results, th_results);
    if (!o->quiet)
        report_text_write(stdout, &results, &meta);
    int files_failed =
        write_files(o->json_path, o->html_path, &results, &meta, th_results, o->nthresholds);
    exit_code = files_failed ? EXIT_RUN_FAILED : failed ? EXIT_THRESHOLD : 0;
    if (metrics && o->metrics_linger_ns)
        linger(o->metrics_linger_ns, &signals);
out:
    mini_http_stop(metrics);
    engine_free(e);
    results_free(&results);
    if (ledger && ledger_close(ledger, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        exit_code = EXIT_RUN_FAILED;
    }
    if (requests && requests_out_close(requests, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        exit_code = EXIT_RUN_FAILED;
    }
    workload_release(&o->engine.workload);
    return exit_code;
}

static int merge_usage(FILE *out, int code)
{
    fputs(
        "usage: loadgen merge [--json FILE] [--html FILE] [--threshold EXPR]... [--quiet]\n"
        "                     RESULT.json RESULT.json ...\n"
        "Combines results of runs split over several machines (--shard I/N, --shards N) into\n"
        "one, as if one machine had run them all: counts and histograms add exactly, so\n"
        "percentiles are exact. Thresholds apply to the merged result (exit 99 when one fails).\n",
        out);
    return code;
}

static int merge_command(int argc, char **argv)
{
    const char *json_path = NULL, *html_path = NULL, *exprs[OPTIONS_MAX_THRESHOLDS];
    struct threshold th[OPTIONS_MAX_THRESHOLDS];
    struct threshold_result th_results[OPTIONS_MAX_THRESHOLDS];
    size_t nth = 0;
    int quiet = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help"))
            return merge_usage(stdout, 0);
        if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_path = argv[++i];
        else if (!strcmp(argv[i], "--html") && i + 1 < argc)
            html_path = argv[++i];
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc && nth < OPTIONS_MAX_THRESHOLDS)
            exprs[nth++] = argv[++i];
        else {
            fprintf(stderr, "loadgen merge: unknown option or missing value: %s\n", argv[i]);
            return merge_usage(stderr, EXIT_USAGE);
        }
    }
    if (argc - i < 1) {
        fprintf(stderr, "loadgen merge: name at least one result file\n");
        return merge_usage(stderr, EXIT_USAGE);
    }
    for (size_t k = 0; k < nth; k++) {
        char err[256];
        if (threshold_parse(exprs[k], &th[k], err, sizeof err)) {
            fprintf(stderr, "loadgen merge: %s\n", err);
            return EXIT_USAGE;
        }
    }
    struct lg_results merged;
    struct report_meta meta;
    char err[512];
    if (merge_files((const char *const *)argv + i, (size_t)(argc - i), &merged, &meta, err,
                    sizeof err)) {
        fprintf(stderr, "loadgen merge: %s\n", err);
        results_free(&merged);
        return EXIT_RUN_FAILED;
    }
    int failed = evaluate_thresholds(th, nth, &merged, th_results);
    if (!quiet)
        report_text_write(stdout, &merged, &meta);
    int files_failed = write_files(json_path, html_path, &merged, &meta, th_results, nth);
    results_free(&merged);
    return files_failed ? EXIT_RUN_FAILED : failed ? EXIT_THRESHOLD : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "audit"))
        return audit_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return merge_command(argc - 1, argv + 1);
    struct loadgen_options o;
    char err[512];
    switch (options_parse(&o, argc, argv, err, sizeof err)) {
    case OPTIONS_EXIT_OK:
        return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "loadgen: %s\n", err);
        return EXIT_USAGE;
    case OPTIONS_OK:
        break;
    }
    return run_load(&o);
}
