/*
 * expo: the Prometheus text exposition format (version 0.0.4), written into a struct buf.
 *
 * One writer for every binary that serves /metrics. It writes HELP and TYPE once per family,
 * escapes label values (backslash, quote, newline) and help text, and renders histograms with
 * cumulative buckets, le="+Inf", _sum and _count, which is what `promtool check metrics` expects.
 */
#ifndef TASKBENCH_EXPO_H
#define TASKBENCH_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "histogram.h"

#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct expo_label {
    const char *name;
    const char *value;
};

/* "# HELP name help" and "# TYPE name type"; type is counter, gauge, histogram or untyped. */
void expo_family(struct buf *out, const char *name, const char *type, const char *help);

void expo_sample_u64(struct buf *out, const char *name, const struct expo_label *labels,
                     size_t nlabels, uint64_t value);
void expo_sample_double(struct buf *out, const char *name, const struct expo_label *labels,
                        size_t nlabels, double value);

/* The _bucket, _sum and _count series of one histogram child (`name` without suffix). */
void expo_histogram(struct buf *out, const char *name, const struct expo_label *labels,
                    size_t nlabels, const struct histogram_snapshot *snap);

/* Shortcut for an unlabelled family with a single sample. */
void expo_gauge(struct buf *out, const char *name, const char *help, double value);

#endif
