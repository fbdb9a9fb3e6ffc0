/*
 * workdir: see workdir.h. The lock is flock(2) on WORK/.chaos-lock, held by a descriptor that is
 * never closed, so it goes away with the process however it ends. Removing an old experiment
 * directory walks it depth-first without following symlinks or crossing mounts.
 */
#include "workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faults.h"

static void mkdir_parents(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

int workdir_resolve(const char *path, int dry_run, char *real, size_t cap, char *err, size_t errlen)
{
    if (!dry_run)
        mkdir_parents(path);
    if (!realpath(path, real)) {
        if (dry_run) { /* not made yet: plan with the absolute path it would get */
            char cwd[PATH_MAX / 2];
            if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
                snprintf(real, cap, "%s/%s", cwd, path);
                return 0;
            }
            snprintf(real, cap, "%s", path);
            return 0;
        }
        snprintf(err, errlen, "cannot use the work directory %s: %s", path, strerror(errno));
        return -1;
    }
    if (strcmp(real, "/") == 0) {
        snprintf(err, errlen, "refusing / as the work directory");
        return -1;
    }
    return 0;
}

int workdir_lock(const char *work, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/.chaos-lock", work) >= sizeof(path)) {
        snprintf(err, errlen, "the work directory path %s is too long", work);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen,
                 "another chaos run is using the work directory %s; wait for it or choose "
                 "another --work-dir",
                 work);
        close(fd);
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Removes an old `dir` when chaos made it (the marker is in it); refuses otherwise. */
static int remove_old(const char *dir, const char *marker, char *err, size_t errlen)
{
    if (access(marker, F_OK) != 0) {
        snprintf(err, errlen,
                 "%s exists and was not made by chaos (no %s in it); remove it or choose "
                 "another --work-dir",
                 dir, WORKDIR_MARKER);
        return -1;
    }
    /* A mount left by a crashed run in the shared namespace must go before the files. */
    char data[PATH_MAX];
    snprintf(data, sizeof(data), "%s/data", dir);
    umount2(data, MNT_DETACH);
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0) {
        snprintf(err, errlen, "cannot remove the previous run's %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int workdir_make_experiment(const char *work, const char *name, char *dir, size_t cap, char *err,
                            size_t errlen)
{
    if ((size_t)snprintf(dir, cap, "%s/%s", work, name) >= cap) {
        snprintf(err, errlen, "the work directory path %s is too long", work);
        return -1;
    }
    if (faults_check_under(work, dir, err, errlen) < 0)
        return -1;
    char marker[PATH_MAX];
    if ((size_t)snprintf(marker, sizeof(marker), "%s/%s", dir, WORKDIR_MARKER) >= sizeof(marker)) {
        snprintf(err, errlen, "the work directory path %s is too long", work);
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) == 0 && remove_old(dir, marker, err, errlen) < 0)
        return -1;
    if (mkdir(dir, 0755) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", marker, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}
