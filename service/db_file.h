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
    DB_FILE_CORRUPT,    /* malformed pages (SQLITE_CORRUPT), or a -wal that ends in a torn frame */
    DB_FILE_IO_ERROR,   /* the device fails reads, writes or syncs (SQLITE_IOERR: EIO) */
    DB_FILE_OLDER_COPY, /* the file at the path is older than what taskd already committed */
    DB_FILE_STALE_WAL,  /* the -wal beside the file belongs to another state of it */
    DB_FILE_NO_INODES,  /* the file system has no free inode for the -wal or -shm */
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

/* Free inodes for an unprivileged writer in the directory that holds `path`, or -1 (also on
 * file systems that do not count them, such as btrfs, which report 0 in total). */
int64_t db_file_free_inodes(const char *path);

/* The 32-bit big-endian fields user_version (offset 60) and application_id (offset 68) of the
 * database header of the file at `path`, read with a descriptor of its own. Only while no
 * connection of this process has the file open (close() would drop SQLite's locks). Returns 0,
 * or -1 (no file, or shorter than a header). */
int db_file_header_epoch(const char *path, uint32_t *user_version, uint32_t *application_id);

#endif
