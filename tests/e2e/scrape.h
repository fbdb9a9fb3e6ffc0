/*
 * scrape: a parser for the Prometheus text exposition (0.0.4) that taskd serves on /metrics,
 * strict enough to compare a scrape with exact expectations.
 *
 * Every sample line becomes (name, labels, value); # TYPE lines give each family's type. Label
 * values are unescaped (\\, \", \n). A line that does not parse makes the whole scrape fail, with
 * the line number, so a test can tell "the metric is wrong" from "the format is wrong".
 */
#ifndef E2E_SCRAPE_H
#define E2E_SCRAPE_H

#include <stddef.h>

struct scrape_label {
    char *name;
    char *value;
};

struct scrape_sample {
    char *name;
    struct scrape_label *labels;
    size_t nlabels;
    double value;
};

struct scrape_type {
    char *family;
    char *type;
};

struct scrape {
    struct scrape_sample *samples;
    size_t count;
    struct scrape_type *types;
    size_t ntypes;
};

/* Parses `text`. Returns 0 with *out set (free it with scrape_free()), or -1 with a sentence
 * in `error`. */
int scrape_parse(const char *text, size_t len, struct scrape **out, char *error, size_t error_len);

void scrape_free(struct scrape *s);

/* The sample called `name` whose label set is exactly `labels` ("name", "value" pairs, then
 * NULL; NULL for no labels), or NULL. */
const struct scrape_sample *scrape_find(const struct scrape *s, const char *name,
                                        const char *const *labels);

/* The value of a label of a sample, or NULL. */
const char *scrape_label(const struct scrape_sample *sample, const char *name);

/* How many samples are called `name`. */
size_t scrape_count(const struct scrape *s, const char *name);

/* The # TYPE of a family, or NULL. */
const char *scrape_type(const struct scrape *s, const char *family);

#endif
