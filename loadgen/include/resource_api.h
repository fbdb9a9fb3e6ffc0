/*
 * resource_api: how a JSON API names, reads back and lists the resources a load run writes —
 * what the ledger and the audit need to know to work on a service that is not taskd.
 *
 * - The id of a created resource comes from its answer: a JSON Pointer into the body ("/id",
 *   "/data/id"), the whole body ("body"), the Location header ("location"), or nowhere ("none":
 *   then the audit finds the create by the unique text it wrote, in the listing).
 * - One resource is read back at a URL template with one {id} ("/tasks/{id}").
 * - All of them are listed from a first page ("/tasks?limit=1000"), and the next page is named by
 *   a `Link: <…>; rel="next"` header, by a cursor field in the page ("/next_cursor") sent back as
 *   a query parameter ("cursor"), or there is only one page. A page is an array of items, or
 *   holds one at a JSON Pointer ("/tasks").
 * - In an item, JSON Pointers name the id ("/id"), the text a write set ("/task") and, if the
 *   API has one, the boolean it set ("/done").
 *
 * taskd's API is the default (resource_api_default); "blog" is the blog's Flask app
 * (examples/flask-tasks). Settings are plain key/value pairs (resource_api_set) so loadgen's flags
 * and chaos's experiment files spell them the same way; the struct holds copies, never pointers
 * into the caller's strings.
 */
#ifndef LOADGEN_RESOURCE_API_H
#define LOADGEN_RESOURCE_API_H

#include <stddef.h>

#include "buf.h"

#define RESOURCE_API_URL_MAX 1024
#define RESOURCE_API_FIELD_MAX 256
#define RESOURCE_API_ID_MAX 256 /* longest id, in bytes */

enum resource_id_source {
    RESOURCE_ID_NONE,     /* the answer does not say; found by text in the listing */
    RESOURCE_ID_POINTER,  /* a JSON Pointer into the answer's body ("" = the whole body) */
    RESOURCE_ID_LOCATION, /* the Location header, matched against item_url */
};

enum resource_paging {
    RESOURCE_PAGING_ONE,    /* the list URL answers everything at once */
    RESOURCE_PAGING_LINK,   /* Link: <url>; rel="next" */
    RESOURCE_PAGING_CURSOR, /* cursor_field in the page, sent back as ?cursor_param= */
};

struct resource_api {
    enum resource_id_source id_source;
    char id_pointer[RESOURCE_API_FIELD_MAX]; /* RESOURCE_ID_POINTER */
    char item_url[RESOURCE_API_URL_MAX];     /* template with {id}; "" when none */
    char list_url[RESOURCE_API_URL_MAX];     /* first page; "" when the API has no listing */
    enum resource_paging paging;
    char items[RESOURCE_API_FIELD_MAX];        /* a page's array of items ("" = the page) */
    char cursor_field[RESOURCE_API_FIELD_MAX]; /* RESOURCE_PAGING_CURSOR */
    char cursor_param[RESOURCE_API_FIELD_MAX];
    char item_id[RESOURCE_API_FIELD_MAX];    /* an item's id */
    char text_field[RESOURCE_API_FIELD_MAX]; /* the text a create or update wrote */
    char done_field[RESOURCE_API_FIELD_MAX]; /* its boolean; "" when the API has none */
};

/* taskd's API: ids at /id of a 201, /tasks/{id}, GET /tasks?limit=1000 paged by Link, items
 * {"id","task","done"}. */
void resource_api_default(struct resource_api *a);

/* Applies one setting; `key` is one of: api (a preset: taskd, blog), id-from (a JSON Pointer,
 * body, location or none), item-url (a template with {id}, or none), list-url (a URL or none),
 * paging (one, link, cursor), items, cursor-field, item-id, text-field, done-field (JSON
 * Pointers; done-field may be none), cursor-param (a query parameter name). Relative URLs are
 * relative to the service's base URL. Returns 0, or -1 with a sentence in err naming the key and
 * the value. Cross-setting rules are checked by resource_api_check. */
int resource_api_set(struct resource_api *a, const char *key, const char *value, char *err,
                     size_t errlen);

/* Applies the preset named by an `--api NAME` or `--api=NAME` among argv[1..argc) before any
 * other setting is parsed, so a preset is the base whatever the order of the flags (a parser then
 * skips the flag). Returns 0 (also when there is none), or -1 with a sentence in err. */
int resource_api_preset_from_args(struct resource_api *a, int argc, char **argv, char *err,
                                  size_t errlen);

/* Whether `key` is one resource_api_set takes (for command-line parsers). */
int resource_api_has_key(const char *key);

/* The settings' names, NULL-terminated (for usage texts). */
extern const char *const resource_api_keys[];

/* Checks that the settings work together: a listing or a read-back URL; a cursor field and
 * parameter for cursor paging of a listing; an item URL to find Location ids in. Returns 0, or
 * -1 with a sentence in err. */
int resource_api_check(const struct resource_api *a, char *err, size_t errlen);

/* One line describing the settings, for reports ("id from /id; read /tasks/{id}; list ..."). */
void resource_api_describe(const struct resource_api *a, struct buf *out);

/* The id of the resource a create made, from its answer: the Location header value (NULL when
 * absent) and body (len bytes). The id is written into out (NUL-terminated). Returns its length,
 * or -1 when the answer does not carry one as configured (or it does not fit). */
int resource_api_created_id(const struct resource_api *a, const char *location, const char *body,
                            size_t len, char *out, size_t outlen);

/* base_url joined with the item URL for `id` (percent-encoded), or with the first list page:
 * a relative URL is appended to the base URL (its trailing slashes dropped), an absolute one
 * taken as it is. Return 0, or -1 when `out` refused the bytes or the API has no such URL. */
int resource_api_item_url(const struct resource_api *a, const char *base_url, const char *id,
                          struct buf *out);
int resource_api_list_url(const struct resource_api *a, const char *base_url, struct buf *out);

/* A resource as the API shows it, pointing into the parsed page (valid during a callback). */
struct resource_item {
    const char *id; /* NUL-terminated, normalised: an integer is written in decimal */
    const char *text;
    size_t text_len;
    int has_text; /* the item has a string at text_field */
    int done;
    int has_done; /* the API has a done field (then every item must hold a boolean there) */
};

/* Called once per item of a page; a non-zero return stops the page and is returned. */
typedef int (*resource_item_fn)(const struct resource_item *item, void *ctx);

/* Reads one list page fetched from page_url (absolute), with its Link header value (NULL when
 * none): calls fn for each item and writes the next page's absolute URL into next (reset
 * first; left empty on the last page). Returns the number of items, or -1 with a sentence in
 * err: the body is not JSON, holds no array at `items`, an item has no usable id or a
 * malformed field, or the next page is the same as this one. */
long resource_api_read_page(const struct resource_api *a, const char *page_url, const char *link,
                            const char *body, size_t len, resource_item_fn fn, void *ctx,
                            struct buf *next, char *err, size_t errlen);

/* Reads one resource read back at its item URL (the body is the item itself) and calls fn with
 * it; the item's id is `id` (the one asked for). Returns fn's result, or -1 with err. */
int resource_api_read_item(const struct resource_api *a, const char *id, const char *body,
                           size_t len, resource_item_fn fn, void *ctx, char *err, size_t errlen);

/* The text and done a write's request body sets, at text_field and done_field: for workloads
 * whose writes the ledger records from their bodies. text (NUL-terminated) is left empty and
 * *has_text 0 when the body holds no string there. Returns 0, or -1 when the body is not JSON. */
int resource_api_written(const struct resource_api *a, const char *body, size_t len, char *text,
                         size_t textlen, int *has_text, int *done, int *has_done);

#endif
