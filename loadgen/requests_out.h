/*
 * requests_out: every request of a run, one record each, streamed to a file
 * (`--requests-out FILE`): JSON lines, or CSV when the name ends in .csv.
 *
 * Each engine thread formats its records into its own 64 KiB buffer and writes the buffer out
 * whole (under the file's lock) when it fills and when the thread ends, so memory stays
 * constant however long the run and threads never wait for each other per request. Records of
 * different threads interleave in the file by buffer, not in time order: sort by
 * intended_unix_us when the order matters.
 *
 * Fields (CSV columns in this order; JSON omits those that do not apply):
 *   target           the route: a target's name, a task-mix operation, or "raw"
 *   method           the request method
 *   intended_unix_us when the request was due (the open model's schedule; in the closed model
 *                    when its connection became free), Unix time in microseconds
 *   sent_unix_us     when loadgen started sending it
 *   done_unix_us     when the response (or the error) was complete
 *   status           the HTTP status, 0 when none came
 *   error            why it failed: unexpected_status, body_mismatch, or a transport error
 *                    (connect, timeout, reset, protocol, other); empty/null when it succeeded
 *   bytes_sent       request bytes (head and body) written
 *   bytes_received   response body bytes
 *   new_connection   1/true when this request opened its connection
 *   first_byte_us    sent → first response byte (µs)
 *   dns_us, connect_us, tls_us  libcurl's phases from the transfer's start (libcurl path only)
 *   warmup           1/true during --warmup (not in the results)
 *   thread           the engine thread that sent it
 * Microseconds since the epoch fit a double exactly (< 2^53), so JSON readers lose nothing.
 */
#ifndef LOADGEN_REQUESTS_OUT_H
#define LOADGEN_REQUESTS_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REQUESTS_OUT_BUFFER (64 * 1024)

struct request_record {
    const char *target;
    const char *method;
    uint64_t intended_unix_ns, sent_unix_ns, done_unix_ns;
    int status;
    const char *error; /* NULL: success */
    uint64_t bytes_sent, bytes_received;
    int new_connection;
    int64_t first_byte_us;              /* -1: none */
    int64_t dns_us, connect_us, tls_us; /* -1: not measured (the direct path) */
    int warmup;
    unsigned thread;
};

struct requests_out;

/* Opens (truncates) path; CSV when it ends in ".csv" (a header row is written), else JSON
 * lines. Returns 0, or -1 with a sentence in err. */
int requests_out_open(struct requests_out **out, const char *path, char *err, size_t errlen);

/* One thread's buffer. */
struct requests_out_buf {
    struct requests_out *file;
    struct buf b;
};

void requests_out_buf_init(struct requests_out_buf *rb, struct requests_out *file);
/* Formats one record; writes the buffer out first when it would not fit. */
void requests_out_add(struct requests_out_buf *rb, const struct request_record *r);
/* Writes out what the buffer holds and frees it. */
void requests_out_buf_close(struct requests_out_buf *rb);

/* Closes the file (every buffer closed first). Returns 0, or -1 with a sentence in err when a
 * write failed (the file is then incomplete). Accepts NULL. */
int requests_out_close(struct requests_out *o, char *err, size_t errlen);

/* Records written so far (all threads). */
uint64_t requests_out_count(const struct requests_out *o);

#endif
