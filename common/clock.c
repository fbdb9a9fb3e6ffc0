/*
 * clock: monotonic/wall time and RFC 3339 formatting and parsing. See clock.h.
 * gmtime_r runs once per second per thread: the formatted prefix is cached thread-locally,
 * which keeps a log line per request cheap.
 */
#include "clock.h"

#include <stdbool.h>
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

/* Reads exactly n decimal digits at *s, advancing it. */
static bool digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9')
            return false;
        v = v * 10 + (**s - '0');
    }
    *out = v;
    return true;
}

static bool expect(const char **s, const char *one_of)
{
    if (!**s || !strchr(one_of, **s))
        return false;
    (*s)++;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int clock_parse_rfc3339(const char *s, uint64_t *out_ns)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    if (!digits(&s, 4, &y) || !expect(&s, "-") || !digits(&s, 2, &mo) || !expect(&s, "-") ||
        !digits(&s, 2, &d) || !expect(&s, "Tt") || !digits(&s, 2, &h) || !expect(&s, ":") ||
        !digits(&s, 2, &mi) || !expect(&s, ":") || !digits(&s, 2, &sec))
        return -1;
    int64_t frac = 0;
    if (*s == '.') {
        int n = 0;
        for (s++; *s >= '0' && *s <= '9'; s++, n++)
            if (n < 9)
                frac = frac * 10 + (*s - '0');
        if (n == 0)
            return -1;
        for (; n < 9; n++)
            frac *= 10;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else {
        sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
        if (!sign)
            return -1;
        s++;
        if (!digits(&s, 2, &oh) || !expect(&s, ":") || !digits(&s, 2, &om) || oh > 23 || om > 59)
            return -1;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    int64_t t =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    if (t < 0)
        return -1;
    *out_ns = (uint64_t)t * 1000000000u + (uint64_t)frac;
    return 0;
}
