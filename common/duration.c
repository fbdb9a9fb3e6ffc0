/*
 * duration: parses "1h30m", "250ms", "1.5s" into nanoseconds, and prints nanoseconds for
 * reading ("73.2ms"). See duration.h.
 */
#include "duration.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t ns;
};

/* Longest names first so "ms" is not read as "m" followed by garbage. */
static const struct unit units[] = {
    {"ns", 1},         {"us", 1000},       {"ms", 1000000},
    {"s", 1000000000}, {"m", 60000000000}, {"h", 3600000000000},
};

static const struct unit *unit_at(const char *p, size_t *len)
{
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(p, units[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
            *len = n;
            return &units[i];
        }
    }
    return NULL;
}

int duration_parse(const char *s, uint64_t *ns)
{
    if (!s || !*s)
        return -1;
    long double total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        long double value = 0, scale = 1;
        while (isdigit((unsigned char)*p))
            value = value * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p)) {
                scale /= 10;
                value += (*p++ - '0') * scale;
            }
        }
        size_t len;
        const struct unit *u = unit_at(p, &len);
        if (!u)
            return -1;
        total += value * (long double)u->ns;
        if (total > (long double)UINT64_MAX / 2)
            return -1;
        p += len;
    }
    *ns = (uint64_t)(total + 0.5L);
    return 0;
}

struct text_unit {
    const char *name;
    double ns;
};

static const struct text_unit time_units[] = {{"ns", 1}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}};
#define TIME_UNITS (sizeof(time_units) / sizeof(time_units[0]))

char *duration_format(uint64_t ns, char out[DURATION_TEXT_LEN])
{
    if (ns < 1000) {
        snprintf(out, DURATION_TEXT_LEN, "%" PRIu64 "ns", ns);
        return out;
    }
    size_t u = 1;
    double v = (double)ns / time_units[u].ns;
    /* 999.5µs would print as "1000µs": the next unit says it in three digits ("1.00ms"). */
    while (u + 1 < TIME_UNITS && v >= 999.5) {
        u++;
        v = (double)ns / time_units[u].ns;
    }
    int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    snprintf(out, DURATION_TEXT_LEN, "%.*f%s", decimals, v, time_units[u].name);
    return out;
}
