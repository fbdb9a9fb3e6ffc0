/*
 * expect: what counts as a success — the user's rule, per target.
 *
 * A rule is a set of statuses and an optional piece of text the body must contain. Statuses are
 * written as a comma-separated list of codes (200), classes (2xx) and ranges (200-299); the
 * default is 2xx and 3xx. A response outside the rule is a failure, counted in error ratios and
 * thresholds like a transport error: a service that answers everything with 401 or 429 fails
 * `error_ratio<1%`. The body check is streamed: the scanner sees the body in whatever pieces it
 * arrives and keeps only the last len-1 bytes between them, so bodies of any size are checked
 * in constant memory.
 */
#ifndef LOADGEN_EXPECT_H
#define LOADGEN_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#define EXPECT_BODY_MAX 256 /* the longest text a body check looks for */
#define EXPECT_SPEC_MAX 256 /* the longest status list kept for display */

struct expect {
    uint64_t status_bits[10];       /* bit s: status s (100..599) is a success */
    char statuses[EXPECT_SPEC_MAX]; /* as written ("2xx,3xx" for the default) */
    char body[EXPECT_BODY_MAX + 1];
    size_t body_len; /* 0: no body check */
};

/* The default rule: 2xx and 3xx, no body check. */
void expect_default(struct expect *e);

/* Replaces the statuses with `spec` ("200,201", "2xx", "200-299,404"). Returns 0, or -1 with a
 * sentence in err (e is then unchanged). */
int expect_parse_statuses(struct expect *e, const char *spec, char *err, size_t errlen);

/* Sets the text the body must contain (1..EXPECT_BODY_MAX bytes). Returns 0 or -1 with err. */
int expect_set_body(struct expect *e, const char *text, size_t len, char *err, size_t errlen);

/* 1 when status is one of the rule's. */
static inline int expect_status_ok(const struct expect *e, int status)
{
    return status >= 100 && status < 600 && (e->status_bits[status >> 6] >> (status & 63) & 1);
}

/* Looks for the rule's body text across the pieces of one body. */
struct expect_scan {
    const struct expect *e;
    int found;
    size_t carry_len;
    char carry[EXPECT_BODY_MAX];
};

void expect_scan_init(struct expect_scan *s, const struct expect *e);
void expect_scan_feed(struct expect_scan *s, const char *data, size_t n);

#endif
