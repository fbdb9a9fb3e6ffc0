/*
 * store_monitor: the store's monitor thread. Every --check-interval (or at once when woken) it
 * compares the database path and its -wal with what was opened, closes the connections on a
 * file fault, repairs a deleted -wal, probes with a real write while the database is down, and
 * reopens by itself once the path holds a valid database. It never creates one.
 * Without fault detection it only reconnects a store that is not open, creating a missing
 * database as a naive service would.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "store_internal.h"
#include <time.h>

_Thread_local int store_on_monitor_thread;

/* A real write: the only way to know that a full disk or a lock has gone. Write lock held.
 * It does not wait for a lock held elsewhere (busy timeout 0): the writer thread waits for the
 * write lock while the probe runs, so a probe waiting out --busy-timeout would make every client
 * write queued meanwhile wait twice as long before its 503. The next check probes again. */
static int probe_write(struct store *s, struct store_error *err)
{
    uint64_t t0 = clock_monotonic_ns();
    /* After an I/O error the probe must show that a sync works again, not only a write:
     * under synchronous=NORMAL a commit does not sync, so this one commits with FULL. */
    int sync_probe = atomic_load(&s->file_state) == DB_FILE_IO_ERROR && s->open &&
                     s->cfg.sync != STORE_SYNC_FULL;
    if (sync_probe)
        sqlite3_exec(s->w.db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (s->open)
        sqlite3_busy_timeout(s->w.db, 0);
    int status = store_begin(s, err);
    if (status == STORE_OK) {
        char now[CLOCK_RFC3339_LEN];
        store_now(now);
        sqlite3_bind_text(s->w.probe, 1, now, -1, SQLITE_TRANSIENT);
        int rc = store_step_done(s->w.probe);
        if (rc != SQLITE_OK) {
            status = store_sqlite_failure(s, s->w.db, rc, err);
            store_rollback_if_open(s);
        } else {
            status = store_commit(s, err);
        }
    }
    if (status == STORE_OK)
        atomic_store(&s->sync_failed, 0); /* it committed, and synced when that was in doubt */
    if (s->open)
        sqlite3_busy_timeout(s->w.db, (int)s->cfg.busy_timeout_ms);
    if (sync_probe && s->open)
        sqlite3_exec(s->w.db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    metrics_db_query(DB_OP_PROBE, clock_monotonic_ns() - t0);
    return status;
}

/* The -wal was deleted while open: SQLite still holds the orphaned inode, so checkpoint its
 * frames into the database file before closing, then reopen with a fresh -wal. */
static void repair_wal_locked(struct store *s)
{
    struct store_error err;
    store_file_error(&err, DB_FILE_OK, 0);
    snprintf(err.message, sizeof(err.message),
             "the -wal file was deleted or replaced while open; checkpointing and reopening");
    store_log_error(LOG_ERROR, "database -wal file lost", s, &err);
    store_reader_end(s); /* a read snapshot would keep the checkpoint from copying every frame */
    int rc = sqlite3_wal_checkpoint_v2(s->w.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK)
        store_sqlite_failure(s, s->w.db, rc, &err);
    store_close_locked(s);
}

/* Closes both connections; reads fail fast meanwhile (`available` is cleared first). Caller holds
 * the write lock. */
static void close_connections(struct store *s)
{
    atomic_store(&s->available, 0);
    pthread_mutex_lock(&s->read_lock);
    store_close_locked(s);
    pthread_mutex_unlock(&s->read_lock);
}

/* Opens the connections again. The store is up only once a probe write has committed on them:
 * a connection can open and read but not write (a read-only -shm, a read-only file handle that
 * the open did not reveal), and then it is refused with the probe's error, and reopened again at
 * the next check as long as that error says read-only. Caller holds the write lock. */
static void reconnect(struct store *s)
{
    struct store_error err;
    pthread_mutex_lock(&s->read_lock);
    int status = store_connect_locked(s, 0, &err);
    pthread_mutex_unlock(&s->read_lock);
    if (status == STORE_OK) {
        probe_write(s, &err); /* marks the store up when it commits, down otherwise */
        return;
    }
    /* The file that was open is still gone: keep saying so rather than "missing". */
    if (err.file_state == DB_FILE_MISSING && atomic_load(&s->file_state) == DB_FILE_UNLINKED)
        store_file_error(&err, DB_FILE_UNLINKED, err.sys_errno);
    store_mark_down(s, &err);
}

/* Samples the page cache each connection uses, for /metrics (which never touches SQLite).
 * Caller holds the write lock. */
static void sample_cache_use(struct store *s)
{
    int used = 0, highest = 0;
    if (s->open &&
        sqlite3_db_status(s->w.db, SQLITE_DBSTATUS_CACHE_USED, &used, &highest, 0) == SQLITE_OK)
        atomic_store(&s->cache_used[0], used);
    else
        atomic_store(&s->cache_used[0], 0);
    used = 0;
    pthread_mutex_lock(&s->read_lock);
    if (s->open && !s->reader_poisoned &&
        sqlite3_db_status(s->r.db, SQLITE_DBSTATUS_CACHE_USED, &used, &highest, 0) == SQLITE_OK)
        atomic_store(&s->cache_used[1], used);
    else
        atomic_store(&s->cache_used[1], 0);
    pthread_mutex_unlock(&s->read_lock);
}

/* The monitor's periodic check. Takes the write lock for the whole check, and the read lock
 * only around opening and closing connections, so reads go on while it probes. */
static void check(struct store *s)
{
    struct store_error err;
    pthread_mutex_lock(&s->write_lock);
    if (s->open) {
        int sys_errno;
        enum db_file_state state = db_file_inspect(s->path, &s->db_id, &sys_errno);
        int wal_lost =
            s->wal_id.known && db_file_inspect(s->wal_path, &s->wal_id, &sys_errno) != DB_FILE_OK;
        if (state != DB_FILE_OK) {
            store_file_error(&err, state, sys_errno);
            store_mark_down(s, &err);
            close_connections(s);
        } else if (wal_lost) {
            atomic_store(&s->available, 0);
            pthread_mutex_lock(&s->read_lock);
            repair_wal_locked(s);
            pthread_mutex_unlock(&s->read_lock);
        } else if (!atomic_load(&s->up) && !atomic_load(&s->reopen_wanted)) {
            probe_write(s, &err);
        }
        /* "Not a database" or "read-only", from a request or from the probe just now: retrying
         * on these connections cannot succeed, new ones might. */
        if (s->open && atomic_load(&s->reopen_wanted))
            close_connections(s);
    }
    if (!s->open)
        reconnect(s);
    sample_cache_use(s);
    pthread_mutex_unlock(&s->write_lock);
}

/* The check of a store without fault detection: nothing closes its connections, so this only
 * matters when they are not open; a missing file is created, silently. */
static void check_naive(struct store *s)
{
    struct store_error err;
    pthread_mutex_lock(&s->write_lock);
    if (!s->open) {
        pthread_mutex_lock(&s->read_lock);
        int status = store_connect_locked(s, 1, &err);
        pthread_mutex_unlock(&s->read_lock);
        if (status == STORE_OK)
            store_mark_up(s);
        else
            store_mark_down(s, &err);
    }
    sample_cache_use(s);
    pthread_mutex_unlock(&s->write_lock);
}

void *store_monitor_main(void *arg)
{
    struct store *s = arg;
    store_on_monitor_thread = 1;
    pthread_mutex_lock(&s->monitor_lock);
    while (!s->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        uint64_t ns = (uint64_t)deadline.tv_nsec + s->cfg.check_interval_ns;
        deadline.tv_sec += (time_t)(ns / 1000000000u);
        deadline.tv_nsec = (long)(ns % 1000000000u);
        while (!s->stopping && !s->wake &&
               pthread_cond_timedwait(&s->monitor_cond, &s->monitor_lock, &deadline) == 0)
            ;
        s->wake = 0;
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->monitor_lock);
        atomic_store(&s->free_bytes, db_file_free_bytes(s->path));
        atomic_store(&s->free_inodes, db_file_free_inodes(s->path));
        if (s->cfg.no_fault_detection)
            check_naive(s);
        else
            check(s);
        pthread_mutex_lock(&s->monitor_lock);
    }
    pthread_mutex_unlock(&s->monitor_lock);
    return NULL;
}
