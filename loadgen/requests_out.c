/*
 * requests_out: formatting request records and writing them in whole buffers (see
 * requests_out.h). A write error is remembered and reported at close, like the ledger's, so a
 * full disk never passes for a complete file.
 */
#include "requests_out.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json_writer.h"

#define RECORD_MAX 2048 /* one formatted record, names cut to their fields */

struct requests_out {
    pthread_mutex_t lock;
    int fd;
    int csv;
    int failed_errno;
    char *path;
    _Atomic uint64_t records;
};

static const char csv_header[] =
    "target,method,intended_unix_us,sent_unix_us,done_unix_us,status,error,bytes_sent,"
    "bytes_received,new_connection,first_byte_us,dns_us,connect_us,tls_us,warmup,thread\n";

static void write_all(struct requests_out *o, const char *data, size_t n)
{
    pthread_mutex_lock(&o->lock);
    while (n > 0 && !o->failed_errno) {
        ssize_t w = write(o->fd, data, n);
        if (w > 0) {
            data += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            o->failed_errno = w < 0 ? errno : EIO;
        }
    }
    pthread_mutex_unlock(&o->lock);
}

int requests_out_open(struct requests_out **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    struct requests_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path))) {
        free(o);
        snprintf(err, errlen, "cannot open the requests file %s: out of memory", path);
        return -1;
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        snprintf(err, errlen, "cannot write the requests file %s: %s", path, strerror(errno));
        free(o->path);
        free(o);
        return -1;
    }
    size_t n = strlen(path);
    o->csv = n >= 4 && !strcasecmp(path + n - 4, ".csv");
    pthread_mutex_init(&o->lock, NULL);
    atomic_init(&o->records, 0);
    if (o->csv)
        write_all(o, csv_header, sizeof csv_header - 1);
    *out = o;
    return 0;
}

void requests_out_buf_init(struct requests_out_buf *rb, struct requests_out *file)
{
    rb->file = file;
    buf_init(&rb->b, REQUESTS_OUT_BUFFER);
}

static void flush(struct requests_out_buf *rb)
{
    if (rb->b.len)
        write_all(rb->file, rb->b.data, rb->b.len);
    buf_reset(&rb->b);
}

/* A name as a CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_text(struct buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

static void csv_optional(struct buf *b, int64_t v)
{
    if (v >= 0)
        buf_printf(b, "%" PRId64, v);
    buf_putc(b, ',');
}

static void format_csv(struct buf *b, const struct request_record *r)
{
    csv_text(b, r->target);
    buf_putc(b, ',');
    csv_text(b, r->method);
    buf_printf(b, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%s,%" PRIu64 ",%" PRIu64 ",%d,",
               r->intended_unix_ns / 1000, r->sent_unix_ns / 1000, r->done_unix_ns / 1000,
               r->status, r->error ? r->error : "", r->bytes_sent, r->bytes_received,
               r->new_connection);
    csv_optional(b, r->first_byte_us);
    csv_optional(b, r->dns_us);
    csv_optional(b, r->connect_us);
    csv_optional(b, r->tls_us);
    buf_printf(b, "%d,%u\n", r->warmup, r->thread);
}

static void json_optional(struct json_writer *w, const char *key, int64_t v)
{
    if (v >= 0)
        jw_member_int(w, key, v);
}

static void format_json(struct buf *b, const struct request_record *r)
{
    struct json_writer w;
    jw_init(&w, b);
    jw_object_begin(&w);
    jw_member_string(&w, "target", r->target);
    jw_member_string(&w, "method", r->method);
    jw_member_uint(&w, "intended_unix_us", r->intended_unix_ns / 1000);
    jw_member_uint(&w, "sent_unix_us", r->sent_unix_ns / 1000);
    jw_member_uint(&w, "done_unix_us", r->done_unix_ns / 1000);
    jw_member_int(&w, "status", r->status);
    jw_key(&w, "error");
    if (r->error)
        jw_string(&w, r->error);
    else
        jw_null(&w);
    jw_member_uint(&w, "bytes_sent", r->bytes_sent);
    jw_member_uint(&w, "bytes_received", r->bytes_received);
    jw_member_bool(&w, "new_connection", r->new_connection);
    json_optional(&w, "first_byte_us", r->first_byte_us);
    json_optional(&w, "dns_us", r->dns_us);
    json_optional(&w, "connect_us", r->connect_us);
    json_optional(&w, "tls_us", r->tls_us);
    if (r->warmup)
        jw_member_bool(&w, "warmup", 1);
    jw_member_uint(&w, "thread", r->thread);
    jw_object_end(&w);
    buf_putc(b, '\n');
}

void requests_out_add(struct requests_out_buf *rb, const struct request_record *r)
{
    if (rb->b.len + RECORD_MAX > REQUESTS_OUT_BUFFER)
        flush(rb);
    size_t mark = rb->b.len;
    if (rb->file->csv)
        format_csv(&rb->b, r);
    else
        format_json(&rb->b, r);
    if (rb->b.overflowed) { /* cannot happen with names cut to their fields; never half a line */
        rb->b.len = mark;
        rb->b.overflowed = 0;
        return;
    }
    atomic_fetch_add_explicit(&rb->file->records, 1, memory_order_relaxed);
}

void requests_out_buf_close(struct requests_out_buf *rb)
{
    if (rb->file)
        flush(rb);
    buf_free(&rb->b);
    rb->file = NULL;
}

int requests_out_close(struct requests_out *o, char *err, size_t errlen)
{
    if (!o)
        return 0;
    int failed = o->failed_errno;
    if (close(o->fd) != 0 && !failed)
        failed = errno;
    int rc = 0;
    if (failed) {
        snprintf(err, errlen, "the requests file %s is incomplete: %s", o->path, strerror(failed));
        rc = -1;
    }
    pthread_mutex_destroy(&o->lock);
    free(o->path);
    free(o);
    return rc;
}

uint64_t requests_out_count(const struct requests_out *o)
{
    return atomic_load_explicit(&((struct requests_out *)o)->records, memory_order_relaxed);
}
