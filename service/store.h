/*
 * store: the tasks in SQLite, and the health of the database under them.
 *
 * Two connections (a writer and a reader, each behind its own mutex) in WAL mode with prepared
 * statements and a busy timeout. Writes go through one writer thread that commits them in
 * groups; a write is acknowledged (done is called with STORE_OK) only after COMMIT returned,
 * and only if the database file at the path is still the one that was opened: the identity of
 * the file and of its -wal is checked inside the transaction, so a write never "succeeds" into a
 * file that was deleted or moved away.
 *
 * The store fails closed: when the file is missing, a directory, replaced or not a database,
 * every call answers STORE_UNAVAILABLE without touching SQLite, and a monitor thread reopens the
 * database by itself once the path holds a valid one again. It never creates an empty database
 * while serving; only at start, when allowed and no files of an earlier database (-wal, -shm,
 * -journal) lie beside the path, and that is logged at warn and counted.
 *
 * `no_fault_detection` turns all of this off, for demonstrations: see store_config.
 */
#ifndef TASKD_STORE_H
#define TASKD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db_file.h"
#include "metrics.h"
#include "task.h"

enum store_sync { STORE_SYNC_NORMAL, STORE_SYNC_FULL };

struct store_config {
    const char *path;
    enum store_sync sync;
    unsigned busy_timeout_ms;
    uint64_t check_interval_ns; /* how often the monitor checks the file and retries recovery */
    uint64_t cache_size;        /* SQLite page cache of each connection, bytes */
    /* Bytes of the database file the reader maps into memory (SQLite's mmap_size; 0: none).
     * Only the reader maps: reads then cost no copy and no system call per page, so they stay
     * as fast at millions of rows as at a thousand; a page that cannot be read through the map
     * fails the read closed (mapped_read.h). The writer reads with pread(2) as before. */
    uint64_t mmap_size;
    int allow_create; /* create an empty database when the file is missing at start */
    /* --unsafe-no-fault-detection: behave like a naive service, so that experiments can show
     * their checks catch one. No file checks (the file state stays ok), no identity check before
     * COMMIT (a write into a deleted or moved file is acknowledged), ready while `SELECT 1`
     * works, a missing database created silently whenever the store connects. */
    int no_fault_detection;
};

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND = 1,    /* no task with that id */
    STORE_UNAVAILABLE = -1, /* the database cannot be used now: answer 503 */
    STORE_FAILED = -2,      /* an unexpected SQLite error: answer 500 */
};

/* Why a call failed, for the response, the log line and metrics. */
struct store_error {
    int sqlite_code;               /* extended result code, 0 when SQLite was not called */
    int sys_errno;                 /* from sqlite3_system_errno() or stat(), 0 if none */
    enum db_file_state file_state; /* the state that made the store refuse */
    char message[512];             /* one sentence for humans */
};

struct store;

/* Opens the store and starts its monitor. Returns 0 when the database is open, 1 when it could
 * not be opened (`err` says why; the store then runs fail-closed and recovers by itself), -1
 * only for a bad configuration or out of memory. The caller frees the store with store_close(). */
int store_open(struct store **out, const struct store_config *cfg, struct store_error *err);
void store_close(struct store *s);

/* A write for the writer thread. The caller fills kind, id and input, and done/ctx; the store
 * fills status (STORE_OK, STORE_NOT_FOUND, or a failure with err), and task for create and
 * update. */
enum store_write_kind { STORE_WRITE_CREATE, STORE_WRITE_UPDATE, STORE_WRITE_DELETE };

struct store_write {
    enum store_write_kind kind;
    int64_t id; /* update, delete */
    struct task_input input;
    int status;
    struct task task;
    struct store_error err;
    void (*done)(struct store_write *w, void *ctx);
    void *ctx;
    uint64_t submitted_ns;    /* set by store_write_submit: --busy-timeout counts from here */
    struct store_write *next; /* the store's queue */
};

/* Queues a write. One writer thread runs the queued writes together in one transaction (group
 * commit: one COMMIT, one lock round trip, one WAL append for many writes) and calls w->done
 * from that thread once the transaction committed or failed: a write is acknowledged only
 * after COMMIT returned. A write waits for a lock held by another process at most
 * busy_timeout_ms from its submission, however long it queued: then it fails (SQLITE_BUSY).
 * The caller keeps `w` alive until done is called. */
void store_write_submit(struct store *s, struct store_write *w);

int store_task_get(struct store *s, int64_t id, struct task *out, struct store_error *err);

/* Calls `row` for each task with id > after, in id order, at most `limit` of them; `*more` is
 * set when further tasks exist. Runs under the reader lock: `row` must not call the store. */
int store_task_list(struct store *s, int64_t after, int limit,
                    void (*row)(const struct task *t, void *ctx), void *ctx, int *more,
                    struct store_error *err);

/* 1 when the database is usable; otherwise 0 and `err` says why (for /readyz). With
 * no_fault_detection: 1 while `SELECT 1` works on the open reader connection. */
int store_ready(struct store *s, struct store_error *err);

void store_gauges(struct store *s, struct db_gauges *out);

#endif
