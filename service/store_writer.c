/*
 * store_writer: the store's writer thread. HTTP threads queue writes (store_write_submit); the
 * writer takes everything queued, up to WRITE_BATCH_MAX, runs it as one transaction and calls
 * each write's done() only after COMMIT returned (or failed: then none of the batch counts).
 * Between batches it checkpoints the WAL, so the checkpoint's fsyncs never delay an answer.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

#include "metrics.h"
#include "store_internal.h"
#include "sched_batch.h"
#include "wal_file.h"

#define WRITE_BATCH_MAX 128 /* writes per transaction at most */
/* A checkpoint runs once the WAL holds this many frames (SQLite's own default). */
#define CHECKPOINT_FRAMES 1000

/* SQLite's WAL hook: called on the writer's connection after each commit. */
int store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    struct store *s = arg;
    s->wal_frames = frames;
    s->acked_wal_bytes = WAL_FILE_HEADER + (int64_t)frames * (WAL_FILE_FRAME_HEADER + s->page_size);
    return SQLITE_OK;
}

/* Runs one write inside the open transaction. Returns STORE_OK or STORE_NOT_FOUND, or a
 * failure (with `err`) that aborts the whole transaction. Caller holds the write lock. */
static int apply_write(struct store *s, struct store_write *w, const char *now,
                       struct store_error *err)
{
    const struct task_input *in = &w->input;
    sqlite3_stmt *stmt;
    int rc;
    switch (w->kind) {
    case STORE_WRITE_CREATE:
        stmt = s->w.insert;
        sqlite3_bind_text(stmt, 1, in->text, (int)in->text_len, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 2, in->done);
        sqlite3_bind_text(stmt, 3, now, -1, SQLITE_STATIC);
        rc = store_step_done(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_OK)
            return store_sqlite_failure(s, s->w.db, rc, err);
        w->task.id = sqlite3_last_insert_rowid(s->w.db);
        w->task.done = in->done;
        w->task.text_len = in->text_len;
        memcpy(w->task.text, in->text, in->text_len + 1);
        memcpy(w->task.created_at, now, CLOCK_RFC3339_LEN);
        memcpy(w->task.updated_at, now, CLOCK_RFC3339_LEN);
        return STORE_OK;
    case STORE_WRITE_UPDATE:
        stmt = s->w.update;
        sqlite3_bind_int64(stmt, 1, w->id);
        if (in->has_text)
            sqlite3_bind_text(stmt, 2, in->text, (int)in->text_len, SQLITE_STATIC);
        if (in->has_done)
            sqlite3_bind_int(stmt, 3, in->done);
        sqlite3_bind_text(stmt, 4, now, -1, SQLITE_STATIC);
        rc = store_step_done(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc == SQLITE_OK && sqlite3_changes(s->w.db) == 0)
            return STORE_NOT_FOUND;
        if (rc == SQLITE_OK)
            rc = store_read_task(&s->w, w->id, &w->task);
        return rc == SQLITE_OK ? STORE_OK : store_sqlite_failure(s, s->w.db, rc, err);
    case STORE_WRITE_DELETE:
        sqlite3_bind_int64(s->w.del, 1, w->id);
        rc = store_step_done(s->w.del);
        if (rc != SQLITE_OK)
            return store_sqlite_failure(s, s->w.db, rc, err);
        return sqlite3_changes(s->w.db) ? STORE_OK : STORE_NOT_FOUND;
    }
    return STORE_FAILED;
}

static const enum db_op write_ops[] = {
    [STORE_WRITE_CREATE] = DB_OP_CREATE,
    [STORE_WRITE_UPDATE] = DB_OP_UPDATE,
    [STORE_WRITE_DELETE] = DB_OP_DELETE,
};

/* How long the batch may wait for a lock held elsewhere: what is left of --busy-timeout for its
 * oldest write. Counting from submission rather than from BEGIN keeps a write that queued behind
 * a batch already waiting out a lock from waiting a second full timeout before its 503. */
static int batch_busy_timeout_ms(const struct store *s, const struct store_write *oldest,
                                 uint64_t now_ns)
{
    uint64_t limit_ns = (uint64_t)s->cfg.busy_timeout_ms * 1000000u;
    uint64_t waited_ns = now_ns > oldest->submitted_ns ? now_ns - oldest->submitted_ns : 0;
    return waited_ns >= limit_ns ? 0 : (int)((limit_ns - waited_ns) / 1000000u);
}

/* One transaction for a whole batch: every write in it commits, or none does. */
static void run_batch(struct store *s, struct store_write *batch)
{
    uint64_t t0 = clock_monotonic_ns();
    struct store_error err;
    char now[CLOCK_RFC3339_LEN];
    store_now(now);
    pthread_mutex_lock(&s->write_lock);
    if (s->open)
        sqlite3_busy_timeout(s->w.db, batch_busy_timeout_ms(s, batch, clock_monotonic_ns()));
    int status = store_begin(s, &err);
    for (struct store_write *w = batch; w && status == STORE_OK; w = w->next) {
        w->status = apply_write(s, w, now, &err);
        if (w->status < 0)
            status = w->status;
    }
    if (status == STORE_OK)
        status = store_commit(s, &err);
    else if (s->open)
        store_rollback_if_open(s);
    if (s->open)
        sqlite3_busy_timeout(s->w.db, (int)s->cfg.busy_timeout_ms);
    pthread_mutex_unlock(&s->write_lock);

    uint64_t elapsed = clock_monotonic_ns() - t0;
    unsigned writes = 0;
    for (struct store_write *w = batch; w; w = w->next, writes++) {
        if (status != STORE_OK) {
            w->status = status;
            w->err = err;
        } else if (w->status == STORE_OK && w->kind != STORE_WRITE_UPDATE) {
            atomic_fetch_add(&s->tasks, w->kind == STORE_WRITE_CREATE ? 1 : -1);
        }
        metrics_db_query(write_ops[w->kind], elapsed);
    }
    metrics_db_batch(writes);
}

void store_write_submit(struct store *s, struct store_write *w)
{
    w->next = NULL;
    w->submitted_ns = clock_monotonic_ns();
    pthread_mutex_lock(&s->queue_lock);
    if (s->queue_tail)
        s->queue_tail->next = w;
    else
        s->queue_head = w;
    s->queue_tail = w;
    pthread_cond_signal(&s->queue_cond);
    pthread_mutex_unlock(&s->queue_lock);
}

/* Takes up to WRITE_BATCH_MAX queued writes, waiting for one. NULL once stopping and empty. */
static struct store_write *take_batch(struct store *s)
{
    pthread_mutex_lock(&s->queue_lock);
    while (!s->queue_head && !s->writer_stopping)
        pthread_cond_wait(&s->queue_cond, &s->queue_lock);
    struct store_write *batch = s->queue_head, *last = batch;
    for (int n = 1; last && last->next && n < WRITE_BATCH_MAX; n++)
        last = last->next;
    if (last) {
        s->queue_head = last->next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&s->queue_lock);
    return batch;
}

/* Copies the WAL into the database file once it holds CHECKPOINT_FRAMES frames, on the writer
 * thread between batches: after the batch was acknowledged (its fsyncs delay only the next
 * batch, not answers already due) and before the next write, which can then start the WAL over.
 * A checkpoint run from another thread could never catch up with a busy writer, and the WAL
 * grew without bound (570 MB in 20 s). The reader's snapshot is released first, or the frames
 * after it could not be copied. */
static void checkpoint_if_due(struct store *s)
{
    pthread_mutex_lock(&s->write_lock);
    if (s->open && s->wal_frames >= CHECKPOINT_FRAMES) {
        if (pthread_mutex_trylock(&s->read_lock) == 0) {
            store_reader_end(s);
            pthread_mutex_unlock(&s->read_lock);
        }
        int log = -1, done = -2;
        int rc = sqlite3_wal_checkpoint_v2(s->w.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc == SQLITE_OK && log == done)
            s->epoch_due = 1; /* every frame copied: the next commit restarts the -wal */
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            /* A checkpoint syncs the -wal, then the database: under synchronous=NORMAL it is
             * the only sync, so a failure here means acknowledged writes may not be on disk.
             * Fail closed like a failed commit: down until a probe write and sync succeed. */
            struct store_error err;
            store_sqlite_failure(s, s->w.db, rc, &err);
            store_log_error(LOG_ERROR, "checkpoint failed", s, &err);
        }
        s->wal_frames = 0;
    }
    pthread_mutex_unlock(&s->write_lock);
}

void *store_writer_main(void *arg)
{
    struct store *s = arg;
    sched_batch_self();
    struct store_write *batch;
    while ((batch = take_batch(s)) != NULL) {
        run_batch(s, batch);
        while (batch) { /* done() may free w: read next first */
            struct store_write *next = batch->next;
            batch->done(batch, batch->ctx);
            batch = next;
        }
        checkpoint_if_due(s);
    }
    return NULL;
}
