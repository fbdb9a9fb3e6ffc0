/*
 * metrics: taskd's Prometheus metrics, recorded lock-free on the request path and rendered on
 * scrape. Names and labels are a contract (DESIGN.md): dashboards and alerts use them.
 *
 * Request counters are a dense array indexed by method, route and status (100..599), so
 * recording is one relaxed atomic add and the label sets stay bounded by construction. Only
 * non-zero series are rendered. The database gauges are read from the store at scrape time.
 */
#ifndef TASKD_METRICS_H
#define TASKD_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "routes.h"

enum db_op {
    DB_OP_OPEN,
    DB_OP_CREATE,
    DB_OP_GET,
    DB_OP_LIST,
    DB_OP_UPDATE,
    DB_OP_DELETE,
    DB_OP_PROBE,
    DB_OP_COUNT
};

/* What the store reports at scrape time. */
struct db_gauges {
    int up;
    int file_state;      /* enum db_file_state */
    int64_t tasks;       /* -1 until the rows were counted (a database never opened) */
    int64_t free_bytes;  /* -1 when unknown */
    int64_t free_inodes; /* -1 when unknown or not counted by the file system */
    uint64_t created_total;
    int64_t cache_limit;       /* --cache-size, per connection */
    int64_t cache_used_writer; /* page cache in use, sampled by the monitor */
    int64_t cache_used_reader;
    int64_t mmap_size; /* what SQLite maps of the file for the reader; 0: no map */
    int reads_mapped;  /* 1 while reads go through the map */
};

void metrics_init(void);

void metrics_in_flight_add(int delta);
void metrics_connections_add(int delta);
void metrics_connection_refused(void);
void metrics_request_done(enum http_method method, enum route_id route, unsigned status,
                          uint64_t duration_ns);
void metrics_db_error(int sqlite_code);
void metrics_db_query(enum db_op op, uint64_t duration_ns);
/* One transaction of the writer thread that carried `writes` writes (group commit). */
void metrics_db_batch(unsigned writes);

/* Appends the whole exposition. Returns 0, or -1 when `out` hit its limit. */
int metrics_render(struct buf *out, const struct db_gauges *db, const char *version);

#endif
