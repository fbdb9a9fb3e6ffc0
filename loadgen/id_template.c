/*
 * id_template: expands and matches one-placeholder resource URLs (contract in id_template.h).
 * Matching anchors at the end of the URL: the template's text after `{id}` must end the URL's
 * path (and query, when the template has one), and its text before `{id}` must come right
 * before the id, which holds no path or query delimiter. So a base URL's own path, a scheme and
 * a host in front of a Location value are all skipped without being parsed.
 */
#include "id_template.h"

#include <string.h>

#define PLACEHOLDER_LEN (sizeof ID_TEMPLATE_PLACEHOLDER - 1)

static void url_tail(const char *url, int keep_query, const char **start, size_t *len);

int id_template_valid(const char *tmpl)
{
    if (!tmpl)
        return 0;
    const char *at = strstr(tmpl, ID_TEMPLATE_PLACEHOLDER);
    if (!at || strstr(at + 1, ID_TEMPLATE_PLACEHOLDER))
        return 0;
    for (const char *p = tmpl; *p; p++)
        if ((*p == '{' || *p == '}') && !(p >= at && p < at + PLACEHOLDER_LEN))
            return 0;
    /* The id must sit in the path or the query: not in a scheme, host or fragment. */
    const char *tail;
    size_t len;
    url_tail(tmpl, 1, &tail, &len);
    return at >= tail && at + PLACEHOLDER_LEN <= tail + len;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int id_template_expand(struct buf *out, const char *tmpl, const char *id, size_t idlen)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!id_template_valid(tmpl))
        return -1;
    const char *at = strstr(tmpl, ID_TEMPLATE_PLACEHOLDER);
    if (buf_append(out, tmpl, (size_t)(at - tmpl)) < 0)
        return -1;
    for (size_t i = 0; i < idlen; i++) {
        unsigned char c = (unsigned char)id[i];
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (unreserved(c) ? buf_putc(out, (char)c) < 0 : buf_append(out, enc, 3) < 0)
            return -1;
    }
    return buf_puts(out, at + PLACEHOLDER_LEN);
}

/* The part of `url` a template is matched against: from the path on (scheme and authority
 * skipped), without the fragment, and without the query unless `keep_query`. */
static void url_tail(const char *url, int keep_query, const char **start, size_t *len)
{
    const char *p = url;
    const char *scheme_end = strstr(url, "://");
    if (scheme_end && (size_t)(scheme_end - url) <= strcspn(url, "/?#")) {
        p = scheme_end + 3;
        p += strcspn(p, "/?#");
    }
    *start = p;
    *len = strcspn(p, keep_query ? "#" : "?#");
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out. Returns the length, or -1 (bad escape, too long, empty). */
static int decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (len + 1 >= outlen)
            return -1;
        out[len++] = c;
    }
    if (len == 0)
        return -1;
    out[len] = '\0';
    return (int)len;
}

int id_template_match(const char *tmpl, const char *url, char *out, size_t outlen)
{
    const char *t = "/" ID_TEMPLATE_PLACEHOLDER; /* no template: the last path segment */
    if (tmpl && *tmpl) {
        if (!id_template_valid(tmpl))
            return -1;
        t = tmpl;
    }
    int with_query = strchr(t, '?') != NULL;
    const char *tpl, *path;
    size_t tpl_len, path_len;
    url_tail(t, with_query, &tpl, &tpl_len);
    url_tail(url, with_query, &path, &path_len);
    const char *at = strstr(tpl, ID_TEMPLATE_PLACEHOLDER);
    if (!at || at >= tpl + tpl_len)
        return -1; /* the placeholder is in the template's host or fragment */
    size_t prefix_len = (size_t)(at - tpl);
    size_t suffix_len = tpl_len - prefix_len - PLACEHOLDER_LEN;
    const char *suffix = at + PLACEHOLDER_LEN;
    if (!tmpl || !*tmpl) { /* a trailing slash does not make an empty last segment */
        while (path_len > 1 && path[path_len - 1] == '/')
            path_len--;
    }
    if (path_len < suffix_len || memcmp(path + path_len - suffix_len, suffix, suffix_len))
        return -1;
    size_t rest = path_len - suffix_len;
    const char *delims = with_query ? "/?#&" : "/?#";
    size_t s = rest;
    while (s > 0 && !strchr(delims, path[s - 1]))
        s--; /* path[s..rest) is the longest tail without a delimiter */
    for (; s < rest; s++) {
        if (s >= prefix_len && !memcmp(path + s - prefix_len, tpl, prefix_len))
            return decode(path + s, rest - s, out, outlen);
    }
    return -1;
}
