/*
 * taskd: the taskbench task service. Wires config, log, store and server together and owns the
 * process's signals: SIGTERM/SIGINT drain and stop, SIGHUP reopens the log file.
 *
 * Signals are blocked in every thread and taken synchronously with sigwait() here, so no
 * handler ever runs inside a request or inside SQLite.
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "port_file.h"
#include "server.h"
#include "store.h"
#include "version.h"

static void log_started(const struct taskd_config *cfg, unsigned port)
{
    struct log_entry e;
    if (log_begin(&e, LOG_INFO, "listening") < 0)
        return;
    jw_member_string(&e.w, "listen", cfg->listen);
    jw_member_uint(&e.w, "port", port);
    jw_member_string(&e.w, "db_path", cfg->db_path);
    jw_member_string(&e.w, "sync", cfg->sync == STORE_SYNC_FULL ? "full" : "normal");
    jw_member_uint(&e.w, "threads", cfg->threads);
    jw_member_uint(&e.w, "cache_size_bytes", cfg->cache_size);
    jw_member_uint(&e.w, "mmap_size_bytes", cfg->mmap_size);
    jw_member_uint(&e.w, "log_max_size_bytes", cfg->log_max_size);
    jw_member_uint(&e.w, "log_max_files", cfg->log_max_files);
    jw_member_string(&e.w, "version", taskbench_version());
    jw_member_string(&e.w, "sqlite_version", sqlite3_libversion());
    jw_member_string(&e.w, "mhd_version", MHD_get_version());
    log_end(&e);
}

static void fatal(const char *what)
{
    fprintf(stderr, "taskd: %s\n", what);
    struct log_entry e;
    if (log_begin(&e, LOG_ERROR, "cannot start") == 0) {
        jw_member_string(&e.w, "reason", what);
        log_end(&e);
    }
}

static void warn_no_fault_detection(void)
{
    log_msg(LOG_WARN, "database fault detection is off (--unsafe-no-fault-detection), for "
                      "demonstrations only: writes into a deleted or moved database are "
                      "acknowledged and lost, and /readyz only runs SELECT 1");
}

/* Waits for SIGTERM or SIGINT, reopening the log on each SIGHUP meanwhile. */
static void serve_until_stopped(const sigset_t *signals)
{
    for (;;) {
        int sig;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig != SIGHUP) {
            struct log_entry e;
            if (log_begin(&e, LOG_INFO, "shutting down") == 0) {
                jw_member_string(&e.w, "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                log_end(&e);
            }
            return;
        }
        if (log_reopen() == 0) {
            log_msg(LOG_INFO, "log file reopened");
        } else {
            struct log_entry e;
            if (log_begin(&e, LOG_ERROR,
                          "cannot reopen the log file; still writing to the old one") == 0) {
                jw_member_int(&e.w, "errno", errno);
                log_end(&e);
            }
        }
    }
}

/* Stops what was started, on every path: the server stops accepting and lets requests in
 * flight finish for `grace_ns`; only when none is left are the store closed (which runs the
 * writes still queued, resuming their connections) and the server stopped. Otherwise requests
 * still use the store, so taskd exits without closing it: every acknowledged write is
 * committed, and SQLite recovers the -wal at the next start. Returns the requests cut short. */
static int teardown(struct server *server, struct store *store, uint64_t grace_ns)
{
    int left = server ? server_drain(server, grace_ns) : 0;
    if (left == 0) {
        store_close(store);
        server_stop(server);
    }
    return left;
}

int main(int argc, char **argv)
{
    struct taskd_config cfg;
    char error[1024];
    switch (config_parse(&cfg, argc, argv, error, sizeof(error))) {
    case CONFIG_EXIT_OK:
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "taskd: %s\n", error);
        return 2;
    case CONFIG_OK:
        break;
    }
    struct log_rotation rotation = {.max_size = cfg.log_max_size, .max_files = cfg.log_max_files};
    if (log_open(cfg.log_file, cfg.log_level, &rotation) < 0) {
        fprintf(stderr, "taskd: cannot open log file %s: %s\n", cfg.log_file, strerror(errno));
        return 1;
    }

    /* Before any thread exists, so every thread inherits the mask. SIGPIPE: a client that left.
     * SIGXFSZ: a file-size limit must fail the write (EFBIG), not kill the service. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);

    int code = 1;
    struct store *store = NULL;
    struct server *server = NULL;
    metrics_init();
    struct store_config store_cfg = {
        .path = cfg.db_path,
        .sync = cfg.sync,
        .busy_timeout_ms = (unsigned)(cfg.busy_timeout_ns / 1000000u),
        .check_interval_ns = cfg.check_interval_ns,
        .cache_size = cfg.cache_size,
        .mmap_size = cfg.mmap_size,
        .allow_create = !cfg.no_create,
        .no_fault_detection = cfg.unsafe_no_fault_detection,
    };
    if (cfg.unsafe_no_fault_detection)
        warn_no_fault_detection();
    struct store_error store_err;
    int opened = store_open(&store, &store_cfg, &store_err);
    if (opened < 0) {
        fatal("out of memory opening the store");
        goto out;
    }
    if (opened > 0) {
        /* One sentence on stderr whether taskd exits or serves not-ready, so whoever started it
         * sees why without reading the JSON log (its "database unavailable" line says the
         * same). A naive service cannot serve without its database: it crashes at start. */
        snprintf(error, sizeof(error), "cannot open database %s: %s", cfg.db_path,
                 store_err.message);
        if (cfg.exit_on_db_error || cfg.unsafe_no_fault_detection) {
            fatal(error);
            goto out;
        }
        fprintf(stderr, "taskd: %s\n", error);
    }
    struct api api = {.store = store, .version = taskbench_version()};
    struct server_config server_cfg = {
        .addr = &cfg.listen_addr,
        .listen = cfg.listen,
        .threads = cfg.threads,
        .max_connections = cfg.max_connections,
        .idle_timeout_s = (unsigned)((cfg.idle_timeout_ns + 999999999u) / 1000000000u),
    };
    if (server_start(&server, &server_cfg, &api, error, sizeof(error)) < 0) {
        fatal(error);
        goto out;
    }
    unsigned port = server_port(server);
    if (cfg.port_file && port_file_write(cfg.port_file, port) < 0) {
        snprintf(error, sizeof(error), "cannot write the port file %s: %s", cfg.port_file,
                 strerror(errno));
        fatal(error);
        goto out;
    }
    log_started(&cfg, port);

    serve_until_stopped(&signals);
    code = 0;
out:;
    /* After a failed start nothing is waited for (a request that got in anyway keeps the store
     * open, as after a drain that ran out). */
    int left = teardown(server, store, code == 0 ? cfg.shutdown_grace_ns : 0);
    if (code == 0) {
        struct log_entry e;
        if (log_begin(&e, left ? LOG_WARN : LOG_INFO, "stopped") == 0) {
            jw_member_int(&e.w, "requests_cut_short", left);
            log_end(&e);
        }
    }
    log_close();
    return code;
}
