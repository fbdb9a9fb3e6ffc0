/*
 * scrape: line-by-line parse of the text exposition into arrays. See scrape.h.
 */
#include "scrape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void free_sample(struct scrape_sample *smp)
{
    for (size_t i = 0; i < smp->nlabels; i++) {
        free(smp->labels[i].name);
        free(smp->labels[i].value);
    }
    free(smp->labels);
    free(smp->name);
}

void scrape_free(struct scrape *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free_sample(&s->samples[i]);
    for (size_t i = 0; i < s->ntypes; i++) {
        free(s->types[i].family);
        free(s->types[i].type);
    }
    free(s->samples);
    free(s->types);
    free(s);
}

/* Parses a quoted label value at *p (just after the opening quote). */
static char *parse_label_value(const char **p, const char *end)
{
    char *out = malloc((size_t)(end - *p) + 1);
    size_t n = 0;
    const char *s = *p;
    if (!out)
        return NULL;
    while (s < end && *s != '"') {
        if (*s == '\\' && s + 1 < end) {
            s++;
            out[n++] = *s == 'n' ? '\n' : *s;
            s++;
            continue;
        }
        out[n++] = *s++;
    }
    if (s >= end) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
}

static int parse_labels(const char **p, const char *end, struct scrape_sample *smp)
{
    const char *s = *p + 1; /* past '{' */
    while (s < end && *s != '}') {
        const char *name = s;
        while (s < end && is_name_char(*s, s == name))
            s++;
        if (s == name || s + 1 >= end || s[0] != '=' || s[1] != '"')
            return -1;
        size_t name_len = (size_t)(s - name);
        s += 2;
        char *value = parse_label_value(&s, end);
        if (!value)
            return -1;
        char *label_name = dup_range(name, name_len);
        struct scrape_label *grown =
            label_name ? realloc(smp->labels, (smp->nlabels + 1) * sizeof(*grown)) : NULL;
        if (!grown) {
            free(label_name);
            free(value);
            return -1;
        }
        smp->labels = grown;
        smp->labels[smp->nlabels++] = (struct scrape_label){label_name, value};
        if (s < end && *s == ',')
            s++;
    }
    if (s >= end)
        return -1;
    *p = s + 1;
    return 0;
}

static int parse_value(const char *s, const char *end, double *out)
{
    char text[64];
    size_t n = (size_t)(end - s);
    const char *space = memchr(s, ' ', n);
    if (space)
        n = (size_t)(space - s); /* an optional timestamp follows */
    if (n == 0 || n >= sizeof(text))
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    if (strcmp(text, "+Inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(text, "-Inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strcmp(text, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    char *stop;
    *out = strtod(text, &stop);
    return *stop == '\0' ? 0 : -1;
}

static int parse_sample(const char *s, const char *end, struct scrape *sc)
{
    struct scrape_sample smp = {0};
    const char *name = s;
    while (s < end && is_name_char(*s, s == name))
        s++;
    if (s == name)
        return -1;
    smp.name = dup_range(name, (size_t)(s - name));
    if (!smp.name)
        return -1;
    if (s < end && *s == '{' && parse_labels(&s, end, &smp) < 0)
        goto fail;
    if (s >= end || *s != ' ' || parse_value(s + 1, end, &smp.value) < 0)
        goto fail;
    struct scrape_sample *grown = realloc(sc->samples, (sc->count + 1) * sizeof(*grown));
    if (!grown)
        goto fail;
    sc->samples = grown;
    sc->samples[sc->count++] = smp;
    return 0;
fail:
    free_sample(&smp);
    return -1;
}

static int parse_type(const char *s, const char *end, struct scrape *sc)
{
    /* "# TYPE name type" */
    s += 7;
    const char *space = memchr(s, ' ', (size_t)(end - s));
    if (!space || space == s || space + 1 >= end)
        return -1;
    struct scrape_type *grown = realloc(sc->types, (sc->ntypes + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    sc->types = grown;
    char *family = dup_range(s, (size_t)(space - s));
    char *type = dup_range(space + 1, (size_t)(end - space - 1));
    if (!family || !type) {
        free(family);
        free(type);
        return -1;
    }
    sc->types[sc->ntypes++] = (struct scrape_type){family, type};
    return 0;
}

int scrape_parse(const char *text, size_t len, struct scrape **out, char *error, size_t error_len)
{
    *out = NULL;
    struct scrape *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        snprintf(error, error_len, "out of memory");
        return -1;
    }
    const char *s = text, *end = text + len;
    for (size_t lineno = 1; s < end; lineno++) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) {
            snprintf(error, error_len, "line %zu does not end with a newline", lineno);
            goto fail;
        }
        int rc = 0;
        if (eol - s >= 7 && strncmp(s, "# TYPE ", 7) == 0)
            rc = parse_type(s, eol, sc);
        else if (s < eol && *s != '#')
            rc = parse_sample(s, eol, sc);
        if (rc < 0) {
            snprintf(error, error_len, "line %zu does not parse: %.*s", lineno,
                     (int)(eol - s > 200 ? 200 : eol - s), s);
            goto fail;
        }
        s = eol + 1;
    }
    *out = sc;
    return 0;
fail:
    scrape_free(sc);
    return -1;
}

static int labels_equal(const struct scrape_sample *smp, const char *const *labels)
{
    size_t n = 0;
    for (; labels && labels[2 * n]; n++) {
        const char *v = scrape_label(smp, labels[2 * n]);
        if (!v || strcmp(v, labels[2 * n + 1]) != 0)
            return 0;
    }
    return n == smp->nlabels;
}

const struct scrape_sample *scrape_find(const struct scrape *s, const char *name,
                                        const char *const *labels)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->samples[i].name, name) == 0 && labels_equal(&s->samples[i], labels))
            return &s->samples[i];
    }
    return NULL;
}

const char *scrape_label(const struct scrape_sample *sample, const char *name)
{
    for (size_t i = 0; i < sample->nlabels; i++) {
        if (strcmp(sample->labels[i].name, name) == 0)
            return sample->labels[i].value;
    }
    return NULL;
}

size_t scrape_count(const struct scrape *s, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += strcmp(s->samples[i].name, name) == 0;
    return n;
}

const char *scrape_type(const struct scrape *s, const char *family)
{
    for (size_t i = 0; i < s->ntypes; i++) {
        if (strcmp(s->types[i].family, family) == 0)
            return s->types[i].type;
    }
    return NULL;
}
