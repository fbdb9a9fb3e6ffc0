/*
 * targets: parsing targets files (vegeta's HTTP format and JSON lines), naming, compiling and
 * picking targets (see targets.h).
 *
 * Parsing keeps text only: URL split into origin and request-target, header lines, body bytes,
 * and the directives. Compiling turns the text into templates once the --data file is known,
 * and checks what templates cannot check alone: that a CSV value pasted unfiltered into a path
 * or a header holds no byte that would split the request.
 */
#include "targets.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "utf8.h"

static const char *const reserved_names[] = {"corrected", "service", "lag", "status", "all"};

void targets_init(struct target_set *set)
{
    memset(set, 0, sizeof *set);
}

static void target_free(struct target *t)
{
    free(t->url);
    free(t->origin);
    free(t->authority);
    free(t->path_text);
    for (size_t i = 0; i < t->nheaders; i++) {
        free(t->header_text[i]);
        template_free(t->headers[i]);
    }
    free(t->body_text);
    free(t->body_source);
    free(t->header_block);
    template_free(t->path);
    template_free(t->body);
}

void targets_free(struct target_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        target_free(&set->items[i]);
    free(set->items);
    for (size_t i = 0; i < set->norigins; i++)
        free(set->origins[i]);
    targets_init(set);
}

const char *targets_ledger_name(enum target_ledger l)
{
    static const char *const names[] = {"", "create", "update", "delete"};
    return (unsigned)l <= TARGET_LEDGER_DELETE ? names[l] : "";
}

int targets_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TARGET_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return 0;
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (!strcmp(name, reserved_names[i]))
            return 0;
    return 1;
}

int targets_find(const struct target_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->items[i].name, name))
            return (int)i;
    return -1;
}

int targets_any_tls(const struct target_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i].tls)
            return 1;
    return 0;
}

/* ---- URLs ------------------------------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Where a "{{ … }}" opened at s[i] closes (the index after "}}"), or len when it does not. */
static size_t skip_braces(const char *s, size_t len, size_t i)
{
    for (size_t j = i + 2; j + 1 < len; j++)
        if (s[j] == '}' && s[j + 1] == '}')
            return j + 2;
    return len;
}

/* Splits an absolute URL into origin, authority and request-target (fragment dropped). */
static int split_url(struct target *t, const char *url, char *why, size_t whylen)
{
    size_t scheme_len;
    if (!strncasecmp(url, "http://", 7)) {
        scheme_len = 7;
    } else if (!strncasecmp(url, "https://", 8)) {
        scheme_len = 8;
        t->tls = 1;
    } else {
        snprintf(why, whylen, "the URL %.200s is not http:// or https:// (or a path from /)", url);
        return -1;
    }
    const char *auth = url + scheme_len;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || memchr(auth, '@', alen) || memchr(auth, '{', alen) ||
        memchr(auth, ' ', alen)) {
        snprintf(why, whylen,
                 "the URL %.200s has no host, or one with credentials, a template or a space "
                 "(credentials go into an Authorization header)",
                 url);
        return -1;
    }
    const char *rest = auth + alen;
    size_t rlen = strlen(rest);
    for (size_t i = 0; i < rlen; i++) { /* the fragment, outside templates, is not sent */
        if (rest[i] == '{' && i + 1 < rlen && rest[i + 1] == '{') {
            i = skip_braces(rest, rlen, i) - 1;
        } else if (rest[i] == '#') {
            rlen = i;
            break;
        }
    }
    int need_slash = rlen == 0 || rest[0] != '/';
    t->authority = dup_n(auth, alen);
    t->origin = malloc(scheme_len + alen + 1);
    t->path_text = malloc(rlen + 2);
    if (!t->authority || !t->origin || !t->path_text) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(t->origin, scheme_len + alen + 1, "%s%.*s", t->tls ? "https://" : "http://", (int)alen,
             auth);
    snprintf(t->path_text, rlen + 2, "%s%.*s", need_slash ? "/" : "", (int)rlen, rest);
    size_t plen = strlen(t->path_text);
    for (size_t i = 0; i < plen; i++)
        if (t->path_text[i] == '{' && t->path_text[i + 1] == '{') {
            i = skip_braces(t->path_text, plen, i) - 1; /* templates may hold spaces */
        } else if ((unsigned char)t->path_text[i] <= ' ' || t->path_text[i] == 0x7f) {
            snprintf(why, whylen,
                     "the URL %.200s holds a space or a control character "
                     "(percent-encode it: %%20)",
                     url);
            return -1;
        }
    return 0;
}

/* Splits the URL, or base_url joined with a path starting with '/'; t->url keeps it as given. */
static int set_url(struct target *t, const char *url, const char *base_url, char *why,
                   size_t whylen)
{
    if (!(t->url = strdup(url))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (url[0] == '/') {
        if (!base_url) {
            snprintf(why, whylen,
                     "the URL %.200s is a path, and no base URL was given to join it to (give "
                     "one on the command line)",
                     url);
            return -1;
        }
        size_t blen = strlen(base_url);
        while (blen > 0 && base_url[blen - 1] == '/')
            blen--;
        size_t n = blen + strlen(url) + 1;
        char *joined = malloc(n);
        if (!joined) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        snprintf(joined, n, "%.*s%s", (int)blen, base_url, url);
        int rc = split_url(t, joined, why, whylen);
        free(joined);
        return rc;
    }
    return split_url(t, url, why, whylen);
}

/* ---- targets ---------------------------------------------------------------------------- */

static int method_valid(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n >= TARGET_METHOD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isupper((unsigned char)m[i]) || isdigit((unsigned char)m[i]) || m[i] == '-' ||
              m[i] == '_'))
            return 0;
    return 1;
}

static int header_name_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(line, name, n) && line[n] == ':';
}

/* "Name: value" with a token name and no CR/LF. */
static int header_valid(const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return 0;
    for (const char *c = line; c < colon; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *c))
            return 0;
    return strpbrk(line, "\r\n") == NULL;
}

static int add_header(struct target *t, const char *line, char *why, size_t whylen)
{
    if (!header_valid(line)) {
        snprintf(why, whylen, "the header %.200s is not \"Name: value\"", line);
        return -1;
    }
    if (t->nheaders == TARGET_HEADERS_MAX) {
        snprintf(why, whylen, "more than %d headers", TARGET_HEADERS_MAX);
        return -1;
    }
    if (!(t->header_text[t->nheaders] = strdup(line))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    t->nheaders++;
    if (header_name_is(line, "host"))
        t->has_host_header = 1;
    return 0;
}

static int set_body(struct target *t, const char *body, size_t len, char *why, size_t whylen)
{
    free(t->body_text);
    t->body_text = malloc(len + 1);
    if (!t->body_text) {
        snprintf(why, whylen, "out of memory for a body of %zu bytes", len);
        return -1;
    }
    memcpy(t->body_text, body, len);
    t->body_text[len] = '\0';
    t->body_len = len;
    t->has_body = 1;
    return 0;
}

/* Reads a body file (relative to base_dir) into the target. */
static int read_body_file(struct target *t, const char *file, const char *base_dir, char *why,
                          size_t whylen)
{
    char path[4096];
    if (file[0] != '/' && base_dir && *base_dir)
        snprintf(path, sizeof path, "%s/%s", base_dir, file);
    else
        snprintf(path, sizeof path, "%s", file);
    struct buf b;
    buf_init(&b, TARGET_BODY_MAX);
    int rc = buf_append_file(&b, path);
    if (rc)
        snprintf(why, whylen, "cannot read the body file %.300s: %s", path,
                 errno == EFBIG ? "it is larger than 1 GiB" : strerror(errno));
    if (!rc) {
        free(t->body_text);
        t->body_text = buf_detach(&b, &t->body_len);
        t->has_body = 1;
        if (!t->body_text) {
            snprintf(why, whylen, "out of memory for the body file %.300s", path);
            rc = -1;
        }
    }
    buf_free(&b);
    if (!rc && !(t->body_source = strdup(file)))
        rc = -1;
    return rc;
}

static int set_ledger(struct target *t, const char *op, char *why, size_t whylen)
{
    for (int l = TARGET_LEDGER_CREATE; l <= TARGET_LEDGER_DELETE; l++)
        if (!strcmp(op, targets_ledger_name((enum target_ledger)l))) {
            t->ledger = (enum target_ledger)l;
            return 0;
        }
    snprintf(why, whylen, "ledger \"%.40s\" is not create, update or delete", op);
    return -1;
}

static int set_weight_text(struct target *t, const char *s, char *why, size_t whylen)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || errno || v > 1000000) {
        snprintf(why, whylen, "weight %.40s is not a whole number from 0 to 1000000", s);
        return -1;
    }
    t->weight = (unsigned)v;
    return 0;
}

/* A new empty target at the end of the set (weight 1, no rule of its own). */
static struct target *new_target(struct target_set *set, char *why, size_t whylen)
{
    if (set->n == TARGETS_MAX) {
        snprintf(why, whylen, "more than %d targets", TARGETS_MAX);
        return NULL;
    }
    struct target *items = realloc(set->items, (set->n + 1) * sizeof *items);
    if (!items) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    set->items = items;
    struct target *t = &items[set->n++];
    memset(t, 0, sizeof *t);
    t->weight = 1;
    expect_default(&t->expect);
    return t;
}

static void drop_last(struct target_set *set)
{
    target_free(&set->items[--set->n]);
}

/* ---- names ------------------------------------------------------------------------------ */

/* "get_users" from GET /users/{{seq}}: the method, then up to two path words that are neither
 * numbers nor templates. */
static void derive_name(const struct target *t, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *m = t->method; *m && n + 1 < outlen; m++)
        out[n++] = (char)tolower((unsigned char)*m);
    const char *p = t->path_text;
    size_t plen = strcspn(p, "?");
    int words = 0;
    for (size_t i = 0; i < plen && words < 2;) {
        while (i < plen && p[i] == '/')
            i++;
        size_t start = i;
        while (i < plen && p[i] != '/')
            i++;
        size_t wlen = i - start;
        if (wlen == 0 || memchr(p + start, '{', wlen) || strspn(p + start, "0123456789") >= wlen)
            continue;
        if (n + 2 >= outlen)
            break;
        out[n++] = '_';
        for (size_t k = start; k < i && n + 1 < outlen; k++)
            out[n++] = isalnum((unsigned char)p[k]) || p[k] == '-' ? p[k] : '_';
        words++;
    }
    if (words == 0 && n + 6 < outlen) {
        memcpy(out + n, "_root", 5);
        n += 5;
    }
    out[n] = '\0';
}

/* Gives unnamed targets a derived name, unique in the set. */
static int name_targets(struct target_set *set, char *err, size_t errlen)
{
    for (size_t i = 0; i < set->n; i++) {
        struct target *t = &set->items[i];
        if (t->name[0])
            continue;
        char base[TARGET_NAME_MAX - 8];
        derive_name(t, base, sizeof base);
        snprintf(t->name, sizeof t->name, "%s", base);
        for (unsigned k = 2; targets_find(set, t->name) != (int)i || !targets_name_valid(t->name);
             k++)
            snprintf(t->name, sizeof t->name, "%s_%u", base, k);
    }
    for (size_t i = 0; i < set->n; i++)
        if (targets_find(set, set->items[i].name) != (int)i) {
            snprintf(err, errlen, "two targets are named %s; give each its own name",
                     set->items[i].name);
            return -1;
        }
    return 0;
}

static int set_name(struct target *t, const char *name, char *why, size_t whylen)
{
    if (!targets_name_valid(name)) {
        snprintf(why, whylen,
                 "the name \"%.64s\" is not 1 to 63 of A-Z a-z 0-9 _ - (and not corrected, "
                 "service, lag, status or all)",
                 name);
        return -1;
    }
    memcpy(t->name, name, strlen(name) + 1); /* valid: shorter than the field */
    return 0;
}

/* ---- vegeta's HTTP format --------------------------------------------------------------- */

struct directives {
    char name[TARGET_NAME_MAX + 16];
    char weight[32];
    char expect[EXPECT_SPEC_MAX];
    char expect_body[EXPECT_BODY_MAX + 1];
    char ledger[16];
    int any;
};

/* "# @name login": records the directive for the next target. */
static int take_directive(struct directives *d, const char *line, char *why, size_t whylen)
{
    static const struct {
        const char *key;
        size_t off, size;
    } keys[] = {
        {"name", offsetof(struct directives, name), sizeof d->name},
        {"weight", offsetof(struct directives, weight), sizeof d->weight},
        {"expect-body", offsetof(struct directives, expect_body), sizeof d->expect_body},
        {"expect", offsetof(struct directives, expect), sizeof d->expect},
        {"ledger", offsetof(struct directives, ledger), sizeof d->ledger},
    };
    const char *p = line + 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '@')
        return 0; /* a plain comment */
    p++;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t klen = strlen(keys[i].key);
        if (strncmp(p, keys[i].key, klen) || (p[klen] != ' ' && p[klen] != '\t'))
            continue;
        const char *v = p + klen;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v || strlen(v) >= keys[i].size) {
            snprintf(why, whylen, "the directive @%s needs a value (of at most %zu bytes)",
                     keys[i].key, keys[i].size - 1);
            return -1;
        }
        snprintf((char *)d + keys[i].off, keys[i].size, "%s", v);
        d->any = 1;
        return 0;
    }
    snprintf(why, whylen,
             "unknown directive %.40s; loadgen knows # @name, @weight, @expect, @expect-body "
             "and @ledger",
             line);
    return -1;
}

static int apply_directives(struct target *t, const struct directives *d, char *why, size_t whylen)
{
    if (d->name[0] && set_name(t, d->name, why, whylen))
        return -1;
    if (d->weight[0] && set_weight_text(t, d->weight, why, whylen))
        return -1;
    if (d->expect[0]) {
        if (expect_parse_statuses(&t->expect, d->expect, why, whylen))
            return -1;
        t->expect_given = 1;
    }
    if (d->expect_body[0]) {
        if (expect_set_body(&t->expect, d->expect_body, strlen(d->expect_body), why, whylen))
            return -1;
        t->expect_given = 1;
    }
    if (d->ledger[0] && set_ledger(t, d->ledger, why, whylen))
        return -1;
    return 0;
}

/* "METHOD URL": an upper-case word, one or more spaces, the URL. */
static int is_request_line(const char *line)
{
    size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_");
    return n > 0 && (line[n] == ' ' || line[n] == '\t');
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, n - lead + 1);
}

struct http_parser {
    struct target_set *set;
    const char *base_url, *base_dir;
    struct directives pending;
    struct target *current; /* taking headers; NULL between targets */
};

static int http_line(struct http_parser *hp, char *line, char *why, size_t whylen)
{
    if (line[0] == '#')
        return take_directive(&hp->pending, line, why, whylen);
    if (!line[0]) {
        hp->current = NULL;
        return 0;
    }
    if (is_request_line(line)) {
        size_t mlen = strcspn(line, " \t");
        char *url = line + mlen + 1;
        line[mlen] = '\0';
        url += strspn(url, " \t");
        struct target *t = new_target(hp->set, why, whylen);
        if (!t)
            return -1;
        snprintf(t->method, sizeof t->method, "%s", line);
        if (!method_valid(t->method) || strlen(line) >= TARGET_METHOD_MAX) {
            snprintf(why, whylen, "%.40s is not an HTTP method (upper-case letters)", line);
            return -1;
        }
        if (set_url(t, url, hp->base_url, why, whylen) ||
            apply_directives(t, &hp->pending, why, whylen))
            return -1;
        memset(&hp->pending, 0, sizeof hp->pending);
        hp->current = t;
        return 0;
    }
    if (!hp->current) {
        snprintf(why, whylen,
                 "expected a target line \"METHOD URL\" (e.g. GET http://127.0.0.1:8080/), "
                 "got %.80s",
                 line);
        return -1;
    }
    if (line[0] == '@') {
        if (read_body_file(hp->current, line + 1, hp->base_dir, why, whylen))
            return -1;
        hp->current = NULL; /* the body ends a target */
        return 0;
    }
    char *colon = strchr(line, ':');
    if (colon) { /* vegeta trims around the colon */
        char *value = colon + 1;
        value += strspn(value, " \t");
        size_t name_len = (size_t)(colon - line);
        while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
            name_len--;
        char header[8192];
        snprintf(header, sizeof header, "%.*s: %s", (int)name_len, line, value);
        return add_header(hp->current, header, why, whylen);
    }
    snprintf(why, whylen, "the header %.80s is not \"Name: value\"", line);
    return -1;
}

static int parse_http(struct target_set *set, const char *text, size_t len, const char *name,
                      const char *base_url, const char *base_dir, char *err, size_t errlen)
{
    struct http_parser hp = {.set = set, .base_url = base_url, .base_dir = base_dir};
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        char line[8192], why[512];
        if (n >= sizeof line) {
            snprintf(err, errlen, "%s:%zu: the line is longer than 8 KiB", name, lineno);
            return -1;
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + 1;
        if (memchr(line, '\0', n)) {
            snprintf(err, errlen, "%s:%zu: the line holds a NUL byte (is this a targets file?)",
                     name, lineno);
            return -1;
        }
        trim(line);
        if (http_line(&hp, line, why, sizeof why)) {
            snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
            return -1;
        }
    }
    if (hp.pending.any) {
        snprintf(err, errlen, "%s:%zu: directives at the end of the file name no target", name,
                 lineno);
        return -1;
    }
    return 0;
}

/* ---- JSON lines ------------------------------------------------------------------------- */

static const char *json_string(const cJSON *obj, const char *key, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = 1;
        return NULL;
    }
    return v->valuestring;
}

static int json_headers(struct target *t, const cJSON *headers, char *why, size_t whylen)
{
    if (!cJSON_IsObject(headers)) {
        snprintf(why, whylen, "\"headers\" must be an object of \"Name\": \"value\" pairs");
        return -1;
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        const cJSON *values = h, *one;
        if (cJSON_IsString(h))
            values = NULL;
        else if (!cJSON_IsArray(h)) {
            snprintf(why, whylen, "the header %.80s must be a string or an array of strings",
                     h->string);
            return -1;
        }
        one = values ? values->child : h;
        for (; one; one = values ? one->next : NULL) {
            if (!cJSON_IsString(one)) {
                snprintf(why, whylen, "the header %.80s has a value that is not a string",
                         h->string);
                return -1;
            }
            char line[8192];
            snprintf(line, sizeof line, "%s: %s", h->string, one->valuestring);
            if (add_header(t, line, why, whylen))
                return -1;
        }
    }
    return 0;
}

static int json_expect(struct target *t, const cJSON *e, char *why, size_t whylen)
{
    char spec[EXPECT_SPEC_MAX] = "";
    if (cJSON_IsString(e)) {
        snprintf(spec, sizeof spec, "%s", e->valuestring);
    } else if (cJSON_IsArray(e)) {
        const cJSON *item;
        size_t at = 0;
        cJSON_ArrayForEach(item, e)
        {
            char one[16];
            if (cJSON_IsNumber(item))
                snprintf(one, sizeof one, "%d", item->valueint);
            else if (cJSON_IsString(item))
                snprintf(one, sizeof one, "%.15s", item->valuestring);
            else
                one[0] = '\0';
            at += (size_t)snprintf(spec + at, at < sizeof spec ? sizeof spec - at : 0, "%s%s",
                                   at ? "," : "", one);
        }
    }
    if (expect_parse_statuses(&t->expect, spec, why, whylen))
        return -1;
    t->expect_given = 1;
    return 0;
}

static int json_target(struct target_set *set, const cJSON *obj, const char *base_url,
                       const char *base_dir, char *why, size_t whylen)
{
    static const char *const known[] = {"name",      "method", "url",    "headers",     "body",
                                        "body_file", "weight", "expect", "expect_body", "ledger"};
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(item->string, known[k]))
            k++;
        if (k == sizeof known / sizeof known[0]) {
            snprintf(why, whylen,
                     "unknown member \"%.40s\" (a target has name, method, url, headers, body "
                     "or body_file, weight, expect, expect_body, ledger)",
                     item->string);
            return -1;
        }
    }
    int bad = 0;
    const char *name = json_string(obj, "name", &bad), *method = json_string(obj, "method", &bad),
               *url = json_string(obj, "url", &bad), *body = json_string(obj, "body", &bad),
               *body_file = json_string(obj, "body_file", &bad),
               *expect_body = json_string(obj, "expect_body", &bad),
               *ledger = json_string(obj, "ledger", &bad);
    if (bad || !url) {
        snprintf(why, whylen,
                 "a target needs \"url\", and name, method, url, body, body_file, "
                 "expect_body and ledger are strings");
        return -1;
    }
    if (body && body_file) {
        snprintf(why, whylen, "give \"body\" or \"body_file\", not both");
        return -1;
    }
    struct target *t = new_target(set, why, whylen);
    if (!t)
        return -1;
    snprintf(t->method, sizeof t->method, "%s", method ? method : "GET");
    if (!method_valid(t->method) || (method && strlen(method) >= TARGET_METHOD_MAX)) {
        snprintf(why, whylen, "%.40s is not an HTTP method (upper-case letters)", method);
        return -1;
    }
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(obj, "weight");
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(obj, "headers");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(obj, "expect");
    if (weight &&
        (!cJSON_IsNumber(weight) || weight->valuedouble < 0 || weight->valuedouble > 1000000 ||
         weight->valuedouble != (int)weight->valuedouble)) {
        snprintf(why, whylen, "\"weight\" must be a whole number from 0 to 1000000");
        return -1;
    }
    if (weight)
        t->weight = (unsigned)weight->valuedouble;
    if ((name && set_name(t, name, why, whylen)) || set_url(t, url, base_url, why, whylen) ||
        (headers && json_headers(t, headers, why, whylen)) ||
        (body && set_body(t, body, strlen(body), why, whylen)) ||
        (body_file && read_body_file(t, body_file, base_dir, why, whylen)) ||
        (expect && json_expect(t, expect, why, whylen)) ||
        (ledger && set_ledger(t, ledger, why, whylen)))
        return -1;
    if (expect_body) {
        if (expect_set_body(&t->expect, expect_body, strlen(expect_body), why, whylen))
            return -1;
        t->expect_given = 1;
    }
    return 0;
}

static int parse_json_lines(struct target_set *set, const char *text, size_t len, const char *name,
                            const char *base_url, const char *base_dir, char *err, size_t errlen)
{
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        const char *line = text + at;
        at += n + 1;
        lineno++;
        size_t lead = 0;
        while (lead < n && isspace((unsigned char)line[lead]))
            lead++;
        if (lead == n || line[lead] == '#')
            continue;
        char why[512];
        const char *end = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(line, n, &end, 0);
        while (obj && end && end < line + n && isspace((unsigned char)*end))
            end++;
        int rc = -1;
        if (!cJSON_IsObject(obj) || !end || end != line + n)
            snprintf(why, sizeof why, "the line is not one JSON object");
        else
            rc = json_target(set, obj, base_url, base_dir, why, sizeof why);
        cJSON_Delete(obj);
        if (rc) {
            snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
            return -1;
        }
    }
    return 0;
}

/* ---- the API ---------------------------------------------------------------------------- */

static int first_char_is_brace(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '#') { /* a comment line */
            const char *nl = memchr(text + i, '\n', len - i);
            if (!nl)
                return 0;
            i = (size_t)(nl - text);
        } else if (!isspace((unsigned char)text[i])) {
            return text[i] == '{';
        }
    }
    return 0;
}

int targets_parse(struct target_set *set, const char *text, size_t len, const char *name,
                  const char *base_url, const char *base_dir, char *err, size_t errlen)
{
    size_t before = set->n;
    int rc = first_char_is_brace(text, len)
                 ? parse_json_lines(set, text, len, name, base_url, base_dir, err, errlen)
                 : parse_http(set, text, len, name, base_url, base_dir, err, errlen);
    if (rc == 0 && set->n == before) {
        snprintf(err, errlen, "%s has no target (a line \"METHOD URL\", or a JSON object per line)",
                 name);
        rc = -1;
    }
    if (rc == 0)
        rc = name_targets(set, err, errlen);
    if (rc)
        while (set->n > before)
            drop_last(set);
    return rc;
}

int targets_load_file(struct target_set *set, const char *path, const char *base_url, char *err,
                      size_t errlen)
{
    struct buf b;
    buf_init(&b, (size_t)64 << 20);
    int rc = buf_append_file(&b, path);
    if (rc)
        snprintf(err, errlen, "cannot read the targets file %s: %s", path,
                 errno == EFBIG ? "it is larger than 64 MiB" : strerror(errno));
    if (!rc) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        rc = targets_parse(set, b.data ? b.data : "", b.len, path, base_url, slash ? dir : NULL,
                           err, errlen);
    }
    buf_free(&b);
    return rc;
}

int targets_add(struct target_set *set, const char *name, const char *method, const char *url,
                const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                char *err, size_t errlen)
{
    char why[512];
    struct target *t = new_target(set, why, sizeof why);
    int rc = t ? 0 : -1;
    if (t) {
        snprintf(t->method, sizeof t->method, "%s", method ? method : "GET");
        if (!method_valid(t->method) || (method && strlen(method) >= TARGET_METHOD_MAX)) {
            snprintf(why, sizeof why, "%.40s is not an HTTP method (upper-case letters)", method);
            rc = -1;
        }
    }
    if (!rc && name)
        rc = set_name(t, name, why, sizeof why);
    if (!rc)
        rc = set_url(t, url, NULL, why, sizeof why);
    for (size_t i = 0; !rc && i < nheaders; i++)
        rc = add_header(t, headers[i], why, sizeof why);
    if (!rc && body)
        rc = set_body(t, body, body_len, why, sizeof why);
    if (!rc)
        rc = name_targets(set, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "%s", why);
        if (t)
            drop_last(set);
    }
    return rc;
}

int targets_add_common_headers(struct target_set *set, const char *const *headers, size_t n,
                               char *err, size_t errlen)
{
    for (size_t i = 0; i < set->n; i++) {
        struct target *t = &set->items[i];
        size_t own = t->nheaders;
        for (size_t h = 0; h < n; h++) {
            size_t name_len = strcspn(headers[h], ":");
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)name_len, headers[h]);
            int present = 0;
            for (size_t k = 0; k < own && !present; k++)
                present = header_name_is(t->header_text[k], name);
            char why[512];
            if (!present && add_header(t, headers[h], why, sizeof why)) {
                snprintf(err, errlen, "-H %s: %s", headers[h], why);
                return -1;
            }
        }
    }
    return 0;
}

void targets_set_default_expect(struct target_set *set, const struct expect *e)
{
    for (size_t i = 0; i < set->n; i++)
        if (!set->items[i].expect_given)
            set->items[i].expect = *e;
}

/* ---- compiling -------------------------------------------------------------------------- */

/* Static header lines joined once: "Name: value\r\n" each, as they go on the wire. */
static int join_headers(struct target *t, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 20);
    for (size_t h = 0; h < t->nheaders; h++) {
        size_t n;
        const char *line = template_text(t->headers[h], &n);
        if (buf_append(&b, line, n) || buf_append(&b, "\r\n", 2)) {
            buf_free(&b);
            snprintf(err, errlen, "target %s: the headers are larger than 1 MiB", t->name);
            return -1;
        }
    }
    t->header_block = buf_detach(&b, &t->header_block_len);
    buf_free(&b);
    if (!t->header_block) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int compile_one(struct target *t, const struct data_set *data, char *err, size_t errlen)
{
    char where[TARGET_NAME_MAX + 64];
    snprintf(where, sizeof where, "target %s: the URL", t->name);
    if (template_compile(&t->path, t->path_text, strlen(t->path_text), data, where, err, errlen) ||
        template_check_data(t->path, " \r\n", where, err, errlen))
        return -1;
    for (size_t h = 0; h < t->nheaders; h++) {
        snprintf(where, sizeof where, "target %s: the header %zu", t->name, h + 1);
        if (template_compile(&t->headers[h], t->header_text[h], strlen(t->header_text[h]), data,
                             where, err, errlen) ||
            template_check_data(t->headers[h], "\r\n", where, err, errlen))
            return -1;
    }
    int static_headers = 1;
    for (size_t h = 0; h < t->nheaders; h++)
        static_headers &= template_is_static(t->headers[h]);
    if (static_headers && join_headers(t, err, errlen))
        return -1;
    t->is_static = static_headers && template_is_static(t->path);
    if (t->has_body) {
        snprintf(where, sizeof where, "target %s: the body%s%s", t->name,
                 t->body_source ? " in " : "", t->body_source ? t->body_source : "");
        /* A body file that is not text (a NUL, or not UTF-8: an image, protobuf) is bytes to
         * send as they are; only text is a template. */
        int binary = t->body_source && (memchr(t->body_text, '\0', t->body_len) ||
                                        utf8_count(t->body_text, t->body_len) < 0);
        if (binary
                ? template_literal(&t->body, t->body_text, t->body_len, where, err, errlen)
                : template_compile(&t->body, t->body_text, t->body_len, data, where, err, errlen))
            return -1;
        t->is_static &= template_is_static(t->body);
        free(t->body_text); /* the template holds the text now */
        t->body_text = NULL;
    }
    return 0;
}

static int add_origin(struct target_set *set, struct target *t, char *err, size_t errlen)
{
    for (size_t o = 0; o < set->norigins; o++)
        if (!strcasecmp(set->origins[o], t->origin)) {
            t->origin_index = o;
            return 0;
        }
    if (!(set->origins[set->norigins] = strdup(t->origin))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->origin_index = set->norigins++;
    return 0;
}

int targets_compile(struct target_set *set, const struct data_set *data, char *err, size_t errlen)
{
    if (set->compiled) {
        snprintf(err, errlen, "the targets are compiled already");
        return -1;
    }
    if (set->n == 0) {
        snprintf(err, errlen, "there is no target to send");
        return -1;
    }
    set->total_weight = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct target *t = &set->items[i];
        if (compile_one(t, data, err, errlen) || add_origin(set, t, err, errlen))
            return -1;
        set->total_weight += t->weight;
        set->cumulative[i] = set->total_weight;
    }
    if (set->total_weight == 0) {
        snprintf(err, errlen, "every target has weight 0; give at least one a weight above 0");
        return -1;
    }
    set->compiled = 1;
    return 0;
}

size_t targets_pick(const struct target_set *set, uint64_t random)
{
    if (set->n == 1)
        return 0;
    uint64_t r = random % set->total_weight;
    size_t lo = 0, hi = set->n - 1;
    while (lo < hi) { /* the first target whose running sum exceeds r */
        size_t mid = (lo + hi) / 2;
        if (set->cumulative[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
