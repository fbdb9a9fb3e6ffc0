/*
 * link_header: finds the next page in an HTTP `Link` header (RFC 8288), the way taskd, GitHub
 * and many JSON APIs paginate: `Link: </tasks?limit=100&after=200>; rel="next"`.
 *
 * A header holds comma-separated link values, each a `<URI-reference>` followed by `;`
 * parameters; `rel` is a token or a quoted string of space-separated relation types, compared
 * without regard to case. Commas inside `<...>` and quoted strings do not split values. A value
 * that does not parse is skipped, not fatal: one odd link must not hide the next page.
 */
#ifndef LOADGEN_LINK_HEADER_H
#define LOADGEN_LINK_HEADER_H

#include <stddef.h>

/* The URI reference of the first link whose rel includes `rel` ("next"), copied into out
 * (NUL-terminated, as written: possibly relative). Returns 1 when found, 0 when none, -1 when
 * one was found but does not fit in outlen - 1 bytes. */
int link_header_find(const char *value, size_t len, const char *rel, char *out, size_t outlen);

#endif
