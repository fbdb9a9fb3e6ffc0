/*
 * loghist: the log-linear histogram of loghist.h.
 *
 * Bucket index: values below 2^11 map to themselves; a value with highest set bit e >= 11 keeps
 * its top 11 bits (1024 + a 10-bit sub-bucket), so bucket widths are 2^(e-10) and the relative
 * error of any bucket stays under 2^-10. The arithmetic is all shifts: recording is a few
 * instructions, which matters at hundreds of thousands of requests per second per thread.
 */
#include "loghist.h"

#include <string.h>

#define LINEAR_LIMIT (2u << LOGHIST_SUB_BITS) /* 2048: one bucket per nanosecond below this */
#define SUB_COUNT (1u << LOGHIST_SUB_BITS)    /* 1024 */
#define FIRST_LOG_EXP (LOGHIST_SUB_BITS + 1)  /* 11: the exponent of the first log bucket */

void loghist_reset(struct loghist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_ns = UINT64_MAX;
}

size_t loghist_index(uint64_t ns)
{
    if (ns < LINEAR_LIMIT)
        return (size_t)ns;
    if (ns >> LOGHIST_MAX_EXP)
        return LOGHIST_BUCKETS - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns);
    uint64_t sub = (ns >> (e - LOGHIST_SUB_BITS)) - SUB_COUNT;
    return LINEAR_LIMIT + (size_t)(e - FIRST_LOG_EXP) * SUB_COUNT + (size_t)sub;
}

uint64_t loghist_bucket_low(size_t index)
{
    if (index < LINEAR_LIMIT)
        return index;
    size_t k = index - LINEAR_LIMIT;
    unsigned e = FIRST_LOG_EXP + (unsigned)(k / SUB_COUNT);
    uint64_t top = SUB_COUNT + (uint64_t)(k % SUB_COUNT);
    return top << (e - LOGHIST_SUB_BITS);
}

/* The last bucket also holds every clamped value (>= 2^36), so its range is open-ended. */
uint64_t loghist_bucket_high(size_t index)
{
    if (index < LINEAR_LIMIT)
        return index;
    if (index >= LOGHIST_BUCKETS - 1)
        return UINT64_MAX;
    return loghist_bucket_low(index + 1) - 1;
}

void loghist_record_n(struct loghist *h, uint64_t ns, uint64_t n)
{
    if (n == 0)
        return;
    h->counts[loghist_index(ns)] += n;
    h->count += n;
    h->sum_ns += ns * n; /* wraps only after ~584 years of summed latency */
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void loghist_record(struct loghist *h, uint64_t ns)
{
    loghist_record_n(h, ns, 1);
}

void loghist_merge(struct loghist *dst, const struct loghist *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < LOGHIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

uint64_t loghist_quantile(const struct loghist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0)) /* also catches NaN */
        return h->min_ns;
    if (q >= 1)
        return h->max_ns;
    /* ceil(q * count), forgiving the last-bit error of q (0.07 * 100 is 7.000000000000001) */
    double r = q * (double)h->count * (1 - 1e-12);
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < LOGHIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t high = loghist_bucket_high(i);
            return high < h->max_ns ? high : h->max_ns;
        }
    }
    return h->max_ns; /* counts disagree with count: only a corrupted struct gets here */
}

double loghist_mean_ns(const struct loghist *h)
{
    return h->count ? (double)h->sum_ns / (double)h->count : 0;
}
