/*
 * fault_copies: the wrong copy of the database at its path.
 *
 * older-copy: a copy of the live database (SQLite's VACUUM INTO, from chaos's own connection,
 * which reads a consistent snapshot without touching the service's locks) goes stale while
 * writes go on, then takes the database's place while the service serves; the newer database and
 * its -wal are moved aside, as a restore script that copies a backup over the path would leave
 * things.
 *
 * stale-wal: the copy is made, the service is restarted (its clean stop checkpoints the -wal
 * into the file, so the next -wal is built on a newer state than the copy), writes go on, the
 * service is killed, and the copy is put at the path beside that -wal: an operator restoring a
 * backup after a crash without removing the -wal. SQLite would apply the -wal's pages to the copy.
 *
 * Both roll back by putting the newer database (and its -wal) back.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mechanism.h"

static struct {
    int swapped;   /* the copy is at the path, the newer files aside */
    int wal_aside; /* older-copy: the newer -wal was moved aside too */
    char db[600], wal[620], shm[620];
    char copy[620], newer[620], newer_wal[640];
} st;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int copy_live(const char *db, const char *to, char *err, size_t errlen)
{
    unlink(to);
    sqlite3 *h = NULL;
    char sql[700];
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", to); /* chaos's own paths: no quote */
    int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(h, 2000);
        rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "cannot copy %s to %s: %s", db, to,
                 h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int paths(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.db, sizeof(st.db), "%s", c->db);
    snprintf(st.wal, sizeof(st.wal), "%s", c->wal);
    snprintf(st.shm, sizeof(st.shm), "%s", c->shm);
    snprintf(st.copy, sizeof(st.copy), "%s/older.db", c->aside_dir);
    snprintf(st.newer, sizeof(st.newer), "%s/newer.db", c->aside_dir);
    snprintf(st.newer_wal, sizeof(st.newer_wal), "%s/newer.db-wal", c->aside_dir);
    return copy_live(c->db, st.copy, err, errlen);
}

/* The copy into the path, the newer database (and, with_wal, its -wal) aside. */
static int swap_in(int with_wal, char *err, size_t errlen)
{
    if (rename(st.db, st.newer) < 0) {
        snprintf(err, errlen, "cannot move %s aside: %s", st.db, strerror(errno));
        return -1;
    }
    if (with_wal && rename(st.wal, st.newer_wal) == 0)
        st.wal_aside = 1;
    if (rename(st.copy, st.db) < 0) {
        snprintf(err, errlen, "cannot put the copy at %s: %s", st.db, strerror(errno));
        rename(st.newer, st.db);
        return -1;
    }
    st.swapped = 1;
    return 0;
}

/* Undoes swap_in with system calls only (also from a signal handler). */
static int swap_back(void)
{
    if (!st.swapped)
        return 0;
    if (rename(st.db, st.copy) < 0 && errno != ENOENT)
        return -1;
    if (rename(st.newer, st.db) < 0)
        return -1;
    if (st.wal_aside && rename(st.newer_wal, st.wal) == 0)
        st.wal_aside = 0;
    st.swapped = 0;
    return 0;
}

static int checkpoint_truncate(const char *db, char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "cannot checkpoint %s: %s", db,
                 h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int older_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    long after_ms = (long)(mechanism_param_number(c, "after") / 1000000);
    if (paths(c, err, errlen) < 0)
        return -1;
    sleep_ms(after_ms); /* writes the copy will lack */
    if (swap_in(1, err, errlen) < 0)
        return -1;
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "VACUUM INTO %s while the service served; %ld ms of writes later, %s and its "
                  "-wal moved to %s and the copy renamed to %s",
                  st.copy, after_ms, c->db, c->aside_dir, c->db);
    return 0;
}

static int copies_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (swap_back() < 0) {
        snprintf(err, errlen, "cannot put %s back at %s: %s", st.newer, st.db, strerror(errno));
        return -1;
    }
    return 0;
}

static void copies_emergency(void)
{
    swap_back();
}

static void older_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  inject: VACUUM INTO %s/older.db (chaos's own read connection); %s later "
               "rename %s and its -wal to %s/newer.db*, rename the copy to %s\n",
               c->aside_dir, mechanism_param(c, "after"), c->db, c->aside_dir, c->db);
    buf_printf(out, "  rollback: the copy away, newer.db and its -wal back\n");
}

static const struct mechanism_param copy_params[] = {
    {"db", MECHANISM_PARAM_PATH, "{db}", "the SQLite database"},
    {"after", MECHANISM_PARAM_DURATION, "400ms",
     "how long writes go on between the copy and "
     "the swap"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_older_copy = {
    .name = "older-copy",
    .summary = "copy the live database (VACUUM INTO), let writes go on, then put the copy in "
               "its place (the newer file and its -wal aside)",
    .rollback_summary = "move the copy away and the newer database and -wal back",
    .params = copy_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .inject = older_inject,
    .rollback = copies_rollback,
    .emergency = copies_emergency,
    .plan = older_plan,
};

/* The last task id of `db` (its AUTOINCREMENT sequence), or -1: what tells two states of a
 * database under the task mix apart for any service that keeps tasks this way. */
static long long last_task_id(const char *db)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT seq FROM sqlite_sequence WHERE name = 'tasks'", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return n;
}

static int stale_applies(const struct mechanism_ctx *c, char *why, size_t whylen)
{
    return mechanism_wal_present(c->wal, why, whylen);
}

static int stale_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    long after_ms = (long)(mechanism_param_number(c, "after") / 1000000);
    if (paths(c, err, errlen) < 0)
        return -1;
    sleep_ms(after_ms); /* commits the copy lacks, before the restart */
    /* A clean restart: the -wal is checkpointed into the file, the next one builds on it.
     * SQLite's last close usually removes the -wal; chaos makes sure (its own connection, the
     * service stopped), or the next -wal would continue this one and the copy would still be
     * a state it may be replayed on. */
    if (service_runner_stop(c->service, err, errlen) < 0 ||
        checkpoint_truncate(c->db, err, errlen) < 0)
        return -1;
    long long copy_at = last_task_id(st.copy), file_at = last_task_id(c->db);
    if (service_runner_start(c->service, NULL, err, errlen) < 0)
        return -1;
    if (copy_at < 0 || copy_at >= file_at) {
        /* The -wal about to be written would be built on exactly the copy's state, and
         * replaying it onto the copy would be right: no stale -wal to show. */
        snprintf(err, errlen,
                 "no task was created between the copy (last id %lld) and the restart (last id "
                 "%lld) in %ld ms: is the load running?",
                 copy_at, file_at, after_ms);
        return -1;
    }
    sleep_ms(after_ms);
    if (service_runner_kill9(c->service, err, errlen) < 0)
        return -1;
    if (access(c->wal, F_OK) != 0) {
        snprintf(err, errlen, "the service left no -wal at %s to restore beside", c->wal);
        service_runner_start(c->service, NULL, err, errlen);
        return -1;
    }
    if (swap_in(0, err, errlen) < 0) {
        char ignored[200];
        service_runner_start(c->service, NULL, ignored, sizeof(ignored));
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "VACUUM INTO %s (last task id %lld); %ld ms of writes; the service restarted "
                  "(its -wal checkpointed: last id %lld), %ld ms of writes, SIGKILL; %s moved to "
                  "%s and the copy put at its path beside the crashed -wal; the service started",
                  st.copy, copy_at, after_ms, file_at, after_ms, c->db, st.newer);
    return service_runner_start(c->service, NULL, err, errlen) < 0 ? 1 : 0;
}

static void stale_plan(const struct mechanism_ctx *c, struct buf *out)
{
    const char *after = mechanism_param(c, "after");
    buf_printf(out,
               "  inject: VACUUM INTO %s/older.db; %s later stop the service, checkpoint its "
               "-wal, start it; %s later SIGKILL it; rename %s to %s/newer.db, the copy to %s "
               "(the -wal stays); start the service\n",
               c->aside_dir, after, after, c->db, c->aside_dir, c->db);
    buf_printf(out, "  rollback: the copy away, newer.db back\n");
}

const struct mechanism mechanism_stale_wal = {
    .name = "stale-wal",
    .summary = "copy the database, restart the service, let writes go on, crash it, and put "
               "the copy at the path beside the crashed -wal (a backup restored after a crash)",
    .rollback_summary = "put the database that goes with the -wal back",
    .params = copy_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .applies = stale_applies,
    .inject = stale_inject,
    .rollback = copies_rollback,
    .emergency = copies_emergency,
    .plan = stale_plan,
};
