/*
 * flag_value: flag values parsed with range checks, refused in one sentence style. See
 * flag_value.h. Numbers are read by hand (digits, at most one decimal point): strtod would also
 * take "0x10", "inf", "1e3" and leading spaces, none of which a user means on a command line.
 */
#include "flag_value.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

/* Reads a plain decimal number ("12", "0.5", "1.") at *p and advances past it. Returns 0, or -1
 * when no digit is there. */
static int read_decimal(const char **p, long double *out)
{
    const char *s = *p;
    long double value = 0, scale = 1;
    int digits = 0;
    for (; isdigit((unsigned char)*s); s++, digits++)
        value = value * 10 + (*s - '0');
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++, digits++) {
            scale /= 10;
            value += (*s - '0') * scale;
        }
    }
    if (digits == 0)
        return -1;
    *p = s;
    *out = value;
    return 0;
}

/* " (at least X)", " (at most Y)", " (from X to Y)" or "", with bounds written by fmt_bound. */
static void range_note(char *out, size_t cap, uint64_t min, uint64_t max,
                       void (*fmt_bound)(char *, size_t, uint64_t))
{
    char lo[32], hi[32];
    fmt_bound(lo, sizeof lo, min);
    fmt_bound(hi, sizeof hi, max);
    if (min > 0 && max != FLAG_NO_MAX)
        snprintf(out, cap, " (from %s to %s)", lo, hi);
    else if (min > 0)
        snprintf(out, cap, " (at least %s)", lo);
    else if (max != FLAG_NO_MAX)
        snprintf(out, cap, " (at most %s)", hi);
    else
        out[0] = '\0';
}

/* ---- durations ----------------------------------------------------------------------------- */

/* In the largest unit that holds it exactly: 10000000 -> "10ms", 90 s -> "90s". */
static void fmt_duration(char *out, size_t cap, uint64_t ns)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {{"h", 3600000000000ull}, {"m", 60000000000ull}, {"s", 1000000000ull},
                 {"ms", 1000000ull},      {"us", 1000ull},       {"ns", 1ull}};
    if (ns == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].ns == 0) {
            snprintf(out, cap, "%" PRIu64 "%s", ns / units[i].ns, units[i].name);
            return;
        }
    }
}

int flag_duration(const char *flag, const char *text, uint64_t min_ns, uint64_t max_ns,
                  uint64_t *out, char *err, size_t errlen)
{
    uint64_t ns;
    if (duration_parse(text, &ns) == 0 && ns >= min_ns && ns <= max_ns) {
        *out = ns;
        return 0;
    }
    char note[80];
    range_note(note, sizeof note, min_ns, max_ns, fmt_duration);
    snprintf(err, errlen, "--%s '%s' is not a duration such as 250ms, 30s or 1m%s", flag, text,
             note);
    return -1;
}

/* ---- sizes --------------------------------------------------------------------------------- */

struct size_unit {
    const char *name;
    uint64_t bytes;
};

/* Longest names first, so "MiB" is not read as "M" followed by garbage. */
static const struct size_unit size_units[] = {
    {"KiB", 1ull << 10},      {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
    {"kB", 1000ull},          {"KB", 1000ull},     {"MB", 1000000ull},  {"GB", 1000000000ull},
    {"TB", 1000000000000ull}, {"K", 1ull << 10},   {"k", 1ull << 10},   {"M", 1ull << 20},
    {"m", 1ull << 20},        {"G", 1ull << 30},   {"g", 1ull << 30},   {"T", 1ull << 40},
    {"t", 1ull << 40},        {"B", 1ull},         {"", 1ull},
};

static void fmt_size(char *out, size_t cap, uint64_t bytes)
{
    static const char *const names[] = {"KiB", "MiB", "GiB", "TiB"};
    int unit = -1;
    for (int i = 0; i < 4; i++) {
        uint64_t u = 1ull << (10 * (i + 1));
        if (bytes >= u && bytes % u == 0)
            unit = i;
    }
    if (unit < 0)
        snprintf(out, cap, "%" PRIu64 " bytes", bytes);
    else
        snprintf(out, cap, "%" PRIu64 "%s", bytes >> (10 * (unit + 1)), names[unit]);
}

int flag_size(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out,
              char *err, size_t errlen)
{
    const char *p = text;
    long double value;
    if (read_decimal(&p, &value) == 0) {
        for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
            if (strcmp(p, size_units[i].name) != 0)
                continue;
            long double bytes = value * (long double)size_units[i].bytes;
            if (bytes > (long double)UINT64_MAX / 2)
                break;
            uint64_t b = (uint64_t)(bytes + 0.5L);
            if (b < min || b > max)
                break;
            *out = b;
            return 0;
        }
    }
    char note[80];
    range_note(note, sizeof note, min, max, fmt_size);
    snprintf(err, errlen, "--%s '%s' is not a size such as 4096, 64KiB or 16MiB%s", flag, text,
             note);
    return -1;
}

/* ---- counts, rates, ratios ----------------------------------------------------------------- */

int flag_count(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out,
               char *err, size_t errlen)
{
    const char *p = text;
    while (isdigit((unsigned char)*p))
        p++;
    if (p != text && *p == '\0') {
        errno = 0;
        unsigned long long v = strtoull(text, NULL, 10);
        if (errno == 0 && v >= min && v <= max) {
            *out = v;
            return 0;
        }
    }
    if (max == UINT64_MAX && min == 0)
        snprintf(err, errlen, "--%s '%s' is not a whole number", flag, text);
    else if (max == UINT64_MAX)
        snprintf(err, errlen, "--%s '%s' is not a whole number of at least %" PRIu64, flag, text,
                 min);
    else
        snprintf(err, errlen, "--%s '%s' is not a whole number from %" PRIu64 " to %" PRIu64, flag,
                 text, min, max);
    return -1;
}

int flag_rate(const char *flag, const char *text, double min, double max, double *out, char *err,
              size_t errlen)
{
    const char *p = text;
    long double v;
    if (read_decimal(&p, &v) == 0 && *p == '\0' && v > 0 && v >= min && v <= max) {
        *out = (double)v;
        return 0;
    }
    if (min > 0)
        snprintf(err, errlen,
                 "--%s '%s' is not a number of requests per second from %.15g to %.15g", flag, text,
                 min, max);
    else
        snprintf(err, errlen,
                 "--%s '%s' is not a number of requests per second above 0 and up to %.15g", flag,
                 text, max);
    return -1;
}

int flag_ratio(const char *flag, const char *text, double *out, char *err, size_t errlen)
{
    const char *p = text;
    long double v;
    if (read_decimal(&p, &v) == 0) {
        if (*p == '%') {
            v /= 100;
            p++;
        }
        if (*p == '\0' && v <= 1) {
            *out = (double)v;
            return 0;
        }
    }
    snprintf(err, errlen, "--%s '%s' is not a ratio from 0 to 1, such as 0.05 or 5%%", flag, text);
    return -1;
}

/* ---- addresses ----------------------------------------------------------------------------- */

int flag_addr(const char *flag, const char *text, struct listen_addr *out, char *err, size_t errlen)
{
    char why[256];
    struct listen_addr addr;
    if (listen_addr_parse(text, &addr, why, sizeof why) == 0) {
        *out = addr;
        return 0;
    }
    snprintf(err, errlen, "--%s '%s' is not an address to listen on: %s", flag, text, why);
    return -1;
}
