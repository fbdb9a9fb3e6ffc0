/*
 * log_file: the log's file, rotation by size, and writes that fail. See log_file.h.
 *
 * A rotation first creates the new file under a temporary name, and only then shifts the old
 * files and renames the new one into place: when the file system cannot create a file (no
 * inode, read-only), nothing is shifted or removed, the current file keeps growing and the
 * rotation is retried a second later. Error lines are recognised by their "level" member,
 * which log.c writes right after "ts".
 */
#include "log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

#define ROTATE_RETRY_NS 1000000000ull

static struct {
    int fd;
    int owns_fd;
    char *path;  /* NULL for stderr */
    int regular; /* a regular file: sizes are tracked and rotation applies */
    uint64_t size;
    struct log_rotation rotation;
    uint64_t rotate_not_before_ns; /* after a failed rotation */
    int torn;                      /* the file ends in part of a line that could not be cut away */
    struct buf pending;            /* error lines whose write failed, oldest first */
    int pending_init;
} lf = {.fd = STDERR_FILENO};

static _Atomic uint64_t rotations_by_size, rotations_by_signal, written_bytes, dropped_lines,
    write_errors, pending_bytes;

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* Makes `fd` (opened on `path`, or stderr when path is NULL) the destination. */
static void use_fd(int fd, char *path)
{
    struct stat st;
    if (lf.owns_fd)
        close(lf.fd);
    free(lf.path);
    lf.fd = fd;
    lf.owns_fd = path != NULL;
    lf.path = path;
    lf.regular = path && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    lf.size = lf.regular ? (uint64_t)st.st_size : 0;
    lf.torn = 0;
    lf.rotate_not_before_ns = 0;
}

int log_file_open(const char *path, const struct log_rotation *rotation)
{
    if (!lf.pending_init) {
        buf_init(&lf.pending, LOG_FILE_PENDING_LIMIT);
        lf.pending_init = 1;
    }
    int fd = STDERR_FILENO;
    char *copy = NULL;
    if (path && strcmp(path, "-") != 0) {
        copy = strdup(path);
        if (!copy)
            return -1;
        fd = open_append(path);
        if (fd < 0) {
            int saved = errno;
            free(copy);
            errno = saved;
            return -1;
        }
    }
    use_fd(fd, copy);
    lf.rotation = rotation ? *rotation : (struct log_rotation){0, 1};
    if (lf.rotation.max_files < 1)
        lf.rotation.max_files = 1;
    return 0;
}

int log_file_reopen(void)
{
    if (!lf.path)
        return 0;
    int fd = open_append(lf.path);
    if (fd < 0)
        return -1;
    char *path = lf.path;
    lf.path = NULL; /* use_fd frees the old one */
    use_fd(fd, path);
    atomic_fetch_add(&rotations_by_signal, 1);
    return 0;
}

/* The number of lines in data[0..len). */
static uint64_t count_lines(const char *data, size_t len)
{
    uint64_t n = 0;
    if (len == 0) /* data may be NULL then (an empty buf) */
        return 0;
    for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + len - p))) != NULL; p++)
        n++;
    return n;
}

void log_file_close(void)
{
    atomic_fetch_add(&dropped_lines, count_lines(lf.pending.data, lf.pending.len));
    buf_reset(&lf.pending);
    atomic_store(&pending_bytes, 0);
    use_fd(STDERR_FILENO, NULL);
}

/* Length of the first line of data[0..len), its '\n' included. */
static size_t first_line(const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    return nl ? (size_t)(nl - data) + 1 : len;
}

static int is_error_line(const char *line, size_t len)
{
    static const char marker[] = "\"level\":\"error\"";
    size_t window = len < 64 ? len : 64; /* {"ts":"<24 characters>","level":"error", */
    return memmem(line, window, marker, sizeof(marker) - 1) != NULL;
}

/* Lines whose write failed: error lines wait in `pending` (while it has room), the rest are
 * counted as dropped. */
static void keep_or_drop(const char *data, size_t len)
{
    uint64_t dropped = 0;
    while (len > 0) {
        size_t n = first_line(data, len);
        if (!is_error_line(data, n) || buf_append(&lf.pending, data, n) < 0)
            dropped++;
        data += n;
        len -= n;
    }
    lf.pending.overflowed = 0;
    atomic_fetch_add(&dropped_lines, dropped);
    atomic_store(&pending_bytes, lf.pending.len);
}

/* The file's size as the file system has it (another program may have truncated it, as
 * logrotate's copytruncate does). */
static void refresh_size(void)
{
    struct stat st;
    if (lf.regular && fstat(lf.fd, &st) == 0)
        lf.size = (uint64_t)st.st_size;
}

/* A write stopped `done` bytes into data: cut the torn line off the end of the file (or, when
 * that cannot be done, start the next write on a new line). Returns the bytes of whole lines
 * that made it. */
static size_t whole_lines_written(const char *data, size_t done)
{
    size_t whole = done;
    while (whole > 0 && data[whole - 1] != '\n')
        whole--;
    if (whole == done)
        return whole;
    refresh_size();
    uint64_t torn = done - whole;
    if (!lf.regular || lf.size < torn || ftruncate(lf.fd, (off_t)(lf.size - torn)) < 0)
        lf.torn = 1;
    else
        lf.size -= torn;
    return whole;
}

/* Writes whole lines. Returns how many bytes of whole lines reached the file (all of `len`
 * unless a write failed). */
static size_t write_lines(const char *data, size_t len)
{
    if (lf.torn) { /* end the fragment a failed write left, so the next line starts clean */
        if (write(lf.fd, "\n", 1) != 1) {
            atomic_fetch_add(&write_errors, 1);
            return 0;
        }
        lf.torn = 0;
        lf.size++;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(lf.fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            atomic_fetch_add(&write_errors, 1);
            lf.size += done;
            size_t whole = whole_lines_written(data, done);
            atomic_fetch_add(&written_bytes, whole);
            return whole;
        }
        done += (size_t)n;
    }
    lf.size += len;
    atomic_fetch_add(&written_bytes, len);
    return len;
}

static void numbered(char *out, size_t cap, unsigned n)
{
    snprintf(out, cap, "%s.%u", lf.path, n);
}

/* FILE -> FILE.1 -> ... -> FILE.(max_files - 1), the last one removed, and a new empty FILE.
 * Returns 0, or -1 with nothing shifted when the new file cannot be created. */
static int rotate(void)
{
    char fresh[4200], from[4200], to[4200];
    snprintf(fresh, sizeof(fresh), "%s.rotating", lf.path);
    int fd = open(fresh, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    unsigned keep = lf.rotation.max_files;
    if (keep > 1) {
        numbered(to, sizeof(to), keep - 1);
        unlink(to);
        for (unsigned i = keep - 1; i > 1; i--) {
            numbered(from, sizeof(from), i - 1);
            numbered(to, sizeof(to), i);
            rename(from, to);
        }
        numbered(to, sizeof(to), 1);
        rename(lf.path, to);
    }
    if (rename(fresh, lf.path) < 0) {
        close(fd);
        unlink(fresh);
        return -1;
    }
    char *path = lf.path;
    lf.path = NULL;
    use_fd(fd, path);
    atomic_fetch_add(&rotations_by_size, 1);
    return 0;
}

/* Rotates when the first line of data would take the file past max_size. */
static void rotate_if_due(const char *data, size_t len)
{
    uint64_t max = lf.rotation.max_size;
    if (!max || !lf.regular || lf.size == 0 || lf.size + first_line(data, len) <= max)
        return;
    refresh_size(); /* it may have been truncated behind our back */
    if (lf.size == 0 || lf.size + first_line(data, len) <= max)
        return;
    uint64_t now = clock_monotonic_ns();
    if (now < lf.rotate_not_before_ns)
        return;
    if (rotate() < 0)
        lf.rotate_not_before_ns = now + ROTATE_RETRY_NS;
}

/* How much of data[0..len), in whole lines, still fits the current file (at least one line). */
static size_t fitting(const char *data, size_t len)
{
    uint64_t max = lf.rotation.max_size;
    if (!max || !lf.regular || lf.size + len <= max)
        return len;
    size_t room = lf.size < max ? (size_t)(max - lf.size) : 0;
    size_t n = 0;
    while (n < len) {
        size_t line = first_line(data + n, len - n);
        if (n > 0 && n + line > room)
            break;
        n += line;
    }
    return n;
}

/* Writes data in pieces that each fit the current file, rotating between them. Returns the
 * bytes written (all of len unless a write failed). */
static size_t write_rotating(const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        rotate_if_due(data + done, len - done);
        size_t piece = fitting(data + done, len - done);
        size_t n = write_lines(data + done, piece);
        done += n;
        if (n < piece)
            break;
    }
    return done;
}

void log_file_write(const char *lines, size_t len)
{
    if (lf.pending.len > 0) { /* older error lines first */
        size_t n = write_rotating(lf.pending.data, lf.pending.len);
        memmove(lf.pending.data, lf.pending.data + n, lf.pending.len - n);
        lf.pending.len -= n;
        lf.pending.data[lf.pending.len] = '\0';
        atomic_store(&pending_bytes, lf.pending.len);
        if (lf.pending.len > 0) { /* still failing: keep the new error lines behind them */
            keep_or_drop(lines, len);
            return;
        }
    }
    size_t n = write_rotating(lines, len);
    if (n < len)
        keep_or_drop(lines + n, len - n);
}

void log_file_stats(struct log_file_stats *out)
{
    out->rotations_by_size = atomic_load(&rotations_by_size);
    out->rotations_by_signal = atomic_load(&rotations_by_signal);
    out->written_bytes = atomic_load(&written_bytes);
    out->dropped_lines = atomic_load(&dropped_lines);
    out->write_errors = atomic_load(&write_errors);
    out->pending_bytes = atomic_load(&pending_bytes);
}
