/*
 * logfile: taskd's JSON-lines log as the tests read it: one parsed object per line.
 *
 * A line that is not a JSON object is kept with json == NULL, so a test can assert that every
 * line parses (log injection would show up as a line that does not, or as one too many).
 * Waiting helpers poll the file with a deadline, because a request's line is written just after
 * its response is sent.
 */
#ifndef E2E_LOGFILE_H
#define E2E_LOGFILE_H

#include <stddef.h>

#include <cJSON.h>

struct logfile_line {
    char *raw;   /* without the newline */
    cJSON *json; /* NULL when the line is not a JSON object */
};

struct logfile {
    struct logfile_line *lines;
    size_t count;
    int ends_with_newline; /* 0 when the last line was cut short (or the file is empty) */
};

/* Splits and parses `text`. Returns 0 with *out set (free with logfile_free()), or -1. */
int logfile_parse(const char *text, size_t len, struct logfile **out);

/* Reads and parses the file at `path`, from byte `offset` on. Returns 0 or -1. */
int logfile_read(const char *path, size_t offset, struct logfile **out);

void logfile_free(struct logfile *lf);

/* Lines whose "msg" is `msg`. */
size_t logfile_count_msg(const struct logfile *lf, const char *msg);

/* The request line ("msg":"request") with this request_id, or NULL; *matches gets how many
 * request lines carry it. */
const cJSON *logfile_find_request(const struct logfile *lf, const char *request_id,
                                  size_t *matches);

/* Polls `path` until it holds at least `n` lines whose "msg" is `msg` (from `offset` on).
 * Returns 0, or -1 at the timeout. */
int logfile_wait_msg(const char *path, size_t offset, const char *msg, size_t n, int timeout_ms);

#endif
