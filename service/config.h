/*
 * config: taskd's flags, each also read from a TASKD_* environment variable (for containers).
 *
 * Precedence: built-in default < environment < command line. Every value is validated here,
 * so a typo stops taskd at start with one sentence naming the flag, the value and the rule.
 */
#ifndef TASKD_CONFIG_H
#define TASKD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "listen_addr.h"
#include "log.h"
#include "store.h"

/* Memory: the page cache of each connection (taskd has two, a writer and a reader) and the
 * memory map of the database file that reads use. The map is the file's own pages, shared with
 * the kernel's page cache and reclaimable, not allocated memory: 1 GiB covers about nine
 * million tasks, so reads stay as fast at millions of rows as at a thousand. */
#define CONFIG_CACHE_SIZE_DEFAULT (8ull << 20)
#define CONFIG_CACHE_SIZE_MIN (64ull << 10)
#define CONFIG_CACHE_SIZE_MAX (64ull << 30)
#define CONFIG_MMAP_SIZE_DEFAULT (1ull << 30)
#define CONFIG_MMAP_SIZE_MAX (1ull << 40)
#define CONFIG_LOG_MAX_SIZE_MIN (64ull << 10)

struct taskd_config {
    const char *listen;             /* as given (for messages and the log) */
    struct listen_addr listen_addr; /* parsed and resolved */
    const char *db_path;
    const char *log_file;
    enum log_level log_level;
    unsigned threads;
    enum store_sync sync;
    const char *port_file;
    uint64_t busy_timeout_ns;
    unsigned max_connections;
    uint64_t idle_timeout_ns;
    uint64_t check_interval_ns;
    uint64_t shutdown_grace_ns;
    uint64_t cache_size;    /* SQLite page cache of each connection, bytes */
    uint64_t mmap_size;     /* bytes of the database file that reads map; 0: none */
    uint64_t log_max_size;  /* rotate the log file before it passes this; 0: never */
    unsigned log_max_files; /* log files kept, the current one included */
    int no_create;
    int exit_on_db_error;          /* exit 1 at start when the database cannot be opened */
    int unsafe_no_fault_detection; /* a naive service, for demonstrations (see store_config) */
};

enum config_result { CONFIG_OK, CONFIG_EXIT_OK, CONFIG_ERROR };

/* Fills `cfg` from defaults, the environment and argv. CONFIG_EXIT_OK after --help/--version
 * (printed to stdout); CONFIG_ERROR with a sentence in `error`. Strings point into argv/environ. */
enum config_result config_parse(struct taskd_config *cfg, int argc, char **argv, char *error,
                                size_t error_len);

void config_usage(FILE *out);

#endif
