/*
 * fuzz_id_template: libFuzzer target for loadgen's resource URL templates (loadgen/id_template.c)
 * and Link headers (loadgen/link_header.c), the two parsers that read what a user configures and
 * what a service answers when the audit finds ids and next pages. The input is a template, an
 * id and a URL (or header value) separated by newlines. Invariants: a valid template expanded
 * for any non-empty id matches back to exactly that id, whatever bytes it holds; matching an
 * arbitrary URL never reads outside it and returns a decoded id that fits; a next link found in
 * a header is text that stood between '<' and '>' in it. Plain C17 (gcc replays the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "id_template.h"
#include "link_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_id_template: %s:%d: check failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The next newline-separated part of data[*at..n), copied NUL-terminated into a fresh buffer. */
static char *part(const uint8_t *data, size_t n, size_t *at, size_t *len)
{
    size_t start = *at, end = start;
    while (end < n && data[end] != '\n')
        end++;
    *at = end < n ? end + 1 : end;
    *len = end - start;
    char *s = malloc(*len + 1);
    if (!s)
        abort();
    memcpy(s, data + start, *len);
    s[*len] = '\0';
    return s;
}

static void round_trip(const char *tmpl, const char *id, size_t idlen)
{
    if (!id_template_valid(tmpl) || idlen == 0 || memchr(id, '\0', idlen))
        return;
    struct buf url;
    buf_init(&url, 1 << 16);
    check(id_template_expand(&url, tmpl, id, idlen) == 0);
    char back[512];
    int n = id_template_match(tmpl, url.data, back, sizeof back);
    if (idlen < sizeof back) {
        check(n == (int)idlen);
        check(memcmp(back, id, idlen) == 0);
    } else {
        check(n == -1);
    }
    buf_free(&url);
}

static void link_found_is_a_target(const char *value, size_t len)
{
    char out[256];
    int rc = link_header_find(value, len, "next", out, sizeof out);
    check(rc >= -1 && rc <= 1);
    if (rc != 1)
        return;
    size_t n = strlen(out);
    int seen = 0;
    for (const char *p = value; !seen && (p = memchr(p, '<', len - (size_t)(p - value))); p++) {
        size_t room = len - (size_t)(p + 1 - value);
        seen = room > n && !memcmp(p + 1, out, n) && p[1 + n] == '>';
    }
    check(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0, tlen, idlen, ulen;
    char *tmpl = part(data, size, &at, &tlen);
    char *id = part(data, size, &at, &idlen);
    char *url = part(data, size, &at, &ulen);
    round_trip(tmpl, id, idlen);
    char out[64];
    int n = id_template_match(tmpl, url, out, sizeof out);
    check(n == -1 || (n > 0 && (size_t)n < sizeof out));
    n = id_template_match(NULL, url, out, sizeof out);
    check(n == -1 || (n > 0 && (size_t)n < sizeof out));
    link_found_is_a_target((const char *)data, size);
    free(tmpl);
    free(id);
    free(url);
    return 0;
}
