/*
 * duration: human durations on the command line ("250ms", "1.5s", "2m", "1h30m", "45us").
 *
 * Every binary parses durations the same way. A bare number is rejected rather than guessed:
 * "30" could mean seconds or milliseconds, and a wrong guess is a silent 1000x error.
 */
#ifndef TASKBENCH_DURATION_H
#define TASKBENCH_DURATION_H

#include <stdint.h>

/* Parses `s` into nanoseconds. Units: ns, us, ms, s, m, h; components may repeat ("1m30s") and
 * carry decimals ("1.5s"). Returns 0, or -1 for empty, unit-less, negative or overflowing input. */
int duration_parse(const char *s, uint64_t *ns);

#endif
