/*
 * duration: human durations on the command line ("250ms", "1.5s", "2m", "1h30m", "45us"), and
 * the one way reports print a duration for people ("73.2ms").
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

#define DURATION_TEXT_LEN 16

/* For reading, not for parsing back: three significant digits and a unit, "850ns", "12.3µs",
 * "1.50ms", "73.2ms", "1.23s", "123s" (seconds beyond that keep their integer digits:
 * "4210s"). Returns out. */
char *duration_format(uint64_t ns, char out[DURATION_TEXT_LEN]);

#endif
