/*
 * clock: monotonic/wall time and RFC 3339 formatting. See clock.h.
 * gmtime_r runs once per second per thread: the formatted prefix is cached thread-locally,
 * which keeps a log line per request cheap.
 */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t clock_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_format_rfc3339(uint64_t realtime_ns, char out[CLOCK_RFC3339_LEN])
{
    static _Thread_local time_t cached_second = -1;
    static _Thread_local char cached_prefix[20]; /* "2026-11-27T05:01:02" */
    time_t second = (time_t)(realtime_ns / 1000000000u);
    unsigned ms = (unsigned)(realtime_ns % 1000000000u / 1000000u);
    if (second != cached_second) {
        struct tm tm;
        gmtime_r(&second, &tm);
        strftime(cached_prefix, sizeof(cached_prefix), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = second;
    }
    /* By hand: this runs for every log line and every write, and printf is the slow part. */
    memcpy(out, cached_prefix, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}
