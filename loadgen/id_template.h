/*
 * id_template: the URL of one resource, written as a template with one `{id}` placeholder
 * ("/tasks/{id}", "/api/v2/orders/{id}?expand=items"), in both directions: expanding it for an
 * id (the audit reading a resource back), and finding the id in a URL made from it (a create's
 * `Location` header). The id is percent-encoded on the way out (every byte but RFC 3986's
 * unreserved characters) and decoded on the way back, so any id — a number, a UUID, a name with
 * spaces or slashes — survives the round trip.
 */
#ifndef LOADGEN_ID_TEMPLATE_H
#define LOADGEN_ID_TEMPLATE_H

#include <stddef.h>

#include "buf.h"

#define ID_TEMPLATE_PLACEHOLDER "{id}"

/* Whether `tmpl` holds `{id}` exactly once, in its path or query, and no other brace. */
int id_template_valid(const char *tmpl);

/* Appends `tmpl` with `{id}` replaced by the id (idlen bytes) percent-encoded. Returns 0, or -1
 * when `out` refused the bytes (its limit) or the template is not valid. */
int id_template_expand(struct buf *out, const char *tmpl, const char *id, size_t idlen);

/* Finds the id in `url` (an absolute URL, an absolute path, with or without a query): the part
 * where the template's `{id}` sits, between the template's text before and after it, matched at
 * the end of the URL's path (or of path and query when the template has a '?'), so a base path
 * in front ("/api" + "/tasks/{id}") does not matter. With `tmpl` NULL or "", the last non-empty
 * path segment is the id. The id is percent-decoded into out (NUL-terminated). Returns its
 * length, or -1 when the URL does not fit the template, the id is empty or does not fit in
 * outlen - 1 bytes. */
int id_template_match(const char *tmpl, const char *url, char *out, size_t outlen);

#endif
