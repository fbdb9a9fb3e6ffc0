/*
 * Unit tests for service/config: taskd's defaults, both flag spellings (--flag=value and
 * --flag value), TASKD_* environment variables and their precedence under argv, and the one
 * sentence each invalid flag or value produces, and the switches for database faults at start
 * (--exit-on-db-error) and the demonstration-only --unsafe-no-fault-detection. Every test starts
 * from an environment cleared of TASKD_* variables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define ARGC(argv) ((int)(sizeof(argv) / sizeof((argv)[0])))

static const char *const env_names[] = {
    "TASKD_LISTEN",
    "TASKD_DB",
    "TASKD_LOG_FILE",
    "TASKD_LOG_LEVEL",
    "TASKD_THREADS",
    "TASKD_SYNC",
    "TASKD_PORT_FILE",
    "TASKD_BUSY_TIMEOUT",
    "TASKD_MAX_CONNECTIONS",
    "TASKD_IDLE_TIMEOUT",
    "TASKD_CHECK_INTERVAL",
    "TASKD_SHUTDOWN_GRACE",
    "TASKD_NO_CREATE",
    "TASKD_EXIT_ON_DB_ERROR",
    "TASKD_UNSAFE_NO_FAULT_DETECTION",
    "TASKD_CACHE_SIZE",
    "TASKD_MMAP_SIZE",
    "TASKD_LOG_MAX_SIZE",
    "TASKD_LOG_MAX_FILES",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
        unsetenv(env_names[i]);
    return 0;
}

struct parsed {
    enum config_result rc;
    struct taskd_config cfg;
    char error[256];
};

static struct parsed *parse(int argc, char **argv)
{
    static struct parsed p;
    memset(&p, 0, sizeof(p));
    p.rc = config_parse(&p.cfg, argc, argv, p.error, sizeof(p.error));
    return &p;
}

static void assert_parsed_ok(const struct parsed *p)
{
    if (p->rc != CONFIG_OK)
        print_error("config error: %s\n", p->error);
    assert_int_equal(p->rc, CONFIG_OK);
}

static void assert_error(const struct parsed *p, const char *expected)
{
    assert_int_equal(p->rc, CONFIG_ERROR);
    assert_string_equal(p->error, expected);
}

/* Runs config_parse with stdout sent to /dev/null (for --help and --version). */
static struct parsed *parse_quietly(int argc, char **argv)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    assert_true(saved >= 0 && null >= 0);
    dup2(null, STDOUT_FILENO);
    close(null);
    struct parsed *p = parse(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return p;
}

static void test_config_defaults(void **state)
{
    (void)state;
    char *argv[] = {"taskd"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.listen, "127.0.0.1:5000");
    assert_string_equal(p->cfg.db_path, "./data/tasks.db");
    assert_string_equal(p->cfg.log_file, "-");
    assert_int_equal(p->cfg.log_level, LOG_INFO);
    assert_true(p->cfg.threads >= 2);
    assert_int_equal(p->cfg.sync, STORE_SYNC_NORMAL);
    assert_null(p->cfg.port_file);
    assert_int_equal(p->cfg.busy_timeout_ns, UINT64_C(500000000));
    assert_int_equal(p->cfg.max_connections, 1000);
    assert_int_equal(p->cfg.idle_timeout_ns, UINT64_C(30000000000));
    assert_int_equal(p->cfg.check_interval_ns, UINT64_C(250000000));
    assert_int_equal(p->cfg.shutdown_grace_ns, UINT64_C(10000000000));
    assert_int_equal(p->cfg.no_create, 0);
    assert_int_equal(p->cfg.exit_on_db_error, 0);
    assert_int_equal(p->cfg.unsafe_no_fault_detection, 0);
    assert_int_equal(p->cfg.cache_size, UINT64_C(8) << 20);
    assert_int_equal(p->cfg.mmap_size, UINT64_C(1) << 30);
    assert_int_equal(p->cfg.log_max_size, 0);
    assert_int_equal(p->cfg.log_max_files, 5);
}

static void test_config_reads_flag_with_equals_value(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--listen=127.0.0.1:0"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.listen, "127.0.0.1:0");
}

static void test_config_reads_flag_with_separate_value(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--listen", "127.0.0.1:0"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.listen, "127.0.0.1:0");
}

static void test_config_reads_every_flag(void **state)
{
    (void)state;
    char *argv[] = {"taskd",
                    "--db",
                    "/tmp/t.db",
                    "--log-file=/tmp/taskd.log",
                    "--log-level",
                    "debug",
                    "--threads=4",
                    "--sync",
                    "full",
                    "--port-file",
                    "/tmp/port",
                    "--busy-timeout=1s",
                    "--max-connections",
                    "10",
                    "--idle-timeout=5s",
                    "--check-interval",
                    "100ms",
                    "--shutdown-grace=0s",
                    "--no-create",
                    "--exit-on-db-error",
                    "--cache-size=32MiB",
                    "--mmap-size",
                    "0",
                    "--log-max-size=10MB",
                    "--log-max-files",
                    "3"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.db_path, "/tmp/t.db");
    assert_string_equal(p->cfg.log_file, "/tmp/taskd.log");
    assert_int_equal(p->cfg.log_level, LOG_DEBUG);
    assert_int_equal(p->cfg.threads, 4);
    assert_int_equal(p->cfg.sync, STORE_SYNC_FULL);
    assert_string_equal(p->cfg.port_file, "/tmp/port");
    assert_int_equal(p->cfg.busy_timeout_ns, UINT64_C(1000000000));
    assert_int_equal(p->cfg.max_connections, 10);
    assert_int_equal(p->cfg.idle_timeout_ns, UINT64_C(5000000000));
    assert_int_equal(p->cfg.check_interval_ns, UINT64_C(100000000));
    assert_int_equal(p->cfg.shutdown_grace_ns, 0);
    assert_int_equal(p->cfg.no_create, 1);
    assert_int_equal(p->cfg.exit_on_db_error, 1);
    assert_int_equal(p->cfg.unsafe_no_fault_detection, 0);
    assert_int_equal(p->cfg.cache_size, UINT64_C(32) << 20);
    assert_int_equal(p->cfg.mmap_size, 0);
    assert_int_equal(p->cfg.log_max_size, UINT64_C(10000000));
    assert_int_equal(p->cfg.log_max_files, 3);
}

static void test_config_reads_memory_and_log_sizes_from_environment(void **state)
{
    (void)state;
    setenv("TASKD_CACHE_SIZE", "1GiB", 1);
    setenv("TASKD_MMAP_SIZE", "256M", 1);
    setenv("TASKD_LOG_MAX_SIZE", "64KiB", 1);
    setenv("TASKD_LOG_MAX_FILES", "1", 1);
    char *argv[] = {"taskd"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.cache_size, UINT64_C(1) << 30);
    assert_int_equal(p->cfg.mmap_size, UINT64_C(256) << 20);
    assert_int_equal(p->cfg.log_max_size, UINT64_C(65536));
    assert_int_equal(p->cfg.log_max_files, 1);
}

static void test_config_refuses_sizes_out_of_range(void **state)
{
    (void)state;
    char *small_cache[] = {"taskd", "--cache-size=16KiB"};
    assert_error(parse(ARGC(small_cache), small_cache),
                 "--cache-size '16KiB' is not a size such as 4096, 64KiB or 16MiB (from 64KiB to "
                 "64GiB)");
    char *no_unit[] = {"taskd", "--mmap-size=lots"};
    assert_error(parse(ARGC(no_unit), no_unit),
                 "--mmap-size 'lots' is not a size such as 4096, 64KiB or 16MiB (at most 1TiB)");
    char *small_log[] = {"taskd", "--log-max-size=4KiB"};
    assert_error(parse(ARGC(small_log), small_log),
                 "--log-max-size '4KiB' is below 64KiB (a log line can take 16 KiB); 0 turns "
                 "rotation off");
    char *no_files[] = {"taskd", "--log-max-files=0"};
    assert_error(parse(ARGC(no_files), no_files),
                 "--log-max-files '0' is not a whole number from 1 to 1000");
}

static void test_config_later_flag_wins(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--sync=full", "--sync=normal"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.sync, STORE_SYNC_NORMAL);
}

static void test_config_reads_listen_from_environment(void **state)
{
    (void)state;
    setenv("TASKD_LISTEN", "0.0.0.0:6000", 1);
    char *argv[] = {"taskd"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.listen, "0.0.0.0:6000");
}

static void test_config_argv_overrides_environment(void **state)
{
    (void)state;
    setenv("TASKD_LISTEN", "0.0.0.0:6000", 1);
    char *argv[] = {"taskd", "--listen", "127.0.0.1:7000"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.listen, "127.0.0.1:7000");
}

static void test_config_reads_other_settings_from_environment(void **state)
{
    (void)state;
    setenv("TASKD_DB", "/srv/tasks.db", 1);
    setenv("TASKD_SYNC", "full", 1);
    setenv("TASKD_BUSY_TIMEOUT", "2s", 1);
    setenv("TASKD_NO_CREATE", "true", 1);
    char *argv[] = {"taskd"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_string_equal(p->cfg.db_path, "/srv/tasks.db");
    assert_int_equal(p->cfg.sync, STORE_SYNC_FULL);
    assert_int_equal(p->cfg.busy_timeout_ns, UINT64_C(2000000000));
    assert_int_equal(p->cfg.no_create, 1);
}

static void test_config_refuses_bad_no_create_environment_value(void **state)
{
    (void)state;
    setenv("TASKD_NO_CREATE", "yes", 1);
    char *argv[] = {"taskd"};
    assert_error(parse(ARGC(argv), argv),
                 "environment variable TASKD_NO_CREATE: 'yes' is not 1, 0, true or false");
}

static void test_config_refuses_unknown_flag(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--bogus"};
    assert_error(parse(ARGC(argv), argv), "unknown option '--bogus' (see taskd --help)");
}

static void test_config_refuses_unknown_flag_with_value(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--listn=127.0.0.1:5000"};
    assert_error(parse(ARGC(argv), argv),
                 "unknown option '--listn=127.0.0.1:5000' (see taskd --help)");
}

static void test_config_refuses_flag_prefix(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--list", "127.0.0.1:5000"};
    assert_error(parse(ARGC(argv), argv), "unknown option '--list' (see taskd --help)");
}

static void test_config_refuses_positional_argument(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "serve"};
    assert_error(parse(ARGC(argv), argv), "unexpected argument 'serve' (see taskd --help)");
}

static void test_config_refuses_flag_without_its_value(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--db"};
    assert_error(parse(ARGC(argv), argv), "--db needs a value (PATH)");
}

static void test_config_refuses_empty_db_path(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--db="};
    assert_error(parse(ARGC(argv), argv), "--db needs a path");
}

static void test_config_refuses_bad_sync(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--sync", "fast"};
    assert_error(parse(ARGC(argv), argv), "--sync 'fast' is not normal or full");
}

static void test_config_refuses_bad_log_level(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--log-level=loud"};
    assert_error(parse(ARGC(argv), argv),
                 "--log-level 'loud' is not one of debug, info, warn, error");
}

static void test_config_refuses_thread_count_out_of_range(void **state)
{
    (void)state;
    char *zero[] = {"taskd", "--threads=0"};
    assert_error(parse(ARGC(zero), zero), "--threads '0' is not a whole number from 1 to 256");
    char *many[] = {"taskd", "--threads=257"};
    assert_error(parse(ARGC(many), many), "--threads '257' is not a whole number from 1 to 256");
    char *word[] = {"taskd", "--threads=four"};
    assert_error(parse(ARGC(word), word), "--threads 'four' is not a whole number from 1 to 256");
}

static void test_config_refuses_duration_without_unit(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--busy-timeout", "500"};
    assert_error(parse(ARGC(argv), argv),
                 "--busy-timeout '500' is not a duration such as 250ms, 30s or 1m");
}

static void test_config_refuses_negative_duration(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--shutdown-grace=-1s"};
    assert_error(parse(ARGC(argv), argv),
                 "--shutdown-grace '-1s' is not a duration such as 250ms, 30s or 1m");
}

static void test_config_refuses_idle_timeout_below_one_second(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--idle-timeout=500ms"};
    assert_error(parse(ARGC(argv), argv),
                 "--idle-timeout '500ms' is not a duration such as 250ms, 30s or 1m (at least 1s)");
}

static void test_config_refuses_check_interval_below_one_millisecond(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--check-interval", "10us"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_int_equal(p->rc, CONFIG_ERROR);
    assert_non_null(strstr(p->error, "--check-interval '10us'"));
}

static void test_config_no_create_switch_sets_it(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--no-create"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.no_create, 1);
}

static void test_config_no_create_takes_no_value(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--no-create=1"};
    assert_error(parse(ARGC(argv), argv), "--no-create takes no value");
}

static void test_config_exit_on_db_error_from_switch_and_environment(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--exit-on-db-error"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.exit_on_db_error, 1);
    setenv("TASKD_EXIT_ON_DB_ERROR", "true", 1);
    char *bare[] = {"taskd"};
    p = parse(ARGC(bare), bare);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.exit_on_db_error, 1);
    setenv("TASKD_EXIT_ON_DB_ERROR", "0", 1);
    p = parse(ARGC(bare), bare);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.exit_on_db_error, 0);
}

static void test_config_refuses_bad_exit_on_db_error_values(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--exit-on-db-error=yes"};
    assert_error(parse(ARGC(argv), argv), "--exit-on-db-error takes no value");
    setenv("TASKD_EXIT_ON_DB_ERROR", "on", 1);
    char *bare[] = {"taskd"};
    assert_error(parse(ARGC(bare), bare),
                 "environment variable TASKD_EXIT_ON_DB_ERROR: 'on' is not 1, 0, true or false");
}

static void test_config_unsafe_no_fault_detection_from_switch_and_environment(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--unsafe-no-fault-detection"};
    struct parsed *p = parse(ARGC(argv), argv);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.unsafe_no_fault_detection, 1);
    assert_int_equal(p->cfg.no_create, 0);
    setenv("TASKD_UNSAFE_NO_FAULT_DETECTION", "1", 1);
    char *bare[] = {"taskd"};
    p = parse(ARGC(bare), bare);
    assert_parsed_ok(p);
    assert_int_equal(p->cfg.unsafe_no_fault_detection, 1);
}

static void test_config_refuses_unsafe_no_fault_detection_with_no_create(void **state)
{
    (void)state;
    static const char expected[] =
        "--unsafe-no-fault-detection creates a missing database as a naive service does; it "
        "cannot be combined with --no-create";
    char *argv[] = {"taskd", "--unsafe-no-fault-detection", "--no-create"};
    assert_error(parse(ARGC(argv), argv), expected);
    setenv("TASKD_NO_CREATE", "1", 1);
    char *flag_only[] = {"taskd", "--unsafe-no-fault-detection"};
    assert_error(parse(ARGC(flag_only), flag_only), expected);
}

static void test_config_help_says_unsafe_is_for_demonstrations_only(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_usage(f);
    assert_int_equal(fclose(f), 0);
    const char *line = strstr(text, "  --unsafe-no-fault-detection ");
    assert_non_null(line);
    const char *end = strchr(line, '\n');
    assert_non_null(end);
    const char *demo = strstr(line, "for demonstrations only");
    assert_true(demo && demo < end);
    const char *env = strstr(line, "[TASKD_UNSAFE_NO_FAULT_DETECTION]");
    assert_true(env && env < end);
    line = strstr(text, "  --exit-on-db-error ");
    assert_non_null(line);
    env = strstr(line, "[TASKD_EXIT_ON_DB_ERROR]");
    assert_true(env && env < strchr(line, '\n'));
    free(text);
}

static void test_config_version_exits_successfully(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--version"};
    assert_int_equal(parse_quietly(ARGC(argv), argv)->rc, CONFIG_EXIT_OK);
}

static void test_config_help_exits_successfully(void **state)
{
    (void)state;
    char *argv[] = {"taskd", "--help"};
    assert_int_equal(parse_quietly(ARGC(argv), argv)->rc, CONFIG_EXIT_OK);
    char *short_argv[] = {"taskd", "-h"};
    assert_int_equal(parse_quietly(ARGC(short_argv), short_argv)->rc, CONFIG_EXIT_OK);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, clear_env, clear_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_config_defaults),
        TEST(test_config_reads_flag_with_equals_value),
        TEST(test_config_reads_flag_with_separate_value),
        TEST(test_config_reads_every_flag),
        TEST(test_config_reads_memory_and_log_sizes_from_environment),
        TEST(test_config_refuses_sizes_out_of_range),
        TEST(test_config_later_flag_wins),
        TEST(test_config_reads_listen_from_environment),
        TEST(test_config_argv_overrides_environment),
        TEST(test_config_reads_other_settings_from_environment),
        TEST(test_config_refuses_bad_no_create_environment_value),
        TEST(test_config_refuses_unknown_flag),
        TEST(test_config_refuses_unknown_flag_with_value),
        TEST(test_config_refuses_flag_prefix),
        TEST(test_config_refuses_positional_argument),
        TEST(test_config_refuses_flag_without_its_value),
        TEST(test_config_refuses_empty_db_path),
        TEST(test_config_refuses_bad_sync),
        TEST(test_config_refuses_bad_log_level),
        TEST(test_config_refuses_thread_count_out_of_range),
        TEST(test_config_refuses_duration_without_unit),
        TEST(test_config_refuses_negative_duration),
        TEST(test_config_refuses_idle_timeout_below_one_second),
        TEST(test_config_refuses_check_interval_below_one_millisecond),
        TEST(test_config_no_create_switch_sets_it),
        TEST(test_config_no_create_takes_no_value),
        TEST(test_config_exit_on_db_error_from_switch_and_environment),
        TEST(test_config_refuses_bad_exit_on_db_error_values),
        TEST(test_config_unsafe_no_fault_detection_from_switch_and_environment),
        TEST(test_config_refuses_unsafe_no_fault_detection_with_no_create),
        TEST(test_config_help_says_unsafe_is_for_demonstrations_only),
        TEST(test_config_version_exits_successfully),
        TEST(test_config_help_exits_successfully),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
