/*
 * db_file: classifies the database path with stat(2) only. See db_file.h for why.
 */
#include "db_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *const state_names[DB_FILE_STATE_COUNT] = {
    [DB_FILE_OK] = "ok",
    [DB_FILE_MISSING] = "missing",
    [DB_FILE_IS_DIRECTORY] = "is_directory",
    [DB_FILE_REPLACED] = "replaced",
    [DB_FILE_UNLINKED] = "unlinked",
    [DB_FILE_READONLY] = "readonly",
    [DB_FILE_NOT_A_DB] = "not_a_db",
    [DB_FILE_CORRUPT] = "corrupt",
    [DB_FILE_IO_ERROR] = "io_error",
    [DB_FILE_OLDER_COPY] = "older_copy",
    [DB_FILE_STALE_WAL] = "stale_wal",
    [DB_FILE_NO_INODES] = "no_inodes",
};

static const char *const state_advice[DB_FILE_STATE_COUNT] = {
    [DB_FILE_OK] = "the database file is usable",
    [DB_FILE_MISSING] = "the database file does not exist; restore it (taskd creates an empty "
                        "database only at start without --no-create, never while serving)",
    [DB_FILE_IS_DIRECTORY] = "the database path is a directory (a Docker bind mount of a missing "
                             "host file creates one; mount the directory that holds the database "
                             "instead)",
    [DB_FILE_REPLACED] = "the database file was replaced by another file while open; taskd "
                         "reopens it once it is a valid database",
    [DB_FILE_UNLINKED] = "the database file was deleted or moved away while open; writes are "
                         "refused until it is restored at its path",
    [DB_FILE_READONLY] = "the database is read-only (file or directory permissions, or a "
                         "read-only mount); make it writable",
    [DB_FILE_NOT_A_DB] = "the file is not a taskd SQLite database (corrupt header, or another "
                         "program's file); restore it from a backup",
    [DB_FILE_CORRUPT] = "the database disk image is malformed (SQLITE_CORRUPT); writes are "
                        "refused so nothing is built on damaged pages: restore it from a backup",
    [DB_FILE_IO_ERROR] = "the device fails to read, write or sync the database (an I/O error); "
                         "writes are refused until a probe write and sync succeed again",
    [DB_FILE_OLDER_COPY] = "the file at the path is an older copy of the database: it lacks "
                           "writes taskd already acknowledged; put the newer file back (to "
                           "restore a backup on purpose, stop taskd first)",
    [DB_FILE_STALE_WAL] = "the -wal beside the database belongs to another state of the file (a "
                          "database restored beside a stale -wal): SQLite would apply its pages "
                          "to the wrong file; remove the -wal and -shm if the file is the copy "
                          "you want, or restore the database that goes with the -wal",
    [DB_FILE_NO_INODES] = "the file system has no free inodes, so SQLite cannot create the -wal "
                          "or -shm file; free some inodes (delete files) on that file system",
};

const char *db_file_state_name(enum db_file_state state)
{
    return state_names[state];
}

const char *db_file_state_advice(enum db_file_state state)
{
    return state_advice[state];
}

int db_file_identify(const char *path, struct db_file_identity *id)
{
    struct stat st;
    id->known = 0;
    if (stat(path, &st) < 0)
        return -1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->known = 1;
    return 0;
}

enum db_file_state db_file_inspect(const char *path, const struct db_file_identity *expected,
                                   int *sys_errno)
{
    struct stat st;
    *sys_errno = 0;
    if (stat(path, &st) < 0) {
        *sys_errno = errno;
        if (errno == ENOENT || errno == ENOTDIR)
            return expected && expected->known ? DB_FILE_UNLINKED : DB_FILE_MISSING;
        return DB_FILE_MISSING;
    }
    if (S_ISDIR(st.st_mode)) {
        *sys_errno = EISDIR;
        return DB_FILE_IS_DIRECTORY;
    }
    if (expected && expected->known && (st.st_dev != expected->dev || st.st_ino != expected->ino))
        return DB_FILE_REPLACED;
    return DB_FILE_OK;
}

/* statvfs of the directory that holds `path`. Returns 0 or -1. */
static int dir_statvfs(const char *path, struct statvfs *vfs)
{
    char copy[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof(copy))
        return -1;
    memcpy(copy, path, len + 1); /* dirname() needs a writable copy */
    return statvfs(dirname(copy), vfs);
}

int64_t db_file_free_inodes(const char *path)
{
    struct statvfs vfs;
    if (dir_statvfs(path, &vfs) < 0 || vfs.f_files == 0)
        return -1;
    return (int64_t)vfs.f_favail;
}

int db_file_header_epoch(const char *path, uint32_t *user_version, uint32_t *application_id)
{
    unsigned char h[72];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, h, sizeof(h), 0);
    close(fd);
    if (n != (ssize_t)sizeof(h))
        return -1;
    *user_version = (uint32_t)h[60] << 24 | (uint32_t)h[61] << 16 | (uint32_t)h[62] << 8 | h[63];
    *application_id = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71];
    return 0;
}

int64_t db_file_free_bytes(const char *path)
{
    struct statvfs vfs;
    if (dir_statvfs(path, &vfs) < 0)
        return -1;
    return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}
