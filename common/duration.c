/*
 * duration: parses "1h30m", "250ms", "1.5s" into nanoseconds. See duration.h.
 */
#include "duration.h"

#include <ctype.h>
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
