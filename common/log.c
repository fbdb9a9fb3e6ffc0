/*
 * log: JSON-lines logger. See log.h for the contract.
 * Writers hold a read lock only to use the descriptor; log_reopen() takes the write lock to swap
 * it, so no thread ever writes to a descriptor that was closed under it.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static struct {
    pthread_rwlock_t lock;
    int fd;
    int owns_fd;
    char *path;
    enum log_level min_level;
} logger = {PTHREAD_RWLOCK_INITIALIZER, STDERR_FILENO, 0, NULL, LOG_INFO};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name, enum log_level *level)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

static int log_open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int log_open(const char *path, enum log_level min_level)
{
    int fd = STDERR_FILENO;
    char *copy = NULL;
    if (path && strcmp(path, "-") != 0) {
        fd = log_open_fd(path);
        if (fd < 0)
            return -1;
        copy = strdup(path);
    }
    pthread_rwlock_wrlock(&logger.lock);
    if (logger.owns_fd)
        close(logger.fd);
    free(logger.path);
    logger.fd = fd;
    logger.owns_fd = copy != NULL;
    logger.path = copy;
    logger.min_level = min_level;
    pthread_rwlock_unlock(&logger.lock);
    return 0;
}

int log_reopen(void)
{
    pthread_rwlock_wrlock(&logger.lock);
    int rc = 0;
    if (logger.path) {
        int fd = log_open_fd(logger.path);
        if (fd < 0) {
            rc = -1;
        } else {
            close(logger.fd);
            logger.fd = fd;
        }
    }
    int saved = errno;
    pthread_rwlock_unlock(&logger.lock);
    errno = saved;
    return rc;
}

void log_close(void)
{
    pthread_rwlock_wrlock(&logger.lock);
    if (logger.owns_fd)
        close(logger.fd);
    free(logger.path);
    logger.fd = STDERR_FILENO;
    logger.owns_fd = 0;
    logger.path = NULL;
    pthread_rwlock_unlock(&logger.lock);
}

int log_enabled(enum log_level level)
{
    return level >= logger.min_level;
}

int log_begin(struct log_entry *e, enum log_level level, const char *msg)
{
    if (!log_enabled(level))
        return -1;
    char ts[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(clock_realtime_ns(), ts);
    buf_init(&e->line, LOG_LINE_LIMIT);
    jw_init(&e->w, &e->line);
    jw_object_begin(&e->w);
    jw_key(&e->w, "ts");
    jw_string(&e->w, ts);
    jw_key(&e->w, "level");
    jw_string(&e->w, level_names[level]);
    jw_key(&e->w, "msg");
    jw_string(&e->w, msg);
    return 0;
}

static void log_write_all(const char *data, size_t len)
{
    pthread_rwlock_rdlock(&logger.lock);
    while (len > 0) {
        ssize_t n = write(logger.fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere left to report a failing log; never block the request on it */
        data += n;
        len -= (size_t)n;
    }
    pthread_rwlock_unlock(&logger.lock);
}

void log_end(struct log_entry *e)
{
    jw_object_end(&e->w);
    if (e->w.failed) {
        /* Over the limit: keep the head that fits and say so, still as valid JSON. */
        buf_free(&e->line);
        log_msg(LOG_WARN, "log line dropped: over the 16 KiB line limit");
        return;
    }
    buf_putc(&e->line, '\n');
    log_write_all(e->line.data, e->line.len);
    buf_free(&e->line);
}

void log_msg(enum log_level level, const char *msg)
{
    struct log_entry e;
    if (log_begin(&e, level, msg) == 0)
        log_end(&e);
}
