/*
 * loghist: a constant-memory, log-linear histogram of durations, for percentiles.
 *
 * Values are nanoseconds. Below 2048 ns every nanosecond has its own bucket; above, every
 * power of two is cut into 1024 equal sub-buckets, so a recorded value is known to within
 * 0.1 % (three significant digits) up to 2^36 ns (68.7 s); larger values land in the last
 * bucket, while max stays exact. The struct is a fixed ~220 KiB, never allocates, and two
 * histograms merge exactly by adding counts, so per-thread and per-machine results combine
 * into the same answer a single recorder would have given. Not thread-safe: one owner records.
 */
#ifndef TASKBENCH_LOGHIST_H
#define TASKBENCH_LOGHIST_H

#include <stddef.h>
#include <stdint.h>

#define LOGHIST_SUB_BITS 10 /* 1024 sub-buckets per power of two */
#define LOGHIST_MAX_EXP 36  /* 2^36 ns ≈ 68.7 s: the highest value told apart */
#define LOGHIST_BUCKETS                                                                            \
    ((2u << LOGHIST_SUB_BITS) + (LOGHIST_MAX_EXP - LOGHIST_SUB_BITS - 1) * (1u << LOGHIST_SUB_BITS))

struct loghist {
    uint64_t count;
    uint64_t min_ns; /* UINT64_MAX while empty */
    uint64_t max_ns;
    uint64_t sum_ns;
    uint64_t counts[LOGHIST_BUCKETS];
};

void loghist_reset(struct loghist *h);
void loghist_record(struct loghist *h, uint64_t ns);
void loghist_record_n(struct loghist *h, uint64_t ns, uint64_t n);

/* dst += src, exactly. */
void loghist_merge(struct loghist *dst, const struct loghist *src);

/* The value below or at which a fraction q (0..1) of the recordings lie: the highest value
 * of the bucket holding that rank, capped at max (q=1 gives max exactly, q=0 min). 0 if empty. */
uint64_t loghist_quantile(const struct loghist *h, double q);

double loghist_mean_ns(const struct loghist *h);

/* The bucket a value falls in, and the range [low, high] of values that bucket holds. The last
 * bucket also holds every clamped value, so its high is UINT64_MAX. */
size_t loghist_index(uint64_t ns);
uint64_t loghist_bucket_low(size_t index);
uint64_t loghist_bucket_high(size_t index);

#endif
