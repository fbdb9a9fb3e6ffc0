/*
 * pacer: when each arrival of the open model is due, computed from absolute time.
 *
 * A plan is a rate over time: constant, or linear ramps between stages. Its cumulative
 * count Λ(t) = ∫rate says how many arrivals are due by t; arrival number u is due at Λ⁻¹(u).
 * A stream (one worker thread of one shard) takes every stride-th arrival starting at its
 * offset, so threads and machines interleave exactly into the total rate; with Poisson
 * arrivals the stream adds exponential gaps of the same mean instead. Nothing depends on when
 * requests complete: that is what keeps the load free of coordinated omission.
 */
#ifndef LOADGEN_PACER_H
#define LOADGEN_PACER_H

#include <stddef.h>
#include <stdint.h>

#define PACER_MAX_SEGMENTS 34

/* One segment: from start_s (seconds since t0), ramping linearly from rate_a to rate_b over
 * length_s; the last segment extends forever at rate_b. */
struct pacer_segment {
    double start_s, length_s, rate_a, rate_b;
    double count_at_start; /* Λ(start_s) */
};

struct pacer_plan {
    struct pacer_segment seg[PACER_MAX_SEGMENTS];
    size_t nseg;
};

/* Builds a plan: a constant `rate` for `hold_s` seconds (the warm-up, may be 0), then each
 * stage (duration, target rate) as a ramp from the previous rate. Without stages the rate stays
 * constant. Returns 0, or -1 when there are too many stages. */
int pacer_plan_init(struct pacer_plan *p, double rate, double hold_s, const double *stage_len_s,
                    const double *stage_rate, size_t nstages);

double pacer_rate_at(const struct pacer_plan *p, double t_s);  /* arrivals/s at t */
double pacer_count_at(const struct pacer_plan *p, double t_s); /* Λ(t) */
/* Λ⁻¹(u): when arrival u is due (seconds since t0); INFINITY if the rate falls to 0 before. */
double pacer_time_of(const struct pacer_plan *p, double u);

struct pacer {
    const struct pacer_plan *plan;
    uint64_t t0_ns; /* monotonic time of t = 0 */
    double u;       /* count position of the next arrival */
    double stride;  /* streams interleaved: this one takes every stride-th arrival */
    int poisson;
    uint64_t rng;     /* xorshift state for Poisson gaps */
    uint64_t next_ns; /* monotonic due time of the next arrival (UINT64_MAX: none) */
};

/* A stream starting at arrival `offset` (0 ≤ offset < stride). */
void pacer_init(struct pacer *pc, const struct pacer_plan *plan, uint64_t t0_ns, unsigned offset,
                unsigned stride, int poisson, uint64_t seed);

/* Moves to the following arrival; returns its due time (pc->next_ns). */
uint64_t pacer_advance(struct pacer *pc);

/* How many arrivals of this stream fall due in [pc->next_ns, until_ns) (without moving);
 * stops counting at `cap`. */
uint64_t pacer_count_due(const struct pacer *pc, uint64_t until_ns, uint64_t cap);

#endif
