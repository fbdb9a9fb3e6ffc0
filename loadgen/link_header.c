/*
 * link_header: a single pass over a Link header value (contract in link_header.h). Each link
 * value is scanned as <target> then parameters; a parameter's value is a token or a quoted
 * string (with backslash escapes). On a syntax error the scanner skips to the next top-level
 * comma, so a malformed link costs only itself.
 */
#include "link_header.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct scan {
    const char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

static int at(const struct scan *s, char c)
{
    return s->p < s->end && *s->p == c;
}

/* Skips to just after the next comma outside <...> and quotes (or to the end). */
static void skip_value(struct scan *s)
{
    int quoted = 0, angled = 0;
    for (; s->p < s->end; s->p++) {
        char c = *s->p;
        if (quoted && c == '\\' && s->p + 1 < s->end)
            s->p++;
        else if (c == '"' && !angled)
            quoted = !quoted;
        else if (c == '<' && !quoted)
            angled = 1;
        else if (c == '>' && !quoted)
            angled = 0;
        else if (c == ',' && !quoted && !angled) {
            s->p++;
            return;
        }
    }
}

/* A URI reference holds no control character (a NUL would cut it short). */
static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* A parameter value: a token, or a quoted string unescaped into buf. Returns its length or -1. */
static long param_value(struct scan *s, char *buf, size_t cap)
{
    size_t n = 0;
    if (at(s, '"')) {
        for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
            if (*s->p == '\\' && s->p + 1 < s->end)
                s->p++;
            if (n + 1 < cap)
                buf[n++] = *s->p;
        }
        if (!at(s, '"'))
            return -1;
        s->p++;
    } else {
        for (; s->p < s->end && token_char(*s->p); s->p++)
            if (n + 1 < cap)
                buf[n++] = *s->p;
        if (n == 0)
            return -1;
    }
    buf[n] = '\0';
    return (long)n;
}

/* Whether the space-separated list `types` holds `rel` (case-insensitive). */
static int has_relation(const char *types, const char *rel)
{
    size_t want = strlen(rel);
    for (const char *t = types; *t;) {
        size_t n = strcspn(t, " \t");
        if (n == want && strncasecmp(t, rel, n) == 0)
            return 1;
        t += n;
        t += strspn(t, " \t");
    }
    return 0;
}

/* One link value's parameters; returns 1 when rel matches, 0 when not, -1 on a syntax error. */
static int params_match(struct scan *s, const char *rel)
{
    int match = 0;
    char name[32], value[512];
    for (;;) {
        skip_ws(s);
        if (s->p == s->end || at(s, ','))
            return match;
        if (!at(s, ';'))
            return -1;
        s->p++;
        skip_ws(s);
        size_t n = 0;
        for (; s->p < s->end && token_char(*s->p); s->p++)
            if (n + 1 < sizeof name)
                name[n++] = *s->p;
        name[n] = '\0';
        if (n == 0)
            return -1;
        skip_ws(s);
        if (!at(s, '='))
            continue; /* a parameter without a value */
        s->p++;
        skip_ws(s);
        if (param_value(s, value, sizeof value) < 0)
            return -1;
        if (!strcasecmp(name, "rel") && has_relation(value, rel))
            match = 1;
    }
}

int link_header_find(const char *value, size_t len, const char *rel, char *out, size_t outlen)
{
    struct scan s = {value, value + len};
    while (s.p < s.end) {
        skip_ws(&s);
        if (at(&s, ',')) {
            s.p++;
            continue;
        }
        const char *target = NULL, *target_end = NULL;
        if (at(&s, '<')) {
            target = s.p + 1;
            target_end = memchr(target, '>', (size_t)(s.end - target));
        }
        if (!target_end || !printable(target, (size_t)(target_end - target))) {
            skip_value(&s);
            continue;
        }
        s.p = target_end + 1;
        int match = params_match(&s, rel);
        if (match < 0) {
            skip_value(&s);
            continue;
        }
        if (match) {
            size_t n = (size_t)(target_end - target);
            if (n + 1 > outlen)
                return -1;
            memcpy(out, target, n);
            out[n] = '\0';
            return 1;
        }
    }
    return 0;
}
