/*
 * log: JSON-lines logger. See log.h for the contract.
 * Lines are appended to one buffer under a mutex and written out in batches (a write(2) per
 * request would cost more than the request): when the buffer fills, when an error line is
 * added, and every LOG_FLUSH_INTERVAL_MS from a flusher thread. The buffer only ever holds
 * whole lines, so a batch never splits one. log_reopen() flushes to the old file first.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define LOG_BUFFER_SIZE (64 * 1024)
#define LOG_FLUSH_INTERVAL_MS 50

static struct {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* the flusher's timer, and its stop signal */
    int fd;
    int owns_fd;
    char *path;
    enum log_level min_level;
    char buffer[LOG_BUFFER_SIZE];
    size_t used;
    pthread_t flusher;
    int flusher_running, stopping;
} logger = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .fd = STDERR_FILENO,
    .min_level = LOG_INFO,
};

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

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* Writes the buffered lines out. Caller holds the lock. */
static void flush_locked(void)
{
    const char *data = logger.buffer;
    size_t len = logger.used;
    while (len > 0) {
        ssize_t n = write(logger.fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere left to report a failing log; never block the service on it */
        data += n;
        len -= (size_t)n;
    }
    logger.used = 0;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&logger.lock);
    while (!logger.stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += LOG_FLUSH_INTERVAL_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&logger.wake, &logger.lock, &deadline);
        flush_locked();
    }
    pthread_mutex_unlock(&logger.lock);
    return NULL;
}

int log_open(const char *path, enum log_level min_level)
{
    int fd = STDERR_FILENO;
    char *copy = NULL;
    if (path && strcmp(path, "-") != 0) {
        fd = open_log_file(path);
        if (fd < 0)
            return -1;
        copy = strdup(path);
    }
    pthread_mutex_lock(&logger.lock);
    flush_locked();
    if (logger.owns_fd)
        close(logger.fd);
    free(logger.path);
    logger.fd = fd;
    logger.owns_fd = copy != NULL;
    logger.path = copy;
    logger.min_level = min_level;
    if (!logger.flusher_running) {
        logger.stopping = 0;
        logger.flusher_running = pthread_create(&logger.flusher, NULL, flusher_main, NULL) == 0;
    }
    pthread_mutex_unlock(&logger.lock);
    return 0;
}

int log_reopen(void)
{
    pthread_mutex_lock(&logger.lock);
    flush_locked();
    int rc = 0;
    if (logger.path) {
        int fd = open_log_file(logger.path);
        if (fd < 0) {
            rc = -1;
        } else {
            close(logger.fd);
            logger.fd = fd;
        }
    }
    int saved = errno;
    pthread_mutex_unlock(&logger.lock);
    errno = saved;
    return rc;
}

void log_close(void)
{
    pthread_mutex_lock(&logger.lock);
    int running = logger.flusher_running;
    logger.stopping = 1;
    logger.flusher_running = 0;
    pthread_cond_signal(&logger.wake);
    pthread_mutex_unlock(&logger.lock);
    if (running)
        pthread_join(logger.flusher, NULL);
    pthread_mutex_lock(&logger.lock);
    flush_locked();
    if (logger.owns_fd)
        close(logger.fd);
    free(logger.path);
    logger.fd = STDERR_FILENO;
    logger.owns_fd = 0;
    logger.path = NULL;
    pthread_mutex_unlock(&logger.lock);
}

void log_flush(void)
{
    pthread_mutex_lock(&logger.lock);
    flush_locked();
    pthread_mutex_unlock(&logger.lock);
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
    e->level = level;
    jw_object_begin(&e->w);
    jw_key(&e->w, "ts");
    jw_string(&e->w, ts);
    jw_key(&e->w, "level");
    jw_string(&e->w, level_names[level]);
    jw_key(&e->w, "msg");
    jw_string(&e->w, msg);
    return 0;
}

/* Adds one whole line to the buffer; error lines (and a full buffer) are written at once so
 * they are on disk before anyone could need them. */
static void log_append(const char *data, size_t len, enum log_level level)
{
    pthread_mutex_lock(&logger.lock);
    _Static_assert(LOG_LINE_LIMIT + 1 <= LOG_BUFFER_SIZE, "a whole line always fits the buffer");
    if (logger.used + len > sizeof(logger.buffer))
        flush_locked();
    memcpy(logger.buffer + logger.used, data, len);
    logger.used += len;
    if (level >= LOG_ERROR || !logger.flusher_running)
        flush_locked();
    pthread_mutex_unlock(&logger.lock);
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
    log_append(e->line.data, e->line.len, e->level);
    buf_free(&e->line);
}

void log_msg(enum log_level level, const char *msg)
{
    struct log_entry e;
    if (log_begin(&e, level, msg) == 0)
        log_end(&e);
}
