/*
 * run: the small helpers every phase of an experiment uses (see run.h): the experiment's clock,
 * the interruption flag and the progress lines. Kept apart so that each phase's file holds only
 * its own concept.
 */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>

#include "clock.h"

double run_now_s(const struct run *r)
{
    return (double)(clock_monotonic_ns() - r->t0) / 1e9;
}

int run_interrupted(const struct run *r)
{
    return r->o->interrupted && *r->o->interrupted;
}

void run_progress(const struct run *r, const char *fmt, ...)
{
    if (!r->o->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chaos: %s: %6.2fs ", r->sc->name, r->t0 ? run_now_s(r) : 0.0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void run_say(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}
