/*
 * pacer: arrival times for the open model, from the plan's cumulative count (see pacer.h).
 * Ramps integrate to quadratics, so Λ⁻¹ is a closed form per segment and an arrival's due
 * time never drifts, however long the run: it is computed from t0, not from the last arrival.
 */
#include "pacer.h"

#include <math.h>

int pacer_plan_init(struct pacer_plan *p, double rate, double hold_s, const double *stage_len_s,
                    const double *stage_rate, size_t nstages)
{
    if (nstages + 2 > PACER_MAX_SEGMENTS)
        return -1;
    p->nseg = 0;
    double start = 0, count = 0, prev = rate;
    if (hold_s > 0 || nstages == 0) {
        p->seg[p->nseg++] = (struct pacer_segment){0, hold_s, rate, rate, 0};
        start = hold_s;
        count = rate * hold_s;
    }
    for (size_t i = 0; i < nstages; i++) {
        struct pacer_segment *s = &p->seg[p->nseg++];
        *s = (struct pacer_segment){start, stage_len_s[i], prev, stage_rate[i], count};
        count += (prev + stage_rate[i]) / 2 * stage_len_s[i];
        start += stage_len_s[i];
        prev = stage_rate[i];
    }
    /* After the last stage (or the hold), the rate stays where it ended. */
    p->seg[p->nseg++] = (struct pacer_segment){start, INFINITY, prev, prev, count};
    return 0;
}

static const struct pacer_segment *segment_at(const struct pacer_plan *p, double t)
{
    size_t i = 0;
    while (i + 1 < p->nseg && t >= p->seg[i + 1].start_s)
        i++;
    return &p->seg[i];
}

static double slope(const struct pacer_segment *s)
{
    return isinf(s->length_s) || s->length_s <= 0 ? 0 : (s->rate_b - s->rate_a) / s->length_s;
}

double pacer_rate_at(const struct pacer_plan *p, double t)
{
    const struct pacer_segment *s = segment_at(p, t);
    return s->rate_a + slope(s) * (t - s->start_s);
}

double pacer_count_at(const struct pacer_plan *p, double t)
{
    const struct pacer_segment *s = segment_at(p, t);
    double tau = t - s->start_s;
    return s->count_at_start + s->rate_a * tau + slope(s) * tau * tau / 2;
}

double pacer_time_of(const struct pacer_plan *p, double u)
{
    for (size_t i = 0; i < p->nseg; i++) {
        const struct pacer_segment *s = &p->seg[i];
        int last = i + 1 == p->nseg;
        if (!last && u >= p->seg[i + 1].count_at_start)
            continue;
        double need = u - s->count_at_start, a = slope(s) / 2, b = s->rate_a;
        double tau;
        if (fabs(a) < 1e-12) {
            if (b <= 0)
                return INFINITY;
            tau = need / b;
        } else {
            /* a·τ² + b·τ − need = 0, the root within the segment; written to avoid cancellation. */
            double disc = b * b + 4 * a * need;
            if (disc < 0)
                return INFINITY;
            tau = 2 * need / (b + sqrt(disc));
        }
        return s->start_s + tau;
    }
    return INFINITY;
}

static uint64_t xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static uint64_t due_ns(const struct pacer *pc, double u)
{
    double t = pacer_time_of(pc->plan, u);
    if (!isfinite(t) || t > 1e9)
        return UINT64_MAX;
    return pc->t0_ns + (uint64_t)llround(t * 1e9);
}

static double gap(struct pacer *pc)
{
    if (!pc->poisson)
        return pc->stride;
    /* Exponential with mean `stride`, from a uniform in (0, 1]. */
    double uniform = ((double)(xorshift(&pc->rng) >> 11) + 1.0) / 9007199254740992.0;
    return -log(uniform) * pc->stride;
}

void pacer_init(struct pacer *pc, const struct pacer_plan *plan, uint64_t t0_ns, unsigned offset,
                unsigned stride, int poisson, uint64_t seed)
{
    pc->plan = plan;
    pc->t0_ns = t0_ns;
    pc->stride = stride ? stride : 1;
    pc->poisson = poisson;
    pc->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    pc->u = poisson ? gap(pc) : offset;
    pc->next_ns = due_ns(pc, pc->u);
}

uint64_t pacer_advance(struct pacer *pc)
{
    pc->u += gap(pc);
    return pc->next_ns = due_ns(pc, pc->u);
}

uint64_t pacer_count_due(const struct pacer *pc, uint64_t until_ns, uint64_t cap)
{
    if (pc->next_ns >= until_ns)
        return 0;
    if (!pc->poisson) {
        /* Closed form: arrivals u, u+stride, … while Λ⁻¹ < until. */
        double t = (double)(until_ns - pc->t0_ns) / 1e9;
        double n = ceil((pacer_count_at(pc->plan, t) - pc->u) / pc->stride);
        return n <= 0 ? 0 : n >= (double)cap ? cap : (uint64_t)n;
    }
    struct pacer copy = *pc;
    uint64_t n = 0;
    while (copy.next_ns < until_ns && n < cap) {
        n++;
        pacer_advance(&copy);
    }
    return n;
}
