/*
 * log: JSON lines, one object per line, to a file or stderr.
 *
 * Every line has ts (RFC 3339 UTC, ms), level and msg; callers add fields with the json_writer
 * between log_begin() and log_end(). Lines are buffered and written whole, in batches, to an
 * O_APPEND descriptor, so lines from concurrent threads never interleave: at most 50 ms after
 * they were logged, at once for error lines, and on log_flush()/log_close(). A crash (kill -9)
 * can lose the last 50 ms of info and warn lines, never an error line. log_reopen() (on SIGHUP)
 * flushes, then swaps the descriptor for logrotate without losing or splitting a line. The file
 * itself, its rotation by size and what happens when a write fails: log_file.h.
 */
#ifndef TASKBENCH_LOG_H
#define TASKBENCH_LOG_H

#include <stddef.h>

#include "buf.h"
#include "json_writer.h"
#include "log_file.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_LINE_LIMIT (16 * 1024) /* a longer line is replaced by a warning that says so */

/* Returns 0, or -1 for an unknown name. Names: debug, info, warn, error. */
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

/* Opens `path` for appending ("-" or NULL: stderr), rotated by size when `rotation` asks (NULL:
 * never; see log_file.h for rotation and for what happens when writes fail). Returns 0, or -1
 * with errno set. Until it is called, lines go to stderr at level info. */
int log_open(const char *path, enum log_level min_level, const struct log_rotation *rotation);

/* Reopens the same path (logrotate moved the old file away). Returns 0, or -1 with errno set
 * and the old descriptor kept. */
int log_reopen(void);
/* Flushes, stops the flusher thread and goes back to stderr. */
void log_close(void);

/* Writes out the buffered lines now. */
void log_flush(void);

int log_enabled(enum log_level level);

struct log_entry {
    enum log_level level;
    struct buf line;
    struct json_writer w; /* add fields with jw_key()/jw_*() */
    void *reused;         /* the thread's own line buffer, when it was free (log.c) */
};

/* Starts a line. Returns 0 when the level is enabled (then call log_end), -1 when not. */
int log_begin(struct log_entry *e, enum log_level level, const char *msg);

/* Finishes, writes and frees the line. */
void log_end(struct log_entry *e);

/* A line with only ts, level, msg. */
void log_msg(enum log_level level, const char *msg);

#endif
