/*
 * metrics: taskd's metric registry and its exposition. See metrics.h.
 */
#include "metrics.h"

#include <microhttpd.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>

#include "db_errors.h"
#include "db_file.h"
#include "expo.h"
#include "histogram.h"
#include "log_file.h"
#include "process_metrics.h"

#define STATUS_MIN 100
#define STATUS_MAX 599
#define DB_ERROR_SLOTS 64

static const char *const db_op_names[DB_OP_COUNT] = {
    "open", "create", "get", "list", "update", "delete", "probe",
};

static struct {
    _Atomic uint64_t requests[METHOD_COUNT][ROUTE_COUNT][STATUS_MAX - STATUS_MIN + 1];
    struct histogram duration[METHOD_COUNT][ROUTE_COUNT];
    _Atomic int64_t in_flight;
    _Atomic int64_t connections;
    _Atomic uint64_t connections_refused;
    _Atomic uint64_t write_batches, batched_writes;
    _Atomic uint64_t db_errors[DB_ERROR_SLOTS];
    struct histogram db_query[DB_OP_COUNT];
} m;

void metrics_init(void)
{
    for (int i = 0; i < METHOD_COUNT; i++) {
        for (int r = 0; r < ROUTE_COUNT; r++) {
            histogram_init(&m.duration[i][r], &histogram_latency_bounds);
            for (int s = 0; s <= STATUS_MAX - STATUS_MIN; s++)
                atomic_init(&m.requests[i][r][s], 0);
        }
    }
    for (int op = 0; op < DB_OP_COUNT; op++)
        histogram_init(&m.db_query[op], &histogram_latency_bounds);
    for (int i = 0; i < DB_ERROR_SLOTS; i++)
        atomic_init(&m.db_errors[i], 0);
    atomic_init(&m.in_flight, 0);
    atomic_init(&m.connections, 0);
    atomic_init(&m.connections_refused, 0);
}

void metrics_connections_add(int delta)
{
    atomic_fetch_add_explicit(&m.connections, delta, memory_order_relaxed);
}

void metrics_connection_refused(void)
{
    atomic_fetch_add_explicit(&m.connections_refused, 1, memory_order_relaxed);
}

void metrics_in_flight_add(int delta)
{
    atomic_fetch_add_explicit(&m.in_flight, delta, memory_order_relaxed);
}

void metrics_request_done(enum http_method method, enum route_id route, unsigned status,
                          uint64_t duration_ns)
{
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;
    atomic_fetch_add_explicit(&m.requests[method][route][status - STATUS_MIN], 1,
                              memory_order_relaxed);
    histogram_observe_ns(&m.duration[method][route], duration_ns);
}

void metrics_db_error(int sqlite_code)
{
    size_t slot = db_error_slot(sqlite_code);
    if (slot < DB_ERROR_SLOTS)
        atomic_fetch_add_explicit(&m.db_errors[slot], 1, memory_order_relaxed);
}

void metrics_db_batch(unsigned writes)
{
    atomic_fetch_add_explicit(&m.write_batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.batched_writes, writes, memory_order_relaxed);
}

void metrics_db_query(enum db_op op, uint64_t duration_ns)
{
    histogram_observe_ns(&m.db_query[op], duration_ns);
}

static void render_http(struct buf *out)
{
    expo_family(out, "http_requests_total", "counter",
                "HTTP requests answered, by method, route template and status code.");
    for (int i = 0; i < METHOD_COUNT; i++) {
        for (int r = 0; r < ROUTE_COUNT; r++) {
            for (int s = 0; s <= STATUS_MAX - STATUS_MIN; s++) {
                uint64_t n = atomic_load_explicit(&m.requests[i][r][s], memory_order_relaxed);
                if (n == 0)
                    continue;
                char code[8];
                snprintf(code, sizeof(code), "%d", s + STATUS_MIN);
                struct expo_label labels[] = {
                    {"method", method_label(i)}, {"route", route_label(r)}, {"code", code}};
                expo_sample_u64(out, "http_requests_total", labels, 3, n);
            }
        }
    }
    expo_family(out, "http_request_duration_seconds", "histogram",
                "Time from the request's headers being read to its response being sent, by method "
                "and route template.");
    for (int i = 0; i < METHOD_COUNT; i++) {
        for (int r = 0; r < ROUTE_COUNT; r++) {
            struct histogram_snapshot snap;
            histogram_snapshot(&m.duration[i][r], &snap);
            if (snap.total == 0)
                continue;
            struct expo_label labels[] = {{"method", method_label(i)}, {"route", route_label(r)}};
            expo_histogram(out, "http_request_duration_seconds", labels, 2, &snap);
        }
    }
    expo_gauge(out, "http_requests_in_flight", "HTTP requests being handled right now.",
               (double)atomic_load_explicit(&m.in_flight, memory_order_relaxed));
    expo_gauge(out, "taskd_connections_open", "HTTP connections open right now.",
               (double)atomic_load_explicit(&m.connections, memory_order_relaxed));
    expo_family(out, "taskd_connections_refused_total", "counter",
                "Connections closed at once because --max-connections were open.");
    expo_sample_u64(out, "taskd_connections_refused_total", NULL, 0,
                    atomic_load_explicit(&m.connections_refused, memory_order_relaxed));
}

/* The codes of the persistence faults are exported from the start, at 0: a counter that first
 * appears at 1 loses that first error to rate() and increase(), and alerts would miss it. */
static int always_exported(size_t slot)
{
    static const int codes[] = {SQLITE_BUSY,     SQLITE_FULL,        SQLITE_READONLY,
                                SQLITE_IOERR,    SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC,
                                SQLITE_CANTOPEN, SQLITE_NOTADB,      SQLITE_CORRUPT};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (db_error_slot(codes[i]) == slot)
            return 1;
    }
    return 0;
}

static void render_db(struct buf *out, const struct db_gauges *db)
{
    expo_gauge(out, "taskd_db_up", "1 when the database is usable for reads and writes, else 0.",
               db->up);
    expo_family(out, "taskd_db_file_state", "gauge",
                "1 for the current state of the database file at its path, 0 for the others.");
    for (int s = 0; s < DB_FILE_STATE_COUNT; s++) {
        struct expo_label label = {"state", db_file_state_name(s)};
        expo_sample_u64(out, "taskd_db_file_state", &label, 1, s == db->file_state);
    }
    expo_family(out, "taskd_db_errors_total", "counter",
                "SQLite errors by result code name (extended where it tells the fault apart).");
    for (size_t slot = 0; slot < db_error_slot_count() && slot < DB_ERROR_SLOTS; slot++) {
        uint64_t n = atomic_load_explicit(&m.db_errors[slot], memory_order_relaxed);
        if (n == 0 && !always_exported(slot))
            continue;
        struct expo_label label = {"code", db_error_slot_name(slot)};
        expo_sample_u64(out, "taskd_db_errors_total", &label, 1, n);
    }
    expo_family(out, "taskd_db_query_duration_seconds", "histogram",
                "Time spent in SQLite per operation, lock wait included.");
    for (int op = 0; op < DB_OP_COUNT; op++) {
        struct histogram_snapshot snap;
        histogram_snapshot(&m.db_query[op], &snap);
        if (snap.total == 0)
            continue;
        struct expo_label label = {"op", db_op_names[op]};
        expo_histogram(out, "taskd_db_query_duration_seconds", &label, 1, &snap);
    }
    expo_family(out, "taskd_db_write_transactions_total", "counter",
                "Transactions of the writer thread; each commits a batch of writes at once.");
    expo_sample_u64(out, "taskd_db_write_transactions_total", NULL, 0,
                    atomic_load_explicit(&m.write_batches, memory_order_relaxed));
    expo_family(out, "taskd_db_writes_total", "counter",
                "Writes run by the writer thread (divide by taskd_db_write_transactions_total for "
                "the mean batch size).");
    expo_sample_u64(out, "taskd_db_writes_total", NULL, 0,
                    atomic_load_explicit(&m.batched_writes, memory_order_relaxed));
    /* A process that has never opened its database does not know how many tasks it holds:
     * no sample then, rather than a 0 that says the data is gone. */
    if (db->tasks >= 0)
        expo_gauge(out, "taskd_tasks",
                   "Tasks stored in the database (last known count; absent until counted).",
                   (double)db->tasks);
    if (db->free_bytes >= 0)
        expo_gauge(out, "taskd_data_dir_free_bytes",
                   "Bytes available to taskd in the file system that holds the database.",
                   (double)db->free_bytes);
    if (db->free_inodes >= 0)
        expo_gauge(out, "taskd_data_dir_free_inodes",
                   "Inodes available to taskd in the file system that holds the database (SQLite "
                   "needs one each for the -wal and -shm when it opens the database).",
                   (double)db->free_inodes);
    expo_gauge(out, "taskd_db_cache_limit_bytes",
               "SQLite page cache each of taskd's two database connections may use (--cache-size).",
               (double)db->cache_limit);
    expo_family(out, "taskd_db_cache_used_bytes", "gauge",
                "SQLite page cache in use, by connection (sampled every --check-interval).");
    struct expo_label writer = {"connection", "writer"}, reader = {"connection", "reader"};
    expo_sample_u64(out, "taskd_db_cache_used_bytes", &writer, 1, (uint64_t)db->cache_used_writer);
    expo_sample_u64(out, "taskd_db_cache_used_bytes", &reader, 1, (uint64_t)db->cache_used_reader);
    expo_gauge(out, "taskd_db_mmap_limit_bytes",
               "Bytes of the database file that reads map into memory (--mmap-size as SQLite "
               "applied it; 0 when reads never map). The mapped pages are the file's own, "
               "shared with the kernel's page cache.",
               (double)db->mmap_size);
    expo_gauge(out, "taskd_db_reads_mapped",
               "1 while reads go through the memory map: once the database has not changed for "
               "a second; writes turn it off (SQLite drops the map at every commit).",
               db->reads_mapped);
    expo_family(out, "taskd_db_created_total", "counter",
                "Empty databases this process created (a missing file at start). Never done "
                "over a file that disappeared while serving.");
    expo_sample_u64(out, "taskd_db_created_total", NULL, 0, db->created_total);
}

static void render_log(struct buf *out)
{
    struct log_file_stats st;
    log_file_stats(&st);
    expo_family(out, "taskd_log_rotations_total", "counter",
                "Log file rotations: by size (--log-max-size) or on SIGHUP (reopened after an "
                "outside tool such as logrotate moved it).");
    struct expo_label by_size = {"trigger", "size"}, by_signal = {"trigger", "signal"};
    expo_sample_u64(out, "taskd_log_rotations_total", &by_size, 1, st.rotations_by_size);
    expo_sample_u64(out, "taskd_log_rotations_total", &by_signal, 1, st.rotations_by_signal);
    expo_family(out, "taskd_log_written_bytes_total", "counter",
                "Bytes of log lines written to the log file.");
    expo_sample_u64(out, "taskd_log_written_bytes_total", NULL, 0, st.written_bytes);
    expo_family(out, "taskd_log_write_errors_total", "counter",
                "Writes to the log file that failed (a full disk, an I/O error).");
    expo_sample_u64(out, "taskd_log_write_errors_total", NULL, 0, st.write_errors);
    expo_family(out, "taskd_log_dropped_lines_total", "counter",
                "Log lines lost because writing them failed. Error lines are kept and written "
                "once writing works again; they are lost only when over 1 MiB of them wait.");
    expo_sample_u64(out, "taskd_log_dropped_lines_total", NULL, 0, st.dropped_lines);
    expo_gauge(out, "taskd_log_pending_error_bytes",
               "Error lines held in memory until a write to the log file works again.",
               (double)st.pending_bytes);
}

static void render_build_info(struct buf *out, const char *version)
{
    char mhd[32];
    snprintf(mhd, sizeof(mhd), "%s", MHD_get_version());
    expo_family(out, "taskd_build_info", "gauge",
                "Always 1; the labels tell the taskd, SQLite and libmicrohttpd versions.");
    struct expo_label labels[] = {
        {"version", version}, {"sqlite_version", sqlite3_libversion()}, {"mhd_version", mhd}};
    expo_sample_u64(out, "taskd_build_info", labels, 3, 1);
}

int metrics_render(struct buf *out, const struct db_gauges *db, const char *version)
{
    render_http(out);
    render_db(out, db);
    render_log(out);
    render_build_info(out, version);
    process_metrics_write(out);
    return out->overflowed ? -1 : 0;
}
