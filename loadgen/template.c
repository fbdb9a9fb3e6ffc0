/*
 * template: compiling {{ }} expressions into parts and rendering them (syntax in template.h).
 *
 * Compiling splits the text into parts: literal spans (pointing into one copy of the literal
 * text, adjacent ones merged) and fields (seq, uuid, randint, data column, run tag), each with
 * an optional filter. Everything a render needs — column indexes, ranges — is resolved here,
 * so rendering is a loop of appends.
 */
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

#define RANDINT_LIMIT (INT64_C(1) << 62)

enum part_kind { PART_TEXT, PART_SEQ, PART_UUID, PART_RANDINT, PART_DATA, PART_RUN_TAG };
enum filter { FILTER_NONE, FILTER_URL, FILTER_JSON };

struct part {
    enum part_kind kind;
    enum filter filter;
    size_t off, len; /* PART_TEXT: a span of t->text */
    int64_t lo, hi;  /* PART_RANDINT */
    size_t column;   /* PART_DATA */
};

struct template
{
    char *text; /* the literal spans, one after the other, NUL-terminated */
    size_t text_len;
    struct part *parts;
    size_t nparts, cap;
    int uses_data;
    const struct data_set *data; /* the set columns were resolved against */
};

struct compiler {
    struct template *t;
    const char *src;
    size_t len;
    const struct data_set *data;
    const char *where;
    char *err;
    size_t errlen;
};

void template_free(struct template *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->parts);
    free(t);
}

static int fail(struct compiler *c, const char *expr, size_t n, const char *why)
{
    snprintf(c->err, c->errlen, "%s: {{%.*s}} %s", c->where, (int)(n > 80 ? 80 : n), expr, why);
    return -1;
}

static int add_part(struct compiler *c, struct part p)
{
    struct template *t = c->t;
    if (p.kind == PART_TEXT && p.len == 0)
        return 0;
    if (p.kind == PART_TEXT && t->nparts && t->parts[t->nparts - 1].kind == PART_TEXT &&
        t->parts[t->nparts - 1].off + t->parts[t->nparts - 1].len == p.off) {
        t->parts[t->nparts - 1].len += p.len; /* adjacent literal text: one span */
        return 0;
    }
    if (t->nparts == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        struct part *parts = realloc(t->parts, cap * sizeof *parts);
        if (!parts) {
            snprintf(c->err, c->errlen, "%s: out of memory compiling a template", c->where);
            return -1;
        }
        t->parts = parts;
        t->cap = cap;
    }
    t->parts[t->nparts++] = p;
    return 0;
}

/* Appends literal text to t->text and adds it as a part. */
static int add_text(struct compiler *c, const char *s, size_t n)
{
    struct template *t = c->t;
    memmove(t->text + t->text_len, s, n); /* a literal may already sit there */
    struct part p = {.kind = PART_TEXT, .off = t->text_len, .len = n};
    t->text_len += n;
    t->text[t->text_len] = '\0';
    return add_part(c, p);
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Next whitespace-separated word of [*p, end): *word, *n; 0 when none is left. */
static int next_word(const char **p, const char *end, const char **word, size_t *n)
{
    while (*p < end && is_space(**p))
        (*p)++;
    if (*p == end)
        return 0;
    *word = *p;
    while (*p < end && !is_space(**p) && **p != '|')
        (*p)++;
    if (*p == *word) { /* a lone '|' */
        (*p)++;
    }
    *n = (size_t)(*p - *word);
    return 1;
}

static int word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(w, lit, n);
}

static int parse_int(const char *w, size_t n, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, w, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end || v < -RANDINT_LIMIT || v > RANDINT_LIMIT)
        return -1;
    *out = v;
    return 0;
}

/* The field named by words[0..nwords). */
static int parse_field(struct compiler *c, const char *expr, size_t elen, const char **words,
                       const size_t *lens, size_t nwords, struct part *p)
{
    const char *name = words[0];
    size_t n = lens[0];
    size_t want_args = 0;
    if (word_is(name, n, "seq")) {
        p->kind = PART_SEQ;
    } else if (word_is(name, n, "uuid")) {
        p->kind = PART_UUID;
    } else if (word_is(name, n, "run_tag")) {
        p->kind = PART_RUN_TAG;
    } else if (word_is(name, n, "randint")) {
        p->kind = PART_RANDINT;
        want_args = 2;
        if (nwords != 3 || parse_int(words[1], lens[1], &p->lo) ||
            parse_int(words[2], lens[2], &p->hi) || p->lo > p->hi)
            return fail(c, expr, elen,
                        "needs two whole numbers A <= B from -2^62 to 2^62: {{randint 1 100}}");
    } else if (n > 5 && !memcmp(name, "data.", 5)) {
        p->kind = PART_DATA;
        if (!c->data)
            return fail(c, expr, elen, "reads a CSV column, but no --data file was given");
        int col = data_column_index(c->data, name + 5, n - 5);
        if (col < 0) {
            char why[512];
            int at = snprintf(why, sizeof why,
                              "names a column that %s does not have (columns:", data_name(c->data));
            for (size_t i = 0; i < data_columns(c->data) && at < 400; i++)
                at += snprintf(why + at, sizeof why - (size_t)at, "%s %s", i ? "," : "",
                               data_column_name(c->data, i));
            snprintf(why + at, sizeof why - (size_t)at, ")");
            return fail(c, expr, elen, why);
        }
        p->column = (size_t)col;
        c->t->uses_data = 1;
    } else {
        return fail(c, expr, elen,
                    "is not a template value; use seq, uuid, randint A B, data.COLUMN, run_tag "
                    "or \"text\"");
    }
    if (nwords != 1 + want_args)
        return fail(c, expr, elen, "has words after the value that it does not take");
    return 0;
}

/* A quoted literal: "text", with \" and \\ inside. */
static int parse_literal(struct compiler *c, const char *expr, size_t elen)
{
    const char *p = expr, *end = expr + elen;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    if (end - p < 2 || *p != '"' || end[-1] != '"')
        return fail(c, expr, elen, "has text outside its quotes");
    char *out = c->t->text + c->t->text_len;
    size_t n = 0;
    for (const char *q = p + 1; q < end - 1; q++) {
        if (*q == '\\' && q + 1 < end - 1 && (q[1] == '"' || q[1] == '\\'))
            q++;
        else if (*q == '"')
            return fail(c, expr, elen, "has a quote inside its text (write it \\\")");
        out[n++] = *q;
    }
    return add_text(c, out, n);
}

static int parse_expression(struct compiler *c, const char *expr, size_t elen)
{
    const char *p = expr, *end = expr + elen;
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == '"')
        return parse_literal(c, expr, elen);
    const char *words[8];
    size_t lens[8], nwords = 0;
    const char *w;
    size_t n;
    struct part part = {.filter = FILTER_NONE};
    while (next_word(&p, end, &w, &n)) {
        if (word_is(w, n, "|")) {
            if (nwords == 0 || !next_word(&p, end, &w, &n))
                return fail(c, expr, elen,
                            "needs a value before | and a filter (url or json) after");
            part.filter = word_is(w, n, "url")    ? FILTER_URL
                          : word_is(w, n, "json") ? FILTER_JSON
                                                  : FILTER_NONE;
            if (part.filter == FILTER_NONE)
                return fail(c, expr, elen, "has an unknown filter; use | url or | json");
            if (next_word(&p, end, &w, &n))
                return fail(c, expr, elen, "takes one filter at most");
            break;
        }
        if (nwords == 8)
            return fail(c, expr, elen, "has too many words");
        words[nwords] = w;
        lens[nwords++] = n;
    }
    if (nwords == 0)
        return fail(c, expr, elen, "is empty; use seq, uuid, randint A B, data.COLUMN or run_tag");
    if (parse_field(c, expr, elen, words, lens, nwords, &part))
        return -1;
    return add_part(c, part);
}

/* The end of the expression opened at `open` (just after "{{"): the offset of its "}}". */
static const char *expression_end(const char *open, const char *end)
{
    const char *p = open;
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == '"') { /* a literal may hold "}}" */
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\' && p + 1 < end)
                p++;
    }
    for (; p + 1 < end; p++)
        if (p[0] == '}' && p[1] == '}')
            return p;
    return NULL;
}

int template_compile(struct template **out, const char *text, size_t len,
                     const struct data_set *data, const char *where, char *err, size_t errlen)
{
    *out = NULL;
    struct template *t = calloc(1, sizeof *t);
    if (t)
        t->text = malloc(len + 1);
    if (!t || !t->text) {
        template_free(t);
        snprintf(err, errlen, "%s: out of memory compiling a template", where);
        return -1;
    }
    t->text[0] = '\0';
    t->data = data;
    struct compiler c = {t, text, len, data, where, err, errlen};
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end && !open; q++)
            if (q[0] == '{' && q[1] == '{')
                open = q;
        if (!open) {
            if (add_text(&c, p, (size_t)(end - p)))
                goto fail;
            break;
        }
        if (add_text(&c, p, (size_t)(open - p)))
            goto fail;
        const char *close = expression_end(open + 2, end);
        if (!close) {
            snprintf(err, errlen, "%s: a {{ is not closed by }} (write {{\"{{\"}} for two braces)",
                     where);
            goto fail;
        }
        if (parse_expression(&c, open + 2, (size_t)(close - open - 2)))
            goto fail;
        p = close + 2;
    }
    *out = t;
    return 0;
fail:
    template_free(t);
    return -1;
}

int template_literal(struct template **out, const char *text, size_t len, const char *where,
                     char *err, size_t errlen)
{
    *out = NULL;
    struct template *t = calloc(1, sizeof *t);
    if (t)
        t->text = malloc(len + 1);
    struct compiler c = {t, text, len, NULL, where, err, errlen};
    if (!t || !t->text || add_text(&c, text, len)) {
        template_free(t);
        snprintf(err, errlen, "%s: out of memory", where);
        return -1;
    }
    *out = t;
    return 0;
}

int template_is_static(const struct template *t)
{
    return t->nparts == 0 || (t->nparts == 1 && t->parts[0].kind == PART_TEXT);
}

const char *template_text(const struct template *t, size_t *len)
{
    if (!template_is_static(t))
        return NULL;
    *len = t->nparts ? t->parts[0].len : 0;
    return t->nparts ? t->text + t->parts[0].off : "";
}

int template_uses_data(const struct template *t)
{
    return t->uses_data;
}

int template_check_data(const struct template *t, const char *forbidden, const char *where,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < t->nparts; i++) {
        const struct part *p = &t->parts[i];
        if (p->kind != PART_DATA || p->filter != FILTER_NONE)
            continue;
        /* The data set is the one the template was compiled with: find it through a row. */
        const struct data_set *d = t->data;
        for (size_t row = 0; row < data_rows(d); row++) {
            size_t n;
            const char *v = data_value(d, row, p->column, &n);
            for (size_t k = 0; k < n; k++)
                if (v[k] == '\0' || strchr(forbidden, v[k])) {
                    snprintf(err, errlen,
                             "%s: column %s of %s holds a space, a line break or a control "
                             "byte in data row %zu, which cannot go there as is (write "
                             "{{data.%s | url}})",
                             where, data_column_name(d, p->column), data_name(d), row + 1,
                             data_column_name(d, p->column));
                    return -1;
                }
        }
    }
    return 0;
}

/* ---- rendering -------------------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

void template_stream_init(struct template_stream *s, unsigned seq_offset, unsigned seq_stride,
                          unsigned row_offset, unsigned row_stride, uint64_t seed,
                          const struct data_set *data, const char *run_tag)
{
    s->seq_next = (uint64_t)seq_offset + 1;
    s->seq_stride = seq_stride ? seq_stride : 1;
    s->data = data;
    s->run_tag = run_tag ? run_tag : "";
    size_t rows = data ? data_rows(data) : 0;
    s->row_stride = row_stride ? row_stride : 1;
    s->row_next = rows ? row_offset % rows : 0;
    s->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

void template_vars_next(struct template_stream *s, struct template_vars *v)
{
    v->stream = s;
    v->seq = s->seq_next;
    s->seq_next += s->seq_stride;
    v->have_uuid = 0;
    v->row = s->row_next;
    if (s->data) {
        size_t rows = data_rows(s->data);
        s->row_next = (s->row_next + s->row_stride) % rows;
    }
}

static void make_uuid(struct template_vars *v)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = next_random(&v->stream->rng), b = next_random(&v->stream->rng);
    a = (a & ~0xF000ull) | 0x4000ull;                        /* version 4 */
    b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; /* variant 10 */
    char *o = v->uuid;
    for (int i = 0; i < 16; i++) {
        unsigned byte = (unsigned)((i < 8 ? a >> (56 - 8 * i) : b >> (56 - 8 * (i - 8))) & 0xFF);
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[byte >> 4];
        *o++ = hex[byte & 15];
    }
    *o = '\0';
    v->have_uuid = 1;
}

static size_t format_u64(uint64_t x, char *out)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static size_t format_i64(int64_t x, char *out)
{
    if (x >= 0)
        return format_u64((uint64_t)x, out);
    out[0] = '-';
    return 1 + format_u64((uint64_t)0 - (uint64_t)x, out + 1);
}

static int append_url_encoded(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
            continue;
        char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        if (buf_append(out, s + run, i - run) || buf_append(out, esc, 3))
            return -1;
        run = i + 1;
    }
    return buf_append(out, s + run, n - run);
}

static int append_value(struct buf *out, enum filter f, const char *s, size_t n)
{
    switch (f) {
    case FILTER_URL:
        return append_url_encoded(out, s, n);
    case FILTER_JSON:
        return json_escape_inner(out, s, n);
    default:
        return buf_append(out, s, n);
    }
}

static int render_part(const struct template *t, const struct part *p, struct template_vars *v,
                       struct buf *out)
{
    char num[24];
    size_t n;
    const char *s;
    switch (p->kind) {
    case PART_TEXT:
        return buf_append(out, t->text + p->off, p->len);
    case PART_SEQ:
        n = format_u64(v->seq, num);
        return buf_append(out, num, n);
    case PART_UUID:
        if (!v->have_uuid)
            make_uuid(v);
        return buf_append(out, v->uuid, 36);
    case PART_RANDINT: {
        uint64_t span = (uint64_t)(p->hi - p->lo) + 1;
        uint64_t r = next_random(&v->stream->rng) % span;
        n = format_i64(p->lo + (int64_t)r, num);
        return buf_append(out, num, n);
    }
    case PART_DATA:
        s = data_value(v->stream->data, v->row, p->column, &n);
        return append_value(out, p->filter, s, n);
    case PART_RUN_TAG:
        return append_value(out, p->filter, v->stream->run_tag, strlen(v->stream->run_tag));
    }
    return -1;
}

int template_render(const struct template *t, struct template_vars *v, struct buf *out)
{
    size_t mark = out->len;
    for (size_t i = 0; i < t->nparts; i++) {
        if (render_part(t, &t->parts[i], v, out)) {
            out->len = mark;
            if (out->data)
                out->data[mark] = '\0';
            return -1;
        }
    }
    return 0;
}
