/*
 * Unit tests for chaos/options: `chaos run SCENARIO... [options]` parsed into an experiment's
 * options — the defaults, every value kind through common/flag_value (durations with their
 * 10 ms floor, the rate, the error ratio as a fraction or a percentage, the webhook address),
 * scenarios by name or 'all' (each once, in order), repeated --taskd-arg — and every usage
 * error as one sentence in the caller's buffer, in the style taskd and loadgen use, with
 * nothing printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "builtin_experiments.h"
#include "scenarios.h"

#define MAX_ARGS 64

static struct chaos_options opts;
static char err[600];

/* Parses "run" followed by the words of `line` (split at spaces). */
static enum chaos_options_result parse(const char *line)
{
    static char copy[1024];
    static char *argv[MAX_ARGS];
    snprintf(copy, sizeof(copy), "run %s", line);
    int argc = 0;
    char *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w && argc < MAX_ARGS - 1;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    memset(&opts, 0, sizeof(opts));
    err[0] = '\0';
    return chaos_options_parse(&opts, argc, argv, err, sizeof(err));
}

static void expect_error(const char *line, const char *sentence)
{
    if (parse(line) != CHAOS_OPTIONS_ERROR)
        fail_msg("'%s' was accepted", line);
    if (strcmp(err, sentence) != 0)
        fail_msg("'%s' said:\n  %s\nnot:\n  %s", line, err, sentence);
}

static void test_defaults_are_filled(void **state)
{
    (void)state;
    assert_int_equal(parse("db-deleted --taskd /bin/true"), CHAOS_OPTIONS_OK);
    assert_int_equal(opts.nscenarios, 1);
    assert_string_equal(opts.scenarios[0]->name, "db-deleted");
    assert_string_equal(opts.work_dir, "chaos-work");
    assert_string_equal(opts.o.taskd_bin, "/bin/true");
    assert_true(opts.o.rate == 200);
    assert_true(opts.o.steady_ns == 3000000000ull && opts.o.fault_ns == 5000000000ull);
    assert_true(opts.o.recover_timeout_ns == 10000000000ull);
    assert_true(opts.o.probe_interval_ns == 100000000ull);
    assert_true(opts.o.max_error_ratio == 0.01 && opts.o.max_p99_ns == 250000000ull);
    assert_int_equal(opts.o.verbose, 1);
    assert_int_equal(opts.dry_run, 0);
    assert_null(opts.journal);
    assert_null(opts.webhook_listen);
}

static void test_every_value_is_parsed(void **state)
{
    (void)state;
    assert_int_equal(parse("kill-9 --taskd /bin/true --rate 350.5 --steady 1s --fault 2500ms "
                           "--recover-timeout 1m --probe-interval 50ms --max-error-ratio 5% "
                           "--max-p99 1s --alert-timeout 90s --webhook-listen 127.0.0.1:0 "
                           "--taskd-arg=--check-interval=50ms --taskd-arg --sync=full "
                           "--journal j.json --html r.html --dry-run -q --work-dir /tmp/w"),
                     CHAOS_OPTIONS_OK);
    assert_true(opts.o.rate == 350.5);
    assert_true(opts.o.steady_ns == 1000000000ull);
    assert_true(opts.o.fault_ns == 2500000000ull);
    assert_true(opts.o.recover_timeout_ns == 60000000000ull);
    assert_true(opts.o.probe_interval_ns == 50000000ull);
    assert_true(opts.o.max_error_ratio > 0.0499 && opts.o.max_error_ratio < 0.0501);
    assert_true(opts.o.max_p99_ns == 1000000000ull);
    assert_true(opts.o.alert_timeout_ns == 90000000000ull);
    assert_string_equal(opts.webhook_listen, "127.0.0.1:0");
    assert_int_equal(opts.webhook_addr.addr.ss_family, 2 /* AF_INET */);
    assert_int_equal(opts.nargs, 2);
    assert_string_equal(opts.o.service_args[0], "--check-interval=50ms");
    assert_string_equal(opts.o.service_args[1], "--sync=full");
    assert_string_equal(opts.journal, "j.json");
    assert_string_equal(opts.html, "r.html");
    assert_string_equal(opts.work_dir, "/tmp/w");
    assert_int_equal(opts.dry_run, 1);
    assert_int_equal(opts.o.verbose, 0);
}

static void test_scenarios_come_by_name_or_all_each_once(void **state)
{
    (void)state;
    assert_int_equal(parse("kill-9 --taskd /bin/true db-deleted kill-9"), CHAOS_OPTIONS_OK);
    assert_int_equal(opts.nscenarios, 2);
    assert_string_equal(opts.scenarios[0]->name, "kill-9");
    assert_string_equal(opts.scenarios[1]->name, "db-deleted");
    assert_int_equal(parse("db-locked all --taskd /bin/true"), CHAOS_OPTIONS_OK);
    assert_int_equal(opts.nscenarios, builtin_experiments_count());
    assert_string_equal(opts.scenarios[0]->name, "db-locked");
}

static void test_a_bad_value_is_refused_in_one_sentence(void **state)
{
    (void)state;
    expect_error("kill-9 --fault 5",
                 "--fault '5' is not a duration such as 250ms, 30s or 1m (at least 10ms)");
    expect_error("kill-9 --probe-interval 1ms",
                 "--probe-interval '1ms' is not a duration such as 250ms, 30s or 1m (at least "
                 "10ms)");
    expect_error("kill-9 --max-p99 fast",
                 "--max-p99 'fast' is not a duration such as 250ms, 30s or 1m");
    expect_error("kill-9 --rate 0",
                 "--rate '0' is not a number of requests per second from 1 to 100000");
    expect_error("kill-9 --max-error-ratio 2",
                 "--max-error-ratio '2' is not a ratio from 0 to 1, such as 0.05 or 5%");
    expect_error("kill-9 --webhook-listen 127.0.0.1:99999",
                 "--webhook-listen '127.0.0.1:99999' is not an address to listen on: '99999' is "
                 "not a port number from 0 to 65535");
}

static void test_usage_errors_are_sentences_too(void **state)
{
    (void)state;
    expect_error("db-gone",
                 "unknown experiment 'db-gone'; 'chaos list' shows the built-in ones, and a "
                 "file is named by its path (a '/' or .json)");
    expect_error("--work-dir /tmp/w",
                 "name at least one experiment: a built-in ('chaos list' shows them, 'all' runs "
                 "every one) or an experiment file");
    expect_error("kill-9 --db x.db", "--start-cmd, --stop-cmd, --kill-cmd and --db go with "
                                     "--target");
    expect_error("kill-9 --target http://127.0.0.1:9 --taskd /bin/true",
                 "give --taskd (chaos starts it) or --target (you run it), not both");
    expect_error("kill-9 --bogus", "unknown option or missing value: --bogus (see chaos --help)");
    expect_error("kill-9 --fault", "unknown option or missing value: --fault (see chaos --help)");
    expect_error("kill-9 --taskd /nonexistent/taskd",
                 "cannot run taskd at /nonexistent/taskd: No such file or directory; build it "
                 "(make) or give --taskd");
}

static void test_a_target_needs_no_taskd_binary(void **state)
{
    (void)state;
    assert_int_equal(parse("db-deleted --target http://127.0.0.1:5000 --db /w/tasks.db "
                           "--start-cmd start --stop-cmd stop --kill-cmd kill"),
                     CHAOS_OPTIONS_OK);
    assert_null(opts.o.taskd_bin);
    assert_string_equal(opts.o.target_url, "http://127.0.0.1:5000");
    assert_string_equal(opts.o.target_db, "/w/tasks.db");
    assert_string_equal(opts.o.kill_cmd, "kill");
}

static void test_too_many_taskd_arguments_are_refused(void **state)
{
    (void)state;
    char line[1024] = "kill-9 --taskd /bin/true";
    for (int i = 0; i < EXPERIMENT_MAX_ARGS - 8; i++)
        strcat(line, " --taskd-arg=x");
    assert_int_equal(parse(line), CHAOS_OPTIONS_OK);
    strcat(line, " --taskd-arg=y");
    char want[80];
    snprintf(want, sizeof(want), "too many --service-arg values (at most %d)",
             EXPERIMENT_MAX_ARGS - 8);
    expect_error(line, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_filled),
        cmocka_unit_test(test_every_value_is_parsed),
        cmocka_unit_test(test_scenarios_come_by_name_or_all_each_once),
        cmocka_unit_test(test_a_bad_value_is_refused_in_one_sentence),
        cmocka_unit_test(test_usage_errors_are_sentences_too),
        cmocka_unit_test(test_a_target_needs_no_taskd_binary),
        cmocka_unit_test(test_too_many_taskd_arguments_are_refused),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
