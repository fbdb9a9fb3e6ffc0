/*
 * db_file: what the database path on disk is right now, judged only with stat(2).
 *
 * The service never opens the live database file with a descriptor of its own (close() would
 * drop SQLite's POSIX locks); it compares the path's identity (device, inode) with the one
 * recorded when SQLite opened it. That tells a file moved away or deleted (WAL mode would keep
 * "succeeding" into the orphaned inode), a file replaced under the same name, and a path that
 * turned into a directory, as a Docker bind mount of a missing host file makes it.
 */
#ifndef TASKD_DB_FILE_H
#define TASKD_DB_FILE_H

#include <stdint.h>
#include <sys/types.h>

/* The values of the taskd_db_file_state{state} metric. */
enum db_file_state {
    DB_FILE_OK,
    DB_FILE_MISSING,      /* no file at the path (at start, or while not open) */
    DB_FILE_IS_DIRECTORY, /* the path is a directory */
    DB_FILE_REPLACED,     /* a different file now has the name */
    DB_FILE_UNLINKED,     /* the open file was deleted or moved away */
    DB_FILE_READONLY,     /* writes are refused (permissions, read-only mount) */
    DB_FILE_NOT_A_DB,     /* not a SQLite database, or not ours */
    DB_FILE_STATE_COUNT
};

struct db_file_identity {
    dev_t dev;
    ino_t ino;
    int known;
};

const char *db_file_state_name(enum db_file_state state);

/* Records the identity of the file at `path`. Returns 0, or -1 with errno set. */
int db_file_identify(const char *path, struct db_file_identity *id);

/* Classifies `path` against the identity recorded at open (`expected`, may be unknown):
 * OK, MISSING, IS_DIRECTORY, REPLACED or UNLINKED. `sys_errno` receives the errno of a
 * failed stat (0 otherwise). With an unknown identity a regular file is OK. */
enum db_file_state db_file_inspect(const char *path, const struct db_file_identity *expected,
                                   int *sys_errno);

/* A sentence that says what is wrong with the path and what to do, for logs and /readyz. */
const char *db_file_state_advice(enum db_file_state state);

/* Free bytes for an unprivileged writer in the directory that holds `path`, or -1. */
int64_t db_file_free_bytes(const char *path);

#endif
