/*
 * log_file: where the JSON log lines end up: a file appended whole lines at a time (or stderr),
 * rotated by size when asked (FILE -> FILE.1 -> ... -> FILE.N-1, the oldest removed, so at most
 * N files of at most max_size bytes each), and reopened on request (SIGHUP after logrotate).
 *
 * A write that fails (a full disk, an I/O error, a removed mount) never splits a line and never
 * waits for the disk to come back: the lines that could not be written are dropped and counted,
 * except error lines, which are kept in memory (up to LOG_FILE_PENDING_LIMIT bytes) and written
 * first, in order, as soon as a write works again. Nothing already in the file is ever cut,
 * apart from the torn end of a line that a failing write left.
 *
 * One writer: the caller serializes every call but log_file_stats(), which reads atomics.
 */
#ifndef TASKBENCH_LOG_FILE_H
#define TASKBENCH_LOG_FILE_H

#include <stddef.h>
#include <stdint.h>

#define LOG_FILE_PENDING_LIMIT (1024 * 1024) /* error lines kept while writes fail */

struct log_rotation {
    uint64_t max_size;  /* rotate before a write would pass it; 0: never */
    unsigned max_files; /* files kept, the current one included (1: the old one is removed) */
};

/* Opens `path` for appending ("-" or NULL: stderr, never rotated). `rotation` may be NULL.
 * Returns 0, or -1 with errno set and the previous destination kept. */
int log_file_open(const char *path, const struct log_rotation *rotation);

/* Opens the same path again (logrotate moved the file away), counted as a rotation by signal.
 * Returns 0, or -1 with errno set and the old descriptor kept. */
int log_file_reopen(void);

/* Goes back to stderr, closing the file. Error lines still pending are given up (counted). */
void log_file_close(void);

/* Appends whole lines (each ending in '\n'). */
void log_file_write(const char *lines, size_t len);

struct log_file_stats {
    uint64_t rotations_by_size;
    uint64_t rotations_by_signal;
    uint64_t written_bytes;
    uint64_t dropped_lines; /* never written: their write failed (error lines: their pending
                               space was full) */
    uint64_t write_errors;  /* failed write(2) calls */
    uint64_t pending_bytes; /* error lines waiting for a write to work again */
};

void log_file_stats(struct log_file_stats *out);

#endif
