/*
 * placeholders: see placeholders.h. One scanner serves the check (names only) and the
 * expansion (values), so what the file check accepts is exactly what the run expands.
 */
#include "placeholders.h"

#include <stdio.h>
#include <string.h>

static const char *const known[] = {"port", "port_file", "dir",  "data_dir",
                                    "db",   "file_dir",  "work", NULL};

static const char *value_of(const struct placeholders *p, const char *name, char *port_text,
                            size_t cap)
{
    if (strcmp(name, "port") == 0) {
        snprintf(port_text, cap, "%u", p->port);
        return port_text;
    }
    if (strcmp(name, "port_file") == 0)
        return p->port_file;
    if (strcmp(name, "dir") == 0)
        return p->dir;
    if (strcmp(name, "data_dir") == 0)
        return p->data_dir;
    if (strcmp(name, "db") == 0)
        return p->db;
    if (strcmp(name, "file_dir") == 0)
        return p->file_dir;
    if (strcmp(name, "work") == 0)
        return p->work;
    return NULL;
}

static int is_known(const char *name)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(known[i], name) == 0)
            return 1;
    return 0;
}

/* Walks text: literal runs and {{ }} go to out (when p is set), names are checked or filled.
 * out may be NULL (check only). */
static int scan(const char *text, const struct placeholders *p, char *out, size_t cap, char *err,
                size_t errlen)
{
    size_t used = 0;
    for (const char *s = text; *s;) {
        const char *piece = s;
        size_t n = 1;
        char name[32], port_text[16];
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            s += 2;
        } else if (s[0] == '}') {
            snprintf(err, errlen, "a lone '}' in \"%s\" (write }} for a brace)", text);
            return -1;
        } else if (s[0] == '{') {
            const char *end = strchr(s, '}');
            size_t len = end ? (size_t)(end - s - 1) : 0;
            if (!end || len == 0 || len >= sizeof(name)) {
                snprintf(err, errlen, "an unclosed or empty '{' in \"%s\" (write {{ for a brace)",
                         text);
                return -1;
            }
            memcpy(name, s + 1, len);
            name[len] = '\0';
            if (!is_known(name)) {
                snprintf(err, errlen,
                         "unknown placeholder {%s} in \"%s\"; chaos fills in {port}, "
                         "{port_file}, {dir}, {data_dir}, {db}, {file_dir} and {work}",
                         name, text);
                return -1;
            }
            s = end + 1;
            if (p) {
                piece = value_of(p, name, port_text, sizeof(port_text));
                if (!piece) {
                    snprintf(err, errlen, "{%s} has no value here (\"%s\"): %s", name, text,
                             strcmp(name, "file_dir") == 0
                                 ? "a built-in experiment has no file of its own"
                                 : "it is not known yet");
                    return -1;
                }
                n = strlen(piece);
            }
        } else {
            s++;
        }
        if (!out)
            continue;
        if (used + n >= cap) {
            snprintf(err, errlen, "\"%s\" is too long once filled in (at most %zu bytes)", text,
                     cap - 1);
            return -1;
        }
        memcpy(out + used, piece, n);
        used += n;
    }
    if (out)
        out[used] = '\0';
    return 0;
}

int placeholders_check(const char *text, char *err, size_t errlen)
{
    return scan(text, NULL, NULL, 0, err, errlen);
}

int placeholders_uses(const char *text, const char *name)
{
    char needle[40];
    snprintf(needle, sizeof(needle), "{%s}", name);
    for (const char *s = text; (s = strstr(s, needle)); s++)
        if (s == text || s[-1] != '{')
            return 1;
    return 0;
}

int placeholders_expand(const char *text, const struct placeholders *p, char *out, size_t cap,
                        char *err, size_t errlen)
{
    return scan(text, p, out, cap, err, errlen);
}
