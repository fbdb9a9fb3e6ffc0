/*
 * buf: a growable byte buffer with a hard size limit (the habit of curl's dynbuf).
 *
 * A buffer is created with a cap and refuses to grow past it: every append either adds all of
 * its bytes or none, returns -1 and marks the buffer as overflowed. The contents are always
 * NUL-terminated so they can be handed to C string functions. Used for request bodies (capped at
 * 64 KiB), JSON responses, log lines and the Prometheus exposition.
 */
#ifndef TASKBENCH_BUF_H
#define TASKBENCH_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data;     /* NUL-terminated; NULL until the first append */
    size_t len;     /* bytes used, not counting the NUL */
    size_t cap;     /* bytes allocated */
    size_t limit;   /* len never exceeds this */
    int overflowed; /* set once an append was refused for the limit or for memory */
};

/* Initialises an empty buffer that will hold at most `limit` bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t limit);

/* Frees the contents and leaves an empty buffer with the same limit. Accepts NULL. */
void buf_free(struct buf *b);

/* Forgets the contents but keeps the memory for reuse. */
void buf_reset(struct buf *b);

/* Appends `n` bytes. Returns 0, or -1 (over the limit or out of memory) and appends nothing.
 * Appends that fit the memory already allocated are inline: JSON writing makes many small ones
 * per request line. */
int buf_append_slow(struct buf *b, const void *data, size_t n);
static inline int buf_append(struct buf *b, const void *data, size_t n)
{
    if (n < b->cap - b->len) { /* cap <= limit + 1, so this also keeps len within the limit */
        memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append_slow(b, data, n);
}
static inline int buf_putc(struct buf *b, char c)
{
    if (b->cap - b->len > 1) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append_slow(b, &c, 1);
}
int buf_puts(struct buf *b, const char *s);

/* Makes room for `extra` more bytes without appending them, so that a writer can fill
 * buf_tail() directly and then call buf_commit(). Returns 0, or -1 (over the limit or out of
 * memory). */
int buf_reserve(struct buf *b, size_t extra);
static inline char *buf_tail(struct buf *b)
{
    return b->data + b->len;
}
/* Adds `n` bytes written at buf_tail() after a successful buf_reserve(b, n) or more. */
static inline void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

/* printf-style append. Returns 0, or -1 and appends nothing. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Appends the whole file at `path`. Returns 0, or -1 with errno set: EFBIG when the file holds
 * more than the limit allows, ENOMEM, or the error of opening or reading it (the buffer then
 * keeps what was read). */
int buf_append_file(struct buf *b, const char *path);

/* Hands the contents to the caller (who frees them with free()) and leaves `b` empty.
 * Returns an empty allocated string when nothing was appended, NULL when out of memory. */
char *buf_detach(struct buf *b, size_t *len);

#endif
