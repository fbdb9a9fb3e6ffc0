/*
 * log: JSON-lines logger. See log.h for the contract.
 * Lines are appended whole to the active one of two buffers under `lock` and written out in
 * batches (a write(2) per request would cost more than the request): when a buffer fills, when
 * an error line is added, and every LOG_FLUSH_INTERVAL_MS from a flusher thread. A flush swaps
 * the buffers under `lock` and hands the full one to log_file outside it, so request threads
 * never wait on the disk; `write_lock` keeps flushes, reopens and rotations in order (log_file
 * has a single writer).
 * Lock order: write_lock, then lock.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log_file.h"

/* Two of these: 1 MiB lasts about 150 ms of request lines at 30k requests/s, so a write(2) that
 * stalls on the file system (ext4 journal commits take tens of ms) never holds up a request. */
#define LOG_BUFFER_SIZE (1024 * 1024)
#define LOG_FLUSH_INTERVAL_MS 50

static struct {
    pthread_mutex_t write_lock; /* held while writing out (log_file has one writer) */
    pthread_mutex_t lock;       /* guards the buffers, min_level and the flusher's state */
    pthread_cond_t wake;        /* the flusher's timer, and its stop signal */
    enum log_level min_level;
    char buffers[2][LOG_BUFFER_SIZE];
    int active;
    size_t used;
    pthread_t flusher;
    int flusher_running, stopping;
} logger = {
    .write_lock = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
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

/* Writes out what is buffered. Caller holds write_lock (not lock). */
static void flush_holding_write_lock(void)
{
    pthread_mutex_lock(&logger.lock);
    const char *data = logger.buffers[logger.active];
    size_t len = logger.used;
    logger.active ^= 1;
    logger.used = 0;
    pthread_mutex_unlock(&logger.lock);
    if (len > 0)
        log_file_write(data, len);
}

void log_flush(void)
{
    pthread_mutex_lock(&logger.write_lock);
    flush_holding_write_lock();
    pthread_mutex_unlock(&logger.write_lock);
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
        if (logger.used == 0)
            continue;
        pthread_mutex_unlock(&logger.lock);
        log_flush();
        pthread_mutex_lock(&logger.lock);
    }
    pthread_mutex_unlock(&logger.lock);
    return NULL;
}

int log_open(const char *path, enum log_level min_level, const struct log_rotation *rotation)
{
    pthread_mutex_lock(&logger.write_lock);
    flush_holding_write_lock();
    int rc = log_file_open(path, rotation);
    int saved = errno;
    pthread_mutex_unlock(&logger.write_lock);
    if (rc < 0) {
        errno = saved;
        return -1;
    }
    pthread_mutex_lock(&logger.lock);
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
    pthread_mutex_lock(&logger.write_lock);
    flush_holding_write_lock();
    int rc = log_file_reopen();
    int saved = errno;
    pthread_mutex_unlock(&logger.write_lock);
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
    pthread_mutex_lock(&logger.write_lock);
    flush_holding_write_lock();
    log_file_close();
    pthread_mutex_unlock(&logger.write_lock);
}

int log_enabled(enum log_level level)
{
    return level >= logger.min_level;
}

/* Each thread formats its lines in a buffer of its own that is kept from one line to the next:
 * allocating and growing one per line cost about as much as formatting it. Freed when the
 * thread exits. A line begun while the thread's buffer is in use gets a fresh one. */
struct line_buffer {
    struct buf buf;
    int busy;
};

static pthread_key_t line_key;
static pthread_once_t line_key_once = PTHREAD_ONCE_INIT;
static int line_key_ok;

static void line_buffer_free(void *p)
{
    struct line_buffer *lb = p;
    buf_free(&lb->buf);
    free(lb);
}

static void line_key_create(void)
{
    line_key_ok = pthread_key_create(&line_key, line_buffer_free) == 0;
}

static struct line_buffer *thread_line_buffer(void)
{
    pthread_once(&line_key_once, line_key_create);
    if (!line_key_ok)
        return NULL;
    struct line_buffer *lb = pthread_getspecific(line_key);
    if (!lb) {
        lb = calloc(1, sizeof(*lb));
        if (!lb || pthread_setspecific(line_key, lb) != 0) {
            free(lb);
            return NULL;
        }
        buf_init(&lb->buf, LOG_LINE_LIMIT);
    }
    return lb;
}

int log_begin(struct log_entry *e, enum log_level level, const char *msg)
{
    if (!log_enabled(level))
        return -1;
    char ts[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(clock_realtime_ns(), ts);
    struct line_buffer *lb = thread_line_buffer();
    if (lb && !lb->busy) {
        lb->busy = 1;
        e->line = lb->buf;
        e->reused = lb;
    } else {
        buf_init(&e->line, LOG_LINE_LIMIT);
        e->reused = NULL;
    }
    jw_init(&e->w, &e->line);
    e->level = level;
    jw_object_begin(&e->w);
    jw_member_string(&e->w, "ts", ts);
    jw_member_string(&e->w, "level", level_names[level]);
    jw_member_string(&e->w, "msg", msg);
    return 0;
}

/* Adds one whole line to the active buffer; error lines (and a full buffer) are written out at
 * once so they are on disk before anyone could need them. */
static void log_append(const char *data, size_t len, enum log_level level)
{
    _Static_assert(LOG_LINE_LIMIT + 1 <= LOG_BUFFER_SIZE, "a whole line always fits a buffer");
    pthread_mutex_lock(&logger.lock);
    while (logger.used + len > LOG_BUFFER_SIZE) {
        pthread_mutex_unlock(&logger.lock);
        log_flush();
        pthread_mutex_lock(&logger.lock);
    }
    memcpy(logger.buffers[logger.active] + logger.used, data, len);
    logger.used += len;
    int now = level >= LOG_ERROR || !logger.flusher_running;
    pthread_mutex_unlock(&logger.lock);
    if (now)
        log_flush();
}

/* Gives the line's buffer back to the thread (emptied, its memory kept), or frees it. */
static void line_release(struct log_entry *e)
{
    struct line_buffer *lb = e->reused;
    if (!lb) {
        buf_free(&e->line);
        return;
    }
    lb->buf = e->line;
    buf_reset(&lb->buf);
    lb->busy = 0;
}

void log_end(struct log_entry *e)
{
    jw_object_end(&e->w);
    if (e->w.failed) {
        /* Over the limit: keep the head that fits and say so, still as valid JSON. */
        line_release(e);
        log_msg(LOG_WARN, "log line dropped: over the 16 KiB line limit");
        return;
    }
    buf_putc(&e->line, '\n');
    log_append(e->line.data, e->line.len, e->level);
    line_release(e);
}

void log_msg(enum log_level level, const char *msg)
{
    struct log_entry e;
    if (log_begin(&e, level, msg) == 0)
        log_end(&e);
}
