/*
 * json_writer: appends JSON to a struct buf, for responses and log lines.
 *
 * It tracks nesting so callers never write commas, and it always produces valid JSON: strings
 * are escaped (quotes, backslashes, control characters, U+2028/U+2029) and invalid UTF-8 bytes
 * become U+FFFD, so user text can never break a document or inject a log line. Errors are
 * sticky: after a refused append (buffer limit) every call is a no-op and jw.failed stays set.
 */
#ifndef TASKBENCH_JSON_WRITER_H
#define TASKBENCH_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_WRITER_MAX_DEPTH 16

struct json_writer {
    struct buf *out;
    unsigned depth;
    unsigned char has_items[JSON_WRITER_MAX_DEPTH]; /* per level: a comma is due before the next */
    int after_key;                                  /* the next value completes a member */
    int failed;
};

void jw_init(struct json_writer *w, struct buf *out);

void jw_object_begin(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w);
void jw_array_end(struct json_writer *w);
void jw_key(struct json_writer *w, const char *key);

void jw_string(struct json_writer *w, const char *s);
void jw_stringn(struct json_writer *w, const char *s, size_t n);
void jw_int(struct json_writer *w, int64_t v);
void jw_uint(struct json_writer *w, uint64_t v);
void jw_double(struct json_writer *w, double v); /* non-finite values are written as null */
/* Writes v with a fixed number of decimals (e.g. durations in ms: 3). Non-finite: null. */
void jw_fixed(struct json_writer *w, double v, int decimals);
void jw_bool(struct json_writer *w, int v);
void jw_null(struct json_writer *w);

/* A member: "key": value. The same as jw_key() followed by the value call. */
static inline void jw_member_string(struct json_writer *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_string(w, s);
}
static inline void jw_member_int(struct json_writer *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}
static inline void jw_member_uint(struct json_writer *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_uint(w, v);
}
static inline void jw_member_double(struct json_writer *w, const char *key, double v)
{
    jw_key(w, key);
    jw_double(w, v);
}
static inline void jw_member_bool(struct json_writer *w, const char *key, int v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

/* Appends `s` as an escaped JSON string (with quotes) to `out`. Returns 0 or -1 (limit). */
int json_escape_string(struct buf *out, const char *s, size_t n);

/* The same without the quotes: what goes between them (a value pasted into a JSON string by a
 * template). Returns 0 or -1 (limit). */
int json_escape_inner(struct buf *out, const char *s, size_t n);

#endif
