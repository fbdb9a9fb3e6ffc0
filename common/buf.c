/*
 * buf: a growable byte buffer with a hard size limit. See buf.h for the contract.
 * Growth doubles the allocation (minimum 256 bytes) but never allocates past limit + 1.
 */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    buf_init(b, b->limit);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->overflowed = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->limit - b->len) {
        b->overflowed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    char *data = realloc(b->data, cap);
    if (!data) {
        b->overflowed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_slow(struct buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    int rc = -1;
    if (n < 0)
        goto out;
    if ((size_t)n < sizeof(small)) {
        rc = buf_append(b, small, (size_t)n);
        goto out;
    }
    if (buf_reserve(b, (size_t)n) < 0)
        goto out;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    b->len += (size_t)n;
    rc = 0;
out:
    va_end(again);
    return rc;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
    if (buf_reserve(b, 0) < 0) /* allocates the empty string when nothing was appended */
        return NULL;
    char *data = b->data;
    if (len)
        *len = b->len;
    buf_init(b, b->limit);
    return data;
}

int buf_append_file(struct buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    int why = 0;
    while (!why && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(b, chunk, n) != 0)
            why = b->len + n > b->limit ? EFBIG : ENOMEM;
    if (!why && ferror(f))
        why = errno ? errno : EIO;
    fclose(f);
    errno = why;
    return why ? -1 : 0;
}
