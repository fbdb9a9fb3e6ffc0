/*
 * data: CSV parsing into one block of values (see data.h).
 *
 * One pass over the text: a field is copied into the arena unquoted and NUL-terminated, its
 * offset and length go into the field table; a row is kept or dropped (shards) as a whole once
 * it ends, by rewinding both. Only the header row's names are looked up, at compile time of the
 * templates; rendering reads a value by (row, column) in constant time.
 */
#include "data.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct field {
    size_t off, len;
};

struct data_set {
    char *name;
    char *arena;
    size_t arena_len, arena_cap;
    struct field *fields; /* rows * columns, then the header's names */
    size_t nfields, fields_cap;
    size_t columns, rows;
    struct field *header; /* columns names, in their own table */
};

struct parser {
    struct data_set *d;
    const char *p, *end;
    size_t line; /* line of the text where the current row starts, from 1 */
    char *err;
    size_t errlen;
};

void data_free(struct data_set *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->arena);
    free(d->fields);
    free(d->header);
    free(d);
}

static int grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*ptr, n * size);
    if (!p)
        return -1;
    *ptr = p;
    *cap = n;
    return 0;
}

static int arena_put(struct data_set *d, const char *s, size_t n)
{
    if (grow((void **)&d->arena, &d->arena_cap, d->arena_len + n + 1, 1))
        return -1;
    memcpy(d->arena + d->arena_len, s, n);
    d->arena_len += n;
    return 0;
}

static int fail(struct parser *ps, const char *what)
{
    snprintf(ps->err, ps->errlen, "%s:%zu: %s", ps->d->name, ps->line, what);
    return -1;
}

static int out_of_memory(struct parser *ps)
{
    return fail(ps, "out of memory reading the CSV file");
}

/* Reads one field at ps->p into the arena. Returns 0 with *last set when the row ended after
 * it (line end or end of text), or -1. */
static int read_field(struct parser *ps, int *last)
{
    struct data_set *d = ps->d;
    struct field f = {d->arena_len, 0};
    if (ps->p < ps->end && *ps->p == '"') {
        size_t start_line = ps->line;
        ps->p++;
        for (;;) {
            const char *q = memchr(ps->p, '"', (size_t)(ps->end - ps->p));
            if (!q) {
                ps->line = start_line;
                return fail(ps, "a quoted field is not closed (a \" is missing)");
            }
            for (const char *c = ps->p; c < q; c++)
                ps->line += *c == '\n';
            if (arena_put(d, ps->p, (size_t)(q - ps->p)))
                return out_of_memory(ps);
            ps->p = q + 1;
            if (ps->p < ps->end && *ps->p == '"') { /* "" is one quote */
                if (arena_put(d, "\"", 1))
                    return out_of_memory(ps);
                ps->p++;
                continue;
            }
            break;
        }
        if (ps->p < ps->end && *ps->p != ',' && *ps->p != '\n' && *ps->p != '\r')
            return fail(ps, "text follows a closing quote (quote the whole field, and write a "
                            "quote inside it as \"\")");
    } else {
        const char *s = ps->p;
        while (ps->p < ps->end && *ps->p != ',' && *ps->p != '\n' && *ps->p != '\r') {
            if (*ps->p == '"')
                return fail(ps, "a quote inside an unquoted field (quote the field and write "
                                "the quote as \"\")");
            ps->p++;
        }
        if (arena_put(d, s, (size_t)(ps->p - s)))
            return out_of_memory(ps);
    }
    f.len = d->arena_len - f.off;
    d->arena[d->arena_len++] = '\0';
    if (grow((void **)&d->fields, &d->fields_cap, d->nfields + 1, sizeof *d->fields))
        return out_of_memory(ps);
    d->fields[d->nfields++] = f;
    *last = 1;
    if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        *last = 0;
    } else if (ps->p < ps->end) { /* CR, LF or CRLF */
        if (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
            ps->p++;
        ps->p++;
        ps->line++;
    }
    return 0;
}

static int blank_line(struct parser *ps)
{
    if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r')) {
        if (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
            ps->p++;
        ps->p++;
        ps->line++;
        return 1;
    }
    return 0;
}

/* Reads one row; *count gets its number of fields. */
static int read_row(struct parser *ps, size_t *count)
{
    size_t first = ps->d->nfields;
    int last = 0;
    while (!last)
        if (read_field(ps, &last))
            return -1;
    *count = ps->d->nfields - first;
    return 0;
}

static int take_header(struct parser *ps, size_t count)
{
    struct data_set *d = ps->d;
    if (count > DATA_COLUMNS_MAX)
        return fail(ps, "more than 1024 columns");
    d->columns = count;
    d->header = malloc(count * sizeof *d->header);
    if (!d->header)
        return out_of_memory(ps);
    memcpy(d->header, d->fields, count * sizeof *d->header);
    d->nfields = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = d->arena + d->header[i].off;
        if (d->header[i].len == 0)
            return fail(ps, "the header row (the first) has an empty column name");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(name, d->arena + d->header[j].off)) {
                char what[160];
                snprintf(what, sizeof what, "the header row names the column \"%.64s\" twice",
                         name);
                return fail(ps, what);
            }
    }
    return 0;
}

static int parse_rows(struct parser *ps, unsigned shard_index, unsigned shards)
{
    struct data_set *d = ps->d;
    size_t index = 0; /* data rows seen, kept or not */
    int have_header = 0;
    while (ps->p < ps->end) {
        if (blank_line(ps))
            continue;
        size_t arena_mark = d->arena_len, fields_mark = d->nfields, line = ps->line, count;
        if (read_row(ps, &count))
            return -1;
        if (!have_header) {
            size_t next = ps->line;
            ps->line = line; /* errors name the header's line */
            if (take_header(ps, count))
                return -1;
            ps->line = next;
            have_header = 1;
            continue;
        }
        if (count != d->columns) {
            char what[160];
            ps->line = line;
            snprintf(what, sizeof what, "this row has %zu fields and the header %zu", count,
                     d->columns);
            return fail(ps, what);
        }
        if (shards > 1 && index % shards != shard_index) {
            d->arena_len = arena_mark;
            d->nfields = fields_mark;
        } else {
            d->rows++;
        }
        index++;
    }
    if (!have_header)
        return fail(ps, "the file is empty; its first row must name the columns");
    if (index == 0)
        return fail(ps, "there is a header row but no data row");
    if (d->rows == 0) {
        char what[160];
        snprintf(what, sizeof what, "%zu data rows are too few for %u shards: shard %u gets none",
                 index, shards, shard_index + 1);
        return fail(ps, what);
    }
    return 0;
}

int data_parse(struct data_set **out, const char *text, size_t len, const char *name,
               unsigned shard_index, unsigned shard_count, char *err, size_t errlen)
{
    *out = NULL;
    struct data_set *d = calloc(1, sizeof *d);
    if (!d || !(d->name = strdup(name))) {
        free(d);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    struct parser ps = {d, text, text + len, 1, err, errlen};
    const char *nul = memchr(text, '\0', len);
    if (nul) { /* a text file never holds one; values are C strings */
        for (const char *c = text; c < nul; c++)
            ps.line += *c == '\n';
        fail(&ps, "a NUL byte: this is not a CSV text file");
        data_free(d);
        return -1;
    }
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        ps.p += 3;
    if (parse_rows(&ps, shard_index, shard_count > 1 ? shard_count : 1)) {
        data_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

int data_load_file(struct data_set **out, const char *path, unsigned shard_index,
                   unsigned shard_count, char *err, size_t errlen)
{
    *out = NULL;
    struct buf b;
    buf_init(&b, DATA_FILE_MAX);
    int rc = buf_append_file(&b, path);
    if (rc)
        snprintf(err, errlen, "cannot read the data file %s: %s", path,
                 errno == EFBIG ? "it is larger than 1 GiB" : strerror(errno));
    else
        rc = data_parse(out, b.data ? b.data : "", b.len, path, shard_index, shard_count, err,
                        errlen);
    buf_free(&b);
    return rc;
}

const char *data_name(const struct data_set *d)
{
    return d->name;
}

size_t data_rows(const struct data_set *d)
{
    return d->rows;
}

size_t data_columns(const struct data_set *d)
{
    return d->columns;
}

const char *data_column_name(const struct data_set *d, size_t col)
{
    return d->arena + d->header[col].off;
}

int data_column_index(const struct data_set *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->columns; i++)
        if (d->header[i].len == len && !memcmp(d->arena + d->header[i].off, name, len))
            return (int)i;
    size_t number = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9' || number > DATA_COLUMNS_MAX)
            return -1;
        number = number * 10 + (size_t)(name[i] - '0');
    }
    return len && number >= 1 && number <= d->columns ? (int)number - 1 : -1;
}

const char *data_value(const struct data_set *d, size_t row, size_t col, size_t *len)
{
    const struct field *f = &d->fields[row * d->columns + col];
    *len = f->len;
    return d->arena + f->off;
}
