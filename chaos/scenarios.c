/*
 * scenarios: the experiment table (see scenarios.h). Alert names are those of
 * stack/prometheus/rules: the database-down alert for every fault that takes the database away,
 * the file-state alert where the file itself is wrong, the error alert where SQLite reports it.
 */
#include "scenarios.h"

#include <string.h>

#include "mechanism.h"

#define ALERT_DB_DOWN "TaskdDatabaseDown"
#define ALERT_FILE_STATE "TaskdDatabaseFileStateNotOk"
#define ALERT_DB_ERRORS "TaskdDatabaseErrors"
#define ALERT_TASKD_DOWN "TaskdDown"

static const char *const no_create_args[] = {"--no-create", NULL};
static const char *const sync_full_args[] = {"--sync", "full", NULL};
static const char *const sync_normal_args[] = {"--sync", "normal", NULL};

/* One transaction of taskd's writer at most (WRITE_BATCH_MAX): what a torn -wal may take. */
#define ONE_TRANSACTION 128

/* The expectation of a fault taskd must refuse writes on and name by its file state. */
#define REFUSE_WITH_STATE(state, code, ...)                                                        \
    {                                                                                              \
        .detect = DETECT_NOT_READY, .file_state = (state), .error_code = (code),                   \
        .refuse_writes = 1, .some_write_refused = 1, __VA_ARGS__                                   \
    }

static const struct scenario table[] = {
    {
        .name = "volume-mount",
        .summary = "the database path is a directory, as Docker's bind mount of a missing host "
                   "file makes it",
        .mechanism = "stop taskd, move the database aside, mkdir at its path, start taskd",
        .rollback = "rmdir the path, move the database back (taskd reopens by itself)",
        .expected = "taskd stays up not ready (file state is_directory), refuses every data "
                    "request, recovers by itself once the file is back, loses nothing",
        .fault = FAULT_VOLUME_MOUNT,
        .at_start = 1,
        .expect = {.detect = DETECT_NOT_READY,
                   .file_state = "is_directory",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}},
    },
    {
        .name = "db-missing",
        .summary = "the database file is gone when taskd starts (taskd run with --no-create)",
        .mechanism = "stop taskd, move the database aside, start taskd with --no-create",
        .rollback = "move the database back (taskd opens it by itself)",
        .expected = "taskd creates nothing, stays not ready (file state missing), refuses "
                    "writes, opens the database once it is back, loses nothing",
        .fault = FAULT_DB_MISSING,
        .at_start = 1,
        .taskd_args = no_create_args,
        .expect = {.detect = DETECT_NOT_READY,
                   .file_state = "missing",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}},
    },
    {
        .name = "db-deleted",
        .summary = "the database file is moved away while taskd serves (WAL would keep "
                   "accepting writes into the orphaned file)",
        .mechanism = "rename the database out of its directory while taskd runs",
        .rollback = "rename it back",
        .expected = "taskd refuses every write from the moment the file is gone (file state "
                    "unlinked), recovers when it is back, loses nothing",
        .fault = FAULT_DB_DELETED,
        .expect = {.detect = DETECT_NOT_READY,
                   .file_state = "unlinked",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}},
    },
    {
        .name = "wal-deleted",
        .summary = "the -wal file is deleted while taskd serves (committed frames would live "
                   "only in the orphaned inode)",
        .mechanism = "unlink the -wal while taskd runs",
        .rollback = "none: taskd must checkpoint the orphaned -wal and rebuild it",
        .expected = "taskd puts a -wal back at its path, and every acknowledged write survives a "
                    "kill -9 and restart afterwards",
        .fault = FAULT_WAL_DELETED,
        .expect = {.detect = DETECT_WAL_BACK, .crash_before_audit = 1, .alerts = {NULL}},
    },
    {
        .name = "readonly",
        .summary = "the data directory is a read-only mount when taskd starts",
        .mechanism = "stop taskd, bind-mount the data directory read-only over itself, start "
                     "taskd (root ignores chmod, and a mount with a file open for writing "
                     "cannot be remounted read-only)",
        .rollback = "unmount the read-only bind (taskd reopens by itself)",
        .expected = "taskd stays up not ready (file state readonly), refuses writes, recovers "
                    "once the directory is writable, loses nothing",
        .fault = FAULT_READONLY,
        .at_start = 1,
        .needs_root = 1,
        .expect = {.detect = DETECT_NOT_READY,
                   .file_state = "readonly",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}},
    },
    {
        .name = "disk-full",
        .summary = "the file system of the data directory fills up while taskd serves",
        .mechanism = "the data directory is a 16 MiB tmpfs; a ballast file fills it to ENOSPC",
        .rollback = "delete the ballast file",
        .expected = "taskd answers writes with 503 (SQLITE_FULL), turns not ready, recovers "
                    "once space is free, loses nothing",
        .fault = FAULT_DISK_FULL,
        .needs_root = 1,
        .expect = {.detect = DETECT_NOT_READY,
                   .error_code = "SQLITE_FULL",
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_DB_ERRORS, NULL}},
    },
    {
        .name = "db-locked",
        .summary = "another process holds the database's write lock",
        .mechanism = "a child process opens the database with SQLite and holds BEGIN IMMEDIATE",
        .rollback = "the child rolls back and exits",
        .expected = "writes fail with 503 after the busy timeout (SQLITE_BUSY), taskd turns not "
                    "ready, recovers when the lock is released, loses nothing",
        .fault = FAULT_DB_LOCKED,
        .expect = {.detect = DETECT_NOT_READY,
                   .error_code = "SQLITE_BUSY",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_DB_ERRORS, NULL}},
    },
    {
        .name = "corrupt-header",
        .summary = "the database file's 100-byte header is garbage when taskd starts",
        .mechanism = "stop taskd, save the header, overwrite it with garbage, start taskd",
        .rollback = "write the saved header back (taskd reopens by itself)",
        .expected = "taskd stays up not ready (file state not_a_db, SQLITE_NOTADB), refuses "
                    "writes, recovers once the header is restored, loses nothing",
        .fault = FAULT_CORRUPT_HEADER,
        .at_start = 1,
        .expect = {.detect = DETECT_NOT_READY,
                   .file_state = "not_a_db",
                   .error_code = "SQLITE_NOTADB",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}},
    },
    {
        .name = "kill-9",
        .summary = "taskd is killed with SIGKILL under load",
        .mechanism = "SIGKILL the taskd process",
        .rollback = "start taskd again on the same database and port",
        .expected = "no acknowledged write is lost (a commit survives a crash with "
                    "synchronous=normal), and taskd is ready again after the restart",
        .fault = FAULT_KILL9,
        .expect = {.detect = DETECT_NOT_READY,
                   .refuse_writes = 1,
                   .alerts = {ALERT_TASKD_DOWN, NULL}},
    },
    /* ---- the faults production sees (issue 12) ---------------------------------------------- */
    {
        .name = "fsync-eio",
        .summary = "fdatasync/fsync fail with EIO while taskd serves (a failing disk or a lost "
                   "network volume)",
        .mechanism = "taskd runs under libfiu's POSIX preload; fiu's control FIFO enables "
                     "posix/io/sync/* with errno EIO in the running process (taskd --sync full)",
        .rollback = "disable the failure point; taskd's probe write and sync succeed again",
        .expected = "taskd answers writes 503 (SQLITE_IOERR_FSYNC, file state io_error), turns "
                    "not ready, never acknowledges a write whose sync failed, recovers, loses "
                    "nothing",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_fiu,
        .mech_param = "posix/io/sync/*,failinfo=5",
        .taskd_args_always = sync_full_args,
        .expect = REFUSE_WITH_STATE("io_error", "SQLITE_IOERR_FSYNC",
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "write-eio",
        .summary = "writes to the database files fail with EIO while taskd serves",
        .mechanism = "libfiu's POSIX preload; posix/io/rw/pwrite fails with EIO in the running "
                     "taskd",
        .rollback = "disable the failure point",
        .expected = "taskd answers writes 503 (SQLITE_IOERR_WRITE, file state io_error), turns "
                    "not ready, cuts the failed transaction out of the -wal, recovers, loses "
                    "nothing",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_fiu,
        .mech_param = "posix/io/rw/pwrite,failinfo=5",
        .expect = REFUSE_WITH_STATE("io_error", "SQLITE_IOERR_WRITE",
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "write-enospc",
        .summary = "writes fail with ENOSPC while the disk still has room (a quota, a thin "
                   "volume), injected without filling anything",
        .mechanism = "libfiu's POSIX preload; posix/io/rw/pwrite fails with ENOSPC in the "
                     "running taskd",
        .rollback = "disable the failure point",
        .expected = "taskd answers writes 503 (SQLITE_FULL), turns not ready, recovers, loses "
                    "nothing",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_fiu,
        .mech_param = "posix/io/rw/pwrite,failinfo=28",
        .expect = {.detect = DETECT_NOT_READY,
                   .error_code = "SQLITE_FULL",
                   .refuse_writes = 1,
                   .some_write_refused = 1,
                   .alerts = {ALERT_DB_DOWN, ALERT_DB_ERRORS, NULL}},
    },
    {
        .name = "short-write",
        .summary = "pwrite writes fewer bytes than asked while taskd serves",
        .mechanism = "libfiu's POSIX preload; posix/io/rw/pwrite/reduce shortens every write "
                     "of the running taskd",
        .rollback = "disable the failure point",
        .expected = "absorbed: SQLite writes the rest (its write loop), taskd stays ready and "
                    "acknowledges writes, loses nothing, the file stays intact",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_fiu,
        .mech_param = "posix/io/rw/pwrite/reduce",
        .expect = {.detect = DETECT_ABSORBED, .alerts = {NULL}},
    },
    {
        .name = "power-loss",
        .summary = "the power fails: every write not yet synced to disk vanishes, then taskd "
                   "restarts (taskd --sync full)",
        .mechanism = "the data directory is lossyfs (FUSE: unsynced writes held in memory); "
                     "SIGKILL taskd, drop every unsynced write, start taskd again",
        .rollback = "taskd restarts on what the disk kept",
        .expected = "with --sync full every acknowledged write was synced before its 201: none "
                    "is lost, and taskd is ready after the restart",
        .fault = FAULT_MECHANISM,
        .needs_root = 1,
        .mech = &mechanism_power,
        .taskd_args_always = sync_full_args,
        .expect = {.detect = DETECT_NOT_READY,
                   .refuse_writes = 1,
                   .unanswered_ok = 1,
                   .alerts = {ALERT_TASKD_DOWN, NULL}},
    },
    {
        .name = "power-loss-normal",
        .summary = "the same power failure with taskd --sync normal, to show what it loses",
        .mechanism = "as power-loss, with taskd --sync normal",
        .rollback = "taskd restarts on what the disk kept",
        .expected = "acknowledged writes since the last checkpoint's sync are lost, as SQLite "
                    "documents for WAL with synchronous=NORMAL; the audit counts them; the "
                    "database stays consistent and taskd is ready after the restart",
        .fault = FAULT_MECHANISM,
        .needs_root = 1,
        .mech = &mechanism_power,
        .taskd_args_always = sync_normal_args,
        .expect = {.detect = DETECT_NOT_READY,
                   .refuse_writes = 1,
                   .unanswered_ok = 1,
                   .max_lost = SCENARIO_ANY_LOSS,
                   .alerts = {ALERT_TASKD_DOWN, NULL}},
    },
    {
        .name = "corrupt-page",
        .summary = "a page of the tasks table in the middle of the database is garbage "
                   "(\"database disk image is malformed\")",
        .mechanism = "stop taskd, save a leaf page of the tasks table from the middle of the "
                     "file, overwrite it with garbage, start taskd",
        .rollback = "write the saved page back (taskd reopens by itself)",
        .expected = "taskd stays up not ready (file state corrupt, SQLITE_CORRUPT), refuses "
                    "writes, recovers once the page is restored, loses nothing",
        .fault = FAULT_MECHANISM,
        .at_start = 1,
        .mech = &mechanism_corrupt_page,
        .expect = REFUSE_WITH_STATE("corrupt", "SQLITE_CORRUPT",
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "torn-wal",
        .summary = "the -wal ends in a torn frame (a power cut during its last appends)",
        .mechanism = "SIGKILL taskd under load, cut the -wal inside the commit frame of its third "
                     "transaction from the end, start taskd",
        .rollback = "accept the loss as taskd's message says: truncate the -wal after its last "
                    "intact commit (taskd reopens by itself)",
        .expected = "taskd refuses to replay it (file state corrupt, SQLITE_CORRUPT) instead of "
                    "dropping the transactions silently; after the rollback the audit lists the "
                    "acknowledged writes of those three transactions as lost, and no other",
        .fault = FAULT_MECHANISM,
        .at_start = 1,
        .mech = &mechanism_torn_wal,
        .expect = REFUSE_WITH_STATE("corrupt", "SQLITE_CORRUPT", .max_lost = 3 * ONE_TRANSACTION,
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "older-copy",
        .summary = "the database is replaced by an older copy of itself while taskd serves",
        .mechanism = "copy the live database (VACUUM INTO), let writes go on, then move the "
                     "database and its -wal aside and rename the copy into its place",
        .rollback = "move the copy away and the newer database and -wal back",
        .expected = "taskd refuses the copy (file state older_copy: it lacks acknowledged "
                    "writes), refuses writes, recovers once the newer file is back, loses "
                    "nothing",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_older_copy,
        .expect = REFUSE_WITH_STATE("older_copy", NULL,
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "stale-wal",
        .summary = "a database restored from a backup beside the -wal of a crashed taskd",
        .mechanism = "copy the database (VACUUM INTO), restart taskd (a checkpoint), let writes "
                     "go on, SIGKILL taskd, put the copy at the path beside the -wal, start taskd",
        .rollback = "put the database that goes with the -wal back (taskd reopens by itself)",
        .expected = "taskd refuses to replay the -wal onto the wrong file (file state stale_wal, "
                    "SQLITE_CORRUPT), refuses writes, recovers when the matching file is back, "
                    "loses nothing",
        .fault = FAULT_MECHANISM,
        .at_start = 1,
        .mech = &mechanism_stale_wal,
        .expect = REFUSE_WITH_STATE("stale_wal", "SQLITE_CORRUPT",
                                    .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "pause",
        .summary = "taskd is paused (SIGSTOP) longer than probes and clients wait",
        .mechanism = "SIGSTOP taskd for the fault window (longer than the 1 s probe and 2 s "
                     "request timeouts)",
        .rollback = "SIGCONT",
        .expected = "probes and clients see it unreachable; after SIGCONT it answers at once, "
                    "acknowledges nothing it did not commit, loses nothing",
        .fault = FAULT_MECHANISM,
        .mech = &mechanism_pause,
        .expect = {.detect = DETECT_NOT_READY,
                   .refuse_writes = 1,
                   .unanswered_ok = 1,
                   .alerts = {ALERT_TASKD_DOWN, NULL}},
    },
    {
        .name = "readonly-remount",
        .summary = "the file system remounts itself read-only while taskd serves (ext4 "
                   "errors=remount-ro after an I/O error)",
        .mechanism = "the data directory is ext4 on a loop device mounted errors=remount-ro; "
                     "sysfs trigger_fs_error makes it read-only under the running taskd",
        .rollback = "mount -o remount,rw (the file system was only marked in error)",
        .expected = "taskd answers writes 503 (file state readonly: EROFS), turns not ready, "
                    "recovers once the file system is writable, loses nothing",
        .fault = FAULT_MECHANISM,
        .needs_root = 1,
        .mech = &mechanism_remount,
        .taskd_args_always = sync_full_args, /* what was acknowledged reached the image */
        .expect =
            REFUSE_WITH_STATE("readonly", NULL, .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "inodes",
        .summary = "the file system has no free inode left while bytes remain, and taskd "
                   "restarts",
        .mechanism = "the data directory is a tmpfs with few inodes; stop taskd, take every "
                     "free inode with empty files, start taskd (SQLite must create the -wal "
                     "and -shm)",
        .rollback = "delete the empty files (taskd opens the database by itself)",
        .expected = "taskd stays up not ready (file state no_inodes), refuses writes, recovers "
                    "once inodes are free, loses nothing",
        .fault = FAULT_MECHANISM,
        .at_start = 1,
        .needs_root = 1,
        .mech = &mechanism_inodes,
        .expect =
            REFUSE_WITH_STATE("no_inodes", NULL, .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
    {
        .name = "owner",
        .summary = "taskd runs as an unprivileged user and the database belongs to root (a "
                   "restore done as root): \"attempt to write a readonly database\"",
        .mechanism = "taskd runs as nobody (uid 65534) on a directory it owns; stop taskd, "
                     "chown the database files to root with mode 0644, start taskd",
        .rollback = "chown them back to the service user (taskd reopens by itself)",
        .expected = "taskd stays up not ready (file state readonly) instead of serving reads "
                    "and failing every write, recovers once it owns the files, loses nothing",
        .fault = FAULT_MECHANISM,
        .at_start = 1,
        .needs_root = 1,
        .mech = &mechanism_owner,
        .expect =
            REFUSE_WITH_STATE("readonly", NULL, .alerts = {ALERT_DB_DOWN, ALERT_FILE_STATE, NULL}),
    },
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

size_t scenarios_count(void)
{
    return TABLE_LEN;
}

const struct scenario *scenarios_at(size_t i)
{
    return i < TABLE_LEN ? &table[i] : NULL;
}

const struct scenario *scenarios_find(const char *name)
{
    for (size_t i = 0; name && i < TABLE_LEN; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}
