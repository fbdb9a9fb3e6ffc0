/*
 * expect: parsing status lists and scanning bodies (see expect.h).
 */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_range(struct expect *e, int lo, int hi)
{
    for (int s = lo; s <= hi; s++)
        e->status_bits[s >> 6] |= UINT64_C(1) << (s & 63);
}

void expect_default(struct expect *e)
{
    memset(e, 0, sizeof *e);
    set_range(e, 200, 399);
    snprintf(e->statuses, sizeof e->statuses, "2xx,3xx");
}

/* A status 100..599 written with exactly three digits. */
static int parse_status(const char *s, size_t n, int *out)
{
    if (n != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return -1;
    *out = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return 0;
}

static int parse_item(struct expect *e, const char *s, size_t n)
{
    int lo, hi;
    const char *dash = memchr(s, '-', n);
    if (n == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        lo = (s[0] - '0') * 100;
        hi = lo + 99;
    } else if (dash) {
        if (parse_status(s, (size_t)(dash - s), &lo) ||
            parse_status(dash + 1, n - (size_t)(dash - s) - 1, &hi) || lo > hi)
            return -1;
    } else if (parse_status(s, n, &lo)) {
        return -1;
    } else {
        hi = lo;
    }
    set_range(e, lo, hi);
    return 0;
}

int expect_parse_statuses(struct expect *e, const char *spec, char *err, size_t errlen)
{
    struct expect next = *e;
    memset(next.status_bits, 0, sizeof next.status_bits);
    const char *p = spec;
    size_t items = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0 || parse_item(&next, p, n))
            goto bad;
        items++;
        p += n;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    if (items == 0 || strlen(spec) >= sizeof next.statuses)
        goto bad;
    snprintf(next.statuses, sizeof next.statuses, "%s", spec);
    *e = next;
    return 0;
bad:
    snprintf(err, errlen,
             "expected statuses '%.80s' are not a list of codes (200), classes (2xx) and ranges "
             "(200-299) separated by commas",
             spec);
    return -1;
}

int expect_set_body(struct expect *e, const char *text, size_t len, char *err, size_t errlen)
{
    if (len == 0 || len > EXPECT_BODY_MAX) {
        snprintf(err, errlen, "the body check must look for 1 to %d bytes of text, not %zu",
                 EXPECT_BODY_MAX, len);
        return -1;
    }
    memcpy(e->body, text, len);
    e->body[len] = '\0';
    e->body_len = len;
    return 0;
}

void expect_scan_init(struct expect_scan *s, const struct expect *e)
{
    s->e = e;
    s->found = e->body_len == 0;
    s->carry_len = 0;
}

void expect_scan_feed(struct expect_scan *s, const char *data, size_t n)
{
    if (s->found || n == 0)
        return;
    const char *pat = s->e->body;
    size_t m = s->e->body_len, keep = m - 1;
    if (s->carry_len) { /* a match across the previous piece and this one */
        char joint[2 * EXPECT_BODY_MAX];
        size_t take = n < keep ? n : keep;
        memcpy(joint, s->carry, s->carry_len);
        memcpy(joint + s->carry_len, data, take);
        if (memmem(joint, s->carry_len + take, pat, m)) {
            s->found = 1;
            return;
        }
    }
    if (memmem(data, n, pat, m)) {
        s->found = 1;
        return;
    }
    if (n >= keep) {
        memcpy(s->carry, data + n - keep, keep);
        s->carry_len = keep;
    } else {
        size_t total = s->carry_len + n, drop = total > keep ? total - keep : 0;
        memmove(s->carry, s->carry + drop, s->carry_len - drop);
        memcpy(s->carry + s->carry_len - drop, data, n);
        s->carry_len = total - drop;
    }
}
