/*
 * config: taskd's flags and TASKD_* environment variables, from one table. See config.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpus.h"
#include "flag_value.h"
#include "version.h"

#define DEFAULT_LISTEN "127.0.0.1:5000"

typedef int (*setter)(struct taskd_config *cfg, const char *value, char *error, size_t len);

struct flag {
    const char *name; /* without the leading dashes */
    const char *env;
    const char *metavar; /* NULL for a switch */
    const char *help;
    setter set;
};

static int set_listen(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    if (flag_addr("listen", v, &cfg->listen_addr, e, n) < 0)
        return -1;
    cfg->listen = v;
    return 0;
}

static int set_db(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    if (!*v) {
        snprintf(e, n, "--db needs a path");
        return -1;
    }
    cfg->db_path = v;
    return 0;
}

static int set_log_file(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    (void)e, (void)n;
    cfg->log_file = v;
    return 0;
}

static int set_log_level(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    if (log_level_parse(v, &cfg->log_level) == 0)
        return 0;
    snprintf(e, n, "--log-level '%s' is not one of debug, info, warn, error", v);
    return -1;
}

static int parse_count(const char *flag, const char *v, unsigned min, unsigned max, unsigned *out,
                       char *e, size_t n)
{
    uint64_t value;
    if (flag_count(flag, v, min, max, &value, e, n) < 0)
        return -1;
    *out = (unsigned)value;
    return 0;
}

static int set_threads(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_count("threads", v, 1, 256, &cfg->threads, e, n);
}

static int set_max_connections(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_count("max-connections", v, 1, 100000, &cfg->max_connections, e, n);
}

static int set_sync(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    if (strcmp(v, "normal") == 0)
        cfg->sync = STORE_SYNC_NORMAL;
    else if (strcmp(v, "full") == 0)
        cfg->sync = STORE_SYNC_FULL;
    else {
        snprintf(e, n, "--sync '%s' is not normal or full", v);
        return -1;
    }
    return 0;
}

static int set_port_file(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    (void)e, (void)n;
    cfg->port_file = v;
    return 0;
}

static int parse_duration_flag(const char *flag, const char *v, uint64_t min, uint64_t *out,
                               char *e, size_t n)
{
    return flag_duration(flag, v, min, FLAG_NO_MAX, out, e, n);
}

static int set_busy_timeout(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_duration_flag("busy-timeout", v, 0, &cfg->busy_timeout_ns, e, n);
}

static int set_idle_timeout(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_duration_flag("idle-timeout", v, 1000000000u, &cfg->idle_timeout_ns, e, n);
}

static int set_check_interval(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_duration_flag("check-interval", v, 1000000u, &cfg->check_interval_ns, e, n);
}

static int set_shutdown_grace(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_duration_flag("shutdown-grace", v, 0, &cfg->shutdown_grace_ns, e, n);
}

static int set_cache_size(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return flag_size("cache-size", v, CONFIG_CACHE_SIZE_MIN, CONFIG_CACHE_SIZE_MAX,
                     &cfg->cache_size, e, n);
}

static int set_mmap_size(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return flag_size("mmap-size", v, 0, CONFIG_MMAP_SIZE_MAX, &cfg->mmap_size, e, n);
}

/* 0 turns rotation off; otherwise a file must hold a whole line of the longest kind. */
static int set_log_max_size(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    uint64_t size;
    if (flag_size("log-max-size", v, 0, FLAG_NO_MAX, &size, e, n) < 0)
        return -1;
    if (size != 0 && size < CONFIG_LOG_MAX_SIZE_MIN) {
        snprintf(e, n,
                 "--log-max-size '%s' is below 64KiB (a log line can take 16 KiB); 0 turns "
                 "rotation off",
                 v);
        return -1;
    }
    cfg->log_max_size = size;
    return 0;
}

static int set_log_max_files(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_count("log-max-files", v, 1, 1000, &cfg->log_max_files, e, n);
}

/* A switch: on the command line it takes no value; in the environment 1/0/true/false. */
static int parse_switch(const char *v, int *out, char *e, size_t n)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else {
        snprintf(e, n, "'%s' is not 1, 0, true or false", v);
        return -1;
    }
    return 0;
}

static int set_no_create(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_switch(v, &cfg->no_create, e, n);
}

static int set_exit_on_db_error(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_switch(v, &cfg->exit_on_db_error, e, n);
}

static int set_unsafe_no_fault_detection(struct taskd_config *cfg, const char *v, char *e, size_t n)
{
    return parse_switch(v, &cfg->unsafe_no_fault_detection, e, n);
}

static const struct flag flags[] = {
    {"listen", "TASKD_LISTEN", "HOST:PORT",
     "address to serve HTTP on; port 0 picks a free one "
     "(default 127.0.0.1:5000)",
     set_listen},
    {"db", "TASKD_DB", "PATH", "SQLite database file (default ./data/tasks.db)", set_db},
    {"log-file", "TASKD_LOG_FILE", "PATH",
     "JSON log file, reopened on SIGHUP; - for stderr "
     "(default -)",
     set_log_file},
    {"log-level", "TASKD_LOG_LEVEL", "LEVEL", "debug, info, warn or error (default info)",
     set_log_level},
    {"log-max-size", "TASKD_LOG_MAX_SIZE", "SIZE",
     "rotate the log file before it grows past SIZE (at least 64KiB); 0 never rotates "
     "(default 0)",
     set_log_max_size},
    {"log-max-files", "TASKD_LOG_MAX_FILES", "N",
     "log files kept when rotating, the current one included: FILE, FILE.1 ... (default 5)",
     set_log_max_files},
    {"threads", "TASKD_THREADS", "N", "HTTP worker threads (default: the CPUs taskd may use)",
     set_threads},
    {"sync", "TASKD_SYNC", "MODE",
     "normal survives a crash, full also power loss "
     "(default normal)",
     set_sync},
    {"port-file", "TASKD_PORT_FILE", "PATH", "write the bound port here once listening",
     set_port_file},
    {"cache-size", "TASKD_CACHE_SIZE", "SIZE",
     "SQLite page cache of each of taskd's two database connections (default 8MiB)",
     set_cache_size},
    {"mmap-size", "TASKD_MMAP_SIZE", "SIZE",
     "how much of the database file reads map into memory instead of copying it page by "
     "page; 0 turns mapping off (default 1GiB)",
     set_mmap_size},
    {"busy-timeout", "TASKD_BUSY_TIMEOUT", "DURATION",
     "how long a write waits for a lock held "
     "by another process (default 500ms)",
     set_busy_timeout},
    {"max-connections", "TASKD_MAX_CONNECTIONS", "N",
     "connections served at once; more are "
     "refused (default 1000)",
     set_max_connections},
    {"idle-timeout", "TASKD_IDLE_TIMEOUT", "DURATION",
     "close a connection idle or stalled this "
     "long (default 30s)",
     set_idle_timeout},
    {"check-interval", "TASKD_CHECK_INTERVAL", "DURATION",
     "how often the database file is "
     "checked and recovery retried, besides at once after a database error (default 250ms)",
     set_check_interval},
    {"shutdown-grace", "TASKD_SHUTDOWN_GRACE", "DURATION",
     "how long SIGTERM waits for requests "
     "in flight (default 10s)",
     set_shutdown_grace},
    {"no-create", "TASKD_NO_CREATE", NULL, "never create a missing database, even at start",
     set_no_create},
    {"exit-on-db-error", "TASKD_EXIT_ON_DB_ERROR", NULL,
     "exit 1 at start when the database cannot be opened, instead of serving not-ready",
     set_exit_on_db_error},
    {"unsafe-no-fault-detection", "TASKD_UNSAFE_NO_FAULT_DETECTION", NULL,
     "for demonstrations only: a naive service that does not fail closed (writes into a "
     "deleted or moved database are acknowledged, then lost)",
     set_unsafe_no_fault_detection},
};

#define FLAG_COUNT (sizeof(flags) / sizeof(flags[0]))

void config_usage(FILE *out)
{
    fprintf(out, "usage: taskd [options]\n\nThe taskbench task service: CRUD on /tasks over "
                 "SQLite, with /metrics, /livez and /readyz.\n\noptions (each also read from "
                 "its environment variable):\n");
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", flags[i].name, flags[i].metavar ? " " : "",
                 flags[i].metavar ? flags[i].metavar : "");
        fprintf(out, "  %-28s %s [%s]\n", left, flags[i].help, flags[i].env);
    }
    fprintf(out, "  %-28s print this help\n  %-28s print the version\n", "--help", "--version");
}

/* One HTTP thread per CPU taskd may run on: writes never block them (they go to the store's
 * writer thread), and on one core a second thread only adds context switches (measured with
 * make bench: --threads 1 was as fast or faster for GET and POST). */
static unsigned default_threads(void)
{
    return cpus_usable();
}

static const struct flag *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    }
    return NULL;
}

static int on_command_line(const struct flag *f, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *eq = strchr(a + 2, '=');
        const struct flag *given = find_flag(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (given == f)
            return 1;
        if (given && given->metavar && !eq)
            i++; /* the value after a flag is not a flag */
    }
    return 0;
}

enum config_result config_parse(struct taskd_config *cfg, int argc, char **argv, char *error,
                                size_t error_len)
{
    *cfg = (struct taskd_config){
        .listen = NULL,
        .db_path = "./data/tasks.db",
        .log_file = "-",
        .log_level = LOG_INFO,
        .threads = default_threads(),
        .sync = STORE_SYNC_NORMAL,
        .busy_timeout_ns = 500000000u,
        .max_connections = 1000,
        .idle_timeout_ns = 30000000000u,
        .check_interval_ns = 250000000u,
        .shutdown_grace_ns = 10000000000u,
        .cache_size = CONFIG_CACHE_SIZE_DEFAULT,
        .mmap_size = CONFIG_MMAP_SIZE_DEFAULT,
        .log_max_size = 0,
        .log_max_files = 5,
    };
    /* The environment only fills what the command line does not set, so a bad variable is
     * not an error when a flag overrides it. */
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        const char *v = getenv(flags[i].env);
        if (!v || on_command_line(&flags[i], argc, argv))
            continue;
        char reason[256];
        if (flags[i].set(cfg, v, reason, sizeof(reason)) < 0) {
            snprintf(error, error_len, "environment variable %s: %s", flags[i].env, reason);
            return CONFIG_ERROR;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage(stdout);
            return CONFIG_EXIT_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("taskd %s\n", taskbench_version());
            return CONFIG_EXIT_OK;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(error, error_len, "unexpected argument '%s' (see taskd --help)", arg);
            return CONFIG_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        const struct flag *f = find_flag(name, eq ? (size_t)(eq - name) : strlen(name));
        if (!f) {
            snprintf(error, error_len, "unknown option '%s' (see taskd --help)", arg);
            return CONFIG_ERROR;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!f->metavar) {
            if (value) {
                snprintf(error, error_len, "--%s takes no value", f->name);
                return CONFIG_ERROR;
            }
            value = "1";
        } else if (!value) {
            if (i + 1 >= argc) {
                snprintf(error, error_len, "--%s needs a value (%s)", f->name, f->metavar);
                return CONFIG_ERROR;
            }
            value = argv[++i];
        }
        if (f->set(cfg, value, error, error_len) < 0)
            return CONFIG_ERROR;
    }
    if (!cfg->listen && set_listen(cfg, DEFAULT_LISTEN, error, error_len) < 0)
        return CONFIG_ERROR;
    if (cfg->unsafe_no_fault_detection && cfg->no_create) {
        snprintf(error, error_len,
                 "--unsafe-no-fault-detection creates a missing database as a naive service "
                 "does; it cannot be combined with --no-create");
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}
