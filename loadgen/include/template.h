/*
 * template: per-request values in a request's URL, headers and body, compiled once at start.
 *
 *   {{seq}}            the request's number, from 1, unique across the threads and shards of a
 *                      run (streams interleave: thread t of shard s takes s + S*t + 1, then
 *                      every S*T-th number)
 *   {{uuid}}           a random version-4 UUID
 *   {{randint A B}}    a random integer from A to B (both included, -2^62 .. 2^62)
 *   {{data.COLUMN}}    the value of COLUMN (a name from the CSV header, or its number from 1)
 *                      in the request's row of --data
 *   {{run_tag}}        the run's tag (the prefix loadgen writes into the task mix's text)
 *   {{"text"}}         text as written ({{"{{"}} for two braces)
 * A value may pass through one filter: {{data.email | url}} (percent-encodes all but
 * A-Z a-z 0-9 - . _ ~) or {{data.name | json}} (escapes for the inside of a JSON string).
 * {{seq}}, {{uuid}} and the data row are drawn once per request: every use in the URL, the
 * headers and the body of one request sees the same value. Each {{randint}} draws anew.
 *
 * A compiled template is a list of literal spans and fields; rendering appends them to a
 * buffer, so a request costs a few memcpy and number formats, never a parse. A template
 * without any {{ }} is static: callers use its text as is.
 */
#ifndef LOADGEN_TEMPLATE_H
#define LOADGEN_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "data.h"

struct template;

/* Compiles text[0..len). data may be NULL (then {{data.X}} is refused). `where` names the
 * template in error messages ("targets.txt:4: the URL"). Returns 0, or -1 with one sentence in
 * err: an unclosed {{, an unknown name, a bad range, a column data does not have. */
int template_compile(struct template **out, const char *text, size_t len,
                     const struct data_set *data, const char *where, char *err, size_t errlen);

/* A static template whose text is text[0..len) as it is, {{ }} included (a binary body).
 * Returns 0, or -1 with err (out of memory). */
int template_literal(struct template **out, const char *text, size_t len, const char *where,
                     char *err, size_t errlen);

void template_free(struct template *t); /* accepts NULL */

/* 1 when the template has no field: its text is template_text(). */
int template_is_static(const struct template *t);
/* The text of a static template (NUL-terminated); NULL for one with fields. */
const char *template_text(const struct template *t, size_t *len);
/* 1 when the template uses {{data.…}}. */
int template_uses_data(const struct template *t);

/* Checks that no row of --data puts one of the bytes in `forbidden` into this template where
 * it is pasted unfiltered (a line break in a header would split the request). Returns 0, or -1
 * with a sentence in err naming the column and row. */
int template_check_data(const struct template *t, const char *forbidden, const char *where,
                        char *err, size_t errlen);

/* One thread's source of values: its share of sequence numbers and rows, and its RNG. */
struct template_stream {
    uint64_t seq_next, seq_stride;
    size_t row_next, row_stride;
    uint64_t rng;
    const struct data_set *data;
    const char *run_tag;
};

/* Sequence numbers: stream `seq_offset` of `seq_stride` interleaved streams (all threads of all
 * shards). Rows: `row_offset` of `row_stride` over data's rows (the threads of this shard: the
 * set holds this shard's rows only). 0 <= offset < stride. */
void template_stream_init(struct template_stream *s, unsigned seq_offset, unsigned seq_stride,
                          unsigned row_offset, unsigned row_stride, uint64_t seed,
                          const struct data_set *data, const char *run_tag);

/* The values of one request. */
struct template_vars {
    struct template_stream *stream;
    uint64_t seq;
    size_t row;
    int have_uuid;
    char uuid[37];
};

/* Draws the next request's sequence number and row. */
void template_vars_next(struct template_stream *s, struct template_vars *v);

/* Appends the rendering to out. Returns 0, or -1 when out's limit was reached (out then holds
 * what it held before). */
int template_render(const struct template *t, struct template_vars *v, struct buf *out);

#endif
