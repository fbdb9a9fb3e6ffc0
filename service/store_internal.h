/*
 * store_internal: what the three parts of the store share, and nobody else sees.
 *
 * store.c owns the connections, the read path and the lifecycle; store_writer.c the writer
 * thread (group commit, checkpoints); store_monitor.c the monitor thread (file checks, probes,
 * recovery). Locking: `write_lock` guards the writer connection, `read_lock` the reader.
 * Opening and closing the connections takes both, always writer first; `open` and the
 * identities change only with both held, so either lock is enough to read them. The health
 * fields (up, file_state, tasks, free_bytes) are atomics that /metrics reads without a lock.
 */
#ifndef TASKD_STORE_INTERNAL_H
#define TASKD_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#include "clock.h"
#include "log.h"
#include "store.h"

/* The -wal is truncated back to this size after a checkpoint has emptied it. */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)
/* How stale a read may be for changes made by another process (ours are seen at once). */
#define READ_SNAPSHOT_MAX_NS (100 * 1000 * 1000)
/* How long the database must stay unchanged before the reader maps it (reader_adjust_map). */
#define READER_MAP_QUIET_NS (1000 * 1000 * 1000)

struct conn {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *insert, *get, *update, *del, *list, *count, *probe;
};

struct store {
    struct store_config cfg;
    char *path;
    char *wal_path;
    pthread_mutex_t write_lock;
    pthread_mutex_t read_lock;
    struct conn w, r;
    int wal_frames; /* frames in the WAL after the last commit (writer thread, write_lock) */
    /* The -wal's size as of the last acknowledged commit (from the WAL hook, or the scan at
     * open), and whether to cut it back to that before the next open: a commit failed with an
     * I/O error, its frames may be complete on disk, and SQLite's recovery would replay a
     * transaction answered 503. Writer's lock, or both locks. */
    int page_size;
    int64_t acked_wal_bytes;
    int wal_trim_pending;
    /* A write or sync failed with an I/O error: no transaction but the monitor's probe may
     * commit until that probe has committed and synced (store_begin refuses the others). Under
     * --sync normal commits do not sync, so without this writes would be acknowledged after
     * a failed sync as if nothing happened. */
    _Atomic int sync_failed;
    int open;
    _Atomic int available; /* == open, readable without a lock: reads never wait on a reconnect */
    _Atomic int reopen_wanted; /* a statement saw "not a database": reconnect on the next check */
    struct db_file_identity db_id, wal_id;

    /* The reader keeps its read transaction (and its file locks) across requests until the
     * writer commits or READ_SNAPSHOT_MAX_NS pass: four fcntl() calls saved per read. */
    _Atomic uint64_t commits;    /* bumped after each COMMIT, before any write is acknowledged */
    int read_open;               /* the reader is inside BEGIN (guarded by read_lock) */
    int reader_poisoned;         /* a read through its memory map failed: never use it again */
    int reader_mapped;           /* the reader maps the file now (see reader_adjust_map) */
    uint64_t unchanged_since_ns; /* the reader saw the file change last (read_lock) */
    uint64_t read_commits;       /* `commits` when that read transaction began */
    uint64_t read_started_ns;

    _Atomic int up;
    _Atomic int file_state;
    _Atomic int64_t tasks;
    _Atomic int64_t free_bytes;
    _Atomic int64_t free_inodes;
    _Atomic int64_t mmap_size;     /* what SQLite maps for the reader (it may cap the flag) */
    _Atomic int reads_mapped;      /* == reader_mapped, for /metrics */
    _Atomic int64_t cache_used[2]; /* page cache bytes of the writer and the reader, sampled */
    /* Commits counted in the database header (store.c, stamp_commit): the count of the last
     * commit (write lock), known once a file was opened; a file at the path with a lower count
     * is an older copy. epoch_due: the next commit starts a new -wal generation (a checkpoint
     * copied every frame, or the -wal was empty at open). */
    uint32_t commit_count;
    int commit_count_known;
    int epoch_due;
    _Atomic uint64_t created;

    pthread_mutex_t fault_lock; /* guards `fault` */
    struct store_error fault;   /* why the store is down; logged once per change */

    pthread_mutex_t queue_lock; /* guards the write queue and writer_stopping */
    pthread_cond_t queue_cond;
    struct store_write *queue_head, *queue_tail;
    int writer_stopping;
    pthread_t writer;
    int writer_started;

    pthread_t monitor;
    int monitor_started;
    pthread_mutex_t monitor_lock;
    pthread_cond_t monitor_cond;
    int stopping, wake;
};

/* Faults and health (store.c). */
void store_log_error(enum log_level level, const char *msg, const struct store *s,
                     const struct store_error *err);
/* Logs once per change; returns 1 when the reason changed (or the store was up), else 0. */
int store_mark_down(struct store *s, const struct store_error *err);
void store_mark_up(struct store *s);
void store_file_error(struct store_error *err, enum db_file_state state, int sys_errno);
/* A failed SQLite call: fills `err`, counts it; STORE_UNAVAILABLE (503) or STORE_FAILED (500). */
int store_sqlite_error(sqlite3 *db, int rc, struct store_error *err);
/* The same for a request on open connections: also looks at the file at once (an I/O error is
 * often the first sign that it was deleted or replaced), marks the store down and wakes the
 * monitor when the reason changed. Caller holds write_lock or read_lock. */
int store_sqlite_failure(struct store *s, sqlite3 *db, int rc, struct store_error *err);

/* Connections (store.c). Callers hold both locks. */
int store_connect_locked(struct store *s, int allow_create, struct store_error *err);
void store_close_locked(struct store *s);

/* Transactions on the writer (store.c). Caller holds write_lock. store_commit checks the file's
 * identity first and rolls back on any failure: nothing unacknowledged is ever committed. */
int store_begin(struct store *s, struct store_error *err);
int store_commit(struct store *s, struct store_error *err);
void store_rollback_if_open(struct store *s);
int store_step_done(sqlite3_stmt *stmt); /* steps once and resets; SQLITE_OK on DONE or ROW */
int store_read_task(struct conn *c, int64_t id, struct task *out); /* SQLITE_DONE: absent */
void store_reader_end(struct store *s); /* ends the reader's snapshot; caller holds read_lock */
void store_now(char out[CLOCK_RFC3339_LEN]);

/* Threads (store_writer.c, store_monitor.c). */
/* 1 on the monitor thread: it never wakes itself, or a probe that fails differently from the
 * request before it would have it check again at once, and again. */
extern _Thread_local int store_on_monitor_thread;
int store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames);
void *store_writer_main(void *arg);
void *store_monitor_main(void *arg);

#endif
