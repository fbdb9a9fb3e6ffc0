/*
 * fault_files: faults made of plain file operations on the service's files.
 *
 * move-away: the file is renamed out of its directory (to the experiment's aside/). While the
 *   service serves, that is a deleted database (db-deleted: a SQLite connection in WAL mode
 *   keeps "committing" into the orphaned inode); with the service stopped, a missing one
 *   (db-missing), and its -wal goes along and its -shm is removed, as a restore that forgot
 *   them leaves things. The rollback renames it back; a file the service made at the path
 *   meanwhile (an empty database a naive service creates) is moved aside first, with its -wal
 *   and -shm, so it never ends up beside the real database.
 * make-directory: the file is moved away and a directory made at its path — what `docker run
 *   -v host:container` does when the host file is missing (volume-mount).
 * unlink: the file is deleted for good (wal-deleted: SQLite's -wal); nothing is restored.
 * overwrite-bytes: a range of the file is saved and overwritten with garbage (corrupt-header:
 *   SQLite's 100-byte header); the rollback writes the saved bytes back.
 *
 * The undo of each is a few system calls on paths computed before the injection, so it runs
 * from a signal handler too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mechanism.h"

#define MAX_OVERWRITE 65536

static struct {
    char path[600], aside[700];
    char wal[620], aside_wal[720], shm[620];
    char journal[620], aside_journal[720];
    char intruder[3][700];
    int aside_done, wal_aside, journal_aside, dir_made;
    /* overwrite-bytes */
    char file[600];
    unsigned char saved[MAX_OVERWRITE];
    size_t length;
    off_t offset;
    int saved_ok;
} st;

static void set_paths(const struct mechanism_ctx *c, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    memset(&st, 0, sizeof(st));
    snprintf(st.path, sizeof(st.path), "%s", path);
    snprintf(st.aside, sizeof(st.aside), "%s/%s", c->aside_dir, base);
    snprintf(st.wal, sizeof(st.wal), "%s-wal", path);
    snprintf(st.aside_wal, sizeof(st.aside_wal), "%s/%s-wal", c->aside_dir, base);
    snprintf(st.shm, sizeof(st.shm), "%s-shm", path);
    snprintf(st.journal, sizeof(st.journal), "%s-journal", path);
    snprintf(st.aside_journal, sizeof(st.aside_journal), "%s/%s-journal", c->aside_dir, base);
    static const char *const intruder[] = {"intruder", "intruder-wal", "intruder-shm"};
    for (size_t i = 0; i < 3; i++)
        snprintf(st.intruder[i], sizeof(st.intruder[i]), "%s/%s", c->aside_dir, intruder[i]);
}

/* Moves the file aside; with the service stopped its -wal (or a rollback -journal left by a
 * crash) goes along and its -shm goes away (a live one keeps them where they are: only the
 * file is "deleted"). */
static int move_aside(const struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (rename(st.path, st.aside) < 0) {
        snprintf(err, errlen, "cannot move %s to %s: %s", st.path, st.aside, strerror(errno));
        return -1;
    }
    st.aside_done = 1;
    if (c->at_start && rename(st.wal, st.aside_wal) == 0)
        st.wal_aside = 1;
    if (c->at_start && rename(st.journal, st.aside_journal) == 0)
        st.journal_aside = 1;
    if (c->at_start)
        unlink(st.shm); /* rebuilt from the -wal; a stale one must not outlive it */
    return 0;
}

/* Puts everything back, with system calls only. Returns 0 when nothing is left out of place. */
static int move_back(void)
{
    if (st.dir_made && rmdir(st.path) == 0)
        st.dir_made = 0;
    if (st.aside_done && !st.dir_made) {
        /* A file made at the path meanwhile must not end up beside the real one's -wal, nor
         * its -wal beside the real file: move it away. */
        struct stat s;
        if (lstat(st.path, &s) == 0 && rename(st.path, st.intruder[0]) == 0) {
            rename(st.wal, st.intruder[1]);
            rename(st.shm, st.intruder[2]);
        }
        if (rename(st.aside, st.path) == 0)
            st.aside_done = 0;
    }
    if (st.wal_aside && !st.aside_done && rename(st.aside_wal, st.wal) == 0)
        st.wal_aside = 0;
    if (st.journal_aside && !st.aside_done && rename(st.aside_journal, st.journal) == 0)
        st.journal_aside = 0;
    return st.aside_done || st.dir_made || st.wal_aside || st.journal_aside ? -1 : 0;
}

static int moved_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (move_back() < 0) {
        snprintf(err, errlen, "the rollback is incomplete: %s%s%s",
                 st.dir_made ? "the directory at the path is not empty; " : "",
                 st.aside_done ? "the file is still at the aside path; " : "",
                 st.wal_aside ? "the -wal is still aside" : "");
        return -1;
    }
    return 0;
}

static void moved_emergency(void)
{
    move_back();
}

static int move_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    set_paths(c, mechanism_param(c, "path"));
    if (move_aside(c, err, errlen) < 0)
        return -1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s%s renamed to %s%s", c->at_start ? "the service stopped; " : "", st.path,
                  st.aside, st.wal_aside ? " (with its -wal)" : "");
    if (c->at_start)
        mechanism_say(c, "; the service started without it");
    else
        mechanism_say(c, " while the service serves");
    return 0;
}

static void move_plan(const struct mechanism_ctx *c, struct buf *out)
{
    const char *path = mechanism_param(c, "path");
    buf_printf(out, "  inject: rename %s -> %s/ (with its -wal when the service is stopped)\n",
               path, c->aside_dir);
    buf_printf(out, "  rollback: a file made at %s meanwhile goes to %s/intruder; rename it back\n",
               path, c->aside_dir);
}

static const struct mechanism_param path_db[] = {
    {"path", MECHANISM_PARAM_PATH, "{db}", "the file to act on"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_move_away = {
    .name = "move-away",
    .summary = "rename the file out of its directory (a deleted file while the service serves, "
               "a missing one at its start)",
    .rollback_summary = "rename it back (a file made at its path meanwhile is moved aside first)",
    .params = path_db,
    .when = MECHANISM_LIVE | MECHANISM_AT_START,
    .default_when = FAULT_LIVE,
    .inject = move_inject,
    .rollback = moved_rollback,
    .emergency = moved_emergency,
    .plan = move_plan,
};

/* ---- make-directory -------------------------------------------------------------------------- */

static int mkdir_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    set_paths(c, mechanism_param(c, "path"));
    if (move_aside(c, err, errlen) < 0)
        return -1;
    if (mkdir(st.path, 0755) < 0) {
        snprintf(err, errlen, "cannot mkdir %s: %s", st.path, strerror(errno));
        return -1;
    }
    st.dir_made = 1;
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "%s%s moved to %s and a directory made at its path (what a Docker bind "
                  "mount of a missing host file does)%s",
                  c->at_start ? "the service stopped; " : "", st.path, st.aside,
                  c->at_start ? "; the service started on it" : "");
    return 0;
}

static void mkdir_plan(const struct mechanism_ctx *c, struct buf *out)
{
    const char *path = mechanism_param(c, "path");
    buf_printf(out, "  inject: rename %s -> %s/; mkdir %s\n", path, c->aside_dir, path);
    buf_printf(out, "  rollback: rmdir %s; rename it back\n", path);
}

const struct mechanism mechanism_make_directory = {
    .name = "make-directory",
    .summary = "move the file away and make a directory at its path (a Docker bind mount of a "
               "missing host file)",
    .rollback_summary = "remove the directory, rename the file back",
    .params = path_db,
    .when = MECHANISM_LIVE | MECHANISM_AT_START,
    .default_when = FAULT_AT_START,
    .inject = mkdir_inject,
    .rollback = moved_rollback,
    .emergency = moved_emergency,
    .plan = mkdir_plan,
};

/* ---- unlink ---------------------------------------------------------------------------------- */

static int unlink_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    const char *path = mechanism_param(c, "path");
    if (unlink(path) < 0) {
        snprintf(err, errlen, "cannot unlink %s: %s", path, strerror(errno));
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s unlinked%s", path,
                  c->at_start ? " with the service stopped" : " while the service serves");
    return 0;
}

/* Deleting SQLite's -wal does not apply to a service that keeps none; any other file that is
 * not there is an error of the experiment (inject says so). */
static int unlink_applies(const struct mechanism_ctx *c, char *why, size_t whylen)
{
    const char *path = mechanism_param(c, "path");
    size_t n = strlen(path);
    return n < 4 || strcmp(path + n - 4, "-wal") != 0 || mechanism_wal_present(path, why, whylen);
}

static int unlink_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    return 0; /* nothing to restore: the service must cope */
}

static void unlink_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  inject: unlink %s\n  rollback: none (the service must rebuild it)\n",
               mechanism_param(c, "path"));
}

static const struct mechanism_param path_wal[] = {
    {"path", MECHANISM_PARAM_PATH, "{db}-wal", "the file to delete"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_unlink = {
    .name = "unlink",
    .summary = "delete the file for good (SQLite's -wal while the service serves)",
    .rollback_summary = "none: the service must rebuild what it needs",
    .params = path_wal,
    .when = MECHANISM_LIVE | MECHANISM_AT_START,
    .default_when = FAULT_LIVE,
    .applies = unlink_applies,
    .inject = unlink_inject,
    .rollback = unlink_rollback,
    .plan = unlink_plan,
};

/* ---- overwrite-bytes ------------------------------------------------------------------------- */

static int write_back(void)
{
    int fd = open(st.file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc =
        pwrite(fd, st.saved, st.length, st.offset) == (ssize_t)st.length && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    if (rc == 0)
        st.saved_ok = 0;
    return rc;
}

static int overwrite_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.file, sizeof(st.file), "%s", mechanism_param(c, "path"));
    st.offset = (off_t)mechanism_param_number(c, "offset");
    st.length = (size_t)mechanism_param_number(c, "length");
    if (st.length == 0 || st.length > MAX_OVERWRITE) {
        snprintf(err, errlen, "overwrite-bytes: length %zu is not from 1 to %d bytes", st.length,
                 MAX_OVERWRITE);
        return -1;
    }
    int fd = open(st.file, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", st.file, strerror(errno));
        return -1;
    }
    int rc = -1;
    if (pread(fd, st.saved, st.length, st.offset) != (ssize_t)st.length) {
        snprintf(err, errlen, "cannot read %zu bytes at offset %lld of %s (is it that long?)",
                 st.length, (long long)st.offset, st.file);
        goto out;
    }
    st.saved_ok = 1;
    static unsigned char garbage[MAX_OVERWRITE];
    static const char pattern[] = "chaos overwrite-bytes: not the original bytes. ";
    for (size_t i = 0; i < st.length; i++)
        garbage[i] = (unsigned char)pattern[i % (sizeof(pattern) - 1)];
    if (pwrite(fd, garbage, st.length, st.offset) != (ssize_t)st.length || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot overwrite %zu bytes of %s: %s", st.length, st.file,
                 strerror(errno));
        goto out;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c, "%sbytes %lld to %lld of %s saved and overwritten with text%s",
                  c->at_start ? "the service stopped; " : "", (long long)st.offset,
                  (long long)st.offset + (long long)st.length - 1, st.file,
                  c->at_start ? "; the service started on it" : "");
    rc = 0;
out:
    close(fd);
    return rc;
}

static int overwrite_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (st.saved_ok && write_back() < 0) {
        snprintf(err, errlen, "cannot write the saved bytes back into %s: %s", st.file,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static void overwrite_emergency(void)
{
    if (st.saved_ok)
        write_back();
}

static void overwrite_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  inject: save bytes %s.. (%s bytes) of %s, overwrite them with garbage\n",
               mechanism_param(c, "offset"), mechanism_param(c, "length"),
               mechanism_param(c, "path"));
    buf_printf(out, "  rollback: write the saved bytes back\n");
}

static const struct mechanism_param overwrite_params[] = {
    {"path", MECHANISM_PARAM_PATH, "{db}", "the file to damage"},
    {"offset", MECHANISM_PARAM_COUNT, "0", "the first byte to overwrite"},
    {"length", MECHANISM_PARAM_COUNT, "100", "how many bytes (at most 65536)"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_overwrite_bytes = {
    .name = "overwrite-bytes",
    .summary = "overwrite a range of the file with garbage (SQLite's 100-byte header)",
    .rollback_summary = "write the saved bytes back",
    .params = overwrite_params,
    .when = MECHANISM_LIVE | MECHANISM_AT_START,
    .default_when = FAULT_AT_START,
    .inject = overwrite_inject,
    .rollback = overwrite_rollback,
    .emergency = overwrite_emergency,
    .plan = overwrite_plan,
};
