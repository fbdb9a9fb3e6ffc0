/*
 * json_writer: appends JSON to a struct buf. See json_writer.h for the contract.
 * Escaping works on runs: bytes that need nothing are copied in one append.
 */
#include "json_writer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void jw_init(struct json_writer *w, struct buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void jw_check(struct json_writer *w, int rc)
{
    if (rc < 0)
        w->failed = 1;
}

/* Writes the comma that separates this value from the previous one, if one is due. */
static void jw_before_value(struct json_writer *w)
{
    if (w->failed)
        return;
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->has_items[w->depth - 1])
        jw_check(w, buf_putc(w->out, ','));
    if (w->depth > 0)
        w->has_items[w->depth - 1] = 1;
}

static void jw_open(struct json_writer *w, char c)
{
    jw_before_value(w);
    if (w->failed)
        return;
    if (w->depth == JSON_WRITER_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    jw_check(w, buf_putc(w->out, c));
    w->has_items[w->depth++] = 0;
}

static void jw_close(struct json_writer *w, char c)
{
    if (w->failed || w->depth == 0) {
        w->failed = 1;
        return;
    }
    w->depth--;
    jw_check(w, buf_putc(w->out, c));
}

void jw_object_begin(struct json_writer *w)
{
    jw_open(w, '{');
}

void jw_object_end(struct json_writer *w)
{
    jw_close(w, '}');
}

void jw_array_begin(struct json_writer *w)
{
    jw_open(w, '[');
}

void jw_array_end(struct json_writer *w)
{
    jw_close(w, ']');
}

/* 1 for the bytes a JSON string holds as they are: printable ASCII but the quote and the
 * backslash. Everything else (control characters, DEL, every byte of a multi-byte sequence)
 * takes the careful path. A table, because this runs over every string of every log line. */
/* clang-format off */
static const unsigned char plain_byte[256] = {
    ['\x20'] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2F */
    ['\x30'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x30..0x3F */
    ['\x40'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x40..0x4F */
    ['\x50'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \\ */, 1, 1, 1, /* 0x50..0x5F */
    ['\x60'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x60..0x6F */
    ['\x70'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* DEL */, /* 0x70..0x7F */
};
/* clang-format on */

/* How many leading bytes of s[0..n) need no escaping. */
static size_t plain_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n && plain_byte[p[i]])
        i++;
    return i;
}

void jw_key(struct json_writer *w, const char *key)
{
    if (w->failed)
        return;
    /* Keys are nearly always the program's own identifiers: the comma, the quoted key and the
     * colon then go in one append. */
    size_t n = strlen(key);
    char quoted[64];
    if (w->after_key || n + 4 > sizeof(quoted) || plain_prefix(key, n) != n) {
        jw_before_value(w);
        if (w->failed)
            return;
        jw_check(w, json_escape_string(w->out, key, n));
        jw_check(w, buf_putc(w->out, ':'));
        w->after_key = 1;
        return;
    }
    size_t len = 0;
    if (w->depth > 0 && w->has_items[w->depth - 1])
        quoted[len++] = ',';
    if (w->depth > 0)
        w->has_items[w->depth - 1] = 1;
    quoted[len++] = '"';
    memcpy(quoted + len, key, n);
    len += n;
    quoted[len++] = '"';
    quoted[len++] = ':';
    jw_check(w, buf_append(w->out, quoted, len));
    w->after_key = 1;
}

static const char *escape_for(uint32_t cp, char tmp[8])
{
    switch (cp) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case 0x2028:
        return "\\u2028";
    case 0x2029:
        return "\\u2029";
    default:
        if (cp < 0x20 || cp == 0x7F) {
            snprintf(tmp, 8, "\\u%04x", (unsigned)cp);
            return tmp;
        }
        return NULL;
    }
}

int json_escape_inner(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes copied verbatim */
    size_t i = 0;
    while (i < n) {
        i += plain_prefix(s + i, n - i); /* printable ASCII is copied with its run */
        if (i == n)
            break;
        uint32_t cp;
        char tmp[8];
        size_t step = utf8_decode(p + i, n - i, &cp);
        const char *esc = step ? escape_for(cp, tmp) : "\xEF\xBF\xBD"; /* U+FFFD */
        if (!esc) {
            i += step;
            continue;
        }
        if (buf_append(out, s + run, i - run) < 0 || buf_puts(out, esc) < 0)
            return -1;
        i += step ? step : 1;
        run = i;
    }
    return buf_append(out, s + run, i - run) < 0 ? -1 : 0;
}

int json_escape_string(struct buf *out, const char *s, size_t n)
{
    if (plain_prefix(s, n) == n) { /* the common case: nothing to escape, one copy */
        if (buf_reserve(out, n + 2) < 0)
            return -1;
        char *t = buf_tail(out);
        t[0] = '"';
        memcpy(t + 1, s, n);
        t[n + 1] = '"';
        buf_commit(out, n + 2);
        return 0;
    }
    if (buf_putc(out, '"') < 0 || json_escape_inner(out, s, n) < 0)
        return -1;
    return buf_putc(out, '"');
}

void jw_stringn(struct json_writer *w, const char *s, size_t n)
{
    jw_before_value(w);
    if (!w->failed)
        jw_check(w, json_escape_string(w->out, s, n));
}

void jw_string(struct json_writer *w, const char *s)
{
    jw_stringn(w, s, strlen(s));
}

/* Decimal digits of v, right-aligned in out[0..20); returns where they start. */
static char *format_u64(uint64_t v, char out[21])
{
    char *p = out + 20;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void jw_int(struct json_writer *w, int64_t v)
{
    jw_before_value(w);
    if (w->failed)
        return;
    char digits[21];
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = format_u64(magnitude, digits);
    if (v < 0)
        jw_check(w, buf_putc(w->out, '-'));
    jw_check(w, buf_append(w->out, p, (size_t)(digits + 20 - p)));
}

void jw_uint(struct json_writer *w, uint64_t v)
{
    jw_before_value(w);
    if (w->failed)
        return;
    char digits[21];
    char *p = format_u64(v, digits);
    jw_check(w, buf_append(w->out, p, (size_t)(digits + 20 - p)));
}

void jw_double(struct json_writer *w, double v)
{
    jw_before_value(w);
    if (w->failed)
        return;
    if (!isfinite(v)) {
        jw_check(w, buf_puts(w->out, "null"));
        return;
    }
    /* The shortest form that reads back as the same double: 0.05, not 0.050000000000000003. */
    char text[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    jw_check(w, buf_puts(w->out, text));
}

static char *format_u64(uint64_t v, char out[21]);

void jw_fixed(struct json_writer *w, double v, int decimals)
{
    jw_before_value(w);
    if (w->failed)
        return;
    if (!isfinite(v)) {
        jw_check(w, buf_puts(w->out, "null"));
        return;
    }
    double scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    if (decimals < 0 || decimals > 9 || fabs(v) * scale >= 9e18) {
        jw_check(w, buf_printf(w->out, "%.*f", decimals, v));
        return;
    }
    /* Integer arithmetic, not printf: this formats duration_ms on every request line. */
    int64_t scaled = (int64_t)nearbyint(v * scale); /* half to even, as printf */
    uint64_t magnitude = scaled < 0 ? (uint64_t)0 - (uint64_t)scaled : (uint64_t)scaled;
    uint64_t unit = (uint64_t)scale;
    char digits[21], frac[16];
    char *whole = format_u64(magnitude / unit, digits);
    uint64_t rest = magnitude % unit;
    for (int i = decimals - 1; i >= 0; i--, rest /= 10)
        frac[i] = (char)('0' + rest % 10);
    if (scaled < 0)
        jw_check(w, buf_putc(w->out, '-'));
    jw_check(w, buf_append(w->out, whole, (size_t)(digits + 20 - whole)));
    if (decimals > 0) {
        jw_check(w, buf_putc(w->out, '.'));
        jw_check(w, buf_append(w->out, frac, (size_t)decimals));
    }
}

void jw_bool(struct json_writer *w, int v)
{
    jw_before_value(w);
    if (!w->failed)
        jw_check(w, buf_puts(w->out, v ? "true" : "false"));
}

void jw_null(struct json_writer *w)
{
    jw_before_value(w);
    if (!w->failed)
        jw_check(w, buf_puts(w->out, "null"));
}
