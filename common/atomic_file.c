/*
 * atomic_file: a temporary file beside the path, renamed into place when complete (see
 * atomic_file.h). The temporary name carries the pid and an attempt number, created with O_EXCL,
 * so two writers never share one.
 */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define TMP_ATTEMPTS 100

int atomic_file_open(struct atomic_file *af, const char *path)
{
    af->f = NULL;
    af->path = path;
    for (unsigned attempt = 0; attempt < TMP_ATTEMPTS; attempt++) {
        int n = snprintf(af->tmp, sizeof af->tmp, "%s.tmp-%ld-%u", path, (long)getpid(), attempt);
        if (n < 0 || (size_t)n >= sizeof af->tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        if (!(af->f = fdopen(fd, "w"))) {
            int saved = errno;
            close(fd);
            unlink(af->tmp);
            errno = saved;
            return -1;
        }
        return 0;
    }
    errno = EEXIST;
    return -1;
}

int atomic_file_commit(struct atomic_file *af)
{
    int failed = ferror(af->f);
    int saved = errno;
    if (fclose(af->f) != 0) {
        failed = 1;
        saved = errno;
    }
    af->f = NULL;
    if (failed) {
        unlink(af->tmp);
        errno = saved ? saved : EIO;
        return ATOMIC_FILE_WRITE_FAILED;
    }
    if (rename(af->tmp, af->path) < 0) {
        saved = errno;
        unlink(af->tmp);
        errno = saved;
        return ATOMIC_FILE_RENAME_FAILED;
    }
    return 0;
}
