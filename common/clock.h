/*
 * clock: monotonic and wall-clock time in nanoseconds, and RFC 3339 timestamps.
 *
 * Durations are always measured on CLOCK_MONOTONIC; wall time is only for what humans and other
 * systems read (log `ts`, task `created_at`). Timestamps are UTC with millisecond precision,
 * e.g. 2026-11-27T05:01:02.345Z, which sort as text.
 */
#ifndef TASKBENCH_CLOCK_H
#define TASKBENCH_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 25 /* "2026-11-27T05:01:02.345Z" plus NUL */

uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);

/* Formats a wall-clock time (ns since the epoch) into out[CLOCK_RFC3339_LEN]. */
void clock_format_rfc3339(uint64_t realtime_ns, char out[CLOCK_RFC3339_LEN]);

/* Parses an RFC 3339 date-time, "2026-11-27T05:01:02Z", with an optional fraction of a second
 * (up to nanoseconds) and "Z" or a "+HH:MM"/"-HH:MM" offset, into ns since the epoch. Returns 0,
 * or -1 (out untouched) when s is not such a time or lies before 1970. */
int clock_parse_rfc3339(const char *s, uint64_t *out_ns);

#endif
