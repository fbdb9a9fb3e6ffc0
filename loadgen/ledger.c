/*
 * ledger: the write log for the audit (format in ledger.h). Each line is formatted on the
 * caller's stack with the project's JSON writer (so task text is always escaped) and written
 * whole under a mutex into a large stdio buffer; a write error is remembered and reported at
 * close, so a full disk never passes for a complete ledger.
 */
#include "ledger.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_writer.h"

#define LEDGER_STDIO_BUFFER (1 << 20)
#define LEDGER_LINE_MAX 8192

struct ledger {
    pthread_mutex_t lock;
    FILE *file;
    char *path;
    char *stdio_buffer;
    struct buf line; /* reused under the lock */
    int failed_errno;
    uint64_t lines;
};

const char *ledger_op_name(enum ledger_op op)
{
    static const char *const names[] = {"create", "update", "delete"};
    return op <= LEDGER_DELETE ? names[op] : "unknown";
}

const char *ledger_outcome_name(enum ledger_outcome o)
{
    static const char *const names[] = {"ok", "fail", "info"};
    return o <= LEDGER_INFO ? names[o] : "unknown";
}

struct ledger *ledger_open(const char *path, char *err, size_t errlen)
{
    struct ledger *l = calloc(1, sizeof *l);
    if (!l)
        goto nomem;
    l->path = strdup(path);
    l->stdio_buffer = malloc(LEDGER_STDIO_BUFFER);
    if (!l->path || !l->stdio_buffer)
        goto nomem;
    l->file = fopen(path, "w");
    if (!l->file) {
        snprintf(err, errlen, "cannot write the ledger %s: %s", path, strerror(errno));
        goto fail;
    }
    setvbuf(l->file, l->stdio_buffer, _IOFBF, LEDGER_STDIO_BUFFER);
    buf_init(&l->line, LEDGER_LINE_MAX);
    pthread_mutex_init(&l->lock, NULL);
    return l;
nomem:
    snprintf(err, errlen, "cannot open the ledger %s: out of memory", path);
fail:
    if (l) {
        free(l->path);
        free(l->stdio_buffer);
        free(l);
    }
    return NULL;
}

int ledger_id_is_integer(const char *id)
{
    size_t n = strspn(id, "0123456789");
    if (n == 0 || id[n] || (id[0] == '0' && n > 1) || n > 19)
        return 0;
    return n < 19 || strcmp(id, "9223372036854775807") <= 0;
}

static void render(const struct ledger_entry *e, struct buf *out)
{
    struct json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_member_string(&w, "op", ledger_op_name(e->op));
    jw_member_string(&w, "outcome", ledger_outcome_name(e->outcome));
    jw_member_int(&w, "status", e->status);
    if (e->id && e->id[0]) {
        jw_key(&w, "id");
        if (ledger_id_is_integer(e->id))
            jw_int(&w, strtoll(e->id, NULL, 10));
        else
            jw_string(&w, e->id);
    }
    if (e->task) {
        jw_member_string(&w, "task", e->task);
        if (e->done >= 0)
            jw_member_bool(&w, "done", e->done);
    }
    if (e->target)
        jw_member_string(&w, "target", e->target);
    jw_member_uint(&w, "invoke_unix_ns", e->invoke_unix_ns);
    jw_member_uint(&w, "complete_unix_ns", e->complete_unix_ns);
    jw_object_end(&w);
    buf_append(out, "\n", 1);
}

int ledger_append(struct ledger *l, const struct ledger_entry *e)
{
    pthread_mutex_lock(&l->lock);
    if (!l->failed_errno) {
        buf_reset(&l->line);
        render(e, &l->line);
        if (l->line.overflowed)
            l->failed_errno = EOVERFLOW;
        else if (fwrite(l->line.data, 1, l->line.len, l->file) != l->line.len)
            l->failed_errno = errno ? errno : EIO;
        else
            l->lines++;
    }
    int rc = l->failed_errno ? -1 : 0;
    pthread_mutex_unlock(&l->lock);
    return rc;
}

int ledger_close(struct ledger *l, char *err, size_t errlen)
{
    if (!l)
        return 0;
    int failed = l->failed_errno;
    if (fflush(l->file) != 0 && !failed)
        failed = errno ? errno : EIO;
    if (fclose(l->file) != 0 && !failed)
        failed = errno ? errno : EIO;
    int rc = 0;
    if (failed) {
        snprintf(err, errlen, "the ledger %s is incomplete: %s (the audit cannot trust it)",
                 l->path, strerror(failed));
        rc = -1;
    }
    pthread_mutex_destroy(&l->lock);
    buf_free(&l->line);
    free(l->path);
    free(l->stdio_buffer);
    free(l);
    return rc;
}
