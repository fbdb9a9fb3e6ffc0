/*
 * histogram: a fixed-bucket, lock-free histogram in the Prometheus model.
 *
 * Bucket bounds are set once (upper bounds in seconds, ascending) and shared by every histogram
 * of a family; each observation increments one bucket and adds to the sum with relaxed atomics,
 * so any thread may observe while another renders. Counts are stored per bucket (not
 * cumulative) and the total is derived from them, so a scrape always sees +Inf == _count.
 */
#ifndef TASKBENCH_HISTOGRAM_H
#define TASKBENCH_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_MAX_BUCKETS 32

struct histogram_bounds {
    size_t count;                        /* finite bounds; +Inf is implicit */
    double upper[HISTOGRAM_MAX_BUCKETS]; /* seconds, strictly ascending */
};

struct histogram {
    const struct histogram_bounds *bounds;
    _Atomic uint64_t buckets[HISTOGRAM_MAX_BUCKETS + 1]; /* last one is +Inf */
    _Atomic uint64_t sum_ns;                             /* sum of observations in nanoseconds */
};

/* Latency bounds for a sub-millisecond service: 25 µs … 10 s in a 1-2.5-5 series. */
extern const struct histogram_bounds histogram_latency_bounds;

void histogram_init(struct histogram *h, const struct histogram_bounds *bounds);

/* Records one observation of `ns` nanoseconds. Thread-safe, wait-free. */
void histogram_observe_ns(struct histogram *h, uint64_t ns);

/* A consistent-enough copy for rendering: cumulative counts per bound, then +Inf. */
struct histogram_snapshot {
    const struct histogram_bounds *bounds;
    size_t count; /* finite bounds */
    uint64_t cumulative[HISTOGRAM_MAX_BUCKETS + 1];
    uint64_t total; /* == cumulative[count] */
    double sum_seconds;
};

void histogram_snapshot(const struct histogram *h, struct histogram_snapshot *out);

/* Index of the bucket an observation of `seconds` falls in (count == +Inf bucket). */
size_t histogram_bucket_index(const struct histogram_bounds *bounds, double seconds);

#endif
