/*
 * store: tasks in SQLite with fail-closed fault handling. See store.h for the contract.
 * The writer thread is in store_writer.c, the monitor thread in store_monitor.c; what they
 * share is in store_internal.h, with the locking rules.
 */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

#include "clock.h"
#include "db_errors.h"
#include "log.h"
#include "mapped_read.h"
#include "wal_file.h"

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS tasks ("
                                 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                 "  task TEXT NOT NULL,"
                                 "  done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),"
                                 "  created_at TEXT NOT NULL,"
                                 "  updated_at TEXT NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS taskd_health ("
                                 "  id INTEGER PRIMARY KEY CHECK (id = 1),"
                                 "  checked_at TEXT NOT NULL);";

/* ---- faults and health ------------------------------------------------------------------ */

void store_log_error(enum log_level level, const char *msg, const struct store *s,
                     const struct store_error *err)
{
    struct log_entry e;
    if (log_begin(&e, level, msg) < 0)
        return;
    jw_member_string(&e.w, "db_path", s->path);
    jw_member_string(&e.w, "db_state", db_file_state_name(err->file_state));
    if (err->sqlite_code) {
        jw_member_int(&e.w, "sqlite_code", err->sqlite_code);
        jw_member_string(&e.w, "sqlite_error", db_error_name(err->sqlite_code));
    }
    jw_member_int(&e.w, "errno", err->sys_errno);
    jw_member_string(&e.w, "reason", err->message);
    log_end(&e);
}

/* Records why the store is down. Logs only when the reason changed, not once per request.
 * Without fault detection the file state metric stays ok: a naive service does not know. */
int store_mark_down(struct store *s, const struct store_error *err)
{
    pthread_mutex_lock(&s->fault_lock);
    int was_up = atomic_exchange(&s->up, 0);
    int changed = was_up || s->fault.sqlite_code != err->sqlite_code ||
                  s->fault.file_state != err->file_state;
    s->fault = *err;
    pthread_mutex_unlock(&s->fault_lock);
    if (!s->cfg.no_fault_detection)
        atomic_store(&s->file_state, err->file_state);
    if (changed)
        store_log_error(LOG_ERROR, "database unavailable", s, err);
    return changed;
}

void store_mark_up(struct store *s)
{
    atomic_store(&s->file_state, DB_FILE_OK);
    if (atomic_exchange(&s->up, 1))
        return;
    log_msg(LOG_INFO, "database available");
}

static void copy_fault(struct store *s, struct store_error *err)
{
    pthread_mutex_lock(&s->fault_lock);
    *err = s->fault;
    pthread_mutex_unlock(&s->fault_lock);
}

/* Has the monitor check now instead of at its next interval (not from the monitor itself). */
static void wake_monitor(struct store *s)
{
    if (store_on_monitor_thread)
        return;
    pthread_mutex_lock(&s->monitor_lock);
    s->wake = 1;
    pthread_cond_signal(&s->monitor_cond);
    pthread_mutex_unlock(&s->monitor_lock);
}

void store_file_error(struct store_error *err, enum db_file_state state, int sys_errno)
{
    memset(err, 0, sizeof(*err));
    err->file_state = state;
    err->sys_errno = sys_errno;
    snprintf(err->message, sizeof(err->message), "%s", db_file_state_advice(state));
}

/* The errno of the last VFS failure on this thread, from SQLite's log callback: SQLite's own
 * sqlite3_system_errno() is 0 after a failed fsync or pwrite, and "errno 0" on an I/O error
 * hides whether it was EIO, ENOSPC or EROFS. Taken (and cleared) by store_sqlite_error. */
static _Thread_local int vfs_errno;

static int take_vfs_errno(void)
{
    int e = vfs_errno;
    vfs_errno = 0;
    return e;
}

/* The file state a failed call's code and errno mean. */
static enum db_file_state state_of_error(int rc, int sys_errno)
{
    switch (rc & 0xFF) {
    case SQLITE_READONLY:
        return DB_FILE_READONLY;
    case SQLITE_NOTADB:
        return DB_FILE_NOT_A_DB;
    case SQLITE_CORRUPT:
        return DB_FILE_CORRUPT;
    case SQLITE_IOERR:
        if (sys_errno == EROFS)
            return DB_FILE_READONLY; /* a file system remounted read-only under us */
        return rc == SQLITE_IOERR_NOMEM ? DB_FILE_OK : DB_FILE_IO_ERROR;
    default:
        return DB_FILE_OK;
    }
}

/* Describes a failed SQLite call in `err` and counts it. Returns STORE_UNAVAILABLE when the
 * database cannot be used now (503), STORE_FAILED for anything else (500). */
int store_sqlite_error(sqlite3 *db, int rc, struct store_error *err)
{
    memset(err, 0, sizeof(*err));
    err->sqlite_code = rc;
    err->sys_errno = db ? sqlite3_system_errno(db) : 0;
    int logged = take_vfs_errno();
    if (!err->sys_errno)
        err->sys_errno = logged;
    snprintf(err->message, sizeof(err->message), "SQLite: %s",
             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (err->sys_errno && (rc & 0xFF) == SQLITE_IOERR)
        snprintf(err->message, sizeof(err->message), "SQLite: %s (%s)",
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), strerror(err->sys_errno));
    metrics_db_error(rc);
    err->file_state = state_of_error(rc, err->sys_errno);
    return db_error_is_unavailable(rc) ? STORE_UNAVAILABLE : STORE_FAILED;
}

/* The file at the path is still the one the connections have open. Otherwise fills `err` with
 * the file state and returns 0. Caller holds write_lock or read_lock (either guards db_id). */
static int file_still_open_one(struct store *s, struct store_error *err)
{
    int sys_errno;
    enum db_file_state state = db_file_inspect(s->path, &s->db_id, &sys_errno);
    if (state == DB_FILE_OK)
        return 1;
    store_file_error(err, state, sys_errno);
    return 0;
}

/* store_sqlite_error() for a request on open connections. Every SQLite error is also a reason
 * to look at the file now rather than at the monitor's next check: a failing statement is often
 * the first sign that the file was deleted or replaced, and then that is the reason to report
 * (the SQLite error is still counted by its code). The monitor is woken when the reason changed,
 * not on every failing request of the same fault.
 *
 * "Not a database", "corrupt", an I/O error and "read-only" (any extended code) ask the monitor
 * to reopen rather than retry on the same connections: a new connection reads the file afresh
 * (a corrupt page is then found by the count at open, not served from a cache), and SQLite falls
 * back to a read-only descriptor when it cannot open the file for writing (a read-only mount, even
 * one being unmounted at that moment), and that descriptor never becomes writable again, so only a
 * new connection can see that the file has. After an I/O error only the monitor's probe may
 * commit until it has committed and synced (store_begin).
 *
 * This is the part shared with a failed mapped read: the failure is described in `err`, with
 * `status` what SQLite's error maps to. */
static int failure_on_open_connections(struct store *s, int status, struct store_error *err)
{
    int file_fault = 0;
    if (!s->cfg.no_fault_detection && !file_still_open_one(s, err)) {
        file_fault = 1;
        status = STORE_UNAVAILABLE;
    }
    if (status != STORE_UNAVAILABLE)
        return status;
    int reopen = 0;
    if ((err->file_state == DB_FILE_NOT_A_DB || err->file_state == DB_FILE_READONLY ||
         err->file_state == DB_FILE_CORRUPT || err->file_state == DB_FILE_IO_ERROR) &&
        !s->cfg.no_fault_detection)
        reopen = !atomic_exchange(&s->reopen_wanted, 1);
    if (err->file_state == DB_FILE_IO_ERROR && !s->cfg.no_fault_detection)
        atomic_store(&s->sync_failed, 1);
    if (store_mark_down(s, err) || file_fault || reopen)
        wake_monitor(s);
    return status;
}

int store_sqlite_failure(struct store *s, sqlite3 *db, int rc, struct store_error *err)
{
    return failure_on_open_connections(s, store_sqlite_error(db, rc, err), err);
}

/* A read through the reader's memory map failed (SIGBUS, see mapped_read.h): whatever SQLite
 * returned is not trusted, and the reader connection is never used again (reads fail until the
 * monitor has reopened both). Reported as an I/O error of the read, which reopens. Caller holds
 * read_lock. */
static int mapped_read_failure(struct store *s, struct store_error *err)
{
    s->reader_poisoned = 1;
    s->read_open = 0; /* left as it is: closing the connection ends it */
    store_file_error(err, DB_FILE_IO_ERROR, EIO);
    err->sqlite_code = SQLITE_IOERR_READ;
    metrics_db_error(SQLITE_IOERR_READ);
    snprintf(err->message, sizeof(err->message),
             "a page of the database could not be read through the memory map (SIGBUS: the "
             "device failed, or the file was truncated under taskd); %s",
             db_file_state_advice(DB_FILE_IO_ERROR));
    if (s->cfg.no_fault_detection) {
        store_mark_down(s, err);
        return STORE_UNAVAILABLE;
    }
    return failure_on_open_connections(s, STORE_UNAVAILABLE, err);
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    sqlite3_stmt **stmts[] = {&c->begin,  &c->commit, &c->rollback, &c->insert, &c->get,
                              &c->update, &c->del,    &c->list,     &c->count,  &c->probe};
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        sqlite3_finalize(*stmts[i]);
        *stmts[i] = NULL;
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
}

#define TASK_COLUMNS "id, task, done, created_at, updated_at"

static int conn_prepare(struct conn *c, int writer)
{
    int rc = prepare(c->db, "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?1", &c->get);
    if (rc == SQLITE_OK)
        rc = prepare(c->db, "SELECT count(*) FROM tasks", &c->count);
    if (rc != SQLITE_OK || !writer) {
        if (rc == SQLITE_OK)
            rc = prepare(c->db,
                         "SELECT " TASK_COLUMNS " FROM tasks WHERE id > ?1 ORDER BY id LIMIT ?2",
                         &c->list);
        if (rc == SQLITE_OK)
            rc = prepare(c->db, "BEGIN", &c->begin);
        if (rc == SQLITE_OK)
            rc = prepare(c->db, "COMMIT", &c->commit);
        return rc;
    }
    const struct {
        const char *sql;
        sqlite3_stmt **stmt;
    } writes[] = {
        {"BEGIN IMMEDIATE", &c->begin},
        {"COMMIT", &c->commit},
        {"ROLLBACK", &c->rollback},
        {"INSERT INTO tasks (task, done, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
         &c->insert},
        {"UPDATE tasks SET task = coalesce(?2, task), done = coalesce(?3, done), updated_at = ?4 "
         "WHERE id = ?1",
         &c->update},
        {"DELETE FROM tasks WHERE id = ?1", &c->del},
        {"INSERT INTO taskd_health (id, checked_at) VALUES (1, ?1) "
         "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
         &c->probe},
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]) && rc == SQLITE_OK; i++)
        rc = prepare(c->db, writes[i].sql, writes[i].stmt);
    return rc;
}

/* Runs a statement that returns at most one integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *value)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Opens one connection. The reader (`mapped`) also maps up to --mmap-size of the file. */
static int conn_open(struct store *s, struct conn *c, int flags, int mapped)
{
    int rc = sqlite3_open_v2(s->path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, (int)s->cfg.busy_timeout_ms);
    char pragmas[256];
    /* No automatic checkpoints: they would run inside COMMIT, before the batch is answered.
     * The writer thread runs them between batches instead (checkpoint_if_due). A negative
     * cache_size is in KiB. */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA synchronous = %s; PRAGMA foreign_keys = OFF; PRAGMA wal_autocheckpoint = 0; "
             "PRAGMA journal_size_limit = %d; PRAGMA cache_size = -%llu;",
             s->cfg.sync == STORE_SYNC_FULL ? "FULL" : "NORMAL", WAL_SIZE_LIMIT,
             (unsigned long long)(s->cfg.cache_size / 1024));
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK || !mapped)
        return rc;
    /* SQLite answers with the size it will map: its build caps it (2 GiB on Debian). The reader
     * starts unmapped all the same: reader_adjust_map() maps once the file stays unchanged. */
    char sql[64];
    int64_t mapped_bytes = 0;
    snprintf(sql, sizeof(sql), "PRAGMA mmap_size = %llu", (unsigned long long)s->cfg.mmap_size);
    rc = query_int(c->db, sql, &mapped_bytes);
    if (rc == SQLITE_OK)
        atomic_store(&s->mmap_size, mapped_bytes);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "PRAGMA mmap_size = 0", NULL, NULL, NULL);
    return rc;
}

/* Makes sure the writer's database is ours: WAL mode and the tasks table. An empty database
 * gets the schema (logged at warn and counted, unless fault detection is off: a naive service
 * creates it silently); a database with other tables but no `tasks` is refused as not ours. */
static int ensure_schema(struct store *s, int created, struct store_error *err)
{
    sqlite3 *db = s->w.db;
    int64_t has_tasks = 0, tables = 0;
    int rc =
        query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tasks'",
                  &has_tasks);
    if (rc == SQLITE_OK && !has_tasks)
        rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
    if (rc != SQLITE_OK)
        return store_sqlite_error(db, rc, err);
    if (!has_tasks && tables > 0) {
        store_file_error(err, DB_FILE_NOT_A_DB, 0);
        snprintf(err->message, sizeof(err->message),
                 "the file is a SQLite database without a tasks table, not a taskd database; "
                 "check --db");
        return STORE_UNAVAILABLE;
    }
    rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_error(db, rc, err);
    if (!has_tasks && !s->cfg.no_fault_detection) {
        atomic_fetch_add(&s->created, 1);
        struct log_entry e;
        if (log_begin(&e, LOG_WARN, "created a new empty database") == 0) {
            jw_member_string(&e.w, "db_path", s->path);
            jw_key(&e.w, "reason");
            jw_string(&e.w,
                      created ? "no file existed at the path" : "the file at the path was empty");
            log_end(&e);
        }
    }
    return STORE_OK;
}

void store_close_locked(struct store *s)
{
    atomic_store(&s->available, 0);
    s->read_open = 0; /* closing rolls the read transaction back */
    conn_close(&s->r);
    conn_close(&s->w);
    s->open = 0;
    s->db_id.known = 0;
    s->wal_id.known = 0;
}

/* Why SQLite could not open a file that stat() sees: a read-only file system or permissions
 * (it needs to create the -wal and -shm files beside it), or the file vanished meanwhile. */
static enum db_file_state cannot_open_state(const char *path, int sys_errno)
{
    struct statvfs vfs;
    int sys;
    enum db_file_state state = db_file_inspect(path, NULL, &sys);
    if (state != DB_FILE_OK)
        return state;
    if (db_file_free_inodes(path) == 0) /* whatever errno SQLite kept: it could not create */
        return DB_FILE_NO_INODES;
    if (sys_errno == EROFS || sys_errno == EACCES || sys_errno == EPERM ||
        (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) || access(path, W_OK) < 0)
        return DB_FILE_READONLY;
    return DB_FILE_OK;
}

/* Files that SQLite leaves beside a database it had open: a missing database with any of them
 * beside it existed until recently (deleted, or moved without them), so creating an empty one
 * there would hide the loss, and SQLite would discard the leftover -wal, the last copy of the
 * transactions it still held. Fills `err` and returns 1 when one is there. */
static int earlier_database_left_files(const struct store *s, struct store_error *err)
{
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char leftover[4200];
        struct stat st;
        snprintf(leftover, sizeof(leftover), "%s%s", s->path, suffixes[i]);
        if (lstat(leftover, &st) < 0)
            continue;
        store_file_error(err, DB_FILE_MISSING, ENOENT);
        snprintf(err->message, sizeof(err->message),
                 "the file does not exist but its %s file is still there: a database existed "
                 "here; restore it, or remove the leftover %s file to start with an empty one",
                 suffixes[i], suffixes[i]);
        return 1;
    }
    return 0;
}

/* The -shm beside the -wal (SQLite's wal-index). */
static void shm_path_of(const struct store *s, char *out, size_t len)
{
    snprintf(out, len, "%.*s-shm", (int)(strlen(s->wal_path) - 4), s->wal_path);
}

/* After a commit that failed with an I/O error, cuts the -wal back to what was acknowledged,
 * so that recovery cannot replay the failed transaction (its frames may have reached the disk
 * although the write or sync reported an error). Only frames of the same generation are cut:
 * a shorter -wal was reset meanwhile and is left alone. The -shm goes too: its index counts
 * the frames cut, and SQLite rebuilds it from the -wal at the next open. Returns 0, or -1 with
 * errno when the cut could not be made (a read-only file system): it stays pending, and the
 * -wal must not be opened meanwhile. Connections closed. */
static int trim_failed_commit(struct store *s)
{
    int64_t keep = s->acked_wal_bytes;
    struct stat st;
    if (!s->wal_trim_pending || keep <= 0 || stat(s->wal_path, &st) < 0 || st.st_size <= keep) {
        s->wal_trim_pending = 0;
        return 0;
    }
    struct log_entry e;
    int cut = truncate(s->wal_path, keep) == 0;
    int cut_errno = cut ? 0 : errno;
    if (cut)
        s->wal_trim_pending = 0;
    if (cut) { /* its index would still count the frames cut: SQLite rebuilds it from the -wal */
        char shm[4200];
        shm_path_of(s, shm, sizeof(shm));
        unlink(shm);
    }
    if (log_begin(&e, cut ? LOG_WARN : LOG_ERROR, "-wal cut back after a failed commit") == 0) {
        jw_member_string(&e.w, "db_path", s->path);
        jw_member_int(&e.w, "wal_bytes", (int64_t)st.st_size);
        jw_member_int(&e.w, "kept_bytes", keep);
        jw_member_int(&e.w, "errno", cut_errno);
        log_end(&e);
    }
    errno = cut_errno;
    return cut ? 0 : -1;
}

/* A torn frame past the last commit that the -shm's index recorded is the transaction the
 * previous process was writing when it died: it never committed, so nothing acknowledged goes
 * with it (a kill between SQLite's two writes of a frame leaves one). Says so in a warn line and
 * returns 1; returns 0 when the index does not vouch for it (a power cut, a -wal cut by hand). */
static int torn_by_a_crash(const struct store *s, const struct wal_file_scan *w)
{
    char shm[4200];
    uint64_t indexed;
    shm_path_of(s, shm, sizeof(shm));
    if (wal_file_index_commit_frame(shm, w, &indexed) != 1 || indexed != w->last_commit_frame)
        return 0;
    struct log_entry e;
    if (log_begin(&e, LOG_WARN,
                  "the -wal ends in a transaction the previous process never "
                  "committed") == 0) {
        jw_member_string(&e.w, "db_path", s->path);
        jw_member_int(&e.w, "torn_offset", (int64_t)w->torn_offset);
        jw_member_int(&e.w, "kept_bytes", (int64_t)w->commit_end);
        jw_member_string(&e.w, "reason",
                         "a frame cut short past the last commit the -shm recorded: the process "
                         "died while writing it, before its commit; SQLite drops it");
        log_end(&e);
    }
    return 1;
}

/* Reads the -wal before SQLite replays it, which it would do silently: a torn frame inside the
 * last transaction (cut by a power loss; it may have been acknowledged) is refused as
 * corrupt, with the byte count to cut it to for an operator who accepts the loss; a -wal built
 * on another state of the file (a backup restored beside it) is refused as stale: see
 * stamp_commit() for the counter that tells. Sets epoch_due when the -wal holds no frame (the
 * next commit starts a generation). Returns STORE_OK, or STORE_UNAVAILABLE with `err`. Caller
 * holds both locks, connections closed. */
static int check_wal(struct store *s, struct store_error *err)
{
    struct wal_file_scan w;
    if (trim_failed_commit(s) < 0) {
        store_file_error(err, errno == EROFS ? DB_FILE_READONLY : DB_FILE_IO_ERROR, errno);
        snprintf(err->message, sizeof(err->message),
                 "the -wal still holds a transaction whose commit failed (answered 503) and "
                 "cannot be cut back to the last acknowledged commit (%s); taskd does not open "
                 "it, or SQLite would replay that transaction",
                 strerror(err->sys_errno));
        return STORE_UNAVAILABLE;
    }
    if (wal_file_scan_path(s->wal_path, &w) < 0)
        return STORE_OK; /* unreadable: SQLite will say what is wrong */
    s->epoch_due = w.frames == 0;
    s->acked_wal_bytes = (int64_t)w.commit_end; /* what SQLite's recovery keeps */
    if (w.torn && torn_by_a_crash(s, &w))
        w.torn = 0; /* SQLite drops it, and nothing acknowledged with it */
    if (w.torn) {
        store_file_error(err, DB_FILE_CORRUPT, 0);
        err->sqlite_code = SQLITE_CORRUPT;
        metrics_db_error(SQLITE_CORRUPT);
        snprintf(err->message, sizeof(err->message),
                 "the -wal ends in a torn frame at byte %llu (a write cut short by a crash or "
                 "power loss): SQLite would silently drop its transaction, which may have been "
                 "acknowledged; restore the -wal, or truncate it to %llu bytes to accept the loss",
                 (unsigned long long)w.torn_offset, (unsigned long long)w.commit_end);
        return STORE_UNAVAILABLE;
    }
    uint32_t file_count, unused;
    if (w.has_page1 && w.page1_user_version &&
        db_file_header_epoch(s->path, &file_count, &unused) == 0 &&
        (file_count < w.page1_application_id || file_count > w.page1_user_version)) {
        store_file_error(err, DB_FILE_STALE_WAL, 0);
        err->sqlite_code = SQLITE_CORRUPT;
        metrics_db_error(SQLITE_CORRUPT);
        snprintf(err->message, sizeof(err->message),
                 "the -wal holds commits %u to %u, built on commit %u, but the file is at commit "
                 "%u: %s",
                 w.page1_application_id + 1, w.page1_user_version, w.page1_application_id,
                 file_count, db_file_state_advice(DB_FILE_STALE_WAL));
        return STORE_UNAVAILABLE;
    }
    return STORE_OK;
}

/* A file whose commit count (see stamp_commit) is below the highest one this process saw
 * committed lacks acknowledged writes: an older copy put in place while serving. Otherwise
 * raises the mark to the file's count. Returns STORE_OK or STORE_UNAVAILABLE with `err`. */
static int check_not_older(struct store *s, struct store_error *err)
{
    int64_t count = 0;
    int rc = query_int(s->w.db, "PRAGMA user_version", &count);
    if (rc != SQLITE_OK)
        return store_sqlite_error(s->w.db, rc, err);
    if (s->commit_count_known && (uint32_t)count < s->commit_count) {
        store_file_error(err, DB_FILE_OLDER_COPY, 0);
        snprintf(err->message, sizeof(err->message),
                 "the file is at commit %u but taskd already acknowledged commit %u: %s",
                 (unsigned)count, s->commit_count, db_file_state_advice(DB_FILE_OLDER_COPY));
        return STORE_UNAVAILABLE;
    }
    s->commit_count = (uint32_t)count;
    s->commit_count_known = 1;
    return STORE_OK;
}

/* Opens both connections. Caller holds both locks. Returns a store status and fills `err`.
 * With `allow_create`, a missing file becomes an empty database, unless an earlier database
 * left files beside it (without fault detection even then, as a naive service would). */
int store_connect_locked(struct store *s, int allow_create, struct store_error *err)
{
    uint64_t t0 = clock_monotonic_ns();
    int sys_errno;
    enum db_file_state state = db_file_inspect(s->path, NULL, &sys_errno);
    int created = 0;
    /* A leftover -wal says why the file must not be created, at start and at every later
     * check alike (the monitor's reconnects never create, but keep the same explanation). */
    if (state == DB_FILE_MISSING && !s->cfg.no_fault_detection &&
        earlier_database_left_files(s, err))
        return STORE_UNAVAILABLE; /* err says which file was left */
    if (state == DB_FILE_MISSING && allow_create)
        created = 1;
    else if (state != DB_FILE_OK) {
        store_file_error(err, state, sys_errno);
        return STORE_UNAVAILABLE;
    }
    if (!s->cfg.no_fault_detection && !created && check_wal(s, err) != STORE_OK)
        return STORE_UNAVAILABLE;
    if (created)
        s->epoch_due = 1;
    int flags = SQLITE_OPEN_READWRITE | (created ? SQLITE_OPEN_CREATE : 0);
    int rc = conn_open(s, &s->w, flags, 0);
    if (rc != SQLITE_OK) {
        int status = store_sqlite_error(s->w.db, rc, err);
        if ((rc & 0xFF) == SQLITE_CANTOPEN) {
            err->file_state = cannot_open_state(s->path, err->sys_errno);
            if (err->file_state != DB_FILE_OK)
                snprintf(err->message, sizeof(err->message), "SQLite cannot open it: %s",
                         db_file_state_advice(err->file_state));
        }
        store_close_locked(s);
        return status;
    }
    int status = STORE_UNAVAILABLE;
    /* SQLite opens a file it may not write read-only, without an error: refuse such a
     * connection, or every write would fail on it even after the file became writable. */
    if (!s->cfg.no_fault_detection && sqlite3_db_readonly(s->w.db, "main") == 1) {
        store_file_error(err, DB_FILE_READONLY, 0);
        snprintf(err->message, sizeof(err->message), "SQLite could open it only read-only: %s",
                 db_file_state_advice(DB_FILE_READONLY));
        goto fail;
    }
    status = ensure_schema(s, created, err);
    if (status == STORE_OK && !s->cfg.no_fault_detection)
        status = check_not_older(s, err);
    if (status != STORE_OK)
        goto fail;
    rc = conn_prepare(&s->w, 1);
    if (rc == SQLITE_OK)
        rc = conn_open(s, &s->r, SQLITE_OPEN_READWRITE, s->cfg.mmap_size > 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->r.db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = conn_prepare(&s->r, 0);
    if (rc == SQLITE_OK)
        sqlite3_wal_hook(s->w.db, store_wal_hook, s);
    int64_t tasks = 0;
    if (rc == SQLITE_OK)
        rc = query_int(s->w.db, "SELECT count(*) FROM tasks", &tasks);
    if (rc != SQLITE_OK) {
        status = store_sqlite_error(s->r.db ? s->r.db : s->w.db, rc, err);
        goto fail;
    }
    db_file_identify(s->path, &s->db_id);
    db_file_identify(s->wal_path, &s->wal_id);
    int64_t page_size = 0;
    query_int(s->w.db, "PRAGMA page_size", &page_size);
    s->page_size = (int)page_size;
    atomic_store(&s->tasks, tasks);
    s->open = 1;
    s->reader_poisoned = 0;
    s->reader_mapped = 0;
    atomic_store(&s->reads_mapped, 0);
    s->read_commits = atomic_load(&s->commits);
    s->unchanged_since_ns = clock_monotonic_ns();
    atomic_store(&s->available, 1);
    atomic_store(&s->reopen_wanted, 0);
    metrics_db_query(DB_OP_OPEN, clock_monotonic_ns() - t0);
    return STORE_OK;
fail:
    /* The -wal and -shm are opened after the database, by the first statement: a failure to
     * create them is a CANTOPEN here, and says as much about the file system as one at open. */
    if ((err->sqlite_code & 0xFF) == SQLITE_CANTOPEN && err->file_state == DB_FILE_OK) {
        err->file_state = cannot_open_state(s->path, err->sys_errno);
        if (err->file_state != DB_FILE_OK)
            snprintf(err->message, sizeof(err->message), "SQLite cannot open it: %s",
                     db_file_state_advice(err->file_state));
    }
    store_close_locked(s);
    return status;
}

static void lock_both(struct store *s)
{
    pthread_mutex_lock(&s->write_lock);
    pthread_mutex_lock(&s->read_lock);
}

static void unlock_both(struct store *s)
{
    pthread_mutex_unlock(&s->read_lock);
    pthread_mutex_unlock(&s->write_lock);
}

/* ---- transactions (the writer thread and the monitor use these) ------------------------ */

/* The file at the path must still be the one SQLite has open, and so must its -wal: otherwise
 * a commit would land in an orphaned inode and be lost. Caller holds the write lock. */
static int verify_identity(struct store *s, struct store_error *err)
{
    int sys_errno;
    if (!file_still_open_one(s, err))
        return -1;
    if (s->wal_id.known && db_file_inspect(s->wal_path, &s->wal_id, &sys_errno) != DB_FILE_OK) {
        store_file_error(err, DB_FILE_OK, sys_errno);
        snprintf(err->message, sizeof(err->message),
                 "the -wal file beside the database was deleted or replaced; taskd checkpoints "
                 "and reopens the database");
        return -1;
    }
    return 0;
}

static int usable(struct store *s, struct store_error *err)
{
    if (s->open)
        return 1;
    copy_fault(s, err);
    return 0;
}

int store_step_done(sqlite3_stmt *stmt);

/* Ends the reader's read transaction. Caller holds read_lock. */
void store_reader_end(struct store *s)
{
    if (s->read_open && !s->reader_poisoned && !sqlite3_get_autocommit(s->r.db))
        store_step_done(s->r.commit);
    s->read_open = 0;
}

/* Maps the file for the reader, or stops (PRAGMA mmap_size). Caller holds read_lock, outside a
 * read transaction. A failure leaves the reader as it was. */
static void reader_map(struct store *s, int on)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA mmap_size = %llu",
             on ? (unsigned long long)s->cfg.mmap_size : 0ull);
    if (sqlite3_exec(s->r.db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return;
    s->reader_mapped = on;
    atomic_store(&s->reads_mapped, on);
}

/* SQLite drops the reader's memory map whenever the database changed (at the first read after
 * any commit), and mapping the pages again costs a page fault each, more than the pread(2) it
 * saves: a mix of 80 % GETs and 20 % POSTs took 50-62 us of CPU per request with the reader
 * mapped, 31 us without (1,000 tasks; 160 vs 40 us at three million). So the reader maps the
 * file only once it has not changed for READER_MAP_QUIET_NS, and stops at the first change:
 * reads of a file that is not being written go through the map, reads between writes use
 * pread. `changed`: a commit happened since the last snapshot. Caller holds read_lock, outside
 * a read transaction. */
static void reader_adjust_map(struct store *s, int changed, uint64_t now)
{
    if (!s->cfg.mmap_size)
        return;
    if (changed) {
        s->unchanged_since_ns = now;
        if (s->reader_mapped)
            reader_map(s, 0);
    } else if (!s->reader_mapped && now - s->unchanged_since_ns >= READER_MAP_QUIET_NS) {
        reader_map(s, 1);
    }
}

/* Makes sure the reader is in a read transaction that has seen every commit of ours. A new
 * snapshot first checks that the file at the path is still the one open (one stat(2)), so reads
 * fail closed too instead of serving a deleted file until the monitor's next check. Returns 0,
 * or -1 with `err` (the store is then marked down and the monitor woken). `now` is the
 * monotonic clock at the call. Caller holds read_lock and has checked usable(). */
static int reader_begin(struct store *s, uint64_t now, struct store_error *err)
{
    uint64_t commits = atomic_load_explicit(&s->commits, memory_order_acquire);
    int changed = commits != s->read_commits;
    if (s->read_open && (changed || now - s->read_started_ns > READ_SNAPSHOT_MAX_NS))
        store_reader_end(s);
    if (s->read_open)
        return 0;
    if (!s->cfg.no_fault_detection && !file_still_open_one(s, err)) {
        store_mark_down(s, err);
        wake_monitor(s);
        return -1;
    }
    reader_adjust_map(s, changed, now);
    s->read_commits = commits;
    if (store_step_done(s->r.begin) == SQLITE_OK) {
        s->read_open = 1;
        s->read_started_ns = now;
    }
    return 0;
}

int store_step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void store_rollback_if_open(struct store *s)
{
    if (!sqlite3_get_autocommit(s->w.db))
        store_step_done(s->w.rollback);
}

/* Every commit counts itself in the database header's user_version, and the first commit of a
 * -wal generation also writes there, as application_id, the count the file had when it began
 * (a generation begins only after a checkpoint copied every frame, so the file itself holds
 * that count). The -wal's last frame of page 1 then says which counts it holds (application_id
 * + 1 .. user_version) and on which it was built: any state of the file in [built on, last] is
 * one the -wal may be replayed on (a checkpoint may have copied part of it), any other is
 * another state, e.g. a backup restored beside it. One small page write per commit (page 1);
 * a failure here fails the commit like any other. Caller holds the write lock, in the
 * transaction. */
static int stamp_commit(struct store *s)
{
    char sql[96];
    uint32_t next = s->commit_count + 1;
    if (s->epoch_due)
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 (int32_t)s->commit_count, (int32_t)next);
    else
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", (int32_t)next);
    return sqlite3_exec(s->w.db, sql, NULL, NULL, NULL);
}

/* Commits the open transaction after checking the file's identity. Caller holds the write lock.
 * On any failure the transaction is rolled back and nothing was acknowledged. */
int store_commit(struct store *s, struct store_error *err)
{
    if (!s->cfg.no_fault_detection && verify_identity(s, err) < 0) {
        store_rollback_if_open(s);
        store_mark_down(s, err);
        wake_monitor(s);
        return STORE_UNAVAILABLE;
    }
    int rc = s->cfg.no_fault_detection ? SQLITE_OK : stamp_commit(s);
    if (rc == SQLITE_OK)
        rc = store_step_done(s->w.commit);
    if (rc != SQLITE_OK) {
        if ((rc & 0xFF) == SQLITE_IOERR && !s->cfg.no_fault_detection)
            s->wal_trim_pending = 1;
        int status = store_sqlite_failure(s, s->w.db, rc, err);
        store_rollback_if_open(s);
        return status;
    }
    atomic_fetch_add_explicit(&s->commits, 1, memory_order_release); /* readers re-snapshot */
    if (!s->cfg.no_fault_detection) {
        s->commit_count++;
        s->epoch_due = 0;
    }
    store_mark_up(s);
    return STORE_OK;
}

int store_begin(struct store *s, struct store_error *err)
{
    if (!usable(s, err))
        return STORE_UNAVAILABLE;
    if (atomic_load(&s->sync_failed) && !store_on_monitor_thread) {
        copy_fault(s, err);
        return STORE_UNAVAILABLE;
    }
    int rc = store_step_done(s->w.begin);
    return rc == SQLITE_OK ? STORE_OK : store_sqlite_failure(s, s->w.db, rc, err);
}

void store_now(char out[CLOCK_RFC3339_LEN])
{
    clock_format_rfc3339(clock_realtime_ns(), out);
}

/* Copies a text column into out[size], cut to fit and NUL-terminated ("" for NULL). */
static void copy_column(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    size_t n = text ? (size_t)sqlite3_column_bytes(stmt, column) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(out, text, n);
    out[n] = '\0';
}

static void row_to_task(sqlite3_stmt *stmt, struct task *t)
{
    t->id = sqlite3_column_int64(stmt, 0);
    const unsigned char *text = sqlite3_column_text(stmt, 1);
    size_t n = (size_t)sqlite3_column_bytes(stmt, 1);
    if (n > TASK_TEXT_MAX_BYTES)
        n = TASK_TEXT_MAX_BYTES;
    if (text)
        memcpy(t->text, text, n);
    t->text[n] = '\0';
    t->text_len = n;
    t->done = sqlite3_column_int(stmt, 2) != 0;
    copy_column(stmt, 3, t->created_at, sizeof(t->created_at));
    copy_column(stmt, 4, t->updated_at, sizeof(t->updated_at));
}

/* Reads one task by id on connection `c`. Returns a SQLite code; SQLITE_DONE when absent. */
int store_read_task(struct conn *c, int64_t id, struct task *out)
{
    sqlite3_bind_int64(c->get, 1, id);
    int rc = sqlite3_step(c->get);
    if (rc == SQLITE_ROW) {
        row_to_task(c->get, out);
        rc = SQLITE_OK;
    }
    sqlite3_reset(c->get);
    return rc;
}

/* ---- the read path --------------------------------------------------------------------- */

/* Takes read_lock with the reader in a snapshot that has seen all our commits. Returns 0 with
 * the lock held, or -1 with `err` saying why the store is down (lock not held). Checks the
 * lock-free `available` first, so a read never waits behind a reconnect. The caller brackets
 * it and its statement with mapped_read_begin/_end. */
static int reader_acquire(struct store *s, uint64_t now, struct store_error *err)
{
    if (atomic_load(&s->available)) {
        pthread_mutex_lock(&s->read_lock);
        if (s->open && !s->reader_poisoned) {
            if (reader_begin(s, now, err) == 0)
                return 0;
            pthread_mutex_unlock(&s->read_lock);
            return -1;
        }
        pthread_mutex_unlock(&s->read_lock);
    }
    copy_fault(s, err);
    return -1;
}

int store_task_get(struct store *s, int64_t id, struct task *out, struct store_error *err)
{
    uint64_t t0 = clock_monotonic_ns();
    mapped_read_begin();
    if (reader_acquire(s, t0, err) < 0) {
        mapped_read_end();
        return STORE_UNAVAILABLE;
    }
    int status, rc = store_read_task(&s->r, id, out);
    if (mapped_read_end()) {
        status = mapped_read_failure(s, err);
    } else if (rc == SQLITE_OK) {
        status = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        status = STORE_NOT_FOUND;
    } else {
        store_reader_end(s);
        status = store_sqlite_failure(s, s->r.db, rc, err);
    }
    pthread_mutex_unlock(&s->read_lock);
    metrics_db_query(DB_OP_GET, clock_monotonic_ns() - t0);
    return status;
}

int store_task_list(struct store *s, int64_t after, int limit,
                    void (*row)(const struct task *t, void *ctx), void *ctx, int *more,
                    struct store_error *err)
{
    uint64_t t0 = clock_monotonic_ns();
    int status;
    *more = 0;
    mapped_read_begin();
    if (reader_acquire(s, t0, err) < 0) {
        mapped_read_end();
        return STORE_UNAVAILABLE;
    }
    sqlite3_stmt *stmt = s->r.list;
    sqlite3_bind_int64(stmt, 1, after);
    sqlite3_bind_int(stmt, 2, limit + 1); /* one more row tells whether a next page exists */
    int rc, rows = 0;
    struct task t;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (rows++ == limit) {
            *more = 1;
            break;
        }
        row_to_task(stmt, &t);
        row(&t, ctx);
    }
    sqlite3_reset(stmt);
    if (mapped_read_end()) {
        status = mapped_read_failure(s, err);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        status = STORE_OK;
    } else {
        store_reader_end(s);
        status = store_sqlite_failure(s, s->r.db, rc, err);
    }
    pthread_mutex_unlock(&s->read_lock);
    metrics_db_query(DB_OP_LIST, clock_monotonic_ns() - t0);
    return status;
}

/* ---- health, as /readyz and /metrics see it ---------------------------------------------- */

/* Readiness as a naive service has it: the open connection answers `SELECT 1`, which reads
 * no page of the file, so it holds whatever happened to the file. */
static int naive_ready(struct store *s, struct store_error *err)
{
    int ready = 0;
    pthread_mutex_lock(&s->read_lock);
    if (!s->open) {
        copy_fault(s, err);
    } else {
        int rc = sqlite3_exec(s->r.db, "SELECT 1", NULL, NULL, NULL);
        ready = rc == SQLITE_OK;
        if (!ready)
            store_sqlite_error(s->r.db, rc, err);
    }
    pthread_mutex_unlock(&s->read_lock);
    return ready;
}

int store_ready(struct store *s, struct store_error *err)
{
    if (s->cfg.no_fault_detection)
        return naive_ready(s, err);
    if (atomic_load(&s->up))
        return 1;
    copy_fault(s, err);
    return 0;
}

void store_gauges(struct store *s, struct db_gauges *out)
{
    out->up = atomic_load(&s->up);
    out->file_state = atomic_load(&s->file_state);
    out->tasks = atomic_load(&s->tasks);
    out->free_bytes = atomic_load(&s->free_bytes);
    out->free_inodes = atomic_load(&s->free_inodes);
    out->created_total = atomic_load(&s->created);
    out->cache_limit = (int64_t)s->cfg.cache_size;
    out->cache_used_writer = atomic_load(&s->cache_used[0]);
    out->cache_used_reader = atomic_load(&s->cache_used[1]);
    out->mmap_size = atomic_load(&s->mmap_size);
    out->reads_mapped = atomic_load(&s->reads_mapped);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

/* SQLite's VFS diagnostics, e.g. "os_unix.c:37285: (5) fsync(/data/tasks.db-wal) - ...":
 * logged at debug, and the "(errno)" kept for the error being reported on this thread. */
static void sqlite_log(void *arg, int code, const char *msg)
{
    (void)arg;
    const char *open_paren = msg ? strstr(msg, ": (") : NULL;
    if (open_paren) {
        char *end;
        long e = strtol(open_paren + 3, &end, 10);
        if (*end == ')' && e > 0 && e < 4096)
            vfs_errno = (int)e;
    }
    struct log_entry e;
    if (log_begin(&e, LOG_DEBUG, "sqlite diagnostic") < 0)
        return;
    jw_member_int(&e.w, "sqlite_code", code);
    jw_member_string(&e.w, "sqlite_msg", msg);
    log_end(&e);
}

/* The directory that holds the database must exist; create it when creating is allowed. */
static void ensure_parent_dir(const char *path, int allow_create)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || !allow_create)
        return;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return;
    memcpy(dir, path, n);
    dir[n] = '\0';
    struct stat st;
    if (stat(dir, &st) == 0 || mkdir(dir, 0755) < 0)
        return;
    struct log_entry e;
    if (log_begin(&e, LOG_WARN, "created the database directory") == 0) {
        jw_member_string(&e.w, "dir", dir);
        log_end(&e);
    }
}

int store_open(struct store **out, const struct store_config *cfg, struct store_error *err)
{
    *out = NULL;
    memset(err, 0, sizeof(*err));
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->cfg = *cfg;
    s->path = strdup(cfg->path);
    size_t n = strlen(cfg->path) + 5;
    s->wal_path = malloc(n);
    if (!s->path || !s->wal_path) {
        free(s->path);
        free(s->wal_path);
        free(s);
        return -1;
    }
    snprintf(s->wal_path, n, "%s-wal", cfg->path);
    s->cfg.path = s->path;
    /* VFS diagnostics such as "(21) open(…) - Is a directory"; only effective before SQLite
     * initialises, so a second store in the same process keeps the first registration. */
    sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
    /* No global allocation statistics: they take a process-wide mutex on every malloc. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_mutex_init(&s->read_lock, NULL);
    pthread_mutex_init(&s->fault_lock, NULL);
    pthread_mutex_init(&s->monitor_lock, NULL);
    pthread_mutex_init(&s->queue_lock, NULL);
    pthread_cond_init(&s->queue_cond, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->monitor_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (s->cfg.mmap_size > 0 && mapped_read_install() < 0) {
        struct log_entry e;
        if (log_begin(&e, LOG_WARN, "cannot guard memory-mapped reads; reads do not map") == 0) {
            jw_member_int(&e.w, "errno", errno);
            log_end(&e);
        }
        s->cfg.mmap_size = 0;
    }
    ensure_parent_dir(s->path, cfg->allow_create);
    atomic_init(&s->tasks, -1); /* unknown until a connection has counted the rows */
    atomic_init(&s->free_bytes, db_file_free_bytes(s->path));
    atomic_init(&s->free_inodes, db_file_free_inodes(s->path));
    lock_both(s);
    int opened = store_connect_locked(s, cfg->allow_create, err) == STORE_OK;
    if (opened)
        store_mark_up(s);
    else
        store_mark_down(s, err);
    unlock_both(s);
    if (pthread_create(&s->monitor, NULL, store_monitor_main, s) == 0)
        s->monitor_started = 1;
    if (pthread_create(&s->writer, NULL, store_writer_main, s) != 0) {
        store_close(s);
        return -1;
    }
    s->writer_started = 1;
    *out = s;
    return opened ? 0 : 1;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->writer_started) { /* runs what is still queued, then exits */
        pthread_mutex_lock(&s->queue_lock);
        s->writer_stopping = 1;
        pthread_cond_signal(&s->queue_cond);
        pthread_mutex_unlock(&s->queue_lock);
        pthread_join(s->writer, NULL);
    }
    if (s->monitor_started) {
        pthread_mutex_lock(&s->monitor_lock);
        s->stopping = 1;
        pthread_cond_signal(&s->monitor_cond);
        pthread_mutex_unlock(&s->monitor_lock);
        pthread_join(s->monitor, NULL);
    }
    lock_both(s);
    store_close_locked(s);
    unlock_both(s);
    pthread_mutex_destroy(&s->write_lock);
    pthread_mutex_destroy(&s->read_lock);
    pthread_mutex_destroy(&s->fault_lock);
    pthread_mutex_destroy(&s->monitor_lock);
    pthread_cond_destroy(&s->monitor_cond);
    pthread_mutex_destroy(&s->queue_lock);
    pthread_cond_destroy(&s->queue_cond);
    free(s->path);
    free(s->wal_path);
    free(s);
}
