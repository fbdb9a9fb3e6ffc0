/*
 * json_pointer: RFC 6901 JSON Pointers ("/data/0/id") over cJSON documents, so a user can say
 * where a value lives in an API's answer: the id of a created resource, a page's items, a
 * resource's fields, the next cursor.
 *
 * "" is the whole document; every other pointer is a sequence of "/"-prefixed reference tokens,
 * in which "~1" stands for "/" and "~0" for "~" (no other "~" escape exists). A token selects an
 * object member by exact name, or an array element by a decimal index without leading zeros.
 */
#ifndef TASKBENCH_JSON_POINTER_H
#define TASKBENCH_JSON_POINTER_H

#include <cJSON.h>
#include <stddef.h>

#include "buf.h"

/* Whether `pointer` is well formed (RFC 6901 syntax; NULL is not). */
int json_pointer_valid(const char *pointer);

/* The value `pointer` selects in `root`, or NULL when it selects nothing (a missing member, an
 * index past the end, a token applied to a scalar) or is malformed. */
const cJSON *json_pointer_get(const cJSON *root, const char *pointer);

/* Appends "/" and `key` (n bytes) escaped as one reference token ("a/b~c" -> "/a~1b~0c").
 * Returns 0, or -1 when `out` refused the bytes (then it holds part of them). */
int json_pointer_append(struct buf *out, const char *key, size_t n);

#endif
