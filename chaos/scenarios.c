/*
 * scenarios: the experiment table (see scenarios.h). Alert names are those of
 * stack/prometheus/rules: the database-down alert for every fault that takes the database away,
 * the file-state alert where the file itself is wrong, the error alert where SQLite reports it.
 */
#include "scenarios.h"

#include <string.h>

#define ALERT_DB_DOWN "TaskdDatabaseDown"
#define ALERT_FILE_STATE "TaskdDatabaseFileStateNotOk"
#define ALERT_DB_ERRORS "TaskdDatabaseErrors"
#define ALERT_TASKD_DOWN "TaskdDown"

static const char *const no_create_args[] = {"--no-create", NULL};

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
