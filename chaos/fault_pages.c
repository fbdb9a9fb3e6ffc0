/*
 * fault_pages: damage to the bytes of the database files themselves.
 *
 * corrupt-page: with the service stopped (taskd's clean stop checkpoints the -wal into the
 * file), one leaf page of a table — from the middle of its pages, found with SQLite's dbstat
 * table — is saved and overwritten with garbage: "database disk image is malformed" in the middle
 * of the file, where the 100-byte header is intact and SQLite opens it happily. The saved page is
 * written back by the rollback.
 *
 * torn-wal: the service is killed under load (faults.c's at-start fault with a SIGKILL) and the
 * -wal is cut inside the commit frame of its third transaction from the end, as a power cut during
 * the last appends leaves it (the last transactions of a busy writer were acknowledged a few
 * milliseconds before; the very last often was not yet). There is nothing to restore in production:
 * the rollback accepts the loss the way taskd's message says (truncate the -wal after its last
 * intact commit), and the audit then names the acknowledged writes of that one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mechanism.h"
#include "wal_file.h"

#define MAX_PAGE 65536
#define TEAR_TRANSACTIONS_BACK 2 /* earlier commits to tear back to: the third from the end */

static struct {
    int saved;
    long long pgno;
    int page_size;
    unsigned char page[MAX_PAGE];
    char db[600];
    int cut; /* torn-wal: the -wal was cut; keep_bytes is where to cut it back to */
    unsigned long long keep_bytes;
} st;

/* A leaf page of `table` from the middle of its pages. Returns 0 or -1. */
static int find_leaf(const char *db, const char *table, long long *pgno, int *page_size, char *err,
                     size_t errlen)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(h,
                                "SELECT pageno, (SELECT page_size FROM pragma_page_size) FROM "
                                "dbstat WHERE name = ?1 AND pagetype = 'leaf' ORDER BY "
                                "pageno LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat WHERE "
                                "name = ?1 AND pagetype = 'leaf')",
                                -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        *pgno = sqlite3_column_int64(q, 0);
        *page_size = sqlite3_column_int(q, 1);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "the table %s of %s has no leaf page yet (is it there?)", table, db);
        rc = -1;
    } else {
        snprintf(err, errlen, "cannot read the pages of %s: %s", db,
                 h ? sqlite3_errmsg(h) : "out of memory");
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    return rc == SQLITE_OK && *page_size > 0 && *page_size <= MAX_PAGE ? 0 : -1;
}

static int write_page(const char *db, const unsigned char *page, char *err, size_t errlen)
{
    int fd = open(db, O_WRONLY | O_CLOEXEC);
    off_t off = (off_t)((st.pgno - 1) * st.page_size);
    if (fd < 0 || pwrite(fd, page, (size_t)st.page_size, off) != st.page_size || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write page %lld of %s: %s", st.pgno, db, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int corrupt_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.db, sizeof(st.db), "%s", c->db);
    const char *table = mechanism_param(c, "table");
    if (find_leaf(c->db, table, &st.pgno, &st.page_size, err, errlen) < 0)
        return -1;
    int fd = open(c->db, O_RDONLY | O_CLOEXEC);
    off_t off = (off_t)((st.pgno - 1) * st.page_size);
    if (fd < 0 || pread(fd, st.page, (size_t)st.page_size, off) != st.page_size) {
        snprintf(err, errlen, "cannot read page %lld of %s", st.pgno, c->db);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    st.saved = 1;
    static unsigned char garbage[MAX_PAGE];
    memset(garbage, 0xA5, sizeof(garbage));
    if (write_page(c->db, garbage, err, errlen) < 0)
        return -1;
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "%spage %lld of %s (a leaf of the table %s, %d bytes at offset %lld) "
                  "overwritten with 0xA5 bytes%s",
                  c->at_start ? "the service stopped; " : "", st.pgno, c->db, table, st.page_size,
                  (st.pgno - 1) * st.page_size, c->at_start ? "; the service started on it" : "");
    return 0;
}

static int corrupt_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (st.saved && write_page(c->db, st.page, err, errlen) < 0)
        return -1;
    st.saved = 0;
    return 0;
}

static void corrupt_emergency(void)
{
    if (!st.saved)
        return;
    int fd = open(st.db, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (pwrite(fd, st.page, (size_t)st.page_size, (off_t)((st.pgno - 1) * st.page_size)) ==
            st.page_size)
            st.saved = 0;
        close(fd);
    }
}

static void corrupt_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  inject: find a leaf page of the table %s in %s (dbstat), save it, overwrite "
               "it with garbage\n",
               mechanism_param(c, "table"), c->db);
    buf_printf(out, "  rollback: write the saved page back\n");
}

static const struct mechanism_param corrupt_params[] = {
    {"db", MECHANISM_PARAM_PATH, "{db}", "the SQLite database"},
    {"table", MECHANISM_PARAM_TEXT, "tasks", "the table whose page is damaged"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_corrupt_page = {
    .name = "corrupt-page",
    .summary = "overwrite a leaf page of a table, from the middle of the SQLite file, with "
               "garbage",
    .rollback_summary = "write the saved page back",
    .params = corrupt_params,
    .when = MECHANISM_AT_START | MECHANISM_LIVE,
    .default_when = FAULT_AT_START,
    .inject = corrupt_inject,
    .rollback = corrupt_rollback,
    .emergency = corrupt_emergency,
    .plan = corrupt_plan,
};

/* ---- torn-wal ---------------------------------------------------------------------------- */

static int torn_applies(const struct mechanism_ctx *c, char *why, size_t whylen)
{
    return mechanism_wal_present(c->wal, why, whylen);
}

static int torn_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    struct wal_file_scan w;
    int rc = wal_file_scan_path(c->wal, &w);
    if (rc < 0 || !w.header_valid || w.frames == 0) {
        snprintf(err, errlen, "the -wal %s holds no frame to tear (%s)", c->wal,
                 rc < 0 ? strerror(-rc) : "the service had checkpointed it");
        return -1;
    }
    uint64_t frame = w.frames;
    for (int back = TEAR_TRANSACTIONS_BACK - 1; back >= 0; back--) {
        if (w.earlier_commit_frames[back]) {
            frame = w.earlier_commit_frames[back];
            break;
        }
    }
    uint64_t cut = wal_file_frame_offset(&w, frame) + WAL_FILE_FRAME_HEADER + w.page_size / 2;
    if (truncate(c->wal, (off_t)cut) < 0) {
        snprintf(err, errlen, "cannot cut %s: %s", c->wal, strerror(errno));
        return -1;
    }
    struct wal_file_scan torn;
    wal_file_scan_path(c->wal, &torn);
    st.cut = 1;
    st.keep_bytes = torn.commit_end;
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "SIGKILL the service; %s cut from %llu to %llu bytes, inside frame %llu of %llu "
                  "(a commit frame; the last intact commit ends at byte %llu); the service "
                  "started on it",
                  c->wal, (unsigned long long)w.file_size, (unsigned long long)cut,
                  (unsigned long long)frame, (unsigned long long)w.frames, st.keep_bytes);
    return 0;
}

static int torn_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!st.cut)
        return 0;
    /* Only a -wal that still ends torn is cut: a service that replayed it has dropped the torn
     * transaction itself and written over it, and cutting a live -wal would break the file. */
    struct wal_file_scan w;
    if (wal_file_scan_path(c->wal, &w) == 0 && !w.torn) {
        mechanism_say(c, "; rollback: nothing to cut, the -wal no longer ends torn (the service "
                         "replayed it and wrote over the torn transaction)");
        st.cut = 0;
        return 0;
    }
    if (truncate(c->wal, (off_t)st.keep_bytes) < 0) {
        snprintf(err, errlen, "cannot truncate %s to %llu bytes: %s", c->wal, st.keep_bytes,
                 strerror(errno));
        return -1;
    }
    mechanism_say(c, "; rollback: the loss accepted, -wal truncated to %llu bytes", st.keep_bytes);
    st.cut = 0;
    return 0;
}

static void torn_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  inject: cut %s inside the commit frame of its third transaction from the "
               "end\n",
               c->wal);
    buf_printf(out, "  rollback: truncate %s after its last intact commit (the loss accepted)\n",
               c->wal);
}

/* No emergency undo: the cut is the fault itself, and what the service is told to do about it. */
static const struct mechanism_param torn_params[] = {
    {"db", MECHANISM_PARAM_PATH, "{db}", "the SQLite database whose -wal is cut"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_torn_wal = {
    .name = "torn-wal",
    .summary = "after a crash, cut the -wal inside the commit frame of its third transaction "
               "from the end (a power cut during the last appends)",
    .rollback_summary = "accept the loss: truncate the -wal after its last intact commit",
    .params = torn_params,
    .when = MECHANISM_AT_START,
    .default_when = FAULT_AT_START,
    .default_stop = FAULT_STOP_KILL,
    .applies = torn_applies,
    .inject = torn_inject,
    .rollback = torn_rollback,
    .plan = torn_plan,
};
